"""Time mlnotes.detection's box_iou and nms against plain Python loops (and torchvision's ops).

    python benchmarks/detection.py [--repeats 10]

Prints best-of-``repeats`` wall times (``time.perf_counter``) and the ratios loop / mlnotes.
box_iou runs on 2,000 x 2,000 boxes; its double loop is timed on 200 x 200 boxes and scaled by
the number of pairs (x100), which is fair because it does the same work for every pair. nms
runs on 5,000 boxes jittered around 250 objects; the Python loop is timed on the same boxes,
once (it takes seconds). When torchvision imports, its box_iou and nms are checked against
mlnotes' (the same IoUs to 1e-12, the same kept indices) and timed in turn with mlnotes' torch
calls; the last column is mlnotes torch / torchvision. Timings depend on the machine and its
load: this asserts answers, never times. torchvision needs its own torch build, e.g. a venv
with torch and torchvision pinned together, run as
``PYTHONPATH=. /path/to/venv/bin/python benchmarks/detection.py``.
"""

from __future__ import annotations

import argparse
import platform

import numpy as np
import torch

from mlnotes.core import best_times
from mlnotes.detection import box_iou, nms


def random_boxes(rng, n, objects=None, image=1000.0):
    """n xyxy boxes in an image; with ``objects``, jittered around that many objects."""
    corner = rng.uniform(0, image, (objects or n, 2))
    boxes = np.concatenate([corner, corner + rng.uniform(10, 100, corner.shape)], axis=1)
    if objects:
        boxes = boxes[rng.integers(0, objects, n)] + rng.normal(0, 8, (n, 4))
        boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2])  # keep x1 <= x2 and y1 <= y2
    return boxes


def iou_pair(a, b) -> float:
    inter = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(
        0.0, min(a[3], b[3]) - max(a[1], b[1])
    )
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def iou_loop(boxes1, boxes2) -> list[list[float]]:
    """The double loop over pairs, on lists of Python floats."""
    return [[iou_pair(a, b) for b in boxes2] for a in boxes1]


def nms_loop(boxes, scores, iou_threshold) -> list[int]:
    """Sort by score, keep each box that no kept box overlaps by more than the threshold."""
    keep: list[int] = []
    for i in sorted(range(len(scores)), key=lambda i: (-scores[i], i)):
        if all(iou_pair(boxes[i], boxes[k]) <= iou_threshold for k in keep):
            keep.append(i)
    return keep


def torchvision_ops():
    """torchvision.ops, or the reason it cannot be imported."""
    try:
        import torchvision.ops
    except Exception as error:  # a missing package, or a build for another torch
        return None, f"{type(error).__name__}: {error}"
    return torchvision.ops, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="best of this many runs")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    a, b = random_boxes(rng, 2000), random_boxes(rng, 2000)
    small = a[:200].tolist(), b[:200].tolist()
    boxes = random_boxes(rng, 5000, objects=250)
    scores = rng.random(5000)
    at, bt, boxes_t, scores_t = (torch.from_numpy(x) for x in (a, b, boxes, scores))
    ops, reason = torchvision_ops()
    print(f"{platform.processor() or platform.machine()}, numpy {np.__version__}, ", end="")
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), float64")

    # correctness first: the loops (and torchvision, when it imports) are the references
    assert np.allclose(box_iou(a[:200], b[:200]), iou_loop(*small), rtol=1e-12, atol=0)
    keep = nms(boxes, scores, 0.5)
    assert keep.tolist() == nms_loop(boxes.tolist(), scores.tolist(), 0.5)
    if ops is not None:
        torch.testing.assert_close(box_iou(at, bt), ops.box_iou(at, bt), rtol=1e-12, atol=0)
        assert torch.equal(nms(boxes_t, scores_t, 0.5), ops.nms(boxes_t, scores_t, 0.5))
    print(f"nms keeps {len(keep)} of {len(boxes)} boxes (IoU threshold 0.5)\n")

    (loop_iou,) = best_times(lambda: iou_loop(*small), repeats=max(1, args.repeats // 5))
    (loop_nms,) = best_times(lambda: nms_loop(boxes.tolist(), scores.tolist(), 0.5), repeats=1)
    iou_calls = [lambda: box_iou(a, b), lambda: box_iou(at, bt)]
    nms_calls = [lambda: nms(boxes, scores, 0.5), lambda: nms(boxes_t, scores_t, 0.5)]
    if ops is not None:  # timed in turn with mlnotes, under the same load
        iou_calls.append(lambda: ops.box_iou(at, bt))
        nms_calls.append(lambda: ops.nms(boxes_t, scores_t, 0.5))
    rows = [
        ("box_iou 2000x2000", loop_iou * 100, *best_times(*iou_calls, repeats=args.repeats)),
        ("nms 5000", loop_nms, *best_times(*nms_calls, repeats=args.repeats)),
    ]
    header = f"{'case':<19}{'np ms':>8}{'torch ms':>10}{'loop ms':>9}{'loop/np':>9}"
    print(header + (f"{'torchvision ms':>16}{'torch/tv':>10}" if ops is not None else ""))
    for name, loop, ours_np, ours_t, *theirs in rows:
        line = f"{name:<19}{ours_np * 1e3:>8.1f}{ours_t * 1e3:>10.1f}{loop * 1e3:>9.0f}"
        line += f"{loop / ours_np:>8.0f}x"
        if theirs:
            line += f"{theirs[0] * 1e3:>16.1f}{ours_t / theirs[0]:>9.2f}x"
        print(line)
    print("loops: box_iou on 200x200 boxes, x100; nms on the same 5000 boxes, 1 run")
    if ops is None:
        print(f"torchvision.ops skipped, it does not import here ({reason})")


if __name__ == "__main__":
    main()
