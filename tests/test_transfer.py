"""mlnotes.transfer: frozen weights stay put, heads fit each model family, counts match hand
counts, bad input is refused with a message that says what was wrong."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mlnotes.core import seed_everything
from mlnotes.models import alexnet, googlenet, lenet5, resnet18, vgg11
from mlnotes.train import make_loader
from mlnotes.transfer import (
    ParameterCount,
    count_parameters,
    fine_tune,
    freeze,
    head_name,
    replace_head,
    trainable_parameters,
    unfreeze,
)

# LeNet-5 by hand, F * (C * 5 * 5 + 1) per convolution and (in + 1) * out per linear layer:
LENET_CONV = 6 * (1 * 25 + 1) + 16 * (6 * 25 + 1)  # 156 + 2416 = 2572
LENET_FC = (400 + 1) * 120 + (120 + 1) * 84  # 48120 + 10164 = 58284
LENET_HEAD_5 = (84 + 1) * 5  # 425
RESNET18_IMAGENET = 11_689_512  # torchvision's documented count for resnet18, 1000 classes


def snapshot(model):
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def changed(before, model):
    return {name for name, p in model.named_parameters() if not torch.equal(before[name], p)}


def digits_like_batch(n=20, classes=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 32, 32, generator=g), torch.randint(0, classes, (n,), generator=g)


def adam_steps(model, params, steps=3, weight_decay=0.1):
    x, y = digits_like_batch()
    optimizer = torch.optim.Adam(params, lr=0.01, weight_decay=weight_decay)
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()


# --- freezing: frozen parameters really do not change ---------------------------------------


@pytest.mark.parametrize("optimizer_gets", ["trainable", "all"])
def test_frozen_weights_survive_adam_with_weight_decay(optimizer_gets):
    seed_everything(0)
    model = replace_head(freeze(lenet5(num_classes=10)), 5)
    before = snapshot(model)
    params = trainable_parameters(model) if optimizer_gets == "trainable" else model.parameters()
    adam_steps(model, params)
    # only the new head moved, even when Adam held every parameter: a frozen one gets no .grad
    assert changed(before, model) == {"classifier.5.weight", "classifier.5.bias"}


def test_without_freezing_weight_decay_moves_every_weight():
    # the control experiment: the same steps change the feature layers when nothing is frozen,
    # so the test above would fail if freeze() did nothing
    seed_everything(0)
    model = replace_head(lenet5(num_classes=10), 5)
    before = snapshot(model)
    adam_steps(model, model.parameters())
    assert changed(before, model) == set(before)


def test_frozen_parameters_have_no_gradient_and_are_not_handed_to_the_optimizer():
    seed_everything(0)
    model = freeze(lenet5(num_classes=5), "features")
    x, y = digits_like_batch()
    F.cross_entropy(model(x), y).backward()
    for name, p in model.named_parameters():
        assert (p.grad is None) == name.startswith("features."), name
    expected = [model.classifier[i].weight for i in (1, 3, 5)]
    got = trainable_parameters(model)
    assert {id(p) for p in got} == {id(p) for p in expected} | {
        id(model.classifier[i].bias) for i in (1, 3, 5)
    }
    assert all(p.requires_grad for p in got)


def test_fine_tune_never_hands_frozen_parameters_to_adam():
    # a stale gradient left on the frozen layers: Adam would step them with it, and fit's
    # zero_grad would clear it, had fine_tune given Adam every parameter
    seed_everything(0)
    model = lenet5(num_classes=5)
    x, y = digits_like_batch()
    F.cross_entropy(model(x), y).backward()
    unfreeze(freeze(model), "classifier.5")
    stale = {name: p.grad.clone() for name, p in model.named_parameters() if not p.requires_grad}
    before = snapshot(model)
    loader = make_loader(x, y, batch_size=10)
    fine_tune(model, loader, epochs=2, lr=0.01, weight_decay=0.5, progress=False)
    assert changed(before, model) == {"classifier.5.weight", "classifier.5.bias"}
    for name, p in model.named_parameters():
        if name in stale:
            assert torch.equal(p.grad, stale[name]), name


def test_fine_tune_learns_and_returns_fits_history():
    seed_everything(0)
    x, y = digits_like_batch(n=10)
    model = freeze(lenet5(num_classes=5), "features")
    before = snapshot(model)
    loader = make_loader(x, y, batch_size=10)
    history = fine_tune(model, loader, 60, lr=0.01, val_loader=loader, progress=False)
    assert set(history) == {"train_loss", "val_loss", "val_accuracy"}
    assert len(history["train_loss"]) == 60
    assert history["train_loss"][-1] < 0.1 * history["train_loss"][0]  # it memorises 10 images
    assert history["val_accuracy"][-1] == 1.0
    assert not any(name.startswith("features.") for name in changed(before, model))


def test_batch_norm_statistics_are_buffers_that_freezing_does_not_stop():
    # documented limitation: freeze() is about parameters; train mode still updates BN buffers
    model = freeze(nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)))
    mean_before = model[1].running_mean.clone()
    model.train()(torch.randn(4, 1, 8, 8) + 3.0)
    assert not torch.equal(model[1].running_mean, mean_before)
    model.eval()
    mean_eval = model[1].running_mean.clone()
    model(torch.randn(4, 1, 8, 8) + 3.0)
    assert torch.equal(model[1].running_mean, mean_eval)


# --- choosing parameters by name and by depth -----------------------------------------------


class Named(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(2, 2)
        self.act = nn.ReLU()
        self.layer10 = nn.Linear(2, 2)
        self.fc = nn.Linear(2, 3)


def trainable_names(model):
    return {name for name, p in model.named_parameters() if p.requires_grad}


def test_a_prefix_stops_at_a_dot():
    model = freeze(Named(), "layer1")
    assert trainable_names(model) == {"layer10.weight", "layer10.bias", "fc.weight", "fc.bias"}
    freeze(model, ["layer10.weight", "fc"])
    assert trainable_names(model) == {"layer10.bias"}


def test_depth_counts_top_level_children_from_the_input():
    model = freeze(Named(), depth=3)  # layer1, act (no parameters), layer10
    assert trainable_names(model) == {"fc.weight", "fc.bias"}
    unfreeze(model, depth=1)
    assert trainable_names(model) == {"layer1.weight", "layer1.bias", "fc.weight", "fc.bias"}
    assert trainable_names(freeze(Named(), depth=0)) == trainable_names(Named())


def test_freeze_all_then_unfreeze_the_head():
    model = unfreeze(freeze(resnet18(num_classes=10)), "fc")
    assert trainable_names(model) == {"fc.weight", "fc.bias"}


def test_resnet_stem_by_depth():
    model = freeze(resnet18(num_classes=10), depth=4)  # conv1, bn1, relu, maxpool
    frozen = {name for name, p in model.named_parameters() if not p.requires_grad}
    assert frozen == {"conv1.weight", "bn1.weight", "bn1.bias"}
    # 7x7 convolution from 3 to 64 channels without bias, batch norm scale and shift
    assert count_parameters(model).total - count_parameters(model).trainable == 64 * 3 * 49 + 128


# --- replacing the head on each family -----------------------------------------------------


@pytest.mark.parametrize(
    ("factory", "name", "in_features", "size"),
    [
        (lenet5, "classifier.5", 84, 32),
        (alexnet, "classifier.6", 4096, 64),
        (vgg11, "classifier.6", 4096, 32),
        (resnet18, "fc", 512, 32),
        (googlenet, "fc", 1024, 32),
    ],
    ids=["lenet5", "alexnet", "vgg", "resnet18", "googlenet"],
)
def test_replace_head_on_each_family(factory, name, in_features, size):
    in_channels = 1 if factory is lenet5 else 3
    with torch.device("meta"):  # shapes and counts only: no 100 M random weights
        model = factory(num_classes=1000) if in_channels == 3 else factory(num_classes=10)
    assert head_name(model) == name
    freeze(model)
    total_before = count_parameters(model).total
    old_out = model.get_submodule(name).out_features
    replace_head(model, 7)
    head = model.get_submodule(name)
    assert isinstance(head, nn.Linear) and head.weight.shape == (7, in_features)
    assert head.bias.shape == (7,)
    # everything else stayed frozen; the new head is trainable
    assert count_parameters(model) == ParameterCount(
        total_before - (in_features + 1) * old_out + (in_features + 1) * 7, (in_features + 1) * 7
    )
    out = model.eval()(torch.rand(2, in_channels, size, size, device="meta"))
    assert out.shape == (2, 7)


def test_replace_head_keeps_position_dtype_and_bias_choice():
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3, bias=False), nn.Tanh(), nn.Linear(3, 2))
    model[3] = nn.Linear(3, 2, bias=False)
    model.double()
    replace_head(model, 5)
    assert head_name(model) == "3" and isinstance(model[2], nn.Tanh)
    assert model[3].bias is None and model[3].weight.dtype == torch.float64
    assert model(torch.zeros(1, 2, 2, dtype=torch.float64)).shape == (1, 5)


def test_replace_head_draws_from_the_seeded_generator():
    seed_everything(3)
    a = replace_head(lenet5(), 5).classifier[5].weight
    seed_everything(3)
    b = replace_head(lenet5(), 5).classifier[5].weight
    assert torch.equal(a, b)
    bound = 1 / 84**0.5  # PyTorch's default init of nn.Linear: U(-1/sqrt(d), 1/sqrt(d))
    assert a.abs().max() <= bound


# --- counting ------------------------------------------------------------------------------


def test_counts_equal_hand_counts():
    model = lenet5(num_classes=10)
    assert count_parameters(model) == (LENET_CONV + LENET_FC + 85 * 10,) * 2
    replace_head(freeze(model), 5)
    assert count_parameters(model) == (LENET_CONV + LENET_FC + LENET_HEAD_5, LENET_HEAD_5)
    unfreeze(model, "classifier")
    assert count_parameters(model).trainable == LENET_FC + LENET_HEAD_5
    unfreeze(model)
    assert count_parameters(model).trainable == LENET_CONV + LENET_FC + LENET_HEAD_5


def test_resnet18_count_matches_the_published_one():
    model = resnet18()
    assert count_parameters(model) == (RESNET18_IMAGENET, RESNET18_IMAGENET)
    replace_head(freeze(model, depth=8), 10)  # everything up to layer4 frozen
    assert count_parameters(model) == (RESNET18_IMAGENET - 513 * 1000 + 513 * 10, 513 * 10)


def test_a_shared_parameter_is_counted_once():
    layer = nn.Linear(3, 3)
    assert count_parameters(nn.Sequential(layer, nn.Tanh(), layer)).total == 12


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: freeze("lenet"), TypeError, "model.*nn.Module, got str"),
        (lambda: count_parameters(None), TypeError, "got NoneType"),
        (
            lambda: freeze(lenet5(), "feature"),
            ValueError,
            r"'feature'.*\['classifier', 'features'\]",
        ),
        (lambda: freeze(lenet5(), "features", depth=1), ValueError, "not both"),
        (lambda: freeze(lenet5(), depth=3), ValueError, r"\[0, 2\].*got 3"),
        (lambda: unfreeze(lenet5(), depth=-1), ValueError, "got -1"),
        (lambda: freeze(lenet5(), depth=True), ValueError, "got True"),
        (lambda: freeze(lenet5(), [1]), TypeError, "names must hold strings, got int"),
        (lambda: freeze(lenet5(), []), TypeError, "non-empty"),
        (lambda: replace_head(lenet5(), 0), ValueError, "num_classes.*>= 1"),
        (lambda: replace_head(lenet5(), 2.0), ValueError, "num_classes.*integer.*got 2.0"),
        (lambda: replace_head(nn.Conv2d(1, 1, 3), 2), ValueError, "no nn.Linear"),
        (lambda: trainable_parameters(freeze(lenet5())), ValueError, "no trainable parameter"),
        (lambda: head_name("lenet"), TypeError, "model.*got str"),
    ],
)
def test_bad_input_is_refused_clearly(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"lr": 0.0}, "lr.*> 0"), ({"lr": 0.1, "weight_decay": -1}, "weight_decay.*>= 0")],
)
def test_fine_tune_refuses_bad_hyperparameters(kwargs, match):
    loader = make_loader(*digits_like_batch(), batch_size=10)
    with pytest.raises(ValueError, match=match):
        fine_tune(lenet5(num_classes=5), loader, 1, progress=False, **kwargs)
