"""mlnotes.detection.yolo: encode/decode round trip over generated scenes, hand-placed boxes,
anchor assignment against a double loop, collisions, filtering against a loop, the loss against
a slot-by-slot loop, hand-computed cases, PyTorch's own losses and gradcheck, bad input."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mlnotes.data import make_detection_scenes
from mlnotes.detection import assign_anchors, filter_boxes, yolo_decode, yolo_encode, yolo_loss

SEEDS = range(5)
ANCHORS = np.array([[10.0, 10.0], [24.0, 24.0], [36.0, 36.0], [12.0, 28.0], [28.0, 12.0]])

# --- references --------------------------------------------------------------------------------


def centred_iou(w, h, aw, ah):
    """IoU of two boxes of sizes (w, h) and (aw, ah) sharing their centre, in Python floats."""
    inter = min(w, aw) * min(h, ah)
    union = w * h + aw * ah - inter
    return inter / union if union > 0 else 0.0


def assign_loop(boxes, anchors):
    best = []
    for x1, y1, x2, y2 in boxes.tolist():
        ious = [centred_iou(x2 - x1, y2 - y1, aw, ah) for aw, ah in anchors.tolist()]
        best.append(max(range(len(ious)), key=lambda a: (ious[a], -a)))  # ties: lower index
    return np.array(best, dtype=np.int64)


def loss_loop(output, target, lambda_coord=5.0, lambda_noobj=0.5):
    """YOLO v1's sum-squared error written slot by slot, divided by the number of images."""
    out, tgt = output.tolist(), target.tolist()
    total = 0.0
    for out_image, tgt_image in zip(out, tgt, strict=True):
        for out_row, tgt_row in zip(out_image, tgt_image, strict=True):
            for out_cell, tgt_cell in zip(out_row, tgt_row, strict=True):
                for o, t in zip(out_cell, tgt_cell, strict=True):
                    if t[0] == 1:
                        total += lambda_coord * sum((o[k] - t[k]) ** 2 for k in range(1, 5))
                        total += (o[0] - 1) ** 2
                        total += sum((o[k] - t[k]) ** 2 for k in range(5, len(o)))
                    else:
                        total += lambda_noobj * o[0] ** 2
    return total / len(out)


def sorted_rows(boxes, labels):
    """Boxes with their label as a 5th column, sorted lexicographically, for set comparison."""
    rows = np.concatenate([boxes, labels[:, None].astype(np.float64)], axis=1)  # [K, 5]
    return rows[np.lexsort(rows.T[::-1])]


# --- assign_anchors ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_assign_anchors_matches_double_loop(seed):
    rng = np.random.default_rng(seed)
    corner = rng.uniform(0, 50, (40, 2))
    boxes = np.concatenate([corner, corner + rng.uniform(1, 40, (40, 2))], axis=1)
    anchors = rng.uniform(2, 40, (6, 2))
    np.testing.assert_array_equal(assign_anchors(boxes, anchors), assign_loop(boxes, anchors))


def test_assign_anchors_hand_cases():
    anchors = np.array([[10.0, 30.0], [30.0, 10.0], [20.0, 20.0]])
    boxes = np.array([[0, 0, 9, 31], [50, 50, 80, 62], [5, 5, 25, 25], [0, 0, 0, 0]], float)
    # tall -> 0, wide -> 1, square -> 2 (identical shape: IoU 1); zero-area: IoU 0 everywhere -> 0
    np.testing.assert_array_equal(assign_anchors(boxes, anchors), [0, 1, 2, 0])
    # the position does not matter, only the shape
    np.testing.assert_array_equal(assign_anchors(boxes[:3] + 100, anchors), [0, 1, 2])
    # a tie goes to the lower index: (20, 20) vs anchors of equal IoU
    tie = np.array([[10.0, 20.0], [20.0, 10.0]])
    np.testing.assert_array_equal(assign_anchors(np.array([[0.0, 0, 20, 20]]), tie), [0])
    assert assign_anchors(np.zeros((0, 4)), anchors).shape == (0,)


# --- yolo_encode / yolo_decode -----------------------------------------------------------------


