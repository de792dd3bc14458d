"""Choosing triplets from a batch of embeddings (ch. 8): random, semi-hard or hard negatives.

Every ordered pair ``(a, p)`` of two images of one person is an anchor-positive pair; the
strategy only picks the negative ``n``, another person's image: ``"random"`` uniformly,
``"semi_hard"`` the closest one still farther than the positive (when none is, the farthest, as
TensorFlow Addons' ``triplet_semihard_loss``), ``"hard"`` the closest one.

References: Schroff et al., "FaceNet" (CVPR 2015), section 3.2; Hermans et al., "In defense of
the triplet loss for person re-identification" (2017), section 2.
"""

from __future__ import annotations

import numpy as np

from mlnotes.core import as_class_labels, as_float_array, check_choice, check_same_length, to_numpy
from mlnotes.faces.distances import pairwise_distances

STRATEGIES = ("random", "semi_hard", "hard")


def mine_triplets(embeddings, labels, strategy: str = "random", seed: int | None = 0):
    """Index triplets ``(a, p, n)``, each ``ndarray[T]``: every anchor-positive pair, one negative.

        semi_hard: n = argmin { d(a, n) : label n != label a, d(a, n) > d(a, p) }
        hard:      n = argmin { d(a, n) : label n != label a }

    with ``d`` the squared Euclidean distance between rows of ``embeddings [N, D]`` (a tensor is
    read without its gradient), ``labels [N]`` the identities. Ties go to the lowest index;
    anchors come in increasing order; ``seed`` drives the ``"random"`` negatives.
    """
    check_choice(strategy, "strategy", STRATEGIES)
    emb = as_float_array(to_numpy(embeddings), "embeddings", ndim=2).astype(np.float64)
    labels = as_class_labels(to_numpy(labels), name="labels")
    check_same_length(embeddings=emb, labels=labels)
    return triplets_of(emb, labels, strategy, seed)


def triplets_of(emb: np.ndarray, labels: np.ndarray, strategy: str, seed: int | None):
    """``mine_triplets`` on checked float64 ``emb`` and int64 ``labels``: for a training step."""
    same = labels[:, None] == labels[None, :]  # [N, N]
    if same.all():
        raise ValueError("labels hold a single identity: a triplet needs a negative")
    anchor, positive = np.nonzero(same & ~np.eye(len(labels), dtype=bool))  # [T] each
    if len(anchor) == 0:
        raise ValueError("no identity has two images in the batch: a triplet needs a positive")
    negatives = ~same[anchor]  # [T, N] which images may be the negative of each pair
    if strategy == "random":
        rng = np.random.default_rng(seed)
        # a uniform choice among each row's negatives: the row's largest random key wins
        keys = np.where(negatives, rng.random(negatives.shape), -1.0)  # [T, N]
        return anchor, positive, keys.argmax(1)
    dist = pairwise_distances(emb, emb)  # [N, N] squared
    d_an = np.where(negatives, dist[anchor], np.inf)  # [T, N], inf where not a negative
    if strategy == "hard":
        return anchor, positive, d_an.argmin(1)
    d_ap = dist[anchor, positive][:, None]  # [T, 1]
    beyond = np.where(d_an > d_ap, d_an, np.inf)  # [T, N] negatives farther than the positive
    has_beyond = np.isfinite(beyond).any(1)  # [T]
    farthest = np.where(negatives, dist[anchor], -np.inf).argmax(1)  # [T] the fallback
    return anchor, positive, np.where(has_beyond, beyond.argmin(1), farthest)
