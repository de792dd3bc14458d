"""mlnotes.detection.detector: the chapter's small YOLO detector, checked against its parts
(assign_anchors, yolo_decode, filter_boxes, batched_nms) and hand cases."""

import numpy as np
import pytest
import torch

from mlnotes.detection import (
    TinyYolo,
    anchor_shapes,
    assign_anchors,
    batched_nms,
    candidate_boxes,
    detect,
    filter_boxes,
    yolo_decode,
    yolo_encode,
)


def test_anchor_shapes_of_two_clear_clusters_are_their_medians():
    # small squares around 4x4 and tall boxes around 8x20: one anchor each
    sides = np.array([[4, 4], [3, 5], [5, 4], [8, 20], [9, 21], [7, 19], [8, 18]], float)
    anchors = anchor_shapes(sides, 2)
    np.testing.assert_array_equal(anchors, [[4, 4], [8, 19.5]])


def test_anchor_shapes_are_a_fixed_point_of_assign_then_median():
    rng = np.random.default_rng(0)
    sides = rng.uniform(3, 30, size=(200, 2))
    anchors = anchor_shapes(sides, 3, iterations=50)
    shapes = np.concatenate([np.zeros_like(sides), sides], axis=1)
    assigned = assign_anchors(shapes, anchors)
    again = np.stack([np.median(sides[assigned == a], axis=0) for a in range(3)])
    np.testing.assert_allclose(again, anchors)


@pytest.mark.parametrize("sides", [np.ones((2, 2)), np.zeros((5, 2)), np.ones((5, 3))])
def test_anchor_shapes_refuse_too_few_or_bad_sides(sides):
    with pytest.raises(ValueError, match="sides"):
        anchor_shapes(sides, 3)


def test_tiny_yolo_gives_a_volume_of_probabilities_and_positive_sizes():
    torch.manual_seed(0)
    anchors = np.array([[8.0, 8.0], [16.0, 8.0], [8.0, 16.0]])
    model = TinyYolo(anchors, num_classes=4, grid_size=8, image_size=64, width=4)
    out = model(torch.rand(2, 1, 64, 64))
    assert out.shape == (2, 8, 8, 3, 9)
    assert ((out[..., :3] > 0) & (out[..., :3] < 1)).all()
    assert (out[..., 3:5] > 0).all() and (out[..., 3:5] <= torch.exp(torch.tensor(4.0)) * 2).all()
    torch.testing.assert_close(out[..., 5:].sum(-1), torch.ones(2, 8, 8, 3))


def test_tiny_yolo_refuses_an_image_size_its_poolings_do_not_divide():
    with pytest.raises(ValueError, match="image_size"):
        TinyYolo(np.ones((1, 2)), num_classes=2, grid_size=8, image_size=60, width=4)


def test_detect_of_an_encoded_target_gives_its_boxes_back():
    anchors = np.array([[10.0, 10.0], [20.0, 10.0]])
    boxes = np.array([[4.0, 6.0, 14.0, 16.0], [30.0, 30.0, 52.0, 40.0]])
    labels = np.array([2, 0])
    target = yolo_encode(boxes, labels, 8, anchors, 3, 64)  # [8, 8, 2, 8]
    found, scores, found_labels = detect(target, anchors, 64, threshold=0.5)
    order = np.argsort(found_labels)[::-1]  # label 2 first, as in `boxes`
    np.testing.assert_allclose(found[order], boxes, atol=1e-9)
    np.testing.assert_array_equal(found_labels[order], labels)
    np.testing.assert_array_equal(scores, [1.0, 1.0])


def test_detect_is_filter_then_per_class_nms_of_every_slot():
    rng = np.random.default_rng(1)
    volume = rng.uniform(0.05, 1, size=(4, 4, 2, 8))  # [S, S, B, 5 + C]
    anchors = np.array([[6.0, 6.0], [12.0, 8.0]])
    boxes, scores = candidate_boxes(volume, anchors, 32)
    assert boxes.shape == (32, 4) and scores.shape == (32, 3)
    decoded, _, _ = yolo_decode(np.where(np.arange(8) == 0, 1.0, volume), anchors, 32)
    np.testing.assert_allclose(boxes, decoded)  # every slot, whatever its score
    np.testing.assert_allclose(scores, (volume[..., :1] * volume[..., 5:]).reshape(32, 3))
    kept = filter_boxes(boxes, scores, threshold=0.3)
    keep = batched_nms(*kept, 0.4)
    for mine, expected in zip(detect(volume, anchors, 32, 0.3, 0.4), kept, strict=True):
        np.testing.assert_array_equal(mine, expected[keep])
