"""Published ImageNet weights for mlnotes' models, loaded with ``torch.hub``.

mlnotes' networks use torchvision's module names and shapes, so torchvision's weight files load
into them unchanged, with ``strict=True``: every key must match, none may be missing or extra.
"""

from __future__ import annotations

import os

import torch
from torch import nn

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

    Args:
        model (nn.Module): the freshly built network.
        name (str): the architecture's key in :data:`WEIGHTS_URLS` (``"resnet18"``, ...).
        weights (str | PathLike | None): ``None`` keeps the random initialisation;
            ``"imagenet"`` downloads torchvision's file for ``name``; a string with ``://``
            (``https://...``, ``file://...``) goes through ``torch.hub.load_state_dict_from_url``,
            which caches it in ``model_dir`` (default ``$TORCH_HOME/hub/checkpoints``);
            anything else is a local file read with ``torch.load``.
        num_classes (int), in_channels (int): what ``model`` was built with; ImageNet weights
            need 1000 and 3 (replace the head afterwards: ``mlnotes.transfer.replace_head``).
        model_dir (str | PathLike | None): download cache.
        progress (bool): show the download's progress bar.

    Raises:
        ValueError: for an unknown ``name`` with ``"imagenet"``, for ImageNet weights on a model
            built with other class or channel counts, and (from PyTorch) when keys or shapes differ.

    Reference: ``torch.hub.load_state_dict_from_url``,
    https://pytorch.org/docs/stable/hub.html#torch.hub.load_state_dict_from_url

    Oracle: ``nn.Module.load_state_dict(strict=True)`` itself; tests load files they write,
        through a path and a ``file://`` URL.
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
    state = {k: v for k, v in state.items() if not k.startswith(ignored)} if ignored else state
    model.load_state_dict(state, strict=True)
    return model
