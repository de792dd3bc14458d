"""Bounding boxes (chapter 7): formats, area, intersection over union, non-maximum suppression.

Boxes are rows ``(x1, y1, x2, y2)``, ``x1 <= x2``, ``y1 <= y2``, unless said otherwise. The ops
compute in torch: a tensor in gives a tensor out (on its device, keeping the autograd graph of
box_convert, box_area, box_iou), NumPy or lists give NumPy. float32/64 are kept, integers become
float64, float16/bfloat16 float32.

References: Everingham et al., PASCAL VOC (IJCV 2010), 4.4 (IoU); Redmon et al., YOLO (CVPR
2016), 2 (centre-size); Girshick et al., R-CNN (CVPR 2014), 2.1 (NMS); Ren et al., Faster R-CNN
(NeurIPS 2015), 3.3 (NMS per class); Ng, Deep Learning Specialization, course 4 week 3.
"""

import functools

import numpy as np
import torch

from mlnotes.core import check_choice, check_scalar, to_numpy

FORMATS = ("xyxy", "xywh", "cxcywh")
_FIELDS = {"xyxy": "(x1, y1, x2, y2)", "xywh": "(x1, y1, w, h)", "cxcywh": "(cx, cy, w, h)"}
_NMS_BLOCK = 128  # boxes per torch call in NMS: few calls, and [128, N] IoU blocks stay small


def _numpy_back(op):  # NumPy back from a torch op unless its first input is a tensor
    @functools.wraps(op)
    def door(first, *args, **kwargs):
        out = op(first, *args, **kwargs)
        return out if isinstance(first, torch.Tensor) else out.numpy()

    return door


@_numpy_back
def box_convert(boxes, in_fmt: str, out_fmt: str):
    """Convert boxes ``[N, 4]`` between the corner, corner-size and centre-size formats.

        xywh   -> xyxy:   x2 = x1 + w,           y2 = y1 + h
        cxcywh -> xyxy:   x1 = cx - w / 2,       x2 = cx + w / 2    (and the same for y, h)
        xyxy   -> cxcywh: cx = (x1 + x2) / 2,    w = x2 - x1

    Sizes ``w, h`` must be ``>= 0``; the answer is a new array even when the formats agree.
    """
    check_choice(in_fmt, "in_fmt", FORMATS)
    check_choice(out_fmt, "out_fmt", FORMATS)
    boxes = _boxes(boxes, "boxes", in_fmt)
    if in_fmt == out_fmt:  # a copy, with no arithmetic: (x1 + w) - x1 need not round back to w
        return boxes.clone()
    a, b, c, d = boxes.unbind(1)  # each [N]
    if in_fmt == "xywh":
        a, b, c, d = a, b, a + c, b + d
    elif in_fmt == "cxcywh":
        a, b, c, d = a - c / 2, b - d / 2, a + c / 2, b + d / 2
    # every conversion goes through (a, b, c, d) = (x1, y1, x2, y2)
    if out_fmt == "xywh":
        a, b, c, d = a, b, c - a, d - b
    elif out_fmt == "cxcywh":
        a, b, c, d = (a + c) / 2, (b + d) / 2, c - a, d - b
    return torch.stack([a, b, c, d], dim=1)  # [N, 4]


@_numpy_back
def box_area(boxes):
    """Area ``(x2 - x1) * (y2 - y1)`` of each box: ``[N, 4]`` -> ``[N]``."""
    return _area(_boxes(boxes, "boxes"))


@_numpy_back
def box_iou(boxes1, boxes2):
    """Intersection over union (Jaccard index) of every pair: ``[N, 4]``, ``[M, 4]`` -> ``[N, M]``.

        IoU(A, B) = area(A ∩ B) / area(A ∪ B),   area(A ∪ B) = area(A) + area(B) - area(A ∩ B)

    A zero-area box has IoU 0 with every box, itself included (not 0 / 0).
    """
    if isinstance(boxes1, torch.Tensor) != isinstance(boxes2, torch.Tensor):
        raise TypeError(
            "boxes1 and boxes2 must both be torch tensors or both NumPy arrays, got "
            f"{type(boxes1).__name__} and {type(boxes2).__name__}"
        )
    return box_iou_unchecked(_boxes(boxes1, "boxes1"), _boxes(boxes2, "boxes2"))


@_numpy_back
def nms(boxes, scores, iou_threshold: float):
    """Greedy non-maximum suppression: keep the best box, drop the boxes that overlap it, repeat.

        visit boxes by decreasing score; keep box i unless IoU(i, k) > iou_threshold
        for some box k kept before it

    Returns the int64 indices ``[K]`` of the kept boxes by decreasing score. A box whose IoU
    equals the threshold is kept; equal scores go lower index first; zero-area boxes (IoU 0)
    are never suppressed and suppress nothing.
    """
    boxes, scores, iou_threshold = _nms_inputs(boxes, scores, iou_threshold)
    return _greedy_nms(boxes, scores, None, iou_threshold)


@_numpy_back
def batched_nms(boxes, scores, labels, iou_threshold: float):
    """Non-maximum suppression within each class: a box only suppresses boxes of its own label.

        keep box i unless IoU(i, k) > iou_threshold for a kept k with labels[k] == labels[i]

    One greedy pass that skips pairs of different labels, rather than torchvision's shift of
    each class's boxes apart, whose large offsets round the coordinates.
    """
    boxes, scores, iou_threshold = _nms_inputs(boxes, scores, iou_threshold)
    labels = _real_tensor(labels, "labels").to(boxes.device)
    if labels.shape != scores.shape:
        raise ValueError(
            f"labels must have shape {tuple(scores.shape)} (one per box), got {tuple(labels.shape)}"
        )
    if labels.numel() and (labels.is_floating_point() or labels.dtype == torch.bool):
        raise TypeError(f"labels must hold integers, got dtype {labels.dtype}")
    return _greedy_nms(boxes, scores, labels, iou_threshold)


