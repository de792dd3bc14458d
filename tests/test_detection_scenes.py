"""mlnotes.data.detection_scenes: every box is the tight box of its object's own mask (recomputed
here with a plain loop), counts and sizes stay in range, objects stay visible, runs repeat, bad
arguments are refused."""

import numpy as np
import pytest

from mlnotes.data import DETECTION_CLASSES, make_detection_scenes, mask_to_box


def loop_box(mask):
    """The tight pixel-edge box of a mask, by visiting every pixel."""
    x1 = y1 = np.inf
    x2 = y2 = -np.inf
    for r in range(mask.shape[0]):
        for c in range(mask.shape[1]):
            if mask[r, c]:
                x1, y1, x2, y2 = min(x1, c), min(y1, r), max(x2, c + 1), max(y2, r + 1)
    return [x1, y1, x2, y2]


# --- mask_to_box -------------------------------------------------------------------------------


def test_mask_to_box_hand_cases():
    mask = np.zeros((6, 8), dtype=bool)
    mask[2, 3] = True  # one pixel: it covers [3, 4) x [2, 3)
    np.testing.assert_array_equal(mask_to_box(mask), [3, 2, 4, 3])
    mask[4, 6] = True  # and a second one: the box spans columns 3..6 and rows 2..4
    np.testing.assert_array_equal(mask_to_box(mask), [3, 2, 7, 5])
    full = np.ones((5, 7))
    np.testing.assert_array_equal(mask_to_box(full), [0, 0, 7, 5])


def test_mask_to_box_refuses_empty_and_wrong_shape():
    with pytest.raises(ValueError, match="no lit pixel"):
        mask_to_box(np.zeros((4, 4), dtype=bool))
    with pytest.raises(ValueError, match=r"shape \(H, W\)"):
        mask_to_box(np.ones((2, 4, 4), dtype=bool))


# --- make_detection_scenes ---------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
def test_boxes_are_the_tight_boxes_of_each_objects_own_mask(seed):
    x, boxes, labels, masks = make_detection_scenes(30, seed=seed, return_masks=True)
    for b, lab, m in zip(boxes, labels, masks, strict=True):
        assert b.shape == (len(m), 4) and b.dtype == np.float64
        assert lab.shape == (len(m),) and lab.dtype == np.int64
        assert m.shape == (len(m), 64, 64) and m.dtype == bool
        np.testing.assert_array_equal(b, [loop_box(mask) for mask in m])


def test_without_noise_and_clutter_the_image_is_the_objects_painted_in_order():
    x, boxes, labels, masks = make_detection_scenes(
        20, noise=0.0, clutter=0.0, seed=5, return_masks=True
    )
    for image, m in zip(x[:, 0], masks, strict=True):
        lit = image > 0
        np.testing.assert_array_equal(lit, m.any(axis=0))  # nothing else is drawn
        for k in range(len(m)):  # each object's visible pixels share one brightness
            visible = m[k] & ~m[k + 1 :].any(axis=0)
            assert np.unique(image[visible]).size == 1
            assert 0.5 <= image[visible][0] <= 1


