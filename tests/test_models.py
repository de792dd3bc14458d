"""mlnotes.models against independent oracles: the parameter counts torchvision publishes, the
state_dict keys and shapes of torchvision's own models and its logits for fixed weights
(tests/data, made by its dump_*.py scripts), hand counts, and PyTorch's FLOP counter."""

import importlib.util
import json
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from mlnotes.conv import conv2d_multiplications, conv2d_parameters, conv_output_size
from mlnotes.models import (
    WEIGHTS_URLS,
    BasicBlock,
    Bottleneck,
    Inception,
    ResNet,
    alexnet,
    googlenet,
    lenet5,
    resnet18,
    resnet34,
    resnet50,
    summary,
    vgg11,
    vgg16,
    vgg19,
)

DATA = Path(__file__).with_name("data")
TORCHVISION = json.loads((DATA / "torchvision_state_dicts.json").read_text())
TORCHVISION_OUTPUTS = json.loads((DATA / "torchvision_outputs.json").read_text())
FACTORIES = {
    "alexnet": alexnet,
    "vgg11": vgg11,
    "vgg16": vgg16,
    "vgg19": vgg19,
    "resnet18": resnet18,
    "resnet34": resnet34,
    "resnet50": resnet50,
    "googlenet": googlenet,
}
# published by torchvision (its documentation's "num_params") and quoted in the issue
PUBLISHED_COUNTS = {
    "alexnet": 61_100_840,
    "vgg11": 132_863_336,
    "vgg16": 138_357_544,
    "vgg19": 143_667_240,
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "googlenet": 6_624_904,
}


def count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# Counts, state_dict shapes and output shapes need no weights: ImageNet-size models are built on
# the meta device (shapes only), not as ~540 M random parameters.
META = torch.device("meta")


@pytest.fixture(scope="module")
def imagenet_models():
    with META:
        return {name: factory() for name, factory in FACTORIES.items()}


@pytest.mark.parametrize("name", sorted(PUBLISHED_COUNTS))
def test_parameter_counts_equal_the_published_ones(name, imagenet_models):
    assert count(imagenet_models[name]) == PUBLISHED_COUNTS[name]


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_state_dict_keys_and_shapes_equal_torchvision(name, imagenet_models):
    ours = {k: list(v.shape) for k, v in imagenet_models[name].state_dict().items()}
    assert list(ours) == list(TORCHVISION[name])  # same keys, in the same order
    assert ours == TORCHVISION[name]


def load_dump_script():
    spec = importlib.util.spec_from_file_location("dump", DATA / "dump_torchvision_outputs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["alexnet", "vgg11", "resnet18", "resnet50", "googlenet"])
def test_logits_equal_torchvision_for_the_same_weights(name):
    # oracle: torchvision's own model, run on the same seeded weights and input by
    # tests/data/dump_torchvision_outputs.py (googlenet with its ImageNet input transform)
    dump = load_dump_script()
    kwargs = {"transform_input": True} if name == "googlenet" else {}
    with META:  # no random initialisation to pay for: the weights come from the dump script
        model = FACTORIES[name](num_classes=dump.NUM_CLASSES, **kwargs).eval()
    model.load_state_dict(dump.seeded_state_dict(model.state_dict()), assign=True)
    with torch.no_grad():
        logits = model(dump.seeded_input())
    expected = torch.tensor(TORCHVISION_OUTPUTS[name])
    torch.testing.assert_close(logits, expected, rtol=1e-4, atol=1e-4 * expected.abs().max())


def test_lenet5_parameters_equal_the_hand_count():
    hand = (
        conv2d_parameters(1, 6, 5)  # C1: 6 * (25 + 1) = 156
        + conv2d_parameters(6, 16, 5)  # C3: 16 * (150 + 1) = 2416
        + (400 * 120 + 120)
        + (120 * 84 + 84)
        + (84 * 10 + 10)
    )
    assert hand == 61_706
    assert count(lenet5()) == hand
    assert count(lenet5(num_classes=3, in_channels=3)) == hand - 7 * 85 + 2 * 6 * 25


@pytest.mark.parametrize(
    "factory, sizes",
    [
        (alexnet, [63, 100, 224]),
        (vgg16, [32, 64, 97]),
        (resnet18, [32, 64, 97]),
        (resnet50, [32, 65]),
        (googlenet, [15, 32, 64, 99]),
    ],
)
def test_output_shapes_for_several_input_sizes(factory, sizes):
    with META:
        model = factory(num_classes=7, in_channels=2).eval()
        for size in sizes:
            assert model(torch.zeros(3, 2, size, size + 3)).shape == (3, 7)


def test_lenet5_takes_32_by_32_images_only():
    model = lenet5(num_classes=4, in_channels=3)
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 4)
    with pytest.raises(ValueError, match=r"\[N, 3, 32, 32\].*\(2, 3, 28, 28\)"):
        model(torch.zeros(2, 3, 28, 28))


