"""LeNet-5: two convolution + pooling stages, three fully connected layers.

Reference: Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-based learning applied to
document recognition", Proc. IEEE 86(11), 1998 (Fig. 2).
"""

from __future__ import annotations

import torch
from torch import nn

from mlnotes.core import check_images, check_scalar


class LeNet5(nn.Module):
    """LeNet-5 for 32×32 images: about 60 thousand parameters (61,706 for 10 classes, 1 channel).

    ======  ==============================  ==============  ==========
    layer   operation                       output          parameters
    ======  ==============================  ==============  ==========
    C1      6 filters 5×5, stride 1         6 × 28 × 28     156
    S2      average pooling 2×2, stride 2   6 × 14 × 14     0
    C3      16 filters 5×5                  16 × 10 × 10    2,416
    S4      average pooling 2×2, stride 2   16 × 5 × 5      0
    C5      fully connected 400 → 120       120             48,120
    F6      fully connected 120 → 84        84              10,164
    output  fully connected 84 → classes    10              850
    ======  ==============================  ==============  ==========

    As in the paper, the activations are tanh and the pooling averages. Two simplifications
    that modern re-implementations share: C3 connects to all 6 maps of S2 (the paper wires each
    of its 16 maps to a chosen subset, 1,516 weights instead of 2,416), and the output layer is
    a linear layer read through softmax instead of the paper's Euclidean RBF units.
    Shapes: ``x (Tensor[N, in_channels, 32, 32]) -> logits (Tensor[N, num_classes])``.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1):
        super().__init__()
        check_scalar(num_classes, "num_classes", low=1, integer=True)
        check_scalar(in_channels, "in_channels", low=1, integer=True)
        self.in_channels = in_channels
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5),
            nn.Tanh(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, kernel_size=5),
            nn.Tanh(),
            nn.AvgPool2d(kernel_size=2, stride=2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120),
            nn.Tanh(),
            nn.Linear(120, 84),
            nn.Tanh(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.in_channels, height=32, width=32)
        return self.classifier(self.features(x))


def lenet5(num_classes: int = 10, in_channels: int = 1) -> LeNet5:
    """A :class:`LeNet5` (no published weights exist for it)."""
    return LeNet5(num_classes=num_classes, in_channels=in_channels)
