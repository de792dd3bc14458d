"""Drawing networks: a summary as the sequence of volumes its layers produce, and diagrams of a
residual block and an Inception module, read from the modules themselves."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle
from torch import nn

from mlnotes.models.summary import Summary

COLORS = {"conv": "tab:blue", "pool": "tab:orange", "fc": "tab:green", "input": "0.6"}
BLOCK_COLORS = {
    "conv": "#9ecae1",  # light blue: k×k convolutions
    "1x1": "#a1d99b",  # light green: 1×1 convolutions (bottlenecks, projections)
    "bn": "#fdd0a2",  # light orange: batch norm
    "relu": "#dadaeb",  # light purple: ReLU
    "pool": "#fdae6b",  # orange: pooling
    "data": "0.9",  # grey: the block's input and output
}
ARROW = {"arrowstyle": "-|>", "mutation_scale": 9, "lw": 0.9, "color": "0.2"}


def plot_architecture(table: Summary, ax=None, title: str | None = None):
    """Draw each convolution, pooling and fully connected layer of ``table`` (a
    :func:`mlnotes.models.summary`) as a box; return the matplotlib Axes.

    A box's height grows with the volume's height H (relative to the input's), its width with
    log2 of the channel count C; a fully connected layer is a thin bar whose height grows with
    log10 of its units. Labels give ``C×H×W`` (or the units) and the layer.
    """
    roles = [(_role(row.kind), row.output_shape) for row in table.rows]
    steps = [("input", "input", table.input_size)] + [(*r, shape) for r, shape in roles if r]
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6.0, 0.75 * len(steps)), 3.2))
    height0 = table.input_size[-2] if len(table.input_size) == 3 else 1
    units_max = max((s[2][0] for s in steps if len(s[2]) == 1), default=10)
    for i, (role, label, shape) in enumerate(steps):
        if len(shape) == 3:
            box_h = max(0.06, shape[1] / height0)
            box_w = 0.12 + 0.06 * math.log2(shape[0])
            text = _shape(*shape)
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


def _role(kind: str) -> tuple[str, str] | None:
    # the colour key and label of a layer's box; None for the layers not drawn
    if "Pool" in kind:
        return "pool", "max pool" if "Max" in kind else "avg pool"
    return {"Conv2d": ("conv", "conv"), "Linear": ("fc", "fc")}.get(kind)


def _shape(channels: int, height: int, width: int) -> str:
    return f"{channels}×{height}×{width}"


def _box(ax, x, y, text, color, width=2.6, height=0.62, fontsize=8):
    # a rounded box centred on (x, y) with text in it
    corner = (x - width / 2, y - height / 2)
    style = {"boxstyle": "round,pad=0.02,rounding_size=0.12", "edgecolor": "0.25", "lw": 0.8}
    ax.add_patch(FancyBboxPatch(corner, width, height, facecolor=color, zorder=2, **style))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=3)


def _arrow(ax, start, end, label=None):
    ax.add_patch(FancyArrowPatch(start, end, **ARROW))
    if label:  # beside the arrow's middle
        x, y = (start[0] + end[0]) / 2 + 0.12, (start[1] + end[1]) / 2
        ax.text(x, y, label, ha="left", va="center", fontsize=7, color="0.3")


def _finish(ax, xlim, ylim, title):
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_residual_block(
    block: nn.Module, input_size: tuple[int, int, int], ax=None, title: str | None = None
):
    """Draw a ``BasicBlock`` of input ``input_size = (C, H, W)``; return the matplotlib Axes.

    The main path shows its two convolutions, batch norms and ReLUs, the shortcut (identity, or
    the projection 1×1 convolution and batch norm; none in a plain block) runs on the right to
    the addition before the last ReLU, and arrows carry the shapes ``C×H×W``. The numbers are
    read from ``block``'s layers, so the drawing is of the module itself.
    """
    from mlnotes.models.resnet import BasicBlock

    if not isinstance(block, BasicBlock):
        raise TypeError(f"block must be a BasicBlock, got {type(block).__name__}")
    if len(input_size) != 3 or input_size[0] != block.conv1.in_channels:
        raise ValueError(
            f"input_size must be (C, H, W) with C = {block.conv1.in_channels}, got {input_size}"
        )
    channels, height, width = input_size
    stride = block.conv1.stride[0]
    out_channels = block.conv2.out_channels
    out_h, out_w = (height - 1) // stride + 1, (width - 1) // stride + 1
    shape_in, shape_out = _shape(channels, height, width), _shape(out_channels, out_h, out_w)
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 6.4))
    x, c = 2.0, BLOCK_COLORS
    stride_text = f", stride {stride}" if stride != 1 else ""
    steps = [
        (10.0, f"3×3 conv, {out_channels}{stride_text}", c["conv"]),
        (9.0, "batch norm", c["bn"]),
        (8.0, "ReLU", c["relu"]),
        (7.0, f"3×3 conv, {out_channels}", c["conv"]),
        (6.0, "batch norm", c["bn"]),
    ]
    _box(ax, x, 11.2, f"$a^{{[l]}}$  {shape_in}", c["data"])
    previous = 11.2
    for i, (y, text, color) in enumerate(steps):
        _box(ax, x, y, text, color)
        _arrow(ax, (x, previous - 0.31), (x, y + 0.31))
        if i in (0, 3):  # the shape each convolution produces
            ax.text(x - 1.4, y - 0.5, shape_out, ha="right", va="center", fontsize=7, color="0.3")
        previous = y
    plus_y = 4.7
    ax.add_patch(Circle((x, plus_y), 0.28, facecolor="white", edgecolor="0.2", lw=1.0))
    residual = block.downsample is not None
    ax.text(x, plus_y, "+" if residual else "", ha="center", va="center", fontsize=12)
    _arrow(ax, (x, previous - 0.31), (x, plus_y + 0.28))
    middle = (previous - 0.31 + plus_y + 0.28) / 2
    ax.text(x - 0.2, middle, "$z^{[l+2]}$", ha="right", va="center", fontsize=8)
    _box(ax, x, 3.5, "ReLU", c["relu"])
    _arrow(ax, (x, plus_y - 0.28), (x, 3.5 + 0.31))
    _box(ax, x, 2.3, f"$a^{{[l+2]}}$  {shape_out}", c["data"])
    _arrow(ax, (x, 3.5 - 0.31), (x, 2.3 + 0.31))
    if residual:
        right, side = 4.4, {"ha": "left", "va": "center", "fontsize": 7.5}
        ax.plot([x + 1.3, right, right], [11.2, 11.2, plus_y], color="0.2", lw=0.9)
        if isinstance(block.downsample, nn.Identity):
            ax.text(right + 0.12, 8.0, "identity\n(no parameters)", **side)
        else:
            proj = block.downsample[0]
            text = f"1×1 conv, {proj.out_channels}\nstride {proj.stride[0]}"
            _box(ax, right, 8.6, text, c["1x1"], width=1.7, height=0.8)
            _box(ax, right, 7.4, "batch norm", c["bn"], width=1.7)
            ax.text(right + 0.95, 8.0, "projection\n$W_s$", **side)
        _arrow(ax, (right, plus_y), (x + 0.28, plus_y))
    return _finish(ax, (0.2, 6.0), (1.7, 11.8), title)


def plot_inception_module(
    module: nn.Module, input_size: tuple[int, int, int], ax=None, title: str | None = None
):
    """Draw an ``Inception`` module of input ``input_size = (C, H, W)``; return the matplotlib Axes.

    The input, its four branches side by side (1×1; 1×1 then 3×3; 1×1 then 5×5; 3×3 max pooling
    then 1×1), each branch's output shape, and their concatenation along the channels. Filter
    counts and kernel sizes are read from ``module``'s layers (each convolution box is a
    ``BasicConv2d``: convolution, batch norm, ReLU), so the drawing is of the module itself.
    """
    from mlnotes.models.googlenet import Inception

    if not isinstance(module, Inception):
        raise TypeError(f"module must be an Inception, got {type(module).__name__}")
    in_channels = module.branch1.conv.in_channels
    if len(input_size) != 3 or input_size[0] != in_channels:
        raise ValueError(f"input_size must be (C, H, W) with C = {in_channels}, got {input_size}")
    _, height, width = input_size
    c = BLOCK_COLORS

    def conv_box(layer):
        k, channels = layer.conv.kernel_size[0], layer.conv.out_channels
        return f"{k}×{k} conv, {channels}", c["1x1"] if k == 1 else c["conv"], channels

    pool = module.branch4[0]
    pool_text = f"{pool.kernel_size}×{pool.kernel_size} max pool\nstride {pool.stride}"
    branches = [
        [conv_box(module.branch1)],
        [conv_box(module.branch2[0]), conv_box(module.branch2[1])],
        [conv_box(module.branch3[0]), conv_box(module.branch3[1])],
        [(pool_text, c["pool"], in_channels), conv_box(module.branch4[1])],
    ]
    outputs = [boxes[-1][2] for boxes in branches]
    if ax is None:
        _, ax = plt.subplots(figsize=(9.0, 4.6))
    xs = [1.6, 4.6, 7.6, 10.6]
    top, rows, bottom = 6.6, (5.0, 3.4), 1.6
    _box(ax, 6.1, top, f"input  {_shape(in_channels, height, width)}", c["data"], width=11.2)
    for x, boxes in zip(xs, branches, strict=True):
        ys = rows[-len(boxes) :]
        previous, label = top - 0.31, None
        for y, (text, color, channels) in zip(ys, boxes, strict=True):
            _box(ax, x, y, text, color, width=2.5, height=0.72)
            _arrow(ax, (x, previous), (x, y + 0.36), label=label)
            previous, label = y - 0.36, _shape(channels, height, width)
        _arrow(ax, (x, previous), (x, bottom + 0.31), label=label)
    total = sum(outputs)
    text = f"concatenate along the channels: {' + '.join(map(str, outputs))} = {total}"
    _box(ax, 6.1, bottom, text, c["data"], width=11.2)
    _box(ax, 6.1, 0.3, f"output  {_shape(total, height, width)}", c["data"], width=3.2)
    _arrow(ax, (6.1, bottom - 0.31), (6.1, 0.3 + 0.31))
    return _finish(ax, (0.2, 12.0), (-0.2, 7.1), title)
