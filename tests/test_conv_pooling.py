"""mlnotes.conv max and average pooling against PyTorch (float64, forward and autograd),
finite differences and hand-computed cases."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mlnotes.conv import (
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)
from mlnotes.core import numerical_gradient, rel_error

POOLS = {
    "max": (max_pool2d_forward, max_pool2d_backward, F.max_pool2d),
    "avg": (avg_pool2d_forward, avg_pool2d_backward, F.avg_pool2d),
}


def assert_matches_torch(kind, x, size, stride, rng):
    forward, backward, oracle = POOLS[kind]
    out, cache = forward(x, size, stride)
    xt = torch.tensor(x, requires_grad=True)
    out_t = oracle(xt, size, stride)
    dout = rng.normal(size=tuple(out_t.shape))
    out_t.backward(torch.tensor(dout))
    assert out.shape == tuple(out_t.shape)
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(backward(dout, cache), xt.grad.numpy(), rtol=1e-12, atol=1e-14)


# --- hand-computed cases -----------------------------------------------------------------------

HAND = np.array(
    [
        [1.0, 3.0, 2.0, 1.0],
        [2.0, 9.0, 1.0, 1.0],
        [1.0, 3.0, 2.0, 3.0],
        [5.0, 6.0, 1.0, 2.0],
    ]
).reshape(1, 1, 4, 4)


def test_max_pool_by_hand():
    # 2x2 windows, stride 2: max(1, 3, 2, 9) = 9, max(2, 1, 1, 1) = 2,
    #                        max(1, 3, 5, 6) = 6, max(2, 3, 1, 2) = 3
    out, cache = max_pool2d_forward(HAND, 2)
    np.testing.assert_array_equal(out[0, 0], [[9.0, 2.0], [6.0, 3.0]])
    # each window's gradient goes to its maximum: 9 at (1, 1), 2 at (0, 2), 6 at (3, 1), 3 at (2, 3)
    dx = max_pool2d_backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), cache)
    expected = np.zeros((4, 4))
    expected[1, 1], expected[0, 2], expected[3, 1], expected[2, 3] = 1.0, 2.0, 3.0, 4.0
    np.testing.assert_array_equal(dx[0, 0], expected)


def test_avg_pool_by_hand():
    # (1+3+2+9)/4 = 3.75, (2+1+1+1)/4 = 1.25, (1+3+5+6)/4 = 3.75, (2+3+1+2)/4 = 2
    out, cache = avg_pool2d_forward(HAND, 2)
    np.testing.assert_allclose(out[0, 0], [[3.75, 1.25], [3.75, 2.0]])
    # each input gets dout / 4 of its window: the top-left 2x2 block gets 1/4, and so on
    dx = avg_pool2d_backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), cache)
    np.testing.assert_allclose(dx[0, 0], np.kron([[1.0, 2.0], [3.0, 4.0]], np.ones((2, 2))) / 4)


def test_overlapping_windows_add_their_gradients():
    # a 3x3 image whose centre (9) is the maximum of all four 2x2 windows (stride 1):
    # the centre receives 1 + 2 + 3 + 4 = 10 (max); with averaging every window gives each of
    # its 4 inputs a quarter, so the centre, in all 4 windows, gets (1 + 2 + 3 + 4) / 4 = 2.5
    x = np.array([[1.0, 2.0, 3.0], [4.0, 9.0, 5.0], [6.0, 7.0, 8.0]]).reshape(1, 1, 3, 3)
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    out, cache = max_pool2d_forward(x, 2, stride=1)
    np.testing.assert_array_equal(out[0, 0], [[9.0, 9.0], [9.0, 9.0]])
    dx = max_pool2d_backward(dout, cache)
    assert dx[0, 0, 1, 1] == 10.0 and np.count_nonzero(dx) == 1
    dx = avg_pool2d_backward(dout, avg_pool2d_forward(x, 2, stride=1)[1])
    assert dx[0, 0, 1, 1] == pytest.approx(2.5)
    assert dx[0, 0, 0, 0] == pytest.approx(0.25)  # only in the top-left window


def test_max_pool_ties_send_the_gradient_to_the_first_maximum():
    # a flat window: all four entries are the maximum; argmax picks the first, row-major
    out, cache = max_pool2d_forward(np.full((1, 1, 2, 2), 7.0), 2)
    assert out.item() == 7.0
    dx = max_pool2d_backward(np.ones((1, 1, 1, 1)), cache)
    np.testing.assert_array_equal(dx[0, 0], [[1.0, 0.0], [0.0, 0.0]])


# --- against PyTorch ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize(("size", "stride"), [(2, None), (2, 1), (3, 2), (2, 3), (1, 1), (3, None)])
def test_pooling_matches_torch(kind, size, stride):
    # continuous random inputs: no ties; stride < size overlaps, stride > size skips
    rng = np.random.default_rng(size * 10 + (stride or 0))
    assert_matches_torch(kind, rng.normal(size=(2, 3, 7, 10)), size, stride, rng)


@settings(max_examples=30, deadline=None)
@given(
    kind=st.sampled_from(["max", "avg"]),
    H=st.integers(1, 9),
    W=st.integers(1, 9),
    size=st.integers(1, 4),
    stride=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_pooling_matches_torch_on_random_shapes(kind, H, W, size, stride, seed):
    assume(size <= min(H, W))
    rng = np.random.default_rng(seed)
    assert_matches_torch(kind, rng.normal(size=(2, 2, H, W)), size, stride, rng)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize(("size", "stride"), [(2, None), (3, 1)])
def test_pooling_gradient_matches_finite_differences(kind, size, stride):
    # max pooling is linear near a point without ties (the arg-max does not move for a step of
    # 1e-6 between continuous random values), average pooling is linear: rounding error only
    forward, backward, _ = POOLS[kind]
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 2, 6, 5))
    out, cache = forward(x, size, stride)
    dout = rng.normal(size=out.shape)
    num = numerical_gradient(lambda v: forward(v, size, stride)[0], x.copy(), df=dout)
    assert rel_error(backward(dout, cache), num) < 1e-7


def test_pooling_keeps_float32():
    x = np.random.default_rng(0).normal(size=(1, 2, 4, 4)).astype(np.float32)
    for forward, backward, _ in POOLS.values():
        out, cache = forward(x, 2)
        assert out.dtype == np.float32
        assert backward(np.ones_like(out), cache).dtype == np.float32


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "size", "stride", "message"),
    [
        (np.zeros((1, 1, 3, 5)), 4, None, r"a 4x4 window does not fit x of shape \(1, 1, 3, 5\)"),
        (np.zeros((1, 3, 5)), 2, None, r"x must be 4-D \(N, C, H, W\), got shape \(1, 3, 5\)"),
        (np.zeros((1, 1, 4, 4)), 0, None, "size must be an integer >= 1, got 0"),
        (np.zeros((1, 1, 4, 4)), 2, 0, "stride must be an integer >= 1, got 0"),
        (np.zeros((1, 1, 4, 4)), 2.0, None, "size must be an integer"),
        (np.full((1, 1, 4, 4), np.nan), 2, None, "x contains NaN"),
    ],
)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_bad_input(kind, x, size, stride, message):
    with pytest.raises(ValueError, match=message):
        POOLS[kind][0](x, size, stride)


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_backward_bad_input(kind):
    forward, backward, _ = POOLS[kind]
    out, cache = forward(np.zeros((2, 3, 4, 4)), 2)
    with pytest.raises(ValueError, match=r"dout must have the shape .* \(2, 3, 2, 2\), got"):
        backward(np.zeros((2, 3, 2)), cache)
    with pytest.raises(TypeError, match=f"cache must be the tuple returned by {kind}_pool2d"):
        backward(out, None)
