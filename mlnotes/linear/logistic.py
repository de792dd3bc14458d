"""Logistic regression in NumPy: the sigmoid, the logistic loss and the model (chapter 1).

Examples are rows: ``X (ndarray[m, n_x])``, ``y (ndarray[m])``, weights ``w (ndarray[n_x])``;
the book's per-example ``z = W^T x + b`` reads ``z = X w + b`` for a batch.

References: Cox (1958); Bishop, *Pattern Recognition and Machine Learning*, section 4.3.2;
Goodfellow et al., *Deep Learning*, section 3.10 and eq. (6.23) (the softplus form).
"""

from __future__ import annotations

import numpy as np

from mlnotes.core import (
    as_binary_labels,
    as_float_array,
    check_same_length,
    check_scalar,
    require_examples,
)
from mlnotes.linear.base import LinearClassifier

# log(y_hat) is clamped below at -100, the convention of torch.nn.functional.binary_cross_entropy,
# so that a confident wrong prediction (y_hat = 0 for y = 1) costs 100 rather than infinity.
LOG_FLOOR = -100.0


def sigmoid(z):
    """The logistic sigmoid ``sigma(z) = 1 / (1 + exp(-z))``, stable for any ``z``.

    For ``z < 0`` it uses the equal form ``exp(z) / (1 + exp(z))``, so ``exp`` never receives a
    large positive argument: ``sigmoid(-1000)`` is 0 without an overflow warning. Values in
    [0, 1], shaped like ``z``; integers become float64.
    """
    return _sigmoid(as_float_array(z, "z"))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    out = np.empty_like(z)
    positive = z >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-z[positive]))
    ez = np.exp(z[~positive])  # z < 0, so 0 < ez < 1
    out[~positive] = ez / (1.0 + ez)
    return out


def sigmoid_grad(z):
    """Derivative of the sigmoid, ``d sigma / dz = sigma(z) (1 - sigma(z))``, in (0, 1/4], largest
    at ``z = 0``."""
    s = sigmoid(z)
    return s * (1.0 - s)


def binary_cross_entropy(y_hat, y) -> float:
    """Mean logistic loss of predicted probabilities.

        J = (1/m) sum_i L(y_hat_i, y_i),  L(y_hat, y) = -(y log y_hat + (1 - y) log(1 - y_hat))

    ``y_hat (ndarray[m])`` holds probabilities, ``y (ndarray[m])`` labels in {0, 1}. Safe at
    ``y_hat`` in {0, 1}: each log is clamped below at -100 (PyTorch's convention).
    """
    y_hat = as_float_array(y_hat, "y_hat", ndim=1)
    y = as_binary_labels(y)
    check_same_length(y_hat=y_hat, y=y)
    if y_hat.size and (y_hat.min() < 0 or y_hat.max() > 1):
        raise ValueError(
            f"y_hat must hold probabilities in [0, 1], got values in "
            f"[{y_hat.min():.4g}, {y_hat.max():.4g}]"
        )
    require_examples(len(y))
    with np.errstate(divide="ignore"):  # log(0) = -inf is clamped just below
        log_p = np.maximum(np.log(y_hat), LOG_FLOOR)
        log_not_p = np.maximum(np.log1p(-y_hat), LOG_FLOOR)
    return float(-np.mean(y * log_p + (1 - y) * log_not_p))


def logistic_loss(z, y) -> np.ndarray:
    """The logistic loss of each logit, elementwise, stable for any ``z``:

        L(z, y) = -(y log sigma(z) + (1 - y) log(1 - sigma(z)))
                = log(1 + exp(z)) - y z = max(z, 0) - y z + log(1 + exp(-|z|))

    The building block of the costs from logits: chapter 1's mean over examples and chapter 4's
    sum over tasks. ``y`` has the shape of ``z``; it is not checked to hold labels (the costs
    that call this do).
    """
    z, y = as_float_array(z, "z"), as_float_array(y, "y")
    if z.shape != y.shape:
        raise ValueError(f"y must have the shape of z {z.shape}, got {y.shape}")
    return _logistic_loss(z, y)


