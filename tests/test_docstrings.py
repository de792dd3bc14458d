"""The package's conventions (DESIGN.md): every public name is documented; every function a
chapter teaches names the paper or book it implements and the oracle that checks it."""

import importlib
import inspect
import pkgutil

import pytest

import mlnotes

MODULES = [
    importlib.import_module(info.name)
    for info in pkgutil.walk_packages(mlnotes.__path__, prefix="mlnotes.")
]
# the modules (and their submodules) whose functions the course teaches; grows with the chapters
TEACHING_MODULES = {
    "mlnotes.linear",
    "mlnotes.conv",
    "mlnotes.detection",
    "mlnotes.multitask",
    "mlnotes.models",
    "mlnotes.transfer",
    "mlnotes.style",
    "mlnotes.faces",
}


def public_callables(module):
    for name, obj in vars(module).items():
        if name.startswith("_") or not callable(obj):
            continue
        if getattr(obj, "__module__", None) == module.__name__:
            yield f"{module.__name__}.{name}", obj


PUBLIC = [pair for module in MODULES for pair in public_callables(module)]


@pytest.mark.parametrize(("name", "obj"), PUBLIC, ids=[name for name, _ in PUBLIC])
def test_public_names_have_docstrings(name, obj):
    assert inspect.getdoc(obj), f"{name} has no docstring"


TEACHING = [
    (n, o)
    for n, o in PUBLIC
    if n.rsplit(".", 1)[0].startswith(tuple(TEACHING_MODULES))
    and not n.rsplit(".", 1)[1].startswith("plot_")  # figures have no oracle
]


@pytest.mark.parametrize(("name", "obj"), TEACHING, ids=[name for name, _ in TEACHING])
def test_teaching_functions_name_their_reference_and_oracle(name, obj):
    doc = inspect.getdoc(obj)
    assert "Reference:" in doc, f"{name} does not say which paper or book it implements"
    assert "Oracle:" in doc, f"{name} does not say what independent code checks it"
