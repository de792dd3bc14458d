"""Figures of chapters 5 and 10: small arrays drawn as grids of numbered cells, windows
outlined; a 3-D filter at a few positions in a volume."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle
from mpl_toolkits.mplot3d.art3d import Poly3DCollection

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


_POSITION_COLORS = ("tab:red", "tab:blue", "tab:green", "tab:purple", "tab:orange")


def _cuboid_faces(origin, size):
    """The six faces of the box ``origin + [0, size]`` (x, y, z), as lists of 4 corners."""
    (x, y, z), (dx, dy, dz) = origin, size
    corners = np.array(
        [[x + i * dx, y + j * dy, z + k * dz] for i in (0, 1) for j in (0, 1) for k in (0, 1)]
    )
    quads = [(0, 1, 3, 2), (4, 5, 7, 6), (0, 1, 5, 4), (2, 3, 7, 6), (0, 2, 6, 4), (1, 3, 7, 5)]
    return [corners[list(q)] for q in quads]


def plot_conv3d(
    input_size: tuple[int, int, int] = (14, 14, 14),
    kernel_size: int = 5,
    positions: Sequence[tuple[int, int, int]] = ((0, 0, 0), (0, 0, 9), (9, 9, 9)),
    fig=None,
):
    """Draw a 3D convolution: a ``D×H×W`` volume with a ``k×k×k`` filter at a few positions, and
    the ``(D-k+1)×(H-k+1)×(W-k+1)`` output with the one number each position produces.

    Each position's filter cube (drawn voxel by voxel) and its output cell share a colour. Width
    W runs to the right, depth D (slices, or the frames of a video) into the picture, height H
    up; one input channel and one filter, stride 1, no padding, both volumes at the same scale.

    Args:
        input_size (tuple of 3 ints): ``(D, H, W)`` of the volume.
        kernel_size (int): the side ``k`` of the filter cube, at most each side of the volume.
        positions (sequence of (d, h, w)): the filter's front-bottom-left corner for each
            position drawn, which is also the index of its output; at most five.
        fig (matplotlib Figure | None): where to draw (two 3-D axes are added); a new figure
            when ``None``.

    Returns:
        tuple: the input's and the output's 3-D axes.
    """
    if len(input_size) != 3 or any(int(n) != n or n < 1 for n in input_size):
        raise ValueError(f"input_size must be three positive integers (D, H, W), got {input_size}")
    depth, height, width = (int(n) for n in input_size)
    k = int(kernel_size)
    if k != kernel_size or not 1 <= k <= min(depth, height, width):
        raise ValueError(f"kernel_size must be an integer from 1 to {min(input_size)}, got {k}")
    out = (depth - k + 1, height - k + 1, width - k + 1)
    if not 1 <= len(positions) <= len(_POSITION_COLORS):
        raise ValueError(f"give 1 to {len(_POSITION_COLORS)} positions, got {len(positions)}")
    for pos in positions:
        if len(pos) != 3 or any(not 0 <= p < n for p, n in zip(pos, out, strict=True)):
            raise ValueError(f"position {pos} does not fit: each index must lie in [0, {out}[")
    if fig is None:
        fig = plt.figure(figsize=(10, 4.6))
    ax_in = fig.add_subplot(1, 2, 1, projection="3d")
    ax_out = fig.add_subplot(1, 2, 2, projection="3d")
    # axes: x = width, y = depth, z = height
    for ax, (d, h, w), title in [
        (ax_in, (depth, height, width), f"input {depth}×{height}×{width}, filter {k}×{k}×{k}"),
        (ax_out, out, f"output {out[0]}×{out[1]}×{out[2]}"),
    ]:
        ax.add_collection3d(
            Poly3DCollection(
                _cuboid_faces((0, 0, 0), (w, d, h)),
                facecolor="0.85",
                edgecolor="0.4",
                alpha=0.12,
                lw=0.8,
            )
        )
        ax.set(xlim=(0, width), ylim=(0, depth), zlim=(0, height))
        ax.set_box_aspect((width, depth, height))
        ax.set_axis_off()
        # the sides, named along the edges they measure
        ax.text(w / 2, -0.9, -0.9, f"W = {w}", ha="center", va="top", fontsize=8)
        ax.text(w + 0.6, d / 2, -0.9, f"D = {d}", ha="left", va="top", fontsize=8)
        ax.text(w + 0.4, 0, 0.75 * h, f"H = {h}", ha="left", va="center", fontsize=8)
        ax.view_init(elev=22, azim=-58)
        ax.set_title(title, fontsize=10)
    filled = np.zeros((width, depth, height), dtype=bool)
    colors = np.empty(filled.shape, dtype=object)
    cells = np.zeros((width, depth, height), dtype=bool)
    cell_colors = np.empty(cells.shape, dtype=object)
    for (d, h, w), color in zip(positions, _POSITION_COLORS, strict=False):
        filled[w : w + k, d : d + k, h : h + k] = True
        colors[w : w + k, d : d + k, h : h + k] = color
        cells[w, d, h] = True
        cell_colors[w, d, h] = color
    ax_in.voxels(filled, facecolors=colors, edgecolor="k", linewidth=0.3, alpha=0.55)
    ax_out.voxels(cells, facecolors=cell_colors, edgecolor="k", linewidth=0.5, alpha=0.9)
    return ax_in, ax_out
