"""Sliding-window detection (chapter 7): windows, crops, and the convolutional version.

    boxes = sliding_windows((16, 16), window=14, stride=2)   # [4, 4] xyxy, row-major
    crops = crop_windows(images, window=14, stride=2)        # [N * 4, C, 14, 14]
    maps = fc_to_conv(classifier)(images)                    # [N, classes, 2, 2]

References: Ng, Deep Learning Specialization, course 4 week 3 ("Object detection", sliding
windows and their convolutional implementation); Sermanet et al., "OverFeat" (ICLR 2014),
section 3.5; Dalal & Triggs, "Histograms of Oriented Gradients" (CVPR 2005).
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from mlnotes.conv import conv_output_size
from mlnotes.core import check_per_axis
from mlnotes.detection.boxes import _numpy_back, _real_tensor

_POINTWISE = (nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.Dropout)


def sliding_windows(image_size, window, stride) -> np.ndarray:
    """The box ``(x, y, x + w, y + h)`` of every position of a window slid over an image.

        n_y = floor((H - h) / s_y) + 1,    n_x = floor((W - w) / s_x) + 1

    Window ``(i, j)``, corner ``(x, y) = (j s_x, i s_y)``, is row ``i n_x + j`` of the int64
    ``[n_y n_x, 4]`` and never leaves the image. Sizes are ints or pairs (H, W), (h, w), (s_y, s_x).
    """
    (height, width), (h, w), (sy, sx) = _sizes(image_size, window, stride)
    ny = conv_output_size(height, h, stride=sy)
    nx = conv_output_size(width, w, stride=sx)
    y, x = np.meshgrid(np.arange(ny) * sy, np.arange(nx) * sx, indexing="ij")  # each [ny, nx]
    x, y = x.ravel(), y.ravel()  # [ny * nx], row-major
    return np.stack([x, y, x + w, y + h], axis=1).astype(np.int64)  # [ny * nx, 4]


@_numpy_back
def crop_windows(images, window, stride):
    """Every window of every image, as one batch a classifier can take.

        crops[n K + k] = images[n, :, y_k : y_k + h, x_k : x_k + w]

    ``images [N, C, H, W]`` -> ``[N K, C, h, w]``, ``(x_k, y_k)`` the k-th corner of
    ``sliding_windows((H, W), window, stride)``.
    """
    images = _real_tensor(images, "images")
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, C, H, W), got {tuple(images.shape)}")
    _, (h, w), (sy, sx) = _sizes(tuple(images.shape[2:]), window, stride)
    views = images.unfold(2, h, sy).unfold(3, w, sx)  # [N, C, ny, nx, h, w], strided views
    return views.permute(0, 2, 3, 1, 4, 5).reshape(-1, images.shape[1], h, w)  # [N K, C, h, w]


def fc_to_conv(classifier: nn.Sequential, input_size=None) -> nn.Sequential:
    """Turn a window classifier into a fully convolutional network that scores every window.

    The first Linear after ``Flatten``, weight ``(F, C h' w')``, becomes a ``Conv2d(C, F,
    (h', w'))`` whose kernel covers the whole feature map of one window; each later Linear
    ``(F2, F)`` becomes a 1 x 1 ``Conv2d(F, F2, 1)``:

        conv.weight = linear.weight.reshape(F, C, h', w'),    conv.bias = linear.bias

    On a larger image, output cell ``(i, j)`` is the classifier on the window at ``(j S, i S)``,
    S the product of the strides: every window in one pass, sharing their common pixels.

    ``classifier``: unpadded Conv2d / MaxPool2d / AvgPool2d, ``Flatten()``, Linear layers, with
    ReLU, LeakyReLU, Tanh or Sigmoid activations, Dropout, and (Log)Softmax over the classes.
    ``input_size`` (h, w): the window; ``None`` assumes a square feature map. Parameters are
    copied.
    """
    if not isinstance(classifier, nn.Sequential):
        raise TypeError(
            f"classifier must be a torch.nn.Sequential, got {type(classifier).__name__}"
        )
    layers = list(classifier)
    flatten = [i for i, layer in enumerate(layers) if isinstance(layer, nn.Flatten)]
    if len(flatten) != 1:
        raise ValueError(f"classifier must hold exactly one nn.Flatten, got {len(flatten)}")
    features, head = layers[: flatten[0]], layers[flatten[0] + 1 :]
    if (layers[flatten[0]].start_dim, layers[flatten[0]].end_dim) != (1, -1):
        raise ValueError("the nn.Flatten must flatten every dimension after the batch")
    for i, layer in enumerate(features):
        if not isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, *_POINTWISE)):
            raise TypeError(
                f"classifier[{i}] must be a conv, pool or activation layer, got {layer}"
            )
        # padding would show a larger image's windows pixels where the classifier saw padding
        if getattr(layer, "padding", 0) not in ("valid", 0, (0, 0)) or getattr(
            layer, "ceil_mode", False
        ):
            raise ValueError(f"classifier[{i}] ({layer}) pads its input or uses ceil_mode")
    convs = [layer for layer in features if isinstance(layer, nn.Conv2d)]
    linears = [layer for layer in head if isinstance(layer, nn.Linear)]
    if not convs or not linears:
        raise ValueError(
            "classifier must have Conv2d layers before Flatten and Linear layers after"
        )
    first, channels = linears[0], convs[-1].out_channels
    converted = [copy.deepcopy(layer) for layer in features]
    if input_size is None:
        side = round((first.in_features / channels) ** 0.5)
        size = (side, side)
    else:  # the feature map of one window: pass a blank window (eval: no dropout draws)
        window = check_per_axis(input_size, "input_size")
        blank = convs[0].weight.new_zeros(1, convs[0].in_channels, *window)
        with torch.no_grad():
            size = tuple(nn.Sequential(*converted).eval()(blank).shape[2:])
    if first.in_features != channels * size[0] * size[1]:
        hint = " (pass input_size when the feature map is not square)" if input_size is None else ""
        raise ValueError(
            f"the first Linear takes {first.in_features} features, but Flatten gives "
            f"{channels} channels x {size[0]} x {size[1]} = {channels * size[0] * size[1]}{hint}"
        )
    for i, layer in enumerate(head, start=flatten[0] + 1):
        if isinstance(layer, nn.Linear):
            in_channels, kernel = (channels, size) if layer is first else (layer.in_features, 1)
            conv = nn.Conv2d(
                in_channels,
                layer.out_features,
                kernel,
                bias=layer.bias is not None,
                dtype=layer.weight.dtype,
                device=layer.weight.device,
            )
            with torch.no_grad():
                conv.weight.copy_(layer.weight.reshape(conv.weight.shape))  # [F, C, kh, kw]
                if layer.bias is not None:
                    conv.bias.copy_(layer.bias)
            converted.append(conv)
        elif isinstance(layer, _POINTWISE):
            converted.append(copy.deepcopy(layer))
        elif isinstance(layer, (nn.Softmax, nn.LogSoftmax)) and layer.dim in (1, -1):
            converted.append(type(layer)(dim=1))  # over the classes, at every cell of the map
        else:
            raise TypeError(f"classifier[{i}] must be Linear or an activation, got {layer}")
    return nn.Sequential(*converted).train(classifier.training)


def _sizes(image_size, window, stride):  # checked (H, W), (h, w), (s_y, s_x)
    image = check_per_axis(image_size, "image_size")
    window = check_per_axis(window, "window")
    stride = check_per_axis(stride, "stride")
    if window[0] > image[0] or window[1] > image[1]:
        raise ValueError(f"window {window} (h, w) must fit inside the image {image} (H, W)")
    return image, window, stride
