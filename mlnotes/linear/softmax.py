"""Softmax regression in NumPy: softmax, one-hot labels, cross-entropy and the model (chapter 2).

Shapes: ``X (ndarray[m, n_x])``, weights ``W (ndarray[n_x, C])``, bias ``b (ndarray[C])``,
scores ``Z = X W + b (ndarray[m, C])``, integer labels ``y (ndarray[m])`` in [0, C).

References: Bridle (1990); Bishop, *Pattern Recognition and Machine Learning*, section 4.3.4;
Goodfellow et al., *Deep Learning*, section 6.2.2.3.
"""

from __future__ import annotations

import numpy as np

from mlnotes.core import (
    as_class_labels,
    as_float_array,
    check_same_length,
    check_scalar,
    require_examples,
)
from mlnotes.linear.base import LinearClassifier


def softmax(z, axis: int = -1) -> np.ndarray:
    """``softmax(z)_j = exp(z_j) / sum_k exp(z_k)`` along ``axis``, stable for any ``z``.

    Subtracting ``max_k z_k`` first leaves the result unchanged (it multiplies numerator and
    denominator by the same ``exp(-max z)``) and keeps every ``exp`` argument <= 0, so logits
    of +-1000 neither overflow nor give ``nan``. ``z (ndarray[..., C])``: logits, classes along
    ``axis``.
    """
    return _softmax(as_float_array(z, "z"), axis)


def _softmax(z: np.ndarray, axis: int) -> np.ndarray:
    shifted = z - z.max(axis=axis, keepdims=True)  # [..., C], max along axis is 0
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(z, axis: int = -1) -> np.ndarray:
    """``log softmax(z)_j = z_j - log sum_k exp(z_k)``, computed without forming ``softmax(z)``.

    Log-probabilities, all <= 0 and finite for finite ``z``, along the class ``axis``.
    """
    return _log_softmax(as_float_array(z, "z"), axis)


def _log_softmax(z: np.ndarray, axis: int) -> np.ndarray:
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def one_hot(y, num_classes: int) -> np.ndarray:
    """One-hot rows ``Y (ndarray[m, C])``, float64: ``Y[i, j] = 1`` if ``y[i] == j`` else 0.

    ``y (ndarray[m])`` holds integer labels in [0, C), ``C = num_classes >= 1``.
    """
    num_classes = check_scalar(num_classes, "num_classes", low=1, integer=True)
    y = as_class_labels(y, num_classes)
    Y = np.zeros((len(y), num_classes))
    Y[np.arange(len(y)), y] = 1.0
    return Y


def cross_entropy(logits, y) -> float:
    """Mean cross-entropy of class scores, from **logits** (not probabilities).

        L(y_hat, y) = -sum_j y_j log y_hat_j,   y_hat = softmax(z),   J = (1/m) sum_i L_i

    computed as ``-sum_j y_j log_softmax(z)_j``, stable for any logits ``z (ndarray[m, C])``.
    ``y`` holds integer labels ``[m]`` in [0, C), or one-hot (or any probability) rows ``[m, C]``.
    """
    logits = as_float_array(logits, "logits", ndim=2)
    Y = _target_rows(y, logits.shape[1])
    check_same_length(logits=logits, y=Y)
    require_examples(len(Y))
    return _cross_entropy(logits, Y)


def _cross_entropy(Z: np.ndarray, Y: np.ndarray) -> float:
    return float(-np.mean(np.sum(Y * _log_softmax(Z, axis=1), axis=1)))