def test_each_mask_is_the_shape_of_its_class():
    # the label and the drawing agree: a square fills its box, a ring has a hole in its middle,
    # a disc has its middle lit but not its box's corners
    _, boxes, labels, masks = make_detection_scenes(60, num_classes=5, seed=2, return_masks=True)
    for b, lab, m in zip(boxes, labels, masks, strict=True):
        for (x1, y1, x2, y2), label, mask in zip(b.astype(int), lab, m, strict=True):
            crop = mask[y1:y2, x1:x2]
            kind = DETECTION_CLASSES[label]
            if kind == "square":
                assert crop.all()
            elif kind == "ring":
                centre = crop[crop.shape[0] // 2, crop.shape[1] // 2]
                assert not centre  # the hole
            elif kind == "disc":
                assert crop[crop.shape[0] // 2, crop.shape[1] // 2] and not crop.all()


def test_counts_sizes_classes_and_visibility_are_in_range():
    x, boxes, labels, masks = make_detection_scenes(
        200, size=64, num_classes=4, max_objects=5, seed=1, return_masks=True
    )
    assert x.shape == (200, 1, 64, 64) and x.dtype == np.float32
    assert x.min() >= 0 and x.max() <= 1
    counts = np.array([len(b) for b in boxes])
    assert counts.min() >= 1 and counts.max() <= 5
    assert set(np.unique(counts)) == {1, 2, 3, 4, 5}  # every count occurs in 200 images
    all_boxes, all_labels = np.concatenate(boxes), np.concatenate(labels)
    sides = all_boxes[:, 2:] - all_boxes[:, :2]  # [K, 2]
    assert sides.min() >= 7 and sides.max() <= 41  # diameters in [8, 40], +-1 pixel
    assert sides.max(axis=1).min() < 12 and sides.max(axis=1).max() > 36  # the range is used
    assert set(np.unique(all_labels)) == {0, 1, 2, 3}
    assert all_boxes.min() >= 0 and all_boxes.max() <= 64
    overlapping = 0
    for m in masks:
        for k in range(len(m)):
            visible = m[k] & ~m[k + 1 :].any(axis=0)
            assert visible.sum() >= 0.5 * m[k].sum()
        overlapping += sum((m[i] & m[j]).any() for i in range(len(m)) for j in range(i + 1, len(m)))
    assert overlapping > 0  # objects do overlap


def test_same_seed_same_scenes_other_seed_other_scenes():
    a = make_detection_scenes(10, seed=7)
    b = make_detection_scenes(10, seed=7)
    c = make_detection_scenes(10, seed=8)
    np.testing.assert_array_equal(a[0], b[0])
    for first, second in zip(a[1] + a[2], b[1] + b[2], strict=True):
        np.testing.assert_array_equal(first, second)
    assert not np.array_equal(a[0], c[0])


def test_zero_images_and_other_sizes():
    x, boxes, labels = make_detection_scenes(0)
    assert x.shape == (0, 1, 64, 64) and boxes == [] and labels == []
    x, boxes, labels = make_detection_scenes(5, size=32, min_size=4, max_size=12, max_objects=2)
    assert x.shape == (5, 1, 32, 32)
    assert all(1 <= len(b) <= 2 for b in boxes)
    assert np.concatenate(boxes).max() <= 32


def test_min_objects_allows_empty_scenes_and_background_only_images():
    x, boxes, labels = make_detection_scenes(60, min_objects=0, max_objects=2, seed=3)
    counts = [len(b) for b in boxes]
    assert set(counts) == {0, 1, 2}  # all three counts occur in 60 draws (P(miss) ~ 1e-10)
    for b, lab in zip(boxes, labels, strict=True):
        assert b.shape == (len(lab), 4) and lab.dtype == np.int64
    x, boxes, labels = make_detection_scenes(4, min_objects=0, max_objects=0, noise=0, seed=3)
    assert all(
        b.shape == (0, 4) and lab.shape == (0,) for b, lab in zip(boxes, labels, strict=True)
    )
    assert x.max() < 0.3  # nothing brighter than the clutter (objects are >= 0.5)
    _, boxes, _ = make_detection_scenes(40, min_objects=3, max_objects=3, seed=3)
    assert min(len(b) for b in boxes) >= 2  # 3 unless a placement was given up
    assert np.mean([len(b) for b in boxes]) > 2.8


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": -1}, "n must be"),
        ({"n": 2.5}, "n must be"),
        ({"num_classes": 0}, "num_classes"),
        ({"num_classes": 6}, "num_classes"),
        ({"max_objects": 0}, "max_objects"),
        ({"min_objects": -1}, "min_objects"),
        ({"min_objects": 3, "max_objects": 2}, "max_objects"),
        ({"min_size": 2}, "min_size"),
        ({"max_size": 5}, "max_size"),
        ({"size": 40}, "size"),
        ({"noise": -0.1}, "noise"),
        ({"clutter": 0.5}, "clutter"),
        ({"min_visible": 1.5}, "min_visible"),
    ],
)
def test_bad_arguments_are_refused(kwargs, match):
    args = {"n": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        make_detection_scenes(**args)
