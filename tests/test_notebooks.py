"""The book's notebooks follow the course's rules; nbval (pytest --nbval) re-executes them.

These checks are about structure: every notebook is in the table of contents, was executed top to
bottom by the project's command, starts with the same hidden install cell (pointing at the
repository named in _config.yml), has a kernelspec for papermill, and declares its parameters in
one tagged cell when it has any.
"""

import ast
import re
from pathlib import Path

import nbformat
import papermill
import pytest
import yaml
from html_check import toc_files
from IPython.core.inputtransformer2 import TransformerManager

from mlnotes.runner import (
    GLUE_MIME,
    book_notebooks,
    find_notebooks,
    glued_values,
    gpu_notebooks,
    notebook_parameters,
    parameters_cell,
)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = book_notebooks(ROOT / "book")
IDS = [str(p.relative_to(ROOT)) for p in NOTEBOOKS]
WITH_PARAMETERS = find_notebooks(ROOT / "book")  # the ones `mlnotes run` runs


def read(path):
    return nbformat.read(path, as_version=4)


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebook found under book/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_is_in_the_table_of_contents(path):
    stem = path.relative_to(ROOT).with_suffix("").as_posix()
    assert stem in toc_files()


def test_every_toc_entry_exists():
    for entry in toc_files():
        candidates = [ROOT / f"{entry}{suffix}" for suffix in (".md", ".ipynb")]
        assert any(c.is_file() for c in candidates), f"_toc.yml lists {entry}, which is missing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_was_executed_in_order(path):
    counts = [c.execution_count for c in code_cells(read(path))]
    assert None not in counts, f"{path.name}: run `make execute` (cells never executed)"
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: not run top to bottom"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_has_kernelspec(path):
    assert read(path).metadata["kernelspec"]["name"] == "python3"


def install_cell_source():
    return code_cells(read(NOTEBOOKS[0]))[0].source


def test_install_cell_points_at_the_configured_repository():
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    assert re.search(rf'%pip install .*"mlnotes @ git\+{re.escape(url)}"', install_cell_source())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_first_cell_is_the_same_hidden_install_cell(path):
    first = code_cells(read(path))[0]
    assert first.source == install_cell_source()
    assert "remove-cell" in first.metadata.get("tags", [])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_at_most_one_parameters_cell_holding_only_assignments(path):
    tagged = [c for c in code_cells(read(path)) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) <= 1
    for cell in tagged:
        for line in cell.source.splitlines():
            code = line.split("#")[0].strip()
            assert not code or re.fullmatch(r"\w+ = .+", code), f"not a plain assignment: {line}"


@pytest.mark.parametrize(
    "path", WITH_PARAMETERS, ids=[str(p.relative_to(ROOT)) for p in WITH_PARAMETERS]
)
def test_notebooks_with_parameters_name_headline_numbers_they_record(path):
    nb = read(path)
    headline = nb.metadata.get("mlnotes", {}).get("headline", [])
    assert headline, "metadata.mlnotes.headline must name the numbers `mlnotes run` reports"
    recorded = glued_values(nb)
    missing = [name for name in headline if name not in recorded]
    assert not missing, f"headline names {missing} are not glued numbers of the notebook"


GPU_NOTEBOOKS = gpu_notebooks(ROOT / "book")


