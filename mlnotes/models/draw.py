"""Drawing a network as the sequence of volumes its layers produce."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from mlnotes.models.summary import Summary

COLORS = {"conv": "tab:blue", "pool": "tab:orange", "fc": "tab:green", "input": "0.6"}


def plot_architecture(table: Summary, ax=None, title: str | None = None):
    """Draw each convolution, pooling and fully connected layer of ``table`` as a box.

    A box's height grows with the volume's height H (relative to the input's), its width with
    log2 of the channel count C; a fully connected layer is a thin bar whose height grows with
    log10 of its units. Labels give ``C×H×W`` (or the units) and the layer.

    Args:
        table (Summary): from :func:`mlnotes.models.summary` on a network whose leaf modules
            include ``Conv2d``, pooling and ``Linear`` layers.
        ax (matplotlib Axes | None): where to draw; a new wide figure when ``None``.
        title (str | None): the axes' title.

    Returns:
        matplotlib Axes
    """
    steps = [("input", table.input_size, "input")] + [
        (_role(row.kind), row.output_shape, _label(row)) for row in table.rows if _role(row.kind)
    ]
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6.0, 0.75 * len(steps)), 3.2))
    height0 = table.input_size[-2] if len(table.input_size) == 3 else 1
    units_max = max((s[1][0] for s in steps if len(s[1]) == 1), default=10)
    for i, (role, shape, label) in enumerate(steps):
        if len(shape) == 3:
            channels, height, width = shape
            box_h = max(0.06, shape[1] / height0)
            box_w = 0.12 + 0.06 * math.log2(channels)
            text = f"{channels}×{height}×{width}"
        else:
            box_h = 0.15 + 0.85 * math.log10(shape[0]) / math.log10(max(units_max, 10))
            box_w = 0.1
            text = f"{shape[0]:,}"
        ax.add_patch(
            Rectangle((i - box_w / 2, -box_h / 2), box_w, box_h, color=COLORS[role], alpha=0.8)
        )
        ax.text(i, 0.56, text, ha="center", va="bottom", fontsize=7, rotation=45)
        ax.text(i, -0.56, label, ha="center", va="top", fontsize=7, rotation=45)
    ax.set_xlim(-0.7, len(steps) - 0.3)
    ax.set_ylim(-1.35, 1.35)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax


def _role(kind: str) -> str | None:
    if kind == "Conv2d":
        return "conv"
    if "Pool" in kind:
        return "pool"
    return "fc" if kind == "Linear" else None


def _label(row) -> str:
    return {"conv": "conv", "pool": "max pool" if "Max" in row.kind else "avg pool", "fc": "fc"}[
        _role(row.kind)
    ]