@pytest.mark.parametrize("factory", [lenet5, alexnet, vgg16, resnet18, googlenet])
def test_wrong_channel_count_raises_a_clear_error(factory):
    channels = 1 if factory is lenet5 else 3
    with META, pytest.raises(ValueError, match=rf"\[N, {channels}, .*got \(2, 4, 64, 64\)"):
        factory()(torch.zeros(2, 4, 64, 64))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: resnet18()(torch.zeros(1, 3, 16, 16)), "at least 32×32"),
        (lambda: alexnet()(torch.zeros(1, 3, 62, 80)), "at least 63×63"),
        (lambda: resnet18()(torch.zeros(3, 224, 224)), r"shape \[N, 3, H, W\]"),
        (lambda: resnet18()(torch.zeros(1, 3, 64, 64, dtype=torch.long)), "floating-point"),
        (lambda: resnet18()([[0.0]]), "torch.Tensor"),
        (lambda: vgg16(num_classes=0), "num_classes.*integer >= 1"),
        (lambda: googlenet(in_channels=2.0), "in_channels.*integer"),
        (lambda: Inception(8, 1, 1, 1, 1, 1, 1, large_kernel=7), r"large_kernel.*\(3, 5\)"),
        (lambda: ResNet(BasicBlock, (2, 2, 2)), "layers.*4"),
        (lambda: ResNet(Bottleneck, (3, 0, 6, 3)), "layers.*>= 1"),
        (lambda: summary("resnet18", (3, 64, 64)), "model.*Module"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, message):
    with META, pytest.raises((ValueError, TypeError), match=message):
        call()


@pytest.mark.parametrize("block", [BasicBlock, Bottleneck])
def test_residual_block_with_zero_weights_is_the_identity(block):
    torch.manual_seed(0)
    channels = 16 if block is Bottleneck else 8
    residual = block(channels, channels)
    plain = block(channels, channels, shortcut=False)
    for net in (residual, plain):
        for conv in (m for m in net.modules() if isinstance(m, nn.Conv2d)):
            nn.init.zeros_(conv.weight)
    a = torch.relu(torch.randn(4, channels, 6, 6))  # a previous layer's ReLU output: a >= 0
    for mode in ("train", "eval"):
        getattr(residual, mode)(), getattr(plain, mode)()
        assert torch.equal(residual(a), a)  # g(0 + a) = relu(a) = a
        assert torch.equal(plain(a), torch.zeros_like(a))  # g(0) = 0: the signal is lost


def test_projection_shortcut_changes_shape_and_identity_shortcut_adds_nothing():
    down = BasicBlock(8, 16, stride=2)
    assert isinstance(down.downsample[0], nn.Conv2d)
    assert down.downsample[0].kernel_size == (1, 1) and down.downsample[0].stride == (2, 2)
    assert down(torch.zeros(1, 8, 9, 9)).shape == (1, 16, 5, 5)
    assert isinstance(BasicBlock(8, 8).downsample, nn.Identity)
    assert isinstance(Bottleneck(16, 16).downsample, nn.Identity)
    assert BasicBlock(8, 16, stride=2, shortcut=False).downsample is None
    # identity shortcuts have no parameters: the residual block costs what the plain one does
    assert count(BasicBlock(8, 8)) == count(BasicBlock(8, 8, shortcut=False))


def test_he_init_gives_convolutions_variance_2_over_fan_out_and_zero_biases():
    from mlnotes.models.weights import he_init

    torch.manual_seed(0)
    conv = nn.Conv2d(64, 128, 3, bias=True)
    he_init(conv)
    fan_out = 128 * 3 * 3
    assert conv.weight.std().item() == pytest.approx((2 / fan_out) ** 0.5, rel=0.02)
    assert torch.equal(conv.bias, torch.zeros(128))


def test_bottleneck_is_cheaper_than_a_basic_block_on_256_channels():
    basic = 2 * conv2d_parameters(256, 256, 3, bias=False)
    bottleneck = sum(
        conv2d_parameters(c_in, c_out, k, bias=False)
        for c_in, c_out, k in [(256, 64, 1), (64, 64, 3), (64, 256, 1)]
    )
    bn = 2 * (256 + 256)  # gamma and beta of each batch norm
    assert count(BasicBlock(256, 256)) == basic + bn
    assert count(Bottleneck(256, 256)) == bottleneck + 2 * (64 + 64 + 256)
    assert bottleneck < basic / 16


