"""The optimisation of style transfer: the pixels of G minimise J(G) = alpha J_content +
beta J_style by Adam or L-BFGS, with the loss history.

Reference: Gatys et al., CVPR 2016, Section 2.3 and Eq. 7.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import torch

from mlnotes.core import check_choice, check_images, check_scalar
from mlnotes.style.costs import _check_layer_weights, content_cost, style_cost, total_cost
from mlnotes.style.features import VGGFeatures
from mlnotes.train import tqdm  # tqdm.auto without its ipywidgets warning

# Gatys et al. (2016), Section 3: content at conv4_2, style at conv1_1 ... conv5_1.
CONTENT_LAYER = "conv4_2"
STYLE_LAYERS = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")
INITS = ("content", "random", "noisy")
OPTIMIZERS = ("adam", "lbfgs")


@dataclass
class TransferResult:
    """What :func:`style_transfer` returns: the generated image G (``Tensor[1, 3, H, W]`` in
    [0, 1]) and the ``history`` of ``"J"``, ``"J_content"``, ``"J_style"`` before each step and
    after the last one (steps + 1 values each)."""

    image: torch.Tensor
    history: dict[str, list[float]] = field(default_factory=dict)


def _initial_image(content, shape, init, noise_ratio, generator):
    noise = torch.rand(shape, generator=generator)  # uniform in [0, 1]
    if init == "random" or content is None:
        return noise
    if init == "content":
        return content.clone()
    return (1 - noise_ratio) * content + noise_ratio * noise  # noisy content


def style_transfer(
    extractor: VGGFeatures,
    content: torch.Tensor | None = None,
    style: torch.Tensor | None = None,
    *,
    content_layer: str = CONTENT_LAYER,
    style_weights: Mapping[str, float] | None = None,
    alpha: float = 10,
    beta: float = 40,
    steps: int = 100,
    optimizer: str = "adam",
    lr: float | None = None,
    init: str = "noisy",
    noise_ratio: float = 0.6,
    seed: int = 0,
    progress: bool = False,
) -> TransferResult:
    """Minimise ``J(G) = alpha J_content(C, G) + beta J_style(S, G)`` over the pixels of G.

    With ``style=None`` only the content cost is minimised (an image reconstructed from one
    layer's activations); with ``content=None`` only the style cost (texture synthesis from
    Gram matrices). ``content`` and ``style`` are ``Tensor[1, 3, H, W]`` in [0, 1], of one size;
    G is clipped to [0, 1] after every step. ``extractor`` must provide ``content_layer`` and
    every style layer. The default ``content_layer``, Gatys et al.'s ``conv4_2``, suits ImageNet
    weights; a random network keeps too little of the image there, so with ``"vgg19-random"``
    take a shallower layer such as ``conv2_2``. ``style_weights`` (lambda_l per layer) default
    to 1/5 for each of :data:`STYLE_LAYERS`; ``alpha``, ``beta`` as in :func:`total_cost`.
    ``optimizer="lbfgs"`` runs one iteration (one forward-backward pass) per step, no line
    search; ``lr`` defaults to 0.02 for Adam (pixels in [0, 1]), 1 for L-BFGS. ``init``:
    ``"content"`` (G = C), ``"random"`` (uniform noise) or ``"noisy"``
    (``(1 - noise_ratio) C + noise_ratio U(0, 1)``, ``noise_ratio`` in [0, 1]); always random
    without content. ``seed`` seeds the initial noise.
    """
    # Not mlnotes.train.fit: here the parameters are the pixels of G and the network is frozen,
    # and L-BFGS needs a closure, so a short loop of its own is clearer.
    if content is None and style is None:
        raise ValueError("give a content image, a style image or both")
    images = {name: x for name, x in (("content", content), ("style", style)) if x is not None}
    for x in images.values():
        check_images(x, 3)
    shapes = {name: tuple(x.shape) for name, x in images.items()}
    if any(shape[0] != 1 for shape in shapes.values()) or len(set(shapes.values())) > 1:
        raise ValueError(f"content and style must be one image each, of one size: got {shapes}")
    check_choice(init, "init", INITS)
    check_choice(optimizer, "optimizer", OPTIMIZERS)
    steps = check_scalar(steps, "steps", low=1, integer=True)
    noise_ratio = check_scalar(noise_ratio, "noise_ratio", low=0, high=1)
    alpha, beta = check_scalar(alpha, "alpha", low=0), check_scalar(beta, "beta", low=0)
    seed = check_scalar(seed, "seed", low=0, integer=True)
    style_weights = _check_layer_weights(
        {n: 1 / len(STYLE_LAYERS) for n in STYLE_LAYERS} if style_weights is None else style_weights
    )
    needed = ([content_layer] if content is not None else []) + (
        list(style_weights) if style is not None else []
    )
    missing = [n for n in needed if n not in extractor.layers]
    if missing:
        raise ValueError(
            f"the extractor does not provide layers {missing}; it has {extractor.layers}"
        )

    device = extractor.mean.device
    with torch.no_grad():
        target_C = extractor(content.to(device))[content_layer] if content is not None else None
        feats_S = extractor(style.to(device)) if style is not None else None
    reference = content if content is not None else style
    generator = torch.Generator().manual_seed(seed)
    G = _initial_image(content, reference.shape, init, noise_ratio, generator).to(device)
    G.requires_grad_(True)
    if optimizer == "adam":
        opt = torch.optim.Adam([G], lr=0.02 if lr is None else lr)
    else:
        # no line search, as in PyTorch's style-transfer tutorial: with these small costs a
        # strong-Wolfe search in float32 stalls; the tolerances are off because `steps` decides
        opt = torch.optim.LBFGS(
            [G], lr=1.0 if lr is None else lr, max_iter=1, tolerance_grad=0, tolerance_change=0
        )
    history = {"J": [], "J_content": [], "J_style": []}

    def costs():
        feats_G = extractor(G)
        zero = G.new_zeros(())
        J_content = content_cost(target_C, feats_G[content_layer]) if target_C is not None else zero
        J_style = style_cost(feats_S, feats_G, style_weights) if feats_S is not None else zero
        return total_cost(J_content, J_style, alpha, beta), J_content, J_style

    def record(J, J_content, J_style):
        for key, value in zip(("J", "J_content", "J_style"), (J, J_content, J_style), strict=True):
            history[key].append(float(value.detach()))

    def closure():
        # one call per step for both optimisers: the costs of G before the step
        opt.zero_grad()
        J, J_content, J_style = costs()
        J.backward()
        record(J, J_content, J_style)
        return J

    for _ in tqdm(range(steps), disable=not progress, desc="style transfer"):
        opt.step(closure)
        with torch.no_grad():
            G.clamp_(0, 1)
    with torch.no_grad():
        record(*costs())
    return TransferResult(image=G.detach(), history=history)
