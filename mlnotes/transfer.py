"""Transfer learning (chapter 3): reuse a network trained on a task A for a new task B.

A network trained on A is a feature extractor ``phi_A`` followed by a head (its last linear layer):

    y_hat = softmax(W phi_A(x) + b)

For task B the head is replaced by a fresh linear layer with B's number of classes
(:func:`replace_head`), and then, depending on how much data B has:

- little data: **freeze** everything but the new head (:func:`freeze`, :func:`unfreeze`), which
  makes the model softmax regression on the fixed features ``phi_A(x)``;
- more data: also retrain the last few layers (freeze by name, or the first ``depth`` children);
- lots of data: **fine-tune** every layer, starting from A's weights rather than random ones.

Frozen parameters have ``requires_grad=False``: autograd gives them no gradient and the optimizer
is given only the others (:func:`trainable_parameters`), so they keep A's values exactly.
:func:`fine_tune` trains whatever is left trainable with the course's one loop,
``mlnotes.train.fit``; :func:`count_parameters` says how many parameters that is.

Freezing concerns *parameters*. A batch-norm layer also keeps running statistics (buffers) that
``model.train()`` keeps updating even when its parameters are frozen; put such layers in
``eval()`` mode, or accept that the normalisation adapts to task B.

Reference: J. Yosinski, J. Clune, Y. Bengio, H. Lipson, "How transferable are features in deep
neural networks?", NeurIPS 2014.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from mlnotes.core import check_scalar
from mlnotes.train import TensorLoader, accuracy, fit

__all__ = [
    "ParameterCount",
    "count_parameters",
    "fine_tune",
    "freeze",
    "head_name",
    "replace_head",
    "trainable_parameters",
    "unfreeze",
]


class ParameterCount(NamedTuple):
    """How many numbers a model holds (``total``), and how many training may change
    (``trainable``: those with ``requires_grad``)."""

    total: int
    trainable: int


def count_parameters(model: nn.Module) -> ParameterCount:
    """Count a model's parameters, a shared one once (``model.parameters()`` yields it once):

    total = sum over parameters p of numel(p)
    trainable = sum over parameters p with p.requires_grad of numel(p)
    """
    _check_model(model)
    params = list(model.parameters())
    return ParameterCount(
        sum(p.numel() for p in params), sum(p.numel() for p in params if p.requires_grad)
    )


def trainable_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The parameters that training may change, those with ``requires_grad=True``, in
    ``model.parameters()`` order.

    Give the optimizer these, ``torch.optim.Adam(trainable_parameters(model), lr)``, and not
    ``model.parameters()``: an optimizer that holds a frozen parameter does not change it today
    (it has no gradient), but it is one ``requires_grad_(True)`` away from doing so, and its
    state and weight decay are spent on numbers that are not being trained.
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

    - ``names``: a name prefix of ``model.named_parameters()``, or several, each selecting at
      least one parameter. A prefix selects the parameters whose name is the prefix or starts
      with the prefix followed by a dot: ``"classifier.5"`` selects ``classifier.5.weight`` and
      ``classifier.5.bias``, and ``"layer1"`` does not select ``layer10.0.weight``;
    - ``depth``: the parameters of the first ``depth`` top-level children
      (``model.named_children()``, in the order they were registered, which for the course's
      networks is the order the input goes through them);
    - neither: every parameter.
    """
    for p in _select(model, names, depth):
        p.requires_grad_(False)
    return model


def unfreeze(
    model: nn.Module, names: str | Sequence[str] | None = None, *, depth: int | None = None
) -> nn.Module:
    """Make parameters trainable again (``requires_grad=True``), chosen as in :func:`freeze`.

    ``freeze(model)`` followed by ``unfreeze(model, "fc")`` leaves only the head trainable.
    """
    for p in _select(model, names, depth):
        p.requires_grad_(True)
    return model


def head_name(model: nn.Module) -> str:
    """The qualified name of a classifier's head, the linear layer that outputs the classes:
    ``fc`` when it is an ``nn.Linear`` (ResNet, GoogLeNet); otherwise the last ``nn.Linear``
    inside ``classifier`` (``"classifier.5"`` for LeNet-5, ``"classifier.6"`` for AlexNet and
    VGG); otherwise the last ``nn.Linear`` of the whole model (e.g. an ``nn.Sequential``).
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
    """Swap the head (see :func:`head_name`) for a fresh ``nn.Linear(d, num_classes)``, in place:

        old head: z = W_A phi(x) + b_A,  W_A (Tensor[C_A, d])
        new head: z = W_B phi(x) + b_B,  W_B (Tensor[num_classes, d]), PyTorch's default
                  initialisation, uniform in [-1/sqrt(d), 1/sqrt(d)]

    The features ``phi(x)`` are untouched; the new layer has a bias when the old one had one,
    sits on the old one's device and dtype, and is trainable whatever the rest of the model is.
    Its random numbers come from PyTorch's global generator (``mlnotes.core.seed_everything``).
    """
    _check_model(model)
    check_scalar(num_classes, "num_classes", low=1, integer=True)
    name = head_name(model)
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name)
    old = getattr(parent, child)
    new = nn.Linear(
        old.in_features,
        num_classes,
        bias=old.bias is not None,
        device=old.weight.device,
        dtype=old.weight.dtype,
    )
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
    """Train the trainable parameters of ``model`` with Adam, by ``mlnotes.train.fit``; return
    fit's history.

        theta_B <- theta_B - lr * Adam step of dJ_B/dtheta_B,  theta_B = trainable parameters

    With every parameter trainable and pretrained weights this is fine-tuning, gradient descent
    that starts from theta_A instead of a random theta; with all but the head frozen it is
    softmax regression on the fixed features phi_A(x). The optimizer receives
    :func:`trainable_parameters` only, so weight decay cannot reach the frozen ones.
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
    """The parameters that ``names`` (prefixes) or ``depth`` (first children) choose."""
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
