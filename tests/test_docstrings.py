"""The package's convention (DESIGN.md): every public name is documented. The paper a module
implements is cited once, in its module docstring; the oracle that checks a function is named in
the test that compares them, not in the function's docstring."""

import importlib
import inspect
import pkgutil

import pytest

import mlnotes

MODULES = [
    importlib.import_module(info.name)
    for info in pkgutil.walk_packages(mlnotes.__path__, prefix="mlnotes.")
]


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
