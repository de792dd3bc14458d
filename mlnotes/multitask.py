"""Multi-task learning (chapter 4): the masked multi-task loss, shared and separate networks.

Each example has K binary labels, one per task, ``y (ndarray[m, K])``, and the model outputs one
logit per task, ``z (ndarray[m, K])``; task j's probability is ``sigma(z[:, j])``, independently
of the other tasks. A mask ``(ndarray[m, K])`` marks which labels are known (1) or missing (0).

    J = (1/m) sum_i sum_{j : mask_ij = 1} L(y_hat_ij, y_ij),
    L(y_hat, y) = -(y log y_hat + (1 - y) log(1 - y_hat))

``SharedTrunkNet`` shares one trunk between the K tasks; ``SeparateNets`` trains one network per
task; ``task_scores`` measures each task; ``make_scenes`` (from ``mlnotes.data.scenes``) draws
the multi-label images of the chapter.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mlnotes.core import as_float_array, check_images, check_scalar
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
    """The multi-task logistic cost, in NumPy, from the logits of every example and task.

        J = (1/m) sum_{i=1}^{m} sum_{j=1}^{K} mask_ij L(z_ij, y_ij),
        L(z, y) = log(1 + exp(z)) - y z = max(z, 0) - y z + log(1 + exp(-|z|))

    which is ``-(y log y_hat + (1 - y) log(1 - y_hat))`` with ``y_hat = sigma(z)``, computed
    without overflow for any ``z``. The sum over tasks runs over the known labels only, and the
    total is divided by the number of examples ``m``, not by the number of known labels: this
    is the cost of the course notes, ``(1/m) sum_i sum_j L``, which for K = 1 is the logistic
    cost of chapter 1.

    Args:
        logits (ndarray[m, K]): one logit per example and task.
        y (ndarray[m, K]): labels in {0, 1} where ``mask`` is 1; entries where ``mask`` is 0
            are ignored (any finite number, e.g. -1 for "unknown").
        mask (ndarray[m, K] | None): 1 (or True) for a known label, 0 for a missing one;
            ``None`` means every label is known.

    Returns:
        float: the cost J.

    Reference: Caruana (1997), "Multitask learning", Machine Learning 28:41-75; Ng, Deep
    Learning Specialization, course 3 week 2 ("Multi-task learning").
    """
    logits, y, mask = _check_inputs_np(logits, y, mask)
    losses = logistic_loss(logits, y)  # [m, K]
    return float(np.sum(losses * mask) / logits.shape[0])


def multitask_loss(logits: torch.Tensor, y: torch.Tensor, mask=None) -> torch.Tensor:
    """The multi-task logistic cost in PyTorch: the same J as :func:`multitask_loss_np`.

        J = (1/m) sum_i sum_{j : mask_ij = 1} L(z_ij, y_ij)

    It divides by the number of examples ``m`` (the batch size), not by the number of known
    labels, and is differentiable in ``logits``. Its signature fits ``mlnotes.train.fit``: with a
    loader over ``(x, y, mask)`` the loop calls ``multitask_loss(model(x), y, mask)``.

    Args:
        logits (Tensor[m, K]): one logit per example and task.
        y (Tensor[m, K]): labels in {0, 1} where ``mask`` is 1 (any integer or float dtype);
            ignored where ``mask`` is 0.
        mask (Tensor[m, K] | None): 1 (or True) for a known label, 0 for a missing one.

    Returns:
        Tensor[]: the cost J, in ``logits``' dtype.

    Reference: Caruana (1997), "Multitask learning", Machine Learning 28:41-75; Ruder (2017),
    "An overview of multi-task learning in deep neural networks", arXiv:1706.05098.
    """
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point():
        raise TypeError(f"logits must be a floating-point Tensor, got {type(logits).__name__}")
    if logits.ndim != 2 or logits.shape[0] == 0:
        raise ValueError(f"logits must have shape [m, K] with m >= 1, got {tuple(logits.shape)}")
    y = torch.as_tensor(y, device=logits.device)
    if y.shape != logits.shape:
        raise ValueError(
            f"y must have the shape of logits {tuple(logits.shape)}, got {tuple(y.shape)}"
        )
    known = torch.ones_like(y, dtype=torch.bool) if mask is None else torch.as_tensor(mask)
    if known.shape != logits.shape:
        raise ValueError(
            f"mask must have the shape of logits {tuple(logits.shape)}, got {tuple(known.shape)}"
        )
    known = known.to(logits.device) != 0
    if not torch.all((y[known] == 0) | (y[known] == 1)):
        raise ValueError("y must contain only 0 and 1 where the mask marks a known label")
    target = torch.where(known, y, torch.zeros_like(y)).to(logits.dtype)
    losses = F.binary_cross_entropy_with_logits(logits, target, reduction="none")  # [m, K]
    return torch.where(known, losses, torch.zeros_like(losses)).sum() / logits.shape[0]


class SharedTrunkNet(nn.Module):
    """A CNN whose trunk is shared by all tasks, with one small head, one logit, per task.

        a = trunk(x)                                  # [N, 2 width, H/4, W/4], shared
        z_j = max over positions p of (w_j^T a_p + b_j),   j = 1..K          # [N, K]

    The trunk is three 3 x 3 convolutions with ReLU (``width``, ``2 width``, ``2 width``
    channels; 2 x 2 max pooling after the first two): the features every task uses. Head j is a
    linear function of the feature vector ``a_p`` at each position ``p`` (a 1 x 1 convolution),
    whose largest value over the image is task j's logit: "is there a kind-j object anywhere?".
    Reading each position before pooling keeps together the features of one object.

    The forward pass returns logits; the sigmoids are applied by the loss
    (:func:`multitask_loss`) and at prediction (``z_j >= 0`` means ``y_hat_j >= 1/2``). With
    ``num_tasks=1`` nothing is shared: it is an ordinary network for one task.

    Args:
        num_tasks (int): K, the number of binary tasks (outputs).
        in_channels (int): channels of the input images ``x (Tensor[N, C, H, W])``.
        width (int): channels of the trunk's first convolution.

    Reference: Caruana (1997), "Multitask learning", Machine Learning 28:41-75 (hard parameter
    sharing); Ruder (2017), arXiv:1706.05098, section 3.1.
    """

    def __init__(self, num_tasks: int, in_channels: int = 1, width: int = 32):
        super().__init__()
        for name, value in (("num_tasks", num_tasks), ("in_channels", in_channels)):
            check_scalar(value, name, low=1, integer=True)
        check_scalar(width, "width", low=1, integer=True)
        self.in_channels = in_channels
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
        """Logits ``z (Tensor[N, K])`` for images ``x (Tensor[N, C, H, W])``, H and W >= 4."""
        check_images(x, self.in_channels, min_size=4)
        scores = self.heads(self.trunk(x))  # [N, K, H/4, W/4]: task j's score at each position
        return scores.amax(dim=(2, 3))  # [N, K]


class SeparateNets(nn.Module):
    """One complete network per task, sharing nothing: the baseline of multi-task learning.

        z_j = net_j(x),  net_j = SharedTrunkNet(num_tasks=1),  j = 1..K       # [N, K]

    Trained with :func:`multitask_loss`, the gradient with respect to network j's parameters is
    the gradient of task j's loss alone, so training the K networks together, on the same
    mini-batches, is training each one separately on its own task.

    Args:
        num_tasks (int): K, the number of tasks and of networks.
        in_channels (int): channels of the input images ``x (Tensor[N, C, H, W])``.
        width (int): channels of the first convolution of each network.

    Reference: Caruana (1997), "Multitask learning", Machine Learning 28:41-75 (single-task
    learning, STL, as the baseline of multitask learning, MTL).
    """

    def __init__(self, num_tasks: int, in_channels: int = 1, width: int = 16):
        super().__init__()
        check_scalar(num_tasks, "num_tasks", low=1, integer=True)
        self.nets = nn.ModuleList(SharedTrunkNet(1, in_channels, width) for _ in range(num_tasks))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``z (Tensor[N, K])`` for images ``x (Tensor[N, C, H, W])``, H and W >= 4."""
        return torch.cat([net(x) for net in self.nets], dim=1)


