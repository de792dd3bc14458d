"""The encoder f(x) of a Siamese network and the pair classifier on top of it (ch. 8).

f(x) = normalise(W . avgpool(conv blocks(x)))            (FaceEmbedder, ||f(x)|| = 1)
y_hat = sigmoid(sum_k w_k feature_k(f(x_i), f(x_j)) + b)   (PairClassifier)

References: Bromley et al., "Signature verification using a Siamese time delay neural network"
(NIPS 1993); Taigman et al., "DeepFace" (CVPR 2014), section 4.2 (weighted χ² features);
Schroff et al., "FaceNet" (CVPR 2015), section 3 (the L2-normalised embedding); Ng, Deep
Learning Specialization, course 4 week 4.
"""

from __future__ import annotations

import torch
from torch import nn

from mlnotes.core import check_images, check_scalar

FEATURES = ("l1", "chi2")


class FaceEmbedder(nn.Module):
    """A small CNN that maps a face image to a unit-length embedding.

    Three stages of (3x3 convolution, batch norm, ReLU, 2x2 max pool) with ``width``, ``2 width``
    and ``4 width`` channels, a last 3x3 convolution, global average pooling (the position of a
    feature stops mattering, which absorbs shifts of the face), a linear layer to
    ``embedding_dim`` and an L2 normalisation, so that every embedding lies on the unit sphere
    and squared distances are in [0, 4].

    Both images of a pair go through this one module: the "two networks" of a Siamese network
    share their weights because they are the same network.

    Args:
        in_channels (int): 1 for grey images, 3 for colour.
        embedding_dim (int): D, the length of f(x).
        width (int): channels of the first convolution.

    Shapes: ``x (Tensor[N, in_channels, H, W])``, H, W >= 8 -> ``Tensor[N, embedding_dim]``.
    """

    def __init__(self, in_channels: int = 1, embedding_dim: int = 64, width: int = 16):
        super().__init__()
        self.in_channels = check_scalar(in_channels, "in_channels", low=1, integer=True)
        check_scalar(embedding_dim, "embedding_dim", low=1, integer=True)
        check_scalar(width, "width", low=1, integer=True)

        def block(c_in, c_out, pool=True):
            layers = [
                nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(),
            ]
            return layers + [nn.MaxPool2d(2)] if pool else layers

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
    ReLU outputs); ``eps`` keeps ``0 / 0`` at 0.

    Args:
        emb1, emb2 (Tensor[N, D]): the embeddings of the two images of each pair.
        kind (str): ``"l1"`` or ``"chi2"``.
        eps (float): added to the χ² denominator, > 0.

    Returns:
        Tensor[N, D]: one feature per component.
    """
    if kind not in FEATURES:
        raise ValueError(f"kind must be one of {FEATURES}, got {kind!r}")
    for name, e in (("emb1", emb1), ("emb2", emb2)):
        if not isinstance(e, torch.Tensor) or e.ndim != 2:
            raise ValueError(f"{name} must be a 2-D tensor (N, D), got {getattr(e, 'shape', e)}")
    if emb1.shape != emb2.shape:
        raise ValueError(
            f"emb1 and emb2 must have the same shape, got {tuple(emb1.shape)} and "
            f"{tuple(emb2.shape)}"
        )
    check_scalar(eps, "eps", low=0, strict=True)
    if kind == "l1":
        return (emb1 - emb2).abs()
    if (emb1 < 0).any() or (emb2 < 0).any():
        raise ValueError("chi2 features need non-negative embeddings (e.g. (f + 1) / 2 of unit f)")
    return (emb1 - emb2) ** 2 / (emb1 + emb2 + eps)


class PairClassifier(nn.Module):
    """Logistic regression on the features of a pair: is it the same person?

        y_hat = sigmoid(sum_k w_k feature_k + b)

    ``forward`` takes the two embeddings of each pair stacked as ``[N, 2, D]`` (so that the
    course's training loop can feed it one tensor) and returns the logit
    ``sum_k w_k feature_k + b``; train it with ``BCEWithLogitsLoss``. The embeddings can be
    computed once for a whole database: a new face then costs one pass through the encoder and
    a dot product per enrolled person.

    Args:
        embedding_dim (int): D.
        kind (str): ``"l1"`` or ``"chi2"`` (see ``pair_features``).

    Shapes: ``pairs (Tensor[N, 2, D])`` -> ``Tensor[N]`` logits.
    """

    def __init__(self, embedding_dim: int, kind: str = "l1"):
        super().__init__()
        check_scalar(embedding_dim, "embedding_dim", low=1, integer=True)
        if kind not in FEATURES:
            raise ValueError(f"kind must be one of {FEATURES}, got {kind!r}")
        self.kind = kind
        self.linear = nn.Linear(embedding_dim, 1)

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        if pairs.ndim != 3 or pairs.shape[1] != 2:
            raise ValueError(f"pairs must have shape (N, 2, D), got {tuple(pairs.shape)}")
        features = pair_features(pairs[:, 0], pairs[:, 1], self.kind)  # [N, D]
        return self.linear(features).squeeze(1)  # [N]
