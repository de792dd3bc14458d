"""Test-session set-up shared by the unit tests and the nbval run (here so both always load it)."""

import os

from nbval_tolerance import apply_declared_tolerances

# nbval's kernels inherit this process's environment. With MPLBACKEND set (Agg is common on
# headless machines) ipykernel does not switch matplotlib to its inline backend, the notebooks'
# figures are never displayed, and every stored figure output would "differ".
os.environ.pop("MPLBACKEND", None)

# nbval compares every output of a notebook except images (image/png, ...). myst_nb.glue stores
# a glued figure under a mime type of its own, which nbval would compare byte for byte, so a
# matplotlib upgrade would fail the run; skip those exactly as nbval skips image/png.
GLUED_IMAGES = (
    "application/papermill.record/image/png",
    "application/papermill.record/image/jpeg",
    "application/papermill.record/image/svg+xml",
)


def pytest_collection_modifyitems(items):
    notebooks = {item.parent for item in items if hasattr(item.parent, "skip_compare")}
    for notebook in notebooks:
        notebook.skip_compare = tuple(notebook.skip_compare) + GLUED_IMAGES
    # a training result moves a little between CPUs: its cell says how far (tests/nbval_tolerance)
    apply_declared_tolerances(items)
