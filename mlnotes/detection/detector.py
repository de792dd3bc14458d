"""The small YOLO detector of chapter 7's notebooks: its anchors, its network, its detections.

Anchors cluster the training boxes' shapes under the IoU distance; a fully convolutional network
outputs ``yolo_encode``'s volume. References: Redmon & Farhadi, "YOLO9000" (CVPR 2017), section 2
("Dimension Clusters", with medians for means; direct location prediction); Ng, Deep Learning
Specialization, course 4 week 3 (scores p_c · c_j, filter then NMS).
"""

import numpy as np
import torch
from torch import nn

from mlnotes.core import check_scalar
from mlnotes.detection.boxes import batched_nms
from mlnotes.detection.yolo import _assign, _check_anchors, filter_boxes, yolo_decode


def anchor_shapes(sides, num_anchors: int, iterations: int = 20) -> np.ndarray:
    """B = ``num_anchors`` shapes ``(w, h)`` fitting ``sides [K, 2]``: k-medians under the IoU.

    Start from the quantiles ``(a + ½) / B`` of the widths and heights; then, ``iterations``
    times, give each shape its best anchor (``assign_anchors``) and move each anchor to the
    median of its shapes. Returns float64 ``[B, 2]``; B <= K.
    """
    sides = np.asarray(sides, dtype=np.float64)
    check_scalar(num_anchors, "num_anchors", low=1, integer=True)
    check_scalar(iterations, "iterations", low=0, integer=True)
    usable = sides.ndim == 2 and sides.shape[1] == 2 and len(sides) >= num_anchors
    if not (usable and np.isfinite(sides).all() and (sides > 0).all()):
        raise ValueError(
            f"sides must be [K >= {num_anchors}, 2] positive finite (w, h), got {sides.shape}"
        )
    shapes = np.concatenate([np.zeros_like(sides), sides], axis=1)  # [K, 4] (0, 0, w, h)
    anchors = np.quantile(sides, (np.arange(num_anchors) + 0.5) / num_anchors, axis=0)  # [B, 2]
    for _ in range(iterations):
        assigned = _assign(shapes, anchors)  # [K]
        anchors = np.stack(
            [
                np.median(sides[assigned == a], axis=0) if np.any(assigned == a) else anchors[a]
                for a in range(num_anchors)
            ]
        )
    return anchors


def _conv_block(c_in: int, c_out: int) -> nn.Sequential:  # 3×3 conv (same), batch norm, ReLU
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()
    )


def _stride8_layers(width: int) -> list[nn.Module]:  # side / 8, 4 * width channels
    return [
        nn.Conv2d(1, width, 3, stride=2, padding=1),  # H -> H / 2
        nn.ReLU(),
        _conv_block(width, 2 * width),
        nn.MaxPool2d(2),  # -> H / 4
        _conv_block(2 * width, 4 * width),
        nn.MaxPool2d(2),  # -> H / 8
    ]


class TinyYolo(nn.Module):
    """A YOLO-style detector: images [N, 1, H, H] -> volumes [N, S, S, B, 5 + C], H = 8 S.

    Five convolutions and two poolings divide the side by 8; a 1×1 convolution gives each cell
    B (5 + C) numbers, turned into ``yolo_encode``'s volume:

        p_c = σ(t_0),  (b_x, b_y) = σ(t_1, t_2),  (b_w, b_h) = anchor · exp(t_3, t_4),
        (c_1 … c_C) = softmax(t_5 … t_{4+C}),

    with sizes in cells (``anchors [B, 2]`` in pixels); ``exp`` is clamped at e⁴ so that an early
    step cannot overflow. ``width``: channels of the first convolution (then 2 and 4 times).
    """

    def __init__(self, anchors, num_classes: int, grid_size: int, image_size: int, width: int):
        super().__init__()
        anchors = _check_anchors(anchors)
        check_scalar(num_classes, "num_classes", low=1, integer=True)
        check_scalar(grid_size, "grid_size", low=1, integer=True)
        check_scalar(width, "width", low=1, integer=True)
        if image_size != 8 * grid_size:
            raise ValueError(
                f"image_size must be 8 * grid_size = {8 * grid_size}, got {image_size!r}"
            )
        self.B, self.C, self.S, w = len(anchors), num_classes, grid_size, width
        self.body = nn.Sequential(
            *_stride8_layers(w),  # H -> H / 8 = S
            _conv_block(4 * w, 4 * w),
            _conv_block(4 * w, 4 * w),
            nn.Conv2d(4 * w, self.B * (5 + num_classes), 1),  # one prediction per cell
        )
        cell = image_size / grid_size
        self.register_buffer("anchor_cells", torch.tensor(anchors / cell, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = self.body(x).view(len(x), self.B, 5 + self.C, self.S, self.S)  # [N, B, 5 + C, S, S]
        t = t.permute(0, 3, 4, 1, 2)  # [N, S, S, B, 5 + C], as yolo_encode's volumes
        return torch.cat(
            [
                torch.sigmoid(t[..., :3]),  # p_c, b_x, b_y
                self.anchor_cells * torch.exp(t[..., 3:5].clamp(max=4)),  # b_w, b_h
                torch.softmax(t[..., 5:], dim=-1),  # c_1 … c_C
            ],
            dim=-1,
        )


def candidate_boxes(volume, anchors, image_size: int):
    """Every slot's box ``[S·S·B, 4]`` (pixels) and class scores ``p_c · c_j`` ``[S·S·B, C]``.

    ``volume [S, S, B, 5 + C]`` is one image's prediction, ``anchors [B, 2]`` in pixels.
    """
    every = np.array(volume, copy=True)
    every[..., 0], every[..., 5:] = 1, 1  # score 1 for every slot: decode them all
    boxes, _, _ = yolo_decode(every, anchors, image_size)  # [SSB, 4]
    scores = (volume[..., :1] * volume[..., 5:]).reshape(len(boxes), -1)  # [SSB, C]
    return boxes, scores


def detect(volume, anchors, image_size: int, threshold: float, iou_threshold: float = 0.5):
    """YOLO's boxes, scores, labels in one image: the score filter, then NMS per class."""
    boxes, scores, labels = filter_boxes(
        *candidate_boxes(volume, anchors, image_size), threshold=threshold
    )
    keep = batched_nms(boxes, scores, labels, iou_threshold)
    return boxes[keep], scores[keep], labels[keep]
