"""The encoder f(x) of a Siamese network and the pair classifier on top of it (ch. 8).

f(x) = normalise(W . avgpool(conv blocks(x)))            (FaceEmbedder, ||f(x)|| = 1)
y_hat = sigmoid(sum_k w_k feature_k(f(x_i), f(x_j)) + b)   (PairClassifier)

References: Bromley et al., "Signature verification using a Siamese time delay neural network"
(NIPS 1993); Taigman et al., "DeepFace" (CVPR 2014), section 4.2 (weighted χ² features).
"""

from __future__ import annotations

import torch
from torch import nn

from mlnotes.core import check_choice, check_images, check_scalar

FEATURES = ("l1", "chi2")


class FaceEmbedder(nn.Module):
    """A small CNN: ``x (Tensor[N, C, H, W])``, H, W >= 8 -> unit rows ``Tensor[N, embedding_dim]``.

    Global average pooling absorbs shifts of the face; unit rows put squared distances in [0, 4].
    Both images of a pair go through this one module: a Siamese network's two networks are one.
    """

    def __init__(self, in_channels: int = 1, embedding_dim: int = 64, width: int = 16):
        super().__init__()
        self.in_channels = check_scalar(in_channels, "in_channels", low=1, integer=True)
        check_scalar(embedding_dim, "embedding_dim", low=1, integer=True)
        check_scalar(width, "width", low=1, integer=True)

        def block(c_in, c_out, pool=True):
            conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
            return [conv, nn.BatchNorm2d(c_out), nn.ReLU()] + ([nn.MaxPool2d(2)] if pool else [])

        self.features = nn.Sequential(
            *block(in_channels, width),  # H -> H/2
            *block(width, 2 * width),  # -> H/4
            *block(2 * width, 4 * width),  # -> H/8
            *block(4 * width, 4 * width, pool=False),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),  # [N, 4 width]
        )
        self.project = nn.Linear(4 * width, embedding_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.in_channels, min_size=8)
        z = self.project(self.features(x))  # [N, D]
        return nn.functional.normalize(z, dim=1)  # each row of length 1


def pair_features(emb1, emb2, kind: str = "l1", eps: float = 1e-8):
    """The per-component features of a pair of embeddings that the pair classifier weighs.

        l1:   |f_k(x_i) - f_k(x_j)|
        chi2: (f_k(x_i) - f_k(x_j))^2 / (f_k(x_i) + f_k(x_j) + eps)

    χ² compares two histograms, so it needs non-negative components (DeepFace's features are
    ReLU outputs); ``eps > 0`` keeps ``0 / 0`` at 0. ``emb1, emb2 (Tensor[N, D])`` -> ``[N, D]``.
    """
    check_choice(kind, "kind", FEATURES)
    for name, e in (("emb1", emb1), ("emb2", emb2)):
        if not isinstance(e, torch.Tensor) or e.ndim != 2:
            raise ValueError(f"{name} must be a 2-D tensor (N, D), got {getattr(e, 'shape', e)}")
    if emb1.shape != emb2.shape:
        shapes = f"{tuple(emb1.shape)} and {tuple(emb2.shape)}"
        raise ValueError(f"emb1 and emb2 must have the same shape, got {shapes}")
    check_scalar(eps, "eps", low=0, strict=True)
    if kind == "l1":
        return (emb1 - emb2).abs()
    if (emb1 < 0).any() or (emb2 < 0).any():
        raise ValueError("chi2 features need non-negative embeddings (e.g. (f + 1) / 2 of unit f)")
    return (emb1 - emb2) ** 2 / (emb1 + emb2 + eps)


class PairClassifier(nn.Module):
    """Logistic regression on the ``pair_features`` of a pair: is it the same person?

        y_hat = sigmoid(sum_k w_k feature_k + b)

    ``pairs (Tensor[N, 2, D])``, the two embeddings stacked so that the course's loop feeds one
    tensor -> logits ``Tensor[N]`` (train with ``BCEWithLogitsLoss``).
    """

    def __init__(self, embedding_dim: int, kind: str = "l1"):
        super().__init__()
        check_scalar(embedding_dim, "embedding_dim", low=1, integer=True)
        check_choice(kind, "kind", FEATURES)
        self.kind = kind
        self.linear = nn.Linear(embedding_dim, 1)

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        if pairs.ndim != 3 or pairs.shape[1] != 2:
            raise ValueError(f"pairs must have shape (N, 2, D), got {tuple(pairs.shape)}")
        features = pair_features(pairs[:, 0], pairs[:, 1], self.kind)  # [N, D]
        return self.linear(features).squeeze(1)  # [N]
