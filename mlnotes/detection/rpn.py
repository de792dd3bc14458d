"""Faster R-CNN's region proposal network (chapter 7): anchors, targets, box deltas, proposals.

A small network slides over a feature map of stride ``s``; at every position it scores k anchors
(boxes centred there) for "object or not" and predicts the deltas that move each onto the object.

    anchors = anchor_grid(shapes, feature_size=8, stride=8)            # [8 * 8 * k, 4]
    labels, matched, deltas = rpn_targets(anchors, gt_boxes)           # 1 / 0 / -1, [A, 4]
    boxes, scores = propose(anchors, objectness, predicted_deltas, image_size=64, top_n=10)

References: Ren et al., "Faster R-CNN" (NeurIPS 2015), sections 3.1-3.3 and 4.1; Girshick et al.,
R-CNN (CVPR 2014), appendix C (the deltas); Girshick, "Fast R-CNN" (ICCV 2015), equation (3)
(smooth L1); Hosang et al., "What makes for effective detection proposals?" (TPAMI 2016).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from mlnotes.core import (
    as_float_array,
    check_float_tensor,
    check_per_axis,
    check_same_length,
    check_scalar,
    to_numpy,
)
from mlnotes.detection.boxes import as_numpy_boxes, box_convert, box_iou_unchecked, nms
from mlnotes.detection.detector import _stride8_layers
from mlnotes.detection.yolo import _check_anchors

# the largest t_w, t_h decoded: exp(4.135) = 1000 / 16, torchvision's and Detectron's bound,
# so that an untrained network's deltas cannot overflow exp
MAX_LOG_SCALE = float(np.log(1000.0 / 16))


def anchor_grid(shapes, feature_size, stride: float) -> np.ndarray:
    """The anchors at every position of a feature map: k shapes centred on each position.

        centre of position (i, j) = ((j + ½) s, (i + ½) s)        (x, y) in pixels
        anchor (i, j, a) = (x - w_a / 2, y - h_a / 2, x + w_a / 2, y + h_a / 2)

    ``shapes [k, 2]`` are ``(w_a, h_a)``, ``feature_size`` H or (H, W). Returns float64
    ``[H·W·k, 4]`` ordered row, column, shape (a ``[N, H, W, k]`` output flattened).
    """
    shapes = _check_anchors(shapes)
    height, width = check_per_axis(feature_size, "feature_size")
    stride = check_scalar(stride, "stride", low=0, strict=True)
    rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")  # [H, W] each
    centres = (np.stack([cols, rows], axis=-1) + 0.5) * stride  # [H, W, 2] (x, y)
    half = shapes / 2  # [k, 2]
    boxes = np.concatenate(
        [centres[:, :, None] - half, centres[:, :, None] + half], axis=-1
    )  # [H, W, k, 4]
    return boxes.reshape(-1, 4)


def encode_deltas(boxes, anchors) -> np.ndarray:
    """The deltas ``[N, 4]`` that move each anchor ``[N, 4]`` onto its box ``[N, 4]`` (row by row).

        t_x = (x - x_a) / w_a,   t_y = (y - y_a) / h_a,   t_w = log(w / w_a),   t_h = log(h / h_a)

    with ``(x, y)`` the centre, ``(w, h)`` the size (> 0): shift in anchor sizes, scale as a
    log-ratio, so the same error costs the same on a small and a large box.
    """
    boxes = _positive_boxes(boxes, "boxes")
    anchors = _positive_boxes(anchors, "anchors")
    if boxes.shape != anchors.shape:
        raise ValueError(
            f"boxes and anchors must pair up, got shapes {boxes.shape} and {anchors.shape}"
        )
    return _encode(boxes, anchors)


def decode_deltas(deltas, anchors) -> np.ndarray:
    """Apply ``deltas [N, 4]`` to ``anchors [N, 4]``: float64 boxes ``[N, 4]``.

        x = x_a + t_x w_a,   y = y_a + t_y h_a,   w = w_a exp(t_w),   h = h_a exp(t_h)

    ``t_w, t_h`` are clamped at ``MAX_LOG_SCALE`` first so that no prediction overflows.
    """
    anchors = _positive_boxes(anchors, "anchors")
    deltas = _as_deltas(deltas, anchors)
    return _decode(deltas, anchors)


def rpn_targets(anchors, gt_boxes, positive_iou: float = 0.7, negative_iou: float = 0.3):
    """Label every anchor object (1), background (0) or ignored (-1), with its box deltas.

    With ``IoU[a, g]`` the IoU of anchor a with ground-truth box g:

        positive (1)  max_g IoU[a, g] >= positive_iou,  or  a has the highest IoU with some g
                      (ties included, IoU > 0): every object gets at least one anchor
        negative (0)  max_g IoU[a, g] < negative_iou, and not positive
        ignored (-1)  the others: they take no part in the loss

    Returns int64 ``labels [A]``, ``matched [A]`` (the box of highest IoU, lower index on a tie)
    and ``deltas [A, 4]``, ``encode_deltas`` of that box (only positives use it). G = 0 makes
    every anchor negative, with deltas 0.
    """
    anchors = _positive_boxes(anchors, "anchors")
    gt_boxes = _positive_boxes(gt_boxes, "gt_boxes")
    negative_iou = check_scalar(negative_iou, "negative_iou", low=0)
    positive_iou = check_scalar(positive_iou, "positive_iou", low=negative_iou, high=1)
    labels = np.zeros(len(anchors), dtype=np.int64)  # [A]
    matched = np.zeros(len(anchors), dtype=np.int64)  # [A]
    deltas = np.zeros((len(anchors), 4))  # [A, 4]
    if len(gt_boxes) == 0:
        return labels, matched, deltas
    iou = box_iou_unchecked(anchors, gt_boxes)  # [A, G]
    best = iou.max(axis=1)  # [A]
    matched = iou.argmax(axis=1).astype(np.int64)  # [A]
    labels[best >= negative_iou] = -1
    labels[best >= positive_iou] = 1
    best_for_gt = iou.max(axis=0)  # [G]
    labels[((iou == best_for_gt) & (best_for_gt > 0)).any(axis=1)] = 1
    deltas = _encode(gt_boxes[matched], anchors)  # [A, 4]
    return labels, matched, deltas


def rpn_loss(logits, deltas, labels, delta_targets, lambda_reg: float = 1.0):
    """The RPN's loss over a batch: binary cross-entropy plus smooth L1 on the positives.

        L = 1/N_cls sum_{a: label >= 0} BCE(σ(z_a), label_a)
            + lambda_reg / N_reg sum_{a: label = 1} sum_j smoothL1(t_aj - t*_aj)
        smoothL1(d) = d² / 2 if |d| < 1 else |d| - ½

    over the whole batch: N_cls labelled anchors, N_reg positives (at least 1). The paper
    samples 256 anchors per image; here every labelled anchor counts. ``logits [N, A]``,
    ``deltas``, ``delta_targets [N, A, 4]``, ``labels [N, A]`` in {1, 0, -1}.
    """
    for name, value in (("logits", logits), ("deltas", deltas), ("delta_targets", delta_targets)):
        check_float_tensor(value, name)
    if logits.ndim != 2 or labels.shape != logits.shape:
        raise ValueError(
            f"logits and labels must be (N, A), got {tuple(logits.shape)} and {tuple(labels.shape)}"
        )
    if deltas.shape != (*logits.shape, 4) or delta_targets.shape != deltas.shape:
        raise ValueError(
            f"deltas and delta_targets must be {(*logits.shape, 4)}, got "
            f"{tuple(deltas.shape)} and {tuple(delta_targets.shape)}"
        )
    if not bool(((labels == 1) | (labels == 0) | (labels == -1)).all()):
        raise ValueError("labels must be 1 (object), 0 (background) or -1 (ignored)")
    lambda_reg = check_scalar(lambda_reg, "lambda_reg", low=0)
    labelled, positive = labels >= 0, labels == 1  # [N, A] each
    cls = nn.functional.binary_cross_entropy_with_logits(
        logits[labelled], labels[labelled].to(logits.dtype), reduction="sum"
    ) / labelled.sum().clamp(min=1)
    reg = nn.functional.smooth_l1_loss(
        deltas[positive], delta_targets[positive], beta=1.0, reduction="sum"
    ) / positive.sum().clamp(min=1)
    return cls + lambda_reg * reg


def propose(
    anchors,
    scores,
    deltas,
    image_size: float,
    top_n: int,
    iou_threshold: float = 0.7,
    pre_nms_top_n: int | None = None,
    min_size: float = 1.0,
):
    """Region proposals of one image: decode, clip, drop tiny boxes, NMS, keep the top N.

        boxes = clip(decode_deltas(deltas, anchors), 0, image_size)
        keep the pre_nms_top_n best scores, drop boxes narrower or lower than min_size,
        nms(boxes, scores, iou_threshold), then the top_n best

    ``scores [A]`` may be probabilities or logits (only the order counts). Returns float64
    ``boxes [K, 4]`` and ``scores [K]`` by decreasing score, K <= top_n.
    """
    anchors = _positive_boxes(anchors, "anchors")
    scores = as_float_array(to_numpy(scores), "scores").astype(np.float64)
    if scores.shape != (len(anchors),):
        raise ValueError(f"scores must have shape ({len(anchors)},), got {scores.shape}")
    deltas = _as_deltas(deltas, anchors)
    image_size = check_scalar(image_size, "image_size", low=0, strict=True)
    check_scalar(top_n, "top_n", low=1, integer=True)
    min_size = check_scalar(min_size, "min_size", low=0)
    boxes = np.clip(_decode(deltas, anchors), 0, image_size)  # [A, 4]
    order = np.argsort(-scores, kind="stable")  # [A]
    if pre_nms_top_n is not None:
        check_scalar(pre_nms_top_n, "pre_nms_top_n", low=1, integer=True)
        order = order[:pre_nms_top_n]
    sizes = boxes[order, 2:] - boxes[order, :2]  # [len(order), 2]
    order = order[(sizes >= min_size).all(axis=1)]
    keep = order[nms(boxes[order], scores[order], iou_threshold)][:top_n]  # [K]
    return boxes[keep], scores[keep]


def proposal_recall(proposals, gt_boxes, iou_threshold: float = 0.5) -> float:
    """Share of the objects covered by at least one proposal of their image.

        recall = #{objects g : max_p IoU(p, g) >= iou_threshold} / #objects

    ``proposals`` and ``gt_boxes`` are lists of ``[K_i, 4]`` / ``[G_i, 4]``, one per image;
    nan without any object.
    """
    check_same_length(proposals=proposals, gt_boxes=gt_boxes)
    iou_threshold = check_scalar(iou_threshold, "iou_threshold", low=0, high=1)
    found, total = 0, 0
    for boxes, gt in zip(proposals, gt_boxes, strict=True):
        boxes = as_numpy_boxes(boxes, "proposals")
        gt = as_numpy_boxes(gt, "gt_boxes")
        total += len(gt)
        if len(gt) and len(boxes):
            found += int((box_iou_unchecked(gt, boxes).max(axis=1) >= iou_threshold).sum())
    return found / total if total else float("nan")


class TinyRPN(nn.Module):
    """A region proposal network on 64×64 grey scenes: images -> (objectness logits, deltas).

    ``TinyYolo``'s stride-8 backbone, a 3×3 convolution with ReLU (the "sliding window"), and
    two sibling 1×1 convolutions, k = ``num_anchors`` logits and 4k deltas per position:

        [N, 1, H, H] -> logits [N, (H/8)·(H/8)·k], deltas [N, (H/8)·(H/8)·k, 4]

    in ``anchor_grid``'s order. One logit per anchor (a sigmoid) where the paper has an
    equivalent softmax over two. ``width``: channels of the first convolution (then 2, 4 times).
    """

    def __init__(self, num_anchors: int, width: int):
        super().__init__()
        check_scalar(num_anchors, "num_anchors", low=1, integer=True)
        check_scalar(width, "width", low=1, integer=True)
        self.k, w = num_anchors, width
        self.backbone = nn.Sequential(*_stride8_layers(w))  # H -> H / 8
        self.window = nn.Sequential(nn.Conv2d(4 * w, 4 * w, 3, padding=1), nn.ReLU())
        self.objectness = nn.Conv2d(4 * w, num_anchors, 1)
        self.box_deltas = nn.Conv2d(4 * w, 4 * num_anchors, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.window(self.backbone(x))  # [N, 4w, H', W']
        n = len(x)
        logits = self.objectness(h).permute(0, 2, 3, 1).reshape(n, -1)  # [N, H' W' k]
        deltas = self.box_deltas(h).view(n, self.k, 4, *h.shape[2:])  # [N, k, 4, H', W']
        deltas = deltas.permute(0, 3, 4, 1, 2).reshape(n, -1, 4)  # [N, H' W' k, 4]
        return logits, deltas


def _encode(boxes: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    x, y, w, h = box_convert(boxes, "xyxy", "cxcywh").T  # each [N]
    xa, ya, wa, ha = box_convert(anchors, "xyxy", "cxcywh").T  # each [N]
    return np.stack([(x - xa) / wa, (y - ya) / ha, np.log(w / wa), np.log(h / ha)], axis=1)


def _decode(deltas: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    xa, ya, wa, ha = box_convert(anchors, "xyxy", "cxcywh").T  # each [N]
    scale = np.exp(np.minimum(deltas[:, 2:], MAX_LOG_SCALE))  # [N, 2]
    centre = np.stack([xa + deltas[:, 0] * wa, ya + deltas[:, 1] * ha], axis=1)  # [N, 2]
    size = np.stack([wa, ha], axis=1) * scale  # [N, 2]
    return np.concatenate([centre - size / 2, centre + size / 2], axis=1)  # [N, 4]


def _as_deltas(deltas, anchors: np.ndarray) -> np.ndarray:
    deltas = as_float_array(to_numpy(deltas), "deltas").astype(np.float64)
    if deltas.shape != anchors.shape:
        raise ValueError(
            f"deltas must have shape {anchors.shape} (one row per anchor), got {deltas.shape}"
        )
    return deltas


def _positive_boxes(boxes, name: str) -> np.ndarray:  # float64, widths and heights > 0
    boxes = as_numpy_boxes(boxes, name).astype(np.float64)
    flat = (boxes[:, 2:] <= boxes[:, :2]).any(axis=1)
    if flat.any():
        row = int(np.flatnonzero(flat)[0])
        raise ValueError(f"{name} row {row} = {boxes[row].tolist()} has a zero width or height")
    return boxes