@pytest.mark.parametrize("path", GPU_NOTEBOOKS, ids=[p.name for p in GPU_NOTEBOOKS])
def test_gpu_notebooks_say_how_to_get_a_gpu_and_run_the_full_preset(path):
    nb = read(path)
    position = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    note = nb.cells[position - 1]  # right above the parameters it talks about
    assert note.cell_type == "markdown" and "On Colab or a GPU" in note.source
    assert "Runtime → Change runtime type" in note.source
    assert f"mlnotes run {path.relative_to(ROOT).as_posix()} --preset full" in note.source
    assert "minute" in note.source and (
        "GPU (one run" in note.source or "not been timed" in note.source
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_stored_outputs_name_no_path_of_the_machine_that_ran_them(path):
    # a warning that prints an install path passes nbval only where the same venv ran it
    for cell in code_cells(read(path)):
        for output in cell.get("outputs", []):
            text = output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
            assert "site-packages" not in text and "/tmp/" not in text, f"{path.name}: {text[:200]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_glued_numbers_are_plain_python_literals(path):
    # a glued np.float64 is stored as "np.float64(0.6)": the page's {glue:text}`name:.1f` cannot
    # format it and `mlnotes run` cannot report it; glue round(float(x), 3) instead
    for cell in code_cells(read(path)):
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get(GLUE_MIME, "")
            assert not re.match(r"np\.\w+\(", text), f"{path.name}: glued {text}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_ignored_outputs_are_only_logs_and_timings(path):
    # NBVAL_IGNORE_OUTPUT hides a cell from the strict comparison: allowed for timings, training
    # logs and progress bars only, so such a cell must not also hold an assert.
    for cell in code_cells(read(path)):
        if "NBVAL_IGNORE_OUTPUT" in cell.source:
            assert "assert" not in cell.source, f"{path.name}: a check hidden from nbval"


# nbval runs every notebook once. What a papermill run adds is checked here far more cheaply:
# one notebook really runs under papermill, alone in an empty folder, with a preset and an
# override injected; for every notebook, statically, its parameters drive it (no cell below the
# parameters cell assigns them again) and it touches no file by path (so it needs nothing that
# another notebook or this repository's folders would leave beside it).
TINY = yaml.safe_load((ROOT / "book" / "presets.yml").read_text())["tiny"]


@pytest.mark.slow
def test_a_notebook_runs_alone_in_an_empty_folder_with_its_tiny_preset_and_an_override(tmp_path):
    source = ROOT / "book" / "01-logistic-regression" / "breast-cancer.ipynb"
    parameters = {**TINY[source.relative_to(ROOT).as_posix()], "lr": 0.1}
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(source, out, parameters=parameters, cwd=tmp_path, progress_bar=False)
    nb = read(out)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    assert all(f"{name} = {value!r}" in injected[0].source for name, value in parameters.items())
    text = "".join(o.get("text", "") for c in code_cells(nb) for o in c.outputs)
    assert f"LogisticRegression(lr=0.1, epochs={parameters['epochs']}," in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.ipynb"]  # it wrote nothing else


def python_source(cell) -> str:
    """A code cell as plain Python (IPython's `%pip` and `!` lines turned into calls)."""
    return TransformerManager().transform_cell(cell.source)


def assigned_names(tree) -> set:
    """Every name a piece of code binds: assignments, loops, with-as, imports, defs."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
    return names


@pytest.mark.parametrize(
    "path", WITH_PARAMETERS, ids=[str(p.relative_to(ROOT)) for p in WITH_PARAMETERS]
)
def test_no_cell_below_the_parameters_cell_assigns_a_parameter_again(path):
    # papermill injects the overrides right after the parameters cell: a later assignment of
    # the same name would silently undo an override
    nb = read(path)
    cells = code_cells(nb)
    position = cells.index(parameters_cell(nb))
    parameters = set(notebook_parameters(path))
    for cell in cells[position + 1 :]:
        again = parameters & assigned_names(ast.parse(python_source(cell)))
        assert not again, f"{path.name}: {sorted(again)} assigned again in:\n{cell.source}"


FILE_CALLS = {"open", "savefig", "save", "load", "loadtxt", "savetxt", "imread", "imsave",
              "read_csv", "to_csv", "Path", "write_text", "read_text"}  # fmt: skip


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_reads_and_writes_no_file_by_path(path):
    # data come from mlnotes (generated, or shipped by scikit-learn/scikit-image), figures are
    # shown inline: a notebook runs the same in any folder, alone, on Colab
    for cell in code_cells(read(path))[1:]:  # the install cell is the same everywhere
        calls = {
            node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            for node in ast.walk(ast.parse(python_source(cell)))
            if isinstance(node, ast.Call)
        }
        assert not calls & FILE_CALLS, (
            f"{path.name}: {sorted(calls & FILE_CALLS)} in:\n{cell.source}"
        )
