"""ResNet (He et al., 2016): deep networks of residual blocks, a^[l+2] = g(z^[l+2] + a^[l]).

The layout, names and initialisation follow torchvision's ``resnet.py``, so that a torchvision
state_dict loads into these modules with ``strict=True``. Like torchvision (and unlike the
paper's original design), a bottleneck block downsamples in its 3×3 convolution ("ResNet v1.5").
"""

from __future__ import annotations

import torch
from torch import nn

from mlnotes.core import check_images, check_scalar
from mlnotes.models.weights import load_weights


def conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    """A 3×3 convolution with padding 1 and no bias (the batch norm after it has one).

    Oracle: torchvision.models.resnet.conv3x3 (same shapes).
    Reference: He et al., CVPR 2016.
    """
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


def conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    """A 1×1 convolution without bias: mixes channels, or projects a shortcut.

    Oracle: torchvision.models.resnet.conv1x1 (same shapes).
    Reference: He et al., CVPR 2016.
    """
    return nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)


def projection(in_channels: int, out_channels: int, stride: int) -> nn.Sequential | None:
    """The shortcut's projection W_s (1×1 convolution + batch norm) when the block changes the
    shape of its input, ``None`` (the identity shortcut) when it does not.

    Oracle: the downsample modules of torchvision's ResNets (same keys and shapes).
    Reference: He et al., CVPR 2016, Eq. (2) (projection shortcut, option B).
    """
    if stride == 1 and in_channels == out_channels:
        return None
    return nn.Sequential(conv1x1(in_channels, out_channels, stride), nn.BatchNorm2d(out_channels))


class BasicBlock(nn.Module):
    """Two 3×3 convolutions and a shortcut: ``a_out = relu(z + shortcut(a))``.

        z = BN(W2 * relu(BN(W1 * a)))        (* is convolution)
        shortcut(a) = a                      (identity: same shape)
                    = BN(W_s * a)            (projection: stride 2 or new channel count)

    With ``shortcut=False`` the block is the "plain" block of the paper, ``relu(z)``: the same
    layers without the addition.

    Args:
        in_channels (int), out_channels (int): channels of the block's input and output.
        stride (int): 2 halves the height and width (in the first convolution).
        shortcut (bool): add the shortcut (a residual block) or not (a plain block).

    Shapes: ``a (Tensor[N, in_channels, H, W]) -> Tensor[N, out_channels, H/stride, W/stride]``.

    Reference: K. He, X. Zhang, S. Ren, J. Sun, "Deep residual learning for image recognition",
    CVPR 2016, Fig. 2 and Fig. 5 (left).

    Oracle: zero weights give the identity (tests/test_models.py); torchvision's BasicBlock
        (same state_dict keys and shapes: tests/data/torchvision_state_dicts.json; same outputs
        for the same weights)
    """

    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, shortcut: bool = True):
        super().__init__()
        self.conv1 = conv3x3(in_channels, out_channels, stride)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(out_channels, out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = shortcut
        self.downsample = projection(in_channels, out_channels, stride) if shortcut else None

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        """``relu(z + shortcut(a))``, or ``relu(z)`` for a plain block."""
        z = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(a)))))
        if self.shortcut:
            z = z + (a if self.downsample is None else self.downsample(a))
        return self.relu(z)


