"""The plain-loop convolution and pooling of mlnotes.conv.loops, held to PyTorch (forward, and
autograd for the backward) and to their vectorised twins."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mlnotes.conv import (
    avg_pool2d_backward,
    avg_pool2d_backward_naive,
    avg_pool2d_forward,
    avg_pool2d_forward_naive,
    conv2d_backward,
    conv2d_backward_naive,
    conv2d_forward,
    conv2d_forward_naive,
    max_pool2d_backward,
    max_pool2d_backward_naive,
    max_pool2d_forward,
    max_pool2d_forward_naive,
)

rng = np.random.default_rng(0)
X = rng.standard_normal((2, 3, 7, 8))
W = rng.standard_normal((4, 3, 3, 2))
B = rng.standard_normal(4)
CONV_CASES = [(1, 0), (1, 1), (2, 1), ((2, 1), (0, 2))]


def torch_conv(stride, padding):
    """PyTorch's output and autograd gradients (dx, dw, db) for a random upstream gradient."""
    x, w, b = (torch.tensor(a, requires_grad=True) for a in (X, W, B))
    out = F.conv2d(x, w, b, stride=stride, padding=padding)
    dout = torch.tensor(rng.standard_normal(out.shape))
    out.backward(dout)
    return out.detach().numpy(), dout.numpy(), (x.grad.numpy(), w.grad.numpy(), b.grad.numpy())


@pytest.mark.parametrize(("stride", "padding"), CONV_CASES)
def test_conv_loops_equal_torch_and_the_vectorised_layer(stride, padding):
    expected_out, dout, expected_grads = torch_conv(stride, padding)
    out = conv2d_forward_naive(X, W, B, stride, padding)
    np.testing.assert_allclose(out, expected_out, rtol=1e-10, atol=1e-12)
    vectorised_out, cache = conv2d_forward(X, W, B, stride, padding)
    np.testing.assert_allclose(out, vectorised_out, rtol=1e-12, atol=1e-12)
    grads = conv2d_backward_naive(dout, X, W, stride, padding)
    for name, got, torch_grad, vectorised in zip(
        ("dx", "dw", "db"), grads, expected_grads, conv2d_backward(dout, cache), strict=True
    ):
        np.testing.assert_allclose(got, torch_grad, rtol=1e-10, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(got, vectorised, rtol=1e-12, atol=1e-12, err_msg=name)


def test_conv_backward_by_hand():
    # x = [[1, 2], [3, 4]] and a 1x1 filter w = 2: out = 2 x + 1, so with dout = 1 everywhere
    # dx = 2, dw = 1 + 2 + 3 + 4 = 10, db = 4 (one per output)
    x, w = np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), np.array([[[[2.0]]]])
    assert conv2d_forward_naive(x, w, [1.0]).tolist() == [[[[3.0, 5.0], [7.0, 9.0]]]]
    dx, dw, db = conv2d_backward_naive(np.ones((1, 1, 2, 2)), x, w)
    assert dx.tolist() == [[[[2.0, 2.0], [2.0, 2.0]]]]
    assert dw.tolist() == [[[[10.0]]]] and db.tolist() == [4.0]


POOLS = [
    (max_pool2d_forward_naive, max_pool2d_backward_naive, max_pool2d_forward, max_pool2d_backward,
     F.max_pool2d),
    (avg_pool2d_forward_naive, avg_pool2d_backward_naive, avg_pool2d_forward, avg_pool2d_backward,
     F.avg_pool2d),
]  # fmt: skip


@pytest.mark.parametrize(("size", "stride"), [(2, None), (3, 1), (3, 2)])
@pytest.mark.parametrize(("naive", "naive_back", "vectorised", "vectorised_back", "oracle"), POOLS)
def test_pool_loops_equal_torch_and_the_vectorised_layer(
    naive, naive_back, vectorised, vectorised_back, oracle, size, stride
):
    x = torch.tensor(X, requires_grad=True)
    expected = oracle(x, size, stride)
    dout = rng.standard_normal(expected.shape)
    expected.backward(torch.tensor(dout))
    out = naive(X, size, stride)
    np.testing.assert_allclose(out, expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    vectorised_out, cache = vectorised(X, size, stride)
    np.testing.assert_allclose(out, vectorised_out, rtol=1e-12, atol=1e-12)  # sums in another order
    dx = naive_back(dout, X, size, stride)
    np.testing.assert_allclose(dx, x.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, vectorised_back(dout, cache), rtol=1e-12, atol=1e-12)


def test_max_pool_loop_sends_a_tie_to_the_first_maximum():
    x = np.ones((1, 1, 2, 2))
    assert max_pool2d_backward_naive(np.ones((1, 1, 1, 1)), x, 2).tolist() == [[[[1, 0], [0, 0]]]]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: conv2d_forward_naive(X[0], W, B), "x must be 4-D"),
        (lambda: conv2d_forward_naive(X, W, B, stride=0), "stride"),
        (lambda: conv2d_backward_naive(np.zeros((2, 4, 5, 6)), X, W), "dout must have the shape"),
        (lambda: conv2d_backward_naive(np.zeros((2, 4, 5, 7)), X, W[:, :2]), "w must have shape"),
        (lambda: max_pool2d_forward_naive(X, 0), "size"),
        (
            lambda: max_pool2d_backward_naive(np.zeros((2, 3, 1, 1)), X, 2),
            "dout must have the shape",
        ),
        (lambda: avg_pool2d_forward_naive(X, 9), "window does not fit"),
        (lambda: avg_pool2d_backward_naive(np.zeros(3), X, 2), "dout must have the shape"),
    ],
)
def test_bad_input_is_refused_at_the_door(call, message):
    with pytest.raises(ValueError, match=message):
        call()
