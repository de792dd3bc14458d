"""1D, 2D and 3D convolution layers (chapters 5 and 10): one n-dimensional implementation.

Each ``convKd_forward`` checks that ``x`` and ``w`` have K spatial axes, then calls
``convnd_forward``; each ``convKd_backward`` is ``convnd_backward``. A 1D convolution slides
along a signal (ECG, audio, text embeddings), a 3D one through a volume (CT scans, video).
"""

from __future__ import annotations

from mlnotes.conv.convolution import _check_cache, _check_ndim, convnd_backward, convnd_forward


def conv1d_forward(x, w, b, stride=1, padding=0):
    """Forward pass of a 1D convolution layer (cross-correlation, no kernel flip).

        out[n, f, i] = b[f] + sum_{c, k} x_pad[n, c, i*s + k] * w[f, c, k]
        L' = 1 + (L + 2 * pad - K) // stride

    Args:
        x (ndarray[N, C, L]): N signals of C channels and length L.
        w (ndarray[F, C, K]): F filters of length K.
        b (ndarray[F]): one bias per filter.
        stride (int): >= 1.
        padding (int): zeros on both ends, >= 0.

    Returns:
        tuple: ``(out, cache)`` with ``out (ndarray[N, F, L'])``.

    Reference: Goodfellow et al., *Deep Learning*, section 9.1; Kiranyaz et al. (2021),
    "1D convolutional neural networks and applications: a survey".
    """
    _check_ndim(x, w, dims=1)
    return convnd_forward(x, w, b, stride=stride, padding=padding)


def conv1d_backward(dout, cache):
    """Backward pass of ``conv1d_forward``: ``(dx, dw, db)``.

        db[f]       = sum_{n, i} dout[n, f, i]
        dw[f, c, k] = sum_{n, i} dout[n, f, i] * x_pad[n, c, i*s + k]
        dx_pad[n, c, i*s + k] += sum_f dout[n, f, i] * w[f, c, k]

    Args:
        dout (ndarray[N, F, L']): upstream gradient.
        cache (tuple): from ``conv1d_forward``.

    Returns:
        tuple: ``dx (ndarray[N, C, L])``, ``dw (ndarray[F, C, K])``, ``db (ndarray[F])``.

    Reference: cs231n assignment 2, ``conv_backward_naive`` (in one dimension).
    """
    _check_cache(cache, "conv1d_forward", dims=1)
    return convnd_backward(dout, cache)


def conv2d_forward(x, w, b, stride=1, padding=0):
    """Forward pass of a 2D convolution layer (cross-correlation, no kernel flip).

        out[n, f, i, j] = b[f] + sum_{c, p, q} x_pad[n, c, i*s + p, j*s + q] * w[f, c, p, q]
        H' = 1 + (H + 2 * pad - HH) // stride,   W' = 1 + (W + 2 * pad - WW) // stride

    Computes what ``conv2d_naive`` computes, with one matrix product instead of four loops.

    Args:
        x (ndarray[N, C, H, W]): input images.
        w (ndarray[F, C, HH, WW]): F filters.
        b (ndarray[F]): one bias per filter.
        stride (int | tuple[int, int]): >= 1.
        padding (int | tuple[int, int]): zeros on every side, >= 0.

    Returns:
        tuple: ``(out, cache)`` with ``out (ndarray[N, F, H', W'])``.

    Reference: cs231n assignment 2, ``conv_forward_naive``; Goodfellow et al., *Deep
    Learning*, section 9.1 (eq. 9.6); Dumoulin & Visin, arXiv:1603.07285 (output sizes).
    """
    _check_ndim(x, w, dims=2)
    return convnd_forward(x, w, b, stride=stride, padding=padding)


def conv2d_backward(dout, cache):
    """Backward pass of ``conv2d_forward``: ``(dx, dw, db)``.

        db[f]          = sum_{n, i, j} dout[n, f, i, j]
        dw[f, c, p, q] = sum_{n, i, j} dout[n, f, i, j] * x_pad[n, c, i*s + p, j*s + q]
        dx_pad[n, c, i*s + p, j*s + q] += sum_f dout[n, f, i, j] * w[f, c, p, q]

    Args:
        dout (ndarray[N, F, H', W']): upstream gradient.
        cache (tuple): from ``conv2d_forward``.

    Returns:
        tuple: ``dx (ndarray[N, C, H, W])``, ``dw (ndarray[F, C, HH, WW])``, ``db (ndarray[F])``.

    Reference: cs231n assignment 2, ``conv_backward_naive``; Goodfellow et al., *Deep
    Learning*, section 9.5.
    """
    _check_cache(cache, "conv2d_forward", dims=2)
    return convnd_backward(dout, cache)


def conv3d_forward(x, w, b, stride=1, padding=0):
    """Forward pass of a 3D convolution layer (cross-correlation, no kernel flip).

        out[n, f, d, i, j] = b[f] + sum_{c, r, p, q} x_pad[n, c, d*s + r, i*s + p, j*s + q]
                                                    * w[f, c, r, p, q]
        D' = 1 + (D + 2 * pad - KD) // stride, and likewise H', W'

    Args:
        x (ndarray[N, C, D, H, W]): N volumes (or clips of D frames).
        w (ndarray[F, C, KD, KH, KW]): F filters.
        b (ndarray[F]): one bias per filter.
        stride (int | tuple[int, int, int]): >= 1.
        padding (int | tuple[int, int, int]): >= 0.

    Returns:
        tuple: ``(out, cache)`` with ``out (ndarray[N, F, D', H', W'])``.

    Reference: Ji et al. (2013), "3D convolutional neural networks for human action
    recognition"; Tran et al. (2015), "Learning spatiotemporal features with 3D convolutional
    networks" (C3D).
    """
    _check_ndim(x, w, dims=3)
    return convnd_forward(x, w, b, stride=stride, padding=padding)


def conv3d_backward(dout, cache):
    """Backward pass of ``conv3d_forward``: ``(dx, dw, db)``, the 2D formulas with a depth index.

        dw[f, c, r, p, q] = sum_{n, d, i, j} dout[n, f, d, i, j]
                                             * x_pad[n, c, d*s + r, i*s + p, j*s + q]

    Args:
        dout (ndarray[N, F, D', H', W']): upstream gradient.
        cache (tuple): from ``conv3d_forward``.

    Returns:
        tuple: ``dx (ndarray[N, C, D, H, W])``, ``dw (ndarray[F, C, KD, KH, KW])``,
        ``db (ndarray[F])``.

    Reference: Goodfellow et al., *Deep Learning*, section 9.5; Tran et al. (2015) (C3D).
    """
    _check_cache(cache, "conv3d_forward", dims=3)
    return convnd_backward(dout, cache)
