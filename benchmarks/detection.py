"""Time mlnotes.detection's box_iou and nms against plain Python loops (and torchvision's ops).

    python benchmarks/detection.py [--repeats 10]

Prints best-of-``repeats`` wall times (``time.perf_counter``) and the ratios loop / mlnotes.
box_iou runs on 2,000 x 2,000 boxes; its double loop is timed on 200 x 200 boxes and scaled by
the number of pairs (x100), which is fair because it does the same work for every pair. nms
runs on 5,000 boxes jittered around 250 objects; the Python loop is timed on the same boxes,
once (it takes seconds). torchvision's box_iou and nms are timed when torchvision imports.
Timings depend on the machine and its load: this prints, it never asserts.
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
    print(f"{platform.processor() or platform.machine()}, numpy {np.__version__}, ", end="")
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), float64")

    # correctness first: the loops are the reference
    assert np.allclose(box_iou(a[:200], b[:200]), iou_loop(*small), rtol=1e-12, atol=0)
    keep = nms(boxes, scores, 0.5)
    assert keep.tolist() == nms_loop(boxes.tolist(), scores.tolist(), 0.5)
    print(f"nms keeps {len(keep)} of {len(boxes)} boxes (IoU threshold 0.5)\n")

    (loop_iou,) = best_times(lambda: iou_loop(*small), repeats=max(1, args.repeats // 5))
    np_iou, t_iou = best_times(lambda: box_iou(a, b), lambda: box_iou(at, bt), repeats=args.repeats)
    (loop_nms,) = best_times(lambda: nms_loop(boxes.tolist(), scores.tolist(), 0.5), repeats=1)
    np_nms, t_nms = best_times(
        lambda: nms(boxes, scores, 0.5), lambda: nms(boxes_t, scores_t, 0.5), repeats=args.repeats
    )
    rows = [
        ("box_iou 2000x2000", "Python loop (200x200, x100)", loop_iou * 100, np_iou, t_iou),
        ("nms 5000", "Python loop (5000, 1 run)", loop_nms, np_nms, t_nms),
    ]
    print(f"{'case':<19}{'mlnotes np ms':>14}{'mlnotes torch ms':>17}{'loop ms':>11}{'loop/np':>9}")
    for name, _, loop, ours_np, ours_t in rows:
        print(
            f"{name:<19}{ours_np * 1e3:>14.1f}{ours_t * 1e3:>17.1f}{loop * 1e3:>11.0f}"
            f"{loop / ours_np:>8.0f}x"
        )
    print("loops: " + "; ".join(f"{name}: {how}" for name, how, *_ in rows))

    ops, reason = torchvision_ops()
    if ops is None:
        print(f"\ntorchvision.ops skipped, it does not import here ({reason})")
        return
    tv_iou, tv_nms = best_times(
        lambda: ops.box_iou(at, bt), lambda: ops.nms(boxes_t, scores_t, 0.5), repeats=args.repeats
    )
    print(f"\ntorchvision box_iou {tv_iou * 1e3:.1f} ms (mlnotes torch / torchvision: ", end="")
    print(f"{t_iou / tv_iou:.2f}), nms {tv_nms * 1e3:.1f} ms (mlnotes / torchvision: ", end="")
    print(f"{np_nms / tv_nms:.1f})")


if __name__ == "__main__":
    main()
