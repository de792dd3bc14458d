"""Time mlnotes.conv's 2D convolution against PyTorch, and the naive loop against it.

    python benchmarks/conv.py [--repeats 30] [--threads T]

Prints one table of best-of-``repeats`` wall times (``time.perf_counter``, the two sides
alternating) and the ratios mlnotes / reference. NumPy's BLAS and PyTorch run on the same
number of threads (by default all the CPUs this process may use). Timings depend on the
machine and its load: this prints, it never asserts.
"""

from __future__ import annotations

import argparse
import os
import platform

import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_info, threadpool_limits

from mlnotes.conv import conv2d_backward, conv2d_forward, conv2d_naive
from mlnotes.core import best_times


def problem(N, C, F_, H, W, k, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W), dtype=np.float32)
    w = rng.standard_normal((F_, C, k, k), dtype=np.float32) / np.float32(np.sqrt(C * k * k))
    b = rng.standard_normal(F_, dtype=np.float32)
    return x, w, b


def layer_rows(repeats: int) -> list[tuple[str, float, float, float]]:
    """mlnotes vs PyTorch on N=8, C=F=64, 32x32, 3x3, padding 1, float32."""
    x, w, b = problem(8, 64, 64, 32, 32, 3)
    out, cache = conv2d_forward(x, w, b, padding=1)
    dout = np.random.default_rng(1).standard_normal(out.shape, dtype=np.float32)
    xt, wt, bt, dt = (torch.from_numpy(a) for a in (x, w, b, dout))
    xg, wg, bg = (t.clone().requires_grad_() for t in (xt, wt, bt))

    def torch_forward():
        with torch.no_grad():
            return F.conv2d(xt, wt, bt, padding=1)

    def torch_forward_backward():
        xg.grad = wg.grad = bg.grad = None
        F.conv2d(xg, wg, bg, padding=1).backward(dt)

    def ours_forward_backward():
        _, cache = conv2d_forward(x, w, b, padding=1)
        return conv2d_backward(dout, cache)

    diff = float(np.abs(out - torch_forward().numpy()).max())
    rows = []
    for name, ours, theirs in [
        ("forward", lambda: conv2d_forward(x, w, b, padding=1), torch_forward),
        ("forward+backward", ours_forward_backward, torch_forward_backward),
    ]:
        rows.append((name, *best_times(ours, theirs, repeats=repeats), diff))
    return rows


def naive_row(repeats: int) -> tuple[str, float, float, float]:
    """conv2d_naive vs conv2d_forward on N=2, C=F=8, 16x16, 3x3, padding 1, float32."""
    x, w, b = problem(2, 8, 8, 16, 16, 3)
    diff = float(np.abs(conv2d_naive(x, w, b, padding=1) - conv2d_forward(x, w, b, 1, 1)[0]).max())
    # timed apart: alternated with the 15 ms loop, the 0.1 ms call measured about 3x slower
    (naive,) = best_times(lambda: conv2d_naive(x, w, b, padding=1), repeats=max(1, repeats // 4))
    (fast,) = best_times(lambda: conv2d_forward(x, w, b, padding=1), repeats=repeats)
    return ("naive forward (small)", naive, fast, diff)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="best of this many runs")
    parser.add_argument("--threads", type=int, default=None, help="default: every CPU")
    args = parser.parse_args()
    threads = args.threads or (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    )
    torch.set_num_threads(threads)
    with threadpool_limits(limits=threads):
        blas = ", ".join(f"{p['internal_api']} {p['num_threads']}" for p in threadpool_info())
        print(f"{platform.processor() or platform.machine()}, {threads} threads")
        print(f"numpy {np.__version__} (BLAS threads: {blas}), torch {torch.__version__}")
        print(f"(torch threads: {torch.get_num_threads()}), best of {args.repeats}, float32\n")
        rows = layer_rows(args.repeats) + [naive_row(args.repeats)]
    print(f"{'case':<24}{'mlnotes ms':>12}{'reference ms':>14}{'ratio':>8}  reference")
    for (name, ours, ref, _diff), reference in zip(
        rows, ["torch", "torch autograd", "conv2d_forward"], strict=True
    ):
        print(f"{name:<24}{ours * 1e3:>12.2f}{ref * 1e3:>14.2f}{ours / ref:>8.2f}  {reference}")
    print(
        f"\nmax |mlnotes - torch| forward: {rows[0][3]:.1e}; naive vs vectorised: {rows[2][3]:.1e}"
    )
    print("sizes: N=8, C=F=64, 32x32, 3x3, padding 1; naive: N=2, C=F=8, 16x16, 3x3, padding 1")


if __name__ == "__main__":
    main()
