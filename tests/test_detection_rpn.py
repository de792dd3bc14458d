"""mlnotes.detection.rpn: the anchor grid against a triple loop, box deltas against hand
arithmetic and their round trip, the anchors' labels against a loop over anchors, the loss
against a loop, proposals step by step, recall against a double loop, the network's shapes."""

import math

import numpy as np
import pytest
import torch
from box_oracles import iou_pair

from mlnotes.data import make_detection_scenes
from mlnotes.detection import (
    TinyRPN,
    anchor_grid,
    decode_deltas,
    encode_deltas,
    nms,
    proposal_recall,
    propose,
    rpn_loss,
    rpn_targets,
)

SHAPES = np.array([[12.0, 12.0], [20.0, 20.0], [32.0, 16.0]])

# --- references --------------------------------------------------------------------------------


def grid_loop(shapes, height, width, stride):
    boxes = []
    for i in range(height):
        for j in range(width):
            x, y = (j + 0.5) * stride, (i + 0.5) * stride
            for w, h in shapes.tolist():
                boxes.append([x - w / 2, y - h / 2, x + w / 2, y + h / 2])
    return np.array(boxes)


def targets_loop(anchors, gt, positive_iou=0.7, negative_iou=0.3):
    """Faster R-CNN's labelling rules, anchor by anchor, with IoU written out."""
    a_list, g_list = anchors.tolist(), gt.tolist()
    iou = [[iou_pair(a, g) for g in g_list] for a in a_list]
    best_for_gt = [max(iou[a][g] for a in range(len(a_list))) for g in range(len(g_list))]
    labels, matched = [], []
    for a in range(len(a_list)):
        best = max(iou[a])
        matched.append(iou[a].index(best))  # the first of equal maxima
        is_best = any(iou[a][g] == best_for_gt[g] > 0 for g in range(len(g_list)))
        if best >= positive_iou or is_best:
            labels.append(1)
        elif best < negative_iou:
            labels.append(0)
        else:
            labels.append(-1)
    return np.array(labels), np.array(matched)


def deltas_by_hand(box, anchor):
    x, y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    w, h = box[2] - box[0], box[3] - box[1]
    xa, ya = (anchor[0] + anchor[2]) / 2, (anchor[1] + anchor[3]) / 2
    wa, ha = anchor[2] - anchor[0], anchor[3] - anchor[1]
    return [(x - xa) / wa, (y - ya) / ha, math.log(w / wa), math.log(h / ha)]


def smooth_l1(d):
    return 0.5 * d * d if abs(d) < 1 else abs(d) - 0.5


# --- anchor grid --------------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "stride"), [(1, 4.0), (3, 8.0), ((2, 5), 16.0)])
def test_anchor_grid_matches_a_triple_loop(size, stride):
    height, width = (size, size) if isinstance(size, int) else size
    expected = grid_loop(SHAPES, height, width, stride)
    np.testing.assert_allclose(anchor_grid(SHAPES, size, stride), expected, rtol=0, atol=1e-12)


def test_anchor_grid_by_hand():
    # one 10x6 shape on a 2x2 map of stride 8: centres (4, 4), (12, 4), (4, 12), (12, 12)
    grid = anchor_grid([[10.0, 6.0]], 2, 8)
    assert grid.tolist() == [[-1, 1, 9, 7], [7, 1, 17, 7], [-1, 9, 9, 15], [7, 9, 17, 15]]


def test_anchor_grid_rejects_bad_input():
    with pytest.raises(ValueError, match="anchors"):
        anchor_grid([[10.0, 0.0]], 2, 8)
    with pytest.raises(ValueError, match="feature_size"):
        anchor_grid(SHAPES, 0, 8)
    with pytest.raises(ValueError, match="stride"):
        anchor_grid(SHAPES, 2, 0)


# --- deltas --------------------------------------------------------------------------------------


def test_encode_by_hand():
    # anchor centre (28, 12), 20 x 20; box centre (31, 14), 20 x 40:
    # t = (3 / 20, 2 / 20, log 1, log 2)
    t = encode_deltas([[21.0, -6.0, 41.0, 34.0]], [[18.0, 2.0, 38.0, 22.0]])
    np.testing.assert_allclose(t, [[0.15, 0.1, 0.0, math.log(2)]], rtol=0, atol=1e-15)


