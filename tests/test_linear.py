"""mlnotes.linear against scipy, PyTorch autograd (float64), finite differences and scikit-learn."""

import numpy as np
import pytest
import scipy.special
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.linear_model import LogisticRegression as SkLogisticRegression

from mlnotes.core import numerical_gradient, rel_error
from mlnotes.data import load_breast_cancer_split
from mlnotes.linear import (
    LogisticRegression,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    logistic_loss,
    logistic_loss_and_grad,
    sigmoid,
    sigmoid_grad,
)

EXTREME = np.array([-1000.0, -745.2, -40.0, -1.0, 0.0, 1e-12, 1.0, 40.0, 745.2, 1000.0])


def problem(m=20, n=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=n), rng.normal(), rng.normal(size=(m, n)), rng.integers(0, 2, m)


# --- sigmoid -----------------------------------------------------------------------------------


def test_sigmoid_matches_scipy_and_torch_including_extreme_logits():
    s = sigmoid(EXTREME)  # no overflow warning: RuntimeWarnings from mlnotes are errors here
    np.testing.assert_allclose(s, scipy.special.expit(EXTREME), rtol=1e-15, atol=0)
    np.testing.assert_allclose(s, torch.sigmoid(torch.tensor(EXTREME)).numpy(), rtol=1e-15)
    assert s[0] == 0.0 and s[-1] == 1.0 and s.dtype == np.float64


def test_sigmoid_within_one_rounding_error_of_scipy_on_a_dense_grid():
    z = np.linspace(-1000, 1000, 200_001)
    np.testing.assert_allclose(sigmoid(z), scipy.special.expit(z), rtol=0, atol=2.3e-16)


def test_sigmoid_by_hand_and_dtypes():
    # sigma(0) = 1/2; sigma(log 3) = 1 / (1 + 1/3) = 3/4
    np.testing.assert_allclose(sigmoid(np.array([0.0, np.log(3.0)])), [0.5, 0.75], rtol=1e-15)
    assert sigmoid(2).dtype == np.float64 and sigmoid(2).shape == ()
    assert sigmoid(np.zeros(3, np.float32)).dtype == np.float32
    assert sigmoid(np.zeros((2, 0))).shape == (2, 0)


@given(arrays(np.float64, st.integers(1, 30), elements=st.floats(-700, 700)))
def test_sigmoid_symmetry_and_range(z):
    # sigma(-z) = 1 - sigma(z), and every value lies in [0, 1]
    np.testing.assert_allclose(sigmoid(-z), 1 - sigmoid(z), atol=1e-15)
    assert np.all((sigmoid(z) >= 0) & (sigmoid(z) <= 1))


def test_sigmoid_grad_matches_autograd():
    zt = torch.tensor(EXTREME, requires_grad=True)
    torch.sigmoid(zt).sum().backward()
    np.testing.assert_allclose(sigmoid_grad(EXTREME), zt.grad.numpy(), rtol=1e-12, atol=1e-300)
    assert sigmoid_grad(0.0) == 0.25  # the slope is largest at z = 0


def test_sigmoid_rejects_nan_and_text():
    with pytest.raises(ValueError, match="z contains NaN"):
        sigmoid(np.array([0.0, np.nan]))
    with pytest.raises(TypeError, match="z must hold numbers"):
        sigmoid("1")


# --- losses ------------------------------------------------------------------------------------


def test_binary_cross_entropy_matches_torch_also_at_zero_and_one():
    y_hat = np.array([0.0, 1.0, 0.0, 1.0, 0.3, 0.999, 1e-300])
    y = np.array([0, 1, 1, 0, 1, 0, 1])
    expected = F.binary_cross_entropy(torch.tensor(y_hat), torch.tensor(y, dtype=torch.float64))
    assert binary_cross_entropy(y_hat, y) == pytest.approx(expected.item(), rel=1e-14)


def test_binary_cross_entropy_by_hand():
    # -(log 0.8 + log(1 - 0.4)) / 2
    expected = -(np.log(0.8) + np.log(0.6)) / 2
    assert binary_cross_entropy(np.array([0.8, 0.4]), np.array([1, 0])) == pytest.approx(expected)
    assert binary_cross_entropy(np.array([1.0]), np.array([1])) == 0.0


