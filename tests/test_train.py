"""mlnotes.train: the loop learns, its history is what it says, runs repeat, errors are clear."""

import numpy as np
import pytest
import torch
from torch import nn

from mlnotes.core import seed_everything
from mlnotes.train import accuracy, evaluate, fit, make_loader, predict


def regression_problem(n=200):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3  # exactly linear
    return X, y[:, None]


def train_once(epochs=30, seed=0):
    seed_everything(seed)
    X, y = regression_problem()
    model = nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = make_loader(X, y, batch_size=32, shuffle=True, seed=seed)
    history = fit(
        model,
        nn.functional.mse_loss,
        optimizer,
        loader,
        epochs,
        val_loader=make_loader(X, y, batch_size=50),
        progress=False,
    )
    return model, history


def test_fit_recovers_a_linear_map_and_records_every_epoch():
    model, history = train_once()
    assert set(history) == {"train_loss", "val_loss"}
    assert len(history["train_loss"]) == len(history["val_loss"]) == 30
    assert history["val_loss"][-1] < 1e-4 < history["val_loss"][0]
    np.testing.assert_allclose(model.weight.detach().numpy()[0], [1.0, -2.0, 0.5], atol=1e-2)
    assert model.bias.item() == pytest.approx(0.3, abs=1e-2)


def test_runs_repeat_exactly_with_the_same_seed():
    _, first = train_once(epochs=3, seed=1)
    _, second = train_once(epochs=3, seed=1)
    _, other = train_once(epochs=3, seed=2)
    assert first == second
    assert first != other


def test_evaluate_weights_batches_by_their_size():
    # batches of 4 and 1 examples: the mean over 5 examples, not the mean of two batch means
    X = torch.arange(5.0)[:, None]
    loader = make_loader(X, X, batch_size=4)
    scores = evaluate(nn.Identity(), loader, {"mean": lambda out, y: out.mean()})
    assert scores["mean"] == pytest.approx((0 + 1 + 2 + 3 + 4) / 5)


def test_targets_after_the_first_reach_the_loss():
    # a masked loss sees (outputs, y, mask): only the unmasked example counts
    X = torch.zeros(2, 1)
    y, mask = torch.tensor([[1.0], [5.0]]), torch.tensor([[1.0], [0.0]])

    def masked(out, y, mask):
        return ((out - y) ** 2 * mask).sum() / mask.sum()

    scores = evaluate(nn.Identity(), make_loader(X, y, mask, batch_size=2), {"loss": masked})
    assert scores["loss"] == pytest.approx(1.0)


def test_fit_metrics_and_predict():
    X = torch.tensor([[2.0, 0.0], [0.0, 2.0], [3.0, 1.0]])
    y = torch.tensor([0, 1, 1])
    model = nn.Identity()  # logits = inputs: predicts 0, 1, 0
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    history = fit(
        model,
        lambda out, y: (out.sum() * 0).requires_grad_(),
        opt,
        make_loader(X, y),
        1,
        val_loader=make_loader(X, y),
        metrics={"accuracy": accuracy},
        progress=False,
    )
    assert history["val_accuracy"] == [pytest.approx(2 / 3)]
    torch.testing.assert_close(predict(model, X, batch_size=2), X)


def test_make_loader_converts_dtypes_and_checks_lengths():
    x, y = next(iter(make_loader(np.zeros((2, 3)), np.array([0, 1]))))
    assert x.dtype == torch.float32 and y.dtype == torch.int64
    with pytest.raises(ValueError, match=r"tensors\[0\] has 2, tensors\[1\] has 3"):
        make_loader(np.zeros((2, 3)), np.zeros(3))
    for batch_size in (0, True, 2.0):
        with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
            make_loader(np.zeros(2), batch_size=batch_size)
    with pytest.raises(ValueError, match="at least one"):
        make_loader()


def test_bad_arguments():
    for epochs in (-1, True):
        with pytest.raises(ValueError, match="epochs must be an integer >= 0"):
            fit(nn.Identity(), None, None, make_loader(np.zeros(2)), epochs)
    with pytest.raises(ValueError, match="logits \\[N, C\\]"):
        accuracy(torch.zeros(3), torch.zeros(3))
    with pytest.raises(ValueError, match="no examples"):
        evaluate(nn.Identity(), make_loader(np.zeros((0, 1))), {"m": lambda o: o.sum()})


def test_loader_batches_cover_every_example_once_per_epoch():
    loader = make_loader(np.arange(10), batch_size=4, shuffle=True, seed=3)
    assert len(loader) == 3
    first = torch.cat([x for (x,) in loader])
    second = torch.cat([x for (x,) in loader])
    assert sorted(first.tolist()) == list(range(10)) == sorted(second.tolist())
    assert first.tolist() != second.tolist()  # a new order every epoch
    again = torch.cat(
        [x for (x,) in make_loader(np.arange(10), batch_size=4, shuffle=True, seed=3)]
    )
    assert again.tolist() == first.tolist()  # the same order for the same seed
    assert [len(x) for (x,) in make_loader(np.arange(10), batch_size=4)] == [4, 4, 2]
