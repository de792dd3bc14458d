"""Detection metrics (chapter 7): precision/recall of ranked detections, average precision (AP),
mean average precision (mAP) at one IoU threshold or several (COCO's mAP@[0.5:0.95]).

Inputs are lists with one entry per image: boxes ``[K_i, 4]`` (x1, y1, x2, y2), scores ``[K_i]``,
labels ``[K_i]``, as arrays, lists or tensors; answers are NumPy arrays and floats.

    ap = average_precision(pred_boxes, pred_scores, gt_boxes, iou_threshold=0.5)
    result = mean_average_precision(pred_boxes, pred_scores, pred_labels, gt_boxes, gt_labels)
    result.map, result.per_class

References: Everingham et al., "The PASCAL VOC Challenge" (IJCV 2010), section 4.2, and its
retrospective (IJCV 2015), section 2.2 (all-point AP, the devkit's ``VOCap``); Lin et al.,
"Microsoft COCO" (ECCV 2014) and ``pycocotools`` (mAP@[.5:.95]).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from mlnotes.core import as_class_labels, as_float_array, check_same_length, check_scalar, to_numpy
from mlnotes.detection.boxes import as_numpy_boxes, box_iou_unchecked

COCO_IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)  # 0.5, 0.55, ..., 0.95: mAP@[0.5:0.95]


class PrecisionRecall(NamedTuple):
    """The precision/recall curve ``[K]`` of ranked detections, best first.

    ``precision = TP_k / k``, ``recall = TP_k / G`` (G = ``num_ground_truth``), decreasing
    ``scores``, and bool ``true_positive``: whether each detection matched an object.
    """

    precision: np.ndarray
    recall: np.ndarray
    scores: np.ndarray
    true_positive: np.ndarray
    num_ground_truth: int


class MeanAveragePrecision(NamedTuple):
    """``map``: mean of ``per_class [C]`` (AP averaged over the thresholds; NaN for a class
    without ground truth, left out of ``map``); ``per_threshold [T]``: the mAP at each of the
    ``iou_thresholds [T]``, in the order given.
    """

    map: float
    per_class: np.ndarray
    per_threshold: np.ndarray
    iou_thresholds: np.ndarray


def precision_recall(pred_boxes, pred_scores, gt_boxes, iou_threshold: float = 0.5):
    """Rank one class's detections of all images by score, match them, and measure the curve.

    Matching (greedy, by decreasing score): a detection is a true positive when, among the
    still-unmatched ground-truth boxes of its image, the one of highest IoU has IoU >=
    ``iou_threshold``; that object is then matched and no later detection can claim it, so a
    duplicate detection of a found object is a false positive. After the k best detections,

        precision_k = TP_k / k,        recall_k = TP_k / G        (G objects in all images).

    This is COCO's matching; the VOC devkit takes the best object among *all* objects and
    counts a false positive when it is taken (they differ only when two objects overlap one
    detection). Equal scores rank by image, then index. Returns a ``PrecisionRecall``.
    """
    iou_threshold = check_scalar(iou_threshold, "iou_threshold", low=0, high=1)
    preds, scores, gts = _per_image(pred_boxes, pred_scores, gt_boxes)
    matched = [
        _match(box_iou_unchecked(p, g), s, iou_threshold)
        for p, s, g in zip(preds, scores, gts, strict=True)
    ]
    return _curve(scores, matched, sum(len(g) for g in gts))


def average_precision(pred_boxes, pred_scores, gt_boxes, iou_threshold: float = 0.5) -> float:
    """Average precision of one class: the area under its interpolated precision/recall curve.

        AP = sum_k (r_k - r_{k-1}) * p_interp(r_k),   p_interp(r) = max_{k': r_k' >= r} p_k'

    over the ranked detections k (``r_0 = 0``): VOC 2010's all-point interpolation (VOC 2007
    sampled 11 recall levels, COCO 101). Missed objects cap the AP at the final recall (0 with
    no detection). scikit-learn's ``average_precision_score`` has no envelope and no matching.
    """
    curve = precision_recall(pred_boxes, pred_scores, gt_boxes, iou_threshold)
    if curve.num_ground_truth == 0:
        raise ValueError(
            "average precision is undefined without ground truth: gt_boxes holds no box in any "
            f"of its {len(gt_boxes)} image(s)"
        )
    return _area_under_envelope(curve.precision, curve.recall)


def mean_average_precision(
    pred_boxes,
    pred_scores,
    pred_labels,
    gt_boxes,
    gt_labels,
    iou_threshold=0.5,
    num_classes: int | None = None,
) -> MeanAveragePrecision:
    """Mean over classes (and IoU thresholds) of the average precision of each class.

        mAP = (1 / |C'|) sum_{c in C'} AP_c,     C' = the classes with at least one object

    A detection only matches objects of its class. A class without ground truth is NaN in
    ``per_class`` and left out (its false positives cost nothing, as in COCO). A sequence of
    thresholds averages each class's AP over them; ``COCO_IOU_THRESHOLDS`` gives COCO's
    mAP@[0.5:0.95] (all-point interpolated). ``num_classes=None``: 1 + the largest label.
    """
    thresholds = np.atleast_1d(np.asarray(iou_threshold, dtype=object))
    if thresholds.ndim != 1 or thresholds.size == 0:
        raise ValueError(
            f"iou_threshold must be a number or a non-empty 1-D sequence, got {iou_threshold!r}"
        )
    thresholds = np.array(
        [check_scalar(t, "iou_threshold", low=0, high=1) for t in thresholds], dtype=np.float64
    )
    preds, scores, gts = _per_image(pred_boxes, pred_scores, gt_boxes)
    pred_labels = _labels(pred_labels, preds, "pred_labels", num_classes)
    gt_labels = _labels(gt_labels, gts, "gt_labels", num_classes)
    if num_classes is None:
        num_classes = 1 + max((int(y.max()) for y in pred_labels + gt_labels if y.size), default=-1)
    else:
        num_classes = check_scalar(num_classes, "num_classes", low=1, integer=True)
    table = np.full((len(thresholds), num_classes), np.nan)  # [T, C]
    for c in range(num_classes):
        cls_preds = [p[y == c] for p, y in zip(preds, pred_labels, strict=True)]
        cls_scores = [s[y == c] for s, y in zip(scores, pred_labels, strict=True)]
        cls_gts = [g[y == c] for g, y in zip(gts, gt_labels, strict=True)]
        num_gt = sum(len(g) for g in cls_gts)
        if num_gt == 0:
            continue
        ious = [
            box_iou_unchecked(p, g) for p, g in zip(cls_preds, cls_gts, strict=True)
        ]  # once per class
        for t, threshold in enumerate(thresholds):
            matched = [_match(iou, s, threshold) for iou, s in zip(ious, cls_scores, strict=True)]
            curve = _curve(cls_scores, matched, num_gt)
            table[t, c] = _area_under_envelope(curve.precision, curve.recall)
    has_truth = ~np.isnan(table[0])  # [C]
    if not has_truth.any():
        raise ValueError("mean average precision is undefined: gt_boxes holds no box at all")
    per_class = table.mean(axis=0)  # [C]; NaN stays NaN for classes without ground truth
    return MeanAveragePrecision(
        map=float(per_class[has_truth].mean()),
        per_class=per_class,
        per_threshold=table[:, has_truth].mean(axis=1),  # [T]
        iou_thresholds=thresholds,
    )


def _match(iou: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    # greedy matching in one image (only its own order matters): bool [K], True for a TP
    true_positive = np.zeros(iou.shape[0], dtype=bool)
    free = np.ones(iou.shape[1], dtype=bool)  # [G] objects not matched yet
    for k in np.argsort(-scores, kind="stable"):  # best first; ties: lower index first
        candidates = np.where(free, iou[k], -1.0)  # [G]; matched objects are out of reach
        if candidates.size and candidates.max() >= iou_threshold:
            g = int(candidates.argmax())  # ties: the lowest index
            free[g] = False
            true_positive[k] = True
    return true_positive


def _curve(scores: list, matched: list, num_gt: int) -> PrecisionRecall:
    all_scores = np.concatenate([np.zeros(0), *scores])  # [K]
    all_matched = np.concatenate([np.zeros(0, dtype=bool), *matched])  # [K]
    order = np.argsort(-all_scores, kind="stable")  # ties: image order, then index order
    true_positive = all_matched[order]
    tp = np.cumsum(true_positive)  # [K] TP_k
    ranks = np.arange(1, len(order) + 1)  # [K] k
    recall = tp / num_gt if num_gt else np.zeros(len(order))
    return PrecisionRecall(tp / ranks, recall, all_scores[order], true_positive, num_gt)


def _area_under_envelope(precision: np.ndarray, recall: np.ndarray) -> float:
    envelope = np.maximum.accumulate(precision[::-1])[::-1]  # [K] p_interp(r_k): best to the right
    steps = np.diff(recall, prepend=0.0)  # [K] r_k - r_{k-1}; 0 at a false positive
    return float(np.sum(steps * envelope))


def _per_image(pred_boxes, pred_scores, gt_boxes):
    for name, value in (
        ("pred_boxes", pred_boxes),
        ("pred_scores", pred_scores),
        ("gt_boxes", gt_boxes),
    ):
        if not isinstance(value, (list, tuple)):
            raise TypeError(
                f"{name} must be a list with one entry per image, got {type(value).__name__}"
            )
    check_same_length(pred_boxes=pred_boxes, pred_scores=pred_scores, gt_boxes=gt_boxes)
    preds, scores, gts = [], [], []
    for i, (p, s, g) in enumerate(zip(pred_boxes, pred_scores, gt_boxes, strict=True)):
        p = as_numpy_boxes(_boxes_2d(p), f"pred_boxes[{i}]")
        g = as_numpy_boxes(_boxes_2d(g), f"gt_boxes[{i}]")
        s = as_float_array(to_numpy(s), f"pred_scores[{i}]")
        if s.shape != p.shape[:1]:
            raise ValueError(
                f"pred_scores[{i}] must have shape {p.shape[:1]} (one per box), got {s.shape}"
            )
        preds.append(p.astype(np.float64))
        scores.append(s.astype(np.float64))
        gts.append(g.astype(np.float64))
    return preds, scores, gts


def _boxes_2d(boxes) -> np.ndarray:  # an empty list or array means no box
    boxes = to_numpy(boxes)
    return boxes.reshape(0, 4) if boxes.size == 0 and boxes.ndim == 1 else boxes


def _labels(labels, boxes: list, name: str, num_classes) -> list:
    if not isinstance(labels, (list, tuple)) or len(labels) != len(boxes):
        got = len(labels) if isinstance(labels, (list, tuple)) else type(labels).__name__
        raise ValueError(
            f"{name} must be a list with one entry per image ({len(boxes)}), got {got}"
        )
    checked = []
    for i, (y, b) in enumerate(zip(labels, boxes, strict=True)):
        y = to_numpy(y)
        if y.shape != b.shape[:1]:
            raise ValueError(
                f"{name}[{i}] must have shape {b.shape[:1]} (one per box), got {y.shape}"
            )
        checked.append(as_class_labels(y, num_classes, f"{name}[{i}]"))
    return checked
