"""ResNet: deep networks of residual blocks, ``a^[l+2] = g(z^[l+2] + a^[l])``.

Like torchvision (and unlike the paper's original design), a bottleneck block downsamples in
its 3×3 convolution ("ResNet v1.5").

Reference: K. He, X. Zhang, S. Ren, J. Sun, "Deep residual learning for image recognition",
CVPR 2016 (Fig. 2 and 5, Table 1; Eq. (2): the projection shortcut, option B).
"""

from __future__ import annotations

import torch
from torch import nn

from mlnotes.core import check_images, check_per_axis, check_scalar
from mlnotes.models.weights import he_init, load_weights


def conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    """A 3×3 convolution with padding 1 and no bias (the batch norm after it has one)."""
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


def conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    """A 1×1 convolution without bias: mixes channels, or projects a shortcut."""
    return nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)


def make_shortcut(in_channels: int, out_channels: int, stride: int, residual: bool = True):
    """A block's shortcut: ``None`` (plain), the identity, or the projection ``BN(W_s * a)``."""
    if not residual:
        return None
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    return nn.Sequential(conv1x1(in_channels, out_channels, stride), nn.BatchNorm2d(out_channels))


class BasicBlock(nn.Module):
    """Two 3×3 convolutions and a shortcut (``*`` is convolution):

        z = BN(W2 * relu(BN(W1 * a)))        a_out = relu(z + shortcut(a))

    ``shortcut=False`` gives the paper's "plain" block, ``relu(z)``: the same layers without the
    addition. ``stride=2`` halves the height and width in the first convolution.
    Shapes: ``a (Tensor[N, in_channels, H, W]) -> Tensor[N, out_channels, H/stride, W/stride]``.
    """

    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, shortcut: bool = True):
        super().__init__()
        self.conv1 = conv3x3(in_channels, out_channels, stride)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(out_channels, out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        # torchvision's name for the shortcut, whether it projects or not
        self.downsample = make_shortcut(in_channels, out_channels, stride, shortcut)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        z = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(a)))))
        return self.relu(z if self.downsample is None else z + self.downsample(a))


class Bottleneck(nn.Module):
    """1×1 (reduce), 3×3, 1×1 (expand ×4) convolutions and a shortcut, for deep ResNets:

        z = BN(W3 * relu(BN(W2 * relu(BN(W1 * a)))))      a_out = relu(z + shortcut(a))

    The 3×3 convolution (which applies the stride) works on ``out_channels / 4`` channels, so a
    bottleneck block on 256 channels costs about as much as a basic block on 64.
    """

    expansion = 4

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, shortcut: bool = True):
        super().__init__()
        width = out_channels // self.expansion
        self.conv1 = conv1x1(in_channels, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, out_channels)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = make_shortcut(in_channels, out_channels, stride, shortcut)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        z = self.relu(self.bn1(self.conv1(a)))
        z = self.relu(self.bn2(self.conv2(z)))
        z = self.bn3(self.conv3(z))
        return self.relu(z if self.downsample is None else z + self.downsample(a))


class ResNet(nn.Module):
    """The ImageNet ResNet: a 7×7 stem, four stages of blocks, average pooling, one linear layer.

    ========  ===================  ========================================
    stage     output (224 input)   blocks
    ========  ===================  ========================================
    conv1     64 × 112 × 112       7×7 convolution, stride 2
    maxpool   64 × 56 × 56         3×3 max pooling, stride 2
    layer1    C × 56 × 56          ``layers[0]`` blocks
    layer2    2C × 28 × 28         ``layers[1]`` blocks, the first with stride 2
    layer3    4C × 14 × 14         ``layers[2]`` blocks, the first with stride 2
    layer4    8C × 7 × 7           ``layers[3]`` blocks, the first with stride 2
    fc        num_classes          global average pooling, then a linear layer
    ========  ===================  ========================================

    with C = 64 for :class:`BasicBlock` and 256 for :class:`Bottleneck`; ``layers`` = (2, 2, 2, 2)
    is ResNet-18; ``shortcut=False`` builds the matching plain network.
    Shapes: ``x (Tensor[N, in_channels, H, W]) -> logits (Tensor[N, num_classes])``, H, W >= 32.
    """

    def __init__(
        self,
        block: type[BasicBlock | Bottleneck],
        layers,
        num_classes: int = 1000,
        in_channels: int = 3,
        shortcut: bool = True,
    ):
        super().__init__()
        check_scalar(num_classes, "num_classes", low=1, integer=True)
        check_scalar(in_channels, "in_channels", low=1, integer=True)
        layers = check_per_axis(layers, "layers", 4)
        self.in_channels = in_channels
        self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        channels = 64
        for stage, count in enumerate(layers):
            out_channels = 64 * 2**stage * block.expansion
            stride = 1 if stage == 0 else 2
            layer = make_stage(block, channels, out_channels, count, stride, shortcut)
            setattr(self, f"layer{stage + 1}", layer)
            channels = out_channels
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(channels, num_classes)
        he_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.in_channels, min_size=32)
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def make_stage(
    block: type[BasicBlock | Bottleneck],
    in_channels: int,
    out_channels: int,
    count: int,
    stride: int,
    shortcut: bool = True,
) -> nn.Sequential:
    """A stage ("conv2_x", ...): ``count`` blocks; the first takes ``in_channels``, ``stride``."""
    blocks = [block(in_channels, out_channels, stride, shortcut)]
    blocks += [block(out_channels, out_channels, 1, shortcut) for _ in range(count - 1)]
    return nn.Sequential(*blocks)


def _resnet(name, block, layers, num_classes, in_channels, weights) -> ResNet:
    model = ResNet(block, layers, num_classes=num_classes, in_channels=in_channels)
    return load_weights(model, name, weights, num_classes=num_classes, in_channels=in_channels)


def resnet18(num_classes: int = 1000, in_channels: int = 3, weights: str | None = None) -> ResNet:
    """ResNet-18: basic blocks (2, 2, 2, 2); 11,689,512 parameters for 1000 classes."""
    return _resnet("resnet18", BasicBlock, (2, 2, 2, 2), num_classes, in_channels, weights)


def resnet34(num_classes: int = 1000, in_channels: int = 3, weights: str | None = None) -> ResNet:
    """ResNet-34: basic blocks (3, 4, 6, 3); 21,797,672 parameters for 1000 classes."""
    return _resnet("resnet34", BasicBlock, (3, 4, 6, 3), num_classes, in_channels, weights)


def resnet50(num_classes: int = 1000, in_channels: int = 3, weights: str | None = None) -> ResNet:
    """ResNet-50: bottleneck blocks (3, 4, 6, 3); 25,557,032 parameters for 1000 classes."""
    return _resnet("resnet50", Bottleneck, (3, 4, 6, 3), num_classes, in_channels, weights)
