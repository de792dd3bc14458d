"""The small ResNet for 32×32 CIFAR-10 images, depth 6n + 2, and its "plain" counterpart.

Reference: K. He, X. Zhang, S. Ren, J. Sun, "Deep residual learning for image recognition",
CVPR 2016, Section 4.2 and Fig. 6.
"""

from __future__ import annotations

import torch
from torch import nn

from mlnotes.core import check_images, check_per_axis, check_scalar
from mlnotes.models.resnet import BasicBlock, conv3x3, make_stage
from mlnotes.models.weights import he_init


class SmallResNet(nn.Module):
    """A 3×3 stem, three stages of ``n`` basic blocks, global average pooling and one linear layer.

    ========  =====================  =================================================
    stage     output (32×32 input)   layers
    ========  =====================  =================================================
    conv1     C1 × 32 × 32           3×3 convolution, BN, ReLU
    layer1    C1 × 32 × 32           ``n`` basic blocks (2 convolutions each)
    layer2    C2 × 16 × 16           ``n`` basic blocks, the first with stride 2
    layer3    C3 × 8 × 8             ``n`` basic blocks, the first with stride 2
    fc        num_classes            global average pooling, then a linear layer
    ========  =====================  =================================================

    with ``(C1, C2, C3) = widths`` (the paper's 16, 32, 64). Weighted layers:
    ``depth = 1 + 3 * 2n + 1 = 6n + 2``; the 1×1 projections of the shortcuts are not counted,
    as in the paper. Where a stage changes the shape, the shortcut is the projection
    ``BN(W_s * a)`` (option B; for CIFAR-10 the paper used option A, zero-padding the extra
    channels, which has no parameters). ``shortcut=False`` builds the plain network.
    Shapes: ``x (Tensor[N, in_channels, H, W]) -> logits (Tensor[N, num_classes])``.
    """

    def __init__(
        self,
        n: int,
        num_classes: int = 10,
        in_channels: int = 3,
        shortcut: bool = True,
        widths: tuple[int, int, int] = (16, 32, 64),
    ):
        super().__init__()
        check_scalar(num_classes, "num_classes", low=1, integer=True)
        check_scalar(in_channels, "in_channels", low=1, integer=True)
        check_scalar(n, "n (blocks per stage)", low=1, integer=True)
        widths = check_per_axis(widths, "widths", 3)
        self.in_channels = in_channels
        self.conv1 = conv3x3(in_channels, widths[0])
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        channels = widths[0]
        for stage, width in enumerate(widths):
            layer = make_stage(BasicBlock, channels, width, n, 1 if stage == 0 else 2, shortcut)
            setattr(self, f"layer{stage + 1}", layer)
            channels = width
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(channels, num_classes)
        he_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.in_channels)
        x = self.relu(self.bn1(self.conv1(x)))  # [N, C1, H, W]
        x = self.layer3(self.layer2(self.layer1(x)))  # [N, C3, H/4, W/4]
        return self.fc(torch.flatten(self.avgpool(x), 1))  # [N, C3] -> [N, num_classes]


def small_resnet(
    depth: int,
    num_classes: int = 10,
    in_channels: int = 3,
    shortcut: bool = True,
    widths: tuple[int, int, int] = (16, 32, 64),
) -> SmallResNet:
    """The :class:`SmallResNet` of ``depth = 6n + 2`` weighted layers (20, 32, 44, 56, 110 in the
    paper), ``n = (depth - 2) / 6`` blocks per stage."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
        raise ValueError(
            f"depth must be 6n + 2 for a whole n >= 1 (8, 14, 20, 26, 32, ...), got {depth!r}"
        )
    return SmallResNet((depth - 2) // 6, num_classes, in_channels, shortcut, widths)
