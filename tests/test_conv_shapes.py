"""mlnotes.conv arithmetic: output sizes (against PyTorch's shapes), zero padding, and the
parameter and multiplication counts (against nn.Conv2d and FlopCounterMode)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from mlnotes.conv import conv2d_multiplications, conv2d_parameters, conv_output_size, pad

# --- conv_output_size --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((6, 3), 4),  # 6 - 3 + 1
        ((7, 3, 0, 2), 3),  # (7 - 3) // 2 + 1
        ((28, 5, 2), 28),  # 'same': p = (f - 1) / 2 keeps the size
        ((5, 3, 1, 2), 3),  # (5 + 2 - 3) // 2 + 1
        ((8, 3, 0, 2), 3),  # (8 - 3) // 2 + 1 = 2 + 1: the last row is never visited
        ((3, 3), 1),  # the filter covers the whole input
    ],
)
def test_conv_output_size_by_hand(args, expected):
    assert conv_output_size(*args) == expected


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 20), f=st.integers(1, 7), padding=st.integers(0, 3), stride=st.integers(1, 4)
)
def test_conv_output_size_is_torch_output_size(n, f, padding, stride):
    assume(f <= n + 2 * padding)
    out = F.conv1d(torch.zeros(1, 1, n), torch.zeros(1, 1, f), stride=stride, padding=padding)
    assert conv_output_size(n, f, padding, stride) == out.shape[-1]
    if (n + 2 * padding - f) % stride == 0:
        assert conv_output_size(n, f, padding, stride, exact=True) == out.shape[-1]
    else:
        with pytest.raises(ValueError, match="does not divide"):
            conv_output_size(n, f, padding, stride, exact=True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((4, 5), r"filter size f=5 is larger than the padded input n \+ 2\*padding = 4"),
        ((2, 5, 1), r"= 2 \+ 2\*1 = 4"),
        ((0, 1), "n must be an integer >= 1, got 0"),
        ((5, 0), "f must be an integer >= 1"),
        ((5, 3, -1), "padding must be an integer >= 0, got -1"),
        ((5, 3, 0, 0), "stride must be an integer >= 1, got 0"),
        ((5.0, 3), "n must be an integer"),
        ((5, True), "f must be an integer"),
    ],
)
def test_conv_output_size_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        conv_output_size(*args)


def test_conv_output_size_exact():
    # (8 - 3) = 5 is not a multiple of 2: floor gives 3 and silently drops the last row
    with pytest.raises(ValueError, match=r"stride=2 does not divide .* = 5"):
        conv_output_size(8, 3, stride=2, exact=True)
    assert conv_output_size(7, 3, stride=2, exact=True) == 3


# --- pad ---------------------------------------------------------------------------------------


def test_pad_matches_torch_and_numpy():
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 5))
    np.testing.assert_array_equal(pad(x, 2), F.pad(torch.tensor(x), (2, 2, 2, 2)).numpy())
    # per-axis: 1 row above and below, 0 columns; torch lists the last axis first
    np.testing.assert_array_equal(pad(x, (1, 0)), F.pad(torch.tensor(x), (0, 0, 1, 1)).numpy())
    np.testing.assert_array_equal(pad(x, 0), x)
    assert pad(x.astype(np.float32), 1).dtype == np.float32


def test_pad_by_hand_and_in_other_dimensions():
    # a 1x1 image of 5 padded by 1 is a 3x3 image with 5 in the middle
    np.testing.assert_array_equal(pad([[[[5.0]]]], 1)[0, 0], [[0, 0, 0], [0, 5, 0], [0, 0, 0]])
    assert pad(np.ones((1, 2, 7)), 3).shape == (1, 2, 13)
    assert pad(np.ones((1, 2, 3, 4, 5)), (0, 1, 2)).shape == (1, 2, 3, 6, 9)


@pytest.mark.parametrize(
    ("x", "padding", "message"),
    [
        (np.ones((2, 3)), 1, r"x must be at least 3-D \(N, C, \*spatial\), got shape \(2, 3\)"),
        (np.ones((1, 1, 3, 3)), -1, "padding must be an integer >= 0, got -1"),
        (np.ones((1, 1, 3, 3)), (1, 1, 1), r"padding must be an int or a tuple of 2 ints"),
        (np.ones((1, 1, 3, 3)), 1.5, "padding must be an int"),
        (np.full((1, 1, 2, 2), np.nan), 1, "x contains NaN"),
    ],
)
def test_pad_bad_input(x, padding, message):
    with pytest.raises(ValueError, match=message):
        pad(x, padding)


# --- counting ----------------------------------------------------------------------------------


def test_conv2d_parameters_by_hand():
    # 10 filters of 3x3x3, each with a bias: 10 * (27 + 1) = 280, whatever the image size
    assert conv2d_parameters(3, 10, 3) == 280
    assert conv2d_parameters(3, 10, 3, bias=False) == 270


@pytest.mark.parametrize(
    ("layer", "args"),
    [
        (torch.nn.Conv2d, (3, 10, 3)),
        (torch.nn.Conv2d, (192, 32, (5, 3))),
        (torch.nn.Conv1d, (4, 8, (7,))),
        (torch.nn.Conv3d, (2, 5, (3, 1, 2))),
    ],
)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_parameters_matches_torch(layer, args, bias):
    expected = sum(p.numel() for p in layer(*args, bias=bias).parameters())
    assert conv2d_parameters(*args, bias=bias) == expected


def test_conv2d_multiplications_by_hand():
    # 28x28x192 -> 28x28x32 with 5x5 'same' filters: 28*28*32 * (5*5*192) = 120,422,400
    assert conv2d_multiplications((192, 28, 28), 32, 5, padding=2) == 120_422_400
    # a 1x1 bottleneck to 16 channels first: 28*28*16*192 + 28*28*32*(5*5*16)
    #                                      = 2,408,448 + 10,035,200 = 12,443,648, ten times less
    bottleneck = conv2d_multiplications((192, 28, 28), 16, 1)
    assert bottleneck == 2_408_448
    assert bottleneck + conv2d_multiplications((16, 28, 28), 32, 5, padding=2) == 12_443_648


@pytest.mark.parametrize(
    ("in_shape", "out_channels", "kernel_size", "stride", "padding"),
    [
        ((3, 32, 32), 8, 3, 1, 1),
        ((4, 17, 11), 6, (3, 5), 2, 0),
        ((2, 9, 10), 3, 4, (3, 1), (1, 2)),
        ((2, 15), 4, 3, 2, 1),  # 1D
        ((2, 5, 6, 7), 3, (2, 3, 1), 1, 1),  # 3D
    ],
)
def test_conv2d_multiplications_matches_torch_flop_counter(
    in_shape, out_channels, kernel_size, stride, padding
):
    dims = len(in_shape) - 1
    kernel = (kernel_size,) * dims if isinstance(kernel_size, int) else kernel_size
    conv = (F.conv1d, F.conv2d, F.conv3d)[dims - 1]
    x, w = torch.zeros(1, *in_shape), torch.zeros(out_channels, in_shape[0], *kernel)
    with FlopCounterMode(display=False) as counter:
        conv(x, w, stride=stride, padding=padding)
    # FlopCounterMode counts a multiply-add as 2 FLOPs
    expected = counter.get_total_flops() // 2
    assert conv2d_multiplications(in_shape, out_channels, kernel_size, stride, padding) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((28, 32, 5), r"in_shape must be a tuple \(C, H, W\)"),
        (((192,), 32, 5), r"in_shape must be a tuple \(C, H, W\)"),
        (((192, 4, 4), 32, 5), "filter size f=5 is larger"),
        (((192, 28, 28), 0, 5), "out_channels must be an integer >= 1, got 0"),
        (((192, 28, 28), 32, (5, 5, 5)), "kernel_size must be an int or a tuple of 2 ints"),
    ],
)
def test_conv2d_multiplications_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        conv2d_multiplications(*args)


def test_conv2d_parameters_bad_input():
    with pytest.raises(ValueError, match="in_channels must be an integer >= 1, got 0"):
        conv2d_parameters(0, 10, 3)
    with pytest.raises(ValueError, match="kernel_size must be an integer >= 1, got 0"):
        conv2d_parameters(3, 10, (3, 0))
