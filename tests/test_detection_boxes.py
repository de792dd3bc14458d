"""mlnotes.detection boxes: IoU against a double loop and hand cases, format round trips, NMS
against a sort-loop-suppress reference (at the threshold's edge and with tied scores), laws
(hypothesis), bad input. torchvision is not installable beside this torch, so the references
are written here, in plain Python."""

import math
import warnings

import numpy as np
import pytest
import torch
from box_oracles import iou_pair
from hypothesis import given, settings
from hypothesis import strategies as st

from mlnotes.detection import batched_nms, box_area, box_convert, box_iou, nms

SEEDS = range(5)
FORMATS = ("xyxy", "xywh", "cxcywh")

# --- plain-Python references -------------------------------------------------------------------


def random_boxes(rng, n, scale=100.0, size=40.0):
    """n xyxy boxes crowded in a scale x scale square (so that many overlap), 10% zero-width."""
    corner = rng.uniform(0, scale, (n, 2))
    wh = rng.uniform(0, size, (n, 2))
    wh[rng.random(n) < 0.1, 0] = 0.0
    return np.concatenate([corner, corner + wh], axis=1)


def detections(rng, n, objects=6):
    """n boxes jittered around a few objects, like a detector's raw output (heavy overlaps)."""
    truth = random_boxes(rng, objects) + [0, 0, 10, 10]
    boxes = truth[rng.integers(0, objects, n)] + rng.normal(0, 3, (n, 4))
    boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2])  # keep x1 <= x2 and y1 <= y2
    return boxes


def iou_loop(boxes1, boxes2):
    return np.array(
        [[iou_pair(a, b) for b in boxes2.tolist()] for a in boxes1.tolist()], dtype=np.float64
    ).reshape(len(boxes1), len(boxes2))


def reference_nms(boxes, scores, iou_threshold):
    """Sort by score (ties: lower index first), then keep each box that no kept box overlaps."""
    order = sorted(range(len(scores)), key=lambda i: (-float(scores[i]), i))
    boxes = boxes.tolist()
    keep = []
    for i in order:
        if all(iou_pair(boxes[i], boxes[k]) <= iou_threshold for k in keep):
            keep.append(i)
    return np.array(keep, dtype=np.int64)


def nms_per_label(boxes, scores, labels, iou_threshold):
    """nms on each label's boxes separately, merged by decreasing score (ties: lower index)."""
    kept = [
        idx[nms(boxes[idx], scores[idx], iou_threshold)]
        for idx in (np.flatnonzero(labels == label) for label in np.unique(labels))
    ]
    kept = np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64)
    return np.array(sorted(kept.tolist(), key=lambda i: (-float(scores[i]), i)), dtype=np.int64)


# --- box_iou -----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_box_iou_matches_double_loop(seed):
    rng = np.random.default_rng(seed)
    a, b = random_boxes(rng, 30), random_boxes(rng, 20)
    expected = iou_loop(a, b)
    assert expected.max() > 0.3  # the boxes do overlap: the test compares more than zeros
    iou = box_iou(a, b)
    assert isinstance(iou, np.ndarray) and iou.dtype == np.float64 and iou.shape == (30, 20)
    np.testing.assert_allclose(iou, expected, rtol=1e-12, atol=1e-15)
    iou_t = box_iou(torch.from_numpy(a), torch.from_numpy(b))
    assert isinstance(iou_t, torch.Tensor) and iou_t.dtype == torch.float64
    np.testing.assert_allclose(iou_t.numpy(), expected, rtol=1e-12, atol=1e-15)
    iou_32 = box_iou(a.astype(np.float32), b.astype(np.float32))
    assert iou_32.dtype == np.float32
    np.testing.assert_allclose(iou_32, expected, atol=1e-5)