def test_box_centred_in_cell_1_2_of_a_3x3_grid():
    # image 90 px, cell 30 px; centre (cx, cy) = (75, 45): column floor(75/30) = 2, row
    # floor(45/30) = 1; b_x = 75/30 - 2 = 0.5, b_y = 45/30 - 1 = 0.5; b_w = 30/30, b_h = 20/30
    boxes = np.array([[60.0, 35.0, 90.0, 55.0]])
    target = yolo_encode(boxes, [2], grid_size=3, anchors=[[30.0, 20.0]], num_classes=3,
                         image_size=90)  # fmt: skip
    assert target.shape == (3, 3, 1, 5 + 3)
    np.testing.assert_allclose(target[1, 2, 0], [1, 0.5, 0.5, 1, 2 / 3, 0, 0, 1], rtol=1e-15)
    target[1, 2, 0] = 0
    assert not target.any()  # nothing anywhere else


def test_box_wider_than_a_cell_has_b_w_above_1():
    # image 64 px, 4 x 4 grid: cell 16 px; a 40 x 8 box centred at (20, 10): cell (0, 1),
    # b_x = 20/16 - 1 = 0.25, b_y = 10/16 = 0.625, b_w = 40/16 = 2.5, b_h = 8/16 = 0.5
    boxes = np.array([[0.0, 6.0, 40.0, 14.0]])
    target = yolo_encode(boxes, [0], 4, [[10.0, 10.0], [40.0, 8.0]], 2, 64)
    np.testing.assert_allclose(target[0, 1, 1], [1, 0.25, 0.625, 2.5, 0.5, 1, 0], rtol=1e-15)
    assert target[..., 0].sum() == 1
    boxes_back, scores, labels = yolo_decode(target, [[10.0, 10.0], [40.0, 8.0]], 64)
    np.testing.assert_allclose(boxes_back, boxes, rtol=1e-15)
    np.testing.assert_array_equal(scores, [1.0])
    np.testing.assert_array_equal(labels, [0])


def test_centre_on_the_far_edge_goes_to_the_last_cell():
    boxes = np.array([[60.0, 60.0, 68.0, 68.0]])  # centre (64, 64), on the image's corner
    target = yolo_encode(boxes, [1], 4, [[8.0, 8.0]], 2, 64)
    np.testing.assert_allclose(target[3, 3, 0, :5], [1, 1, 1, 0.5, 0.5])
    np.testing.assert_allclose(yolo_decode(target, [[8.0, 8.0]], 64)[0], boxes)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("grid_size", "anchors"), [(4, ANCHORS), (8, ANCHORS[:2]), (1, ANCHORS)])
def test_decode_inverts_encode_on_generated_scenes(seed, grid_size, anchors):
    _, all_boxes, all_labels = make_detection_scenes(40, seed=seed)
    for boxes, labels in zip(all_boxes, all_labels, strict=True):
        target, dropped = yolo_encode(boxes, labels, grid_size, anchors, 4, 64, return_dropped=True)
        kept = np.setdiff1d(np.arange(len(boxes)), dropped)
        boxes_back, scores, labels_back = yolo_decode(target, anchors, 64)
        assert len(boxes_back) == len(kept) == target[..., 0].sum()
        np.testing.assert_array_equal(scores, 1.0)
        np.testing.assert_allclose(
            sorted_rows(boxes_back, labels_back),
            sorted_rows(boxes[kept], labels[kept]),
            rtol=1e-12,
            atol=1e-12,
        )


def test_round_trip_keeps_every_object_when_nothing_collides():
    # one box per cell of a 4 x 4 grid: no collision is possible, so every box comes back
    rng = np.random.default_rng(0)
    centres = (np.stack(np.meshgrid(np.arange(4), np.arange(4)), -1).reshape(-1, 2) + 0.5) * 16
    sizes = rng.uniform(4, 40, (16, 2))
    boxes = np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1)
    labels = rng.integers(0, 3, 16)
    target, dropped = yolo_encode(boxes, labels, 4, ANCHORS, 3, 64, return_dropped=True)
    assert dropped.size == 0
    boxes_back, _, labels_back = yolo_decode(target, ANCHORS, 64)
    np.testing.assert_allclose(
        sorted_rows(boxes_back, labels_back), sorted_rows(boxes, labels), rtol=1e-12
    )


