"""The activations of named VGG layers (conv1_1 ... conv5_1), from a seeded random or an
ImageNet-trained VGG-16/19.

Reference: Gatys et al., CVPR 2016, Section 2 (the layer names, as in the Caffe VGG models);
Simonyan and Zisserman, ICLR 2015, Table 1.
"""

from __future__ import annotations

import torch
from torch import nn

from mlnotes.core import check_choice, check_images, check_scalar
from mlnotes.models.vgg import VGG_CONFIGS, make_features, vgg16, vgg19
from mlnotes.models.weights import IMAGENET_MEAN, IMAGENET_STD  # re-exported by mlnotes.style

BACKBONES = ("vgg19-random", "vgg16-random", "vgg19-imagenet", "vgg16-imagenet")


def vgg_layer_names(config: list[int | str]) -> list[str]:
    """Names of the modules of ``make_features(config)``, in order: ``conv1_1, relu1_1, conv1_2,
    ..., pool1, conv2_1, ...`` (block b, convolution i within the block)."""
    names, block, conv = [], 1, 0
    for item in config:
        if item == "M":
            names.append(f"pool{block}")
            block, conv = block + 1, 0
        else:
            conv += 1
            names += [f"conv{block}_{conv}", f"relu{block}_{conv}"]
    return names


def _init_random(features: nn.Sequential, seed: int) -> None:
    # He (Kaiming) normal init, std = sqrt(2 / fan_in), zero bias: with ReLU this keeps the mean
    # squared activation about constant from layer to layer, so deep layers neither vanish nor
    # explode and every layer's cost has a usable scale.
    generator = torch.Generator().manual_seed(seed)
    for module in features:
        if isinstance(module, nn.Conv2d):
            fan_in = module.in_channels * module.kernel_size[0] * module.kernel_size[1]
            with torch.no_grad():
                module.weight.normal_(0.0, (2.0 / fan_in) ** 0.5, generator=generator)
                module.bias.zero_()


class VGGFeatures(nn.Module):
    """The activations of named layers of a VGG network, for style transfer.

    A layer named ``convB_I`` (e.g. ``("conv1_1", "conv4_2")``) returns the output of the ReLU
    after that convolution (as in Gatys et al.); the network stops after the deepest requested
    layer. Images in [0, 1] are normalised with the ImageNet mean and standard deviation first;
    the weights are frozen. ``backbone``: ``"vgg19-random"`` / ``"vgg16-random"`` have weights
    He-initialised from ``seed``, offline; ``"vgg19-imagenet"`` / ``"vgg16-imagenet"`` load
    torchvision's ImageNet weights (:func:`mlnotes.models.load_weights`, a download, then
    cached). ``pooling``: ``"avg"`` (Gatys et al.'s choice for synthesis) or ``"max"`` (VGG's own).
    Shapes: ``x (Tensor[N, 3, H, W]) -> dict[name, Tensor[N, C_l, H_l, W_l]]``.
    """

    def __init__(
        self,
        layers,
        backbone: str = "vgg19-random",
        *,
        seed: int = 0,
        pooling: str = "avg",
    ):
        super().__init__()
        check_choice(backbone, "backbone", BACKBONES)
        check_choice(pooling, "pooling", ("max", "avg"))
        check_scalar(seed, "seed", low=0, integer=True)
        arch, weights = backbone.split("-")
        names = vgg_layer_names(VGG_CONFIGS[arch])
        layers = tuple(dict.fromkeys(layers))  # in order, each once
        convs = [n for n in names if n.startswith("conv")]
        unknown = [n for n in layers if n not in convs]
        if not layers or unknown:
            raise ValueError(f"layers must be names among {convs}, got {list(layers)}")
        self.layers = layers
        self.backbone = backbone
        # the ReLU after convB_I holds that layer's activations
        self._index = {n: names.index("relu" + n[4:]) for n in layers}
        depth = max(self._index.values()) + 1
        if weights == "imagenet":
            factory = {"vgg16": vgg16, "vgg19": vgg19}[arch]
            features = factory(weights="imagenet").features
        else:
            features = make_features(VGG_CONFIGS[arch])
            _init_random(features, seed)
        modules = list(features)[:depth]
        if pooling == "avg":
            modules = [nn.AvgPool2d(2, 2) if isinstance(m, nn.MaxPool2d) else m for m in modules]
        # not in place: each ReLU output must survive as the activation it stands for
        modules = [nn.ReLU() if isinstance(m, nn.ReLU) else m for m in modules]
        self.features = nn.Sequential(*modules)
        self.features.requires_grad_(False)
        self.eval()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The activations of ``self.layers`` for images ``x`` in [0, 1], by name."""
        poolings = sum(isinstance(m, nn.MaxPool2d | nn.AvgPool2d) for m in self.features)
        check_images(x, 3, min_size=2**poolings)
        h = (x - self.mean) / self.std
        wanted = {i: n for n, i in self._index.items()}
        out = {}
        for i, module in enumerate(self.features):
            h = module(h)
            if i in wanted:
                out[wanted[i]] = h
        return {n: out[n] for n in self.layers}