@pytest.mark.parametrize(
    ("box1", "box2", "expected"),
    [
        ([0, 0, 2, 2], [0, 0, 2, 2], 1.0),  # identical
        ([0, 0, 1, 1], [2, 2, 3, 3], 0.0),  # disjoint
        ([0, 0, 1, 1], [1, 0, 2, 1], 0.0),  # sharing an edge: the intersection is a segment
        ([0, 0, 1, 1], [1, 1, 2, 2], 0.0),  # sharing a corner
        ([0, 0, 2, 2], [0, 0, 1, 1], 0.25),  # a box and its quarter: 1 / 4
        ([0, 0, 1, 1], [0.5, 0, 1.5, 1], 1 / 3),  # unit squares, half overlapping: 0.5 / 1.5
        ([0, 0, 4, 2], [2, 1, 6, 3], 2 / 14),  # a 2x1 overlap of two 4x2 boxes: 2 / (8 + 8 - 2)
        ([1, 1, 1, 3], [1, 1, 1, 3], 0.0),  # zero area, even with itself (torchvision: NaN)
        ([1, 1, 1, 3], [0, 0, 2, 4], 0.0),  # zero area inside a box
    ],
)
def test_box_iou_by_hand(box1, box2, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0 / 0 RuntimeWarning either
        np.testing.assert_allclose(box_iou([box1], [box2]), [[expected]], rtol=1e-15)
        np.testing.assert_allclose(box_iou([box2], [box1]), [[expected]], rtol=1e-15)
        as_tensor = torch.tensor([box1], dtype=torch.float32), torch.tensor([box2])
        assert box_iou(*as_tensor).item() == pytest.approx(expected, rel=1e-6)


def test_box_iou_matrix_by_hand():
    # torchvision's TestIouBase case: the 50x50 box is a quarter of the 100x100 one
    boxes = np.array([[0, 0, 100, 100], [0, 0, 50, 50], [200, 200, 300, 300]])
    expected = [[1.0, 0.25, 0.0], [0.25, 1.0, 0.0], [0.0, 0.0, 1.0]]
    np.testing.assert_allclose(box_iou(boxes, boxes), expected, rtol=1e-15)
    assert box_iou(boxes, boxes).dtype == np.float64  # integer boxes give float64


def test_box_iou_empty_sets():
    boxes = random_boxes(np.random.default_rng(0), 3)
    assert box_iou(np.zeros((0, 4)), boxes).shape == (0, 3)
    assert box_iou(boxes, np.zeros((0, 4))).shape == (3, 0)
    assert box_iou(torch.zeros(0, 4), torch.zeros(0, 4)).shape == (0, 0)


def test_box_iou_keeps_torch_gradients():
    rng = np.random.default_rng(1)
    a = torch.tensor(random_boxes(rng, 4, size=60) + [0, 0, 1, 1], requires_grad=True)
    b = torch.tensor(random_boxes(rng, 3, size=60) + [0, 0, 1, 1], requires_grad=True)
    assert box_iou(a, b).detach().max() > 0  # some pairs overlap, so the gradient is not all 0
    assert torch.autograd.gradcheck(box_iou, (a, b))


def test_numpy_arrays_of_any_layout_and_dtypes():
    rng = np.random.default_rng(3)
    a, b = random_boxes(rng, 6), random_boxes(rng, 5)
    flipped = a[::-1]  # negative strides, which torch cannot share: copied
    np.testing.assert_array_equal(box_iou(flipped, b), box_iou(a, b)[::-1])
    a.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning about read-only memory either
        np.testing.assert_array_equal(box_area(a), box_area(a.copy()))
    same = box_convert(a, "xyxy", "xyxy")
    assert not np.shares_memory(same, a) and same.flags.writeable
    assert box_area(a.astype(np.float16)).dtype == np.float32  # float16 areas overflow
    assert box_area(torch.tensor([[0, 0, 2, 3]])).dtype == torch.float64
    assert box_area(torch.tensor([[0, 0, 2, 3]], dtype=torch.bfloat16)).dtype == torch.float32


# --- box_convert and box_area ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "box"),
    [
        ("xyxy", [1.0, 2.0, 4.0, 8.0]),
        ("xywh", [1.0, 2.0, 3.0, 6.0]),
        ("cxcywh", [2.5, 5.0, 3.0, 6.0]),
    ],
)
def test_box_convert_by_hand(fmt, box):
    # one box three ways: corners (1, 2)-(4, 8); size 3 x 6; centre (1 + 3/2, 2 + 6/2)
    np.testing.assert_array_equal(box_convert([[1.0, 2.0, 4.0, 8.0]], "xyxy", fmt), [box])
    np.testing.assert_array_equal(box_convert([box], fmt, "xyxy"), [[1.0, 2.0, 4.0, 8.0]])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("in_fmt", FORMATS)
