"""YOLO (chapter 7): the grid target with anchor boxes, its decoding, filtering and loss.

The image (``image_size`` pixels square) is split into an S x S grid of cells of side
``cell = image_size / S``. The target of one image is a volume ``[S, S, B, 5 + C]``: at
``[row, col, a]``, for the object whose centre lies in cell ``(row, col)`` and whose shape is
closest to anchor ``a``,

    (p_c, b_x, b_y, b_w, b_h, c_1, ..., c_C)
    p_c = 1                       an object is here (0 everywhere else, with all other entries)
    b_x = cx / cell - col         centre's offset in its cell, in [0, 1)
    b_y = cy / cell - row
    b_w = w / cell,  b_h = h / cell   size in cells: above 1 for an object wider than a cell
    c_j = 1 if the label is j else 0

(Ng's slides list b_h before b_w; here x, y, w, h as in the boxes.) The loss is PyTorch.

    target = yolo_encode(boxes, labels, grid_size=4, anchors=anchors, num_classes=4,
                         image_size=64)                             # [4, 4, B, 5 + 4]
    boxes, scores, labels = yolo_decode(target, anchors, image_size=64)

References: Redmon et al., "You Only Look Once" (CVPR 2016), section 2 (grid, loss (3)); Redmon
& Farhadi, "YOLO9000" (CVPR 2017), section 2 (anchors) and "YOLOv3" (2018), section 2.1
(log-sizes, logistic objectness); Ng, Deep Learning Specialization, course 4 week 3.
"""

from __future__ import annotations

import warnings

import numpy as np

from mlnotes.core import as_class_labels, as_float_array, check_float_tensor, check_scalar, to_numpy
from mlnotes.detection.boxes import as_numpy_boxes, box_iou_unchecked


def assign_anchors(boxes, anchors) -> np.ndarray:
    """Index ``[K]`` of the anchor whose shape best matches each box ``[K, 4]``.

        a* = argmax_a IoU((0, 0, w, h), (0, 0, w_a, h_a))

    Only the shapes count (both at the same corner); ties go to the lower index, a zero-area
    box gets anchor 0. ``anchors [B, 2]``: rows ``(w, h)``.
    """
    return _assign(_check_boxes(boxes), _check_anchors(anchors))


def yolo_encode(
    boxes,
    labels,
    grid_size: int,
    anchors,
    num_classes: int,
    image_size: float,
    return_dropped: bool = False,
):
    """The YOLO target ``[S, S, B, 5 + C]`` of one image's ``boxes [K, 4]``, ``labels [K]``.

    An object goes to the cell of its centre, ``(floor(cy / cell), floor(cx / cell))`` (the
    last cell for a centre on the far edge), at the anchor ``assign_anchors`` picks. Of objects
    colliding on one slot the largest is kept (ties: the earlier); the others are dropped with a
    ``UserWarning``, or their indices returned (ascending) with ``return_dropped=True``.
    """
    boxes = _check_boxes(boxes)
    labels = as_class_labels(to_numpy(labels), num_classes, "labels")
    if labels.shape != (len(boxes),):
        raise ValueError(f"labels must have shape ({len(boxes)},), one per box, got {labels.shape}")
    size = check_scalar(grid_size, "grid_size", low=1, integer=True)
    check_scalar(num_classes, "num_classes", low=1, integer=True)
    image_size = check_scalar(image_size, "image_size", low=0, strict=True)
    anchors = _check_anchors(anchors)

    cell = image_size / size
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2  # [K, 2] (cx, cy)
    outside = ((centre < 0) | (centre > image_size)).any(axis=1)  # [K]
    if outside.any():
        row = int(np.flatnonzero(outside)[0])
        raise ValueError(
            f"boxes row {row} has its centre {centre[row].tolist()} outside the image "
            f"[0, {image_size}]^2 ({int(outside.sum())} such row(s))"
        )
    col_row = np.minimum(np.floor(centre / cell), size - 1).astype(np.int64)  # [K, 2] (col, row)
    offset = centre / cell - col_row  # [K, 2] (b_x, b_y)
    extent = (boxes[:, 2:] - boxes[:, :2]) / cell  # [K, 2] (b_w, b_h)
    anchor = _assign(boxes, anchors)  # [K]

    target = np.zeros((size, size, len(anchors), 5 + num_classes))
    dropped = []
    area = extent[:, 0] * extent[:, 1]  # [K]
    for i in np.argsort(-area, kind="stable"):  # larger boxes first; ties in index order
        slot = (col_row[i, 1], col_row[i, 0], anchor[i])  # (row, col, anchor)
        if target[slot][0] == 1:
            dropped.append(i)
            continue
        target[slot][0] = 1
        target[slot][1:3] = offset[i]
        target[slot][3:5] = extent[i]
        target[slot][5 + labels[i]] = 1
    dropped = np.sort(np.array(dropped, dtype=np.int64))
    if return_dropped:
        return target, dropped
    if dropped.size:
        warnings.warn(
            f"yolo_encode: {dropped.size} object(s) dropped (indices {dropped.tolist()}): "
            "another, larger object took the same cell and anchor",
            UserWarning,
            stacklevel=2,
        )
    return target


