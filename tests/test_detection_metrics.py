"""mlnotes.detection metrics: AP on hand-computed cases (the arithmetic in comments, the answers
as fractions), against a brute-force reference over seeds (explicit loops over the ranked
detections and a plain sum over the recall levels of the interpolated curve), mAP against AP
per class and threshold, bad input."""

from fractions import Fraction

import numpy as np
import pytest
import torch
from box_oracles import iou_pair

from mlnotes.detection import (
    COCO_IOU_THRESHOLDS,
    average_precision,
    mean_average_precision,
    precision_recall,
)

SEEDS = range(6)
BOX = [0.0, 0.0, 10.0, 10.0]
ELSEWHERE = [50.0, 50.0, 60.0, 60.0]  # IoU 0 with BOX
OTHER = [20.0, 0.0, 30.0, 10.0]  # a second object, IoU 0 with BOX


def boxes(*rows):
    return np.array(rows, dtype=np.float64).reshape(-1, 4)


def scores(*values):
    return np.array(values, dtype=np.float64)


# --- plain-Python reference --------------------------------------------------------------------


def reference_curve(pred_boxes, pred_scores, gt_boxes, iou_threshold):
    """Rank every detection (score, then image, then index), match each in turn, count."""
    ranked = sorted(
        ((float(s), i, k) for i, ss in enumerate(pred_scores) for k, s in enumerate(ss)),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    matched = [set() for _ in gt_boxes]
    num_gt = sum(len(g) for g in gt_boxes)
    tp = 0
    precision, recall, hits = [], [], []
    for rank, (_, i, k) in enumerate(ranked, start=1):
        best, best_iou = None, -1.0
        for g, gt in enumerate(gt_boxes[i].tolist()):
            iou = iou_pair(pred_boxes[i][k].tolist(), gt)
            if g not in matched[i] and iou > best_iou:  # strict: ties keep the lower index
                best, best_iou = g, iou
        hit = best is not None and best_iou >= iou_threshold
        if hit:
            matched[i].add(best)
            tp += 1
        hits.append(hit)
        precision.append(tp / rank)
        recall.append(tp / num_gt)
    return precision, recall, hits


def reference_ap(precision, recall):
    """Integral of p_interp(r) = max{p_k : r_k >= r}, a step function, over the recall levels."""
    area, previous = 0.0, 0.0
    for level in sorted(set(recall)):
        if level == 0:
            continue
        p_interp = max(p for p, r in zip(precision, recall, strict=True) if r >= level)
        area += (level - previous) * p_interp
        previous = level
    return area


def random_case(rng, images=5, objects=4, extra=3):
    """Ground truths and jittered detections of them (some poor, some duplicated, some spurious),
    scores rounded to one decimal so that ties occur."""
    pred_boxes, pred_scores, gt_boxes = [], [], []
    for _ in range(images):
        g = int(rng.integers(0, objects + 1))
        corner = rng.uniform(0, 60, (g, 2))
        gt = np.concatenate([corner, corner + rng.uniform(5, 30, (g, 2))], axis=1)
        copies = gt[rng.integers(0, g, 2 * g)] if g else np.zeros((0, 4))
        jitter = copies + rng.normal(0, 3, copies.shape)
        corner = rng.uniform(0, 80, (int(rng.integers(0, extra + 1)), 2))
        spurious = np.concatenate([corner, corner + rng.uniform(5, 20, corner.shape)], axis=1)
        p = np.concatenate([jitter, spurious])
        p[:, 2:] = np.maximum(p[:, 2:], p[:, :2])
        gt_boxes.append(gt)
        pred_boxes.append(p)
        pred_scores.append(np.round(rng.random(len(p)), 1))
    return pred_boxes, pred_scores, gt_boxes


# --- hand-computed cases -----------------------------------------------------------------------


def test_perfect_detections_give_one():
    gt = [boxes(BOX, OTHER), boxes(ELSEWHERE)]
    assert average_precision(gt, [scores(0.3, 0.9), scores(0.5)], gt) == 1.0


def test_hit_then_false_positive_vs_the_reverse():
    # two objects; ranked hit, FP, hit: precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1
    # envelope 1, 2/3, 2/3 -> AP = 1/2 * 1 + 0 + 1/2 * 2/3 = 5/6
    gt = [boxes(BOX, OTHER)]
    preds = [boxes(BOX, ELSEWHERE, OTHER)]
    assert average_precision(preds, [scores(0.9, 0.8, 0.7)], gt) == pytest.approx(5 / 6)
    # FP first: precision 0, 1/2, 2/3 at recall 0, 1/2, 1; envelope 2/3 everywhere -> AP = 2/3
    assert average_precision(preds, [scores(0.7, 0.9, 0.8)], gt) == pytest.approx(2 / 3)


def test_the_envelope_is_what_sklearn_does_not_do():
    # three objects; hit, FP, hit, hit: precision 1, 1/2, 2/3, 3/4 at recall 1/3, 1/3, 2/3, 1
    # interpolated: 1/3 * 1 + 1/3 * 3/4 + 1/3 * 3/4 = 5/6 (the 2/3 is lifted to 3/4)
    # without the envelope (sklearn's sum of (r_k - r_{k-1}) p_k): 1/3 + 2/9 + 1/4 = 29/36
    third = [40.0, 0.0, 50.0, 10.0]
    gt = [boxes(BOX, OTHER, third)]
    preds = [boxes(BOX, ELSEWHERE, OTHER, third)]
    ap = average_precision(preds, [scores(0.9, 0.8, 0.7, 0.6)], gt)
    assert Fraction(ap).limit_denominator(100) == Fraction(5, 6)
    assert ap != pytest.approx(29 / 36)


def test_a_duplicate_detection_is_a_false_positive():
    # two objects; hit BOX, the same BOX again, hit OTHER -> as hit, FP, hit: AP = 5/6
    gt = [boxes(BOX, OTHER)]
    preds = [boxes(BOX, [0.0, 0.0, 10.0, 9.0], OTHER)]  # the duplicate: IoU 0.9 with BOX
    curve = precision_recall(preds, [scores(0.9, 0.8, 0.7)], gt)
    np.testing.assert_array_equal(curve.true_positive, [True, False, True])
    np.testing.assert_allclose(curve.precision, [1, 1 / 2, 2 / 3])
    np.testing.assert_allclose(curve.recall, [1 / 2, 1 / 2, 1])
    assert average_precision(preds, [scores(0.9, 0.8, 0.7)], gt) == pytest.approx(5 / 6)


def test_a_missed_object_caps_recall():
    # two objects, one found: recall stops at 1/2 -> AP = 1/2 * 1
    gt = [boxes(BOX), boxes(OTHER)]
    assert average_precision([boxes(BOX), boxes()], [scores(0.9), scores()], gt) == 0.5


def test_no_predictions_give_zero():
    gt = [boxes(BOX), boxes(OTHER)]
    assert average_precision([boxes(), []], [scores(), []], gt) == 0.0
    curve = precision_recall([boxes(), boxes()], [scores(), scores()], gt)
    assert curve.precision.shape == curve.recall.shape == (0,)
    assert curve.num_ground_truth == 2


def test_iou_equal_to_the_threshold_matches():
    half = [0.0, 0.0, 10.0, 5.0]  # IoU with BOX = 50 / 100 = 0.5 exactly
    gt = [boxes(BOX)]
    assert average_precision([boxes(half)], [scores(1.0)], gt, iou_threshold=0.5) == 1.0
    assert average_precision([boxes(half)], [scores(1.0)], gt, iou_threshold=0.51) == 0.0


def test_a_detection_takes_the_best_unmatched_object():
    # two overlapping objects; both detections overlap A best, the second also B at IoU 0.6:
    # the first takes A, the second falls back on B (COCO's rule; VOC's would call it a FP)
    a, b = [0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 8.0]  # IoU(a, b) = 0.8
    gt = [boxes(a, b)]
    preds = [boxes(a, [0.0, 0.0, 10.0, 9.6])]  # IoU 0.96 with a, 0.8 / 0.96 with b
    curve = precision_recall(preds, [scores(0.9, 0.8)], gt, iou_threshold=0.5)
    np.testing.assert_array_equal(curve.true_positive, [True, True])


def test_detections_only_match_objects_of_their_own_image():
    gt = [boxes(BOX), boxes()]
    assert average_precision([boxes(), boxes(BOX)], [scores(), scores(1.0)], gt) == 0.0


def test_mean_average_precision_by_hand():
    # class 0: hit then FP (AP 1); class 1: FP then hit (AP 1/2); class 2: no object (NaN, out)
    gt_boxes = [boxes(BOX, OTHER)]
    gt_labels = [np.array([0, 1])]
    pred_boxes = [boxes(BOX, ELSEWHERE, ELSEWHERE, OTHER, BOX)]
    pred_scores = [scores(0.9, 0.8, 0.9, 0.8, 0.5)]
    pred_labels = [np.array([0, 0, 1, 1, 2])]
    result = mean_average_precision(
        pred_boxes, pred_scores, pred_labels, gt_boxes, gt_labels, num_classes=4
    )
    np.testing.assert_allclose(result.per_class, [1.0, 0.5, np.nan, np.nan])
    assert result.map == pytest.approx(0.75)
    np.testing.assert_allclose(result.per_threshold, [0.75])


def test_map_over_coco_thresholds():
    # IoU 0.72: a hit at 0.5, 0.55, 0.6, 0.65, 0.7 and a miss at 0.75 ... 0.95 -> 5/10
    gt = [boxes(BOX)]
    pred = [boxes([0.0, 0.0, 10.0, 7.2])]
    labels = [np.array([0])]
    result = mean_average_precision(pred, [scores(1.0)], labels, gt, labels, COCO_IOU_THRESHOLDS)
    np.testing.assert_allclose(result.per_threshold, [1] * 5 + [0] * 5)
    assert result.map == pytest.approx(0.5)
    np.testing.assert_allclose(result.iou_thresholds, np.arange(10) * 0.05 + 0.5)


# --- against the reference ---------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("iou_threshold", [0.3, 0.5, 0.75])
def test_average_precision_matches_reference(seed, iou_threshold):
    pred_boxes, pred_scores, gt_boxes = random_case(np.random.default_rng(seed))
    precision, recall, hits = reference_curve(pred_boxes, pred_scores, gt_boxes, iou_threshold)
    curve = precision_recall(pred_boxes, pred_scores, gt_boxes, iou_threshold)
    np.testing.assert_array_equal(curve.true_positive, hits)
    np.testing.assert_allclose(curve.precision, precision, rtol=1e-12)
    np.testing.assert_allclose(curve.recall, recall, rtol=1e-12)
    assert np.all(np.diff(curve.scores) <= 0)
    expected = reference_ap(precision, recall)
    ap = average_precision(pred_boxes, pred_scores, gt_boxes, iou_threshold)
    assert ap == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert 0.0 <= ap <= 1.0


@pytest.mark.parametrize("seed", SEEDS)
def test_mean_average_precision_is_the_mean_of_per_class_ap(seed):
    rng = np.random.default_rng(seed)
    pred_boxes, pred_scores, gt_boxes = random_case(rng, images=6)
    pred_labels = [rng.integers(0, 3, len(p)) for p in pred_boxes]
    gt_labels = [rng.integers(0, 3, len(g)) for g in gt_boxes]
    thresholds = [0.5, 0.75]
    result = mean_average_precision(
        pred_boxes, pred_scores, pred_labels, gt_boxes, gt_labels, thresholds, num_classes=3
    )
    table = np.full((2, 3), np.nan)
    for c in range(3):
        if not any((y == c).any() for y in gt_labels):
            continue
        for t, threshold in enumerate(thresholds):
            table[t, c] = average_precision(
                [p[y == c] for p, y in zip(pred_boxes, pred_labels, strict=True)],
                [s[y == c] for s, y in zip(pred_scores, pred_labels, strict=True)],
                [g[y == c] for g, y in zip(gt_boxes, gt_labels, strict=True)],
                threshold,
            )
    np.testing.assert_allclose(result.per_class, table.mean(axis=0), rtol=1e-12)
    assert result.map == pytest.approx(np.nanmean(table), rel=1e-12)
    np.testing.assert_allclose(result.per_threshold, np.nanmean(table, axis=1), rtol=1e-12)


def test_tensors_and_lists_give_the_numpy_answer():
    pred_boxes, pred_scores, gt_boxes = random_case(np.random.default_rng(0))
    expected = average_precision(pred_boxes, pred_scores, gt_boxes)
    as_tensors = [[torch.from_numpy(a) for a in arrays] for arrays in (pred_boxes, pred_scores)]
    gt_lists = [g.tolist() for g in gt_boxes]
    assert average_precision(*as_tensors, gt_lists) == pytest.approx(expected, rel=1e-12)


def test_image_order_does_not_matter_without_ties():
    rng = np.random.default_rng(3)
    pred_boxes, _, gt_boxes = random_case(rng)
    pred_scores = [rng.random(len(p)) for p in pred_boxes]  # no ties
    ap = average_precision(pred_boxes, pred_scores, gt_boxes)
    reverse = slice(None, None, -1)
    flipped = average_precision(pred_boxes[reverse], pred_scores[reverse], gt_boxes[reverse])
    assert flipped == pytest.approx(ap, rel=1e-12)


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((boxes(BOX), [scores(1.0)], [boxes(BOX)]), TypeError, "pred_boxes must be a list"),
        (([boxes(BOX)], [scores(1.0)], [boxes(BOX), boxes()]), ValueError, "gt_boxes has 2"),
        (
            ([boxes([5, 0, 1, 1])], [scores(1.0)], [boxes(BOX)]),
            ValueError,
            r"pred_boxes\[0\] row 0",
        ),
        (([boxes(BOX)], [scores(1.0)], [np.zeros((1, 3))]), ValueError, r"gt_boxes\[0\] must"),
        (([boxes(BOX)], [scores(1.0, 2.0)], [boxes(BOX)]), ValueError, r"pred_scores\[0\] must"),
        (([boxes(BOX)], [scores(np.nan)], [boxes(BOX)]), ValueError, "NaN"),
        (([boxes(BOX)], [scores(1.0)], [boxes()]), ValueError, "undefined without ground truth"),
    ],
)
def test_average_precision_bad_input(args, error, message):
    with pytest.raises(error, match=message):
        average_precision(*args)


