"""Linear models in NumPy: logistic regression (chapter 1) and softmax regression (chapter 2).

Examples are rows, ``X (ndarray[m, n_x])``: the book's ``z = W^T x + b`` reads ``Z = X W + b``.
"""

from mlnotes.linear.base import LinearClassifier
from mlnotes.linear.logistic import (
    LogisticRegression,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    logistic_loss,
    logistic_loss_and_grad,
    sigmoid,
    sigmoid_grad,
)
from mlnotes.linear.softmax import (
    SoftmaxRegression,
    cross_entropy,
    log_softmax,
    one_hot,
    softmax,
    softmax_loss_and_grad,
)
