"""Convolution and pooling in 2D as plain loops, forward and backward (chapter 5).

The versions to read: one Python loop per index of the page's formulas, and one line per formula.
They compute what ``conv2d_forward``/``conv2d_backward`` and the pooling layers compute, a
hundred times more slowly; the tests hold each loop to its vectorised twin and to PyTorch.
A convolution's stride and padding are an int or a pair (height, width); pooling's are ints.

Reference: cs231n assignment 2 (``conv_forward_naive``, ``conv_backward_naive``,
``max_pool_forward_naive``, ``max_pool_backward_naive``).
"""

from __future__ import annotations

import numpy as np

from mlnotes.conv.convolution import _check_conv, _check_ndim
from mlnotes.conv.pooling import _check_dout, _check_pool
from mlnotes.conv.shapes import _pad


def conv2d_forward_naive(x, w, b, stride: int = 1, padding: int = 0) -> np.ndarray:
    """``x [N, C, H, W]``, ``w [F, C, HH, WW]``, ``b [F]`` -> ``out [N, F, H', W']``:

    out[n, f, i, j] = b[f] + sum_{c, p, q} x_pad[n, c, i*s + p, j*s + q] * w[f, c, p, q]
    """
    x_pad, w, b, (s_h, s_w), _, (H_out, W_out) = _conv_inputs(x, w, b, stride, padding)
    (N, F), (HH, WW) = (len(x_pad), len(w)), w.shape[2:]
    out = np.zeros((N, F, H_out, W_out), dtype=np.result_type(x_pad, w, b))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * s_h : i * s_h + HH, j * s_w : j * s_w + WW]
                    out[n, f, i, j] = b[f] + np.sum(window * w[f])  # sum over [C, HH, WW]
    return out


conv2d_naive = conv2d_forward_naive  # the name chapter 5's notebook and the benchmark use


def conv2d_backward_naive(dout, x, w, stride: int = 1, padding: int = 0):
    """The gradients ``(dx, dw, db)`` of the convolution above, from ``dout [N, F, H', W']``.

    Every output ``out[n, f, i, j]`` received ``x_pad[n, c, i*s + p, j*s + q] * w[f, c, p, q]``,
    so it sends back

        dx_pad[n, c, i*s + p, j*s + q] += dout[n, f, i, j] * w[f, c, p, q]
        dw[f, c, p, q]                 += dout[n, f, i, j] * x_pad[n, c, i*s + p, j*s + q]
        db[f]                          += dout[n, f, i, j]

    and ``dx`` is ``dx_pad`` without its padding.
    """
    x_pad, w, _, (s_h, s_w), (p_h, p_w), out_size = _conv_inputs(
        x, w, np.zeros(len(w)), stride, padding
    )
    dout = _check_dout(dout, (len(x_pad), len(w), *out_size))
    (N, F, H_out, W_out), (HH, WW) = dout.shape, w.shape[2:]
    dx_pad, dw, db = np.zeros_like(x_pad), np.zeros_like(w), np.zeros(F)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    rows, cols = slice(i * s_h, i * s_h + HH), slice(j * s_w, j * s_w + WW)
                    dx_pad[n, :, rows, cols] += dout[n, f, i, j] * w[f]
                    dw[f] += dout[n, f, i, j] * x_pad[n, :, rows, cols]
                    db[f] += dout[n, f, i, j]
    H, W = x_pad.shape[2] - 2 * p_h, x_pad.shape[3] - 2 * p_w
    return dx_pad[:, :, p_h : p_h + H, p_w : p_w + W], dw, db


def max_pool2d_forward_naive(x, size: int, stride: int | None = None) -> np.ndarray:
    """``x [N, C, H, W]`` -> ``out [N, C, H', W']``, each channel on its own:

    out[n, c, i, j] = max_{0 <= p, q < size} x[n, c, i*s + p, j*s + q]
    """
    return _pool_forward(np.max, x, size, stride)


def max_pool2d_backward_naive(dout, x, size: int, stride: int | None = None) -> np.ndarray:
    """``dx [N, C, H, W]``: each window sends ``dout[n, c, i, j]`` to its maximum, the first one
    in row-major order on ties (as ``argmax``, and ``max_pool2d_backward``)."""
    x, size, s, out_size = _check_pool(x, size, stride)
    dout = _check_dout(dout, (*x.shape[:2], *out_size))
    dx = np.zeros_like(x)
    for n, c, i, j in np.ndindex(dout.shape):
        window = x[n, c, i * s : i * s + size, j * s : j * s + size]
        p, q = np.unravel_index(np.argmax(window), window.shape)
        dx[n, c, i * s + p, j * s + q] += dout[n, c, i, j]
    return dx


def avg_pool2d_forward_naive(x, size: int, stride: int | None = None) -> np.ndarray:
    """``x [N, C, H, W]`` -> ``out [N, C, H', W']``, each channel on its own:

    out[n, c, i, j] = (1 / size^2) sum_{0 <= p, q < size} x[n, c, i*s + p, j*s + q]
    """
    return _pool_forward(np.mean, x, size, stride)


def avg_pool2d_backward_naive(dout, x, size: int, stride: int | None = None) -> np.ndarray:
    """``dx [N, C, H, W]``: each window shares ``dout[n, c, i, j]`` equally among its
    ``size^2`` elements, ``dx[n, c, i*s + p, j*s + q] += dout[n, c, i, j] / size^2``."""
    x, size, s, out_size = _check_pool(x, size, stride)
    dout = _check_dout(dout, (*x.shape[:2], *out_size))
    dx = np.zeros_like(x)
    for n, c, i, j in np.ndindex(dout.shape):
        dx[n, c, i * s : i * s + size, j * s : j * s + size] += dout[n, c, i, j] / size**2
    return dx


def _conv_inputs(x, w, b, stride, padding):
    """The checked inputs of a 2D convolution, with ``x`` padded: ``x_pad, w, b, (s_h, s_w),
    (p_h, p_w), (H', W')``."""
    _check_ndim(x, w, dims=2)
    x, w, b, strides, pads, out_size = _check_conv(x, w, b, stride, padding)
    return _pad(x, pads), w, b, strides, pads, out_size


def _pool_forward(reduce, x, size, stride) -> np.ndarray:
    x, size, s, (H_out, W_out) = _check_pool(x, size, stride)
    out = np.zeros((*x.shape[:2], H_out, W_out), dtype=x.dtype)
    for n, c, i, j in np.ndindex(out.shape):
        out[n, c, i, j] = reduce(x[n, c, i * s : i * s + size, j * s : j * s + size])
    return out