@pytest.mark.parametrize("out_fmt", FORMATS)
def test_box_convert_round_trips(seed, in_fmt, out_fmt):
    xyxy = random_boxes(np.random.default_rng(seed), 25)
    boxes = box_convert(xyxy, "xyxy", in_fmt)
    # the same format in and out is an exact copy: (x1 + w) - x1 need not round back to w
    same = box_convert(boxes, in_fmt, in_fmt)
    np.testing.assert_array_equal(same, boxes)
    assert same is not boxes
    there = box_convert(boxes, in_fmt, out_fmt)
    np.testing.assert_allclose(box_convert(there, out_fmt, in_fmt), boxes, rtol=1e-12, atol=1e-12)
    there_t = box_convert(torch.from_numpy(boxes), in_fmt, out_fmt)
    assert isinstance(there_t, torch.Tensor) and there_t.dtype == torch.float64
    np.testing.assert_array_equal(there_t.numpy(), there)


def test_box_area_equals_width_times_height():
    boxes = random_boxes(np.random.default_rng(2), 40)
    xywh = box_convert(boxes, "xyxy", "xywh")
    np.testing.assert_allclose(box_area(boxes), xywh[:, 2] * xywh[:, 3], rtol=1e-12)
    np.testing.assert_array_equal(box_area([[0, 0, 2, 3], [1, 1, 1, 5]]), [6.0, 0.0])
    assert box_area(torch.tensor([[0, 0, 2, 3]], dtype=torch.float32)).dtype == torch.float32
    assert box_area(np.zeros((0, 4))).shape == (0,)
    assert box_convert(np.zeros((0, 4)), "xywh", "cxcywh").shape == (0, 4)


# --- nms ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("iou_threshold", [0.3, 0.5, 0.7])
def test_nms_matches_reference(seed, iou_threshold):
    rng = np.random.default_rng(seed)
    boxes = detections(rng, 80)
    scores = rng.random(80)
    scores[:20] = np.round(scores[:20], 1)  # a few tied scores as well
    expected = reference_nms(boxes, scores, iou_threshold)
    assert 1 < len(expected) < 80  # something was suppressed, something kept
    keep = nms(boxes, scores, iou_threshold)
    assert keep.dtype == np.int64
    np.testing.assert_array_equal(keep, expected)
    keep_t = nms(torch.from_numpy(boxes), torch.from_numpy(scores), iou_threshold)
    assert isinstance(keep_t, torch.Tensor) and keep_t.dtype == torch.int64
    np.testing.assert_array_equal(keep_t.numpy(), expected)
    keep_32 = nms(torch.from_numpy(boxes).float(), torch.from_numpy(scores), iou_threshold)
    assert keep_32.dtype == torch.int64 and keep_32.device == torch.device("cpu")


