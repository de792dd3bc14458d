"""Small classic data sets shipped with scikit-learn, split (and scaled) the same way everywhere.

``breast_cancer``: Street, Wolberg & Mangasarian (1993); ``digits``: Alpaydin & Kaynak (1998),
UCI Optical Recognition of Handwritten Digits.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
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
    about the test examples leaks into training. ``features``: the names of the columns to keep
    (e.g. ``["mean radius", "mean texture"]``), ``None`` for all 30; labels are int64.
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
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    return Split(X_train, X_test, y_train.astype(np.int64), y_test.astype(np.int64), names)


def load_digits_split(test_size: float = 0.25, seed: int = 0) -> Split:
    """The UCI handwritten digits: 1797 images of 8x8 pixels, 10 classes, split and scaled.

    Pixels are grey levels 0..16; they are divided by 16, so every feature lies in [0, 1] and a
    row reshaped to ``(8, 8)`` is the image. (Dividing by a constant known in advance uses no
    statistics of the data, so nothing leaks from the test part.) The split is stratified; the
    labels are int64 0..9, the feature names ``"pixel_r_c"`` for row r and column c.
    """
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size!r}")
    data = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        data.data / 16.0, data.target, test_size=test_size, random_state=seed, stratify=data.target
    )
    names = [f"pixel_{r}_{c}" for r in range(8) for c in range(8)]
    return Split(X_train, X_test, y_train.astype(np.int64), y_test.astype(np.int64), names)
