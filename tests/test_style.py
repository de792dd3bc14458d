"""mlnotes.style against independent oracles: explicit double sums and the formulas in NumPy
float64, hand-computed cases, finite differences (mlnotes.core.numerical_gradient), PyTorch's
conv2d, the VGG configuration table, and Adam's first step written out by hand."""

import numpy as np
import pytest
import skimage.io
import torch
import torch.nn.functional as F
from torch import nn

from mlnotes.core import numerical_gradient, rel_error
from mlnotes.models import VGG_CONFIGS, WEIGHTS_URLS, make_features
from mlnotes.style import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    STYLE_LAYERS,
    VGGFeatures,
    content_cost,
    gram_matrix,
    image_to_tensor,
    layer_style_cost,
    load_image,
    style_cost,
    style_transfer,
    tensor_to_image,
    total_cost,
    vgg_layer_names,
)

torch.set_num_threads(1)


def gram_double_sum(a):
    """G[k, k'] = sum_i sum_j a[k, i, j] a[k', i, j], written as loops."""
    n_C, n_H, n_W = a.shape
    G = np.zeros((n_C, n_C))
    for k in range(n_C):
        for kp in range(n_C):
            for i in range(n_H):
                for j in range(n_W):
                    G[k, kp] += a[k, i, j] * a[kp, i, j]
    return G


def random_activations(*shape, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).normal(size=shape))  # float64


# --- Gram matrix ---------------------------------------------------------------------------


def test_gram_matrix_equals_the_explicit_double_sum():
    a = random_activations(3, 4, 5)
    np.testing.assert_allclose(gram_matrix(a).numpy(), gram_double_sum(a.numpy()), rtol=1e-12)


def test_gram_matrix_by_hand():
    # channel 0 = [[1, 2], [3, 4]], channel 1 = [[0, 1], [1, 0]]
    # G00 = 1 + 4 + 9 + 16 = 30, G01 = 0 + 2 + 3 + 0 = 5, G11 = 0 + 1 + 1 + 0 = 2
    a = torch.tensor([[[1.0, 2], [3, 4]], [[0, 1], [1, 0]]], dtype=torch.float64)
    assert gram_matrix(a).tolist() == [[30.0, 5.0], [5.0, 2.0]]


def test_gram_matrix_is_symmetric_and_positive_semidefinite():
    for seed in range(3):
        G = gram_matrix(random_activations(6, 3, 4, seed=seed)).numpy()
        np.testing.assert_allclose(G, G.T, rtol=0, atol=1e-12)
        # 6 channels, 12 positions: full rank is possible, never a negative eigenvalue
        assert np.linalg.eigvalsh(G).min() > -1e-10
        # with fewer positions (2) than channels (6) the rank is at most 2
        rank = np.linalg.matrix_rank(gram_matrix(random_activations(6, 1, 2, seed=seed)).numpy())
        assert rank == 2


def test_batched_gram_matrix_equals_one_image_at_a_time():
    a = random_activations(4, 3, 5, 2)
    batched = gram_matrix(a)
    assert batched.shape == (4, 3, 3)
    for n in range(4):
        torch.testing.assert_close(batched[n], gram_matrix(a[n]), rtol=1e-12, atol=1e-12)


# --- costs ---------------------------------------------------------------------------------


def test_content_cost_by_hand_and_against_numpy():
    # n_C = 1, n_H = 1, n_W = 2: (1 - 0)^2 + (2 - 0)^2 = 5, divided by 4 * 1 * 2 * 1 = 8
    a_C = torch.tensor([[[1.0, 2.0]]], dtype=torch.float64)
    assert float(content_cost(a_C, torch.zeros_like(a_C))) == 5 / 8
    a_C, a_G = random_activations(3, 4, 5, seed=1), random_activations(3, 4, 5, seed=2)
    expected = np.sum((a_C.numpy() - a_G.numpy()) ** 2) / (4 * 4 * 5 * 3)
    np.testing.assert_allclose(float(content_cost(a_C, a_G)), expected, rtol=1e-12)
    assert float(content_cost(a_C, a_C)) == 0.0