@pytest.mark.parametrize("iou_threshold", [0.3, 0.7])
def test_nms_over_many_blocks_matches_reference(iou_threshold):
    # 700 boxes: nms compares them block by block (128 at a time), and a box suppressed by a
    # box of an earlier block must stay suppressed; batched_nms must do the same per label
    rng = np.random.default_rng(7)
    boxes = detections(rng, 700, objects=100)
    scores = np.round(rng.random(700), 2)  # many ties
    labels = rng.integers(0, 3, 700)
    expected = reference_nms(boxes, scores, iou_threshold)
    rank = np.argsort(np.argsort(-scores, kind="stable"))  # place of each box in score order
    assert len(expected) < 500 and set(rank[expected] // 128) == set(range(6))  # kept in all 6
    np.testing.assert_array_equal(nms(boxes, scores, iou_threshold), expected)
    np.testing.assert_array_equal(
        batched_nms(boxes, scores, labels, iou_threshold),
        nms_per_label(boxes, scores, labels, iou_threshold),
    )


def boxes_with_iou(iou):
    """Two unit squares, the second shifted right by s, so that IoU = (1 - s) / (1 + s)."""
    shift = (1 - iou) / (1 + iou)
    return np.array([[0.0, 0.0, 1.0, 1.0], [shift, 0.0, 1.0 + shift, 1.0]])


@pytest.mark.parametrize("iou_threshold", [0.3, 0.5, 0.7])
def test_nms_at_the_threshold(iou_threshold):
    scores = np.array([0.9, 0.8])
    above, below = boxes_with_iou(iou_threshold + 1e-6), boxes_with_iou(iou_threshold - 1e-6)
    assert iou_pair(*above) > iou_threshold > iou_pair(*below)
    np.testing.assert_array_equal(nms(above, scores, iou_threshold), [0])  # suppressed
    np.testing.assert_array_equal(nms(below, scores, iou_threshold), [0, 1])  # kept
    # IoU exactly 0.5 (the lower half of a 2x2 box: 2 / 4) is not *above* 0.5: both kept
    half = np.array([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 2.0, 1.0]])
    np.testing.assert_array_equal(nms(half, scores[::-1].copy(), 0.5), [1, 0])
    np.testing.assert_array_equal(nms(half, scores, 0.5 - 1e-9), [0])


def test_nms_score_ties_keep_the_lower_index():
    same = np.array([[0.0, 0.0, 1.0, 1.0]] * 3)
    np.testing.assert_array_equal(nms(same, np.array([0.5, 0.5, 0.5]), 0.5), [0])
    np.testing.assert_array_equal(nms(same, np.array([0.5, 0.9, 0.5]), 0.5), [1])
    apart = np.array([[0.0, 0, 1, 1], [5, 5, 6, 6], [0, 0, 1, 1], [9, 9, 10, 10]])
    np.testing.assert_array_equal(nms(apart, np.ones(4), 0.5), [0, 1, 3])  # box 2 copies box 0


def test_nms_empty_and_zero_area():
    empty = nms(np.zeros((0, 4)), np.zeros(0), 0.5)
    assert empty.shape == (0,) and empty.dtype == np.int64
    empty_t = nms(torch.zeros(0, 4), torch.zeros(0), 0.5)
    assert empty_t.shape == (0,) and empty_t.dtype == torch.int64
    assert batched_nms(np.zeros((0, 4)), np.zeros(0), np.zeros(0, dtype=int), 0.5).shape == (0,)
    # a zero-area box has IoU 0 with everything: it neither suppresses nor is suppressed
    boxes = np.array([[1.0, 1.0, 1.0, 3.0], [1.0, 1.0, 1.0, 3.0], [0.0, 0.0, 2.0, 4.0]])
    np.testing.assert_array_equal(nms(boxes, np.array([0.9, 0.8, 0.7]), 0.0), [0, 1, 2])


def test_batched_nms_by_hand():
    # two identical boxes: of the same label the second goes; of two labels both stay
    boxes = np.array([[0.0, 0.0, 1.0, 1.0]] * 3)
    scores = np.array([0.7, 0.9, 0.8])
    np.testing.assert_array_equal(batched_nms(boxes, scores, np.array([0, 0, 0]), 0.5), [1])
    np.testing.assert_array_equal(batched_nms(boxes, scores, np.array([0, 1, 0]), 0.5), [1, 2])
    keep = batched_nms(torch.tensor(boxes), torch.tensor(scores), torch.tensor([3, 1, 2]), 0.5)
    assert isinstance(keep, torch.Tensor) and keep.tolist() == [1, 2, 0]


# --- laws (hypothesis) -------------------------------------------------------------------------

# small integer grids: duplicates, shared edges, zero-area boxes and tied scores are all common
coordinate, size = st.integers(0, 12), st.integers(0, 8)
box_lists = st.lists(st.tuples(coordinate, coordinate, size, size), max_size=25)


