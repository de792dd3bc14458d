"""Distances between embeddings and the triplet loss (ch. 8).

    d(x_i, x_j) = ||f(x_i) - f(x_j)||^2
    L(A, P, N) = max(||f(A) - f(P)||^2 - ||f(A) - f(N)||^2 + alpha, 0)

Embeddings are rows, ``(N, D)``, as NumPy arrays or torch tensors; each function answers in the
kind it was given, and keeps torch's autograd graph.
"""

from __future__ import annotations

import numpy as np

from mlnotes.core import as_float_array, check_scalar

REDUCTIONS = ("sum", "mean", "none")


def pairwise_distances(emb1, emb2, squared: bool = True):
    """Euclidean distance (squared by default) between every row of emb1 and every row of emb2.

        D[i, j] = ||emb1[i] - emb2[j]||^2 = ||emb1[i]||^2 + ||emb2[j]||^2 - 2 emb1[i] . emb2[j]

    The expansion needs one matrix product instead of an ``[N, M, D]`` difference; rounding can
    make it slightly negative for equal rows, so it is clamped at 0 (and the square root, for
    ``squared=False``, is taken of the clamped value).

    Args:
        emb1 (ndarray[N, D] | Tensor[N, D]): embeddings, one per row.
        emb2 (ndarray[M, D] | Tensor[M, D]): embeddings of the same kind and dimension D.
        squared (bool): return ``||.||^2`` (the course's d) or ``||.||``.

    Returns:
        ndarray[N, M] | Tensor[N, M]: distances >= 0, NumPy or PyTorch as the inputs.

    Raises:
        TypeError: one input a tensor and the other not; ValueError: not 2-D, different D.

    Oracle: ``scipy.spatial.distance.cdist`` (``"sqeuclidean"``, ``"euclidean"``) and
    ``torch.cdist``; a double loop (tests/test_faces.py).
    Reference: Schroff et al., "FaceNet" (CVPR 2015), section 3 (squared L2 distance in the
    embedding space); Ng, Deep Learning Specialization, course 4 week 4.
    """
    emb1, torch = _as_embeddings(emb1, "emb1")
    emb2, torch2 = _as_embeddings(emb2, "emb2")
    if (torch is None) != (torch2 is None):
        raise TypeError("emb1 and emb2 must both be torch tensors or both NumPy arrays")
    if emb1.shape[1] != emb2.shape[1]:
        raise ValueError(
            f"emb1 and emb2 must have the same dimension D, got {emb1.shape[1]} and {emb2.shape[1]}"
        )
    sq1 = (emb1**2).sum(1)[:, None]  # [N, 1]
    sq2 = (emb2**2).sum(1)[None, :]  # [1, M]
    dist = sq1 + sq2 - 2 * emb1 @ emb2.T  # [N, M]
    dist = dist.clamp(min=0) if torch else np.maximum(dist, 0)
    if squared:
        return dist
    return dist.sqrt() if torch else np.sqrt(dist)


def triplet_loss(anchor, positive, negative, margin: float = 0.2, reduction: str = "sum"):
    """The triplet loss of FaceNet with squared Euclidean distances.

        L_i = max(||a_i - p_i||^2 - ||a_i - n_i||^2 + margin, 0),   J = sum_i L_i

    Without the margin, ``a = p = n`` (every embedding the same) has zero loss; the margin asks
    the negative to be farther than the positive by at least ``margin``.

    Args:
        anchor, positive, negative (Tensor[N, D] | ndarray[N, D]): embeddings of the anchor
            images, of other images of the same people, and of images of other people, all of
            one kind (torch or NumPy) and shape.
        margin (float): alpha >= 0.
        reduction (str): ``"sum"`` (the course's J), ``"mean"`` (J / N) or ``"none"`` (every
            L_i).

    Returns:
        Tensor | ndarray: a scalar, or ``[N]`` for ``"none"``. ``"mean"`` of zero triplets
        raises; ``"sum"`` of zero triplets is 0.

    Raises:
        ValueError: shapes that differ (the message gives all three), a negative margin, an
            unknown reduction.

    Oracle: ``torch.nn.TripletMarginLoss(margin, p=2)`` computes ``max(||a-p|| - ||a-n|| +
    margin, 0)`` with plain (not squared) distances and an eps; the tests rebuild the squared
    version from ``torch.nn.functional.pairwise_distance`` with ``eps=0``, compare a hand
    computation, and check gradients against ``mlnotes.core.numerical_gradient``.
    Reference: Schroff et al., "FaceNet" (CVPR 2015), equation (1) and (2); Weinberger & Saul,
    "Distance metric learning for large margin nearest neighbor classification" (JMLR 2009).
    """
    anchor, torch = _as_embeddings(anchor, "anchor")
    positive, torch_p = _as_embeddings(positive, "positive")
    negative, torch_n = _as_embeddings(negative, "negative")
    if len({torch is None, torch_p is None, torch_n is None}) > 1:
        raise TypeError("anchor, positive and negative must be all tensors or all NumPy arrays")
    if not anchor.shape == positive.shape == negative.shape:
        raise ValueError(
            "anchor, positive and negative must have the same shape (N, D), got "
            f"{tuple(anchor.shape)}, {tuple(positive.shape)} and {tuple(negative.shape)}"
        )
    margin = check_scalar(margin, "margin", low=0)
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    d_ap = ((anchor - positive) ** 2).sum(1)  # [N]
    d_an = ((anchor - negative) ** 2).sum(1)  # [N]
    losses = d_ap - d_an + margin  # [N]
    losses = losses.clamp(min=0) if torch else np.maximum(losses, 0)
    if reduction == "none":
        return losses
    if reduction == "mean":
        if len(losses) == 0:
            raise ValueError("the mean triplet loss needs at least one triplet, got 0")
        return losses.mean()
    return losses.sum()


def _as_embeddings(x, name):
    """(x, torch module or None): a float tensor, or a float ndarray; 2-D either way."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        torch = None
    if torch is not None and isinstance(x, torch.Tensor):
        if x.ndim != 2:
            raise ValueError(f"{name} must have shape (N, D), got {tuple(x.shape)}")
        if not x.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got {x.dtype}")
        return x, torch
    return as_float_array(x, name, ndim=2), None
