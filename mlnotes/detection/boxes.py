"""Bounding boxes (chapter 7): formats, area, intersection over union, non-maximum suppression.

Boxes are rows ``(x1, y1, x2, y2)``, ``x1 <= x2`` and ``y1 <= y2``, unless a function says
otherwise. NumPy arrays (or lists) and torch tensors are accepted; the answer is of the input's
kind, and box_convert, box_area and box_iou keep torch's autograd graph.
"""

import sys

import numpy as np

from mlnotes.core import as_float_array, check_scalar

FORMATS = ("xyxy", "xywh", "cxcywh")
_FIELDS = {"xyxy": "(x1, y1, x2, y2)", "xywh": "(x1, y1, w, h)", "cxcywh": "(cx, cy, w, h)"}


def box_convert(boxes, in_fmt: str, out_fmt: str):
    """Convert boxes between the corner, corner-size and centre-size formats.

        xywh   -> xyxy:   x2 = x1 + w,           y2 = y1 + h
        cxcywh -> xyxy:   x1 = cx - w / 2,       x2 = cx + w / 2    (and the same for y, h)
        xyxy   -> cxcywh: cx = (x1 + x2) / 2,    w = x2 - x1

    Args:
        boxes (ndarray[N, 4] | Tensor[N, 4]): boxes in ``in_fmt``; sizes ``w, h >= 0``.
        in_fmt (str), out_fmt (str): each one of ``"xyxy"``, ``"xywh"``, ``"cxcywh"``.

    Returns:
        ndarray[N, 4] | Tensor[N, 4]: a new array. NumPy or PyTorch: a tensor in gives a tensor
        out, anything else an ndarray. float32 and float64 are kept; integers become float64.

    Raises:
        ValueError: an unknown format, a shape other than (N, 4), a NaN or infinite coordinate,
            or a negative size (the message names the row).

    Oracle: ``torchvision.ops.box_convert`` (compared while writing it: torchvision is no
    dependency); round trips and hand cases in tests/test_detection_boxes.py.
    Reference: Redmon et al., "You Only Look Once" (CVPR 2016), section 2 (centre, w, h).
    """
    for name, fmt in (("in_fmt", in_fmt), ("out_fmt", out_fmt)):
        if fmt not in FORMATS:
            raise ValueError(f"{name} must be one of {FORMATS}, got {fmt!r}")
    boxes, xp = _as_boxes(boxes, "boxes", in_fmt)
    if in_fmt == out_fmt:  # a copy, with no arithmetic: (x1 + w) - x1 need not round back to w
        return boxes.copy() if xp is np else boxes.clone()
    a, b, c, d = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]  # each [N]
    if in_fmt == "xywh":
        a, b, c, d = a, b, a + c, b + d
    elif in_fmt == "cxcywh":
        a, b, c, d = a - c / 2, b - d / 2, a + c / 2, b + d / 2
    # every conversion goes through (a, b, c, d) = (x1, y1, x2, y2)
    if out_fmt == "xywh":
        a, b, c, d = a, b, c - a, d - b
    elif out_fmt == "cxcywh":
        a, b, c, d = (a + c) / 2, (b + d) / 2, c - a, d - b
    columns = [a, b, c, d]
    return np.stack(columns, axis=1) if xp is np else xp.stack(columns, dim=1)  # [N, 4]


def box_area(boxes):
    """Area of each box, ``(x2 - x1) * (y2 - y1)``.

    Args:
        boxes (ndarray[N, 4] | Tensor[N, 4]): boxes ``(x1, y1, x2, y2)``.

    Returns:
        ndarray[N] | Tensor[N]: NumPy or PyTorch, as ``boxes`` (integers become float64).

    Raises:
        ValueError: a shape other than (N, 4), a NaN/infinite coordinate, x2 < x1 or y2 < y1.

    Oracle: ``torchvision.ops.box_area``; ``w * h`` of ``box_convert(boxes, "xyxy", "xywh")``.
    Reference: Everingham et al., "The PASCAL Visual Object Classes (VOC) Challenge" (IJCV
    2010), section 4.4.
    """
    boxes, _ = _as_boxes(boxes, "boxes")
    return _area(boxes)


