"""Transfer learning (chapter 3): reuse a network trained on a task A for a new task B.

    y_hat = softmax(W_B phi_A(x) + b_B)       (A's features phi_A, a fresh head for B)

Little data: freeze all but the new head (softmax regression on fixed features); more: also
retrain the last layers; lots: fine-tune every layer from A's weights. Frozen parameters have
``requires_grad=False`` and are not given to the optimizer, so they keep A's values exactly. A
batch-norm layer's running statistics are buffers, not parameters: ``model.train()`` still
updates them unless the layer is put in ``eval()`` mode.

Reference: Yosinski et al., "How transferable are features in deep neural networks?" (2014).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from mlnotes.core import check_scalar
from mlnotes.train import TensorLoader, accuracy, fit


class ParameterCount(NamedTuple):
    """How many numbers a model holds, and how many training may change (``requires_grad``)."""

    total: int
    trainable: int


def count_parameters(model: nn.Module) -> ParameterCount:
    """Count a model's parameters, a shared one once (``model.parameters()`` yields it once).

    total = sum_p numel(p),   trainable = sum_{p : p.requires_grad} numel(p)
    """
    _check_model(model)
    params = list(model.parameters())
    return ParameterCount(
        sum(p.numel() for p in params), sum(p.numel() for p in params if p.requires_grad)
    )


def trainable_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The parameters with ``requires_grad=True``, in ``model.parameters()`` order.

    Give the optimizer these, not ``model.parameters()``: a frozen parameter it holds is one
    ``requires_grad_(True)`` away from changing, and its state and weight decay are wasted on it.
    """
    _check_model(model)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError(
            "model has no trainable parameter: every parameter has requires_grad=False "
            "(unfreeze some layers first)"
        )
    return params


def freeze(
    model: nn.Module, names: str | Sequence[str] | None = None, *, depth: int | None = None
) -> nn.Module:
    """Freeze parameters (``requires_grad=False``), chosen by name or by depth; return ``model``.

    ``names``: one or more prefixes of ``model.named_parameters()``, each matching the name or
    its start up to a dot (``"classifier.5"`` selects ``classifier.5.weight``; ``"layer1"`` not
    ``layer10.0.weight``). ``depth``: the first ``depth`` top-level children, in registration
    order (for the course's networks, the order the input goes through). Neither: everything.
    """
    for p in _select(model, names, depth):
        p.requires_grad_(False)
    return model


def unfreeze(
    model: nn.Module, names: str | Sequence[str] | None = None, *, depth: int | None = None
) -> nn.Module:
    """Make parameters trainable (``requires_grad=True``), chosen as in :func:`freeze`:
    ``unfreeze(freeze(model), "fc")`` leaves only the head trainable."""
    for p in _select(model, names, depth):
        p.requires_grad_(True)
    return model


def head_name(model: nn.Module) -> str:
    """The qualified name of a classifier's head: ``fc`` when it is an ``nn.Linear`` (ResNet),
    else the last ``nn.Linear`` in ``classifier`` (``"classifier.6"`` for VGG), else in the model.
    """
    _check_model(model)
    if isinstance(getattr(model, "fc", None), nn.Linear):
        return "fc"
    classifier = getattr(model, "classifier", None)
    for scope, prefix in ((classifier, "classifier."), (model, "")):
        if isinstance(scope, nn.Module):
            linear = [name for name, m in scope.named_modules() if isinstance(m, nn.Linear)]
            if linear:
                return prefix + linear[-1]
    raise ValueError(f"model ({type(model).__name__}) has no nn.Linear layer to serve as a head")


def replace_head(model: nn.Module, num_classes: int) -> nn.Module:
    """Swap the head (:func:`head_name`) for a fresh, trainable layer, in place; return ``model``.

        z = W_A phi(x) + b_A  ->  z = W_B phi(x) + b_B,   W_B (Tensor[num_classes, d])

    ``W_B`` has PyTorch's default initialisation (uniform in [-1/sqrt(d), 1/sqrt(d)], from the
    global generator); the bias, device and dtype follow the old head.
    """
    _check_model(model)
    check_scalar(num_classes, "num_classes", low=1, integer=True)
    name = head_name(model)
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name)
    old = getattr(parent, child)
    where = {"device": old.weight.device, "dtype": old.weight.dtype}
    new = nn.Linear(old.in_features, num_classes, bias=old.bias is not None, **where)
    setattr(parent, child, new)  # an nn.Sequential keeps the layer at its place
    return model


def fine_tune(
    model: nn.Module,
    train_loader: TensorLoader | Iterable,
    epochs: int,
    *,
    lr: float,
    weight_decay: float = 0.0,
    loss_fn: Callable[..., torch.Tensor] = F.cross_entropy,
    val_loader: TensorLoader | None = None,
    device: torch.device | str = "cpu",
    progress: bool = True,
) -> dict[str, list[float]]:
    """Train the trainable parameters with Adam by ``mlnotes.train.fit``; return its history.

        theta_B <- theta_B - lr * Adam step of dJ_B/dtheta_B,  theta_B = trainable parameters

    Everything trainable: fine-tuning from theta_A; all but the head frozen: softmax regression
    on phi_A(x). Weight decay reaches only :func:`trainable_parameters`.
    """
    _check_model(model)
    lr = check_scalar(lr, "lr", low=0, strict=True)
    weight_decay = check_scalar(weight_decay, "weight_decay", low=0)
    optimizer = torch.optim.Adam(trainable_parameters(model), lr=lr, weight_decay=weight_decay)
    return fit(
        model,
        loss_fn,
        optimizer,
        train_loader,
        epochs,
        val_loader=val_loader,
        metrics={"accuracy": accuracy},
        device=device,
        progress=progress,
    )


def _check_model(model) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")


def _select(model: nn.Module, names, depth) -> list[nn.Parameter]:
    _check_model(model)
    if names is not None and depth is not None:
        raise ValueError(f"give names or depth, not both (got names={names!r}, depth={depth!r})")
    if depth is not None:
        children = list(model.named_children())
        if isinstance(depth, bool) or not isinstance(depth, int) or not 0 <= depth <= len(children):
            raise ValueError(
                f"depth must be an integer in [0, {len(children)}] (the model's top-level "
                f"children: {[name for name, _ in children]}), got {depth!r}"
            )
        return [p for _, child in children[:depth] for p in child.parameters()]
    named = list(model.named_parameters())
    if names is None:
        return [p for _, p in named]
    prefixes = [names] if isinstance(names, str) else names
    if not isinstance(prefixes, Sequence) or not prefixes:
        raise TypeError(f"names must be a string or a non-empty sequence of strings, got {names!r}")
    chosen: dict[int, nn.Parameter] = {}
    for prefix in prefixes:
        if not isinstance(prefix, str):
            raise TypeError(f"names must hold strings, got {type(prefix).__name__} {prefix!r}")
        hits = [p for n, p in named if n == prefix or n.startswith(prefix + ".")]
        if not hits:
            tops = sorted({n.split(".", 1)[0] for n, _ in named})
            raise ValueError(
                f"names: no parameter of the model is named {prefix!r} or starts with "
                f"{prefix + '.'!r}; top-level names: {tops}"
            )
        chosen.update((id(p), p) for p in hits)
    return list(chosen.values())
