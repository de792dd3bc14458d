"""Tabular data sets from scikit-learn, split and standardised the same way in every chapter."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler


class Split(NamedTuple):
    """A train/test split: ``X_* (ndarray[m, n_x])``, ``y_* (ndarray[m])``, feature names."""

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    feature_names: list[str]


def load_breast_cancer_split(
    test_size: float = 0.25, seed: int = 0, features: list[str] | None = None
) -> Split:
    """The Wisconsin diagnostic breast-cancer data (569 tumours, 30 features), split and scaled.

    Label 1 is *benign* (357 tumours), 0 *malignant* (212), as scikit-learn ships it. The split is
    stratified, so both parts keep the 63 % / 37 % class balance. Each feature is standardised,
    ``x' = (x - mean) / std``, with the mean and std of the **training** part only, so nothing
    about the test examples leaks into training.

    Args:
        test_size (float): fraction of examples held out, in (0, 1).
        seed (int): seed of the shuffle before splitting.
        features (list[str] | None): names of the columns to keep (e.g. ``["mean radius",
            "mean texture"]``); ``None`` keeps all 30.

    Returns:
        Split: float64 ``X_train (ndarray[m_train, n_x])``, ``X_test (ndarray[m_test, n_x])``,
        int64 ``y_train (ndarray[m_train])``, ``y_test (ndarray[m_test])``, ``feature_names``.

    Reference: Street, Wolberg & Mangasarian (1993); ``sklearn.datasets.load_breast_cancer``.
    """
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size!r}")
    data = load_breast_cancer()
    names = [str(name) for name in data.feature_names]
    X = data.data
    if features is not None:
        unknown = [f for f in features if f not in names]
        if unknown or not features:
            raise ValueError(
                f"features must be a non-empty list of names among {names}, got unknown {unknown}"
            )
        X = X[:, [names.index(f) for f in features]]
        names = list(features)
    X_train, X_test, y_train, y_test = train_test_split(
        X, data.target, test_size=test_size, random_state=seed, stratify=data.target
    )
    scaler = StandardScaler().fit(X_train)
    return Split(
        scaler.transform(X_train),
        scaler.transform(X_test),
        y_train.astype(np.int64),
        y_test.astype(np.int64),
        names,
    )
