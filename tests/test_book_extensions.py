"""The book's two Sphinx extensions (book/_ext), on notebooks and documents made here."""

import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))

from stored_outputs import was_executed  # noqa: E402


def write(tmp_path, *cells):
    path = tmp_path / "nb.ipynb"
    nbformat.write(new_notebook(cells=list(cells)), path)
    return path


def test_a_notebook_run_top_to_bottom_counts_as_executed(tmp_path):
    first = new_code_cell("import math", execution_count=1)  # no output, but it ran
    second = new_code_cell("math.pi", execution_count=2)
    assert was_executed(write(tmp_path, new_markdown_cell("# t"), first, second))


def test_a_notebook_with_a_cell_never_run_is_executed_by_the_build(tmp_path):
    ran = new_code_cell("x = 1", execution_count=1)
    never = new_code_cell("print(x)")
    assert not was_executed(write(tmp_path, ran, never))


@pytest.mark.parametrize("cells", [[], [new_markdown_cell("text only")]])
def test_a_notebook_without_code_is_not_called_executed(tmp_path, cells):
    assert not was_executed(write(tmp_path, *cells))


def test_empty_code_cells_are_ignored(tmp_path):
    assert was_executed(
        write(tmp_path, new_code_cell("x = 1", execution_count=1), new_code_cell(""))
    )
