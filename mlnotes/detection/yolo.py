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

(Ng's slides list b_h before b_w; here x comes before y and w before h, as in the boxes.)
encode and decode are NumPy; the loss is PyTorch.

    target = yolo_encode(boxes, labels, grid_size=4, anchors=anchors, num_classes=4,
                         image_size=64)                             # [4, 4, B, 5 + 4]
    boxes, scores, labels = yolo_decode(target, anchors, image_size=64)
"""

from __future__ import annotations

import warnings

import numpy as np

from mlnotes.core import as_class_labels, as_float_array, check_float_tensor, check_scalar
from mlnotes.detection.boxes import _as_boxes, _iou, _to_numpy


def assign_anchors(boxes, anchors) -> np.ndarray:
    """Index of the anchor whose shape best matches each box: IoU of the shapes, centred.

        a* = argmax_a IoU((0, 0, w, h), (0, 0, w_a, h_a))
           = argmax_a min(w, w_a) min(h, h_a) / (w h + w_a h_a - min(w, w_a) min(h, h_a))

    Only the shapes count, not the positions: both boxes are put at the same corner (the same
    as centring both at one point). Ties go to the lower anchor index; a zero-area box has IoU 0
    with every anchor and gets anchor 0.

    Args:
        boxes (ndarray[K, 4]): boxes ``(x1, y1, x2, y2)``; a tensor is read as NumPy.
        anchors (ndarray[B, 2]): anchor shapes ``(w, h)``, positive, in the boxes' units.

    Returns:
        ndarray[K]: int64 anchor indices in [0, B).

    Raises:
        ValueError: bad boxes (as ``box_area``); anchors not (B, 2), B >= 1, positive finite.

    Oracle: a double loop over boxes and anchors with IoU written out (tests).
    Reference: Redmon & Farhadi, "YOLO9000: Better, Faster, Stronger" (CVPR 2017), section 2
    (dimension clusters, IoU of centred shapes); Ng, Deep Learning Specialization, course 4
    week 3 ("Anchor boxes").
    """
    boxes, _ = _as_boxes(_to_numpy(boxes), "boxes")
    boxes = boxes.astype(np.float64)
    anchors = _check_anchors(anchors)
    return _assign(boxes, anchors)


def yolo_encode(
    boxes,
    labels,
    grid_size: int,
    anchors,
    num_classes: int,
    image_size: float,
    return_dropped: bool = False,
):
    """Build the YOLO target volume ``[S, S, B, 5 + C]`` of one image (module docstring).

    Each object goes to the cell holding its centre, ``(row, col) = (floor(cy / cell),
    floor(cx / cell))`` (a centre on the image's right or bottom edge goes to the last cell,
    with ``b_x`` or ``b_y`` = 1), and to the anchor ``assign_anchors`` picks for it.

    Two objects claiming the same cell and anchor (a collision): the larger box (by area) is
    kept, ties keeping the earlier one; the others are dropped from the target. They are
    reported: ``return_dropped=True`` returns their indices, otherwise a ``UserWarning`` says
    how many were dropped. More anchors or a finer grid make collisions rarer.

    Args:
        boxes (ndarray[K, 4]): boxes ``(x1, y1, x2, y2)`` in pixels, centres inside
            ``[0, image_size]``; K = 0 gives an all-zero target.
        labels (ndarray[K]): integer classes in ``[0, num_classes)``.
        grid_size (int): S, cells per side, >= 1.
        anchors (ndarray[B, 2]): anchor shapes ``(w, h)`` in pixels.
        num_classes (int): C, >= 1.
        image_size (float): side of the (square) image in pixels, > 0.
        return_dropped (bool): also return the indices of the objects lost to collisions.

    Returns:
        ndarray[S, S, B, 5 + C]: float64 target, indexed ``[row, col, anchor]``; with
        ``return_dropped``, also ``ndarray[D]`` int64, the dropped objects' indices, ascending.

    Raises:
        ValueError: bad boxes (as ``box_area``) or anchors (as ``assign_anchors``), labels not
            (K,) or out of range, a centre outside the image, S, C or image_size out of range.

    Oracle: ``yolo_decode`` gives the boxes back (round trip over generated scenes); hand cases
    and collisions in tests/test_detection_yolo.py.
    Reference: Redmon et al., "You Only Look Once" (CVPR 2016), section 2; Redmon & Farhadi,
    "YOLO9000" (CVPR 2017), section 2 (anchors); Ng, Deep Learning Specialization, course 4
    week 3 ("YOLO algorithm", "Anchor boxes").
    """
    boxes, _ = _as_boxes(_to_numpy(boxes), "boxes")
    boxes = boxes.astype(np.float64)
    labels = as_class_labels(np.asarray(_to_numpy(labels)), num_classes, "labels")
    if labels.shape != (len(boxes),):
        raise ValueError(
            f"labels must have shape ({len(boxes)},) (one per box), got {labels.shape}"
        )
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
    """Turn a YOLO volume ``[S, S, B, 5 + C]`` (a target or a prediction) back into boxes.

        cx = (col + b_x) * cell,  cy = (row + b_y) * cell,  w = b_w * cell,  h = b_h * cell
        box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2),  cell = image_size / S
        score = p_c * max_j c_j,  label = argmax_j c_j

    The inverse of ``yolo_encode``: decoding a target gives its boxes back (up to rounding).
    A prediction's negative sizes are clipped to 0, so every box is valid for ``nms``. The
    volume's entries are read as they are: apply the network's sigmoid/softmax first.

    Args:
        output (ndarray[S, S, B, 5 + C] | Tensor[S, S, B, 5 + C]): one image's volume; a
            tensor is read as NumPy (detached, on the CPU).
        anchors (ndarray[B, 2]): the anchors the volume was built with; they fix B (the sizes
            are relative to the cell, so they are not needed to decode).
        image_size (float): side of the image in pixels, > 0.
        score_threshold (float): keep the slots whose score is > this (strict: the default 0
            drops a target's empty slots).

    Returns:
        tuple: ``boxes (ndarray[K, 4])`` float64 ``(x1, y1, x2, y2)`` in pixels,
        ``scores (ndarray[K])`` float64, ``labels (ndarray[K])`` int64, in slot order
        (row, then column, then anchor).

    Raises:
        ValueError: a volume not 4-D, not square, without B = len(anchors) or a class column,
            or not finite; bad anchors or image_size.

    Oracle: ``yolo_encode`` (round trip, tests); Ng's ``yolo_boxes_to_corners`` (course 4,
    week 3 programming assignment).
    Reference: Redmon et al., "You Only Look Once" (CVPR 2016), section 2; Ng, Deep Learning
    Specialization, course 4 week 3 ("YOLO algorithm").
    """
    output = as_float_array(_to_numpy(output), "output").astype(np.float64)
    anchors = _check_anchors(anchors)
    image_size = check_scalar(image_size, "image_size", low=0, strict=True)
    score_threshold = check_scalar(score_threshold, "score_threshold", low=0)
    if output.ndim != 4 or output.shape[0] != output.shape[1] or output.shape[3] < 6:
        raise ValueError(f"output must have shape (S, S, B, 5 + C) with C >= 1, got {output.shape}")
    if output.shape[2] != len(anchors):
        raise ValueError(
            f"output must have B = {len(anchors)} boxes per cell (one per anchor), "
            f"got shape {output.shape}"
        )
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
    """Keep the boxes whose best class score reaches the threshold (YOLO's first filter).

        score_i = max_j box_scores[i, j],  label_i = argmax_j box_scores[i, j]
        keep box i  iff  score_i >= threshold,   box_scores[i, j] = p_c * P(class j | object)

    Non-maximum suppression (``batched_nms``) then runs on what is kept.

    Args:
        boxes (ndarray[K, 4]): boxes ``(x1, y1, x2, y2)``.
        box_scores (ndarray[K, C]): finite score of each box for each class, C >= 1.
        threshold (float): the smallest score kept, >= 0 (Ng's course uses 0.6).

    Returns:
        tuple: ``boxes (ndarray[M, 4])``, ``scores (ndarray[M])``, ``labels (ndarray[M])``
        int64, the kept rows in their order. NumPy; tensors are read as NumPy.

    Raises:
        ValueError: bad boxes (as ``box_area``), box_scores not (K, C) or not finite, a
            negative threshold.

    Oracle: a loop over the boxes (tests); Ng's ``yolo_filter_boxes`` (course 4, week 3
    programming assignment), whose mask is ``box_class_scores >= threshold`` too.
    Reference: Ng, Deep Learning Specialization, course 4 week 3 ("Putting it together: YOLO
    algorithm"); Redmon et al., "You Only Look Once" (CVPR 2016), section 2 (class-specific
    confidence scores).
    """
    boxes, _ = _as_boxes(np.asarray(_to_numpy(boxes)), "boxes")
    box_scores = as_float_array(_to_numpy(box_scores), "box_scores")
    if box_scores.ndim != 2 or box_scores.shape[0] != len(boxes) or box_scores.shape[1] < 1:
        raise ValueError(
            f"box_scores must have shape ({len(boxes)}, C) with C >= 1 (one row per box), "
            f"got {box_scores.shape}"
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
    """YOLO's loss over a batch of volumes, averaged over the images.

    ``terms="squared"`` is YOLO v1's (and Ng's course's) sum-squared error:

    With ``1obj`` = target's p_c (1 in the slots that hold an object, 0 elsewhere), summed over
    every cell and anchor of every image, then divided by the number of images N:

        lambda_coord * sum 1obj * [(b_x - b_x')^2 + (b_y - b_y')^2 + (b_w - b_w')^2
                                   + (b_h - b_h')^2]
        + sum 1obj * (p_c - 1)^2  +  lambda_noobj * sum (1 - 1obj) * p_c^2
        + sum 1obj * sum_j (c_j - c_j')^2

    (primed: the target). Everything is squared error on the target's own parameterisation.
    Two simplifications of the paper, both as in Ng's course: the sizes are regressed
    directly, not as sqrt(w), sqrt(h); and the object's p_c target is 1, not the IoU of the
    predicted box with the true one.

    ``terms="cross_entropy"`` keeps the same slots and weights but scores probabilities as
    probabilities and sizes as ratios (the book's mix: YOLOv3 also regresses log-sizes with a
    logistic objectness, but gives each class its own binary cross-entropy, not a softmax):

        lambda_coord * sum 1obj * [(b_x - b_x')^2 + (b_y - b_y')^2
                                   + (log b_w - log b_w')^2 + (log b_h - log b_h')^2]
        - sum 1obj * log p_c  -  lambda_noobj * sum (1 - 1obj) * log(1 - p_c)
        - sum 1obj * sum_j c_j' log c_j

    Binary cross-entropy on p_c and cross-entropy on the classes keep a strong gradient on a
    confident mistake, where the squared error of a saturated sigmoid has almost none; the
    log of a size makes a 2-pixel error count more on a small box than on a big one.
    Every argument of a log is clamped to >= 1e-7, so a saturated output costs at most ~16.

    Either way the loss is 0 when ``output == target``.
    ``output`` must already be in that parameterisation: a network ends with a sigmoid on p_c
    (and on b_x, b_y) and a softmax on the classes. lambda_noobj < 1 keeps the many empty slots
    from swamping the few with objects; lambda_coord > 1 weighs localisation up.

    Args:
        output (Tensor[N, S, S, B, 5 + C]): predictions, floating point.
        target (Tensor[N, S, S, B, 5 + C]): ``yolo_encode`` volumes stacked; p_c in {0, 1}.
        lambda_coord (float): weight of the coordinates, >= 0.
        lambda_noobj (float): weight of p_c in empty slots, >= 0.
        terms (str): ``"squared"`` (YOLO v1, the course) or ``"cross_entropy"`` (above).

    Returns:
        Tensor[]: the scalar loss, differentiable with respect to ``output``.

    Raises:
        TypeError: inputs not floating torch tensors; ValueError: shapes that differ or are not
            (N, S, S, B, 5 + C) with C >= 1, a target p_c other than 0 or 1, negative weights,
            an unknown ``terms``.

    Oracle: a loop over every slot with the terms written out, a hand-computed case, PyTorch's
    ``binary_cross_entropy`` and ``nll_loss`` for the cross-entropy terms, and
    ``torch.autograd.gradcheck`` in float64 (tests/test_detection_yolo.py).
    Reference: Redmon et al., "You Only Look Once" (CVPR 2016), section 2.2, equation (3);
    Redmon & Farhadi, "YOLO9000" (CVPR 2017) and "YOLOv3" (2018), section 2.1;
    Ng, Deep Learning Specialization, course 4 week 3 ("Classification with localization").
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
    """assign_anchors on checked float64 inputs."""
    zeros = np.zeros((len(boxes), 2))
    shapes = np.concatenate([zeros, boxes[:, 2:] - boxes[:, :2]], axis=1)  # [K, 4] (0, 0, w, h)
    anchor_boxes = np.concatenate([np.zeros_like(anchors), anchors], axis=1)  # [B, 4]
    return _iou(shapes, anchor_boxes).argmax(axis=1).astype(np.int64).reshape(len(boxes))  # [K]


def _check_anchors(anchors) -> np.ndarray:
    """``anchors`` as a float64 (B, 2) array of positive finite (w, h), or a clear error."""
    anchors = as_float_array(_to_numpy(anchors), "anchors").astype(np.float64)
    if anchors.ndim != 2 or anchors.shape[1] != 2 or len(anchors) == 0:
        raise ValueError(
            f"anchors must have shape (B, 2), rows (w, h), B >= 1, got {anchors.shape}"
        )
    if not (anchors > 0).all():
        raise ValueError(f"anchors must have positive sizes (w, h), got {anchors.tolist()}")
    return anchors