def as_xyxy(rows, scale=1.0):
    boxes = np.array(rows, dtype=np.float64).reshape(-1, 4) * scale
    return np.concatenate([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]], axis=1)


@settings(max_examples=80, deadline=None)
@given(a=box_lists, b=box_lists, scale=st.sampled_from([1.0, 0.1, 1e3]))
def test_iou_is_symmetric_and_in_unit_interval(a, b, scale):
    a, b = as_xyxy(a, scale), as_xyxy(b, scale)
    iou = box_iou(a, b)
    np.testing.assert_array_equal(iou, box_iou(b, a).T)
    assert np.all((iou >= 0) & (iou <= 1))
    np.testing.assert_allclose(iou, iou_loop(a, b), rtol=1e-12, atol=1e-15)


@settings(max_examples=80, deadline=None)
@given(
    data=st.data(),
    rows=box_lists,
    iou_threshold=st.sampled_from([0.0, 0.3, 0.5, 0.7, 1.0]),
)
def test_nms_laws(data, rows, iou_threshold):
    boxes = as_xyxy(rows)
    scores = np.array(
        data.draw(st.lists(st.integers(0, 4), min_size=len(boxes), max_size=len(boxes))),
        dtype=np.float64,
    )
    keep = nms(boxes, scores, iou_threshold)
    np.testing.assert_array_equal(keep, reference_nms(boxes, scores, iou_threshold))
    assert len(set(keep.tolist())) == len(keep) and set(keep.tolist()) <= set(range(len(boxes)))
    assert np.all(np.diff(scores[keep]) <= 0)  # by decreasing score
    # idempotent: the kept boxes overlap each other by at most the threshold, so all stay
    np.testing.assert_array_equal(nms(boxes[keep], scores[keep], iou_threshold), range(len(keep)))
    # every dropped box overlaps a kept box of at least its score by more than the threshold
    iou = box_iou(boxes, boxes[keep])  # [N, K]
    for i in sorted(set(range(len(boxes))) - set(keep.tolist())):
        assert np.any((iou[i] > iou_threshold) & (scores[keep] >= scores[i]))


@settings(max_examples=60, deadline=None)
@given(data=st.data(), rows=box_lists, iou_threshold=st.sampled_from([0.0, 0.3, 0.5, 0.7]))
def test_batched_nms_is_nms_per_label(data, rows, iou_threshold):
    boxes = as_xyxy(rows)
    n = len(boxes)
    scores = np.array(data.draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)), dtype=float)
    labels = np.array(data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)), dtype=int)
    keep = batched_nms(boxes, scores, labels, iou_threshold)
    np.testing.assert_array_equal(keep, nms_per_label(boxes, scores, labels, iou_threshold))


# --- bad input ---------------------------------------------------------------------------------

