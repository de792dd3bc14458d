"""``mlnotes run``: execute the book's notebooks with papermill under named parameter presets.

The plan is checked whole before any notebook starts: chapters, the preset and every ``-p``
parameter must exist, and each value must have the type of the notebook's default. Then each
notebook runs in a fresh kernel, in its own output folder, and its executed copy is written
there (the book's sources are never written). A failing notebook does not stop the others; its
copy keeps the failing cell's traceback. Ctrl-C stops the run and keeps what finished.
"""

from __future__ import annotations

import ast
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml

GLUE_MIME = "application/papermill.record/text/plain"


@dataclass(frozen=True)
class Job:
    """One notebook to execute: its source, its chapter, the overrides and where the copy goes."""

    notebook: Path
    chapter: str
    parameters: dict
    output: Path


@dataclass
class Result:
    """What happened to one job: status ok | failed | interrupted | not run, time, numbers."""

    job: Job
    status: str = "not run"
    seconds: float | None = None
    failed_cell: int | None = None
    error: str | None = None
    metrics: dict = field(default_factory=dict)
    headline: list = field(default_factory=list)


def parameters_cell(nb) -> nbformat.NotebookNode | None:
    """The cell tagged ``parameters`` (papermill's convention), or None."""
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    return cells[0] if cells else None


def notebook_parameters(path: Path) -> dict:
    """The names and literal default values assigned in a notebook's ``parameters`` cell ({} when
    none); a value that is not a literal is a ValueError (papermill could not override it)."""
    cell = parameters_cell(nbformat.read(path, as_version=4))
    if cell is None:
        return {}
    values = {}
    for node in ast.parse(cell.source).body:
        if not isinstance(node, ast.Assign):
            raise ValueError(f"{path}: the parameters cell may hold only assignments")
        try:
            value = ast.literal_eval(node.value)
        except ValueError as error:
            raise ValueError(f"{path}: parameter values must be literals ({error})") from None
        for target in node.targets:
            values[target.id] = value
    return values


def check_override(notebook: Path, name: str, default, value) -> None:
    """Raise ValueError unless ``value`` has the type of the parameter's default (an int may
    replace a float; a default of None accepts anything)."""
    if default is None:
        return
    expected = (int, float) if isinstance(default, float) else type(default)
    ok = isinstance(value, expected) and (isinstance(default, bool) or not isinstance(value, bool))
    if not ok:
        raise ValueError(
            f"{notebook}: parameter {name} expects {type(default).__name__} like its default "
            f"{default!r}, got {value!r} ({type(value).__name__})"
        )


def book_notebooks(book: Path) -> list[Path]:
    """Every notebook of the book, sorted: the one list that the Makefile, the tests and the
    runner share. Folders and files whose name starts with ``.`` or ``_`` (``_build``,
    ``.ipynb_checkpoints``) hold no chapter's notebook."""
    book = Path(book)
    return sorted(
        p
        for p in book.rglob("*.ipynb")
        if not any(part.startswith((".", "_")) for part in p.relative_to(book).parts)
    )


def find_notebooks(book: Path) -> list[Path]:
    """The notebooks of the book with a ``parameters`` cell: the ones ``mlnotes run`` runs."""
    notebooks = book_notebooks(book)
    return [p for p in notebooks if parameters_cell(nbformat.read(p, as_version=4)) is not None]


GPU_CHAPTERS = ("03-", "06-", "07-", "08-", "09-")  # DESIGN.md's chapter table


def gpu_notebooks(book: Path) -> list[Path]:
    """The notebooks of the GPU chapters that train on a ``device``: the ones ``full`` sizes."""
    return [
        p
        for p in find_notebooks(book)
        if p.parent.name.startswith(GPU_CHAPTERS) and "device" in notebook_parameters(p)
    ]


def select_notebooks(book: Path, chapters: list[str]) -> list[Path]:
    """The notebooks that ``chapters`` name, in book order (all of them when it is empty): by
    number (``7`` or ``07``), folder (``07-object-detection``) or notebook path."""
    available = find_notebooks(book)
    if not chapters:
        return available
    chosen = []
    for spec in chapters:
        path = Path(spec)
        if path.suffix == ".ipynb":
            matches = [p for p in available if p.resolve() == path.resolve()]
            if not matches:
                raise ValueError(f"{spec}: not a notebook of {book} with a parameters cell")
        else:
            prefix = f"{int(spec):02d}-" if spec.isdigit() else path.name
            matches = [p for p in available if p.parent.name.startswith(prefix)]
        if not matches:
            folders = sorted({p.parent.name for p in available})
            raise ValueError(f"no chapter {spec!r}; chapters with parameters: {', '.join(folders)}")
        chosen += [p for p in matches if p not in chosen]
    return sorted(chosen)


