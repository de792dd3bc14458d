"""mlnotes.multitask against PyTorch (float64), finite differences, scikit-learn and hand sums."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import precision_recall_fscore_support

from mlnotes.core import numerical_gradient, rel_error, seed_everything
from mlnotes.multitask import (
    SeparateNets,
    SharedTrunkNet,
    make_scenes,
    multitask_loss,
    multitask_loss_np,
    task_scores,
)
from mlnotes.train import fit, make_loader


def problem(m=16, k=5, seed=0, scale=3.0):
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=scale, size=(m, k))
    y = rng.integers(0, 2, size=(m, k))
    mask = rng.random((m, k)) < 0.6
    return z, y, mask


def torch_oracle(z, y, mask=None):
    weight = None if mask is None else torch.tensor(mask, dtype=torch.float64)
    total = F.binary_cross_entropy_with_logits(
        torch.tensor(z), torch.tensor(y, dtype=torch.float64), weight=weight, reduction="sum"
    )
    return total.item() / z.shape[0]


# --- the loss --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_numpy_and_torch_losses_match_binary_cross_entropy_with_logits(seed):
    z, y, mask = problem(seed=seed)
    for m in (None, mask):
        expected = torch_oracle(z, y, m)
        np.testing.assert_allclose(multitask_loss_np(z, y, m), expected, rtol=1e-13)
        tm = None if m is None else torch.tensor(m)
        ours = multitask_loss(torch.tensor(z), torch.tensor(y), tm).item()
        np.testing.assert_allclose(ours, expected, rtol=1e-13)


def test_hand_computed_two_examples_three_tasks():
    # L(z, y) = log(1 + e^z) - y z.  With z = 0: L = log 2 whatever y.  With z = log 3 and
    # y = 1: L = log 4 - log 3.  Example 1: z = (0, log 3, 0), y = (1, 1, 0), all known;
    # example 2: z = (log 3, 0, 0), y = (1, ?, 0), the middle label missing.
    # J = (1/2) [ (log 2 + log(4/3) + log 2) + (log(4/3) + log 2) ] = (1/2) [3 log 2 + 2 log(4/3)]
    z = np.array([[0.0, np.log(3), 0.0], [np.log(3), 0.0, 0.0]])
    y = np.array([[1, 1, 0], [1, -1, 0]])  # -1 marks "unknown"; the mask hides it
    mask = np.array([[1, 1, 1], [1, 0, 1]])
    expected = (3 * np.log(2) + 2 * np.log(4 / 3)) / 2
    assert multitask_loss_np(z, y, mask) == pytest.approx(expected, rel=1e-14)
    assert multitask_loss(torch.tensor(z), torch.tensor(y), torch.tensor(mask)).item() == (
        pytest.approx(expected, rel=1e-14)
    )


def test_a_masked_label_changes_nothing():
    z, y, mask = problem(seed=1)
    flipped = np.where(mask, y, 1 - y)  # change every masked label
    assert multitask_loss_np(z, flipped, mask) == pytest.approx(multitask_loss_np(z, y, mask))
    moved = np.where(mask, z, z + 100.0)  # and every masked logit
    assert multitask_loss_np(moved, y, mask) == pytest.approx(multitask_loss_np(z, y, mask))


def test_masking_equals_summing_only_the_known_labels():
    z, y, mask = problem(m=7, k=4, seed=2)
    by_hand = sum(
        np.log1p(np.exp(z[i, j])) - y[i, j] * z[i, j]
        for i in range(7)
        for j in range(4)
        if mask[i, j]
    )
    np.testing.assert_allclose(multitask_loss_np(z, y, mask), by_hand / 7, rtol=1e-12)


def test_the_cost_divides_by_examples_not_by_labels_and_reduces_to_chapter_1():
    z, y, _ = problem(m=10, k=1, seed=3)
    # one task: the mean logistic loss of chapter 1
    expected = F.binary_cross_entropy_with_logits(
        torch.tensor(z[:, 0]), torch.tensor(y[:, 0], dtype=torch.float64)
    ).item()
    assert multitask_loss_np(z, y) == pytest.approx(expected, rel=1e-13)
    # K copies of one task cost K times as much: a sum over tasks, a mean over examples
    assert multitask_loss_np(np.tile(z, 3), np.tile(y, 3)) == pytest.approx(3 * expected)


def test_extreme_logits_stay_finite():
    z = np.array([[-1000.0, 1000.0, 0.0]])
    y = np.array([[1, 0, 1]])
    # L(-1000, 1) = L(1000, 0) = 1000 exactly; L(0, 1) = log 2
    assert multitask_loss_np(z, y) == pytest.approx(2000 + np.log(2), rel=1e-14)
    assert multitask_loss(torch.tensor(z), torch.tensor(y)).item() == pytest.approx(
        2000 + np.log(2), rel=1e-14
    )


def test_torch_gradient_is_sigma_minus_y_over_m_and_matches_finite_differences():
    z, y, mask = problem(m=6, k=3, seed=4, scale=1.0)
    zt = torch.tensor(z, requires_grad=True)
    multitask_loss(zt, torch.tensor(y), torch.tensor(mask)).backward()
    expected = (1 / (1 + np.exp(-z)) - y) * mask / 6  # dJ/dz_ij = (sigma(z_ij) - y_ij) m_ij / m
    assert rel_error(zt.grad.numpy(), expected) < 1e-12
    numeric = numerical_gradient(lambda v: multitask_loss_np(v, y, mask), z.copy())
    assert rel_error(zt.grad.numpy(), numeric) < 1e-7
    assert np.all(zt.grad.numpy()[~mask] == 0)  # no gradient through a missing label


def test_torch_loss_keeps_float32_and_accepts_a_boolean_mask():
    z, y, mask = problem(seed=5)
    out = multitask_loss(torch.tensor(z, dtype=torch.float32), torch.tensor(y), torch.tensor(mask))
    assert out.dtype == torch.float32
    assert out.item() == pytest.approx(multitask_loss_np(z, y, mask), rel=1e-5)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_loss_bad_inputs(backend):
    def call(z, y, mask=None):
        if backend == "numpy":
            return multitask_loss_np(z, y, mask)

        def as_t(a):
            return None if a is None else torch.as_tensor(np.asarray(a))

        return multitask_loss(as_t(np.asarray(z, dtype=float)), as_t(y), as_t(mask))

    z, y = np.zeros((2, 3)), np.zeros((2, 3), dtype=int)
    with pytest.raises(ValueError, match="y must have the shape of logits"):
        call(z, y[:, :2])
    with pytest.raises(ValueError, match="mask must have the shape of logits"):
        call(z, y, np.ones((2, 2)))
    with pytest.raises(ValueError, match="m >= 1"):
        call(np.zeros((0, 3)), np.zeros((0, 3), dtype=int))
    with pytest.raises(ValueError, match="logits must"):
        call(np.zeros(3), np.zeros(3, dtype=int))
    if backend == "numpy":
        # the torch loss runs every training step: it leaves the values to this door
        with pytest.raises(ValueError, match="y where the mask is 1 must contain only 0 and 1"):
            call(z, y + 2, np.ones((2, 3)))
        with pytest.raises(ValueError, match="mask must contain only 0 and 1"):
            call(z, y, np.full((2, 3), 0.5))
    else:
        with pytest.raises(TypeError, match="logits must be a floating-point"):
            multitask_loss(np.zeros((2, 3)), torch.zeros(2, 3))


# --- the networks -----------------------------------------------------------------------------


def test_shared_trunk_net_shapes_and_heads_by_hand():
    seed_everything(0)
    net = SharedTrunkNet(num_tasks=5, in_channels=2, width=4)
    x = torch.rand(3, 2, 24, 20)
    z = net(x)
    assert z.shape == (3, 5)
    features = net.trunk(x)  # [3, 8, 6, 5]
    assert features.shape == (3, 8, 6, 5)
    w, b = net.heads.weight[:, :, 0, 0], net.heads.bias  # [5, 8], [5]
    by_hand = torch.einsum("kc,nchw->nkhw", w, features) + b[None, :, None, None]
    torch.testing.assert_close(z, by_hand.amax(dim=(2, 3)))


def test_every_task_trains_the_same_trunk_and_only_its_own_head():
    seed_everything(0)
    net = SharedTrunkNet(num_tasks=3, width=4)
    x = torch.rand(4, 1, 12, 12)
    trunk_grads = []
    for j in range(3):
        net.zero_grad()
        net(x)[:, j].sum().backward()
        grad = net.trunk[0].weight.grad
        assert grad is not None and grad.abs().sum() > 0  # task j reaches the shared trunk
        trunk_grads.append(grad.clone())
        head = net.heads.weight.grad[:, :, 0, 0]
        assert head[j].abs().sum() > 0
        assert torch.all(head[np.arange(3) != j] == 0)  # and no other task's head
    assert not torch.allclose(trunk_grads[0], trunk_grads[1])
    shared = {id(p) for p in net.trunk.parameters()}
    assert len(shared) == 6  # three convolutions, weight and bias each, one copy for all tasks


def test_separate_nets_are_independent_networks():
    seed_everything(0)
    nets = SeparateNets(num_tasks=3, width=4)
    x = torch.rand(4, 1, 12, 12)
    z = nets(x)
    torch.testing.assert_close(z, torch.cat([net(x) for net in nets.nets], dim=1))
    y, mask = torch.tensor([[1, 0, 1]] * 4), torch.tensor([[1, 1, 0]] * 4)
    multitask_loss(z, y, mask).backward()
    # task 2's labels are all masked: its network receives no gradient at all
    assert all(p.grad.abs().sum() > 0 for p in nets.nets[0].parameters())
    assert all(p.grad is None or torch.all(p.grad == 0) for p in nets.nets[2].parameters())
    # with one task each, the two designs have the same parameters per task
    assert sum(p.numel() for p in nets.nets[0].parameters()) == sum(
        p.numel() for p in SharedTrunkNet(1, width=4).parameters()
    )


def test_networks_reject_bad_arguments_and_inputs():
    for kwargs, message in [
        ({"num_tasks": 0}, "num_tasks must be an integer >= 1"),
        ({"num_tasks": 2, "width": 2.5}, "width must be an integer >= 1"),
        ({"num_tasks": 2, "in_channels": True}, "in_channels must be an integer >= 1"),
    ]:
        with pytest.raises(ValueError, match=message):
            SharedTrunkNet(**kwargs)
    with pytest.raises(ValueError, match=r"x must have shape \[N, 1, H, W\]"):
        SharedTrunkNet(2)(torch.zeros(2, 3, 12, 12))
    with pytest.raises(ValueError, match="at least 4×4 pixels"):
        SharedTrunkNet(2)(torch.zeros(2, 1, 3, 12))
    with pytest.raises(ValueError, match="num_tasks must be an integer >= 1"):
        SeparateNets(0)


def test_the_loss_trains_a_shared_net_through_fit_with_missing_labels():
    x, y = make_scenes(64, size=12, kinds=("disc", "cross"), seed=0)
    mask = np.random.default_rng(1).random(y.shape) < 0.7  # independent of the labels
    seed_everything(0)
    net = SharedTrunkNet(num_tasks=2, width=4)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    loader = make_loader(x, y, mask, batch_size=16, shuffle=True)
    history = fit(net, multitask_loss, optimizer, loader, epochs=30, progress=False)
    assert history["train_loss"][-1] < 0.5 * history["train_loss"][0]


# --- the metric -------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
def test_task_scores_match_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    y, y_pred = rng.integers(0, 2, (50, 4)), rng.integers(0, 2, (50, 4))
    y_pred[:, 3] = 0  # a task with no positive prediction: precision 0/0
    ours = task_scores(y, y_pred)
    p, r, f, _ = precision_recall_fscore_support(y, y_pred, average=None, zero_division=1.0)
    np.testing.assert_allclose(ours["precision"], p, rtol=1e-12)
    np.testing.assert_allclose(ours["recall"], r, rtol=1e-12)
    np.testing.assert_allclose(ours["f1"], f, rtol=1e-12)
    np.testing.assert_allclose(ours["accuracy"], (y == y_pred).mean(axis=0), rtol=1e-12)


def test_task_scores_by_hand():
    # task 0: TP = 2, FP = 1, FN = 1 -> precision 2/3, recall 2/3, F1 = 4 / (4 + 1 + 1) = 2/3
    # task 1: no positive label and none predicted -> precision = recall = F1 = 1 by definition
    y = np.array([[1, 0], [1, 0], [1, 0], [0, 0]])
    y_pred = np.array([[1, 0], [1, 0], [0, 0], [1, 0]])
    scores = task_scores(y, y_pred)
    np.testing.assert_allclose(scores["f1"], [2 / 3, 1.0])
    np.testing.assert_allclose(scores["accuracy"], [0.5, 1.0])
    with pytest.raises(ValueError, match="y_pred must have the shape of y"):
        task_scores(y, y_pred[:, :1])
    with pytest.raises(ValueError, match="y_pred must contain only 0 and 1"):
        task_scores(y, y_pred * 2)
    with pytest.raises(ValueError, match="at least one example"):
        task_scores(y[:0], y_pred[:0])