def test_collision_keeps_the_larger_box_and_reports_the_other():
    anchors = [[10.0, 10.0]]
    # both centred in cell (0, 0) of a 2 x 2 grid of 32 px cells, both on the only anchor
    boxes = np.array([[1.0, 1.0, 9.0, 9.0], [0.0, 0.0, 10.0, 10.0]])  # the larger one second
    target, dropped = yolo_encode(boxes, [0, 1], 2, anchors, 2, 64, return_dropped=True)
    np.testing.assert_array_equal(dropped, [0])
    np.testing.assert_allclose(yolo_decode(target, anchors, 64)[0], boxes[1:])
    with pytest.warns(UserWarning, match=r"1 object.*\[0\]"):
        yolo_encode(boxes, [0, 1], 2, anchors, 2, 64)
    # equal areas: the first one stays
    same = np.array([[0.0, 0.0, 10.0, 10.0], [2.0, 2.0, 12.0, 12.0]])
    _, dropped = yolo_encode(same, [0, 1], 2, anchors, 2, 64, return_dropped=True)
    np.testing.assert_array_equal(dropped, [1])


def test_same_cell_different_anchors_do_not_collide():
    anchors = [[4.0, 20.0], [20.0, 4.0]]
    boxes = np.array([[8.0, 0.0, 12.0, 20.0], [0.0, 8.0, 20.0, 12.0]])  # tall, wide; same centre
    target, dropped = yolo_encode(boxes, [0, 1], 2, anchors, 2, 64, return_dropped=True)
    assert dropped.size == 0
    assert target[0, 0, 0, 0] == 1 and target[0, 0, 1, 0] == 1
    np.testing.assert_array_equal(target[0, 0, :, 5:], [[1, 0], [0, 1]])


def test_no_box_gives_an_empty_target_and_tensors_are_read():
    target = yolo_encode(np.zeros((0, 4)), np.zeros(0, dtype=int), 3, ANCHORS, 4, 64)
    assert target.shape == (3, 3, 5, 9) and not target.any()
    assert all(len(a) == 0 for a in yolo_decode(target, ANCHORS, 64))
    boxes = torch.tensor([[0.0, 6.0, 40.0, 14.0]])
    from_tensor = yolo_encode(boxes, torch.tensor([1]), 4, torch.tensor(ANCHORS), 2, 64)
    np.testing.assert_array_equal(from_tensor, yolo_encode(boxes.numpy(), [1], 4, ANCHORS, 2, 64))
    back = yolo_decode(torch.from_numpy(from_tensor), ANCHORS, 64)[0]
    np.testing.assert_allclose(back, boxes.numpy())


