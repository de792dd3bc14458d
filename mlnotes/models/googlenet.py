"""GoogLeNet: a stack of Inception modules (without the auxiliary classifiers the paper trains).

Reference: C. Szegedy et al., "Going deeper with convolutions", CVPR 2015 (Fig. 2(b), Table 1).
"""

from __future__ import annotations

import torch
from torch import nn

from mlnotes.core import check_choice, check_images, check_scalar
from mlnotes.models.weights import IMAGENET_MEAN, IMAGENET_STD, load_weights


class BasicConv2d(nn.Module):
    """Convolution (no bias) → batch norm (eps 0.001) → ReLU."""

    def __init__(self, in_channels: int, out_channels: int, **conv_args):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **conv_args)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    """Four branches on the same input, concatenated along the channels:

        1×1 conv  |  1×1 conv → 3×3 conv  |  1×1 conv → 5×5 conv  |  3×3 max pool → 1×1 conv

    Every branch keeps the height and width, so the output has
    ``ch1x1 + ch3x3 + ch5x5 + pool_proj`` channels. The 1×1 convolutions before the 3×3 and
    5×5 ones (``ch3x3red``, ``ch5x5red`` filters) are bottlenecks: they shrink the channels the
    expensive filters see. ``large_kernel`` is the "5×5" branch's kernel: the paper's is 5;
    torchvision's GoogLeNet uses 3 (a bug it keeps so that its published weights still load),
    and :func:`googlenet` follows torchvision.
    """

    def __init__(
        self,
        in_channels: int,
        ch1x1: int,
        ch3x3red: int,
        ch3x3: int,
        ch5x5red: int,
        ch5x5: int,
        pool_proj: int,
        large_kernel: int = 5,
    ):
        super().__init__()
        check_choice(large_kernel, "large_kernel", (3, 5))
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3red, kernel_size=1),
            BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1),
        )
        self.branch3 = nn.Sequential(
            BasicConv2d(in_channels, ch5x5red, kernel_size=1),
            BasicConv2d(ch5x5red, ch5x5, kernel_size=large_kernel, padding=large_kernel // 2),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            BasicConv2d(in_channels, pool_proj, kernel_size=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = (self.branch1, self.branch2, self.branch3, self.branch4)
        return torch.cat([branch(x) for branch in branches], dim=1)


# Table 1 of the paper: in_channels, #1×1, #3×3 reduce, #3×3, #5×5 reduce, #5×5, pool proj.
INCEPTION_CONFIGS = {
    "inception3a": (192, 64, 96, 128, 16, 32, 32),
    "inception3b": (256, 128, 128, 192, 32, 96, 64),
    "inception4a": (480, 192, 96, 208, 16, 48, 64),
    "inception4b": (512, 160, 112, 224, 24, 64, 64),
    "inception4c": (512, 128, 128, 256, 24, 64, 64),
    "inception4d": (512, 112, 144, 288, 32, 64, 64),
    "inception4e": (528, 256, 160, 320, 32, 128, 128),
    "inception5a": (832, 256, 160, 320, 32, 128, 128),
    "inception5b": (832, 384, 192, 384, 48, 128, 128),
}


class GoogLeNet(nn.Module):
    """GoogLeNet: 6,624,904 parameters for 1000 classes.

    Stem (7×7 convolution, pooling, 1×1 and 3×3 convolutions), nine Inception modules in three
    groups separated by max pooling, global average pooling, dropout 0.2 and one linear layer.
    ``large_kernel`` as in :class:`Inception`; ``transform_input`` maps ImageNet-normalised RGB
    input to the ``[-1, 1]`` scaling the published (TensorFlow-trained) weights expect.
    Shapes: ``x (Tensor[N, in_channels, H, W]) -> logits (Tensor[N, num_classes])``, H, W >= 15.
    """

    def __init__(
        self,
        num_classes: int = 1000,
        in_channels: int = 3,
        large_kernel: int = 3,
        transform_input: bool = False,
    ):
        super().__init__()
        check_scalar(num_classes, "num_classes", low=1, integer=True)
        check_scalar(in_channels, "in_channels", low=1, integer=True)
        if transform_input and in_channels != 3:
            raise ValueError(f"transform_input needs RGB input (in_channels=3), got {in_channels}")
        self.in_channels = in_channels
        self.transform_input = transform_input

        def inception(name: str) -> Inception:
            return Inception(*INCEPTION_CONFIGS[name], large_kernel=large_kernel)

        self.conv1 = BasicConv2d(in_channels, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, kernel_size=1)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = inception("inception3a")
        self.inception3b = inception("inception3b")
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = inception("inception4a")
        self.inception4b = inception("inception4b")
        self.inception4c = inception("inception4c")
        self.inception4d = inception("inception4d")
        self.inception4e = inception("inception4e")
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = inception("inception5a")
        self.inception5b = inception("inception5b")
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=0.2)
        self.fc = nn.Linear(1024, num_classes)
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.in_channels, min_size=15)
        if self.transform_input:  # undo the ImageNet normalisation, then scale [0, 1] to [-1, 1]
            mean = x.new_tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
            std = x.new_tensor(IMAGENET_STD).view(1, 3, 1, 1)
            x = (x * std + mean - 0.5) / 0.5
        x = self.maxpool1(self.conv1(x))  # 64 × 56 × 56 for a 224 × 224 input
        x = self.maxpool2(self.conv3(self.conv2(x)))  # 192 × 28 × 28
        x = self.maxpool3(self.inception3b(self.inception3a(x)))  # 480 × 14 × 14
        x = self.inception4c(self.inception4b(self.inception4a(x)))
        x = self.maxpool4(self.inception4e(self.inception4d(x)))  # 832 × 7 × 7
        x = self.inception5b(self.inception5a(x))  # 1024 × 7 × 7
        return self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))


def googlenet(
    num_classes: int = 1000,
    in_channels: int = 3,
    weights: str | None = None,
    transform_input: bool | None = None,
) -> GoogLeNet:
    """A :class:`GoogLeNet`. ``transform_input=None`` turns the input transform on exactly for
    ``weights="imagenet"`` (as torchvision does), so that the network takes ImageNet-normalised
    images like the others; pass ``True`` for a local copy of those weights."""
    if transform_input is None:
        transform_input = weights == "imagenet"
    model = GoogLeNet(num_classes, in_channels, transform_input=transform_input)
    return load_weights(
        model, "googlenet", weights, num_classes=num_classes, in_channels=in_channels
    )
