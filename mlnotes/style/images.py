"""Images as style transfer uses them: ``Tensor[1, 3, H, W]`` in [0, 1], from scikit-image's
bundled pictures and textures or a file, and back to arrays for plotting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from mlnotes.core import check_per_axis

# Colour and grey images that ship inside scikit-image (no download).
SKIMAGE_IMAGES = (
    "astronaut",
    "brick",
    "camera",
    "cat",
    "chelsea",
    "coffee",
    "grass",
    "gravel",
    "immunohistochemistry",
    "rocket",
)


def image_to_tensor(image) -> torch.Tensor:
    """An RGB or grey image ``ndarray[H, W, 3]`` / ``[H, W]`` (uint8 in 0..255, or float in
    [0, 1]) as a float32 ``Tensor[1, 3, H, W]`` in [0, 1]; grey is repeated on the 3 channels,
    an alpha channel is dropped."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)  # [H, W, 3]
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"image must have shape (H, W), (H, W, 3) or (H, W, 4), got {image.shape}")
    image = image[:, :, :3]
    if image.dtype == np.uint8:
        image = image / 255.0
    elif not np.issubdtype(image.dtype, np.floating):
        raise TypeError(f"image must be uint8 or float, got dtype {image.dtype}")
    elif image.min() < 0 or image.max() > 1:
        raise ValueError(f"a float image must be in [0, 1], got [{image.min()}, {image.max()}]")
    image = image.transpose(2, 0, 1)[None].copy()  # [1, 3, H, W]
    return torch.as_tensor(image, dtype=torch.float32)


def tensor_to_image(x: torch.Tensor) -> np.ndarray:
    """A ``Tensor[1, 3, H, W]`` (or ``[3, H, W]``) as a float ``ndarray[H, W, 3]`` clipped to
    [0, 1], ready for ``plt.imshow``."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim == 4 and x.shape[0] == 1:
        x = x[0]
    if x.ndim != 3 or x.shape[0] != 3:
        raise ValueError(f"x must have shape (1, 3, H, W) or (3, H, W), got {tuple(x.shape)}")
    return x.detach().cpu().clamp(0, 1).permute(1, 2, 0).numpy()  # [H, W, 3]


def load_image(source, size=64) -> torch.Tensor:
    """Load an image as a ``Tensor[1, 3, H, W]`` in [0, 1], centre-cropped to the aspect ratio of
    ``size`` (a square's side, or (H, W)) and resized (with anti-aliasing) to it. ``source`` is a
    name of :data:`SKIMAGE_IMAGES` (shipped with scikit-image, no download) or an image file."""
    import skimage.data
    import skimage.io
    import skimage.transform

    height, width = check_per_axis(size, "size", low=8)
    if isinstance(source, str) and source in SKIMAGE_IMAGES:
        image = getattr(skimage.data, source)()
    elif isinstance(source, str | Path) and Path(source).is_file():
        image = skimage.io.imread(source)
    else:
        raise ValueError(f"source must be one of {SKIMAGE_IMAGES} or an image file, got {source!r}")
    x = image_to_tensor(image)[0].numpy().transpose(1, 2, 0)  # [H0, W0, 3] in [0, 1]
    h0, w0 = x.shape[:2]
    scale = min(h0 / height, w0 / width)  # the largest crop of the target's aspect ratio
    ch, cw = round(height * scale), round(width * scale)
    top, left = (h0 - ch) // 2, (w0 - cw) // 2
    x = x[top : top + ch, left : left + cw]
    x = skimage.transform.resize(x, (height, width), anti_aliasing=True)  # [H, W, 3]
    return image_to_tensor(np.clip(x, 0, 1))
