"""RoI pooling (Fast R-CNN): any box's features, cut out of one shared feature map and max-pooled
onto a fixed grid, so fully connected layers score boxes of any size after one pass.

    pooled = roi_pool(features, boxes, output_size=(4, 4), spatial_scale=0.5)  # [K, C, 4, 4]

References: Girshick, "Fast R-CNN" (ICCV 2015), section 2.1; He et al., "Spatial Pyramid
Pooling in Deep Convolutional Networks" (ECCV 2014).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from mlnotes.core import check_float_tensor, check_per_axis, check_scalar


def roi_pool(features, boxes, output_size, spatial_scale: float = 1.0):
    """Max-pool the part of a feature map under each box onto an ``output_size`` grid.

    A box ``(x1, y1, x2, y2)`` in image pixels covers the feature cells ``floor(x1 s)`` to
    ``ceil(x2 s)`` (exclusive; at least one cell, clipped to the map), ``s = spatial_scale``,
    and the same for the rows. That ``h x w`` region is cut into ``oh x ow`` bins, bin
    ``(i, j)`` spanning the rows ``floor(i h / oh)`` to ``ceil((i + 1) h / oh)`` and the columns
    ``floor(j w / ow)`` to ``ceil((j + 1) w / ow)``; each output is the maximum of its bin, and
    a region smaller than the grid repeats cells. (torchvision's ``roi_pool`` rounds the corners
    and counts ``x2`` as inclusive, so its bins can differ by one cell.)

    ``features [N, C, H, W]``, ``boxes [K, 4]`` when N = 1, else ``[K, 5]`` rows ``(n, x1, y1,
    x2, y2)``; ``s`` is cells per pixel (1/16 at stride 16). Returns ``[K, C, oh, ow]``.
    """
    check_float_tensor(features, "features")
    check_float_tensor(boxes, "boxes")
    if features.ndim != 4:
        raise ValueError(f"features must have shape (N, C, H, W), got {tuple(features.shape)}")
    n, channels, height, width = features.shape
    if boxes.ndim != 2 or boxes.shape[1] not in (4, 5) or (boxes.shape[1] == 4 and n != 1):
        raise ValueError(
            "boxes must have shape (K, 4) for one image or (K, 5) with the image index first, "
            f"got {tuple(boxes.shape)} for {n} image(s)"
        )
    oh, ow = check_per_axis(output_size, "output_size")
    scale = check_scalar(spatial_scale, "spatial_scale", low=0, strict=True)
    rows = boxes.detach().double().cpu().tolist()  # the loop reads every box: one copy to host
    pooled = []
    for k, row in enumerate(rows):
        index, x1, y1, x2, y2 = row if len(row) == 5 else (0, *row)
        if not all(map(math.isfinite, row)) or x2 < x1 or y2 < y1:
            raise ValueError(f"boxes[{k}] = {row} must be finite, with x2 >= x1 and y2 >= y1")
        if index not in range(n):
            raise ValueError(f"boxes[{k}] = {row}: the image index must be an integer in [0, {n})")
        c1, c2 = _cells(x1, x2, scale, width)
        r1, r2 = _cells(y1, y2, scale, height)
        # adaptive max pooling uses exactly the bins above: floor(i h / oh) .. ceil((i+1) h / oh)
        pooled.append(F.adaptive_max_pool2d(features[int(index), :, r1:r2, c1:c2], (oh, ow)))
    if not pooled:
        return features.new_zeros(0, channels, oh, ow)
    return torch.stack(pooled)  # [K, C, oh, ow]


def _cells(start: float, end: float, scale: float, size: int) -> tuple[int, int]:
    # the cells [first, last) that the pixels [start, end) cover on a map of ``size`` cells
    if start * scale >= size or end * scale < 0:
        raise ValueError(f"the box span [{start}, {end}) lies outside the feature map")
    first = max(math.floor(start * scale), 0)
    return first, min(max(math.ceil(end * scale), first + 1), size)