@pytest.mark.parametrize("threshold", [-0.1, 1.5, "0.5", None])
def test_bad_threshold(threshold):
    with pytest.raises(ValueError, match="iou_threshold"):
        average_precision([boxes(BOX)], [scores(1.0)], [boxes(BOX)], threshold)


def test_mean_average_precision_bad_input():
    args = [boxes(BOX)], [scores(1.0)]
    gt = [boxes(BOX)]
    with pytest.raises(ValueError, match=r"pred_labels\[0\].*\(1,\)"):
        mean_average_precision(*args, [np.array([0, 1])], gt, [np.array([0])])
    with pytest.raises(ValueError, match=r"gt_labels\[0\].*\[0, 2\)"):
        mean_average_precision(*args, [np.array([0])], gt, [np.array([2])], num_classes=2)
    with pytest.raises(ValueError, match="pred_labels.*list"):
        mean_average_precision(*args, np.array([0]), gt, [np.array([0])])
    with pytest.raises(ValueError, match="iou_threshold.*non-empty"):
        mean_average_precision(*args, [np.array([0])], gt, [np.array([0])], iou_threshold=[])
    with pytest.raises(ValueError, match="no box at all"):
        mean_average_precision(*args, [np.array([0])], [boxes()], [np.array([], dtype=int)])
