"""mlnotes.core: seeding, device choice, numerical gradients, relative error, input checks."""

import random

import numpy as np
import pytest
import torch

from mlnotes.core import (
    as_binary_labels,
    as_float_array,
    best_times,
    check_choice,
    check_same_length,
    check_scalar,
    numerical_gradient,
    pick_device,
    rel_error,
    seed_everything,
)


def test_seed_everything_repeats_python_numpy_and_torch():
    def draw():
        rng = seed_everything(123)
        return random.random(), np.random.rand(), torch.rand(1).item(), rng.random()  # noqa: NPY002

    assert draw() == draw()
    seed_everything(124)
    assert torch.rand(1).item() != draw()[2]


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True, None])
def test_seed_everything_rejects_bad_seeds(seed):
    with pytest.raises(ValueError, match="seed"):
        seed_everything(seed)


def test_seed_everything_accepts_seeds_beyond_32_bits():
    seed_everything(2**40)  # NumPy's legacy seed is taken modulo 2**32


def test_pick_device():
    assert pick_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert pick_device().type == expected
    with pytest.raises(ValueError, match="one of"):
        pick_device("tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_pick_device_cuda_without_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match="no CUDA GPU"):
        pick_device("cuda")


def test_numerical_gradient_of_a_scalar_function_matches_the_analytic_one():
    # f(x) = sum(x^3) + x0 * x1, so df/dx = 3 x^2 + (x1, x0, 0)
    x = np.array([1.0, -2.0, 0.5])
    grad = numerical_gradient(lambda v: np.sum(v**3) + v[0] * v[1], x)
    np.testing.assert_allclose(grad, [3 * 1 - 2, 3 * 4 + 1, 3 * 0.25], rtol=1e-8)
    np.testing.assert_array_equal(x, [1.0, -2.0, 0.5])  # x is restored
    coarse = numerical_gradient(lambda v: np.sum(v**3) + v[0] * v[1], x, 1e-3)  # eps positional
    np.testing.assert_allclose(coarse, grad, atol=1e-5)  # the error of a centred step is eps^2


def test_numerical_gradient_with_upstream_gradient_matches_torch():
    rng = np.random.default_rng(0)
    x, df = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    grad = numerical_gradient(np.tanh, x, df=df)
    xt = torch.tensor(x, requires_grad=True)
    torch.tanh(xt).backward(torch.tensor(df))
    assert rel_error(grad, xt.grad.numpy()) < 1e-7


def test_numerical_gradient_rejects_float32_and_bad_upstream():
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(np.sum, np.ones(3, dtype=np.float32))
    with pytest.raises(ValueError, match="df must have the shape"):
        numerical_gradient(np.tanh, np.ones(3), df=np.ones(2))
    with pytest.raises(ValueError, match="eps"):
        numerical_gradient(np.sum, np.ones(3), eps=0)


def test_rel_error_by_hand():
    # |1 - 1.1| / (1 + 1.1) = 0.1 / 2.1
    assert rel_error(np.array([1.0]), np.array([1.1])) == pytest.approx(0.1 / 2.1)
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error(np.array([]), np.array([])) == 0.0
    with pytest.raises(ValueError, match="same shape"):
        rel_error(np.ones(2), np.ones(3))


def test_as_float_array_converts_and_checks():
    assert as_float_array([1, 2], "x").dtype == np.float64
    assert as_float_array(np.ones(2, np.float32), "x").dtype == np.float32
    with pytest.raises(ValueError, match="x must be 2-D, got shape \\(3,\\)"):
        as_float_array(np.ones(3), "x", ndim=2)
    with pytest.raises(ValueError, match="x contains NaN"):
        as_float_array([1.0, np.nan], "x")
    with pytest.raises(TypeError, match="x must hold numbers"):
        as_float_array(["a"], "x")
    with pytest.raises(TypeError, match="real"):
        as_float_array([1j], "x")


def test_as_binary_labels():
    np.testing.assert_array_equal(as_binary_labels([0, 1, True]), [0.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="only 0 and 1, got \\[2.0\\]"):
        as_binary_labels([0, 2])
    np.testing.assert_array_equal(as_binary_labels([[0, 1]], "y", ndim=2), [[0.0, 1.0]])
    with pytest.raises(ValueError, match="y must be 2-D"):
        as_binary_labels([0, 1], "y", ndim=2)


def test_check_scalar():
    assert check_scalar(3, "n", low=1, integer=True) == 3
    assert check_scalar(0.5, "p", low=0, high=1) == 0.5
    for value, kwargs, message in [
        (True, {"low": 0, "integer": True}, "n must be an integer >= 0, got True"),
        (2.5, {"low": 1, "integer": True}, "n must be an integer >= 1"),
        (0, {"low": 0, "strict": True}, "n must be a number > 0"),
        (1.5, {"low": 0, "high": 1}, "n must be a number >= 0 and <= 1, got 1.5"),
        ("1", {"low": 0}, "n must be a number"),
    ]:
        with pytest.raises(ValueError, match=message):
            check_scalar(value, "n", **kwargs)


def test_check_choice():
    check_choice("adam", "optimizer", ("adam", "lbfgs"))
    with pytest.raises(
        ValueError, match=r"optimizer must be one of \('adam', 'lbfgs'\), got 'sgd'"
    ):
        check_choice("sgd", "optimizer", ("adam", "lbfgs"))


def test_check_same_length_names_the_arrays():
    check_same_length(a=np.ones(2), b=np.ones((2, 3)))
    with pytest.raises(ValueError, match="a has 2, b has 3"):
        check_same_length(a=np.ones(2), b=np.ones(3))


def test_best_times_calls_each_function_once_to_warm_up_then_repeats_times():
    calls = {"a": 0, "b": 0}

    def count(name):
        calls[name] += 1

    times = best_times(lambda: count("a"), lambda: count("b"), repeats=4)
    assert calls == {"a": 5, "b": 5}
    assert len(times) == 2 and all(t >= 0 for t in times)
    with pytest.raises(ValueError, match="repeats"):
        best_times(lambda: None, repeats=0)