def test_decode_of_a_prediction_scores_thresholds_and_clips_negative_sizes():
    output = np.zeros((2, 2, 1, 5 + 2))
    output[0, 0, 0] = [0.9, 0.5, 0.5, -1.0, 2.0, 0.2, 0.8]  # negative width: clipped to 0
    output[1, 1, 0] = [0.5, 0.0, 0.0, 1.0, 1.0, 0.6, 0.4]
    boxes, scores, labels = yolo_decode(output, [[5.0, 5.0]], 64)  # cell 32 px
    np.testing.assert_allclose(boxes, [[16, 16 - 32, 16, 16 + 32], [32 - 16, 32 - 16, 48, 48]])
    np.testing.assert_allclose(scores, [0.9 * 0.8, 0.5 * 0.6])
    np.testing.assert_array_equal(labels, [1, 0])
    assert len(yolo_decode(output, [[5.0, 5.0]], 64, score_threshold=0.3)[0]) == 1


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (([[0, 0, 1]], [0], 2, ANCHORS, 2, 64), ValueError, r"boxes.*\(N, 4\)"),
        (([[5, 5, 1, 9]], [0], 2, ANCHORS, 2, 64), ValueError, "x2 < x1"),
        (([[0, 0, np.nan, 1]], [0], 2, ANCHORS, 2, 64), ValueError, "NaN"),
        (([[0, 0, 2, 2]], [0, 1], 2, ANCHORS, 2, 64), ValueError, r"labels.*\(1,\)"),
        (([[0, 0, 2, 2]], [2], 2, ANCHORS, 2, 64), ValueError, r"labels.*\[0, 2\)"),
        (([[0, 0, 2, 2]], [-1], 2, ANCHORS, 2, 64), ValueError, "labels >= 0"),
        (([[60, 60, 70, 70]], [0], 2, ANCHORS, 2, 64), ValueError, "centre .* outside"),
        (([[0, 0, 2, 2]], [0], 0, ANCHORS, 2, 64), ValueError, "grid_size"),
        (([[0, 0, 2, 2]], [0], 2, ANCHORS, 0, 64), ValueError, "num_classes"),
        (([[0, 0, 2, 2]], [0], 2, ANCHORS, 2, 0), ValueError, "image_size"),
        (
            ([[0, 0, 2, 2]], [0], 2, [10, 10], 2, 64),
            ValueError,
            "anchors.*2-D",
        ),
        (([[0, 0, 2, 2]], [0], 2, [[10, 0]], 2, 64), ValueError, r"anchors.*> 0"),
        (([[0, 0, 2, 2]], [0], 2, np.zeros((0, 2)), 2, 64), ValueError, "anchors.*B >= 1"),
    ],
)
def test_encode_refuses_bad_input(args, error, match):
    with pytest.raises(error, match=match):
        yolo_encode(*args)


def test_decode_refuses_bad_input():
    with pytest.raises(ValueError, match="B = 5"):
        yolo_decode(np.zeros((2, 2, 3, 7)), ANCHORS, 64)
    with pytest.raises(ValueError, match=r"\(S, S, B, 5 \+ C\)"):
        yolo_decode(np.zeros((2, 3, 5, 7)), ANCHORS, 64)
    with pytest.raises(ValueError, match=r"\(S, S, B, 5 \+ C\)"):
        yolo_decode(np.zeros((2, 2, 5, 5)), ANCHORS, 64)
    with pytest.raises(ValueError, match="NaN"):
        yolo_decode(np.full((2, 2, 5, 7), np.nan), ANCHORS, 64)
    with pytest.raises(ValueError, match="score_threshold"):
        yolo_decode(np.zeros((2, 2, 5, 7)), ANCHORS, 64, score_threshold=-1)


# --- filter_boxes ------------------------------------------------------------------------------


def test_filter_boxes_hand_case_keeps_scores_equal_to_the_threshold():
    boxes = np.array([[0.0, 0, 1, 1], [1, 1, 2, 2], [2, 2, 3, 3]])
    box_scores = np.array([[0.5, 0.1], [0.2, 0.6], [0.7, 0.65]])
    kept, scores, labels = filter_boxes(boxes, box_scores, threshold=0.6)
    np.testing.assert_array_equal(kept, boxes[1:])
    np.testing.assert_array_equal(scores, [0.6, 0.7])
    np.testing.assert_array_equal(labels, [1, 0])
    empty = filter_boxes(np.zeros((0, 4)), np.zeros((0, 3)))
    assert [a.shape for a in empty] == [(0, 4), (0,), (0,)]


@pytest.mark.parametrize("seed", SEEDS)
def test_filter_boxes_matches_a_loop(seed):
    rng = np.random.default_rng(seed)
    corner = rng.uniform(0, 50, (30, 2))
    boxes = np.concatenate([corner, corner + rng.uniform(0, 20, (30, 2))], axis=1)
    box_scores = rng.random((30, 4))
    threshold = rng.uniform(0.3, 0.9)
    kept, scores, labels = filter_boxes(boxes, box_scores, threshold)
    rows = [i for i in range(30) if max(box_scores[i]) >= threshold]
    np.testing.assert_array_equal(kept, boxes[rows])
    np.testing.assert_array_equal(scores, [max(box_scores[i]) for i in rows])
    np.testing.assert_array_equal(labels, [int(np.argmax(box_scores[i])) for i in rows])