def test_binary_cross_entropy_with_logits_matches_torch_and_the_probability_form():
    y = np.array([0, 1, 1, 0, 1, 0, 1, 0, 1, 0])
    expected = F.binary_cross_entropy_with_logits(
        torch.tensor(EXTREME), torch.tensor(y, dtype=torch.float64)
    ).item()
    assert binary_cross_entropy_with_logits(EXTREME, y) == pytest.approx(expected, rel=1e-14)
    z = np.linspace(-5, 5, 11)
    y = (z > 0.5).astype(int)
    assert binary_cross_entropy_with_logits(z, y) == pytest.approx(
        binary_cross_entropy(sigmoid(z), y), rel=1e-12
    )


def test_elementwise_logistic_loss_matches_torch_without_reduction():
    z = EXTREME.reshape(2, 5)
    y = np.array([[0, 1, 1, 0, 1], [0, 1, 0, 1, 0]], dtype=float)
    expected = F.binary_cross_entropy_with_logits(
        torch.tensor(z), torch.tensor(y), reduction="none"
    ).numpy()
    np.testing.assert_allclose(logistic_loss(z, y), expected, rtol=1e-14, atol=1e-300)
    with pytest.raises(ValueError, match="y must have the shape of z"):
        logistic_loss(z, y[0])


@pytest.mark.parametrize(
    ("y_hat", "y", "error", "message"),
    [
        (np.array([0.5, 0.5]), np.array([0, 2]), ValueError, "only 0 and 1"),
        (np.array([0.5, 1.5]), np.array([0, 1]), ValueError, "probabilities in \\[0, 1\\]"),
        (np.array([0.5]), np.array([0, 1]), ValueError, "y_hat has 1, y has 2"),
        (np.ones((2, 1)) / 2, np.array([0, 1]), ValueError, "y_hat must be 1-D"),
        (np.array([]), np.array([]), ValueError, "at least one example"),
        (np.array([np.nan]), np.array([1]), ValueError, "NaN"),
    ],
)
def test_binary_cross_entropy_bad_input(y_hat, y, error, message):
    with pytest.raises(error, match=message):
        binary_cross_entropy(y_hat, y)


# --- cost and gradients ------------------------------------------------------------------------


@pytest.mark.parametrize("l2", [0.0, 0.7])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_loss_and_grad_match_torch_autograd(seed, l2):
    w, b, X, y = problem(seed=seed)
    cost, dw, db = logistic_loss_and_grad(w, b, X, y, l2=l2)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    z = torch.tensor(X) @ wt + bt
    jt = F.binary_cross_entropy_with_logits(z, torch.tensor(y, dtype=torch.float64))
    jt = jt + l2 / (2 * len(y)) * (wt @ wt)
    jt.backward()
    assert cost == pytest.approx(jt.item(), rel=1e-13)
    np.testing.assert_allclose(dw, wt.grad.numpy(), rtol=1e-10, atol=1e-14)
    assert db == pytest.approx(bt.grad.item(), rel=1e-10, abs=1e-14)


def test_loss_and_grad_match_finite_differences():
    w, b, X, y = problem(m=50, n=6, seed=3)
    _, dw, db = logistic_loss_and_grad(w, b, X, y, l2=0.3)
    num_dw = numerical_gradient(lambda v: logistic_loss_and_grad(v, b, X, y, l2=0.3)[0], w.copy())
    num_db = numerical_gradient(
        lambda v: logistic_loss_and_grad(w, v.item(), X, y, l2=0.3)[0], np.array(b)
    )
    assert rel_error(dw, num_dw) < 1e-7
    assert rel_error(db, num_db) < 1e-7


def test_loss_at_zero_weights_is_log_two():
    # w = 0, b = 0 gives y_hat = 1/2 for every example, so L = -log(1/2) = log 2 whatever y is
    _, _, X, y = problem()
    cost, _, db = logistic_loss_and_grad(np.zeros(4), 0.0, X, y)
    assert cost == pytest.approx(np.log(2))
    assert db == pytest.approx(0.5 - y.mean())


def test_loss_and_grad_bad_shapes():
    w, b, X, y = problem()
    with pytest.raises(ValueError, match="w must have shape \\(4,\\)"):
        logistic_loss_and_grad(np.zeros(3), b, X, y)
    with pytest.raises(ValueError, match="X must be 2-D"):
        logistic_loss_and_grad(w, b, X[0], y)
    with pytest.raises(ValueError, match="l2"):
        logistic_loss_and_grad(w, b, X, y, l2=-1)


# --- the model ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def breast_cancer():
    return load_breast_cancer_split(test_size=0.25, seed=0)


@pytest.fixture(scope="module")
def fitted(breast_cancer):
    return LogisticRegression(lr=0.5, epochs=5000, l2=1.0).fit(
        breast_cancer.X_train, breast_cancer.y_train
    )