def yolo_decode(output, anchors, image_size: float, score_threshold: float = 0.0):
    """Boxes ``[K, 4]``, scores ``[K]`` and labels ``[K]`` of one volume ``[S, S, B, 5 + C]``.

        cx = (col + b_x) * cell,  cy = (row + b_y) * cell,  w = b_w * cell,  h = b_h * cell
        score = p_c * max_j c_j,  label = argmax_j c_j

    Negative sizes are clipped to 0. Slots with score > ``score_threshold`` are kept, in
    (row, column, anchor) order. ``output`` is a target or a prediction after sigmoid/softmax.
    """
    output = as_float_array(to_numpy(output), "output").astype(np.float64)
    anchors = _check_anchors(anchors)
    image_size = check_scalar(image_size, "image_size", low=0, strict=True)
    score_threshold = check_scalar(score_threshold, "score_threshold", low=0)
    if output.ndim != 4 or output.shape[0] != output.shape[1] or output.shape[3] < 6:
        raise ValueError(f"output must have shape (S, S, B, 5 + C) with C >= 1, got {output.shape}")
    if output.shape[2] != len(anchors):
        raise ValueError(f"output must have B = {len(anchors)} (anchors), got {output.shape}")
    size = output.shape[0]
    cell = image_size / size
    row, col = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")  # each [S, S]
    grid = np.stack([col, row], axis=-1)[:, :, None, :]  # [S, S, 1, 2] (col, row)
    centre = (grid + output[..., 1:3]) * cell  # [S, S, B, 2] (cx, cy)
    half = np.maximum(output[..., 3:5], 0) * cell / 2  # [S, S, B, 2] (w / 2, h / 2)
    boxes = np.concatenate([centre - half, centre + half], axis=-1).reshape(-1, 4)  # [SSB, 4]
    box_scores = (output[..., :1] * output[..., 5:]).reshape(len(boxes), -1)  # [SSB, C]
    scores, labels = box_scores.max(axis=1), box_scores.argmax(axis=1)  # each [SSB]
    keep = scores > score_threshold
    return boxes[keep], scores[keep], labels[keep].astype(np.int64)


def filter_boxes(boxes, box_scores, threshold: float = 0.6):
    """Keep the boxes ``[K, 4]`` whose best class score ``box_scores [K, C]`` reaches threshold.

        score_i = max_j box_scores[i, j],  label_i = argmax_j box_scores[i, j]
        keep box i  iff  score_i >= threshold

    YOLO's first filter, before ``batched_nms``. Returns the kept boxes, scores and labels.
    """
    boxes = as_numpy_boxes(boxes, "boxes")
    box_scores = as_float_array(to_numpy(box_scores), "box_scores", ndim=2)
    if box_scores.shape[0] != len(boxes) or box_scores.shape[1] < 1:
        raise ValueError(
            f"box_scores must have shape ({len(boxes)}, C), C >= 1, got {box_scores.shape}"
        )
    threshold = check_scalar(threshold, "threshold", low=0)
    if len(boxes) == 0:
        return boxes, np.zeros(0, dtype=box_scores.dtype), np.zeros(0, dtype=np.int64)
    scores, labels = box_scores.max(axis=1), box_scores.argmax(axis=1)  # each [K]
    keep = scores >= threshold
    return boxes[keep], scores[keep], labels[keep].astype(np.int64)


