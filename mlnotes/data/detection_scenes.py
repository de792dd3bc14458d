"""Detection scenes: grey images holding 1 to 5 shapes of several classes, with exact boxes (ch. 7).

Shapes at random sizes and brightness over a cluttered background; objects may overlap but
keep a share of their pixels visible. An object's box is the tight box of its own mask.

After Ng, Deep Learning Specialization, course 4 week 3 (the car-detection scenes), made
synthetic so that every box is exact; tight boxes as in PASCAL VOC (IJCV 2010), section 3.3.
"""

from __future__ import annotations

from numbers import Real

import numpy as np

from mlnotes.core import check_scalar
from mlnotes.data.scenes import _draw

# the classes, in label order; "disc" and "ring" are the similar pair (a ring is a disc with a
# hole), so a detector must look inside the shape to tell them apart
DETECTION_CLASSES = ("disc", "ring", "square", "triangle", "cross")
_TRIES = 50  # placements tried per object before it is given up (the image keeps fewer objects)


def mask_to_box(mask: np.ndarray) -> np.ndarray:
    """The tight float64 box ``(x1, y1, x2, y2)`` of the lit (non-zero) pixels of ``mask [H, W]``.

        x1 = min c,   y1 = min r,   x2 = max c + 1,   y2 = max r + 1

    Pixel ``(r, c)`` covers ``[c, c + 1) x [r, r + 1)``: ``x2 - x1`` is the columns spanned.
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"mask must have shape (H, W), got {mask.shape}")
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        raise ValueError("mask has no lit pixel: an empty object has no box")
    return np.array([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1], dtype=np.float64)


def make_detection_scenes(
    n: int,
    size: int = 64,
    num_classes: int = 4,
    max_objects: int = 5,
    min_objects: int = 1,
    seed: int = 0,
    min_size: float = 8.0,
    max_size: float = 40.0,
    noise: float = 0.05,
    clutter: float = 0.3,
    min_visible: float = 0.5,
    return_masks: bool = False,
):
    """``n`` grey scenes ``x [n, 1, size, size]`` in [0, 1], and per image boxes and labels.

        x = clip(background + objects + noise * N(0, 1), 0, 1)

    Per image, k uniform in [min_objects, max_objects] objects: class uniform in
    ``DETECTION_CLASSES[:num_classes]``, diameter uniform in [min_size, max_size] pixels, fully
    inside, brightness in [0.5, 1], painted over what is below. A placement leaving an earlier
    object less than ``min_visible`` of its pixels is redrawn (50 times, then the object is
    given up: k can be smaller). The background is a bilinear shading of a random 5 x 5 grid
    and ``2 max(max_objects, 1)`` specks, all in [0, clutter].

    Returns ``x``, lists of ``boxes [k, 4]`` (``mask_to_box`` of each object's mask) and int64
    ``labels [k]``, and with ``return_masks`` each object's own (unoccluded) ``masks [k, size,
    size]``. The same arguments give the same scenes.
    """
    check_scalar(n, "n", low=0, integer=True)
    check_scalar(num_classes, "num_classes", low=1, high=len(DETECTION_CLASSES), integer=True)
    check_scalar(min_objects, "min_objects", low=0, integer=True)
    check_scalar(max_objects, "max_objects", low=min_objects, integer=True)
    check_scalar(min_size, "min_size", low=4)
    check_scalar(max_size, "max_size", low=min_size)
    check_scalar(size, "size", low=max_size, strict=True, integer=True)
    check_scalar(noise, "noise", low=0)
    if not (isinstance(clutter, Real) and 0 <= clutter < 0.5):
        raise ValueError(f"clutter must be a number in [0, 0.5), got {clutter!r}")
    check_scalar(min_visible, "min_visible", low=0, high=1)

    rng = np.random.default_rng(seed)
    images = np.empty((n, 1, size, size), dtype=np.float32)
    all_boxes, all_labels, all_masks = [], [], []
    for i in range(n):
        image = _background(rng, size, clutter, specks=2 * max(max_objects, 1))  # [size, size]
        masks, visible, labels = [], [], []
        for _ in range(rng.integers(min_objects, max_objects + 1)):
            label = int(rng.integers(num_classes))
            brightness = rng.uniform(0.5, 1.0)
            for _ in range(_TRIES):
                mask = _random_shape(rng, DETECTION_CLASSES[label], size, min_size, max_size)
                # the pixels the new object would leave visible of each earlier object
                left = [v & ~mask for v in visible]
                if all(
                    lv.sum() >= min_visible * m.sum() for lv, m in zip(left, masks, strict=True)
                ):
                    visible = [*left, mask]
                    masks.append(mask)
                    labels.append(label)
                    image[mask] = brightness
                    break
        images[i, 0] = image
        masks = np.array(masks, dtype=bool).reshape(-1, size, size)  # [k, size, size]
        all_boxes.append(np.array([mask_to_box(m) for m in masks]).reshape(-1, 4))  # [k, 4]
        all_labels.append(np.array(labels, dtype=np.int64))
        all_masks.append(masks)
    images += np.float32(noise) * rng.standard_normal(images.shape, dtype=np.float32)
    np.clip(images, 0, 1, out=images)
    if return_masks:
        return images, all_boxes, all_labels, all_masks
    return images, all_boxes, all_labels


def _random_shape(rng, kind: str, size: int, min_size: float, max_size: float) -> np.ndarray:
    while True:
        diameter = rng.uniform(min_size, max_size)
        half = diameter / 2
        row, col = rng.uniform(half, size - 1 - half, 2)  # the shape fits in the image
        mask = _draw(kind, row, col, diameter, 1.0, size) > 0
        if mask.any():  # a thin shape can miss every pixel centre; min_size >= 4 never does
            return mask


def _background(rng, size: int, clutter: float, specks: int) -> np.ndarray:
    grid = 5
    coarse = rng.uniform(0, clutter, (grid, grid))  # [5, 5]
    t = np.linspace(0, grid - 1, size)  # [size], positions on the coarse grid
    i0 = np.minimum(t.astype(int), grid - 2)  # [size], the coarse cell left of each position
    f = t - i0  # [size], weight of the cell on the right
    rows = coarse[i0] * (1 - f)[:, None] + coarse[i0 + 1] * f[:, None]  # [size, 5]
    image = rows[:, i0] * (1 - f) + rows[:, i0 + 1] * f  # [size, size]
    for _ in range(specks):
        r, c = rng.integers(0, size - 1, 2)
        h, w = rng.integers(1, 3, 2)
        image[r : r + h, c : c + w] = rng.uniform(0, clutter)
    return image.astype(np.float32)
