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
    """How many numbers a model holds, and how many of them training may change.

    ``total (int)``: every parameter entry; ``trainable (int)``: those with ``requires_grad``.

    Oracle: hand counts from the layer sizes, e.g. 84 * 5 + 5 = 425 for a new LeNet-5 head
    (tests/test_transfer.py).
    Reference: ``sum(p.numel() for p in model.parameters())``, the usual PyTorch idiom.
    """

    total: int
    trainable: int


def count_parameters(model: nn.Module) -> ParameterCount:
    """Count a model's parameters, all of them and the trainable ones.

        total = sum over parameters p of numel(p)
        trainable = sum over parameters p with p.requires_grad of numel(p)

    A parameter shared by two layers is counted once (``model.parameters()`` yields it once).

    Args:
        model (nn.Module): any PyTorch model.

    Returns:
        ParameterCount: ``(total, trainable)``, two ints.

    Oracle: counts by hand from the layer shapes, (in + 1) * out for a linear layer and
    F * (C * f * f + 1) for a convolution (tests/test_transfer.py).
    Reference: PyTorch, ``torch.nn.Module.parameters``,
    https://pytorch.org/docs/stable/generated/torch.nn.Module.html
    """
    _check_model(model)
    total = trainable = 0
    for p in model.parameters():
        total += p.numel()
        trainable += p.numel() if p.requires_grad else 0
    return ParameterCount(total, trainable)