GOOD = np.array([[0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 3.0, 2.0]])


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: box_iou(np.zeros((3, 5)), GOOD), ValueError, r"boxes1 must have shape \(N, 4\)"),
        (lambda: box_iou(GOOD, np.zeros(4)), ValueError, r"boxes2 must .* got \(4,\)"),
        (
            lambda: box_area([[0, 0, 1, 1], [3, 0, 1, 1]]),
            ValueError,
            r"boxes row 1 .* = \[3\.0, 0\.0, 1\.0, 1\.0\] has x2 < x1",
        ),
        (
            lambda: box_iou(GOOD, [[0, 0, 1, 1], [0, 2, 1, 1], [0, 3, 1, 1]]),
            ValueError,
            r"boxes2 row 1 .* x2 < x1 .*2 bad row",
        ),
        (
            lambda: box_iou(GOOD, [[0, math.nan, 1, 1]]),
            ValueError,
            r"boxes2 row 0 .* = \[0\.0, nan, 1\.0, 1\.0\] has a NaN",
        ),
        (
            lambda: box_area(torch.tensor([[0, 0, math.inf, 1]])),
            ValueError,
            r"boxes row 0 .* = \[0\.0, 0\.0, inf, 1\.0\] has a NaN or infinite",
        ),
        (
            lambda: box_convert(GOOD, "xywz", "xyxy"),
            ValueError,
            r"in_fmt must be one of .*'xywz'",
        ),
        (lambda: box_convert(GOOD, "xyxy", "XYWH"), ValueError, "out_fmt must be one of"),
        (
            lambda: box_convert([[5, 5, -1, 2]], "cxcywh", "xyxy"),
            ValueError,
            r"boxes row 0 \(cx, cy, w, h\) .* negative w or h",
        ),
        (
            lambda: box_iou(torch.tensor(GOOD), GOOD),
            TypeError,
            "boxes1 and boxes2 must both be torch tensors or both NumPy arrays",
        ),
        (lambda: box_area([["a", "b", "c", "d"]]), TypeError, "boxes must hold real numbers"),
        (lambda: box_area(torch.ones(1, 4, dtype=torch.cfloat)), TypeError, "boxes must .* real"),
        (
            lambda: nms(torch.tensor(GOOD), torch.tensor([0.5, math.inf]), 0.5),
            ValueError,
            "scores must be finite",
        ),
        (
            lambda: nms(GOOD, [0.5], 0.5),
            ValueError,
            r"scores must have shape \(2,\).* got \(1,\)",
        ),
        (lambda: nms(GOOD, [0.5, math.nan], 0.5), ValueError, "scores must be finite"),
        (
            lambda: nms(GOOD, [0.5, 0.4], 1.5),
            ValueError,
            r"iou_threshold must be .* <= 1, got 1\.5",
        ),
        (lambda: nms(GOOD, [0.5, 0.4], -0.1), ValueError, "iou_threshold must be a number >= 0"),
        (lambda: nms(GOOD, [0.5, 0.4], "0.5"), ValueError, "iou_threshold must be a number"),
        (lambda: nms([[0, 0, 1, 1], [2, 0, 1, 1]], [0.5, 0.4], 0.5), ValueError, "boxes row 1"),
        (
            lambda: batched_nms(GOOD, [0.5, 0.4], [0], 0.5),
            ValueError,
            r"labels must have shape \(2,\).* got \(1,\)",
        ),
        (
            lambda: batched_nms(GOOD, [0.5, 0.4], [0.5, 1.0], 0.5),
            TypeError,
            "labels must hold integers.*float64",
        ),
        (
            lambda: batched_nms(GOOD, [0.5, 0.4], torch.tensor([True, False]), 0.5),
            TypeError,
            "labels must hold integers.*bool",
        ),
    ],
)
def test_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_plot_boxes_adds_one_rectangle_per_box_at_pixel_edges():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mlnotes.detection import plot_boxes

    _, ax = plt.subplots()
    ax.imshow(np.zeros((8, 8)))
    boxes = np.array([[0.0, 0.0, 2.0, 1.0], [3.0, 4.0, 7.0, 8.0]])
    patches = plot_boxes(ax, boxes, labels=[1, 0], scores=[0.9, 0.25], class_names=["a", "b"])
    assert len(patches) == len(ax.patches) == 2
    assert patches[0].get_xy() == (-0.5, -0.5)  # pixel (0, 0) is centred at (0, 0)
    assert (patches[0].get_width(), patches[0].get_height()) == (2.0, 1.0)
    assert [t.get_text() for t in ax.texts] == ["b 0.90", "a 0.25"]
    with pytest.raises(ValueError, match="labels must have one entry per box"):
        plot_boxes(ax, boxes, labels=[1])
    _, ax = plt.subplots()
    plot_boxes(ax, boxes, labels=[1, 0], texts=["anchor 0", None], color="red")
    assert [t.get_text() for t in ax.texts] == ["anchor 0"]  # texts replace names and scores
    assert all(p.get_edgecolor()[:3] == (1.0, 0.0, 0.0) for p in ax.patches)
    with pytest.raises(ValueError, match="texts must have one entry per box"):
        plot_boxes(ax, boxes, texts=["one"])
    plt.close("all")
