"""Drawing boxes on images (the detection chapter's figures)."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from mlnotes.core import to_numpy
from mlnotes.detection.boxes import as_numpy_boxes


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
    Integer ``labels [K]`` pick the colours (``tab10``, unless ``color``) and ``class_names``;
    ``scores [K]`` are printed with two decimals; ``texts`` (one per box, ``None`` for nothing)
    replace names and scores. Returns the ``Rectangle`` patches, in the order of ``boxes``.
    """
    boxes = as_numpy_boxes(boxes, "boxes")
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
