"""The summary of an ``mlnotes run``: a table for the terminal, report.md / report.json for the
run's folder, and the book's status page."""

from __future__ import annotations

import json
import os
import platform
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from mlnotes.runner import Result

PACKAGES = ("mlnotes", "torch", "numpy", "scikit-learn", "scikit-image", "matplotlib",
            "papermill", "jupyter-book", "myst-nb")  # fmt: skip


def environment() -> dict:
    """The machine and package versions a run used (torch tells the device)."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    cpu = f"{platform.machine()}, {os.cpu_count()} cores"
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "device": f"GPU: {gpu}" if gpu else f"CPU only ({cpu})",
        "versions": versions,
    }


def _number(value) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:.3g}"


def headline(result: Result) -> str:
    """The notebook's headline numbers ('name=value, ...'), or every number when it names none."""
    names = result.headline or list(result.metrics)[:3]
    shown = [f"{n}={_number(result.metrics[n])}" for n in names if n in result.metrics]
    return ", ".join(shown) or "—"


def rows(results: list[Result]) -> list[list[str]]:
    """One row per notebook: notebook, status, seconds, parameters, headline."""
    table = []
    for r in results:
        status = r.status if r.failed_cell is None else f"failed at cell [{r.failed_cell}]"
        seconds = "—" if r.seconds is None else f"{r.seconds:.0f}"
        params = ", ".join(f"{k}={v!r}" for k, v in r.job.parameters.items()) or "defaults"
        table.append(
            [f"{r.job.chapter}/{r.job.notebook.name}", status, seconds, params, headline(r)]
        )
    return table


HEADER = ["notebook", "status", "time (s)", "parameters", "headline"]


def markdown_table(results: list[Result], page: bool = False) -> str:
    """The rows as a Markdown table. For the book (``page``) each notebook links to its page
    and the parameters and numbers are set as code."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for r, row in zip(results, rows(results), strict=True):
        if page:
            link = f"{{doc}}`{r.job.chapter}/{r.job.notebook.stem}`"
            code = [f"`{cell}`" if cell not in ("—", "defaults") else cell for cell in row[3:]]
            row = [link, *row[1:3], *code]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    return "\n".join(lines)


def text_table(results: list[Result]) -> str:
    """The rows aligned in columns for the terminal."""
    table = [HEADER, *rows(results)]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADER))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in table
    )


def write_report(results: list[Result], folder: Path, preset: str, command: str, env: dict) -> None:
    """Write ``report.md`` and ``report.json`` into the run's folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    notebooks = [
        {
            "notebook": str(r.job.notebook),
            "chapter": r.job.chapter,
            "parameters": r.job.parameters,
            "executed_copy": str(r.job.output),
            "status": r.status,
            "seconds": r.seconds,
            "failed_cell": r.failed_cell,
            "error": r.error,
            "headline": r.headline,
            "metrics": r.metrics,
        }  # fmt: skip
        for r in results
    ]
    report = {"preset": preset, "command": command, **env, "notebooks": notebooks}
    (folder / "report.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    failures = [f"- {r.job.notebook}: {r.error}" for r in results if r.error]
    text = [
        f"# mlnotes run — preset `{preset}`", "", f"`{command}`", "",
        f"{env['date']} · {env['device']}", "", markdown_table(results), "",
        *(["## Failures", "", *failures, ""] if failures else []),
        "## Versions", "", *(f"- {k} {v}" for k, v in env["versions"].items()), "",
    ]  # fmt: skip
    (folder / "report.md").write_text("\n".join(text))


def write_status_page(results: list[Result], path: Path, preset: str, command: str, env: dict):
    """Write the book's status page (MyST Markdown) from a run's results."""
    versions = "\n".join(f"| {k} | {v} |" for k, v in env["versions"].items())
    Path(path).write_text(
        f"""# Status of the notebooks

Written by `mlnotes run` from its last run (preset `{preset}`): every notebook with a
`parameters` cell, its status, its time and the numbers it recorded. Regenerate it with

```bash
{command}
```

Run on {env["date"]}, {env["device"]}. Times are wall-clock seconds of the whole notebook,
kernel start included; the headline numbers are values the notebook records with `glue`.

{markdown_table(results, page=True)}

## Versions

| package | version |
|---|---|
{versions}
"""
    )