@torch.no_grad()
def _greedy_nms(boxes, scores, labels, iou_threshold: float):  # labels=None: class-blind
    order = scores.sort(descending=True, stable=True).indices  # ties: lower index first
    boxes = boxes[order]
    labels = None if labels is None else labels[order]
    # Visit the sorted boxes block by block. One torch call compares a block's boxes still in
    # the running with every later box still in the running; the greedy choice within the
    # block is a loop over the rows of that boolean matrix on the CPU. As in the one-box-at-a-
    # time loop, a suppressed box is never compared again.
    removed = np.zeros(len(boxes), dtype=bool)
    keep = []
    for start in range(0, len(boxes), _NMS_BLOCK):
        alive = np.flatnonzero(~removed[start:]) + start  # [M], in score order
        rows = int(np.searchsorted(alive, start + _NMS_BLOCK))  # alive[:rows] are in the block
        index = torch.from_numpy(alive).to(boxes.device)
        overlaps = box_iou_unchecked(boxes[index[:rows]], boxes[index]) > iou_threshold  # [rows, M]
        if labels is not None:
            overlaps &= labels[index[:rows], None] == labels[index]
        overlaps = overlaps.cpu().numpy()
        dropped = np.zeros(len(alive), dtype=bool)
        for row in range(rows):
            if not dropped[row]:
                keep.append(alive[row])
                dropped |= overlaps[row]  # (it marks boxes of the block decided already too)
        removed[alive] = dropped
    return order[torch.tensor(keep, dtype=torch.int64, device=order.device)]


def _nms_inputs(boxes, scores, iou_threshold):
    boxes = _boxes(boxes, "boxes")
    scores = _real_tensor(scores, "scores").to(boxes.device)
    if scores.shape != boxes.shape[:1]:
        raise ValueError(
            f"scores must have shape {tuple(boxes.shape[:1])} (one per box), "
            f"got {tuple(scores.shape)}"
        )
    if not torch.isfinite(scores).all():
        raise ValueError("scores must be finite, got NaN or infinity")
    return boxes, scores, check_scalar(iou_threshold, "iou_threshold", low=0, high=1)


@_numpy_back
def box_iou_unchecked(boxes1, boxes2):
    """``box_iou`` without the checks, for boxes a public function has checked."""
    boxes1, boxes2 = torch.as_tensor(boxes1), torch.as_tensor(boxes2)
    x1, y1, x2, y2 = boxes1[:, :, None].unbind(1)  # each [N, 1]
    u1, v1, u2, v2 = boxes2.T  # each [M]
    # the intersection runs from the larger top-left corner to the smaller bottom-right one
    width = (torch.minimum(x2, u2) - torch.maximum(x1, u1)).clamp(min=0)  # [N, M]
    height = (torch.minimum(y2, v2) - torch.maximum(y1, v1)).clamp(min=0)  # [N, M]
    inter = width * height
    union = _area(boxes1)[:, None] + _area(boxes2) - inter  # [N, M]
    # union is 0 only for two zero-area boxes, whose intersection is 0 too: divide by 1 there
    # and answer 0 instead of 0 / 0 = NaN
    return inter / union.where(union > 0, 1)


def _area(boxes):
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])  # [N]


def _boxes(boxes, name: str, fmt: str = "xyxy"):  # a checked floating [N, 4] tensor
    boxes = _real_tensor(boxes, name)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(
            f"{name} must have shape (N, 4), rows {_FIELDS[fmt]}, got {tuple(boxes.shape)}"
        )
    if not boxes.is_floating_point():
        boxes = boxes.double()  # integer boxes would give integer areas
    elif boxes.dtype not in (torch.float32, torch.float64):
        boxes = boxes.float()  # float16 areas overflow past 65504
    _check_rows(boxes, name, fmt)
    return boxes


def _check_rows(boxes, name: str, fmt: str) -> None:  # names the first bad row
    if fmt == "xyxy":
        backwards, what = boxes[:, 2:] < boxes[:, :2], "x2 < x1 or y2 < y1"
    else:
        backwards, what = boxes[:, 2:] < 0, "a negative w or h"
    finite = torch.isfinite(boxes).all(dim=1)
    bad = ~finite | backwards.any(dim=1)  # NaN compares False: caught by finite
    if not bad.any():  # the one value that leaves the device when the boxes are good
        return
    row = int(bad.nonzero()[0, 0])
    problem = "a NaN or infinite coordinate" if not finite[row] else what
    raise ValueError(
        f"{name} row {row} {_FIELDS[fmt]} = {boxes[row].tolist()} has {problem} "
        f"({int(bad.sum())} bad row(s) in all)"
    )


def _real_tensor(x, name: str):  # shares a NumPy array's memory where torch can
    if not isinstance(x, torch.Tensor):
        x = np.asarray(x)
        if x.dtype.kind not in "biuf":  # before torch sees strings or objects
            raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}")
        # torch shares no memory with negative strides or read-only arrays: copy those
        x = torch.from_numpy(np.require(x, requirements=("C", "W")))
    if x.is_complex():
        raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}")
    return x


def as_numpy_boxes(boxes, name: str, fmt: str = "xyxy") -> np.ndarray:
    """``boxes`` (array, list or tensor) checked as ``[N, 4]`` rows of ``fmt``, as an ndarray.

    Raises ValueError naming ``name`` and the first bad row (NaN, infinite, negative size).
    """
    return _boxes(to_numpy(boxes), name, fmt).numpy()