def test_model_matches_sklearn_on_breast_cancer(breast_cancer, fitted):
    s = breast_cancer
    # same cost: sklearn minimises C * sum(L) + ||w||^2 / 2, ours (1/m) sum(L) + l2/(2m) ||w||^2
    sk = SkLogisticRegression(C=1 / fitted.l2, tol=1e-10, max_iter=10_000).fit(s.X_train, s.y_train)
    ours, theirs = fitted.score(s.X_test, s.y_test), sk.score(s.X_test, s.y_test)
    assert ours > 0.93
    assert abs(ours - theirs) <= 0.01
    np.testing.assert_allclose(fitted.coef_, sk.coef_[0], atol=5e-3)
    assert fitted.intercept_ == pytest.approx(sk.intercept_[0], abs=5e-3)
    np.testing.assert_allclose(
        fitted.predict_proba(s.X_test), sk.predict_proba(s.X_test)[:, 1], atol=1e-3
    )


def test_fit_records_a_falling_cost(fitted):
    history = fitted.history_
    assert history.shape == (5000,)
    assert history[0] == pytest.approx(np.log(2))  # J at w = 0, b = 0
    assert np.all(np.diff(history) <= 1e-15)  # gradient descent on a convex cost, small lr
    assert history[-1] < 0.1


def test_fit_takes_the_steps_of_the_public_loss_and_grad():
    # fit runs an unchecked copy of the cost once per step: it must step exactly like the public one
    _, _, X, y = problem()
    model = LogisticRegression(lr=0.5, epochs=2, l2=0.3).fit(X, y)
    J0, dw0, db0 = logistic_loss_and_grad(np.zeros(4), 0.0, X, y, l2=0.3)
    w1, b1 = -0.5 * dw0, -0.5 * db0
    J1, dw1, db1 = logistic_loss_and_grad(w1, b1, X, y, l2=0.3)
    np.testing.assert_array_equal(model.history_, [J0, J1])
    np.testing.assert_array_equal(model.coef_, w1 - 0.5 * dw1)
    assert model.intercept_ == b1 - 0.5 * db1


def test_predict_threshold_and_shapes(fitted, breast_cancer):
    X = breast_cancer.X_test
    p = fitted.predict_proba(X)
    assert p.shape == (len(X),)
    np.testing.assert_array_equal(fitted.predict(X), (p >= 0.5).astype(int))
    assert fitted.predict(X, threshold=0.99).sum() <= fitted.predict(X).sum()
    np.testing.assert_array_equal(fitted.decision_function(X) >= 0, fitted.predict(X) == 1)


def test_fit_returns_self_and_solves_a_separable_toy_problem():
    X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    y = np.array([0, 0, 1, 1])
    model = LogisticRegression(lr=1.0, epochs=200)
    assert model.fit(X, y) is model
    np.testing.assert_array_equal(model.predict(X), y)
    assert model.coef_[0] > 0 and model.intercept_ == pytest.approx(0, abs=1e-12)  # by symmetry


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": 0}, "lr"),
        ({"lr": "0.1"}, "lr"),
        ({"epochs": 0}, "epochs"),
        ({"epochs": 2.5}, "epochs"),
        ({"l2": -1}, "l2"),
        ({"l2": float("nan")}, "l2"),
    ],
)
def test_bad_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LogisticRegression(**kwargs)


def test_numpy_scalars_are_accepted_as_hyperparameters():
    model = LogisticRegression(lr=np.float32(0.1), epochs=np.int64(3), l2=np.float64(0.5))
    assert (model.lr, model.epochs, model.l2) == (pytest.approx(0.1), 3, 0.5)


def test_model_bad_input(fitted):
    with pytest.raises(RuntimeError, match="not fitted"):
        LogisticRegression().predict(np.ones((2, 3)))
    with pytest.raises(ValueError, match="X must have 30 features"):
        fitted.predict(np.ones((2, 3)))
    with pytest.raises(ValueError, match="only 0 and 1"):
        LogisticRegression().fit(np.ones((3, 2)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="X has 3, y has 2"):
        LogisticRegression().fit(np.ones((3, 2)), np.array([0, 1]))
    with pytest.raises(ValueError, match="X contains NaN"):
        LogisticRegression().fit(np.array([[np.nan]]), np.array([1]))
    with pytest.raises(ValueError, match="threshold"):
        fitted.predict(np.ones((1, 30)), threshold=1.0)