def test_layer_style_cost_by_hand_and_against_double_sums():
    # one position, channels [1, 2]: G(S) = [[1, 2], [2, 4]], G(G) = 0;
    # 1 + 4 + 4 + 16 = 25, divided by 4 * n_C^2 * (n_H n_W)^2 = 4 * 4 * 1 = 16
    a_S = torch.tensor([[[1.0]], [[2.0]]], dtype=torch.float64)
    assert float(layer_style_cost(a_S, torch.zeros_like(a_S))) == 25 / 16
    a_S, a_G = random_activations(3, 4, 5, seed=3), random_activations(3, 4, 5, seed=4)
    diff = gram_double_sum(a_S.numpy()) - gram_double_sum(a_G.numpy())
    expected = np.sum(diff**2) / (4 * 3**2 * (4 * 5) ** 2)
    np.testing.assert_allclose(float(layer_style_cost(a_S, a_G)), expected, rtol=1e-12)


def test_style_cost_depends_on_the_gram_matrix_only():
    # moving the activations around (same values at other positions) keeps the Gram matrix
    a_S = random_activations(3, 4, 5, seed=5)
    shuffled = a_S.flatten(1)[:, torch.randperm(20)].reshape(3, 4, 5)
    assert float(layer_style_cost(a_S, shuffled)) < 1e-24
    assert float(content_cost(a_S, shuffled)) > 0.1


def test_batched_costs_are_sums_over_the_images():
    a, b = random_activations(2, 3, 4, 4, seed=6), random_activations(2, 3, 4, 4, seed=7)
    for cost in (content_cost, layer_style_cost):
        expected = cost(a[0], b[0]) + cost(a[1], b[1])
        torch.testing.assert_close(cost(a, b), expected, rtol=1e-12, atol=0)


def test_style_cost_is_the_weighted_sum_of_layer_costs():
    feats_S = {"conv1_1": random_activations(1, 2, 3, 3, seed=8)}
    feats_S["conv2_1"] = random_activations(1, 4, 2, 2, seed=9)
    feats_G = {name: 0.5 * a for name, a in feats_S.items()}
    weights = {"conv1_1": 0.3, "conv2_1": 0.7}
    expected = sum(w * layer_style_cost(feats_S[n], feats_G[n]) for n, w in weights.items())
    torch.testing.assert_close(style_cost(feats_S, feats_G, weights), expected)
    only_first = style_cost(feats_S, feats_G, {"conv1_1": 1.0, "conv2_1": 0.0})
    torch.testing.assert_close(only_first, layer_style_cost(feats_S["conv1_1"], feats_G["conv1_1"]))


def test_total_cost_by_hand():
    assert total_cost(2.0, 0.5) == 10 * 2.0 + 40 * 0.5
    assert total_cost(2.0, 0.5, alpha=1, beta=0) == 2.0


@pytest.mark.parametrize("cost", [content_cost, layer_style_cost])
def test_cost_gradients_equal_finite_differences(cost):
    a_X = random_activations(2, 3, 2, seed=10)
    a_G = random_activations(2, 3, 2, seed=11).requires_grad_(True)
    cost(a_X, a_G).backward()
    numeric = numerical_gradient(
        lambda x: float(cost(a_X, torch.from_numpy(x))), a_G.detach().numpy().copy()
    )
    assert rel_error(a_G.grad.numpy(), numeric) < 1e-7


