"""mlnotes.data.scenes: the labels say exactly what was drawn; runs repeat; bad input is refused."""

import numpy as np
import pytest

from mlnotes.data.scenes import GRID, KINDS, draw_shape, make_scenes


def lit(image):
    return image > 0


def test_same_seed_same_scenes_other_seed_other_scenes():
    x1, y1 = make_scenes(20, seed=3)
    x2, y2 = make_scenes(20, seed=3)
    x3, y3 = make_scenes(20, seed=4)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(x1, x3) and not np.array_equal(y1, y3)


def test_shapes_dtypes_and_range():
    x, y = make_scenes(7, size=30, noise=0.3, seed=0)
    assert x.shape == (7, 1, 30, 30) and x.dtype == np.float32
    assert y.shape == (7, len(KINDS)) and y.dtype == np.int64
    assert x.min() >= 0 and x.max() <= 1
    assert set(np.unique(y)) <= {0, 1}
    x0, y0 = make_scenes(0)
    assert x0.shape == (0, 1, 24, 24) and y0.shape == (0, len(KINDS))


def test_labels_are_the_kinds_drawn_and_the_image_is_exactly_those_shapes():
    size = 24
    x, y, shapes = make_scenes(200, size=size, noise=0.0, seed=1, return_shapes=True)
    for image, labels, drawn in zip(x[:, 0], y, shapes, strict=True):
        kinds_drawn = [s.kind for s in drawn]
        assert len(kinds_drawn) == len(set(kinds_drawn))  # each kind at most once
        np.testing.assert_array_equal(labels, [k in kinds_drawn for k in KINDS])
        redrawn = [draw_shape(*s, size=size) for s in drawn]
        # the objects do not overlap, and nothing else is in the image
        assert sum(lit(r).sum() for r in redrawn) == lit(sum(redrawn, np.zeros_like(image))).sum()
        np.testing.assert_allclose(image, sum(redrawn, np.zeros_like(image)), atol=1e-6)
        assert all(lit(r).any() for r in redrawn)  # every object is visible


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_alone(kind):
    # one kind, always present, no noise: exactly one object, of that kind, in every image
    x, y, shapes = make_scenes(
        30, kinds=(kind,), p_present=1.0, noise=0.0, seed=2, return_shapes=True
    )
    assert y.tolist() == [[1]] * 30
    for image, drawn in zip(x[:, 0], shapes, strict=True):
        (shape,) = drawn
        assert shape.kind == kind
        np.testing.assert_array_equal(lit(image), lit(draw_shape(*shape, size=24)))


def test_empty_scenes_have_all_zero_labels_and_only_noise():
    x, y = make_scenes(10, p_present=0.0, noise=0.0, seed=0)
    assert not y.any() and not x.any()
    x, y = make_scenes(10, p_present=0.0, noise=0.1, seed=0)
    assert not y.any() and 0 < x.mean() < 0.1  # clipped noise around 0


def test_presence_rates_follow_p_present():
    _, y = make_scenes(4000, kinds=("disc", "ring"), p_present=[0.2, 0.7], seed=0)
    # binomial standard error sqrt(0.7 * 0.3 / 4000) = 0.007: 0.03 is over four of them
    np.testing.assert_allclose(y.mean(axis=0), [0.2, 0.7], atol=0.03)


def test_kinds_choose_and_order_the_label_columns():
    x, y, shapes = make_scenes(50, kinds=("ring", "disc"), seed=5, return_shapes=True)
    for labels, drawn in zip(y, shapes, strict=True):
        assert {s.kind for s in drawn} <= {"ring", "disc"}
        assert labels.tolist() == [
            int("ring" in [s.kind for s in drawn]),
            int("disc" in [s.kind for s in drawn]),
        ]


def test_objects_stay_inside_their_cells():
    size, cell = 30, 30 // GRID
    _, _, shapes = make_scenes(100, size=size, p_present=1.0, noise=0.0, seed=0, return_shapes=True)
    for drawn in shapes:
        cells = set()
        for s in drawn:
            rows, cols = np.nonzero(draw_shape(*s, size=size))
            (cell_rows,), (cell_cols,) = [np.unique(rows // cell)], [np.unique(cols // cell)]
            assert len(cell_rows) == len(cell_cols) == 1
            cells.add((cell_rows[0], cell_cols[0]))
        assert len(cells) == len(drawn)  # distinct cells


def test_draw_shape_geometry():
    # diameter 9 centred on pixel (5, 5) of an 11 x 11 canvas: h = 4.5
    disc, square, triangle, cross, ring = (draw_shape(k, 5, 5, 9, size=11) for k in KINDS)
    assert disc[5, 5] == 1 and disc[5, 9] == 1 and disc[1, 1] == 0  # corner: 4^2 + 4^2 > 4.5^2
    assert square[1, 1] == 1 and square[9, 9] == 1 and square.sum() == 81  # 9 x 9 pixels
    assert triangle[1, 5] == 1 and triangle[1, 4] == 0 and triangle[9, 1] == 1  # apex up
    assert cross[5, 1] == 1 and cross[1, 5] == 1 and cross[2, 2] == 0
    assert ring[5, 5] == 0 and ring[5, 1] == 1  # a hole in the middle
    assert draw_shape("disc", 5, 5, 9, intensity=0.5, size=11).max() == np.float32(0.5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": -1}, "n.*integer"),
        ({"n": 2.5}, "n.*integer"),
        ({"n": 3, "size": 8}, "size.*>= 9"),
        ({"n": 3, "kinds": ("disc", "star")}, "kinds.*distinct"),
        ({"n": 3, "kinds": ("disc", "disc")}, "kinds.*distinct"),
        ({"n": 3, "kinds": ()}, "kinds.*distinct"),
        ({"n": 3, "p_present": 1.5}, r"p_present.*\[0, 1\]"),
        ({"n": 3, "p_present": [0.5, 0.5]}, "one entry per kind"),
        ({"n": 3, "noise": -0.1}, "noise.*>= 0"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_scenes(**kwargs)


def test_draw_shape_bad_arguments():
    with pytest.raises(ValueError, match="kind.*one of"):
        draw_shape("star", 5, 5, 9)
    with pytest.raises(ValueError, match="diameter.*> 0"):
        draw_shape("disc", 5, 5, 0)
    with pytest.raises(ValueError, match="intensity.*> 0 and <= 1"):
        draw_shape("disc", 5, 5, 4, intensity=0)
