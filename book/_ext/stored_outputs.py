"""Render notebooks that were executed by ``make execute`` as stored; execute the others.

MyST-NB's ``execute_notebooks: auto`` re-executes a notebook when *any* code cell has no
output — and nearly every notebook has one (the hidden install cell, the imports), so every
build would run every notebook. This extension gives ``auto`` the meaning the book needs: a
notebook whose code cells all carry an execution count (it was run top to bottom by
``make execute`` and nbval checks its outputs) is excluded from execution; a notebook saved
without running is executed during the build, and an error in it fails the build
(``raise_on_error``).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from sphinx.application import Sphinx
from sphinx.config import Config


def was_executed(path: Path) -> bool:
    """True when every non-empty code cell of the notebook has an execution count."""
    cells = nbformat.read(path, as_version=4).cells
    code = [c for c in cells if c.cell_type == "code" and c.source.strip()]
    return bool(code) and all(c.get("execution_count") is not None for c in code)


def exclude_executed_notebooks(app: Sphinx, config: Config) -> None:
    source = Path(app.srcdir)
    executed = [
        path.relative_to(source).as_posix()
        for path in sorted(source.glob("book/**/*.ipynb"))
        if "_build" not in path.parts and was_executed(path)
    ]
    config.nb_execution_excludepatterns = [*config.nb_execution_excludepatterns, *executed]


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", exclude_executed_notebooks, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