def test_total_cost_gradient_through_the_network_equals_finite_differences():
    extractor = VGGFeatures(["conv1_1", "conv2_1"], seed=0).double()
    C = torch.rand(1, 3, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    S = torch.rand(1, 3, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    feats_C, feats_S = extractor(C), extractor(S)
    weights = {"conv1_1": 0.5, "conv2_1": 0.5}

    def J(x):
        feats_G = extractor(x)
        J_content = content_cost(feats_C["conv2_1"], feats_G["conv2_1"])
        return total_cost(J_content, style_cost(feats_S, feats_G, weights))

    G = torch.rand(1, 3, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    G.requires_grad_(True)
    J(G).backward()
    numeric = numerical_gradient(lambda x: float(J(torch.from_numpy(x))), G.detach().numpy().copy())
    assert rel_error(G.grad.numpy(), numeric) < 1e-6


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: gram_matrix(torch.zeros(3, 4)), r"\(C, H, W\) or \(N, C, H, W\)"),
        (lambda: gram_matrix(torch.zeros(1, 1, 3, 4, 5)), r"got \(1, 1, 3, 4, 5\)"),
        (lambda: gram_matrix(np.zeros((3, 4, 5))), "a must be a floating-point torch.Tensor"),
        (lambda: gram_matrix(torch.zeros(3, 4, 5, dtype=torch.int64)), "floating-point"),
        (lambda: content_cost(torch.zeros(3, 4, 5), torch.zeros(3, 4, 4)), "same shape"),
        (lambda: layer_style_cost(torch.zeros(3, 4, 5), torch.zeros(2, 4, 5)), "same shape"),
        (lambda: style_cost({}, {}, {"conv1_1": -1.0}), r"layer_weights\['conv1_1'\]"),
        (lambda: style_cost({}, {}, {}), "non-empty"),
        (lambda: style_cost({}, {}, {"conv1_1": 1.0}), "missing from feats_S"),
        (lambda: total_cost(1.0, 1.0, alpha=-1), "alpha must be"),
        (lambda: total_cost(1.0, 1.0, beta=-0.5), "beta must be"),
    ],
)
def test_bad_input_raises_clear_errors(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


# --- the feature extractor -------------------------------------------------------------------


@pytest.mark.parametrize("arch", ["vgg16", "vgg19"])
def test_layer_names_follow_the_module_types_of_make_features(arch):
    names, modules = vgg_layer_names(VGG_CONFIGS[arch]), list(make_features(VGG_CONFIGS[arch]))
    assert len(names) == len(modules)
    kinds = {"conv": nn.Conv2d, "relu": nn.ReLU, "pool": nn.MaxPool2d}
    for name, module in zip(names, modules, strict=True):
        assert isinstance(module, kinds[name[:4]])
    assert sum(n.startswith("conv") for n in names) == {"vgg16": 13, "vgg19": 16}[arch]
    assert names[:5] == ["conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1"]


def test_extractor_shapes_follow_the_vgg_configuration():
    extractor = VGGFeatures(STYLE_LAYERS + ("conv4_2",))
    feats = extractor(torch.rand(2, 3, 32, 48))
    assert list(feats) == [*STYLE_LAYERS, "conv4_2"]
    channels = [c for c in VGG_CONFIGS["vgg19"] if c != "M"]
    first_of_block = {1: 0, 2: 2, 3: 4, 4: 8, 5: 12}  # index of convB_1 among the convolutions
    for block in range(1, 6):
        a = feats[f"conv{block}_1"]
        scale = 2 ** (block - 1)  # one halving per pooling before the block
        assert a.shape == (2, channels[first_of_block[block]], 32 // scale, 48 // scale)
        assert a.min() >= 0  # ReLU outputs
    assert feats["conv4_2"].shape == (2, 512, 4, 6)
    assert len(extractor.features) == vgg_layer_names(VGG_CONFIGS["vgg19"]).index("relu5_1") + 1


def test_first_layer_equals_conv2d_on_the_normalised_image():
    extractor = VGGFeatures(["conv1_1"], seed=3)
    x = torch.rand(1, 3, 8, 8)
    mean, std = torch.tensor(IMAGENET_MEAN), torch.tensor(IMAGENET_STD)
    normalised = (x - mean[:, None, None]) / std[:, None, None]
    conv = extractor.features[0]
    expected = F.relu(F.conv2d(normalised, conv.weight, conv.bias, padding=1))
    torch.testing.assert_close(extractor(x)["conv1_1"], expected)


def test_random_weights_are_seeded_and_keep_activations_in_range_through_depth():
    a, b, c = (VGGFeatures(STYLE_LAYERS, seed=s) for s in (0, 0, 1))
    assert torch.equal(a.features[0].weight, b.features[0].weight)
    assert not torch.equal(a.features[0].weight, c.features[0].weight)
    image = load_image("astronaut", 64)
    for name, act in a(image).items():
        mean_square = float((act**2).mean())
        assert 0.1 < mean_square < 10, (name, mean_square)  # He init: no vanishing, no explosion
    assert not any(p.requires_grad for p in a.parameters())


def test_max_pooling_variant_and_vgg16():
    assert any(
        isinstance(m, nn.MaxPool2d) for m in VGGFeatures(["conv2_1"], pooling="max").features
    )
    assert not any(isinstance(m, nn.MaxPool2d) for m in VGGFeatures(["conv2_1"]).features)
    assert VGGFeatures(["conv5_3"], "vgg16-random")(torch.rand(1, 3, 16, 16))["conv5_3"].shape == (
        1,
        512,
        1,
        1,
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"layers": ["conv6_1"]}, "layers must be names among"),
        ({"layers": ["conv5_4"], "backbone": "vgg16-random"}, "layers must be names among"),
        ({"layers": []}, "layers must be names among"),
        ({"layers": ["conv1_1"], "backbone": "resnet18"}, "backbone must be one of"),
        ({"layers": ["conv1_1"], "pooling": "min"}, "pooling must be"),
    ],
)
def test_extractor_refuses_unknown_names(kwargs, message):
    with pytest.raises(ValueError, match=message):
        VGGFeatures(**kwargs)


