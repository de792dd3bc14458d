"""A layer-by-layer table of a network: output shape, parameters and multiply-adds per layer,
like the layer tables of the LeNet, AlexNet and VGG papers (torchinfo's ``summary``,
https://github.com/TylerYep/torchinfo, prints a similar one)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from mlnotes.core import check_scalar
from mlnotes.transfer import count_parameters


@dataclass(frozen=True)
class SummaryRow:
    """One call of one module during the forward pass."""

    name: str  # the module's name in the model ("features.0", "layer1.0.conv1")
    kind: str  # its class name ("Conv2d")
    output_shape: tuple[int, ...]  # without the batch dimension
    parameters: int | None  # its parameters (recursively); None when called before
    mult_adds: int  # multiply-adds of this call (convolutions and linear layers only)


@dataclass(frozen=True)
class Summary:
    """The rows of :func:`summary` and the model's totals; ``str()`` formats the table."""

    rows: list[SummaryRow]
    input_size: tuple[int, ...]
    total_parameters: int
    trainable_parameters: int
    total_mult_adds: int

    def __str__(self) -> str:
        header = ("layer", "type", "output shape", "parameters", "mult-adds")
        lines = [
            (
                r.name,
                r.kind,
                " × ".join(map(str, r.output_shape)),
                "(shared)" if r.parameters is None else f"{r.parameters:,}",
                f"{r.mult_adds:,}" if r.mult_adds else "",
            )
            for r in self.rows
        ]
        widths = [max(len(row[i]) for row in [header, *lines]) for i in range(5)]
        fmt = "  ".join(f"{{:{'<' if i < 3 else '>'}{w}}}" for i, w in enumerate(widths))
        rule = "-" * (sum(widths) + 8)
        return "\n".join(
            [fmt.format(*header), rule, *(fmt.format(*line) for line in lines), rule]
            + [
                f"input: {' × '.join(map(str, self.input_size))}",
                f"parameters: {self.total_parameters:,} ({self.trainable_parameters:,} trainable)",
                f"multiply-adds per example: {self.total_mult_adds:,}",
            ]
        )


def summary(model: nn.Module, input_size, depth: int | None = None) -> Summary:
    """Tabulate the layers of ``model`` run (in ``eval()`` mode, then restored, without
    gradients) on one example of ``input_size`` (its shape without the batch, e.g. ``(1, 32, 32)``).

    Each row is one call of a module that is a leaf (has no children) or sits ``depth`` levels
    below the model (``depth=1``: the model's direct children; ``None``: every leaf).
    Parameters are those of the module and its children, counted at its first call;
    multiply-adds apply chapter 5's rule (``mlnotes.conv.conv2d_multiplications``) to the
    output each convolution actually produced, and count ``in × out`` for a linear layer:

        conv:  C_out × H' × W' × (C_in / groups) × k_h × k_w
    """
    counts = count_parameters(model)
    input_size = tuple(input_size)
    if not input_size or any(not isinstance(n, int) or n < 1 for n in input_size):
        raise ValueError(f"input_size must be positive ints like (3, 224, 224), got {input_size}")
    if depth is not None:
        check_scalar(depth, "depth", low=1, integer=True)
    rows: list[SummaryRow] = []
    seen: set[str] = set()
    done = 0  # multiply-adds of the convolutions and linear layers run so far
    started: dict[str, list[int]] = {}

    def count(module: nn.Module, inputs, output):
        nonlocal done
        done += _mult_adds(module, output)

    def start(name: str):
        return lambda module, inputs: started.setdefault(name, []).append(done)

    def record(name: str):
        def hook(module: nn.Module, inputs, output):
            params = None if name in seen else count_parameters(module).total
            seen.add(name)
            shape = tuple(output.shape[1:])
            rows.append(
                SummaryRow(name, type(module).__name__, shape, params, done - started[name].pop())
            )

        return hook

    handles = [m.register_forward_hook(count) for m in model.modules()]
    for name, module in model.named_modules():
        if (name and _is_row(name, module, depth)) or _is_leaf(model):
            name = name or type(module).__name__  # a model that is a single layer
            handles.append(module.register_forward_pre_hook(start(name)))
            handles.append(module.register_forward_hook(record(name)))
    was_training = model.training
    try:
        param = next(model.parameters(), None)
        x = torch.zeros((1, *input_size), device=None if param is None else param.device)
        with torch.no_grad():
            model.eval()(x)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return Summary(rows, input_size, counts.total, counts.trainable, done)


def _is_row(name: str, module: nn.Module, depth: int | None) -> bool:
    level = name.count(".") + 1
    return (_is_leaf(module) and (depth is None or level <= depth)) or level == depth


def _is_leaf(module: nn.Module) -> bool:
    return next(module.children(), None) is None


def _mult_adds(module: nn.Module, output: torch.Tensor) -> int:
    if isinstance(module, nn.Conv2d):
        per_output = module.in_channels // module.groups * math.prod(module.kernel_size)
        return output[0].numel() * per_output
    if isinstance(module, nn.Linear):
        return module.in_features * module.out_features
    return 0
