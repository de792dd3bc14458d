"""mlnotes.detection windows: window boxes against nested loops and chapter 5's output size, crops
against slicing, and the convolutional implementation of sliding windows against the
classifier run on every crop (float64), on Ng's 14 x 14 x 3 example; bad input."""

import numpy as np
import pytest
import torch
from torch import nn

from mlnotes.conv import conv_output_size
from mlnotes.detection import crop_windows, fc_to_conv, sliding_windows

SEEDS = range(3)


def loop_windows(height, width, h, w, sy, sx):
    """Every (x, y, x + w, y + h) with the window inside the image, row by row."""
    rows = []
    y = 0
    while y + h <= height:
        x = 0
        while x + w <= width:
            rows.append([x, y, x + w, y + h])
            x += sx
        y += sy
    return np.array(rows, dtype=np.int64).reshape(-1, 4)


def ng_classifier(seed=0):
    """Ng's 14 x 14 x 3 classifier: conv 5x5 16 -> max pool 2 -> fc 400 -> fc 400 -> fc 4."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 16, 5),  # 14 -> 10
        nn.ReLU(),
        nn.MaxPool2d(2),  # 10 -> 5
        nn.Flatten(),  # 16 * 5 * 5 = 400
        nn.Linear(400, 400),
        nn.ReLU(),
        nn.Linear(400, 400),
        nn.ReLU(),
        nn.Linear(400, 4),
    ).double()


def per_window(classifier, images, window, stride):
    """The classifier on every crop, arranged as the map [N, classes, n_y, n_x]."""
    n, _, height, width = images.shape
    ny = conv_output_size(height, window, stride=stride)
    nx = conv_output_size(width, window, stride=stride)
    out = classifier(crop_windows(images, window, stride))  # [N * ny * nx, classes]
    return out.reshape(n, ny, nx, -1).permute(0, 3, 1, 2)


# --- sliding_windows ---------------------------------------------------------------------------


def test_sliding_windows_hand_case():
    # 16 x 16 image, 14 x 14 window, stride 2: corners (0, 0), (2, 0), (0, 2), (2, 2)
    expected = [[0, 0, 14, 14], [2, 0, 16, 14], [0, 2, 14, 16], [2, 2, 16, 16]]
    np.testing.assert_array_equal(sliding_windows(16, 14, 2), expected)


@pytest.mark.parametrize(
    ("image_size", "window", "stride"),
    [(16, 14, 2), ((20, 31), (7, 5), (3, 4)), ((9, 9), 9, 1), ((10, 12), (3, 4), 5), (5, 1, 1)],
)
def test_sliding_windows_match_loops_and_output_size(image_size, window, stride):
    (height, width), (h, w), (sy, sx) = (
        np.broadcast_to(v, 2).tolist() for v in (image_size, window, stride)
    )
    got = sliding_windows(image_size, window, stride)
    np.testing.assert_array_equal(got, loop_windows(height, width, h, w, sy, sx))
    ny, nx = conv_output_size(height, h, stride=sy), conv_output_size(width, w, stride=sx)
    assert got.shape == (ny * nx, 4)
    assert got.dtype == np.int64
    unfolded = torch.zeros(1, 1, height, width).unfold(2, h, sy).unfold(3, w, sx)
    assert unfolded.shape[2:4] == (ny, nx)


# --- crop_windows ------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("as_tensor", [False, True])
def test_crop_windows_match_slicing(seed, as_tensor):
    rng = np.random.default_rng(seed)
    images = rng.normal(size=(2, 3, 11, 13))
    window, stride = (4, 6), (3, 2)
    x = torch.from_numpy(images) if as_tensor else images
    crops = crop_windows(x, window, stride)
    assert isinstance(crops, torch.Tensor) == as_tensor
    crops = np.asarray(crops)
    windows = sliding_windows((11, 13), window, stride)
    expected = [images[n, :, y1:y2, x1:x2] for n in range(2) for x1, y1, x2, y2 in windows]
    assert crops.shape == (2 * len(windows), 3, 4, 6)
    np.testing.assert_array_equal(crops, np.stack(expected))


def test_crop_windows_keep_the_graph():
    images = torch.randn(1, 2, 6, 6, dtype=torch.float64, requires_grad=True)
    crop_windows(images, 4, 2).sum().backward()
    # the centre pixels (2..3) belong to all 4 windows, the corners to one
    assert images.grad[0, 0, 2, 2] == 4
    assert images.grad[0, 0, 0, 0] == 1


# --- fc_to_conv --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_ng_example_16_gives_2x2_map_equal_to_each_window(seed):
    classifier = ng_classifier(seed)
    convolutional = fc_to_conv(classifier)
    images = torch.randn(2, 3, 16, 16, dtype=torch.float64)
    with torch.no_grad():
        maps = convolutional(images)
        expected = per_window(classifier, images, window=14, stride=2)  # stride = the pool's 2
    assert maps.shape == (2, 4, 2, 2)
    torch.testing.assert_close(maps, expected, rtol=1e-12, atol=1e-12)


def test_ng_example_28_gives_8x8_map():
    classifier = ng_classifier(1)
    images = torch.randn(1, 3, 28, 28, dtype=torch.float64)
    with torch.no_grad():
        maps = fc_to_conv(classifier)(images)
        expected = per_window(classifier, images, window=14, stride=2)
    assert maps.shape == (1, 4, 8, 8)  # (28 - 14) / 2 + 1 = 8
    torch.testing.assert_close(maps, expected, rtol=1e-12, atol=1e-12)


def test_on_one_window_it_is_the_classifier():
    classifier = ng_classifier(2)
    images = torch.randn(5, 3, 14, 14, dtype=torch.float64)
    with torch.no_grad():
        out = fc_to_conv(classifier, input_size=14)(images)
        torch.testing.assert_close(out[:, :, 0, 0], classifier(images), rtol=1e-12, atol=1e-12)


def test_rectangular_window_strided_conv_and_softmax():
    torch.manual_seed(0)
    classifier = nn.Sequential(
        nn.Conv2d(2, 6, 3, stride=2),  # (11, 15) -> (5, 7)
        nn.Tanh(),
        nn.AvgPool2d((1, 2)),  # -> (5, 3)
        nn.Flatten(),
        nn.Linear(6 * 5 * 3, 8),
        nn.Dropout(0.5),
        nn.Linear(8, 3),
        nn.Softmax(dim=-1),
    ).double()
    classifier.eval()
    convolutional = fc_to_conv(classifier, input_size=(11, 15))
    assert not convolutional.training
    images = torch.randn(1, 2, 19, 27, dtype=torch.float64)
    with torch.no_grad():
        maps = convolutional(images)  # window stride: 2 rows, 2 * 2 = 4 columns
        crops = crop_windows(images, (11, 15), (2, 4))
        expected = classifier(crops).reshape(1, 5, 4, 3).permute(0, 3, 1, 2)
    assert maps.shape == (1, 3, 5, 4)  # (19 - 11) / 2 + 1 = 5, (27 - 15) / 4 + 1 = 4
    torch.testing.assert_close(maps, expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(maps.sum(dim=1), torch.ones(1, 5, 4, dtype=torch.float64))


def test_input_size_leaves_the_classifier_and_the_random_state_alone():
    torch.manual_seed(3)
    classifier = nn.Sequential(
        nn.Conv2d(1, 2, 3, dilation=2), nn.Dropout(0.5), nn.Flatten(), nn.Linear(2 * 3 * 4, 2)
    ).double()  # a dilated kernel spans 5 pixels: a (7, 8) window gives a (3, 4) map
    without_dropout = nn.Sequential(*(m for m in classifier if not isinstance(m, nn.Dropout)))
    state = torch.get_rng_state()
    fc_to_conv(without_dropout, input_size=(7, 8))  # draws the new Conv2d's initial weights
    after = torch.get_rng_state()
    torch.set_rng_state(state)
    convolutional = fc_to_conv(classifier, input_size=(7, 8))
    assert torch.equal(torch.get_rng_state(), after)  # and no dropout mask on the blank window
    assert classifier.training and convolutional.training
    classifier.eval()
    images = torch.randn(1, 1, 7, 8, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(
            convolutional.eval()(images)[:, :, 0, 0], classifier(images), rtol=1e-12, atol=1e-12
        )


def test_parameters_are_copied_not_shared():
    classifier = ng_classifier(0)
    convolutional = fc_to_conv(classifier)
    with torch.no_grad():
        for p in convolutional.parameters():
            p.zero_()
    assert all(p.abs().sum() > 0 for p in classifier.parameters())


@pytest.mark.parametrize(
    ("classifier", "kwargs", "error", "message"),
    [
        (nn.Linear(4, 2), {}, TypeError, "classifier must be a torch.nn.Sequential"),
        (
            nn.Sequential(nn.Conv2d(3, 4, 3), nn.Linear(4, 2)),
            {},
            ValueError,
            "classifier.*one nn.Flatten",
        ),
        (
            nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Flatten(), nn.Linear(64, 2)),
            {},
            ValueError,
            r"classifier\[0\].*pads its input",
        ),
        (
            nn.Sequential(nn.Conv2d(3, 4, 3, padding="same"), nn.Flatten(), nn.Linear(64, 2)),
            {},
            ValueError,
            "pads its input",
        ),
        (
            nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(64, 2)),
            {},
            TypeError,
            r"classifier\[1\] must be a conv, pool or activation",
        ),
        (
            nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(64, 2), nn.Flatten()),
            {},
            ValueError,
            "one nn.Flatten",
        ),
        (
            nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(60, 2)),
            {},
            ValueError,
            "pass input_size",
        ),
        (
            nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(64, 2)),
            {"input_size": 7},
            ValueError,
            r"4 channels x 5 x 5 = 100",
        ),
        (nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten()), {}, ValueError, "Linear layers after"),
        (
            nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(64, 2), nn.Softmax(dim=0)),
            {},
            TypeError,
            r"classifier\[3\] must be Linear",
        ),
    ],
)
def test_fc_to_conv_bad_input(classifier, kwargs, error, message):
    with pytest.raises(error, match=message):
        fc_to_conv(classifier, **kwargs)


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((16, 17, 1), ValueError, "window .* fit inside the image"),
        (((16, 16), (4, 20), 1), ValueError, "window .* fit inside the image"),
        ((16, 4, 0), ValueError, "stride .* >= 1"),
        ((16, 4.0, 1), ValueError, "window must be an int"),
        (((16, 16, 3), 4, 1), ValueError, "image_size .* tuple of 2"),
    ],
)
def test_sliding_windows_bad_input(args, error, message):
    with pytest.raises(error, match=message):
        sliding_windows(*args)


def test_crop_windows_bad_input():
    with pytest.raises(ValueError, match=r"images .* \(N, C, H, W\), got \(3, 8, 8\)"):
        crop_windows(np.zeros((3, 8, 8)), 4, 2)
    with pytest.raises(TypeError, match="images must hold real numbers"):
        crop_windows(np.full((1, 1, 4, 4), "a"), 2, 1)
    with pytest.raises(ValueError, match="window .* fit inside the image"):
        crop_windows(torch.zeros(1, 3, 8, 8), 9, 1)
