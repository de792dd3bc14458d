"""The costs of neural style transfer: content, Gram matrix, style per layer and over
layers, and their weighted sum (Ng's notation; activations are torch tensors
``Tensor[C, H, W]`` or ``Tensor[N, C, H, W]``; a batch's costs are summed).

Reference: Gatys, Ecker and Bethge, "Image style transfer using convolutional neural networks",
CVPR 2016, Eqs. 1-7; Ng, Deep Learning Specialization, course 4, week 4 (the normalisations).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from mlnotes.core import check_float_tensor, check_scalar


def _check_activations(a, name: str) -> None:
    check_float_tensor(a, name)
    if a.ndim not in (3, 4):
        raise ValueError(f"{name} must have shape (C, H, W) or (N, C, H, W), got {tuple(a.shape)}")


def _check_pair(a_X, a_G, name_X: str) -> None:
    _check_activations(a_X, name_X)
    _check_activations(a_G, "a_G")
    if a_X.shape != a_G.shape:
        raise ValueError(
            f"{name_X} and a_G must have the same shape, got {tuple(a_X.shape)} and "
            f"{tuple(a_G.shape)}"
        )


def gram_matrix(a: torch.Tensor) -> torch.Tensor:
    """Gram matrix of a layer's activations: ``G_kk' = sum_{i,j} a_{k,i,j} a_{k',i,j}``.

    Entry (k, k') is the unnormalised (uncentred) correlation of channels k and k' over all
    positions: large when the two features fire at the same places. It forgets *where* they fire,
    which is why it describes style and texture rather than content. Returns ``Tensor[C, C]``
    (or ``[N, C, C]``), symmetric and positive semi-definite (Gatys Eq. 3).
    """
    _check_activations(a, "a")
    unrolled = a.flatten(start_dim=-2)  # [..., C, H W]
    return unrolled @ unrolled.transpose(-1, -2)  # [..., C, C]


def content_cost(a_C: torch.Tensor, a_G: torch.Tensor) -> torch.Tensor:
    """Content cost ``J_content = 1 / (4 n_H n_W n_C) * sum (a(C) - a(G))**2`` at one layer.

    Gatys's Eq. 1 has 1/2 where Ng's exercise has 1/(4 n_H n_W n_C).
    """
    _check_pair(a_C, a_G, "a_C")
    n_C, n_H, n_W = a_G.shape[-3:]
    return ((a_C - a_G) ** 2).sum() / (4 * n_H * n_W * n_C)


def layer_style_cost(a_S: torch.Tensor, a_G: torch.Tensor) -> torch.Tensor:
    """Style cost at one layer ``J_style^l = 1 / (4 n_C**2 (n_H n_W)**2) * sum (G(S) - G(G))**2``.

    Gatys's Eq. 4 with N_l = n_C and M_l = n_H n_W.
    """
    _check_pair(a_S, a_G, "a_S")
    n_C, n_H, n_W = a_G.shape[-3:]
    difference = gram_matrix(a_S) - gram_matrix(a_G)  # [..., C, C]
    return (difference**2).sum() / (4 * n_C**2 * (n_H * n_W) ** 2)


def _check_layer_weights(layer_weights) -> dict[str, float]:
    if not isinstance(layer_weights, Mapping) or not layer_weights:
        raise ValueError(
            f"layer_weights must be a non-empty dict {{layer: weight}}, got {layer_weights!r}"
        )
    return {
        name: check_scalar(weight, f"layer_weights[{name!r}]", low=0)
        for name, weight in layer_weights.items()
    }


def style_cost(
    feats_S: Mapping[str, torch.Tensor],
    feats_G: Mapping[str, torch.Tensor],
    layer_weights: Mapping[str, float],
) -> torch.Tensor:
    """Style cost over several layers ``J_style = sum_l lambda_l J_style^l``.

    ``feats_S`` and ``feats_G`` map layer names to activations; ``layer_weights`` gives
    ``lambda_l >= 0`` for each layer to use.
    """
    weights = _check_layer_weights(layer_weights)
    for name in weights:
        for feats, which in ((feats_S, "feats_S"), (feats_G, "feats_G")):
            if name not in feats:
                raise ValueError(f"layer {name!r} of layer_weights is missing from {which}")
    costs = [weight * layer_style_cost(feats_S[n], feats_G[n]) for n, weight in weights.items()]
    return torch.stack(costs).sum()


def total_cost(J_content, J_style, alpha: float = 10, beta: float = 40):
    """Total cost ``J(G) = alpha J_content(C, G) + beta J_style(S, G)``, ``alpha, beta >= 0``.

    Only the ratio alpha / beta matters to the minimiser (the scale changes the step sizes);
    Ng's course uses 10 and 40.
    """
    alpha = check_scalar(alpha, "alpha", low=0)
    beta = check_scalar(beta, "beta", low=0)
    return alpha * J_content + beta * J_style
