"""book/presets.yml: the named parameter sets of the notebooks (papermill).

Every preset entry must name a notebook of the book and only parameters its `parameters` cell
defines, with values of the same type as the defaults; `ci` is the defaults themselves; every
notebook of a GPU chapter that has parameters has a `full` entry.
"""

import ast
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PRESETS = yaml.safe_load((ROOT / "book" / "presets.yml").read_text())
GPU_CHAPTERS = ("03-", "06-", "07-", "08-", "09-")  # DESIGN.md's chapter table


def defaults(path: Path) -> dict:
    """The names and literal values assigned in the notebook's `parameters` cell."""
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if not cells:
        return {}
    tree = ast.parse(cells[0].source)
    return {
        target.id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
    }


def test_presets_are_ci_and_full_and_ci_is_the_defaults():
    assert set(PRESETS) == {"ci", "full"}
    assert PRESETS["ci"] == {}


ENTRIES = [
    (preset, notebook, params)
    for preset, notebooks in PRESETS.items()
    for notebook, params in (notebooks or {}).items()
]


@pytest.mark.parametrize(
    "preset, notebook, params", ENTRIES, ids=[f"{p}:{n}" for p, n, _ in ENTRIES]
)
def test_preset_entries_override_existing_parameters_with_the_same_types(preset, notebook, params):
    path = ROOT / notebook
    assert path.suffix == ".ipynb" and path.exists(), f"{preset}: no notebook {notebook}"
    known = defaults(path)
    for name, value in params.items():
        assert name in known, f"{preset}: {notebook} has no parameter {name!r}"
        default = known[name]
        same = type(value) is type(default) or (type(default) is float and type(value) is int)
        assert same, f"{preset}: {notebook}: {name}={value!r} but the default is {default!r}"


def test_every_gpu_chapter_notebook_with_parameters_has_a_full_preset():
    notebooks = sorted((ROOT / "book").glob("*/*.ipynb"))
    gpu = [
        p.relative_to(ROOT).as_posix()
        for p in notebooks
        if p.parent.name.startswith(GPU_CHAPTERS) and defaults(p)
    ]
    missing = [p for p in gpu if p not in (PRESETS["full"] or {})]
    assert not missing, f"no full preset for {missing}"