def softmax_loss_and_grad(W, b, X, y, l2: float = 0.0):
    """Cost of softmax regression and its gradients, vectorised over the m examples.

        Z = X W + b,   Y_hat = softmax(Z)                      # [m, C]
        J = (1/m) sum_i L(y_hat_i, y_i) + (l2 / 2m) ||W||^2
        dJ/dZ = (Y_hat - Y) / m                                 # [m, C]
        dJ/dW = X^T dJ/dZ + (l2/m) W,   dJ/db = sum_i dJ/dZ_i   # [n_x, C], [C]

    ``y`` holds integer labels ``[m]`` or one-hot rows ``[m, C]``; the bias is not regularised.
    Returns ``(J, dW, db)``: a float, ``ndarray[n_x, C]``, ``ndarray[C]``.
    """
    X = as_float_array(X, "X", ndim=2)
    W = as_float_array(W, "W", ndim=2)
    b = as_float_array(b, "b", ndim=1)
    if W.shape[0] != X.shape[1] or b.shape != (W.shape[1],):
        raise ValueError(
            f"W must have shape ({X.shape[1]}, C) to match X {X.shape} and b shape (C,), "
            f"got W {W.shape} and b {b.shape}"
        )
    Y = _target_rows(y, W.shape[1])
    check_same_length(X=X, y=Y)
    require_examples(len(Y))
    return _softmax_loss_and_grad(W, b, X, Y, check_scalar(l2, "l2", low=0))


def _softmax_loss_and_grad(W, b, X, Y, l2):
    m = X.shape[0]
    Z = X @ W + b  # [m, C]
    cost = _cross_entropy(Z, Y) + l2 / (2 * m) * float(np.sum(W * W))
    dZ = (_softmax(Z, axis=1) - Y) / m  # [m, C]
    return cost, X.T @ dZ + (l2 / m) * W, dZ.sum(axis=0)


class SoftmaxRegression(LinearClassifier):
    """Multinomial logistic regression ``p(y=j|x) = softmax(W^T x + b)_j`` for C classes.

    Minimises ``J = (1/m) sum_i -log p(y_i|x_i) + (l2 / 2m) ||W||^2`` by batch gradient descent
    from ``W = 0, b = 0``. The number of classes C is ``max(y) + 1`` of the labels seen in
    ``fit`` unless ``num_classes`` is given (when some classes may be missing from the training
    labels). After ``fit``, ``coef_ (ndarray[n_x, C])`` is W (the transpose of scikit-learn's),
    ``intercept_ (ndarray[C])`` is b, and ``history_[0]`` is log C.
    """

    def __init__(self, lr=0.1, epochs=1000, l2=0.0, num_classes: int | None = None):
        super().__init__(lr=lr, epochs=epochs, l2=l2)
        if num_classes is not None:
            num_classes = check_scalar(num_classes, "num_classes", low=2, integer=True)
        self.num_classes = num_classes

    def _labels(self, y) -> np.ndarray:  # for score, after fit: the labels must be in [0, C)
        return as_class_labels(y, self.coef_.shape[1])

    def _targets(self, y) -> np.ndarray:
        y = as_class_labels(y, self.num_classes)
        return one_hot(y, self.num_classes or max(int(y.max(initial=0)) + 1, 2))

    def _loss_and_grad(self, W, b, X, Y):
        return _softmax_loss_and_grad(W, b, X, Y, self.l2)

    def predict_proba(self, X) -> np.ndarray:
        """``softmax(W^T x + b)`` for each row of ``X``: ``ndarray[m, C]``, rows summing to 1."""
        return softmax(self.decision_function(X), axis=1)

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row of ``X``: ``ndarray[m]`` of int64."""
        return self.decision_function(X).argmax(axis=1)


def _target_rows(y, num_classes: int) -> np.ndarray:
    # integer labels become one-hot rows; rows of probabilities are checked and kept
    y = np.asarray(y)
    if y.ndim == 1:
        return one_hot(y, num_classes)
    Y = as_float_array(y, "y", ndim=2)
    if Y.shape[1] != num_classes:
        raise ValueError(f"y must have {num_classes} columns (one per class), got shape {Y.shape}")
    if Y.size and (Y.min() < 0 or not np.allclose(Y.sum(axis=1), 1)):
        raise ValueError("rows of y must be one-hot (or probabilities): non-negative, summing to 1")
    return Y