def test_inception_module_concatenates_its_branches():
    module = Inception(192, 64, 96, 128, 16, 32, 32, large_kernel=5).eval()
    out = module(torch.randn(2, 192, 28, 28))
    assert out.shape == (2, 64 + 128 + 32 + 32, 28, 28)
    convs = [
        (192, 64, 1), (192, 96, 1), (96, 128, 3), (192, 16, 1), (16, 32, 5), (192, 32, 1)
    ]  # fmt: skip
    weights = sum(conv2d_parameters(i, o, k, bias=False) for i, o, k in convs)
    batch_norms = 2 * sum(o for _, o, _ in convs)
    assert count(module) == weights + batch_norms


def test_summary_of_lenet5_matches_hand_counts():
    table = summary(lenet5(), (1, 32, 32))
    convs = [row for row in table.rows if row.kind == "Conv2d"]
    assert [row.output_shape for row in convs] == [(6, 28, 28), (16, 10, 10)]
    assert convs[0].output_shape[1] == conv_output_size(32, 5)
    assert [row.parameters for row in convs] == [156, 2416]
    assert convs[0].mult_adds == conv2d_multiplications((1, 32, 32), 6, 5)
    assert convs[1].mult_adds == conv2d_multiplications((6, 14, 14), 16, 5)
    assert [r.output_shape for r in table.rows if r.kind == "AvgPool2d"] == [
        (6, 14, 14),
        (16, 5, 5),
    ]
    assert table.total_parameters == table.trainable_parameters == 61_706
    assert "61,706" in str(table) and "features.0" in str(table)


@pytest.mark.parametrize("factory, size", [(lenet5, (1, 32, 32)), (resnet18, (3, 64, 64))])
def test_summary_multiply_adds_equal_torch_flop_counter(factory, size):
    model = factory().eval()
    with FlopCounterMode(display=False) as flops, torch.no_grad():
        model(torch.zeros(1, *size))
    assert summary(model, size).total_mult_adds * 2 == flops.get_total_flops()


def test_summary_depth_restores_mode_and_counts_shared_modules_once():
    model = resnet18(num_classes=10).train()
    top = summary(model, (3, 64, 64), depth=1)
    assert [r.name for r in top.rows][:3] == ["conv1", "bn1", "relu"]
    assert [r.name for r in top.rows if r.name.startswith("layer")] == [
        f"layer{i}" for i in range(1, 5)
    ]
    assert sum(r.parameters or 0 for r in top.rows) == count(model) == top.total_parameters
    assert model.training
    leaves = summary(model, (3, 64, 64))
    relus = [r for r in leaves.rows if r.name == "layer1.0.relu"]
    assert len(relus) == 2 and relus[1].parameters is None  # one module, called twice
    assert leaves.total_mult_adds == top.total_mult_adds
    with pytest.raises(ValueError, match="input_size"):
        summary(model, (3, 0, 64))
    with pytest.raises(ValueError, match="depth"):
        summary(model, (3, 64, 64), depth=0)


def test_vgg16_uses_only_3x3_convolutions_and_doubles_channels_as_size_halves():
    with META:
        model = vgg16()
    table = summary(model, (3, 224, 224), depth=2)
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    assert len(convs) == 13 and {c.kernel_size for c in convs} == {(3, 3)}
    pooled = [r.output_shape for r in table.rows if r.kind == "MaxPool2d"]
    assert pooled == [(64, 112, 112), (128, 56, 56), (256, 28, 28), (512, 14, 14), (512, 7, 7)]


def state_dict_file(tmp_path, model) -> Path:
    path = tmp_path / "weights.pth"
    torch.save(model.state_dict(), path)
    return path


# every form of `weights` through one family; the other family through one form (its random
# init, a truncated normal over 6.6 M weights, costs seconds a model)
@pytest.mark.parametrize(
    "factory, forms",
    [(resnet18, (Path, str, Path.as_uri)), (googlenet, (Path.as_uri,))],
    ids=["resnet18", "googlenet"],
)
def test_weights_load_from_a_file_and_a_url(tmp_path, monkeypatch, factory, forms):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))  # torch.hub's cache
    torch.manual_seed(1)
    source = factory(num_classes=5)
    path = state_dict_file(tmp_path, source)
    for weights in (form(path) for form in forms):
        loaded = factory(num_classes=5, weights=weights)
        expected, got = source.state_dict(), loaded.state_dict()
        assert all(torch.equal(expected[key], got[key]) for key in expected)