def _logistic_loss(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z)))


def binary_cross_entropy_with_logits(z, y) -> float:
    """Mean logistic loss computed from the logits ``z`` (before the sigmoid), without clamping.

        L(z, y) = log(1 + exp(z)) - y z = max(z, 0) - y z + log(1 + exp(-|z|))

    Equal to ``binary_cross_entropy(sigmoid(z), y)`` wherever that one is not clamped, and exact
    for any ``z``: the loss of a confident mistake keeps growing like ``|z|``. ``z (ndarray[m])``
    are the logits ``X w + b``, ``y (ndarray[m])`` labels in {0, 1}.
    """
    z = as_float_array(z, "z", ndim=1)
    y = as_binary_labels(y)
    check_same_length(z=z, y=y)
    require_examples(len(y))
    return float(np.mean(_logistic_loss(z, y)))


def logistic_loss_and_grad(w, b, X, y, l2: float = 0.0):
    """Cost of logistic regression and its gradients, vectorised over the m examples.

        z = X w + b,   y_hat = sigma(z)
        J = (1/m) sum_i L(y_hat_i, y_i) + (l2 / 2m) ||w||^2
        dJ/dw = (1/m) X^T (y_hat - y) + (l2/m) w        # [n_x]
        dJ/db = (1/m) sum_i (y_hat_i - y_i)

    Returns ``(J, dw, db)``; ``y`` holds labels in {0, 1}; the bias is not regularised.
    """
    X = as_float_array(X, "X", ndim=2)
    y = as_binary_labels(y)
    w = as_float_array(w, "w", ndim=1)
    b = float(as_float_array(b, "b", ndim=0))
    check_same_length(X=X, y=y)
    require_examples(len(y))
    if w.shape[0] != X.shape[1]:
        raise ValueError(f"w must have shape ({X.shape[1]},) to match X {X.shape}, got {w.shape}")
    return _logistic_loss_and_grad(w, b, X, y, check_scalar(l2, "l2", low=0))


def _logistic_loss_and_grad(w, b, X, y, l2):
    m = X.shape[0]
    z = X @ w + b  # [m]
    error = _sigmoid(z) - y  # [m], dL/dz for each example
    cost = float(np.mean(_logistic_loss(z, y))) + l2 / (2 * m) * float(w @ w)
    dw = X.T @ error / m + (l2 / m) * w  # [n_x]
    db = float(error.mean())
    return cost, dw, db


class LogisticRegression(LinearClassifier):
    """Binary logistic regression ``p(y=1|x) = sigma(w^T x + b)`` fitted by batch gradient descent.

    Minimises ``J(w, b) = (1/m) sum_i L(y_hat_i, y_i) + (l2 / 2m) ||w||^2`` from ``w = 0, b = 0``.
    The cost is convex, so gradient descent with a small enough ``lr`` approaches the unique
    minimum. scikit-learn's ``LogisticRegression(C=1/l2)`` minimises the same cost times ``m/l2``.
    After ``fit``, ``coef_ (ndarray[n_x])`` is w, ``intercept_`` b and ``history_[0]`` log 2.
    """

    def _labels(self, y) -> np.ndarray:
        return as_binary_labels(y)

    def _loss_and_grad(self, w, b, X, y):
        return _logistic_loss_and_grad(w, b, X, y, self.l2)

    def predict_proba(self, X) -> np.ndarray:
        """``p(y=1|x) = sigma(w^T x + b)`` for each row of ``X``: ``ndarray[m]`` (1-D, unlike
        scikit-learn's ``[m, 2]``)."""
        return sigmoid(self.decision_function(X))

    def predict(self, X, threshold: float = 0.5) -> np.ndarray:
        """Labels ``1[p(y=1|x) >= threshold]`` in {0, 1} as int64; ``threshold`` in (0, 1), where
        0.5 is the boundary ``w^T x + b = 0``."""
        if not 0 < threshold < 1:
            raise ValueError(f"threshold must be in (0, 1), got {threshold!r}")
        return (self.predict_proba(X) >= threshold).astype(np.int64)
