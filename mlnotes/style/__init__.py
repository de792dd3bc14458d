"""Neural style transfer (Gatys, Ecker and Bethge): the pixels of an image G are optimised so that
its VGG activations have the content of an image C and the channel correlations (Gram matrices)
of a style image S.

The costs (``mlnotes.style.costs``) follow the notation of Ng's course; each function's
docstring gives its formula. Everything here takes and returns torch tensors; the images are
``Tensor[1, 3, H, W]`` in [0, 1].
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
