"""Drawing boxes on images (the detection chapter's figures)."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from mlnotes.core import to_numpy
from mlnotes.detection.boxes import _numpy_boxes


def plot_boxes(
    ax,
    boxes,
    labels=None,
    scores=None,
    class_names=None,
    color=None,
    linestyle: str = "-",
    linewidth: float = 1.5,
    texts=None,
):
    """Draw ``(x1, y1, x2, y2)`` boxes on an image axis, with optional class names and scores.

    Coordinates are pixel edges: the box ``(0, 0, 2, 1)`` covers the pixels of row 0, columns 0
    and 1, which ``imshow`` centres at 0 and 1 — so rectangles are drawn shifted by half a pixel.
    Each class gets its own colour (matplotlib's ``tab10``) unless ``color`` is given.

    Args:
        ax (matplotlib Axes): where the image was shown.
        boxes (ndarray[K, 4] | Tensor[K, 4]): boxes in pixels.
        labels (ndarray[K] | None): integer classes; they pick the colours and the names.
        scores (ndarray[K] | None): printed after the name, two decimals.
        class_names (sequence of str | None): names indexed by label.
        color (str | None): one colour for every box.
        linestyle (str), linewidth (float): of the rectangles.
        texts (sequence of str | None): one caption per box, written instead of the class
            names and scores (``None`` entries write nothing).

    Returns:
        list[Rectangle]: the patches added, in the order of ``boxes``.
    """
    boxes = _numpy_boxes(boxes, "boxes")
    k = len(boxes)
    labels = None if labels is None else to_numpy(labels).reshape(-1)
    scores = None if scores is None else to_numpy(scores).astype(float).reshape(-1)
    for name, values in (("labels", labels), ("scores", scores), ("texts", texts)):
        if values is not None and len(values) != k:
            raise ValueError(f"{name} must have one entry per box ({k}), got {len(values)}")
    palette = plt.get_cmap("tab10")
    patches = []
    for i, (x1, y1, x2, y2) in enumerate(boxes.tolist()):
        label = None if labels is None else int(labels[i])
        edge = color or palette(0 if label is None else label % 10)
        patch = Rectangle(
            (x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1,
            fill=False, ec=edge, lw=linewidth, ls=linestyle,
        )  # fmt: skip
        patches.append(ax.add_patch(patch))
        text = [] if label is None else [class_names[label] if class_names else str(label)]
        text += [] if scores is None else [f"{scores[i]:.2f}"]
        if texts is not None:
            text = [] if texts[i] is None else [texts[i]]
        if text:
            ax.text(
                x1 - 0.5, y1 - 1.0, " ".join(text), color=edge, fontsize=7, va="bottom",
                bbox={"facecolor": "white", "alpha": 0.7, "pad": 0.5, "lw": 0},
            )  # fmt: skip
    return patches
