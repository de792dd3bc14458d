"""Figures of chapter 5: small arrays drawn as grids of numbered cells, windows outlined."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from mlnotes.core import as_float_array


def plot_grid(
    values,
    ax: plt.Axes | None = None,
    title: str | None = None,
    windows: Sequence[tuple[int, int, int, int]] = (),
    shaded: np.ndarray | None = None,
    cmap: str = "Blues",
    digits: int = 0,
) -> plt.Axes:
    """Draw a 2-D array as a grid of cells, each with its number, and outline some windows.

    Args:
        values (ndarray[H, W]): the numbers to show (cell colours follow them).
        ax (plt.Axes | None): axes to draw on; a new figure when ``None``.
        title (str | None): axes title.
        windows (sequence of (row, col, height, width)): rectangles to outline in red, e.g. the
            window of the input that one output reads.
        shaded (ndarray[H, W] of bool | None): cells to hatch grey, e.g. zero padding.
        cmap (str): colour map of the cells.
        digits (int): decimals printed in each cell.

    Returns:
        plt.Axes: the axes drawn on, with the array in ``ax.images[0]``.
    """
    values = as_float_array(values, "values", ndim=2)
    if shaded is not None and np.shape(shaded) != values.shape:
        raise ValueError(
            f"shaded must have the shape of values {values.shape}, got {np.shape(shaded)}"
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(0.45 * values.shape[1] + 0.5, 0.45 * values.shape[0] + 0.5))
    limit = np.abs(values).max() or 1.0
    low = 0.0 if values.min() >= 0 else -limit  # signed arrays get a colour scale centred on 0
    ax.imshow(values, cmap=cmap, vmin=low, vmax=limit)
    for (r, c), v in np.ndenumerate(values):
        strength = abs(v) / limit if low < 0 else (v - low) / (limit - low)
        colour = "white" if strength > 0.6 else "black"  # readable on dark cells
        ax.text(c, r, f"{v:.{digits}f}", ha="center", va="center", fontsize=8, color=colour)
        if shaded is not None and shaded[r, c]:
            ax.add_patch(
                Rectangle(
                    (c - 0.5, r - 0.5),
                    1,
                    1,
                    facecolor="lightgrey",
                    hatch="//",
                    edgecolor="grey",
                    alpha=0.6,
                )
            )
    for r in range(values.shape[0] + 1):
        ax.axhline(r - 0.5, color="black", lw=0.5)
    for c in range(values.shape[1] + 1):
        ax.axvline(c - 0.5, color="black", lw=0.5)
    for row, col, height, width in windows:
        ax.add_patch(
            Rectangle(
                (col - 0.5, row - 0.5), width, height, fill=False, edgecolor="tab:red", lw=2.5
            )
        )
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
    return ax
