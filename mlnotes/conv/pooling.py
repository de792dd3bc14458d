"""2D max and average pooling in NumPy, forward and backward (chapter 5).

Pooling slides a ``size x size`` window with step ``stride`` over each channel separately
(the output keeps C channels) and has no parameters. The windows are a strided view of the
input; the backward passes loop over the ``size * size`` offsets of a window, as the
convolution's ``dx`` does, so that overlapping windows (``stride < size``) add their gradients.
``x (ndarray[N, C, H, W])``; ``size >= 1``; ``stride >= 1``, or ``None`` for ``size``
(non-overlapping windows, the usual choice). The forward passes return ``(out, cache)``, the
backward passes ``dx`` shaped like ``x`` from ``dout`` shaped like ``out``.

References: cs231n assignment 2 (``max_pool_forward_naive``, ``max_pool_backward_naive``);
Goodfellow et al., *Deep Learning*, section 9.3; Dumoulin & Visin, arXiv:1603.07285,
relationship 7; LeCun et al. (1998), "Gradient-based learning applied to document recognition"
(subsampling layers).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from mlnotes.conv.shapes import _window_slice, conv_output_size
from mlnotes.core import as_float_array, check_scalar


def max_pool2d_forward(x, size: int, stride: int | None = None):
    """Forward pass of 2D max pooling.

        out[n, c, i, j] = max_{0 <= p, q < size} x[n, c, i*s + p, j*s + q]
        H' = 1 + (H - size) // stride,   W' = 1 + (W - size) // stride

    The cache holds the position of each window's maximum, ``argmax (ndarray[N, C, H', W'])``
    in ``[0, size * size)`` (row-major inside the window): on ties, the *first* maximum.
    """
    x, size, stride, out_size = _check_pool(x, size, stride)
    windows = _windows(x, size, stride)  # [N, C, H', W', size, size], a view
    flat = windows.reshape(*windows.shape[:4], size * size)  # [N, C, H', W', size*size]
    argmax = flat.argmax(axis=-1)  # [N, C, H', W'], first maximum on ties
    out = np.take_along_axis(flat, argmax[..., None], axis=-1)[..., 0]  # [N, C, H', W']
    return out, (x.shape, size, stride, argmax)


def max_pool2d_backward(dout, cache) -> np.ndarray:
    """Backward pass of ``max_pool2d_forward``: each window sends its gradient to its maximum.

        dx[n, c, i*s + p, j*s + q] += dout[n, c, i, j]   if (p, q) is the arg-max of window (i, j)

    and 0 elsewhere. When windows overlap, an element that is the maximum of several windows
    receives the sum of their gradients. On ties only the first maximum (row-major) receives
    the gradient, as with ``argmax``.
    """
    x_shape, size, stride, argmax = _check_pool_cache(cache, "max_pool2d_forward")
    dout = _check_dout(dout, argmax.shape)
    dx = np.zeros(x_shape, dtype=dout.dtype)  # [N, C, H, W]
    for k, offset in enumerate(np.ndindex(size, size)):
        routed = np.where(argmax == k, dout, 0)  # [N, C, H', W'], dout where (p, q) was the max
        dx[_window_slice(offset, (stride, stride), argmax.shape[2:])] += routed
    return dx


def avg_pool2d_forward(x, size: int, stride: int | None = None):
    """Forward pass of 2D average pooling.

    out[n, c, i, j] = (1 / size^2) sum_{0 <= p, q < size} x[n, c, i*s + p, j*s + q]
    """
    x, size, stride, out_size = _check_pool(x, size, stride)
    out = _windows(x, size, stride).mean(axis=(-2, -1))  # [N, C, H', W']
    return out, (x.shape, size, stride, out_size)


def avg_pool2d_backward(dout, cache) -> np.ndarray:
    """Backward pass of ``avg_pool2d_forward``: each window shares its gradient equally.

        dx[n, c, i*s + p, j*s + q] += dout[n, c, i, j] / size^2   for every 0 <= p, q < size

    An element inside several (overlapping) windows receives a share from each.
    """
    x_shape, size, stride, out_size = _check_pool_cache(cache, "avg_pool2d_forward")
    dout = _check_dout(dout, (*x_shape[:2], *out_size))
    dx = np.zeros(x_shape, dtype=dout.dtype)  # [N, C, H, W]
    share = dout / (size * size)  # [N, C, H', W']
    for offset in np.ndindex(size, size):
        dx[_window_slice(offset, (stride, stride), out_size)] += share
    return dx


def _windows(x: np.ndarray, size: int, stride: int) -> np.ndarray:
    """The pooling windows of x as a view: ``[N, C, H', W', size, size]``."""
    windows = sliding_window_view(x, (size, size), axis=(2, 3))  # [N, C, H-size+1, W-size+1, ..]
    return windows[:, :, ::stride, ::stride]  # [N, C, H', W', size, size]


def _check_pool(x, size, stride):
    """Validate pooling inputs; return ``x, size, stride, (H', W')``."""
    x = as_float_array(x, "x")
    if x.ndim != 4:
        raise ValueError(f"x must be 4-D (N, C, H, W), got shape {x.shape}")
    size = check_scalar(size, "size", low=1, integer=True)
    stride = size if stride is None else check_scalar(stride, "stride", low=1, integer=True)
    try:
        out_size = tuple(conv_output_size(n, size, 0, stride) for n in x.shape[2:])
    except ValueError as err:
        raise ValueError(
            f"a {size}x{size} window does not fit x of shape {x.shape}: {err}"
        ) from None
    return x, size, stride, out_size


def _check_pool_cache(cache, forward: str) -> tuple:
    if not (isinstance(cache, tuple) and len(cache) == 4):
        raise TypeError(
            f"cache must be the tuple returned by {forward}, got {type(cache).__name__}"
        )
    return cache


def _check_dout(dout, shape: tuple) -> np.ndarray:
    dout = as_float_array(dout, "dout")
    if dout.shape != tuple(shape):
        raise ValueError(
            f"dout must have the shape of the forward output, {shape}, got {dout.shape}"
        )
    return dout
