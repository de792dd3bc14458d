"""mlnotes.data.signals: the generated labels are facts about what was drawn."""

import numpy as np
import pytest

from mlnotes.data.signals import (
    DIRECTIONS,
    WAVEFORMS,
    make_moving_squares,
    make_waveforms,
    waveform,
)


def test_waveforms_by_hand():
    t = np.array([0.0, 0.25, 0.5, 0.75])
    np.testing.assert_allclose(waveform("sine", t), [0, 1, 0, -1], atol=1e-12)
    np.testing.assert_allclose(waveform("square", t), [1, 1, -1, -1])
    np.testing.assert_allclose(waveform("triangle", t), [-1, 0, 1, 0])
    np.testing.assert_allclose(waveform("sawtooth", t), [-1, -0.5, 0, 0.5])
    np.testing.assert_allclose(waveform("sine", t + 3), waveform("sine", t), atol=1e-12)
    with pytest.raises(ValueError, match="kind must be one of"):
        waveform("chirp", t)


def test_noiseless_waveform_signals_show_their_class():
    X, y = make_waveforms(200, length=256, noise=0.0, seed=1)
    assert X.shape == (200, 1, 256) and X.dtype == np.float32 and y.dtype == np.int64
    assert set(np.unique(y)) == set(range(len(WAVEFORMS)))
    for signal, label in zip(X[:, 0], y, strict=True):
        values = np.abs(signal) / np.abs(signal).max()
        # a square wave only takes two values; the others sweep through the range
        is_square = np.allclose(values, 1.0, atol=1e-6)
        assert is_square == (WAVEFORMS[label] == "square")


def test_waveforms_are_seeded():
    a, ya = make_waveforms(10, seed=3)
    b, yb = make_waveforms(10, seed=3)
    c, _ = make_waveforms(10, seed=4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(a, c)


def centroids(video):
    """Centre of mass (row, col) of every frame of a noiseless video."""
    rows, cols = np.indices(video.shape[1:])
    mass = video.sum(axis=(1, 2))
    return (
        np.stack([(video * rows).sum(axis=(1, 2)), (video * cols).sum(axis=(1, 2))], 1)
        / mass[:, None]
    )


def test_moving_squares_move_one_pixel_per_frame_in_the_labelled_direction():
    X, y = make_moving_squares(100, frames=6, size=14, square=3, noise=0.0, seed=2)
    assert X.shape == (100, 1, 6, 14, 14)
    expected = {"left": (0, -1), "right": (0, 1), "up": (-1, 0), "down": (1, 0)}
    for video, label in zip(X[:, 0], y, strict=True):
        steps = np.diff(centroids(video), axis=0)  # [frames - 1, 2]
        np.testing.assert_allclose(steps, np.tile(expected[DIRECTIONS[label]], (5, 1)))
        assert np.all(video.sum(axis=(1, 2)) == 9)  # the whole 3x3 square stays in the frame


def test_bad_arguments():
    with pytest.raises(ValueError, match="length"):
        make_waveforms(3, length=4)
    with pytest.raises(ValueError, match="noise"):
        make_waveforms(3, noise=-1)
    with pytest.raises(ValueError, match="size"):
        make_moving_squares(3, frames=8, size=10, square=4)
    with pytest.raises(ValueError, match="frames"):
        make_moving_squares(3, frames=1)
