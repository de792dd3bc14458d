"""Neural style transfer (Gatys, Ecker and Bethge): the pixels of an image G are optimised so that
its VGG activations have the content of an image C and the channel correlations (Gram matrices)
of a style image S.

The costs follow the notation of Ng's course, for activations ``a`` of shape ``(n_C, n_H, n_W)``
(PyTorch's channel-first layout; a leading batch dimension is allowed):

- content: ``J_content = 1 / (4 n_H n_W n_C) * sum (a(C) - a(G))**2``;
- Gram matrix: ``G_kk' = sum_ij a_ijk a_ijk'`` (unnormalised);
- style at one layer: ``J_style^l = 1 / (4 n_C**2 (n_H n_W)**2) * sum_kk' (G(S) - G(G))**2``;
- style over layers: ``J_style = sum_l lambda_l J_style^l``; total: ``J = alpha J_content +
  beta J_style``.

Everything here takes and returns torch tensors; the images are ``Tensor[1, 3, H, W]`` in [0, 1].
"""

from mlnotes.style.costs import content_cost, gram_matrix, layer_style_cost, style_cost, total_cost
from mlnotes.style.features import (
    BACKBONES,
    IMAGENET_MEAN,
    IMAGENET_STD,
    VGGFeatures,
    vgg_layer_names,
)
from mlnotes.style.images import SKIMAGE_IMAGES, image_to_tensor, load_image, tensor_to_image
from mlnotes.style.transfer import (
    CONTENT_LAYER,
    INITS,
    OPTIMIZERS,
    STYLE_LAYERS,
    TransferResult,
    style_transfer,
)
