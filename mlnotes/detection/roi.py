"""RoI pooling (Fast R-CNN): the features of any box of an image, cut out of one shared
feature map and max-pooled onto a fixed grid, so fully connected layers can score boxes of any
size after a single convolutional pass over the image.

    pooled = roi_pool(features, boxes, output_size=(4, 4), spatial_scale=0.5)  # [K, C, 4, 4]
"""

from __future__ import annotations

import math

from mlnotes.core import check_float_tensor, check_per_axis, check_scalar


def roi_pool(features, boxes, output_size, spatial_scale: float = 1.0):
    """Max-pool the part of a feature map under each box onto an ``output_size`` grid.

    A box ``(x1, y1, x2, y2)`` in image pixels (pixel-edge coordinates) covers the feature
    cells ``c1 = floor(x1 * s)`` to ``c2 = ceil(x2 * s)`` (exclusive; at least one cell, clipped
    to the map), ``s = spatial_scale``, and the same for the rows. That ``h x w`` region is cut
    into ``oh x ow`` bins, bin ``(i, j)`` spanning the rows ``floor(i h / oh)`` to
    ``ceil((i + 1) h / oh)`` and the columns ``floor(j w / ow)`` to ``ceil((j + 1) w / ow)`` of
    the region; each output is the maximum over its bin. Bins never are empty: a region
    smaller than the grid repeats cells. (torchvision's ``roi_pool`` rounds the corners
    instead and counts ``x2`` as inclusive, so its bins can differ by one cell.)

    Args:
        features (Tensor[N, C, H, W]): the feature maps of N images, floating point.
        boxes (Tensor[K, 4] | Tensor[K, 5]): ``(x1, y1, x2, y2)`` per box when N == 1, or
            ``(n, x1, y1, x2, y2)`` with the image index n first; x2 >= x1, y2 >= y1, finite.
        output_size (int | tuple[int, int]): the grid (oh, ow), each >= 1.
        spatial_scale (float): feature cells per image pixel, > 0 (e.g. 1/16 for a stride-16
            network).

    Returns:
        Tensor[K, C, oh, ow]: the pooled features, differentiable with respect to ``features``.

    Raises:
        TypeError: ``features`` or ``boxes`` not floating torch tensors; ValueError: wrong
            shapes, a box with x2 < x1 or y2 < y1 or not finite, an image index out of range,
            a box wholly outside the map, a non-positive size or scale.

    Oracle: a loop over every box and bin with the floors and ceilings written out, and hand
    cases (tests/test_detection_roi.py); a box of one network window equals that window's
    features (book/07-object-detection/sliding-windows-proposals.ipynb).
    Reference: Girshick, "Fast R-CNN" (ICCV 2015), section 2.1; He et al., "Spatial Pyramid
    Pooling in Deep Convolutional Networks" (ECCV 2014).
    """
    import torch
    import torch.nn.functional as F

    check_float_tensor(features, "features")
    check_float_tensor(boxes, "boxes")
    if features.ndim != 4:
        raise ValueError(f"features must have shape (N, C, H, W), got {tuple(features.shape)}")
    n, _, height, width = features.shape
    if boxes.ndim != 2 or boxes.shape[1] not in (4, 5) or (boxes.shape[1] == 4 and n != 1):
        raise ValueError(
            "boxes must have shape (K, 4) for one image or (K, 5) with the image index first, "
            f"got {tuple(boxes.shape)} for {n} image(s)"
        )
    oh, ow = check_per_axis(output_size, "output_size")
    scale = check_scalar(spatial_scale, "spatial_scale", low=0, strict=True)
    if boxes.shape[1] == 4:
        boxes = torch.cat([boxes.new_zeros(len(boxes), 1), boxes], dim=1)
    if not bool(torch.isfinite(boxes).all()):
        raise ValueError("boxes must be finite")
    index, x1, y1, x2, y2 = boxes.detach().double().cpu().unbind(1)
    if bool(((x2 < x1) | (y2 < y1)).any()):
        raise ValueError("every box needs x2 >= x1 and y2 >= y1")
    if bool(((index < 0) | (index >= n) | (index != index.round())).any()):
        raise ValueError(f"image indices must be integers in [0, {n}), got {index.tolist()}")
    pooled = []
    for k in range(len(boxes)):
        c1, c2 = _cells(float(x1[k]), float(x2[k]), scale, width)
        r1, r2 = _cells(float(y1[k]), float(y2[k]), scale, height)
        region = features[int(index[k]), :, r1:r2, c1:c2]  # [C, h, w]
        # adaptive max pooling uses exactly the bins above: floor(i h / oh) .. ceil((i+1) h / oh)
        pooled.append(F.adaptive_max_pool2d(region, (oh, ow)))
    if not pooled:
        return features.new_zeros(0, features.shape[1], oh, ow)
    return torch.stack(pooled)  # [K, C, oh, ow]


def _cells(start: float, end: float, scale: float, size: int) -> tuple[int, int]:
    """The cells [first, last) a span [start, end) of pixels covers on a map of ``size`` cells."""
    if start * scale >= size or end * scale < 0:
        raise ValueError(f"the box span [{start}, {end}) lies outside the feature map")
    first = max(math.floor(start * scale), 0)
    return first, min(max(math.ceil(end * scale), first + 1), size)
