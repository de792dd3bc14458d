"""Evaluating a face verifier on people it has never seen (ch. 8).

pairs:          i, j, same = make_pairs(labels)          (half same person, half not)
verification:   "same" when d(x_i, x_j) <= tau;  ROC, AUC, the best tau
identification: the nearest of K enrolled people, one photograph each (one-shot)

References: Huang et al., "Labeled Faces in the Wild" (2007) (balanced pairs); Fawcett, "An
introduction to ROC analysis" (2006); Koch et al., "Siamese neural networks for one-shot image
recognition" (2015), section 4.2 (k-way one-shot).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlnotes.core import (
    as_binary_labels,
    as_class_labels,
    as_float_array,
    check_same_length,
    check_scalar,
)
from mlnotes.faces.distances import pairwise_distances


def make_pairs(labels, n_pairs: int = 2000, seed: int = 0):
    """Pairs ``i, j [P]`` (int64) and ``same [P]`` (bool), half of one person and half of two.

    Same-person pairs are drawn without replacement from all ``i < j`` with equal ``labels`` (all
    of them when there are fewer than ``n_pairs / 2``, so P <= n_pairs); as many different-person
    pairs, uniformly.
    """
    labels = as_class_labels(labels, name="labels")
    n_pairs = check_scalar(n_pairs, "n_pairs", low=2, integer=True)
    if len(np.unique(labels)) < 2:
        raise ValueError("labels hold a single identity: different-person pairs need two")
    rng = np.random.default_rng(seed)
    i, j = np.nonzero(np.triu(labels[:, None] == labels[None, :], k=1))  # all same pairs
    if len(i) == 0:
        raise ValueError("no identity has two images: same-person pairs need two")
    keep = rng.permutation(len(i))[: n_pairs // 2]
    i_same, j_same = i[keep], j[keep]
    i_diff = rng.integers(len(labels), size=4 * len(keep))
    j_diff = rng.integers(len(labels), size=4 * len(keep))
    differ = labels[i_diff] != labels[j_diff]  # keep the draws of two different people
    while differ.sum() < len(keep):  # almost never: only with very few identities
        more = rng.integers(len(labels), size=(2, 4 * len(keep)))
        i_diff, j_diff = np.concatenate([i_diff, more[0]]), np.concatenate([j_diff, more[1]])
        differ = labels[i_diff] != labels[j_diff]
    i_diff, j_diff = i_diff[differ][: len(keep)], j_diff[differ][: len(keep)]
    same = np.repeat([True, False], len(keep))
    return np.concatenate([i_same, i_diff]), np.concatenate([j_same, j_diff]), same


@dataclass
class VerificationMetrics:
    """ROC of the rule "same when d <= threshold", its AUC, and the most accurate threshold."""

    fpr: np.ndarray  # [K] false positive rate at each threshold
    tpr: np.ndarray  # [K] true positive rate at each threshold
    thresholds: np.ndarray  # [K] increasing; the first is -inf (nothing called "same")
    auc: float
    best_threshold: float
    accuracy: float  # at best_threshold


def verification_metrics(distances, same) -> VerificationMetrics:
    """ROC curve, AUC, and the threshold of highest accuracy of a distance as a verifier.

        TPR(tau) = #{same, d <= tau} / #same,   FPR(tau) = #{different, d <= tau} / #different
        AUC = P(d_diff > d_same) + P(d_diff = d_same) / 2     (trapezoids under (FPR, TPR))

    for tau each distinct distance (and -inf); ``distances [P]`` may be any score where smaller
    means "more alike", ``same [P]`` must hold both kinds. ``best_threshold`` is the smallest tau
    of highest accuracy on these pairs.
    """
    distances = as_float_array(distances, "distances", ndim=1).astype(np.float64)
    same = as_binary_labels(np.asarray(same, dtype=np.float64), "same").astype(bool)
    check_same_length(distances=distances, same=same)
    n_same, n_diff = int(same.sum()), int((~same).sum())
    if n_same == 0 or n_diff == 0:
        raise ValueError(f"ROC needs both kinds of pairs, got {n_same} same and {n_diff} different")
    order = np.argsort(distances, kind="stable")  # [P] nearest pairs first
    d, s = distances[order], same[order]
    last = np.r_[d[1:] != d[:-1], True]  # [P] the last pair of each distinct distance
    tp = np.cumsum(s)[last]  # [K-1] same pairs with d <= tau
    fp = np.cumsum(~s)[last]  # [K-1] different pairs with d <= tau
    tpr, fpr = np.r_[0, tp / n_same], np.r_[0, fp / n_diff]  # [K]
    thresholds = np.r_[-np.inf, d[last]]  # [K]
    auc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))  # trapezoids
    correct = np.r_[0, tp] + n_diff - np.r_[0, fp]  # [K] same called same + different called not
    best = int(np.argmax(correct))
    return VerificationMetrics(
        fpr, tpr, thresholds, auc, float(thresholds[best]), float(correct[best] / len(d))
    )


def verification_accuracy(distances, same, threshold: float) -> float:
    """Accuracy of "same when d <= threshold", e.g. a validation set's ``best_threshold``.

    accuracy = mean_i [ (d_i <= threshold) == same_i ]
    """
    distances = as_float_array(distances, "distances", ndim=1)
    same = as_binary_labels(np.asarray(same, dtype=np.float64), "same").astype(bool)
    check_same_length(distances=distances, same=same)
    if len(same) == 0:
        raise ValueError("accuracy needs at least one pair, got 0")
    return float(np.mean((distances <= float(threshold)) == same))


def identify(queries, gallery, gallery_labels) -> np.ndarray:
    """The label ``[Q]`` of the nearest ``gallery [G, D]`` row of each of ``queries [Q, D]``.

    label(q) = gallery_labels[argmin_g ||q - g||^2]
    """
    gallery_labels = as_class_labels(gallery_labels, name="gallery_labels")
    gallery = as_float_array(gallery, "gallery", ndim=2)
    check_same_length(gallery=gallery, gallery_labels=gallery_labels)
    return _nearest(as_float_array(queries, "queries", ndim=2), gallery, gallery_labels)


def _nearest(queries, gallery, gallery_labels) -> np.ndarray:
    return gallery_labels[pairwise_distances(queries, gallery).argmin(1)]  # [Q]


def one_shot_accuracy(embeddings, labels, k: int = 10, trials: int = 200, seed: int = 0):
    """Accuracy of one-shot identification among ``k`` people enrolled with one photograph each.

    Each trial picks ``k`` identities, enrols one random photograph of each (the gallery) and
    asks ``identify`` for one other random photograph of one of them; chance is ``1 / k``.
    ``labels`` need ``k`` identities with two photographs. Returns the fraction answered right.
    """
    embeddings = as_float_array(embeddings, "embeddings", ndim=2)
    labels = as_class_labels(labels, name="labels")
    check_same_length(embeddings=embeddings, labels=labels)
    k = check_scalar(k, "k", low=2, integer=True)
    trials = check_scalar(trials, "trials", low=1, integer=True)
    people, counts = np.unique(labels, return_counts=True)
    people = people[counts >= 2]
    if len(people) < k:
        raise ValueError(f"k={k} needs {k} identities with two photographs, got {len(people)}")
    rng = np.random.default_rng(seed)
    correct = 0
    for _ in range(trials):
        enrolled = rng.choice(people, size=k, replace=False)  # [k]
        shots = [rng.choice(np.flatnonzero(labels == p), size=2, replace=False) for p in enrolled]
        gallery = np.array([s[0] for s in shots])  # [k] one photograph per person
        asked = int(rng.integers(k))
        query = shots[asked][1]  # another photograph of one of them
        guess = _nearest(embeddings[[query]], embeddings[gallery], labels[gallery])[0]
        correct += int(guess == enrolled[asked])
    return correct / trials
