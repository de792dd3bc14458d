"""Multi-task learning (chapter 4): the masked multi-task loss, shared and separate networks.

K binary labels per example, ``y [m, K]``, one logit per task, ``z [m, K]``, and a mask
``[m, K]``, 1 where a label is known, 0 where it is missing; ``y_hat_ij = sigma(z_ij)``.

    J = (1/m) sum_i sum_{j : mask_ij = 1} L(y_hat_ij, y_ij),
    L(y_hat, y) = -(y log y_hat + (1 - y) log(1 - y_hat))

References: Caruana (1997), "Multitask learning"; Ruder (2017), "An overview of multi-task
learning in deep neural networks"; van Rijsbergen (1979), *Information Retrieval*, ch. 7 (F1).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mlnotes.core import (
    as_binary_labels,
    as_float_array,
    check_float_tensor,
    check_images,
    check_scalar,
)
from mlnotes.data.scenes import KINDS, Shape, draw_shape, make_scenes
from mlnotes.linear import logistic_loss

__all__ = [
    "KINDS",
    "SeparateNets",
    "SharedTrunkNet",
    "Shape",
    "draw_shape",
    "make_scenes",
    "multitask_loss",
    "multitask_loss_np",
    "task_scores",
]


def multitask_loss_np(logits, y, mask=None) -> float:
    """The multi-task logistic cost J, in NumPy, from ``logits [m, K]``.

        J = (1/m) sum_i sum_j mask_ij L(z_ij, y_ij),
        L(z, y) = log(1 + exp(z)) - y z = max(z, 0) - y z + log(1 + exp(-|z|))   (no overflow)

    Divided by ``m``, not by the number of known labels: for K = 1 it is chapter 1's cost. ``y``
    is 0 or 1 where ``mask`` is 1, any finite number (e.g. -1) where it is 0; ``mask=None``:
    every label is known.
    """
    logits = as_float_array(logits, "logits", ndim=2)
    _check_shapes(logits.shape, np.shape(y), None if mask is None else np.shape(mask))
    mask = np.ones(logits.shape) if mask is None else as_binary_labels(mask, "mask", ndim=2)
    known = mask == 1
    y = as_float_array(y, "y", ndim=2)
    as_binary_labels(y[known], "y where the mask is 1")
    losses = logistic_loss(logits, np.where(known, y, 0.0))  # [m, K]
    return float(np.sum(losses * mask) / logits.shape[0])


def multitask_loss(logits: torch.Tensor, y: torch.Tensor, mask=None) -> torch.Tensor:
    """The J of :func:`multitask_loss_np` in PyTorch, differentiable, in ``logits``' dtype.

    ``mlnotes.train.fit`` calls it every step with a loader over ``(x, y, mask)``, so it checks
    shapes but not label values (that would make each step wait for the GPU): ``y`` must be 0 or
    1 where ``mask`` is 1.
    """
    check_float_tensor(logits, "logits")
    y = torch.as_tensor(y, device=logits.device)
    _check_shapes(logits.shape, y.shape, None if mask is None else np.shape(mask))
    known = (
        torch.ones(logits.shape, dtype=torch.bool, device=logits.device)
        if mask is None
        else torch.as_tensor(mask, device=logits.device) != 0
    )
    target = torch.where(known, y, torch.zeros_like(y)).to(logits.dtype)
    losses = F.binary_cross_entropy_with_logits(logits, target, reduction="none")  # [m, K]
    return torch.where(known, losses, torch.zeros_like(losses)).sum() / logits.shape[0]


def _check_shapes(logits_shape, y_shape, mask_shape) -> None:
    if len(logits_shape) != 2 or logits_shape[0] == 0:
        raise ValueError(f"logits must have shape [m, K] with m >= 1, got {tuple(logits_shape)}")
    for name, shape in (("y", y_shape), ("mask", mask_shape)):
        if shape is not None and tuple(shape) != tuple(logits_shape):
            raise ValueError(
                f"{name} must have the shape of logits {tuple(logits_shape)}, got {tuple(shape)}"
            )


class SharedTrunkNet(nn.Module):
    """A CNN trunk shared by all tasks (hard parameter sharing), one 1 x 1 head per task.

        a = trunk(x)                                       # [N, 2 width, H/4, W/4], shared
        z_j = max over positions p of (w_j^T a_p + b_j)    # [N, K]: "a kind-j object anywhere?"

    Scoring each position before pooling keeps one object's features together.
    ``x (Tensor[N, C, H, W])``, H, W >= 4 -> logits (``z_j >= 0``: ``y_hat_j >= 1/2``).
    """

    def __init__(self, num_tasks: int, in_channels: int = 1, width: int = 32):
        super().__init__()
        check_scalar(num_tasks, "num_tasks", low=1, integer=True)
        self.in_channels = check_scalar(in_channels, "in_channels", low=1, integer=True)
        check_scalar(width, "width", low=1, integer=True)
        self.trunk = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1),  # [N, w, H, W]
            nn.ReLU(),
            nn.MaxPool2d(2),  # [N, w, H/2, W/2]
            nn.Conv2d(width, 2 * width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # [N, 2w, H/4, W/4]
            nn.Conv2d(2 * width, 2 * width, 3, padding=1),
            nn.ReLU(),
        )
        self.heads = nn.Conv2d(2 * width, num_tasks, 1)  # row j of the weight: head j

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.in_channels, min_size=4)
        scores = self.heads(self.trunk(x))  # [N, K, H/4, W/4]: task j's score at each position
        return scores.amax(dim=(2, 3))  # [N, K]


class SeparateNets(nn.Module):
    """One network per task, sharing nothing: the single-task baseline.

        z_j = net_j(x),  net_j = SharedTrunkNet(num_tasks=1)       # [N, K]

    Network j's gradient under :func:`multitask_loss` is task j's alone, so training the K
    together on the same mini-batches is training each one separately.
    """

    def __init__(self, num_tasks: int, in_channels: int = 1, width: int = 16):
        super().__init__()
        check_scalar(num_tasks, "num_tasks", low=1, integer=True)
        self.nets = nn.ModuleList(SharedTrunkNet(1, in_channels, width) for _ in range(num_tasks))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([net(x) for net in self.nets], dim=1)


def task_scores(y, y_pred) -> dict[str, np.ndarray]:
    """``"accuracy"``, ``"precision"``, ``"recall"``, ``"f1"`` ``[K]`` of 0/1 ``y, y_pred [m, K]``.

        accuracy_j  = (TP + TN) / m
        precision_j = TP / (TP + FP),  recall_j = TP / (TP + FN)
        F1_j        = 2 TP / (2 TP + FP + FN)   (the harmonic mean of precision and recall)

    over column j. A ratio with denominator 0 is 1: nothing was claimed, or nothing to find.
    """
    y = as_binary_labels(y, "y", ndim=2)
    y_pred = as_binary_labels(y_pred, "y_pred", ndim=2)
    if y.shape != y_pred.shape or len(y) == 0:
        raise ValueError(
            f"y_pred must have the shape of y, with at least one example: got {y_pred.shape} "
            f"and {y.shape}"
        )
    tp = np.sum(y * y_pred, axis=0)  # [K]
    fp = np.sum((1 - y) * y_pred, axis=0)
    fn = np.sum(y * (1 - y_pred), axis=0)
    return {
        "accuracy": np.mean(y == y_pred, axis=0),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
    }


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.where(den > 0, num / np.maximum(den, 1), 1.0)
