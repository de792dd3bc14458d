"""Convolution arithmetic: output sizes, zero padding, and counting parameters and multiplications.

Layout is PyTorch's: inputs ``(N, C, *spatial)``, filters ``(F, C, *kernel)``. A size or a
padding given as one int applies to every spatial axis.

References: Dumoulin & Visin, "A guide to convolution arithmetic for deep learning",
arXiv:1603.07285, relationship 6; Goodfellow et al., *Deep Learning*, sections 9.2 (parameter
sharing) and 9.5 (zero padding); Szegedy et al., "Going deeper with convolutions" (2015),
section 4 (1x1 convolutions as dimension reduction).
"""

from __future__ import annotations

import math

import numpy as np

from mlnotes.core import as_float_array, check_per_axis, check_scalar


def conv_output_size(n: int, f: int, padding: int = 0, stride: int = 1, exact: bool = False) -> int:
    """Size of a convolution's (or pooling's) output along one axis.

        n' = floor((n + 2 p - f) / s) + 1

    The filter visits positions 0, s, 2s, ... of the padded input as long as it fits inside it
    (cs231n writes ``H' = 1 + (H + 2 * pad - HH) // stride``). With ``exact=True`` the filter must
    also end flush with the padded input's last element, i.e. ``s`` divides ``n + 2p - f``, so
    that no row or column is silently dropped. Raises ValueError when the filter does not fit.
    """
    n = check_scalar(n, "n", low=1, integer=True)
    f = check_scalar(f, "f", low=1, integer=True)
    padding = check_scalar(padding, "padding", low=0, integer=True)
    stride = check_scalar(stride, "stride", low=1, integer=True)
    span = n + 2 * padding - f
    if span < 0:
        raise ValueError(
            f"filter size f={f} is larger than the padded input n + 2*padding = "
            f"{n} + 2*{padding} = {n + 2 * padding}"
        )
    if exact and span % stride:
        raise ValueError(
            f"stride={stride} does not divide n + 2*padding - f = {n} + 2*{padding} - {f} = "
            f"{span}: the last {span % stride} row(s) would be skipped"
        )
    return span // stride + 1


def pad(x, padding) -> np.ndarray:
    """Zero-pad every spatial axis of ``x`` (all axes after the first two).

        x_pad[n, c, i + p, j + p] = x[n, c, i, j],   zero elsewhere

    ``x (ndarray[N, C, *spatial])``; ``padding`` is one count for every spatial axis or one per
    axis. Returns a new array of ``x``'s float dtype (integers become float64).
    """
    x = as_float_array(x, "x")
    if x.ndim < 3:
        raise ValueError(f"x must be at least 3-D (N, C, *spatial), got shape {x.shape}")
    widths = check_per_axis(padding, "padding", x.ndim - 2, low=0)
    return _pad(x, widths)


def conv2d_parameters(in_channels: int, out_channels: int, kernel_size, bias: bool = True) -> int:
    """Number of learnable parameters of a convolution layer.

        params = F * (C * HH * WW + 1)      (the ``+ 1`` is each filter's bias)

    e.g. 10 filters of 3x3 over 3 channels: 10 * (3*3*3 + 1) = 280, whatever the image size.
    ``kernel_size`` is ``k`` (k x k) or a tuple; ``(K,)``, ``(KD, KH, KW)`` count 1D, 3D layers.
    """
    in_channels = check_scalar(in_channels, "in_channels", low=1, integer=True)
    out_channels = check_scalar(out_channels, "out_channels", low=1, integer=True)
    kernel = check_per_axis(kernel_size, "kernel_size", 2, low=1, any_length=True)
    return out_channels * (in_channels * math.prod(kernel) + int(bool(bias)))


def conv2d_multiplications(
    in_shape, out_channels: int, kernel_size, stride: int = 1, padding: int = 0
) -> int:
    """Number of multiplications of a convolution layer's forward pass (bias additions aside).

        mults = H' * W' * F * (C * HH * WW)

    one multiplication per filter weight, per filter, per output position. For a 28x28x192
    input and 32 filters of 5x5 ('same' padding 2): 28*28*32 * (5*5*192) = 120,422,400; a 1x1
    bottleneck to 16 channels first costs 28*28*16*192 + 28*28*32*(5*5*16) = 12,443,648.
    ``in_shape`` is the input's ``(C, H, W)`` without the batch (``(C, L)``, ``(C, D, H, W)`` in 1D,
    3D); ``kernel_size``, ``stride``, ``padding`` are one int or one per spatial axis.
    """
    if not isinstance(in_shape, (tuple, list)) or len(in_shape) < 2:
        raise ValueError(f"in_shape must be a tuple (C, H, W) (or (C, *spatial)), got {in_shape!r}")
    shape = check_per_axis(in_shape, "in_shape", len(in_shape), low=1)
    (channels, *spatial), dims = shape, len(shape) - 1
    out_channels = check_scalar(out_channels, "out_channels", low=1, integer=True)
    kernel = check_per_axis(kernel_size, "kernel_size", dims, low=1)
    strides = check_per_axis(stride, "stride", dims, low=1)
    pads = check_per_axis(padding, "padding", dims, low=0)
    out = [conv_output_size(*args) for args in zip(spatial, kernel, pads, strides, strict=True)]
    return math.prod(out) * out_channels * channels * math.prod(kernel)


def _pad(x: np.ndarray, widths: tuple) -> np.ndarray:
    """``x`` with ``widths[k]`` zeros on both sides of spatial axis k (no checks)."""
    return np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in widths])


def _window_slice(offset: tuple, strides: tuple, out_size: tuple) -> tuple:
    """Index of the elements that offset ``offset`` of a window visits at every output position.

    Along each spatial axis: ``offset, offset + s, ..., offset + s * (n' - 1)``; the batch and
    channel axes are taken whole. ``a[_window_slice(...)]`` has shape ``(N, C, *out_size)``.
    """
    steps = (
        slice(o, o + s * (n - 1) + 1, s) for o, s, n in zip(offset, strides, out_size, strict=True)
    )
    return (slice(None), slice(None), *steps)
