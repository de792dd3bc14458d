"""The ``mlnotes`` command: re-execute the book's notebooks so their stored outputs are real.

    mlnotes execute [NOTEBOOK ...]

Each notebook runs top to bottom in a fresh kernel of the current Python, in its own folder,
with its default parameters, and is written back in place with its new outputs. A notebook
that fails is left untouched on disk; the command reports it and exits with status 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

CELL_TIMEOUT_S = 300


def execute_notebook(path: Path, timeout: int = CELL_TIMEOUT_S) -> float:
    """Execute the notebook at ``path`` in place; return the wall time in seconds.

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        nbclient.exceptions.CellExecutionError: when a cell raises (the file is not rewritten).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no notebook at {path}")
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    # record_timing=False keeps wall-clock timestamps out of the committed notebook metadata
    NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    ).execute()
    elapsed = time.perf_counter() - start
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = merge_streams(cell.outputs)
    nbformat.write(nb, path)
    return elapsed


def merge_streams(outputs: list) -> list:
    """Join consecutive stdout (or stderr) outputs into one.

    How a cell's prints are split into chunks depends on timing; merged, the stored notebook is
    the same on every run, so re-executing an unchanged notebook changes nothing in git.
    """
    merged = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.output_type == "stream"
            and previous is not None
            and previous.output_type == "stream"
            and previous.name == output.name
        ):
            previous.text += output.text
        else:
            merged.append(output)
    return merged


def main(argv: list[str] | None = None) -> int:
    """The ``mlnotes`` command line; returns the exit status (0 when every notebook ran)."""
    parser = argparse.ArgumentParser(prog="mlnotes", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    execute = commands.add_parser("execute", help="re-execute notebooks in place")
    execute.add_argument("notebooks", nargs="+", type=Path, help="paths to .ipynb files")
    execute.add_argument("--timeout", type=int, default=CELL_TIMEOUT_S, help="seconds per cell")
    args = parser.parse_args(argv)

    missing = [str(p) for p in args.notebooks if p.suffix != ".ipynb" or not p.is_file()]
    if missing:
        parser.error(f"not a notebook file: {', '.join(missing)}")
    failed = []
    for path in args.notebooks:
        try:
            elapsed = execute_notebook(path, timeout=args.timeout)
        except CellExecutionError as error:
            failed.append(path)
            print(f"FAILED {path}\n{error}", file=sys.stderr)
        else:
            print(f"ok     {path}  ({elapsed:.1f} s)")
    if failed:
        print(f"{len(failed)} of {len(args.notebooks)} notebooks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
