"""What logistic and softmax regression share: a linear score fitted by batch gradient descent."""

from __future__ import annotations

import numpy as np

from mlnotes.core import as_float_array, check_same_length, check_scalar


class GradientDescentClassifier:
    """A linear classifier ``z = X W + b`` fitted by full-batch gradient descent on a convex cost.

    Subclasses say what the targets are (``_targets``), how labels are checked (``_labels``),
    where the parameters start (``_initial_parameters``), which cost they minimise
    (``_loss_and_grad``, returning ``(J, dJ/dW, dJ/db)``) and how scores become probabilities and
    labels (``predict_proba``, ``predict``). Every step is ``W -= lr * dJ/dW``, ``b -= lr * dJ/db``.

    Args:
        lr (float): learning rate alpha > 0.
        epochs (int): number of full-batch gradient steps, >= 1.
        l2 (float): L2 strength lambda >= 0 in ``J = mean loss + lambda/(2m) ||W||^2``.

    Attributes (after ``fit``):
        coef_ (ndarray[n_x] | ndarray[n_x, C]): the weights W.
        intercept_ (float | ndarray[C]): the bias b.
        history_ (ndarray[epochs]): the cost J before each step.

    Oracle: the subclasses' scikit-learn counterparts (see their docstrings).
    Reference: Goodfellow et al., *Deep Learning*, section 4.3 (gradient-based optimisation).
    """

    def __init__(self, lr: float = 0.1, epochs: int = 1000, l2: float = 0.0):
        self.lr = check_scalar(lr, "lr", low=0, strict=True)
        self.epochs = check_scalar(epochs, "epochs", low=1, integer=True)
        self.l2 = check_scalar(l2, "l2", low=0)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr}, epochs={self.epochs}, l2={self.l2})"

    def fit(self, X, y):
        """Run ``epochs`` gradient steps from the initial parameters; return ``self``.

        Args:
            X (ndarray[m, n_x]): inputs, one example per row.
            y (ndarray[m]): labels.
        """
        X = as_float_array(X, "X", ndim=2).astype(np.float64)
        targets = self._targets(y)
        check_same_length(X=X, y=targets)
        W, b = self._initial_parameters(X.shape[1], targets)
        history = np.empty(self.epochs)
        for epoch in range(self.epochs):
            history[epoch], dW, db = self._loss_and_grad(W, b, X, targets, self.l2)
            W -= self.lr * dW
            b = b - self.lr * db
        self.coef_, self.intercept_, self.history_ = W, b, history
        return self

    def decision_function(self, X) -> np.ndarray:
        """The scores ``z = X W + b``: ``ndarray[m]`` for one output, ``ndarray[m, C]`` for C.

        Args:
            X (ndarray[m, n_x]).
        """
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
        y = self._labels(y)
        prediction = self.predict(X)
        check_same_length(X=prediction, y=y)
        return float(np.mean(prediction == y))