@pytest.mark.parametrize("seed", range(3))
def test_encode_matches_the_formula_and_decode_inverts_it(seed):
    rng = np.random.default_rng(seed)
    corner = rng.uniform(-20, 60, (50, 2))
    boxes = np.concatenate([corner, corner + rng.uniform(1, 40, (50, 2))], axis=1)
    corner = rng.uniform(-20, 60, (50, 2))
    anchors = np.concatenate([corner, corner + rng.uniform(1, 40, (50, 2))], axis=1)
    t = encode_deltas(boxes, anchors)
    expected = [deltas_by_hand(b, a) for b, a in zip(boxes.tolist(), anchors.tolist(), strict=True)]
    np.testing.assert_allclose(t, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(decode_deltas(t, anchors), boxes, rtol=0, atol=1e-10)
    # and the other way round: encode(decode(t)) = t for moderate deltas
    deltas = rng.normal(0, 0.5, (50, 4))
    np.testing.assert_allclose(
        encode_deltas(decode_deltas(deltas, anchors), anchors), deltas, rtol=0, atol=1e-10
    )


def test_decode_clamps_the_scale_and_accepts_tensors():
    box = decode_deltas(torch.tensor([[0.0, 0.0, 100.0, 0.0]]), [[0.0, 0.0, 16.0, 16.0]])
    assert np.isfinite(box).all()
    assert box[0, 2] - box[0, 0] == pytest.approx(1000.0)  # 16 * exp(log(1000 / 16))


def test_deltas_reject_bad_input():
    with pytest.raises(ValueError, match="zero width"):
        encode_deltas([[0.0, 0.0, 0.0, 5.0]], [[0.0, 0.0, 5.0, 5.0]])
    with pytest.raises(ValueError, match="pair up"):
        encode_deltas(np.ones((2, 4)) * [0, 0, 1, 1], [[0.0, 0.0, 5.0, 5.0]])
    with pytest.raises(ValueError, match="deltas"):
        decode_deltas(np.zeros((2, 4)), [[0.0, 0.0, 5.0, 5.0]])
    with pytest.raises(ValueError):
        decode_deltas([[0.0, np.nan, 0.0, 0.0]], [[0.0, 0.0, 5.0, 5.0]])


# --- targets ------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_rpn_targets_match_a_loop_over_anchors(seed):
    anchors = anchor_grid(SHAPES, 8, 8)
    _, scenes, _ = make_detection_scenes(6, seed=seed)
    for gt in scenes:
        labels, matched, deltas = rpn_targets(anchors, gt)
        expected_labels, expected_matched = targets_loop(anchors, gt)
        np.testing.assert_array_equal(labels, expected_labels)
        np.testing.assert_array_equal(matched, expected_matched)
        pairs = zip(matched.tolist(), anchors.tolist(), strict=True)
        expected = [deltas_by_hand(gt[m].tolist(), a) for m, a in pairs]
        np.testing.assert_allclose(deltas, expected, rtol=1e-12, atol=1e-12)
        # every object has at least one positive anchor (rule ii)
        iou = np.array([[iou_pair(a, g) for g in gt.tolist()] for a in anchors.tolist()])
        assert (iou[labels == 1].max(axis=0) == iou.max(axis=0)).all()


def test_rpn_targets_by_hand():
    anchors = np.array([[0.0, 0, 10, 10], [2, 0, 12, 10], [5, 0, 15, 10], [40, 40, 50, 50]])
    gt = np.array([[0.0, 0, 10, 10], [30, 30, 60, 60]])
    labels, matched, _ = rpn_targets(anchors, gt)
    # anchor 0: IoU 1 -> positive; anchor 1: IoU 80/120 = 0.67 -> ignored;
    # anchor 2: IoU 50/150 = 0.33 -> ignored; anchor 3: IoU 100/900 = 0.11 < 0.3 but the best
    # anchor of the second object -> positive
    assert labels.tolist() == [1, -1, -1, 1]
    assert matched.tolist() == [0, 0, 0, 1]
    labels, _, deltas = rpn_targets(anchors, np.zeros((0, 4)))
    assert labels.tolist() == [0, 0, 0, 0] and not deltas.any()


def test_rpn_targets_reject_thresholds_out_of_order():
    with pytest.raises(ValueError, match="positive_iou"):
        rpn_targets([[0.0, 0, 1, 1]], [[0.0, 0, 1, 1]], positive_iou=0.2, negative_iou=0.3)


# --- loss ---------------------------------------------------------------------------------------


def test_rpn_loss_matches_a_loop():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 6, generator=gen, dtype=torch.float64)
    deltas = torch.randn(2, 6, 4, generator=gen, dtype=torch.float64) * 2
    targets = torch.randn(2, 6, 4, generator=gen, dtype=torch.float64)
    labels = torch.tensor([[1, 0, -1, 0, 0, 1], [-1, -1, 0, 1, 0, 0]])
    cls, n_cls, reg, n_reg = 0.0, 0, 0.0, 0
    for i in range(2):
        for a in range(6):
            label, z = int(labels[i, a]), float(logits[i, a])
            if label < 0:
                continue
            p = 1 / (1 + math.exp(-z))
            cls += -(label * math.log(p) + (1 - label) * math.log(1 - p))
            n_cls += 1
            if label == 1:
                reg += sum(smooth_l1(float(deltas[i, a, j] - targets[i, a, j])) for j in range(4))
                n_reg += 1
    expected = cls / n_cls + 10.0 * reg / n_reg
    got = rpn_loss(logits, deltas, labels, targets, lambda_reg=10.0)
    assert float(got) == pytest.approx(expected, rel=1e-12)