def yolo_loss(
    output,
    target,
    lambda_coord: float = 5.0,
    lambda_noobj: float = 0.5,
    terms: str = "squared",
):
    """YOLO's loss of ``output`` against ``target`` (both ``[N, S, S, B, 5 + C]``), per image.

    With ``1obj`` = the target's p_c, summed over every slot and divided by N, primed = target,
    ``terms="squared"`` (YOLO v1, Ng's course: sizes regressed directly, p_c's target 1):

        lambda_coord * sum 1obj * [(b_x - b_x')^2 + (b_y - b_y')^2 + (b_w - b_w')^2
                                   + (b_h - b_h')^2]
        + sum 1obj * (p_c - 1)^2  +  lambda_noobj * sum (1 - 1obj) * p_c^2
        + sum 1obj * sum_j (c_j - c_j')^2

    ``terms="cross_entropy"`` (the book's mix, close to YOLOv3) keeps the slots and weights:

        lambda_coord * sum 1obj * [(b_x - b_x')^2 + (b_y - b_y')^2
                                   + (log b_w - log b_w')^2 + (log b_h - log b_h')^2]
        - sum 1obj * log p_c  -  lambda_noobj * sum (1 - 1obj) * log(1 - p_c)
        - sum 1obj * sum_j c_j' log c_j

    Cross-entropy keeps a strong gradient on a confident mistake, where a saturated sigmoid's
    squared error has almost none; log-sizes weigh an error more on a small box. Logs' arguments
    are clamped to >= 1e-7; ``output`` holds probabilities (after its sigmoid/softmax).
    """
    check_float_tensor(output, "output")
    check_float_tensor(target, "target")
    if output.ndim != 5 or output.shape[-1] < 6 or output.shape != target.shape:
        raise ValueError(
            "output and target must have the same shape (N, S, S, B, 5 + C) with C >= 1, got "
            f"{tuple(output.shape)} and {tuple(target.shape)}"
        )
    lambda_coord = check_scalar(lambda_coord, "lambda_coord", low=0)
    lambda_noobj = check_scalar(lambda_noobj, "lambda_noobj", low=0)
    if terms not in ("squared", "cross_entropy"):
        raise ValueError(f'terms must be "squared" or "cross_entropy", got {terms!r}')
    obj = target[..., 0]  # [N, S, S, B]
    if not bool(((obj == 0) | (obj == 1)).all()):
        raise ValueError("target's p_c (entry 0 of the last axis) must be 0 or 1")
    centre = ((output[..., 1:3] - target[..., 1:3]) ** 2).sum(-1)  # [N, S, S, B]
    p_c = output[..., 0]  # [N, S, S, B]
    if terms == "squared":
        sizes = ((output[..., 3:5] - target[..., 3:5]) ** 2).sum(-1)  # [N, S, S, B]
        classes = ((output[..., 5:] - target[..., 5:]) ** 2).sum(-1)  # [N, S, S, B]
        present, absent = (p_c - 1) ** 2, p_c**2  # [N, S, S, B] each
    else:
        eps = 1e-7
        log_ratio = output[..., 3:5].clamp_min(eps).log() - target[..., 3:5].clamp_min(eps).log()
        sizes = (log_ratio**2).sum(-1)  # [N, S, S, B]
        classes = -(target[..., 5:] * output[..., 5:].clamp_min(eps).log()).sum(-1)
        present = -p_c.clamp_min(eps).log()  # [N, S, S, B]
        absent = -(1 - p_c).clamp_min(eps).log()  # [N, S, S, B]
    total = (
        lambda_coord * (obj * (centre + sizes)).sum()
        + (obj * present).sum()
        + lambda_noobj * ((1 - obj) * absent).sum()
        + (obj * classes).sum()
    )
    return total / output.shape[0]


def _assign(boxes: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    zeros = np.zeros((len(boxes), 2))
    shapes = np.concatenate([zeros, boxes[:, 2:] - boxes[:, :2]], axis=1)  # [K, 4] (0, 0, w, h)
    anchor_boxes = np.concatenate([np.zeros_like(anchors), anchors], axis=1)  # [B, 4]
    return box_iou_unchecked(shapes, anchor_boxes).argmax(axis=1).astype(np.int64)  # [K]


def _check_boxes(boxes) -> np.ndarray:
    return as_numpy_boxes(boxes, "boxes").astype(np.float64)


def _check_anchors(anchors) -> np.ndarray:  # float64 [B, 2], (w, h) > 0
    anchors = as_float_array(to_numpy(anchors), "anchors", ndim=2).astype(np.float64)
    if anchors.shape[1] != 2 or len(anchors) == 0 or not (anchors > 0).all():
        raise ValueError(f"anchors must be (B, 2), B >= 1, rows (w, h) > 0, got {anchors.tolist()}")
    return anchors