def test_extractor_refuses_images_too_small_for_its_poolings():
    with pytest.raises(ValueError, match="at least 16×16"):
        VGGFeatures(["conv5_1"])(torch.rand(1, 3, 8, 8))


def test_imagenet_backbone_loads_torchvision_style_weights_through_torch_hub(tmp_path, monkeypatch):
    # A stand-in for torchvision's vgg19 file: the same keys and shapes; the classifier's
    # tensors are stride-0 views of one number, so the file stays small (about 80 MB of features).
    features = make_features(VGG_CONFIGS["vgg19"])
    torch.manual_seed(4)
    for module in features:
        if isinstance(module, nn.Conv2d):
            nn.init.normal_(module.weight, std=0.01)
            nn.init.normal_(module.bias)
    state = {f"features.{k}": v for k, v in features.state_dict().items()}
    for i, (n_in, n_out) in {0: (25088, 4096), 3: (4096, 4096), 6: (4096, 1000)}.items():
        state[f"classifier.{i}.weight"] = torch.zeros(1).expand(n_out, n_in)
        state[f"classifier.{i}.bias"] = torch.zeros(1).expand(n_out)
    path = tmp_path / "vgg19-standin.pth"
    torch.save(state, path)
    monkeypatch.setitem(WEIGHTS_URLS, "vgg19", path.as_uri())
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    extractor = VGGFeatures(["conv1_1", "conv3_1"], "vgg19-imagenet")
    assert torch.equal(extractor.features[0].weight, features[0].weight)
    assert torch.equal(extractor.features[10].bias, features[10].bias)  # conv3_1
    assert (tmp_path / "torch_home" / "hub" / "checkpoints" / "vgg19-standin.pth").exists()


# --- images --------------------------------------------------------------------------------


def test_image_tensor_round_trip():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(5, 7, 3), dtype=np.uint8)
    x = image_to_tensor(image)
    assert x.shape == (1, 3, 5, 7) and x.dtype == torch.float32
    np.testing.assert_allclose(tensor_to_image(x), image / 255, atol=1e-7)
    grey = image_to_tensor(image[:, :, 0])
    assert torch.equal(grey[0, 0], grey[0, 2]) and torch.equal(grey[0, 1], x[0, 0])
    rgba = np.concatenate([image, np.full((5, 7, 1), 255, np.uint8)], axis=2)
    assert torch.equal(image_to_tensor(rgba), x)
    assert tensor_to_image(torch.full((3, 2, 2), 2.0)).max() == 1.0  # clipped for imshow


