"""What logistic and softmax regression share: a linear score fitted by batch gradient descent.

Reference: Goodfellow et al., *Deep Learning*, section 4.3 (gradient-based optimisation).
"""

from __future__ import annotations

import numpy as np

from mlnotes.core import as_float_array, check_same_length, check_scalar


class LinearClassifier:
    """A linear classifier ``z = X W + b`` fitted by full-batch gradient descent from zero.

    Every step is ``W -= lr * dJ/dW``, ``b -= lr * dJ/db`` on the cost
    ``J = mean loss + lambda/(2m) ||W||^2``. A subclass gives ``_labels(y)`` (check the labels),
    ``_loss_and_grad(W, b, X, targets)`` (its cost, unchecked: it runs once per step), and
    ``_targets(y)`` when the cost wants something other than the checked labels.

    ``lr`` is alpha > 0, ``epochs >= 1`` the number of steps, ``l2`` is lambda >= 0. After ``fit``,
    ``coef_`` is W (``[n_x]`` or ``[n_x, C]``), ``intercept_`` is b (a float or ``[C]``) and
    ``history_ (ndarray[epochs])`` holds the cost J before each step.
    """

    def __init__(self, lr: float = 0.1, epochs: int = 1000, l2: float = 0.0):
        self.lr = check_scalar(lr, "lr", low=0, strict=True)
        self.epochs = check_scalar(epochs, "epochs", low=1, integer=True)
        self.l2 = check_scalar(l2, "l2", low=0)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr}, epochs={self.epochs}, l2={self.l2})"

    def _targets(self, y) -> np.ndarray:
        return self._labels(y)

    def fit(self, X, y):
        """Take ``epochs`` gradient steps on ``X (ndarray[m, n_x])``, ``y (ndarray[m])``."""
        X = as_float_array(X, "X", ndim=2).astype(np.float64)
        targets = self._targets(y)  # [m] or [m, C]
        check_same_length(X=X, y=targets)
        W = np.zeros((X.shape[1], *targets.shape[1:]))
        b = np.zeros(targets.shape[1]) if targets.ndim == 2 else 0.0
        history = np.empty(self.epochs)
        for epoch in range(self.epochs):
            history[epoch], dW, db = self._loss_and_grad(W, b, X, targets)
            W -= self.lr * dW
            b = b - self.lr * db
        self.coef_, self.intercept_, self.history_ = W, b, history
        return self

    def decision_function(self, X) -> np.ndarray:
        """The scores ``z = X W + b`` of ``X (ndarray[m, n_x])``: ``ndarray[m]`` or ``[m, C]``."""
        if not hasattr(self, "coef_"):
            raise RuntimeError(
                f"this {type(self).__name__} is not fitted yet: call fit(X, y) first"
            )
        X = as_float_array(X, "X", ndim=2)
        if X.shape[1] != self.coef_.shape[0]:
            raise ValueError(
                f"X must have {self.coef_.shape[0]} features (columns) like the data seen in fit, "
                f"got shape {X.shape}"
            )
        return X @ self.coef_ + self.intercept_

    def score(self, X, y) -> float:
        """Accuracy: the fraction of rows of ``X`` whose predicted label equals ``y``."""
        prediction = self.predict(X)
        y = self._labels(y)
        check_same_length(X=prediction, y=y)
        return float(np.mean(prediction == y))
