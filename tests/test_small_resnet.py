"""The CIFAR ResNet of He et al. (2016), Section 4.2, and its plain counterpart."""

import pytest
import torch
from torch import nn

from mlnotes.models.resnet import BasicBlock
from mlnotes.models.small_resnet import SmallResNet, small_resnet


def is_weighted(module):
    return isinstance(module, (nn.Conv2d, nn.Linear))


def weighted_layers(model):
    return [m for m in model.modules() if is_weighted(m)]


def projections(model):
    blocks = (m for m in model.modules() if isinstance(m, BasicBlock))
    return [b for b in blocks if isinstance(b.downsample, nn.Sequential)]


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


def expected_parameters(depth, widths, in_channels, num_classes, shortcut):
    """Written out from the table of SmallResNet's docstring: 3×3 convolutions have 9·c_in·c_out
    weights and no bias, each batch norm 2·c (scale and shift), a projection 1×1 conv c_in·c_out
    weights and a batch norm."""
    n = (depth - 2) // 6
    w1, w2, w3 = widths
    stem = 9 * in_channels * w1 + 2 * w1
    total = stem
    previous = w1
    for width in widths:
        first = 9 * previous * width + 9 * width * width + 4 * width
        if shortcut and previous != width:
            first += previous * width + 2 * width
        total += first + (n - 1) * (18 * width * width + 4 * width)
        previous = width
    return total + w3 * num_classes + num_classes


@pytest.mark.parametrize("depth", [8, 14, 20, 32, 44, 56, 110])
@pytest.mark.parametrize("shortcut", [True, False])
def test_depth_counts_the_weighted_layers(depth, shortcut):
    # the stem, 2 convolutions per block, 3n blocks, the linear layer: 1 + 6n + 1 = depth;
    # the residual net has two more (1×1 projection) convolutions, which the paper does not count
    model = small_resnet(depth, shortcut=shortcut)
    convs3x3 = [m for m in weighted_layers(model) if getattr(m, "kernel_size", (3, 3)) == (3, 3)]
    assert len(convs3x3) == depth
    assert len(weighted_layers(model)) == depth + (2 if shortcut else 0)
    assert sum(isinstance(m, nn.Linear) for m in model.modules()) == 1


def test_resnet20_has_the_hand_computed_parameter_count():
    # stem 9·3·16 + 2·16 = 464
    # stage 1: 3 blocks × (2·9·16·16 + 4·16) = 3 × 4,672 = 14,016
    # stage 2: 9·16·32 + 9·32·32 + 4·32 + (16·32 + 2·32) = 14,528, plus 2 × 18,560 = 51,648
    # stage 3: 9·32·64 + 9·64·64 + 4·64 + (32·64 + 2·64) = 57,728, plus 2 × 73,984 = 205,696
    # fc 64·10 + 10 = 650;   total 464 + 14,016 + 51,648 + 205,696 + 650 = 272,474
    assert count_parameters(small_resnet(20)) == 272_474
    # the plain net lacks the two projections: 272,474 - 576 - 2,176
    assert count_parameters(small_resnet(20, shortcut=False)) == 269_722


@pytest.mark.parametrize("depth", [8, 20, 56])
@pytest.mark.parametrize("shortcut", [True, False])
@pytest.mark.parametrize(
    ("widths", "in_channels", "classes"), [((16, 32, 64), 3, 10), ((8, 16, 32), 1, 4)]
)
def test_parameter_count_matches_the_formula(depth, shortcut, widths, in_channels, classes):
    model = small_resnet(
        depth, num_classes=classes, in_channels=in_channels, shortcut=shortcut, widths=widths
    )
    assert count_parameters(model) == expected_parameters(
        depth, widths, in_channels, classes, shortcut
    )


@pytest.mark.parametrize(
    ("depth", "millions"), [(20, 0.27), (32, 0.46), (44, 0.66), (56, 0.85), (110, 1.7)]
)
def test_parameter_counts_are_those_of_the_paper(depth, millions):
    # He et al. 2016, Table 6 (option A shortcuts, no parameters); option B adds 2,752
    assert count_parameters(small_resnet(depth)) / 1e6 == pytest.approx(millions, rel=0.03)