def test_load_image_from_scikit_image_and_from_a_file(tmp_path):
    x = load_image("astronaut", 32)
    assert x.shape == (1, 3, 32, 32) and x.min() >= 0 and x.max() <= 1 and x.std() > 0.1
    assert load_image("brick", (16, 24)).shape == (1, 3, 16, 24)
    # a constant image stays constant; the centre crop keeps the middle of a two-colour file
    image = np.zeros((40, 80, 3), np.uint8)
    image[:, 20:60] = 200
    path = tmp_path / "two.png"
    skimage.io.imsave(path, image)
    np.testing.assert_allclose(load_image(path, 16).numpy(), 200 / 255, atol=1e-6)
    assert load_image(str(path), (10, 40))[0, 0, 5].tolist()[0] == 0.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: load_image("no-such-image"), "must be one of"),
        (lambda: load_image("astronaut", 4), "size must be"),
        (lambda: image_to_tensor(np.zeros((2, 3, 5))), r"\(H, W, 3\)"),
        (lambda: image_to_tensor(np.full((2, 3), 1.5)), r"in \[0, 1\]"),
        (lambda: tensor_to_image(torch.zeros(2, 3, 4, 4)), r"\(1, 3, H, W\)"),
    ],
)
def test_image_helpers_refuse_bad_input(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


# --- the optimisation ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    extractor = VGGFeatures(["conv1_1", "conv2_1", "conv3_1"], seed=0)
    content, style = load_image("chelsea", 16), load_image("gravel", 16)
    return extractor, content, style


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_the_loop_decreases_the_cost(tiny, optimizer):
    extractor, content, style = tiny
    weights = {"conv1_1": 0.5, "conv2_1": 0.5}
    result = style_transfer(
        extractor, content, style, content_layer="conv3_1", style_weights=weights, steps=15,
        optimizer=optimizer, init="random",
    )  # fmt: skip
    J = result.history["J"]
    assert len(J) == 16 and len(result.history["J_style"]) == 16
    assert J[-1] < 0.5 * J[0]
    assert result.image.shape == content.shape
    assert result.image.min() >= 0 and result.image.max() <= 1
    np.testing.assert_allclose(
        J,
        10 * np.array(result.history["J_content"]) + 40 * np.array(result.history["J_style"]),
        rtol=1e-5,
    )


def test_texture_synthesis_and_content_reconstruction_use_one_cost_each(tiny):
    extractor, content, style = tiny
    weights = {"conv1_1": 1.0}
    texture = style_transfer(extractor, style=style, style_weights=weights, steps=3)
    assert texture.history["J_content"] == [0.0] * 4 and texture.history["J_style"][0] > 0
    rebuilt = style_transfer(extractor, content=content, content_layer="conv1_1", steps=3)
    assert rebuilt.history["J_style"] == [0.0] * 4 and rebuilt.history["J_content"][0] > 0


def test_first_adam_step_moves_each_pixel_by_lr_against_the_gradient_sign(tiny):
    # Adam's first step is lr * m / (sqrt(v) + eps) = lr * g / |g| (bias-corrected moments)
    extractor, content, style = tiny
    weights = {"conv1_1": 1.0}
    result = style_transfer(
        extractor, content, style, content_layer="conv2_1", style_weights=weights, steps=1,
        optimizer="adam", lr=0.01, init="content",
    )  # fmt: skip
    G = content.clone().requires_grad_(True)
    feats_G, feats_S, feats_C = extractor(G), extractor(style), extractor(content)
    J_content = content_cost(feats_C["conv2_1"], feats_G["conv2_1"])
    total_cost(J_content, style_cost(feats_S, feats_G, weights)).backward()
    expected = (content - 0.01 * torch.sign(G.grad)).clamp(0, 1)
    torch.testing.assert_close(result.image, expected, atol=1e-5, rtol=0)


def test_initial_images(tiny):
    extractor, content, _ = tiny
    same = style_transfer(extractor, content, init="content", content_layer="conv1_1", steps=1)
    assert same.history["J"][0] == 0.0  # G starts as C
    noisy = style_transfer(
        extractor, content, init="noisy", noise_ratio=0.0, content_layer="conv1_1", steps=1
    )
    assert noisy.history["J"][0] == 0.0  # no noise: C itself
    noisy = style_transfer(extractor, content, init="noisy", content_layer="conv1_1", steps=1)
    assert noisy.history["J"][0] > 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "a content image, a style image or both"),
        ({"content": torch.rand(1, 3, 16, 16), "style": torch.rand(1, 3, 16, 8)}, "one size"),
        ({"content": torch.rand(2, 3, 16, 16)}, "one image"),
        ({"content": torch.rand(1, 3, 16, 16), "init": "zeros"}, "init must be"),
        ({"content": torch.rand(1, 3, 16, 16), "optimizer": "sgd"}, "optimizer must be"),
        ({"content": torch.rand(1, 3, 16, 16), "steps": 0}, "steps must be"),
        ({"content": torch.rand(1, 3, 16, 16), "noise_ratio": 1.5}, "noise_ratio.*<= 1"),
        ({"content": torch.rand(1, 3, 16, 16), "alpha": -1}, "alpha must be"),
        ({"content": torch.rand(1, 3, 16, 16), "seed": True}, "seed must be an integer"),
        ({"content": torch.rand(1, 3, 16, 16)}, r"does not provide layers \['conv4_2'\]"),
        ({"style": torch.rand(1, 3, 16, 16), "style_weights": {"conv1_1": -1}}, "conv1_1"),
    ],
)
def test_style_transfer_refuses_bad_arguments(tiny, kwargs, message):
    with pytest.raises(ValueError, match=message):
        style_transfer(tiny[0], **kwargs)
