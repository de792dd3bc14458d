"""book/presets.yml: the named parameter sets of the notebooks (papermill).

Every preset entry must name a notebook of the book and only parameters its `parameters` cell
defines, with values of the same type as the defaults; `ci` is the defaults themselves; every
notebook with parameters has a `tiny` entry, and every one of a GPU chapter that trains on a
`device` a `full` entry.
"""

from pathlib import Path

import pytest
import yaml

from mlnotes.runner import find_notebooks, gpu_notebooks, load_presets, plan
from mlnotes.runner import notebook_parameters as defaults

ROOT = Path(__file__).resolve().parents[1]
PRESETS = yaml.safe_load((ROOT / "book" / "presets.yml").read_text())


def test_presets_are_ci_tiny_and_full_and_ci_is_the_defaults():
    assert set(PRESETS) == {"ci", "tiny", "full"}
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


def test_every_gpu_chapter_notebook_with_a_device_has_a_full_preset():
    gpu = [p.relative_to(ROOT).as_posix() for p in gpu_notebooks(ROOT / "book")]
    missing = [p for p in gpu if p not in (PRESETS["full"] or {})]
    assert not missing, f"no full preset for {missing}"


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_the_runner_accepts_every_preset_for_the_whole_book(preset, tmp_path):
    notebooks = find_notebooks(ROOT / "book")
    jobs = plan(notebooks, load_presets(ROOT / "book" / "presets.yml"), preset, {}, None,
                tmp_path, ROOT)  # fmt: skip
    assert len(jobs) == len(notebooks)


def test_every_notebook_with_parameters_has_a_tiny_preset():
    names = [p.relative_to(ROOT).as_posix() for p in find_notebooks(ROOT / "book")]
    missing = [n for n in names if n not in PRESETS["tiny"]]
    assert not missing, f"no tiny preset for {missing}"
