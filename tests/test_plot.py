"""mlnotes.plot draws what it says: the curve's data, the 0.5 contour, labelled axes."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mlnotes.plot import (  # noqa: E402
    plot_confusion_matrix,
    plot_decision_boundary,
    plot_image_grid,
    plot_learning_curve,
)


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


def test_image_grid_lays_out_every_image_with_its_title():
    images = np.arange(5 * 4).reshape(5, 2, 2) - 10.0
    fig = plot_image_grid(images, titles=list("abcde"), ncols=3, symmetric=True)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(fig.axes) == 6 and len(shown) == 5  # 2 rows of 3, one empty cell
    assert [ax.get_title() for ax in shown] == list("abcde")
    np.testing.assert_array_equal(shown[4].images[0].get_array(), images[4])
    assert shown[0].images[0].get_clim() == (-10.0, 10.0)  # symmetric around 0
    with pytest.raises(ValueError, match="one entry per image"):
        plot_image_grid(images, titles=["a"])


def test_confusion_matrix_counts_by_hand():
    # true 0 predicted 0 twice, true 1 predicted 0 once, true 2 predicted 2 once
    ax = plot_confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 0, 0, 2]))
    np.testing.assert_array_equal(ax.images[0].get_array(), [[2, 0, 0], [1, 0, 0], [0, 0, 1]])
    assert sorted(t.get_text() for t in ax.texts) == ["1", "1", "2"]
    with pytest.raises(ValueError, match="same length"):
        plot_confusion_matrix(np.array([0, 1]), np.array([0]))


def test_plot_conv3d_puts_one_output_cell_per_filter_position():
    from mlnotes.conv.draw import plot_conv3d

    ax_in, ax_out = plot_conv3d((6, 7, 8), 3, positions=[(0, 0, 0), (3, 4, 5)])
    assert ax_in.get_title() == "input 6×7×8, filter 3×3×3"
    assert ax_out.get_title() == "output 4×5×6"
    # the volume's outline, then one collection per voxel with a visible face: two filter cubes
    # of 27 voxels less their hidden centres, and two output cells
    assert len(ax_in.collections) == 1 + 2 * 26 and len(ax_out.collections) == 1 + 2
    with pytest.raises(ValueError, match="does not fit"):
        plot_conv3d((6, 7, 8), 3, positions=[(4, 0, 0)])
