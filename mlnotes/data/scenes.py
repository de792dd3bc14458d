"""Multi-label scenes (ch. 4): grey images holding any subset of five kinds of object.

Each present kind is drawn once, in its own cell of a 3 x 3 grid, so objects never overlap and
each label says exactly what can be seen. After Ng, Deep Learning Specialization, course 3 week 2
(multi-task learning), made synthetic so that every label can be checked against the drawing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from mlnotes.core import check_choice, check_scalar

KINDS = ("disc", "square", "triangle", "cross", "ring")
GRID = 3  # the image is GRID x GRID cells, one object at most per cell


class Shape(NamedTuple):
    """One object drawn in a scene: its kind, centre (row, col) in pixels, diameter, brightness."""

    kind: str
    row: float
    col: float
    diameter: float
    intensity: float


def draw_shape(
    kind: str, row: float, col: float, diameter: float, intensity: float = 1.0, size: int = 24
):
    """One filled (``"ring"``: outlined) shape on a black ``[size, size]`` float32 canvas.

    Pixel ``(r, c)`` (pixel centres, from the top-left one) takes ``intensity`` in (0, 1] when it
    lies in the shape. With ``h = diameter / 2`` and ``(dr, dc) = (r - row, c - col)``:

        disc      dr^2 + dc^2 <= h^2
        square    |dr| <= h and |dc| <= h
        triangle  -h <= dr <= h and |dc| <= (dr + h) / 2      (apex up)
        cross     (|dr| <= h/4 and |dc| <= h) or (|dc| <= h/4 and |dr| <= h)
        ring      (0.55 h)^2 <= dr^2 + dc^2 <= h^2
    """
    check_choice(kind, "kind", KINDS)
    check_scalar(size, "size", low=1, integer=True)
    check_scalar(diameter, "diameter", low=0, strict=True)
    check_scalar(intensity, "intensity", low=0, strict=True, high=1)
    return _draw(kind, row, col, diameter, intensity, size)


def _draw(kind: str, row: float, col: float, diameter: float, intensity: float, size: int):
    r, c = np.mgrid[0:size, 0:size].astype(np.float64)
    dr, dc, h = r - row, c - col, diameter / 2
    d2 = dr**2 + dc**2
    if kind == "disc":
        inside = d2 <= h**2
    elif kind == "square":
        inside = (np.abs(dr) <= h) & (np.abs(dc) <= h)
    elif kind == "triangle":
        inside = (dr >= -h) & (dr <= h) & (np.abs(dc) <= (dr + h) / 2)
    elif kind == "cross":
        arm = h / 4
        adr, adc = np.abs(dr), np.abs(dc)
        inside = ((adr <= arm) & (adc <= h)) | ((adc <= arm) & (adr <= h))
    else:  # ring
        inside = (d2 <= h**2) & (d2 >= (0.55 * h) ** 2)
    return np.where(inside, np.float32(intensity), np.float32(0))


def make_scenes(
    n: int,
    size: int = 24,
    kinds: Sequence[str] = KINDS,
    p_present: float | Sequence[float] = 0.5,
    noise: float = 0.1,
    seed: int = 0,
    return_shapes: bool = False,
):
    """``n`` scenes ``x [n, 1, size, size]`` (float32) and their labels ``y [n, K]`` (int64).

        P(y[i, j] = 1) = p_present (or p_present[j]),   x = clip(image + noise N(0, 1), 0, 1)

    Kind ``kinds[j]``, when present, goes to its own random cell of the grid, with a diameter
    uniform in [0.6, 0.95] x the cell side, a centre where it fits in the cell and a brightness
    uniform in [0.5, 1]. ``size >= 9`` (cells of 3 pixels). With ``return_shapes``, also the
    ``Shape`` list of each image; ``draw_shape(*shape, size=size)`` redraws one.
    """
    check_scalar(n, "n", low=0, integer=True)
    check_scalar(size, "size", low=3 * GRID, integer=True)
    kinds = tuple(kinds)
    unknown = [k for k in kinds if k not in KINDS]
    if not kinds or unknown or len(set(kinds)) != len(kinds):
        raise ValueError(f"kinds must be distinct names among {KINDS}, got {kinds}")
    p = np.asarray(p_present, dtype=np.float64)
    if p.shape not in ((), (len(kinds),)):
        raise ValueError(f"p_present must be a number or one entry per kind, got shape {p.shape}")
    p = np.broadcast_to(p, (len(kinds),))
    if not np.all((p >= 0) & (p <= 1)):
        raise ValueError(f"p_present must lie in [0, 1], got {p.tolist()}")
    check_scalar(noise, "noise", low=0)

    rng = np.random.default_rng(seed)
    cell = size // GRID
    labels = (rng.random((n, len(kinds))) < p).astype(np.int64)  # [n, K]
    images = np.zeros((n, 1, size, size), dtype=np.float32)
    shapes: list[list[Shape]] = []
    for i in range(n):
        present = np.flatnonzero(labels[i])
        cells = rng.permutation(GRID * GRID)[: len(present)]  # one cell per object
        drawn = []
        for j, where in zip(present, cells, strict=True):
            diameter = cell * rng.uniform(0.6, 0.95)
            top, left = (where // GRID) * cell, (where % GRID) * cell
            # keep the bounding box [centre - d/2, centre + d/2] inside the cell's pixels
            slack = cell - 1 - diameter
            row = top + diameter / 2 + rng.uniform(0, max(slack, 0))
            col = left + diameter / 2 + rng.uniform(0, max(slack, 0))
            brightness = rng.uniform(0.5, 1.0)
            shape = Shape(kinds[j], float(row), float(col), float(diameter), float(brightness))
            images[i, 0] += _draw(*shape, size=size)
            drawn.append(shape)
        shapes.append(drawn)
    images += np.float32(noise) * rng.standard_normal(images.shape, dtype=np.float32)
    np.clip(images, 0, 1, out=images)
    return (images, labels, shapes) if return_shapes else (images, labels)
