"""Distances between embeddings and the triplet loss (ch. 8).

    d(x_i, x_j) = ||f(x_i) - f(x_j)||^2
    L(A, P, N) = max(||f(A) - f(P)||^2 - ||f(A) - f(N)||^2 + alpha, 0)

Embeddings are rows ``[N, D]``, NumPy arrays or torch tensors (answered in kind, with autograd).

References: Schroff et al., "FaceNet" (CVPR 2015), section 3; Weinberger & Saul, "Distance
metric learning for large margin nearest neighbor classification" (JMLR 2009).
"""

from __future__ import annotations

import numpy as np
import torch

from mlnotes.core import as_float_array, check_choice, check_float_tensor, check_scalar

REDUCTIONS = ("sum", "mean", "none")


def pairwise_distances(emb1, emb2, squared: bool = True):
    """Squared (or, ``squared=False``, plain) Euclidean distances ``[N, M]`` of the rows.

        D[i, j] = ||emb1[i] - emb2[j]||^2 = ||emb1[i]||^2 + ||emb2[j]||^2 - 2 emb1[i] . emb2[j]

    The expansion needs one matrix product instead of an ``[N, M, D]`` difference; rounding can
    make it slightly negative for equal rows, so it is clamped at 0 before any square root.
    """
    (emb1, emb2), is_tensor = _as_embeddings(emb1=emb1, emb2=emb2)
    if (d1 := emb1.shape[1]) != (d2 := emb2.shape[1]):
        raise ValueError(f"emb1 and emb2 must have the same dimension D, got {d1} and {d2}")
    sq1 = (emb1**2).sum(1)[:, None]  # [N, 1]
    sq2 = (emb2**2).sum(1)[None, :]  # [1, M]
    dist = sq1 + sq2 - 2 * emb1 @ emb2.T  # [N, M]
    dist = dist.clamp(min=0) if is_tensor else np.maximum(dist, 0)
    if squared:
        return dist
    return dist.sqrt() if is_tensor else np.sqrt(dist)


def triplet_loss(anchor, positive, negative, margin: float = 0.2, reduction: str = "sum"):
    """FaceNet's triplet loss of the rows of ``anchor``, ``positive``, ``negative`` ``[N, D]``:

        L_i = max(||a_i - p_i||^2 - ||a_i - n_i||^2 + margin, 0),   J = sum_i L_i

    Without the margin, ``a = p = n`` (every embedding the same) has zero loss; the margin asks
    the negative to be farther than the positive by at least ``margin``. ``reduction``:
    ``"sum"`` (the course's J), ``"mean"`` (J / N, refused for N = 0) or ``"none"`` (every L_i).
    """
    (anchor, positive, negative), _ = _as_embeddings(
        anchor=anchor, positive=positive, negative=negative
    )
    if not anchor.shape == positive.shape == negative.shape:
        raise ValueError(
            "anchor, positive and negative must have the same shape (N, D), got "
            f"{tuple(anchor.shape)}, {tuple(positive.shape)} and {tuple(negative.shape)}"
        )
    margin = check_scalar(margin, "margin", low=0)
    check_choice(reduction, "reduction", REDUCTIONS)
    losses = triplet_hinge(anchor, positive, negative, margin)  # [N]
    if reduction == "none":
        return losses
    if reduction == "mean":
        if len(losses) == 0:
            raise ValueError("the mean triplet loss needs at least one triplet, got 0")
        return losses.mean()
    return losses.sum()


def triplet_hinge(anchor, positive, negative, margin: float):
    """Every L_i of ``triplet_loss``, unchecked: for a training loop's inner step."""
    d_ap = ((anchor - positive) ** 2).sum(1)  # [N]
    d_an = ((anchor - negative) ** 2).sum(1)  # [N]
    losses = d_ap - d_an + margin  # [N]
    return losses.clamp(min=0) if isinstance(losses, torch.Tensor) else np.maximum(losses, 0)


def _as_embeddings(**embeddings):
    # the embeddings as 2-D float tensors or 2-D float ndarrays, and whether they are tensors
    kinds = {isinstance(x, torch.Tensor) for x in embeddings.values()}
    if len(kinds) > 1:
        raise TypeError(f"{', '.join(embeddings)} must be all torch tensors or all NumPy arrays")
    checked = []
    for name, x in embeddings.items():
        if isinstance(x, torch.Tensor):
            check_float_tensor(x, name)
            if x.ndim != 2:
                raise ValueError(f"{name} must be 2-D (N, D), got shape {tuple(x.shape)}")
        else:
            x = as_float_array(x, name, ndim=2)
        checked.append(x)
    return checked, kinds.pop()
