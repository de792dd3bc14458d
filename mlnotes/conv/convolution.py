"""Convolution in NumPy, in any number of dimensions: the vectorised layer (the 2D loops that
it computes at once are in ``mlnotes.conv.loops``).

A CNN's "convolution" is a cross-correlation: the filter slides over the input *without* being
flipped (a mathematician's convolution flips it). Since the filter is learnt, the two are
equally expressive, and every deep-learning library computes the cross-correlation.
``convnd_forward`` computes every output position at once: the im2col of Caffe and cs231n's
``conv_forward_strides`` (one copy of the input's windows), then one matrix product.

One implementation serves every dimension: ``conv2d_forward`` is chapter 5's layer,
``conv1d_forward`` slides along signals (ECG, audio; ``x (N, C, L)``, ``w (F, C, K)``) and
``conv3d_forward`` through volumes (CT scans, video; ``x (N, C, D, H, W)``,
``w (F, C, KD, KH, KW)``) in chapter 10. All are names of ``convnd_forward``, which reads the
number of spatial axes from ``w``; likewise for the backward passes.

References: cs231n assignment 2 (``conv_forward_naive``, ``conv_forward_strides``); Goodfellow et
al., *Deep Learning*, sections 9.1 (eq. 9.6) and 9.5; Chellapilla et al. (2006), "High
performance convolutional neural networks for document processing" (im2col); Dumoulin & Visin,
arXiv:1603.07285, chapter 4 (the gradient with respect to x is a transposed convolution).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from mlnotes.conv.shapes import _pad, _window_slice, conv_output_size
from mlnotes.core import as_float_array, check_per_axis

# names of the spatial axes of x and w, for error messages
_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}
_KERNEL = {1: "K", 2: "HH, WW", 3: "KD, KH, KW"}


def convnd_forward(x, w, b, stride=1, padding=0):
    """Forward pass of a convolution layer in 1, 2, 3 (or more) spatial dimensions.

        out[n, f, i, j] = b[f] + sum_{c, p, q} x_pad[n, c, i*s + p, j*s + q] * w[f, c, p, q]
        H' = 1 + (H + 2 * pad - HH) // stride,   and likewise along every spatial axis

    with ``x (ndarray[N, C, *spatial])``, ``w (ndarray[F, C, *kernel])``, ``b (ndarray[F])``;
    ``stride`` (>= 1) and ``padding`` (>= 0) are one int for every axis or one per axis. The
    windows of the padded input, a strided view, are copied once into the columns
    ``cols (ndarray[C * prod(kernel), N * prod(out)])``, one per output position, and
    ``w_flat @ cols`` is one matrix product. Returns ``(out, cache)``: ``out (ndarray[N, F, *out])``
    and what ``convnd_backward`` needs.
    """
    x, w, b, strides, pads, out_size = _check_conv(x, w, b, stride, padding)
    (N, F), kernel, dims = (x.shape[0], w.shape[0]), w.shape[2:], w.ndim - 2
    out_axes = tuple(range(2, 2 + dims))  # axes of windows: [N, C, *out, *kernel]
    kernel_axes = tuple(range(2 + dims, 2 + 2 * dims))
    windows = sliding_window_view(_pad(x, pads), kernel, axis=out_axes)
    windows = windows[(slice(None), slice(None), *(slice(None, None, s) for s in strides))]
    # [C, *kernel, N, *out] flattened: one column per output position (the one copy)
    cols = windows.transpose(1, *kernel_axes, 0, *out_axes).reshape(w[0].size, -1)  # [C*K, N*P]
    z = w.reshape(F, -1) @ cols  # [F, C*K] @ [C*K, N*P] -> [F, N*P]
    z = z.reshape(F, N, *out_size).swapaxes(0, 1)  # [N, F, *out], a view
    out = np.empty(z.shape, dtype=np.result_type(z, b))
    np.add(z, b.reshape(F, *(1,) * dims), out=out)  # [N, F, *out], contiguous
    return out, (x, w, strides, pads, cols)


def convnd_backward(dout, cache):
    """Backward pass of ``convnd_forward``: the gradients of the loss L with respect to x, w, b.

        db[f]          = sum_{n, i, j} dout[n, f, i, j]
        dw[f, c, p, q] = sum_{n, i, j} dout[n, f, i, j] * x_pad[n, c, i*s + p, j*s + q]
        dx_pad[n, c, i*s + p, j*s + q] += sum_f dout[n, f, i, j] * w[f, c, p, q]

    ``dw`` contracts ``dout (ndarray[N, F, *out])`` with the cached columns (one matrix product).
    ``dx`` loops over the kernel offsets only (9 iterations for 3x3): each offset ``(p, q)`` adds
    ``w[:, :, p, q]^T @ dout`` to the strided slice of ``dx_pad`` it touched, and overlapping
    windows (stride < kernel) accumulate. The padding is cropped off at the end. Returns
    ``(dx, dw, db)`` shaped like ``x``, ``w`` and ``b``.
    """
    x, w, strides, pads, cols = _check_cache(cache)
    (N, C), (F, _), kernel = x.shape[:2], w.shape[:2], w.shape[2:]
    out_size = tuple(map(conv_output_size, x.shape[2:], kernel, pads, strides))
    dout = as_float_array(dout, "dout")
    if dout.shape != (N, F, *out_size):
        raise ValueError(
            f"dout must have the shape of the forward output, {(N, F, *out_size)}, got {dout.shape}"
        )
    dout_t = dout.swapaxes(0, 1).reshape(F, N * math.prod(out_size))  # [F, N*P]
    db = dout_t.sum(axis=1)  # [F]
    dw = dout_t @ cols.T  # [F, N*P] @ [N*P, C*K] -> [F, C*K]
    padded = tuple(n + 2 * p for n, p in zip(x.shape[2:], pads, strict=True))
    dx_pad = np.zeros((N, C, *padded), dtype=np.result_type(dout, w))  # [N, C, *padded]
    dx_pad_t = dx_pad.swapaxes(0, 1)  # [C, N, *padded], a view, in the order of dout_t's rows
    for offset in np.ndindex(*kernel):
        w_t = w[(slice(None), slice(None), *offset)].T  # [C, F]
        contribution = (w_t @ dout_t).reshape(C, N, *out_size)  # [C, N, *out]
        dx_pad_t[_window_slice(offset, strides, out_size)] += contribution
    crop = (
        slice(None),
        slice(None),
        *(slice(p, p + n) for p, n in zip(pads, x.shape[2:], strict=True)),
    )
    return dx_pad[crop], dw.reshape(w.shape), db


def _check_ndim(x, w, dims: int) -> None:
    """Raise ValueError unless x is ``(N, C, *spatial)`` and w ``(F, C, *kernel)`` in ``dims``-D."""
    spatial, kernel = _SPATIAL.get(dims, "*spatial"), _KERNEL.get(dims, "*kernel")
    for name, arr, layout in (("x", x, f"N, C, {spatial}"), ("w", w, f"F, C, {kernel}")):
        if np.ndim(arr) != dims + 2:
            raise ValueError(
                f"{name} must be {dims + 2}-D ({layout}) for a {dims}D convolution, "
                f"got shape {np.shape(arr)}"
            )


def _check_cache(cache) -> tuple:
    """Raise unless ``cache`` is the ``(x, w, strides, paddings, cols)`` tuple of a forward pass."""
    if not (isinstance(cache, tuple) and len(cache) == 5 and isinstance(cache[1], np.ndarray)):
        raise TypeError(
            f"cache must be the tuple returned by the forward pass, got {type(cache).__name__}"
        )
    return cache


def _check_conv(x, w, b, stride, padding):
    """Validate a convolution's inputs; return them with per-axis strides, paddings, out size."""
    x, w, b = as_float_array(x, "x"), as_float_array(w, "w"), as_float_array(b, "b")
    if w.ndim < 3:
        raise ValueError(f"w must be (F, C, *kernel) with a spatial axis, got shape {w.shape}")
    if x.ndim != w.ndim:  # the filters' axes say how many spatial axes the convolution has
        raise ValueError(
            f"x (N, C, *spatial) and w (F, C, *kernel) must have as many axes, got x of shape "
            f"{x.shape} and w of shape {w.shape}"
        )
    dims = w.ndim - 2
    (C, F), kernel = (x.shape[1], w.shape[0]), _KERNEL.get(dims, "*kernel")
    if w.shape[1] != C:
        raise ValueError(
            f"w must have shape (F, {C}, {kernel}) to match the C={C} channels of x "
            f"{x.shape}, got {w.shape}"
        )
    if b.shape != (F,):
        raise ValueError(
            f"b must have shape ({F},), one bias per filter of w {w.shape}, got {b.shape}"
        )
    strides = check_per_axis(stride, "stride", dims, low=1)
    pads = check_per_axis(padding, "padding", dims, low=0)
    try:
        out_size = tuple(map(conv_output_size, x.shape[2:], w.shape[2:], pads, strides))
    except ValueError as err:
        raise ValueError(
            f"w of shape {w.shape} does not fit x of shape {x.shape} with padding={padding}: {err}"
        ) from None
    return x, w, b, strides, pads, out_size


conv1d_forward = conv2d_forward = conv3d_forward = convnd_forward
conv1d_backward = conv2d_backward = conv3d_backward = convnd_backward
