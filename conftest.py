"""Test-session set-up shared by the unit tests and the nbval run (here so both always load it)."""

import os

# nbval's kernels inherit this process's environment. With MPLBACKEND set (Agg is common on
# headless machines) ipykernel does not switch matplotlib to its inline backend, the notebooks'
# figures are never displayed, and every stored figure output would "differ".
os.environ.pop("MPLBACKEND", None)
