"""mlnotes.linear softmax regression against PyTorch (float64), scipy, finite differences,
scikit-learn, and the sigmoid model it generalises."""

import numpy as np
import pytest
import scipy.special
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression as SkLogisticRegression

from mlnotes.core import numerical_gradient, rel_error
from mlnotes.linear import (
    LogisticRegression,
    SoftmaxRegression,
    cross_entropy,
    log_softmax,
    one_hot,
    sigmoid,
    softmax,
    softmax_loss_and_grad,
)


def problem(m=30, n=4, C=3, seed=0):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=(n, C)),
        rng.normal(size=C),
        rng.normal(size=(m, n)),
        rng.integers(0, C, m),
    )


# --- softmax -----------------------------------------------------------------------------------


def test_softmax_by_hand():
    # z = (0, log 2, log 3): exp(z) = (1, 2, 3), sum 6
    z = np.log(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(softmax(z), [1 / 6, 2 / 6, 3 / 6], rtol=1e-15)


def test_softmax_matches_torch_and_scipy_with_large_logits():
    z = np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 999.0], [-1000.0, -1000.0, -1000.0]])
    ours = softmax(z, axis=1)  # no overflow warning: RuntimeWarnings from mlnotes are errors here
    np.testing.assert_allclose(ours, torch.softmax(torch.tensor(z), dim=1).numpy(), rtol=1e-15)
    np.testing.assert_allclose(ours, scipy.special.softmax(z, axis=1), rtol=1e-15)
    np.testing.assert_allclose(ours[2], [1 / 3] * 3)
    np.testing.assert_allclose(
        log_softmax(z, axis=1), torch.log_softmax(torch.tensor(z), 1).numpy()
    )
    assert np.all(np.isfinite(log_softmax(z)))


@given(arrays(np.float64, (4, 5), elements=st.floats(-500, 500)), st.floats(-500, 500))
def test_softmax_sums_to_one_and_ignores_a_shift(z, shift):
    p = softmax(z, axis=1)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(p >= 0)
    np.testing.assert_allclose(softmax(z + shift, axis=1), p, atol=1e-12)


def test_softmax_axis():
    z = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(softmax(z, axis=0), softmax(z.T, axis=1).T)


@given(arrays(np.float64, 20, elements=st.floats(-700, 700)))
def test_two_class_softmax_is_the_sigmoid(z):
    # softmax([z, 0])_0 = e^z / (e^z + 1) = sigma(z)
    pairs = np.stack([z, np.zeros_like(z)], axis=1)
    np.testing.assert_allclose(softmax(pairs, axis=1)[:, 0], sigmoid(z), atol=1e-15)


# --- one-hot and cross-entropy -----------------------------------------------------------------


def test_one_hot_matches_torch_and_checks_labels():
    y = np.array([2, 0, 1, 2])
    expected = F.one_hot(torch.tensor(y), 3).numpy()
    np.testing.assert_array_equal(one_hot(y, 3), expected)
    with pytest.raises(ValueError, match="labels in \\[0, 3\\), got label 3"):
        one_hot(np.array([0, 3]), 3)
    with pytest.raises(ValueError, match=">= 0"):
        one_hot(np.array([-1]), 3)
    with pytest.raises(ValueError, match="integer class labels"):
        one_hot(np.array([0.5]), 3)
    with pytest.raises(ValueError, match="1-D"):
        one_hot(np.zeros((2, 2), int), 3)
    with pytest.raises(ValueError, match="num_classes"):
        one_hot(np.array([0]), 0)


def test_cross_entropy_matches_torch_for_labels_and_one_hot_rows():
    _, _, _, y = problem()
    logits = np.random.default_rng(1).normal(scale=50, size=(30, 3))
    expected = F.cross_entropy(torch.tensor(logits), torch.tensor(y)).item()
    assert cross_entropy(logits, y) == pytest.approx(expected, rel=1e-13)
    assert cross_entropy(logits, one_hot(y, 3)) == pytest.approx(expected, rel=1e-13)


def test_cross_entropy_by_hand():
    # uniform logits: every class has p = 1/3, so L = log 3 for every example
    assert cross_entropy(np.zeros((4, 3)), np.array([0, 1, 2, 0])) == pytest.approx(np.log(3))
    # p = softmax(log 1, log 3) = (1/4, 3/4); the label 1 costs -log(3/4)
    assert cross_entropy(np.log([[1.0, 3.0]]), np.array([1])) == pytest.approx(-np.log(0.75))


@pytest.mark.parametrize(
    ("logits", "y", "message"),
    [
        (np.zeros((2, 3)), np.array([0, 3]), "got label 3"),
        (np.zeros((2, 3)), np.array([0]), "logits has 2, y has 1"),
        (np.zeros(3), np.array([0]), "logits must be 2-D"),
        (np.zeros((2, 3)), np.ones((2, 2)) / 2, "3 columns"),
        (np.zeros((1, 2)), np.array([[0.7, 0.7]]), "summing to 1"),
        (np.zeros((0, 3)), np.zeros(0, int), "at least one example"),
    ],
)
def test_cross_entropy_bad_input(logits, y, message):
    with pytest.raises(ValueError, match=message):
        cross_entropy(logits, y)


# --- cost and gradients ------------------------------------------------------------------------


