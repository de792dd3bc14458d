"""mlnotes.conv convolution layers (1D, 2D, 3D) against PyTorch (float64, forward and autograd),
the naive loop, finite differences and hand-computed cases; output sizes, pooling and the
counting helpers are in tests/test_conv_shapes.py and tests/test_conv_pooling.py."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mlnotes.conv import (
    conv1d_backward,
    conv1d_forward,
    conv2d_backward,
    conv2d_forward,
    conv2d_naive,
    conv3d_backward,
    conv3d_forward,
    conv_output_size,
    convnd_backward,
    convnd_forward,
)
from mlnotes.core import numerical_gradient, rel_error

LAYERS = {
    1: (conv1d_forward, conv1d_backward, F.conv1d),
    2: (conv2d_forward, conv2d_backward, F.conv2d),
    3: (conv3d_forward, conv3d_backward, F.conv3d),
}


def problem(spatial, kernel, N=2, C=3, F_=4, seed=0):
    """Random x (N, C, *spatial), w (F, C, *kernel), b (F,) in float64."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, C, *spatial))
    w = rng.normal(size=(F_, C, *kernel))
    b = rng.normal(size=F_)
    return x, w, b, rng


def torch_conv(x, w, b, stride, padding, dout_rng):
    """PyTorch's output and its gradients for a random upstream gradient dout."""
    conv = {3: F.conv1d, 4: F.conv2d, 5: F.conv3d}[x.ndim]
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = conv(xt, wt, bt, stride=stride, padding=padding)
    dout = dout_rng.normal(size=tuple(out.shape))
    out.backward(torch.tensor(dout))
    return out.detach().numpy(), dout, xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


def assert_matches_torch(forward, backward, x, w, b, stride, padding, rng):
    out, cache = forward(x, w, b, stride=stride, padding=padding)
    t_out, dout, t_dx, t_dw, t_db = torch_conv(x, w, b, stride, padding, rng)
    dx, dw, db = backward(dout, cache)
    # float64 sums of a few dozen products: agreement to ~1e-15 relative, 1e-12 leaves room
    for ours, theirs in ((out, t_out), (dx, t_dx), (dw, t_dw), (db, t_db)):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


# --- hand-computed cases -----------------------------------------------------------------------


def test_a_3x3_filter_on_a_6x6_image_gives_4x4():
    # 6 - 3 + 1 = 4 positions along each axis; a filter of ones sums each 3x3 window
    x = np.arange(36.0).reshape(1, 1, 6, 6)
    out, _ = conv2d_forward(x, np.ones((1, 1, 3, 3)), np.zeros(1))
    assert out.shape == (1, 1, 4, 4)
    # top-left window: rows 0-2, columns 0-2 = (0+1+2) + (6+7+8) + (12+13+14) = 63
    assert out[0, 0, 0, 0] == pytest.approx(63.0)
    # one step right adds 3 to each of the 9 entries: 63 + 9 = 72
    assert out[0, 0, 0, 1] == pytest.approx(72.0)


def test_vertical_edge_detector():
    # image: 10 on the left half, 0 on the right; filter columns (1, 0, -1)
    x = np.zeros((1, 1, 6, 6))
    x[..., :3] = 10.0
    w = np.array([[1.0, 0.0, -1.0]] * 3).reshape(1, 1, 3, 3)
    out, _ = conv2d_forward(x, w, np.zeros(1))
    # windows at columns 0-2 and 3-5 are flat: 10*3 - 10*3 = 0 and 0 - 0 = 0; windows at
    # columns 1-3 and 2-4 straddle the edge: left column 10*3 = 30, right column 0 -> 30
    expected = np.array([[0.0, 30.0, 30.0, 0.0]] * 4)
    np.testing.assert_allclose(out[0, 0], expected, atol=1e-12)
    np.testing.assert_allclose(conv2d_naive(x, w, np.zeros(1)), out, atol=1e-12)


def test_no_kernel_flip_it_is_cross_correlation():
    # x = (1, 2, 3), w = (1, 0, 0): cross-correlation picks x[i] (= 1); a flipped kernel
    # (true convolution) would pick x[i + 2] (= 3)
    out, _ = conv1d_forward(np.array([[[1.0, 2.0, 3.0]]]), np.array([[[1.0, 0.0, 0.0]]]), [0.0])
    np.testing.assert_allclose(out, [[[1.0]]])