def test_filter_boxes_refuses_bad_input():
    with pytest.raises(ValueError, match=r"box_scores.*\(2, C\)"):
        filter_boxes(np.zeros((2, 4)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="box_scores.*2-D"):
        filter_boxes(np.zeros((2, 4)), np.zeros(2))
    with pytest.raises(ValueError, match="threshold"):
        filter_boxes(np.zeros((2, 4)), np.zeros((2, 2)), threshold=-0.1)
    with pytest.raises(ValueError, match="NaN"):
        filter_boxes(np.zeros((1, 4)), [[np.nan]])


# --- yolo_loss ---------------------------------------------------------------------------------


def tiny_case():
    """One image, 2 x 2 grid, one anchor, two classes; one object in cell (0, 1)."""
    target = torch.zeros(1, 2, 2, 1, 7, dtype=torch.float64)
    target[0, 0, 1, 0] = torch.tensor([1, 0.5, 0.5, 1.0, 2.0, 0, 1])
    output = torch.zeros_like(target)
    output[0, 0, 1, 0] = torch.tensor([0.8, 0.6, 0.5, 1.0, 1.5, 0.3, 0.7])
    output[0, 0, 0, 0, 0] = 0.2  # p_c in the empty cells; their other entries do not count
    output[0, 1, 1, 0] = torch.tensor([0.4, 9, 9, 9, 9, 9, 9])
    return output, target


def test_loss_hand_computed():
    output, target = tiny_case()
    # coordinates: 5 * (0.1^2 + 0 + 0 + 0.5^2) = 1.3;  object: (0.8 - 1)^2 = 0.04
    # no object: 0.5 * (0.2^2 + 0^2 + 0.4^2) = 0.1;    classes: 0.3^2 + 0.3^2 = 0.18
    torch.testing.assert_close(yolo_loss(output, target), torch.tensor(1.62, dtype=torch.float64))
    # the weights scale their own terms only: 1 * 0.26 + 0.04 + 2 * 0.2 + 0.18 = 0.88
    torch.testing.assert_close(
        yolo_loss(output, target, lambda_coord=1, lambda_noobj=2),
        torch.tensor(0.88, dtype=torch.float64),
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_loss_matches_a_slot_by_slot_loop_and_is_zero_at_the_target(seed):
    rng = np.random.default_rng(seed)
    _, all_boxes, all_labels = make_detection_scenes(3, seed=seed)
    targets = [
        yolo_encode(b, lab, 4, ANCHORS[:3], 4, 64, return_dropped=True)[0]
        for b, lab in zip(all_boxes, all_labels, strict=True)
    ]
    target = torch.from_numpy(np.stack(targets))  # [3, 4, 4, 3, 9]
    output = torch.from_numpy(rng.normal(size=target.shape))
    lambdas = {"lambda_coord": rng.uniform(0, 10), "lambda_noobj": rng.uniform(0, 1)}
    expected = loss_loop(output.numpy(), target.numpy(), **lambdas)
    np.testing.assert_allclose(yolo_loss(output, target, **lambdas).item(), expected, rtol=1e-12)
    assert yolo_loss(target.clone(), target).item() == 0


def test_loss_gradient_gradcheck():
    rng = np.random.default_rng(0)
    output = torch.from_numpy(rng.normal(size=(2, 3, 3, 2, 8))).requires_grad_()
    target = torch.zeros(2, 3, 3, 2, 8, dtype=torch.float64)
    target[0, 1, 2, 1] = torch.tensor([1, 0.3, 0.7, 1.5, 0.5, 0, 0, 1])
    target[1, 0, 0, 0] = torch.tensor([1, 0.9, 0.1, 0.2, 2.5, 1, 0, 0])
    assert torch.autograd.gradcheck(lambda o: yolo_loss(o, target), (output,))


def test_cross_entropy_loss_hand_computed():
    output, target = tiny_case()
    output[0, 1, 1, 0, 0] = 0.4  # the empty cells' p_c: 0.2, 0 and 0.4
    # coordinates: 5 * (0.1^2 + 0 + log(1 / 1)^2 + log(1.5 / 2)^2);  object: -log 0.8
    # no object: 0.5 * (-log 0.8 - log 1 - log 0.6);                 classes: -log 0.7
    expected = (
        5 * (0.1**2 + math.log(1.5 / 2) ** 2)
        - math.log(0.8)
        + 0.5 * (-math.log(0.8) - math.log(0.6))
        - math.log(0.7)
    )
    loss = yolo_loss(output, target, terms="cross_entropy")
    torch.testing.assert_close(loss, torch.tensor(expected, dtype=torch.float64))


@pytest.mark.parametrize("seed", SEEDS)
def test_cross_entropy_loss_matches_torch_and_is_zero_at_the_target(seed):
    rng = np.random.default_rng(seed)
    _, all_boxes, all_labels = make_detection_scenes(3, seed=seed)
    target = torch.from_numpy(
        np.stack(
            [
                yolo_encode(b, lab, 4, ANCHORS[:3], 4, 64, return_dropped=True)[0]
                for b, lab in zip(all_boxes, all_labels, strict=True)
            ]
        )
    )  # [3, 4, 4, 3, 9]
    raw = torch.from_numpy(rng.normal(size=target.shape))
    output = torch.cat(  # a network's head: sigmoid p_c, b_x, b_y; exp sizes; softmax classes
        [raw[..., :3].sigmoid(), raw[..., 3:5].exp(), raw[..., 5:].softmax(-1)], dim=-1
    )
    obj = target[..., 0] == 1
    # the same terms from PyTorch's own losses (sums), divided by the 3 images
    bce = F.binary_cross_entropy(output[..., 0], target[..., 0], reduction="none")
    nll = F.nll_loss(output[obj][:, 5:].log(), target[obj][:, 5:].argmax(-1), reduction="sum")
    coord = F.mse_loss(output[obj][:, 1:3], target[obj][:, 1:3], reduction="sum") + F.mse_loss(
        output[obj][:, 3:5].log(), target[obj][:, 3:5].log(), reduction="sum"
    )
    expected = (2.0 * coord + bce[obj].sum() + 0.25 * bce[~obj].sum() + nll) / 3
    loss = yolo_loss(output, target, 2.0, 0.25, terms="cross_entropy")
    torch.testing.assert_close(loss, expected, rtol=1e-12, atol=0)
    assert yolo_loss(target.clone(), target, terms="cross_entropy").item() == 0


def test_cross_entropy_loss_gradient_gradcheck():
    rng = np.random.default_rng(1)
    output = torch.from_numpy(rng.uniform(0.1, 0.9, size=(2, 3, 3, 2, 8))).requires_grad_()
    target = torch.zeros(2, 3, 3, 2, 8, dtype=torch.float64)
    target[0, 1, 2, 1] = torch.tensor([1, 0.3, 0.7, 1.5, 0.5, 0, 0, 1])
    target[1, 0, 0, 0] = torch.tensor([1, 0.9, 0.1, 0.2, 2.5, 1, 0, 0])
    assert torch.autograd.gradcheck(
        lambda o: yolo_loss(o, target, terms="cross_entropy"), (output,)
    )


def test_loss_refuses_bad_input():
    output, target = tiny_case()
    with pytest.raises(TypeError, match="output.*floating"):
        yolo_loss(output.numpy(), target)
    with pytest.raises(TypeError, match="target.*floating"):
        yolo_loss(output, target.long())
    with pytest.raises(ValueError, match="same shape"):
        yolo_loss(output, target[:, :1])
    with pytest.raises(ValueError, match=r"\(N, S, S, B, 5 \+ C\)"):
        yolo_loss(output[0], target[0])
    bad = target.clone()
    bad[0, 0, 0, 0, 0] = 0.5
    with pytest.raises(ValueError, match="p_c.*0 or 1"):
        yolo_loss(output, bad)
    with pytest.raises(ValueError, match="terms"):
        yolo_loss(output, target, terms="focal")
    with pytest.raises(ValueError, match="lambda_noobj"):
        yolo_loss(output, target, lambda_noobj=-1)
