"""mlnotes.plot draws what it says: the curve's data, the 0.5 contour, labelled axes."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mlnotes.plot import plot_decision_boundary, plot_learning_curve  # noqa: E402


def teardown_function():
    plt.close("all")


def test_learning_curve_plots_the_history_against_epochs():
    ax = plot_learning_curve(np.array([3.0, 2.0, 1.5]), label="train", log_y=True)
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [0, 1, 2])
    np.testing.assert_array_equal(line.get_ydata(), [3.0, 2.0, 1.5])
    assert ax.get_yscale() == "log" and ax.get_legend() is not None
    assert ax.get_xlabel() == "epoch"


def test_decision_boundary_contour_lies_on_the_true_line():
    # p = sigma(x1 - x2) has its 0.5 contour on the diagonal x1 = x2
    X = np.array([[-1.0, 1.0], [1.0, -1.0], [0.5, 0.0], [0.0, 0.5]])
    y = np.array([0, 1, 1, 0])
    ax = plot_decision_boundary(lambda g: 1 / (1 + np.exp(-(g[:, 0] - g[:, 1]))), X, y)
    boundary = ax.collections[-3]  # contourf, contour, then one scatter per class
    vertices = np.concatenate([p.vertices for p in boundary.get_paths()])
    np.testing.assert_allclose(vertices[:, 0], vertices[:, 1], atol=1e-2)
    assert ax.get_xlabel() == "$x_1$"


def test_decision_boundary_needs_two_features():
    with pytest.raises(ValueError, match="exactly 2 features"):
        plot_decision_boundary(lambda g: g[:, 0], np.ones((3, 3)), np.array([0, 1, 0]))