def load_presets(path: Path) -> dict:
    """The presets file: ``{preset: {notebook path from the repository root: {name: value}}}``."""
    presets = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(presets, dict) or not all(
        isinstance(v, dict | None) for v in presets.values()
    ):
        raise ValueError(f"{path}: expected a mapping of presets to notebooks to parameters")
    return {name: entries or {} for name, entries in presets.items()}


def plan(
    notebooks: list[Path],
    presets: dict,
    preset: str,
    overrides: dict,
    device: str | None,
    output_dir: Path,
    root: Path,
) -> list[Job]:
    """The jobs of a run, every parameter checked against the notebooks' own defaults.

    Precedence: the notebook's defaults < the preset's entry < ``overrides`` (``-p``) <
    ``device``. An override applies to the notebooks that declare it; one that no chosen
    notebook declares is an error, as is a preset entry naming an unknown parameter.
    """
    if preset not in presets:
        raise ValueError(f"no preset {preset!r}; the presets are {', '.join(sorted(presets))}")
    entries = {(root / name).resolve(): params for name, params in presets[preset].items()}
    declared = {path: notebook_parameters(path) for path in notebooks}
    unknown = [k for k in overrides if not any(k in d for d in declared.values())]
    if unknown:
        raise ValueError(f"no chosen notebook has the parameter(s) {', '.join(unknown)}")
    jobs = []
    for path, defaults in declared.items():
        given = dict(entries.get(path.resolve(), {}))
        given.update({k: v for k, v in overrides.items() if k in defaults})
        if device is not None and "device" in defaults:
            given["device"] = device
        for name, value in given.items():
            if name not in defaults:
                raise ValueError(f"{path}: preset {preset!r} sets {name}, not a parameter")
            check_override(path, name, defaults[name], value)
        output = Path(output_dir) / path.parent.name / path.name
        jobs.append(Job(path, path.parent.name, given, output))
    return jobs


def glued_values(nb) -> dict:
    """The numbers a notebook recorded with ``myst_nb.glue`` (figures and text are skipped)."""
    values = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            text = output.get("data", {}).get(GLUE_MIME)
            if name is None or text is None:
                continue
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                continue
            if isinstance(value, int | float) and not isinstance(value, bool):
                values[name] = value
    return values


def run_job(job: Job, progress: bool = True) -> Result:
    """Execute one job with papermill in the folder of its output copy."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    job.output.parent.mkdir(parents=True, exist_ok=True)
    result = Result(job)
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            job.notebook, job.output, parameters=job.parameters, kernel_name="python3",
            cwd=job.output.parent, progress_bar=progress,
        )  # fmt: skip
        result.status = "ok"
    except PapermillExecutionError as error:
        result.status = "failed"
        result.failed_cell, result.error = error.exec_count, f"{error.ename}: {error.evalue}"
    except KeyboardInterrupt:
        result.status = "interrupted"
        raise
    finally:
        result.seconds = time.perf_counter() - start
        if job.output.is_file():
            executed = nbformat.read(job.output, as_version=4)
            result.metrics = glued_values(executed)
            # papermill keeps the source notebook's metadata, the headline among it
            result.headline = executed.metadata.get("mlnotes", {}).get("headline", [])
    return result


def run_jobs(jobs: list[Job], progress: bool = True) -> list[Result]:
    """Run every job in turn; on Ctrl-C return what finished (the rest are 'not run')."""
    from tqdm.auto import tqdm

    results = [Result(job) for job in jobs]
    bar = tqdm(jobs, desc="notebooks", unit="nb", disable=not progress)
    for i, job in enumerate(bar):
        bar.set_postfix_str(f"{job.chapter}/{job.notebook.name}")
        try:
            results[i] = run_job(job, progress=progress)
        except KeyboardInterrupt:
            results[i].status = "interrupted"
            break
    bar.close()
    return results