def task_scores(y, y_pred) -> dict[str, np.ndarray]:
    """Accuracy, precision, recall and F1 of each task, from 0/1 labels and 0/1 predictions.

        accuracy_j  = (TP + TN) / m
        precision_j = TP / (TP + FP),  recall_j = TP / (TP + FN)
        F1_j        = 2 TP / (2 TP + FP + FN)   (the harmonic mean of precision and recall)

    counted over the m examples of column j. A ratio whose denominator is 0 (no positive
    prediction, or no positive label) is defined as 1: nothing was claimed, or nothing was
    there to find.

    Args:
        y (ndarray[m, K]): true labels in {0, 1}.
        y_pred (ndarray[m, K]): predicted labels in {0, 1}, e.g. ``logits >= 0``.

    Returns:
        dict[str, ndarray[K]]: ``"accuracy"``, ``"precision"``, ``"recall"``, ``"f1"``.

    Reference: van Rijsbergen (1979), *Information Retrieval*, chapter 7 (the F measure).
    """
    y = _binary_matrix(y, "y")
    y_pred = _binary_matrix(y_pred, "y_pred")
    if y.shape != y_pred.shape:
        raise ValueError(f"y_pred must have the shape of y {y.shape}, got {y_pred.shape}")
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


def _binary_matrix(a, name: str) -> np.ndarray:
    arr = as_float_array(a, name, ndim=2)
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one example, got shape {arr.shape}")
    if not np.all((arr == 0) | (arr == 1)):
        raise ValueError(f"{name} must contain only 0 and 1")
    return arr


def _check_inputs_np(logits, y, mask):
    logits = as_float_array(logits, "logits", ndim=2)
    if logits.shape[0] == 0:
        raise ValueError(f"logits must have shape (m, K) with m >= 1, got {logits.shape}")
    y = as_float_array(y, "y", ndim=2)
    if y.shape != logits.shape:
        raise ValueError(f"y must have the shape of logits {logits.shape}, got {y.shape}")
    mask = np.ones_like(y) if mask is None else as_float_array(mask, "mask", ndim=2)
    if mask.shape != logits.shape:
        raise ValueError(f"mask must have the shape of logits {logits.shape}, got {mask.shape}")
    if not np.all((mask == 0) | (mask == 1)):
        raise ValueError("mask must contain only 0 and 1 (or False and True)")
    known = mask == 1
    if not np.all((y[known] == 0) | (y[known] == 1)):
        raise ValueError("y must contain only 0 and 1 where the mask marks a known label")
    return logits, np.where(known, y, 0.0), mask