@pytest.mark.parametrize(
    ("shape", "stage_sizes"),
    [
        ((2, 3, 32, 32), (32, 16, 8)),
        ((1, 3, 8, 8), (8, 4, 2)),
        ((3, 3, 17, 23), (17, 9, 5)),  # stride 2 with padding 1 rounds up: ceil(17 / 2) = 9
        ((2, 3, 1, 1), (1, 1, 1)),
    ],
)
def test_output_and_stage_shapes(shape, stage_sizes):
    model = small_resnet(14, widths=(4, 8, 16)).eval()
    seen = {}
    for name in ("layer1", "layer2", "layer3"):
        getattr(model, name).register_forward_hook(
            lambda _m, _i, out, name=name: seen.__setitem__(name, tuple(out.shape))
        )
    out = model(torch.randn(shape))
    assert out.shape == (shape[0], 10)
    n, _, h, _ = shape
    sizes = [seen[name][2] for name in ("layer1", "layer2", "layer3")]
    assert tuple(sizes) == stage_sizes
    assert [seen[name][1] for name in ("layer1", "layer2", "layer3")] == [4, 8, 16]
    assert seen["layer3"][3] == -(-shape[3] // 4)


def test_stages_downsample_in_their_first_block_only():
    model = small_resnet(20)
    for name, stride in (("layer1", 1), ("layer2", 2), ("layer3", 2)):
        blocks = list(getattr(model, name))
        assert blocks[0].conv1.stride == (stride, stride)
        assert all(b.conv1.stride == (1, 1) for b in blocks[1:])
    assert [p.downsample[0].stride for p in projections(model)] == [(2, 2), (2, 2)]


def test_plain_network_has_no_shortcuts_and_the_same_weight_layers():
    residual, plain = small_resnet(32), small_resnet(32, shortcut=False)
    assert projections(plain) == []
    assert all(b.downsample is None for b in plain.modules() if isinstance(b, BasicBlock))
    assert len(projections(residual)) == 2
    # the same layers, in the same order, once the residual net's projections are set aside
    plain_layers = [(name, m.weight.shape) for name, m in plain.named_modules() if is_weighted(m)]
    residual_layers = [
        (name, m.weight.shape)
        for name, m in residual.named_modules()
        if is_weighted(m) and "downsample" not in name
    ]
    assert plain_layers == residual_layers
    assert len(plain_layers) == 32


def test_zeroed_residual_branches_make_a_stage_the_identity():
    # BN's scale γ = 0 in the last BN of each block: z^[l+2] = 0, so a^[l+2] = relu(a^[l]) = a^[l]
    # for a >= 0 in the residual stage, and relu(0) = 0 in the plain stage
    torch.manual_seed(0)
    a = torch.rand(2, 16, 8, 8)  # non-negative, like the output of a ReLU
    for shortcut, expected in ((True, a), (False, torch.zeros_like(a))):
        model = small_resnet(20, shortcut=shortcut).eval()
        for block in model.layer1:
            nn.init.zeros_(block.bn2.weight)
        with torch.no_grad():
            torch.testing.assert_close(model.layer1(a), expected)


def test_is_a_small_resnet_with_n_blocks_per_stage():
    model = small_resnet(44)
    assert isinstance(model, SmallResNet)
    assert [len(getattr(model, f"layer{i}")) for i in (1, 2, 3)] == [7, 7, 7]


@pytest.mark.parametrize("depth", [0, 2, 7, 9, 21, 57, -4, True, 20.0, "20"])
def test_depth_must_be_6n_plus_2(depth):
    with pytest.raises(ValueError, match="depth must be 6n \\+ 2"):
        small_resnet(depth)


@pytest.mark.parametrize("widths", [(16, 32), (16, 32, 0), (16, 32, 64, 128), (16, 32.0, 64)])
def test_widths_must_be_three_positive_integers(widths):
    with pytest.raises(ValueError, match="widths"):
        small_resnet(20, widths=widths)


@pytest.mark.parametrize(("argument", "value"), [("num_classes", 0), ("in_channels", -1)])
def test_bad_model_arguments(argument, value):
    with pytest.raises(ValueError, match=argument):
        small_resnet(20, **{argument: value})


def test_n_must_be_positive():
    with pytest.raises(ValueError, match="n \\(blocks per stage\\)"):
        SmallResNet(0)


def test_wrong_channel_count_is_named():
    model = small_resnet(8, in_channels=3)
    with pytest.raises(ValueError, match=r"\[N, 3, H, W\], got \(1, 1, 8, 8\)"):
        model(torch.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match="shape"):
        model(torch.zeros(3, 8, 8))
    with pytest.raises(TypeError, match="floating-point"):
        model(torch.zeros(1, 3, 8, 8, dtype=torch.int64))