def test_imagenet_weights_go_through_torch_hub(tmp_path, monkeypatch):
    torch.manual_seed(2)
    source = resnet18()
    url = state_dict_file(tmp_path, source).as_uri()
    monkeypatch.setitem(WEIGHTS_URLS, "resnet18", url)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    loaded = resnet18(weights="imagenet")
    assert torch.equal(loaded.fc.weight, source.fc.weight)
    assert (tmp_path / "torch_home" / "hub" / "checkpoints" / "weights.pth").exists()  # cached


def test_published_googlenet_files_hold_auxiliary_heads_that_are_skipped(tmp_path):
    state = googlenet().state_dict()
    state["aux1.fc1.weight"] = torch.zeros(1024, 2048)
    path = tmp_path / "g.pth"
    torch.save(state, path)
    model = googlenet(weights=path)
    assert not model.transform_input  # only "imagenet" turns it on by default
    assert googlenet(weights=path, transform_input=True).transform_input


def test_weights_that_do_not_match_are_refused(tmp_path):
    path = state_dict_file(tmp_path, resnet18(num_classes=10))
    with pytest.raises(RuntimeError, match="size mismatch for fc.weight"):
        resnet18(weights=path)
    with pytest.raises(RuntimeError, match="Missing key"):
        resnet34(num_classes=10, weights=path)
    with pytest.raises(ValueError, match="num_classes=1000 and in_channels=3"):
        resnet18(num_classes=10, weights="imagenet")
    with pytest.raises(ValueError, match="no ImageNet weights"):
        from mlnotes.models import load_weights

        load_weights(lenet5(), "lenet5", "imagenet", num_classes=10, in_channels=1)


def test_summary_of_a_single_layer_model():
    table = summary(nn.Conv2d(192, 32, 5, padding=2), (192, 28, 28))
    assert [r.name for r in table.rows] == ["Conv2d"]
    assert table.total_mult_adds == conv2d_multiplications((192, 28, 28), 32, 5, padding=2)
    assert table.total_parameters == conv2d_parameters(192, 32, 5)


def test_plot_architecture_draws_one_box_per_layer_and_the_input():
    import matplotlib

    matplotlib.use("Agg")
    from mlnotes.models.draw import plot_architecture

    ax = plot_architecture(summary(lenet5(), (1, 32, 32)), title="LeNet-5")
    assert len(ax.patches) == 1 + 2 + 2 + 3  # input, 2 convs, 2 poolings, 3 fully connected
    labels = [t.get_text() for t in ax.texts]
    assert "6×28×28" in labels and "16×5×5" in labels and "120" in labels


def test_plot_residual_block_reads_the_shortcut_and_shapes_from_the_block():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mlnotes.models import BasicBlock
    from mlnotes.models.draw import plot_residual_block

    identity = plot_residual_block(BasicBlock(64, 64), (64, 56, 56))
    texts = [t.get_text() for t in identity.texts]
    assert "3×3 conv, 64" in texts and "identity\n(no parameters)" in texts and "+" in texts
    projection = plot_residual_block(BasicBlock(64, 128, stride=2), (64, 56, 56))
    texts = [t.get_text() for t in projection.texts]
    assert "1×1 conv, 128\nstride 2" in texts and "$a^{[l+2]}$  128×28×28" in texts
    plain = plot_residual_block(BasicBlock(8, 8, shortcut=False), (8, 6, 6))
    assert not any("identity" in t.get_text() for t in plain.texts)
    with pytest.raises(ValueError, match="C = 64"):
        plot_residual_block(BasicBlock(64, 64), (3, 56, 56))
    with pytest.raises(TypeError, match="BasicBlock"):
        plot_residual_block(nn.Conv2d(1, 1, 3), (1, 8, 8))
    plt.close("all")


def test_plot_inception_module_labels_the_branches_of_inception_3a():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mlnotes.models import INCEPTION_CONFIGS, Inception
    from mlnotes.models.draw import plot_inception_module

    module = Inception(*INCEPTION_CONFIGS["inception3a"], large_kernel=5)
    texts = [t.get_text() for t in plot_inception_module(module, (192, 28, 28)).texts]
    for label in ["1×1 conv, 64", "1×1 conv, 96", "3×3 conv, 128", "5×5 conv, 32", "96×28×28"]:
        assert label in texts
    assert "concatenate along the channels: 64 + 128 + 32 + 32 = 256" in texts
    assert "output  256×28×28" in texts
    with pytest.raises(ValueError, match="C = 192"):
        plot_inception_module(module, (256, 28, 28))
    plt.close("all")
