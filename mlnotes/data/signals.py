"""Generated 1-D signals and 3-D volumes (short videos) for chapter 10: every label is a fact
about how the example was drawn."""

from __future__ import annotations

import numpy as np

from mlnotes.core import check_scalar

WAVEFORMS = ("sine", "square", "triangle", "sawtooth")
DIRECTIONS = ("left", "right", "up", "down")


def waveform(kind: str, t: np.ndarray) -> np.ndarray:
    """The period-1 waveform ``kind`` at times ``t [L]`` (in periods), values in [-1, 1]."""
    phase = np.mod(t, 1.0)  # position within the period, in [0, 1)
    if kind == "sine":
        return np.sin(2 * np.pi * phase)
    if kind == "square":
        return np.where(phase < 0.5, 1.0, -1.0)
    if kind == "triangle":
        return 1.0 - 4.0 * np.abs(phase - 0.5)
    if kind == "sawtooth":
        return 2.0 * phase - 1.0
    raise ValueError(f"kind must be one of {WAVEFORMS}, got {kind!r}")


def make_waveforms(
    n: int, length: int = 128, noise: float = 0.3, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Noisy sensor-like signals of four waveform families, the class being the family.

    Each signal is ``a * waveform(kind, f * t + phase) + noise * N(0, 1)`` with a random
    frequency ``f`` of 2 to 6 periods per signal, phase, and amplitude ``a`` in [0.5, 1.5]: the
    class shows in the local shape of the signal (corners, ramps, jumps), not in its scale.
    Returns ``X [n, 1, length]`` float32 and ``y [n]`` int64 indices into ``WAVEFORMS``.
    """
    n = check_scalar(n, "n", low=0, integer=True)
    length = check_scalar(length, "length", low=16, integer=True)
    noise = check_scalar(noise, "noise", low=0)
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(WAVEFORMS), size=n)
    t = np.linspace(0.0, 1.0, length, endpoint=False)  # [length]
    X = np.empty((n, 1, length), dtype=np.float32)
    for i, label in enumerate(y):
        frequency, phase, amplitude = rng.uniform(2, 6), rng.uniform(0, 1), rng.uniform(0.5, 1.5)
        clean = amplitude * waveform(WAVEFORMS[label], frequency * t + phase)
        X[i, 0] = clean + noise * rng.standard_normal(length)
    return X, y.astype(np.int64)


def make_moving_squares(
    n: int, frames: int = 8, size: int = 16, square: int = 4, noise: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Short videos of a bright square moving one pixel per frame; the class is the direction.

    Every single frame is a square somewhere on a noisy background, so no frame on its own
    tells the direction: only the change between frames does. That is what a 3-D convolution
    over (time, height, width) can see and a 2-D convolution of one frame cannot.
    Returns ``X [n, 1, frames, size, size]`` float32 and ``y [n]`` int64 indices into
    ``DIRECTIONS``.
    """
    n = check_scalar(n, "n", low=0, integer=True)
    frames = check_scalar(frames, "frames", low=2, integer=True)
    square = check_scalar(square, "square", low=1, integer=True)
    size = check_scalar(size, "size", low=square + frames, integer=True)
    noise = check_scalar(noise, "noise", low=0)
    rng = np.random.default_rng(seed)
    steps = {"left": (0, -1), "right": (0, 1), "up": (-1, 0), "down": (1, 0)}  # (row, col)
    y = rng.integers(0, len(DIRECTIONS), size=n)
    X = noise * rng.standard_normal((n, 1, frames, size, size)).astype(np.float32)
    travel = frames - 1
    for i, label in enumerate(y):
        d_row, d_col = steps[DIRECTIONS[label]]
        # start where the whole path stays inside the frame
        row = rng.integers(max(0, -d_row * travel), size - square - max(0, d_row * travel) + 1)
        col = rng.integers(max(0, -d_col * travel), size - square - max(0, d_col * travel) + 1)
        for k in range(frames):
            r, c = row + d_row * k, col + d_col * k
            X[i, 0, k, r : r + square, c : c + square] += 1.0
    return X, y.astype(np.int64)
