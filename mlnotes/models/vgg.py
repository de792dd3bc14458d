"""VGG: only 3×3 convolutions and 2×2 max pooling.

The family is one configuration table: each entry lists the output channels of the 3×3
convolutions in order, with ``"M"`` for a 2×2 max pooling.

Reference: K. Simonyan, A. Zisserman, "Very deep convolutional networks for large-scale image
recognition", ICLR 2015 (Table 1, Section 2.1).
"""

from __future__ import annotations

import torch
from torch import nn

from mlnotes.core import check_images, check_scalar
from mlnotes.models.weights import he_init, load_weights

# Table 1 of the paper, configurations A, B, D and E.
VGG_CONFIGS: dict[str, list[int | str]] = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M"] + [512, 512, 512, "M"] * 2,
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M"] + [512, 512, 512, 512, "M"] * 2,
}


def make_features(config: list[int | str], in_channels: int = 3) -> nn.Sequential:
    """The convolutional part of a VGG: a 3×3 convolution (padding 1) + ReLU per number in
    ``config``, a 2×2 max pooling (stride 2) per ``"M"``. Each pooling halves the height and width,
    the next block doubles the channels: 224 × 224 × 64 → 112 × 112 × 128 → ... → 7 × 7 × 512."""
    layers: list[nn.Module] = []
    channels = in_channels
    for item in config:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(channels, item, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            channels = item
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """A VGG: ``make_features(config)`` (a :data:`VGG_CONFIGS` entry), an adaptive average pooling
    to 7×7, and three fully connected layers 25088 → 4096 → 4096 → ``num_classes``.

    89 % of VGG-16's parameters are in the fully connected layers (102,764,544 in the first).
    Shapes: ``x (Tensor[N, in_channels, H, W]) -> logits (Tensor[N, num_classes])``, H, W >= 32.
    """

    def __init__(self, config, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5):
        super().__init__()
        check_scalar(num_classes, "num_classes", low=1, integer=True)
        check_scalar(in_channels, "in_channels", low=1, integer=True)
        self.in_channels = in_channels
        self.features = make_features(config, in_channels)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        he_init(self)
        for m in self.classifier:
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.in_channels, min_size=32)
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def _vgg(name: str, num_classes: int, in_channels: int, weights) -> VGG:
    model = VGG(VGG_CONFIGS[name], num_classes=num_classes, in_channels=in_channels)
    return load_weights(model, name, weights, num_classes=num_classes, in_channels=in_channels)


def vgg11(num_classes: int = 1000, in_channels: int = 3, weights: str | None = None) -> VGG:
    """VGG-11 (configuration A: 8 convolutions); 132,863,336 parameters for 1000 classes."""
    return _vgg("vgg11", num_classes, in_channels, weights)


def vgg16(num_classes: int = 1000, in_channels: int = 3, weights: str | None = None) -> VGG:
    """VGG-16 (configuration D: 13 convolutions); 138,357,544 parameters for 1000 classes."""
    return _vgg("vgg16", num_classes, in_channels, weights)


def vgg19(num_classes: int = 1000, in_channels: int = 3, weights: str | None = None) -> VGG:
    """VGG-19 (configuration E: 16 convolutions); 143,667,240 parameters for 1000 classes."""
    return _vgg("vgg19", num_classes, in_channels, weights)