def trainable_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The parameters that training may change: those with ``requires_grad=True``.

    Give the optimizer these, ``torch.optim.Adam(trainable_parameters(model), lr)``, and not
    ``model.parameters()``: an optimizer that holds a frozen parameter does not change it today
    (it has no gradient), but it is one ``requires_grad_(True)`` away from doing so, and its
    state and weight decay are spent on numbers that are not being trained.

    Args:
        model (nn.Module): a model, possibly partly frozen.

    Returns:
        list[nn.Parameter]: in ``model.parameters()`` order.

    Raises:
        ValueError: when every parameter is frozen (there is nothing to train).

    Oracle: ``[p for _, p in model.named_parameters() if p.requires_grad]`` compared by identity
    with the parameters the tests froze (tests/test_transfer.py).
    Reference: PyTorch tutorial "Finetuning torchvision models" (parameters to update),
    https://pytorch.org/tutorials/beginner/finetuning_torchvision_models_tutorial.html
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

    Parameters are chosen by their names in ``model.named_parameters()``:

    - ``names``: a name prefix, or several. A prefix selects the parameters whose name is the
      prefix or starts with the prefix followed by a dot: ``"features"`` selects
      ``features.0.weight``, ``"classifier.5"`` selects ``classifier.5.weight`` and
      ``classifier.5.bias``, and ``"layer1"`` does not select ``layer10.0.weight``;
    - ``depth``: the parameters of the first ``depth`` top-level children
      (``model.named_children()``, in the order they were registered, which for the course's
      networks is the order the input goes through them);
    - neither: every parameter.

    Args:
        model (nn.Module): the model, changed in place.
        names (str | sequence of str | None): parameter-name prefixes; each must select at
            least one parameter.
        depth (int | None): how many top-level children, counted from the input, in
            [0, number of children].

    Returns:
        nn.Module: ``model`` itself, so that calls chain.

    Raises:
        TypeError: when ``model`` is not an ``nn.Module`` or a name is not a string.
        ValueError: when both ``names`` and ``depth`` are given, when a prefix selects nothing,
            or when ``depth`` is out of range.

    Oracle: autograd leaves ``.grad`` of a frozen parameter at ``None`` and torch.optim skips
    it; tests/test_transfer.py checks the weights are bit-for-bit unchanged after SGD and Adam
    steps with weight decay.
    Reference: Yosinski et al., "How transferable are features in deep neural networks?",
    NeurIPS 2014 (frozen and fine-tuned copies of the first n layers); PyTorch tutorial
    "Finetuning torchvision models",
    https://pytorch.org/tutorials/beginner/finetuning_torchvision_models_tutorial.html
    """
    for p in _select(model, names, depth):
        p.requires_grad_(False)
    return model


def unfreeze(
    model: nn.Module, names: str | Sequence[str] | None = None, *, depth: int | None = None
) -> nn.Module:
    """Make parameters trainable again (``requires_grad=True``), chosen as in :func:`freeze`.

    ``freeze(model)`` followed by ``unfreeze(model, "fc")`` leaves only the head trainable;
    ``freeze(model, depth=k)`` freezes the first ``k`` children and leaves the rest as it was.

    Args:
        model (nn.Module): the model, changed in place.
        names (str | sequence of str | None): parameter-name prefixes (see :func:`freeze`).
        depth (int | None): how many top-level children, counted from the input.

    Returns:
        nn.Module: ``model`` itself.

    Raises:
        TypeError, ValueError: as :func:`freeze`.

    Oracle: ``p.requires_grad`` of every parameter compared with the names the tests expect,
    and a gradient step that changes exactly the unfrozen ones (tests/test_transfer.py).
    Reference: Howard & Ruder, "Universal language model fine-tuning for text classification",
    ACL 2018 (unfreezing layer groups one at a time, from the head down).
    """
    for p in _select(model, names, depth):
        p.requires_grad_(True)
    return model


def head_name(model: nn.Module) -> str:
    """The qualified name of a classifier's head: the linear layer that outputs the classes.

    In order: the attribute ``fc`` when it is an ``nn.Linear`` (ResNet, GoogLeNet); otherwise
    the last ``nn.Linear`` inside ``classifier`` (LeNet-5, AlexNet, VGG); otherwise the last
    ``nn.Linear`` of the whole model in registration order (e.g. an ``nn.Sequential``).

    Args:
        model (nn.Module): a classifier.

    Returns:
        str: e.g. ``"fc"``, ``"classifier.5"`` (LeNet-5), ``"classifier.6"`` (AlexNet, VGG).

    Raises:
        TypeError: when ``model`` is not an ``nn.Module``.
        ValueError: when the model holds no ``nn.Linear``.

    Oracle: the layer names of torchvision's model definitions (``fc`` of ResNet,
    ``classifier[6]`` of AlexNet and VGG) written out in tests/test_transfer.py.
    Reference: torchvision.models (resnet.py, vgg.py, alexnet.py, googlenet.py).
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
    """Swap the head (see :func:`head_name`) for a fresh ``nn.Linear(in_features, num_classes)``.

        old head: z = W_A phi(x) + b_A,  W_A (Tensor[C_A, d])
        new head: z = W_B phi(x) + b_B,  W_B (Tensor[num_classes, d]), PyTorch's default
                  initialisation, uniform in [-1/sqrt(d), 1/sqrt(d)]

    The features ``phi(x)`` (of size ``d = in_features``) are untouched; the new layer has a bias
    when the old one had one, sits on the old one's device and dtype, and is trainable whatever
    the rest of the model is. The random numbers come from PyTorch's global generator (seed it
    with ``mlnotes.core.seed_everything``).

    Args:
        model (nn.Module): a classifier, changed in place.
        num_classes (int): the number of classes of the new task, >= 1.

    Returns:
        nn.Module: ``model`` itself, now with outputs ``Tensor[N, num_classes]``.

    Raises:
        TypeError: when ``model`` is not an ``nn.Module``.
        ValueError: when ``num_classes`` is not a positive integer, or the model has no linear
            layer.

    Oracle: ``model(x).shape == (N, num_classes)`` for each model family, and the head's
    ``in_features`` read from the architecture tables of chapter 6 (tests/test_transfer.py).
    Reference: PyTorch tutorial "Finetuning torchvision models" (reshaping the network),
    https://pytorch.org/tutorials/beginner/finetuning_torchvision_models_tutorial.html
    """
    _check_model(model)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
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
    """Train the trainable parameters of ``model`` with Adam, by ``mlnotes.train.fit``.

    With every parameter trainable and pretrained weights this is fine-tuning, gradient descent
    that starts from theta_A instead of a random theta; with all but the head frozen it is
    softmax regression on the fixed features phi_A(x):

        theta_B <- theta_B - lr * Adam step of dJ_B/dtheta_B,  theta_B = trainable parameters

    The optimizer receives :func:`trainable_parameters` only, so weight decay cannot reach
    the frozen ones.

    Args:
        model (nn.Module): the model to train, changed in place.
        train_loader (TensorLoader): yields ``(x (Tensor[N, ...]), y (Tensor[N]))`` batches.
        epochs (int): passes over ``train_loader``.
        lr (float): Adam's learning rate, > 0.
        weight_decay (float): Adam's L2 penalty coefficient, >= 0.
        loss_fn (callable): ``(logits (Tensor[N, C]), y (Tensor[N])) -> Tensor[]``; the
            cross-entropy by default.
        val_loader (TensorLoader | None): scored after each epoch (loss and accuracy).
        device (torch.device | str): where to train.
        progress (bool): show fit's tqdm bar.

    Returns:
        dict[str, list[float]]: fit's history, ``"train_loss"`` per epoch, and ``"val_loss"``,
        ``"val_accuracy"`` with ``val_loader``.

    Raises:
        ValueError: for a non-positive ``lr``, a negative ``weight_decay``, or a model with
            nothing to train.

    Oracle: tests/test_transfer.py checks that frozen weights come out bit-for-bit unchanged
    while the others move, and that the loss falls.
    Reference: Yosinski et al., NeurIPS 2014; Kingma & Ba, "Adam: a method for stochastic
    optimization", ICLR 2015.
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