def test_one_by_one_convolution_is_a_matrix_product_at_each_pixel():
    # out[n, :, i, j] = w[:, :, 0, 0] @ x[n, :, i, j] + b
    x, w, b, _ = problem((5, 4), (1, 1), C=6, F_=2)
    out, _ = conv2d_forward(x, w, b)
    expected = np.einsum("fc,nchw->nfhw", w[:, :, 0, 0], x) + b[:, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_backward_by_hand():
    # x = (1, 2, 3, 4), w = (1, 10), b = 0, stride 1: out = (21, 32, 43)
    # with dout = (1, 1, 1): db = 3; dw = (1+2+3, 2+3+4) = (6, 9); dx = (1, 11, 11, 10)
    x = np.array([[[1.0, 2.0, 3.0, 4.0]]])
    out, cache = conv1d_forward(x, np.array([[[1.0, 10.0]]]), [0.0])
    np.testing.assert_allclose(out, [[[21.0, 32.0, 43.0]]])
    dx, dw, db = conv1d_backward(np.ones((1, 1, 3)), cache)
    np.testing.assert_allclose(db, [3.0])
    np.testing.assert_allclose(dw, [[[6.0, 9.0]]])
    np.testing.assert_allclose(dx, [[[1.0, 11.0, 11.0, 10.0]]])


# --- against PyTorch ---------------------------------------------------------------------------


@pytest.mark.parametrize("padding", [0, 1, 2])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize(
    ("spatial", "kernel"), [((11,), (3,)), ((7, 9), (3, 2)), ((5, 6, 4), (2, 3, 3))]
)
def test_forward_and_backward_match_torch(spatial, kernel, stride, padding):
    # non-square inputs and kernels, C = 3 != F = 4
    x, w, b, rng = problem(spatial, kernel)
    forward, backward, _ = LAYERS[len(spatial)]
    assert_matches_torch(forward, backward, x, w, b, stride, padding, rng)
    assert_matches_torch(convnd_forward, convnd_backward, x, w, b, stride, padding, rng)


@settings(max_examples=30, deadline=None)
@given(
    N=st.integers(1, 3),
    C=st.integers(1, 4),
    F_=st.integers(1, 4),
    H=st.integers(1, 9),
    W=st.integers(1, 9),
    HH=st.integers(1, 4),
    WW=st.integers(1, 4),
    stride=st.integers(1, 3),
    padding=st.integers(0, 2),
    seed=st.integers(0, 2**16),
)
def test_conv2d_matches_torch_on_random_shapes(N, C, F_, H, W, HH, WW, stride, padding, seed):
    assume(H + 2 * padding >= HH and W + 2 * padding >= WW)  # too big: see test_bad_input
    x, w, b, rng = problem((H, W), (HH, WW), N=N, C=C, F_=F_, seed=seed)
    assert_matches_torch(conv2d_forward, conv2d_backward, x, w, b, stride, padding, rng)


def test_per_axis_stride_and_padding_match_torch():
    x, w, b, rng = problem((8, 10), (3, 4))
    assert_matches_torch(conv2d_forward, conv2d_backward, x, w, b, (1, 3), (2, 0), rng)


def test_float32_stays_float32():
    x, w, b, _ = problem((6, 6), (3, 3))
    x, w, b = (a.astype(np.float32) for a in (x, w, b))
    out, cache = conv2d_forward(x, w, b, padding=1)
    dx, dw, db = conv2d_backward(np.ones_like(out), cache)
    assert out.dtype == dx.dtype == dw.dtype == db.dtype == np.float32
    expected = F.conv2d(*map(torch.from_numpy, (x, w, b)), padding=1).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def test_edge_cases_one_pixel_and_empty_batch():
    # a 1x1 image and a 1x1 filter: out = w x + b
    out, _ = conv2d_forward(np.full((1, 1, 1, 1), 2.0), np.full((1, 1, 1, 1), 3.0), [1.0])
    np.testing.assert_allclose(out, [[[[7.0]]]])
    # no examples: shapes still flow through, gradients of w and b are zero
    x, w, b, _ = problem((5, 5), (3, 3), N=0)
    out, cache = conv2d_forward(x, w, b, padding=1)
    assert out.shape == (0, 4, 5, 5)
    dx, dw, db = conv2d_backward(out, cache)
    assert dx.shape == x.shape
    np.testing.assert_array_equal(dw, 0)
    np.testing.assert_array_equal(db, 0)


# --- naive loop vs vectorised ------------------------------------------------------------------


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (1, 1), (2, 1), (3, 2), ((2, 1), (0, 2))])
def test_naive_matches_vectorised_and_torch(stride, padding):
    x, w, b, _ = problem((7, 8), (3, 2), C=2, F_=3)
    naive = conv2d_naive(x, w, b, stride=stride, padding=padding)
    np.testing.assert_allclose(naive, conv2d_forward(x, w, b, stride, padding)[0], rtol=1e-12)
    expected = F.conv2d(*map(torch.tensor, (x, w, b)), stride=stride, padding=padding).numpy()
    np.testing.assert_allclose(naive, expected, rtol=1e-10, atol=1e-12)


