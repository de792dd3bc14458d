"""Generic figure helpers shared by the chapters: learning curves and 2-D decision regions.

A topic's own drawings live with the topic; only what several chapters draw the same way is here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np

from mlnotes.core import as_float_array, check_same_length


def plot_learning_curve(
    history,
    ax: plt.Axes | None = None,
    label: str | None = None,
    ylabel: str = "cost $J$",
    xlabel: str = "epoch",
    log_y: bool = False,
) -> plt.Axes:
    """Plot a per-epoch quantity (cost, accuracy) against the epoch number, starting at 0.

    ``ax=None`` draws a new figure; a ``label`` adds a legend; ``log_y`` shows a cost that keeps
    falling slowly. Returns the axes drawn on.
    """
    history = as_float_array(history, "history", ndim=1)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(np.arange(len(history)), history, label=label)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if log_y:
        ax.set_yscale("log")
    if label is not None:
        ax.legend()
    ax.grid(alpha=0.3)
    return ax


def plot_decision_boundary(
    predict_proba: Callable[[np.ndarray], np.ndarray],
    X,
    y,
    ax: plt.Axes | None = None,
    class_names: Sequence[str] = ("class 0", "class 1"),
    axis_labels: Sequence[str] = ("$x_1$", "$x_2$"),
    resolution: int = 200,
) -> plt.Axes:
    """Shade ``p(y=1|x)`` over the plane of two features, draw its 0.5 contour and the points.

    ``predict_proba`` maps ``ndarray[k, 2]`` to probabilities ``ndarray[k]`` (e.g. a model fitted
    on two features); ``X (ndarray[m, 2])`` are the points, ``y (ndarray[m])`` their labels in
    {0, 1}; ``resolution`` is grid points per axis. ``ax=None`` draws a new figure.
    """
    X = as_float_array(X, "X", ndim=2)
    if X.shape[1] != 2:
        raise ValueError(f"X must have exactly 2 features to be drawn in the plane, got {X.shape}")
    y = as_float_array(y, "y", ndim=1)
    check_same_length(X=X, y=y)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4.5))
    margin = 0.5
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin  # [2], [2]
    g1, g2 = np.meshgrid(
        np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    )  # [res, res] each
    grid = np.column_stack([g1.ravel(), g2.ravel()])  # [res*res, 2]
    p = np.asarray(predict_proba(grid)).reshape(g1.shape)  # [res, res]
    shade = ax.contourf(g1, g2, p, levels=np.linspace(0, 1, 11), cmap="RdBu", alpha=0.35)
    ax.contour(g1, g2, p, levels=[0.5], colors="black", linewidths=1.5)
    for label, (marker, colour) in enumerate((("o", "tab:red"), ("s", "tab:blue"))):
        mask = y == label
        ax.scatter(
            *X[mask].T,
            marker=marker,
            c=colour,
            s=14,
            edgecolor="white",
            linewidth=0.4,
            label=class_names[label],
        )
    ax.figure.colorbar(shade, ax=ax, label="$p(y=1\\mid x)$")
    ax.set(xlabel=axis_labels[0], ylabel=axis_labels[1], xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]))
    ax.legend(loc="lower right", title="black line: $p = 0.5$")
    return ax


def plot_image_grid(
    images,
    titles: Sequence[str] | None = None,
    ncols: int = 10,
    cmap: str = "gray_r",
    symmetric: bool = False,
    size: float = 1.1,
) -> plt.Figure:
    """Show grey-level ``images (ndarray[N, H, W])`` side by side, ``ncols`` a row, without axes.

    ``symmetric`` centres the colour scale on 0 with the same range for every image (for weights,
    where the sign matters); otherwise each image uses its own range. ``size`` is inches per image.
    """
    images = as_float_array(images, "images", ndim=3)
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"titles must have one entry per image ({len(images)}), got {len(titles)}")
    n = len(images)
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)  # ceiling division
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows * 1.15), squeeze=False
    )
    limit = np.abs(images).max() if symmetric else None
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i >= n:
            continue
        scale = {"vmin": -limit, "vmax": limit} if symmetric else {}
        ax.imshow(images[i], cmap=cmap, **scale)
        if titles is not None:
            ax.set_title(titles[i], fontsize=8)
    return fig


def plot_confusion_matrix(
    y_true, y_pred, class_names: Sequence[str] | None = None, ax: plt.Axes | None = None
) -> plt.Axes:
    """Draw the confusion matrix: row = true class, column = predicted class, counts in cells.

    ``y_true``, ``y_pred (ndarray[m])`` hold labels in [0, C); ``class_names=None`` labels the
    ticks ``0 .. C-1``; ``ax=None`` draws a new figure. The returned axes hold the counts in
    ``ax.images[0].get_array()``.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim != 1 or y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must be 1-D of the same length, "
            f"got {y_true.shape} and {y_pred.shape}"
        )
    num_classes = (
        len(class_names) if class_names is not None else int(max(y_true.max(), y_pred.max())) + 1
    )
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)  # counts[t, p] += 1 for every example
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4.5))
    ax.imshow(counts, cmap="Blues")
    for (t, p), c in np.ndenumerate(counts):
        if c:
            colour = "white" if c > counts.max() / 2 else "black"
            ax.text(p, t, str(c), ha="center", va="center", fontsize=8, color=colour)
    names = list(class_names) if class_names is not None else [str(i) for i in range(num_classes)]
    ax.set_xticks(range(num_classes), names)
    ax.set_yticks(range(num_classes), names)
    ax.set(xlabel="predicted class", ylabel="true class")
    return ax