@pytest.mark.parametrize("l2", [0.0, 0.8])
@pytest.mark.parametrize("seed", [0, 1])
def test_loss_and_grad_match_torch_autograd(seed, l2):
    W, b, X, y = problem(seed=seed)
    cost, dW, db = softmax_loss_and_grad(W, b, X, y, l2=l2)
    Wt = torch.tensor(W, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    jt = F.cross_entropy(torch.tensor(X) @ Wt + bt, torch.tensor(y)) + l2 / 60 * (Wt**2).sum()
    jt.backward()
    assert cost == pytest.approx(jt.item(), rel=1e-13)
    np.testing.assert_allclose(dW, Wt.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(db, bt.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_loss_and_grad_match_finite_differences():
    W, b, X, y = problem(m=40, n=5, C=4, seed=3)
    _, dW, db = softmax_loss_and_grad(W, b, X, y, l2=0.5)
    num_dW = numerical_gradient(lambda v: softmax_loss_and_grad(v, b, X, y, l2=0.5)[0], W.copy())
    num_db = numerical_gradient(lambda v: softmax_loss_and_grad(W, v, X, y, l2=0.5)[0], b.copy())
    assert rel_error(dW, num_dW) < 1e-7
    assert rel_error(db, num_db) < 1e-7


def test_gradient_with_respect_to_the_scores_is_prediction_minus_label():
    # with W = I and b = 0 the scores are X itself, so m * dJ/db sums (y_hat - y) over examples
    X = np.array([[2.0, 0.0, -1.0]])
    y = np.array([0])
    _, _, db = softmax_loss_and_grad(np.eye(3), np.zeros(3), X, y)
    np.testing.assert_allclose(db, softmax(X[0]) - [1, 0, 0], rtol=1e-14)


def test_loss_and_grad_bad_shapes():
    W, b, X, y = problem()
    with pytest.raises(ValueError, match="W must have shape \\(4, C\\)"):
        softmax_loss_and_grad(W[:3], b, X, y)
    with pytest.raises(ValueError, match="b shape \\(C,\\)"):
        softmax_loss_and_grad(W, b[:2], X, y)


# --- the model ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def test_model_matches_sklearn_multinomial_on_iris(iris):
    X, y = iris
    model = SoftmaxRegression(lr=0.5, epochs=20_000, l2=1.0).fit(X, y)
    sk = SkLogisticRegression(C=1.0, tol=1e-12, max_iter=100_000).fit(X, y)
    # softmax is unchanged by adding one vector to every class's weights; L2 picks the
    # representative whose class weights sum to zero, as scikit-learn's does
    np.testing.assert_allclose(model.coef_.sum(axis=1), 0, atol=1e-8)
    np.testing.assert_allclose(model.coef_, sk.coef_.T, atol=1e-3)
    np.testing.assert_allclose(model.predict_proba(X), sk.predict_proba(X), atol=1e-4)
    assert model.score(X, y) == pytest.approx(sk.score(X, y))
    assert model.history_[0] == pytest.approx(np.log(3))  # W = 0: every class has p = 1/3


def test_two_class_softmax_model_equals_logistic_regression(iris):
    # with C = 2, softmax(z0, z1)_1 = sigma(z1 - z0): the same probabilities, w = w1 - w0; with
    # L2 the optimum splits w1 = w/2, w0 = -w/2, so ||w0||^2 + ||w1||^2 = ||w||^2 / 2 and the
    # softmax model needs twice the logistic lambda for the same penalty on w
    X, y = iris[0][50:], iris[1][50:] - 1
    soft = SoftmaxRegression(lr=0.2, epochs=30_000, l2=2.0).fit(X, y)
    logistic = LogisticRegression(lr=0.1, epochs=30_000, l2=1.0).fit(X, y)
    np.testing.assert_allclose(soft.predict_proba(X)[:, 1], logistic.predict_proba(X), atol=1e-5)
    np.testing.assert_allclose(soft.coef_[:, 1] - soft.coef_[:, 0], logistic.coef_, atol=1e-3)


def test_model_interface_and_bad_input(iris):
    X, y = iris
    model = SoftmaxRegression(lr=0.5, epochs=50).fit(X, y)
    p = model.predict_proba(X)
    assert p.shape == (150, 3) and model.coef_.shape == (4, 3) and model.intercept_.shape == (3,)
    np.testing.assert_allclose(p.sum(axis=1), 1)
    np.testing.assert_array_equal(model.predict(X), p.argmax(axis=1))
    assert repr(model) == "SoftmaxRegression(lr=0.5, epochs=50, l2=0.0)"
    with pytest.raises(ValueError, match="got label 3"):
        model.score(X, np.full(150, 3))
    with pytest.raises(ValueError, match="X must have 4 features"):
        model.predict(X[:, :2])
    with pytest.raises(RuntimeError, match="not fitted"):
        SoftmaxRegression().predict(X)
    with pytest.raises(ValueError, match="num_classes"):
        SoftmaxRegression(num_classes=1)
    with pytest.raises(ValueError, match="got label 5"):
        SoftmaxRegression(num_classes=4).fit(X, np.full(150, 5))


def test_fit_takes_the_steps_of_the_public_loss_and_grad():
    # fit runs an unchecked copy of the cost once per step: it must step exactly like the public one
    _, _, X, y = problem()
    model = SoftmaxRegression(lr=0.5, epochs=2, l2=0.3).fit(X, y)
    J0, dW0, db0 = softmax_loss_and_grad(np.zeros((4, 3)), np.zeros(3), X, y, l2=0.3)
    W1, b1 = -0.5 * dW0, -0.5 * db0
    J1, dW1, db1 = softmax_loss_and_grad(W1, b1, X, y, l2=0.3)
    np.testing.assert_array_equal(model.history_, [J0, J1])
    np.testing.assert_array_equal(model.coef_, W1 - 0.5 * dW1)
    np.testing.assert_array_equal(model.intercept_, b1 - 0.5 * db1)


def test_num_classes_keeps_a_class_absent_from_training():
    X = np.array([[0.0], [1.0]])
    model = SoftmaxRegression(epochs=5, num_classes=3).fit(X, np.array([0, 1]))
    assert model.predict_proba(X).shape == (2, 3)