def box_iou(boxes1, boxes2):
    """Intersection over union (Jaccard index) of every pair (box of boxes1, box of boxes2).

        IoU(A, B) = area(A ∩ B) / area(A ∪ B),   area(A ∪ B) = area(A) + area(B) - area(A ∩ B)

    The intersection runs from the larger top-left corner to the smaller bottom-right corner
    (empty when they cross); all N x M pairs at once, broadcasting ``[N, 1, 2]`` with ``[M, 2]``.

    A zero-area box (x1 == x2 or y1 == y2) has IoU 0 with every box, itself included. This
    differs from torchvision, whose 0 / 0 gives NaN for two zero-area boxes.

    Args:
        boxes1 (ndarray[N, 4] | Tensor[N, 4]): boxes ``(x1, y1, x2, y2)``.
        boxes2 (ndarray[M, 4] | Tensor[M, 4]): boxes ``(x1, y1, x2, y2)``, of the same kind.

    Returns:
        ndarray[N, M] | Tensor[N, M]: NumPy or PyTorch, as the inputs; values in [0, 1].
        N = 0 or M = 0 gives an empty (N, M) result.

    Raises:
        TypeError: one input a tensor, the other not; ValueError: as ``box_area``.

    Oracle: ``torchvision.ops.box_iou`` (compared while writing it); a double loop (tests).
    Reference: Everingham et al., "The PASCAL Visual Object Classes (VOC) Challenge" (IJCV
    2010), section 4.4; Ng, Deep Learning Specialization, course 4 week 3.
    """
    boxes1, xp = _as_boxes(boxes1, "boxes1")
    boxes2, xp2 = _as_boxes(boxes2, "boxes2")
    if xp is not xp2:
        raise TypeError(
            "boxes1 and boxes2 must both be torch tensors or both NumPy arrays, got "
            f"{xp.__name__} and {xp2.__name__} inputs"
        )
    return _iou(boxes1, boxes2)


def nms(boxes, scores, iou_threshold: float):
    """Greedy non-maximum suppression: keep the best box, drop the boxes that overlap it, repeat.

        visit boxes by decreasing score; keep box i unless IoU(i, k) > iou_threshold
        for some box k kept before it

    The comparison is strict: a box whose IoU with a kept box equals the threshold is kept.
    Equal scores are visited in index order (lower index first), so the result is deterministic.
    Zero-area boxes have IoU 0 (see ``box_iou``): never suppressed, they suppress nothing.

    Args:
        boxes (ndarray[N, 4] | Tensor[N, 4]): boxes ``(x1, y1, x2, y2)``.
        scores (ndarray[N] | Tensor[N]): finite confidence of each box.
        iou_threshold (float): in [0, 1].

    Returns:
        ndarray[K] | Tensor[K]: int64 indices of the kept boxes, by decreasing score. NumPy or
        PyTorch, as ``boxes`` (a tensor on ``boxes``' device). N = 0 gives an empty result.

    Raises:
        ValueError: bad boxes (as ``box_area``), scores not finite or not (N,), a threshold
            outside [0, 1].

    Oracle: ``torchvision.ops.nms`` (same contract); a sort-loop-suppress reference (tests).
    Reference: Girshick et al., "Rich feature hierarchies..." (R-CNN, CVPR 2014), section 2.1;
    Ng, Deep Learning Specialization, course 4 week 3.
    """
    boxes, scores, iou_threshold, like = _nms_inputs(boxes, scores, iou_threshold)
    return _indices_like(_greedy_nms(boxes, scores, None, iou_threshold), like)


def batched_nms(boxes, scores, labels, iou_threshold: float):
    """Non-maximum suppression within each class: a box only suppresses boxes of its own label.

        keep box i unless IoU(i, k) > iou_threshold for a kept k with labels[k] == labels[i]

    Equal to ``nms`` on each label's boxes, merged by decreasing score (ties: lower index
    first). One greedy pass that skips pairs of different labels, rather than torchvision's
    shift of each class's boxes apart, whose large offsets round the coordinates.

    Args:
        boxes (ndarray[N, 4] | Tensor[N, 4]): boxes ``(x1, y1, x2, y2)``.
        scores (ndarray[N] | Tensor[N]): finite confidence of each box.
        labels (ndarray[N] | Tensor[N]): integer class of each box.
        iou_threshold (float): in [0, 1].

    Returns:
        ndarray[K] | Tensor[K]: int64 indices of the kept boxes, by decreasing score, all labels
        together. NumPy or PyTorch, as ``boxes``.

    Raises:
        ValueError: as ``nms``, or labels not of shape (N,); TypeError: non-integer labels.

    Oracle: ``torchvision.ops.batched_nms``; ``nms`` per label, merged by score (tests).
    Reference: Ren et al., "Faster R-CNN" (NeurIPS 2015), section 3.3 (per-class NMS); the
    torchvision and Detectron2 ``batched_nms``.
    """
    boxes, scores, iou_threshold, like = _nms_inputs(boxes, scores, iou_threshold)
    labels = np.asarray(_to_numpy(labels))
    if labels.shape != scores.shape:
        raise ValueError(f"labels must have shape {scores.shape} (one per box), got {labels.shape}")
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"labels must hold integers, got dtype {labels.dtype}")
    return _indices_like(_greedy_nms(boxes, scores, labels, iou_threshold), like)