# --- finite differences ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spatial", "kernel", "stride", "padding"),
    [
        ((6,), (3,), 2, 1),
        ((5, 4), (3, 2), 1, 1),
        ((5, 5), (3, 3), 2, 2),
        ((3, 4, 3), (2, 2, 2), 1, 1),
    ],
)
def test_gradients_match_finite_differences(spatial, kernel, stride, padding):
    # the layer is linear in each of x, w, b, so centred differences have no truncation error:
    # what is left is rounding, ~1e-16 * |out| / eps ~ 1e-10 absolute. rel_error divides by
    # |a| + |b| per element: dw and db (sums over many positions) come out near 1e-9, but a
    # border element of dx, touched by few windows, can be small, and seeds 0-4 give up to 4e-8
    # there; hence 1e-7 for dw, db and 1e-6 for dx (a bug gives 1e-2 or more)
    x, w, b, rng = problem(spatial, kernel, N=2, C=2, F_=3)
    forward, backward, _ = LAYERS[len(spatial)]
    out, cache = forward(x, w, b, stride=stride, padding=padding)
    dout = rng.normal(size=out.shape)
    dx, dw, db = backward(dout, cache)

    def num(i):
        args = [x, w, b]

        def f(v):
            return forward(*args[:i], v, *args[i + 1 :], stride=stride, padding=padding)[0]

        return numerical_gradient(f, args[i].copy(), df=dout)

    assert rel_error(dx, num(0)) < 1e-6
    assert rel_error(dw, num(1)) < 1e-7
    assert rel_error(db, num(2)) < 1e-7


# --- laws --------------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(a=st.floats(-3, 3), seed=st.integers(0, 2**16), stride=st.integers(1, 2))
def test_convolution_is_linear_in_x(a, seed, stride):
    # conv(a x1 + x2) - b = a (conv(x1) - b) + (conv(x2) - b)
    x1, w, b, rng = problem((6, 5), (3, 3), seed=seed)
    x2 = rng.normal(size=x1.shape)

    def conv(x):
        return conv2d_forward(x, w, b, stride=stride, padding=1)[0] - b[:, None, None]

    np.testing.assert_allclose(conv(a * x1 + x2), a * conv(x1) + conv(x2), atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 12), f=st.integers(1, 5), padding=st.integers(0, 3), stride=st.integers(1, 4)
)
def test_output_shape_is_conv_output_size(n, f, padding, stride):
    assume(f <= n + 2 * padding)
    expected = conv_output_size(n, f, padding, stride)
    x = np.zeros((1, 1, n, n + 1))
    out, _ = conv2d_forward(x, np.zeros((2, 1, f, f)), np.zeros(2), stride, padding)
    assert out.shape == (1, 2, expected, conv_output_size(n + 1, f, padding, stride))


# --- bad input ---------------------------------------------------------------------------------

X, W, B = np.zeros((2, 3, 6, 6)), np.zeros((4, 3, 3, 3)), np.zeros(4)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        ((X, np.zeros((4, 2, 3, 3)), B), {}, ValueError, r"w must have shape \(F, 3, HH, WW\)"),
        ((X, W, np.zeros(3)), {}, ValueError, r"b must have shape \(4,\).*got \(3,\)"),
        ((X, np.zeros((4, 3, 9, 3)), B), {}, ValueError, "filter size f=9 is larger"),
        ((X, W, B), {"padding": -1}, ValueError, "padding must be an integer >= 0, got -1"),
        ((X, W, B), {"stride": 0}, ValueError, "stride must be an integer >= 1, got 0"),
        ((X, W, B), {"stride": 1.5}, ValueError, "stride must be an int"),
        ((X, W, B), {"stride": (1, 2, 3)}, ValueError, r"tuple of 2 ints, got \(1, 2, 3\)"),
        ((X[0], W, B), {}, ValueError, r"x must be 4-D|must have as many axes"),
        ((X, W[0], B), {}, ValueError, r"w must be 4-D|must have as many axes"),
        ((np.full_like(X, np.nan), W, B), {}, ValueError, "x contains NaN"),
        ((X, W, [np.inf] * 4), {}, ValueError, "b contains NaN or infinity"),
        ((X.astype(str), W, B), {}, TypeError, "x must hold numbers"),
    ],
)
@pytest.mark.parametrize("forward", [conv2d_forward, conv2d_naive])
def test_bad_input(forward, args, kwargs, error, message):
    with pytest.raises(error, match=message):
        forward(*args, **kwargs)


def test_the_filters_axes_set_the_dimension():
    # conv1d_forward and conv3d_forward are names of one n-D function: w's axes decide
    with pytest.raises(ValueError, match="must have as many axes"):
        conv3d_forward(np.zeros((1, 3, 4, 4, 4)), W, B)
    assert conv1d_forward(np.zeros((1, 3, 5)), np.zeros((4, 3, 3)), B)[0].shape == (1, 4, 3)


def test_backward_bad_input():
    out, cache = conv2d_forward(X, W, B)
    with pytest.raises(ValueError, match=r"dout must have the shape .* \(2, 4, 4, 4\), got"):
        conv2d_backward(np.zeros((2, 4, 4)), cache)
    with pytest.raises(ValueError, match="dout contains NaN"):
        conv2d_backward(np.full_like(out, np.nan), cache)
    with pytest.raises(TypeError, match="cache must be the tuple returned by the forward"):
        conv2d_backward(out, None)
