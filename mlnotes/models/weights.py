"""Initial weights (He et al., 2015) and published ImageNet weights (torchvision's, via torch.hub).

torchvision's weight files load into mlnotes' networks with ``strict=True``: every key must
match, none may be missing or extra.

Reference: K. He, X. Zhang, S. Ren, J. Sun, "Delving deep into rectifiers", ICCV 2015.
"""

from __future__ import annotations

import os

import torch
from torch import nn

# The statistics torchvision's ImageNet weights were trained with (RGB, images in [0, 1]).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# torchvision's ImageNet-1k weights (IMAGENET1K_V1) for the architectures mlnotes implements.
WEIGHTS_URLS = {
    "alexnet": "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
    "vgg11": "https://download.pytorch.org/models/vgg11-8a719046.pth",
    "vgg13": "https://download.pytorch.org/models/vgg13-19584684.pth",
    "vgg16": "https://download.pytorch.org/models/vgg16-397923af.pth",
    "vgg19": "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth",
    "resnet18": "https://download.pytorch.org/models/resnet18-f37072fd.pth",
    "resnet34": "https://download.pytorch.org/models/resnet34-b627a593.pth",
    "resnet50": "https://download.pytorch.org/models/resnet50-0676ba61.pth",
    "googlenet": "https://download.pytorch.org/models/googlenet-1378be20.pth",
}
# The published GoogLeNet file also holds the two auxiliary classifiers used only in training.
IGNORED_PREFIXES = {"googlenet": ("aux1.", "aux2.")}


def he_init(model: nn.Module) -> None:
    """He initialisation of every convolution, ``w ~ N(0, 2 / (F k k))`` (fan-out, as
    torchvision), and zero biases: ReLU layers then keep the variance of their signal."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def load_weights(
    model: nn.Module,
    name: str,
    weights: str | os.PathLike | None,
    *,
    num_classes: int,
    in_channels: int,
    model_dir: str | os.PathLike | None = None,
    progress: bool = True,
) -> nn.Module:
    """Load ``weights`` into ``model`` with ``load_state_dict(strict=True)``; return ``model``.

    ``weights``: ``None`` keeps the random initialisation; ``"imagenet"`` downloads
    torchvision's file for ``name`` (a :data:`WEIGHTS_URLS` key); a string with ``://`` goes
    through ``torch.hub.load_state_dict_from_url`` (cached in ``model_dir``, by default
    ``$TORCH_HOME/hub/checkpoints``); anything else is a local file read with ``torch.load``.
    ImageNet weights need ``num_classes=1000`` and ``in_channels=3``: replace the head afterwards
    (``mlnotes.transfer.replace_head``).
    """
    if weights is None:
        return model
    if weights == "imagenet":
        if name not in WEIGHTS_URLS:
            raise ValueError(f"no ImageNet weights for {name!r}; known: {sorted(WEIGHTS_URLS)}")
        if (num_classes, in_channels) != (1000, 3):
            raise ValueError(
                "ImageNet weights need num_classes=1000 and in_channels=3, got "
                f"num_classes={num_classes}, in_channels={in_channels}; load them first, then "
                "replace the head with mlnotes.transfer.replace_head"
            )
        weights = WEIGHTS_URLS[name]
    if isinstance(weights, str) and "://" in weights:
        state = torch.hub.load_state_dict_from_url(
            weights, model_dir=model_dir, map_location="cpu", progress=progress
        )
    else:
        state = torch.load(weights, map_location="cpu", weights_only=True)
    ignored = IGNORED_PREFIXES.get(name, ())
    state = {k: v for k, v in state.items() if not k.startswith(ignored)}
    model.load_state_dict(state, strict=True)
    return model