class Bottleneck(nn.Module):
    """1×1 (reduce), 3×3, 1×1 (expand ×4) convolutions and a shortcut, for deep ResNets.

        z = BN(W3 * relu(BN(W2 * relu(BN(W1 * a)))))      a_out = relu(z + shortcut(a))

    The 1×1 convolutions make the 3×3 one work on ``width`` = ``out_channels / 4`` channels, so a
    bottleneck block on 256 channels costs about as much as a basic block on 64.

    Args:
        in_channels (int): channels of the input.
        out_channels (int): channels of the output, ``4 * width``.
        stride (int): 2 halves the height and width (in the 3×3 convolution, as torchvision).
        shortcut (bool): add the shortcut (residual) or not (plain).

    Shapes: ``a (Tensor[N, in_channels, H, W]) -> Tensor[N, out_channels, H/stride, W/stride]``.

    Reference: He et al., CVPR 2016, Fig. 5 (right) and Table 1.

    Oracle: hand parameter counts (tests/test_models.py); torchvision's Bottleneck (same
        state_dict keys and shapes: tests/data/torchvision_state_dicts.json; same outputs for
        the same weights)
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
        self.shortcut = shortcut
        self.downsample = projection(in_channels, out_channels, stride) if shortcut else None

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        """``relu(z + shortcut(a))``, or ``relu(z)`` for a plain block."""
        z = self.relu(self.bn1(self.conv1(a)))
        z = self.relu(self.bn2(self.conv2(z)))
        z = self.bn3(self.conv3(z))
        if self.shortcut:
            z = z + (a if self.downsample is None else self.downsample(a))
        return self.relu(z)


class ResNet(nn.Module):
    """The ImageNet ResNet: a 7×7 stem, four stages of blocks, global average pooling, one
    fully connected layer.

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

    with C = 64 for basic blocks and 256 for bottleneck blocks.

    Args:
        block (type): :class:`BasicBlock` or :class:`Bottleneck`.
        layers (sequence of 4 ints): blocks per stage ((2, 2, 2, 2) is ResNet-18).
        num_classes (int): outputs of ``fc``.
        in_channels (int): channels of the input images.
        shortcut (bool): ``False`` builds the matching plain network (no shortcuts at all).

    Shapes: ``x (Tensor[N, in_channels, H, W]) -> logits (Tensor[N, num_classes])``, H, W >= 32.

    Reference: He et al., CVPR 2016, Table 1; torchvision.models.resnet.

    Oracle: torchvision's ResNet (same state_dict keys and shapes:
        tests/data/torchvision_state_dicts.json; same outputs for the same weights)
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
        if len(layers) != 4 or any(not isinstance(n, int) or n < 1 for n in layers):
            raise ValueError(f"layers must be four positive block counts, got {layers!r}")
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
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits for a batch of images."""
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
    """``count`` blocks in a row; the first takes ``in_channels`` and applies ``stride``.

    Reference: He et al., CVPR 2016, Table 1 (a stage: "conv2_x", "conv3_x", ...).

    Oracle: the ``layerN`` modules of torchvision's ResNets (same keys and shapes).
    """
    blocks = [block(in_channels, out_channels, stride, shortcut)]
    blocks += [block(out_channels, out_channels, 1, shortcut) for _ in range(count - 1)]
    return nn.Sequential(*blocks)


def init_weights(model: nn.Module) -> None:
    """He (Kaiming) normal initialisation for convolutions, BN to the identity (torchvision's).

    Oracle: torchvision.models.resnet.ResNet.__init__'s initialisation loop.
    Reference: K. He et al., "Delving deep into rectifiers", ICCV 2015 (He initialisation).
    """
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def _resnet(name, block, layers, num_classes, in_channels, weights) -> ResNet:
    model = ResNet(block, layers, num_classes=num_classes, in_channels=in_channels)
    return load_weights(model, name, weights, num_classes=num_classes, in_channels=in_channels)


def resnet18(num_classes: int = 1000, in_channels: int = 3, weights: str | None = None) -> ResNet:
    """ResNet-18: basic blocks (2, 2, 2, 2); 11,689,512 parameters for 1000 classes.

    Args:
        weights (str | None): ``"imagenet"`` (torchvision's weights, downloaded with
            ``torch.hub.load_state_dict_from_url``), a URL or a local ``.pth`` file; see
            :func:`mlnotes.models.load_weights`.

    Reference: He et al., CVPR 2016, Table 1.

    Oracle: torchvision's resnet18 (same state_dict keys and shapes:
        tests/data/torchvision_state_dicts.json; same outputs for the same weights)
    """
    return _resnet("resnet18", BasicBlock, (2, 2, 2, 2), num_classes, in_channels, weights)


def resnet34(num_classes: int = 1000, in_channels: int = 3, weights: str | None = None) -> ResNet:
    """ResNet-34: basic blocks (3, 4, 6, 3); 21,797,672 parameters for 1000 classes.

    Reference: He et al., CVPR 2016, Table 1.

    Oracle: torchvision's resnet34 (same state_dict keys and shapes:
        tests/data/torchvision_state_dicts.json; same outputs for the same weights)
    """
    return _resnet("resnet34", BasicBlock, (3, 4, 6, 3), num_classes, in_channels, weights)


def resnet50(num_classes: int = 1000, in_channels: int = 3, weights: str | None = None) -> ResNet:
    """ResNet-50: bottleneck blocks (3, 4, 6, 3); 25,557,032 parameters for 1000 classes.

    Reference: He et al., CVPR 2016, Table 1.

    Oracle: torchvision's resnet50 (same state_dict keys and shapes:
        tests/data/torchvision_state_dicts.json; same outputs for the same weights)
    """
    return _resnet("resnet50", Bottleneck, (3, 4, 6, 3), num_classes, in_channels, weights)