def _greedy_nms(boxes, scores, labels, iou_threshold: float) -> np.ndarray:
    """The NMS loop on checked NumPy inputs; ``labels=None`` lets every box suppress every box."""
    order = np.argsort(-scores, kind="stable")  # stable: equal scores keep index order
    keep = []
    # one pass per *kept* box, each comparing it with all the boxes still waiting: O(N K) time
    # and O(N) memory, where the full N x N IoU matrix would need gigabytes for N = 10,000
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(best)
        overlaps = _iou(boxes[best : best + 1], boxes[rest])[0] > iou_threshold  # [len(rest)]
        if labels is not None:
            overlaps &= labels[rest] == labels[best]
        order = rest[~overlaps]
    return np.array(keep, dtype=np.int64)


def _nms_inputs(boxes, scores, iou_threshold):
    """Checked NumPy copies of the inputs, and the tensor whose kind the answer takes (or None)."""
    like = boxes if _xp(boxes) is not np else None
    boxes, _ = _as_boxes(_to_numpy(boxes), "boxes")
    scores = as_float_array(_to_numpy(scores), "scores")
    if scores.shape != boxes.shape[:1]:
        raise ValueError(
            f"scores must have shape {boxes.shape[:1]} (one per box), got {scores.shape}"
        )
    iou_threshold = check_scalar(iou_threshold, "iou_threshold", low=0)
    if iou_threshold > 1:
        raise ValueError(f"iou_threshold must be in [0, 1], got {iou_threshold!r}")
    return boxes, scores, iou_threshold, like


def _iou(boxes1, boxes2):
    """box_iou without the checks (NumPy or torch), shared by box_iou and the NMS loop."""
    xp = _xp(boxes1)
    top_left = xp.maximum(boxes1[:, None, :2], boxes2[:, :2])  # [N, M, 2]
    bottom_right = xp.minimum(boxes1[:, None, 2:], boxes2[:, 2:])  # [N, M, 2]
    width_height = (bottom_right - top_left).clip(min=0)  # [N, M, 2]; 0 when they do not meet
    inter = width_height[..., 0] * width_height[..., 1]  # [N, M]
    union = _area(boxes1)[:, None] + _area(boxes2) - inter  # [N, M]
    # union is 0 only for two zero-area boxes, whose intersection is 0 too: divide by 1 there
    # and answer 0 instead of 0 / 0 = NaN
    return inter / xp.where(union > 0, union, 1)


def _area(boxes):
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])  # [N]


def _as_boxes(boxes, name: str, fmt: str = "xyxy"):
    """``boxes`` as a checked floating (N, 4) array or tensor, and its namespace (np or torch)."""
    xp = _xp(boxes)
    boxes = np.asarray(boxes) if xp is np else boxes
    values = _to_numpy(boxes)  # the same numbers in an ndarray on the CPU, for the checks
    if values.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {boxes.dtype}")
    if values.ndim != 2 or values.shape[1] != 4:
        raise ValueError(f"{name} must have shape (N, 4), rows {_FIELDS[fmt]}, got {values.shape}")
    _check_rows(values, name, fmt)
    if boxes.dtype not in (xp.float32, xp.float64):
        # integers would give integer areas, and float16 areas overflow past 65504
        single = values.dtype.kind == "f" and values.dtype.itemsize <= 4  # float16, bfloat16
        dtype = xp.float32 if single else xp.float64
        boxes = boxes.astype(dtype) if xp is np else boxes.to(dtype)
    return boxes, xp


def _check_rows(values: np.ndarray, name: str, fmt: str) -> None:
    """Raise ValueError naming the first row with a NaN/infinite coordinate or a negative size."""
    # comparisons, not differences: inf - inf would warn; NaN compares False
    if fmt == "xyxy":
        backwards, what = values[:, 2:] < values[:, :2], "x2 < x1 or y2 < y1"
    else:
        backwards, what = values[:, 2:] < 0, "a negative w or h"
    finite = np.isfinite(values).all(axis=1)
    bad = ~finite | backwards.any(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        problem = "a NaN or infinite coordinate" if not finite[row] else what
        raise ValueError(
            f"{name} row {row} {_FIELDS[fmt]} = {values[row].tolist()} has {problem} "
            f"({int(bad.sum())} bad row(s) in all)"
        )


def _xp(x):
    """The array namespace of ``x``: torch for a tensor, NumPy for anything else."""
    # a tensor exists only once torch is imported: NumPy-only readers skip torch's import time
    torch = sys.modules.get("torch")
    return torch if torch is not None and isinstance(x, torch.Tensor) else np


def _to_numpy(x):
    """A tensor as an ndarray (detached, on the CPU); anything else unchanged."""
    if _xp(x) is np:
        return x
    x = x.detach().cpu()
    return (x.float() if x.dtype == _xp(x).bfloat16 else x).numpy()  # NumPy has no bfloat16


def _indices_like(keep: np.ndarray, like):
    if like is None:  # ``like``: the tensor whose kind and device the indices take, if any
        return keep
    return _xp(like).as_tensor(keep, dtype=_xp(like).int64, device=like.device)