def test_rpn_loss_rejects_bad_labels_and_shapes():
    logits, deltas = torch.zeros(1, 3), torch.zeros(1, 3, 4)
    with pytest.raises(ValueError, match="labels"):
        rpn_loss(logits, deltas, torch.tensor([[2, 0, 0]]), deltas)
    with pytest.raises(ValueError, match="deltas"):
        rpn_loss(logits, torch.zeros(1, 3, 2), torch.tensor([[1, 0, 0]]), deltas)


# --- proposals and recall ----------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
def test_propose_is_decode_clip_nms_top_n(seed):
    rng = np.random.default_rng(seed)
    anchors = anchor_grid(SHAPES, 8, 8)
    scores, deltas = rng.normal(size=len(anchors)), rng.normal(0, 0.3, (len(anchors), 4))
    boxes, kept_scores = propose(anchors, scores, deltas, 64, top_n=15, iou_threshold=0.6)
    decoded = np.clip(decode_deltas(deltas, anchors), 0, 64)
    large = ((decoded[:, 2:] - decoded[:, :2]) >= 1).all(axis=1)
    index = np.flatnonzero(large)
    keep = index[nms(decoded[index], scores[index], 0.6)][:15]
    np.testing.assert_array_equal(boxes, decoded[keep])
    np.testing.assert_array_equal(kept_scores, scores[keep])
    assert len(boxes) == 15 and (np.diff(kept_scores) <= 0).all()
    assert boxes.min() >= 0 and boxes.max() <= 64


def test_propose_keeps_the_pre_nms_top_n_only():
    anchors = np.array([[0.0, 0, 10, 10], [20, 20, 30, 30], [40, 40, 50, 50]])
    boxes, scores = propose(anchors, [0.1, 0.9, 0.5], np.zeros((3, 4)), 64, 3, pre_nms_top_n=2)
    assert scores.tolist() == [0.9, 0.5] and boxes.tolist() == anchors[[1, 2]].tolist()


def test_proposal_recall_matches_a_double_loop():
    _, gts, _ = make_detection_scenes(20, seed=3)
    rng = np.random.default_rng(0)
    proposals = []
    for gt in gts:
        jitter = gt + rng.normal(0, 3, gt.shape)
        jitter[:, 2:] = np.maximum(jitter[:, 2:], jitter[:, :2] + 1)
        proposals.append(jitter[rng.random(len(gt)) < 0.8])
    found = sum(
        any(iou_pair(g, p) >= 0.5 for p in props.tolist())
        for props, gt in zip(proposals, gts, strict=True)
        for g in gt.tolist()
    )
    total = sum(len(g) for g in gts)
    assert proposal_recall(proposals, gts, 0.5) == found / total
    assert proposal_recall([np.zeros((0, 4))], [np.array([[0.0, 0, 1, 1]])]) == 0.0
    with pytest.raises(ValueError, match="proposals has 0, gt_boxes has"):
        proposal_recall([], gts)


# --- network ------------------------------------------------------------------------------------


def test_tiny_rpn_outputs_follow_the_anchor_grid_order():
    torch.manual_seed(0)
    model = TinyRPN(num_anchors=3, width=4).eval()
    x = torch.rand(2, 1, 64, 64)
    logits, deltas = model(x)
    assert logits.shape == (2, 8 * 8 * 3) and deltas.shape == (2, 8 * 8 * 3, 4)
    with torch.no_grad():
        h = model.window(model.backbone(x))  # [2, 16, 8, 8]
        raw_logits, raw_deltas = model.objectness(h), model.box_deltas(h)
    # anchor (i, j, a) is row (i * 8 + j) * 3 + a, as in anchor_grid
    i, j, a = 5, 2, 1
    row = (i * 8 + j) * 3 + a
    assert torch.allclose(logits[1, row], raw_logits[1, a, i, j])
    assert torch.allclose(deltas[1, row], raw_deltas[1, 4 * a : 4 * a + 4, i, j])
