"""mlnotes.detection.roi_pool against a loop over boxes and bins with the floors and ceilings
written out, hand cases, the window-equals-crop property, gradients and bad input."""

import math

import numpy as np
import pytest
import torch

from mlnotes.detection import roi_pool


def roi_pool_loop(features, boxes, oh, ow, scale):
    """Fast R-CNN's RoI max pooling, box by box and bin by bin, in Python floats."""
    f = features.tolist()
    out = []
    for n, x1, y1, x2, y2 in boxes.tolist():
        height, width = len(f[0][0]), len(f[0][0][0])
        c1 = max(math.floor(x1 * scale), 0)
        c2 = min(max(math.ceil(x2 * scale), c1 + 1), width)
        r1 = max(math.floor(y1 * scale), 0)
        r2 = min(max(math.ceil(y2 * scale), r1 + 1), height)
        h, w = r2 - r1, c2 - c1
        box = []
        for channel in f[int(n)]:
            grid = []
            for i in range(oh):
                rows = range(r1 + math.floor(i * h / oh), r1 + math.ceil((i + 1) * h / oh))
                line = []
                for j in range(ow):
                    cols = range(c1 + math.floor(j * w / ow), c1 + math.ceil((j + 1) * w / ow))
                    line.append(max(channel[r][c] for r in rows for c in cols))
                grid.append(line)
            box.append(grid)
        out.append(box)
    return torch.tensor(out, dtype=torch.float64)


def test_hand_case_two_by_two_bins():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)  # row r, column c holds 4 r + c
    pooled = roi_pool(x, torch.tensor([[0.0, 0.0, 4.0, 4.0]]), output_size=2)
    assert pooled.tolist() == [[[[5.0, 7.0], [13.0, 15.0]]]]  # the max of each quarter
    # a 3 x 2 region (rows 1-3, columns 1-2) on a 2 x 2 grid: rows {1, 2} and {2, 3}
    pooled = roi_pool(x, torch.tensor([[1.0, 1.0, 3.0, 4.0]]), output_size=(2, 2))
    assert pooled.tolist() == [[[[9.0, 10.0], [13.0, 14.0]]]]
    # a half-size map: spatial_scale 0.5 maps pixels [2, 6) onto cells [1, 3)
    pooled = roi_pool(x, torch.tensor([[2.0, 2.0, 6.0, 6.0]]), output_size=1, spatial_scale=0.5)
    assert pooled.item() == 10.0


@pytest.mark.parametrize("seed", range(6))
def test_matches_the_loop_over_random_boxes_images_grids_and_scales(seed):
    rng = np.random.default_rng(seed)
    n, c, height, width = 3, 2, int(rng.integers(3, 12)), int(rng.integers(3, 12))
    features = torch.from_numpy(rng.normal(size=(n, c, height, width)))
    scale = float(rng.choice([1.0, 0.5, 0.25, 1 / 3]))
    k = 20
    x1 = rng.uniform(-2, width / scale - 1, k)
    y1 = rng.uniform(-2, height / scale - 1, k)
    sizes = rng.uniform(2.5, 2 * max(width, height) / scale, (k, 2))  # every box meets the map
    boxes = np.stack([rng.integers(0, n, k), x1, y1, x1 + sizes[:, 0], y1 + sizes[:, 1]], 1)
    oh, ow = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    boxes = torch.from_numpy(boxes)
    expected = roi_pool_loop(features, boxes, oh, ow, scale)
    torch.testing.assert_close(roi_pool(features, boxes, (oh, ow), scale), expected)


def test_a_box_the_size_of_the_grid_returns_its_cells_and_gradients_reach_them():
    features = torch.randn(1, 3, 8, 8, dtype=torch.float64, requires_grad=True)
    pooled = roi_pool(features, torch.tensor([[2.0, 3.0, 6.0, 7.0]], dtype=torch.float64), 4)
    torch.testing.assert_close(pooled[0], features[0, :, 3:7, 2:6])
    pooled.sum().backward()
    expected = torch.zeros(1, 3, 8, 8, dtype=torch.float64)
    expected[0, :, 3:7, 2:6] = 1
    torch.testing.assert_close(features.grad, expected)


def test_no_boxes_give_an_empty_batch():
    out = roi_pool(torch.zeros(1, 5, 4, 4), torch.zeros(0, 4), output_size=(2, 3))
    assert out.shape == (0, 5, 2, 3)


@pytest.mark.parametrize(
    ("features", "boxes", "kwargs", "error", "match"),
    [
        (np.zeros((1, 1, 4, 4)), torch.zeros(1, 4), {}, TypeError, "features must be .*Tensor"),
        (torch.zeros(1, 4, 4), torch.zeros(1, 4), {}, ValueError, r"features .*\(N, C, H, W\)"),
        (torch.zeros(2, 1, 4, 4), torch.zeros(1, 4), {}, ValueError, r"boxes .*\(K, 5\)"),
        (
            torch.zeros(1, 1, 4, 4),
            torch.tensor([[3.0, 0, 1, 2]]),
            {},
            ValueError,
            r"boxes\[0\].*x2 >= x1",
        ),
        (
            torch.zeros(1, 1, 4, 4),
            torch.tensor([[0.0, 0, float("nan"), 2]]),
            {},
            ValueError,
            r"boxes\[0\].*finite",
        ),
        (
            torch.zeros(1, 1, 4, 4),
            torch.tensor([[1.0, 0, 0, 2, 2]]),
            {},
            ValueError,
            r"boxes\[0\].*image index .* \[0, 1\)",
        ),
        (torch.zeros(1, 1, 4, 4), torch.tensor([[5.0, 0, 6, 2]]), {}, ValueError, "box .* outside"),
        (
            torch.zeros(2, 1, 4, 4),
            torch.tensor([[0.0, 0, 0, 2, 2], [0.5, 0, 0, 2, 2]]),
            {},
            ValueError,
            r"boxes\[1\].*image index",
        ),
        (
            torch.zeros(1, 1, 4, 4),
            torch.zeros(1, 4),
            {"output_size": 0},
            ValueError,
            "output_size .* >= 1",
        ),
        (
            torch.zeros(1, 1, 4, 4),
            torch.zeros(1, 4),
            {"spatial_scale": 0},
            ValueError,
            "spatial_scale .* > 0",
        ),
    ],
)
def test_bad_input_is_refused(features, boxes, kwargs, error, match):
    with pytest.raises(error, match=match):
        roi_pool(features, boxes, **{"output_size": 2, **kwargs})
