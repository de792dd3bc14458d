"""AlexNet, in torchvision's single-GPU form.

Reference: A. Krizhevsky, I. Sutskever, G. Hinton, "ImageNet classification with deep
convolutional neural networks", NeurIPS 2012; A. Krizhevsky, "One weird trick for
parallelizing convolutional neural networks", arXiv:1404.5997, 2014.
"""

from __future__ import annotations

import torch
from torch import nn

from mlnotes.core import check_images, check_scalar
from mlnotes.models.weights import load_weights


class AlexNet(nn.Module):
    """Five convolutions and three fully connected layers; 61,100,840 parameters for 1000 classes.

    =====================  =================  ===========
    layer                  output (224 in)    parameters
    =====================  =================  ===========
    conv 64 @ 11×11, s4    64 × 55 × 55       23,296
    max pool 3×3, s2       64 × 27 × 27       0
    conv 192 @ 5×5         192 × 27 × 27      307,392
    max pool 3×3, s2       192 × 13 × 13      0
    conv 384 @ 3×3         384 × 13 × 13      663,936
    conv 256 @ 3×3         256 × 13 × 13      884,992
    conv 256 @ 3×3         256 × 13 × 13      590,080
    max pool 3×3, s2       256 × 6 × 6        0
    fc 9216 → 4096         4096               37,752,832
    fc 4096 → 4096         4096               16,781,312
    fc 4096 → classes      1000               4,097,000
    =====================  =================  ===========

    The paper's network had 96, 256, 384, 384 and 256 filters split over two GPUs, and local
    response normalisation; this is the one-GPU variant of Krizhevsky's "One weird trick" paper
    that torchvision ships. An adaptive average pooling to 6×6 lets inputs other than 224×224
    (at least 63×63) reach the classifier.
    Shapes: ``x (Tensor[N, in_channels, H, W]) -> logits (Tensor[N, num_classes])``.
    """

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5):
        super().__init__()
        check_scalar(num_classes, "num_classes", low=1, integer=True)
        check_scalar(in_channels, "in_channels", low=1, integer=True)
        self.in_channels = in_channels
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.in_channels, min_size=63)
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def alexnet(num_classes: int = 1000, in_channels: int = 3, weights: str | None = None) -> AlexNet:
    """An :class:`AlexNet`, with ``weights`` as in :func:`load_weights`."""
    model = AlexNet(num_classes=num_classes, in_channels=in_channels)
    return load_weights(model, "alexnet", weights, num_classes=num_classes, in_channels=in_channels)
