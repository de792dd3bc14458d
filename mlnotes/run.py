"""The ``mlnotes`` command: execute the book's notebooks.

    mlnotes execute NOTEBOOK [NOTEBOOK ...]
    mlnotes run [CHAPTER ...] [--preset NAME] [-p KEY VALUE ...] [--device auto|cpu|cuda]
                [--output-dir DIR] [--status-page FILE]

``execute`` re-executes notebooks in place with their default parameters, so the stored
outputs of the book are what the code produces: each runs top to bottom in a fresh kernel of
the current Python, in its own folder; one that fails is left untouched and the exit status is 1.

``run`` executes copies with papermill under a preset of ``book/presets.yml`` (``ci``: the
defaults; ``full``: sized for a GPU) and prints a summary; see ``mlnotes.runner``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import nbformat
import yaml
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

CELL_TIMEOUT_S = 300


def execute_notebook(path: Path, timeout: int = CELL_TIMEOUT_S) -> float:
    """Execute the notebook at ``path`` in place; return the wall time in seconds.

    When a cell raises, nbclient's ``CellExecutionError`` propagates and the file is not rewritten.
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
    run = commands.add_parser("run", help="execute copies with papermill under a preset")
    run.add_argument("chapters", nargs="*", help="chapter numbers, folders or notebooks (all)")
    run.add_argument("--preset", default="ci", help="a preset of the presets file (ci)")
    run.add_argument(
        "-p", "--parameter", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
        help="override a parameter (the value is read as YAML)",
    )  # fmt: skip
    run.add_argument("--device", choices=("auto", "cpu", "cuda"), help="sets `device`")
    run.add_argument("--output-dir", type=Path, help="where copies go (runs/PRESET)")
    run.add_argument("--book", type=Path, default=Path("book"), help="the book's folder")
    run.add_argument("--presets", type=Path, help="presets file (BOOK/presets.yml)")
    run.add_argument("--status-page", type=Path, help="also write this Markdown status page")
    run.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run_command(parser, args, argv if argv is not None else sys.argv[1:])

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


def run_command(parser: argparse.ArgumentParser, args, argv: list[str]) -> int:
    """``mlnotes run``: plan (every check first), run, print and write the summary."""
    from mlnotes import report, runner

    if not args.book.is_dir():
        parser.error(f"no book folder {args.book}: run from the repository root or pass --book")
    presets_file = args.presets or args.book / "presets.yml"
    output_dir = args.output_dir or Path("runs") / args.preset
    try:
        notebooks = runner.select_notebooks(args.book, args.chapters)
        overrides = {key: yaml.safe_load(value) for key, value in args.parameter}
        jobs = runner.plan(
            notebooks, runner.load_presets(presets_file), args.preset, overrides, args.device,
            output_dir, root=args.book.resolve().parent,
        )  # fmt: skip
    except (ValueError, OSError) as error:
        parser.error(str(error))
    command = shlex.join(["mlnotes", *argv])
    results = runner.run_jobs(jobs, progress=not args.no_progress)
    env = report.environment()
    report.write_report(results, output_dir, args.preset, command, env)
    if args.status_page:
        report.write_status_page(results, args.status_page, args.preset, command, env)
    print(report.text_table(results))
    print(f"report: {output_dir / 'report.md'} and report.json; executed copies in {output_dir}")
    if any(r.status == "interrupted" for r in results):
        return 130
    return 0 if all(r.status == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
