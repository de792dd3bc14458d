"""Sliding-window detection (chapter 7): window positions, crops, and the convolutional
implementation that classifies every window in one pass.

    boxes = sliding_windows((16, 16), window=14, stride=2)   # [4, 4] xyxy, row-major
    crops = crop_windows(images, window=14, stride=2)        # [N * 4, C, 14, 14]
    maps = fc_to_conv(classifier)(images)                    # [N, classes, 2, 2]
"""

from __future__ import annotations

import copy

import numpy as np

from mlnotes.conv import conv_output_size
from mlnotes.core import check_per_axis
from mlnotes.detection.boxes import _xp


def sliding_windows(image_size, window, stride) -> np.ndarray:
    """The box of every position of a window slid over an image, row by row.

        n_y = floor((H - h) / s_y) + 1,    n_x = floor((W - w) / s_x) + 1

    (chapter 5's output size with no padding, ``conv_output_size``). Window ``(i, j)`` has its
    top-left corner at ``(x, y) = (j s_x, i s_y)``; it is row ``i n_x + j`` of the answer. Like
    a convolution, the window never leaves the image: a remainder smaller than the stride at
    the right or bottom edge is not visited.

    Args:
        image_size (int | tuple[int, int]): H = W, or (H, W), in pixels.
        window (int | tuple[int, int]): h = w, or (h, w), with h <= H and w <= W.
        stride (int | tuple[int, int]): s_y = s_x, or (s_y, s_x), >= 1.

    Returns:
        ndarray[n_y * n_x, 4]: int64 boxes ``(x, y, x + w, y + h)`` in pixel coordinates (the
        crop is ``image[..., y : y + h, x : x + w]``). NumPy only.

    Raises:
        ValueError: a size or stride that is not a positive integer (or pair), or a window
            larger than the image.

    Oracle: two nested loops over the positions, and ``torch.Tensor.unfold``'s count (tests).
    Reference: Ng, Deep Learning Specialization, course 4 week 3 ("Object detection",
    sliding windows); Dalal & Triggs, "Histograms of Oriented Gradients" (CVPR 2005).
    """
    (height, width), (h, w), (sy, sx) = _sizes(image_size, window, stride)
    ny = conv_output_size(height, h, stride=sy)
    nx = conv_output_size(width, w, stride=sx)
    y, x = np.meshgrid(np.arange(ny) * sy, np.arange(nx) * sx, indexing="ij")  # each [ny, nx]
    x, y = x.ravel(), y.ravel()  # [ny * nx], row-major
    return np.stack([x, y, x + w, y + h], axis=1).astype(np.int64)  # [ny * nx, 4]


def crop_windows(images, window, stride):
    """Every window of every image, as one batch a classifier can take.

        crops[n * K + k] = images[n, :, y_k : y_k + h, x_k : x_k + w]

    with ``(x_k, y_k)`` the corner of ``sliding_windows((H, W), window, stride)[k]`` and K
    their number. Built from strided views (NumPy ``sliding_window_view``, torch ``unfold``);
    the answer is a copy, and for a tensor keeps the autograd graph.

    Args:
        images (ndarray[N, C, H, W] | Tensor[N, C, H, W]): a batch of images.
        window (int | tuple[int, int]): h = w, or (h, w).
        stride (int | tuple[int, int]): s_y = s_x, or (s_y, s_x).

    Returns:
        ndarray[N * K, C, h, w] | Tensor[N * K, C, h, w]: NumPy or PyTorch, as ``images``;
        ``.reshape(N, K, C, h, w)`` separates the images.

    Raises:
        ValueError: images not 4-D; bad sizes (as ``sliding_windows``).

    Oracle: slicing each box of ``sliding_windows`` in a loop (tests).
    Reference: Ng, Deep Learning Specialization, course 4 week 3 (sliding windows).
    """
    xp = _xp(images)
    images = np.asarray(images) if xp is np else images
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, C, H, W), got {tuple(images.shape)}")
    n, c = images.shape[:2]
    _, (h, w), (sy, sx) = _sizes(tuple(images.shape[2:]), window, stride)
    if xp is np:
        views = np.lib.stride_tricks.sliding_window_view(images, (h, w), axis=(2, 3))
        views = views[:, :, ::sy, ::sx]  # [N, C, ny, nx, h, w]
        return views.transpose(0, 2, 3, 1, 4, 5).reshape(-1, c, h, w)  # [N * ny * nx, C, h, w]
    views = images.unfold(2, h, sy).unfold(3, w, sx)  # [N, C, ny, nx, h, w]
    return views.permute(0, 2, 3, 1, 4, 5).reshape(-1, c, h, w)  # [N * ny * nx, C, h, w]


def fc_to_conv(classifier, input_size=None):
    """Turn a window classifier into a fully convolutional network that scores every window.

    The first Linear layer after ``Flatten``, of weight ``(F, C * h' * w')``, becomes a
    ``Conv2d(C, F, kernel_size=(h', w'))`` whose kernel covers the whole feature map of one
    window; each following Linear ``(F2, F)`` becomes a 1 x 1 ``Conv2d(F, F2, 1)``:

        conv.weight = linear.weight.reshape(F, C, h', w'),    conv.bias = linear.bias

    (``Flatten`` orders the features channel, row, column, the same order as the reshape).
    On a window-sized image the output is ``[N, classes, 1, 1]``, the classifier's output;
    on a larger image it is ``[N, classes, n_y, n_x]``, where cell ``(i, j)`` is the
    classifier's output on the window at ``(x, y) = (j S, i S)``, S the product of the
    strides of the convolution and pooling layers: ``sliding_windows(image, window, S)`` in
    one pass, the windows sharing the computation of the pixels they have in common.

    Args:
        classifier (torch.nn.Sequential): ``Conv2d`` / ``MaxPool2d`` / ``AvgPool2d`` layers
            without padding, then ``Flatten()``, then ``Linear`` layers, with ``ReLU``,
            ``LeakyReLU``, ``Tanh``, ``Sigmoid``, ``Dropout`` anywhere and ``Softmax(dim=1)``
            at the end (``dim=1`` or ``-1``). Its parameters are copied, not shared.
        input_size (int | tuple[int, int] | None): the window (h, w) the classifier takes;
            ``None`` assumes a square feature map at ``Flatten``.

    Returns:
        torch.nn.Sequential: the convolutional network, in the classifier's train/eval mode,
        with its dtype and device.

    Raises:
        TypeError: not an ``nn.Sequential``, or a layer of another kind; ValueError: padding,
            ``ceil_mode``, no ``Flatten`` or no ``Linear``, layers in the wrong order, or
            feature sizes that do not fit ``input_size``.

    Oracle: the classifier run on each crop of ``crop_windows`` (tests, float64).
    Reference: Sermanet et al., "OverFeat" (ICLR 2014), section 3.5; Ng, Deep Learning
    Specialization, course 4 week 3 ("Convolutional implementation of sliding windows").
    """
    import torch
    from torch import nn

    if not isinstance(classifier, nn.Sequential):
        raise TypeError(
            f"classifier must be a torch.nn.Sequential, got {type(classifier).__name__}"
        )
    layers = list(classifier)
    flatten = [i for i, layer in enumerate(layers) if isinstance(layer, nn.Flatten)]
    if len(flatten) != 1:
        raise ValueError(f"classifier must hold exactly one nn.Flatten, got {len(flatten)}")
    features, head = layers[: flatten[0]], layers[flatten[0] + 1 :]
    if layers[flatten[0]].start_dim != 1 or layers[flatten[0]].end_dim != -1:
        raise ValueError(
            "the nn.Flatten must flatten every dimension after the batch (start_dim=1)"
        )
    pointwise = (nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.Dropout)
    channels, size = None, None if input_size is None else check_per_axis(input_size, "input_size")
    for i, layer in enumerate(features):
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            padding = layer.padding
            padded = padding != "valid" and (
                isinstance(padding, str) or check_per_axis(padding, "padding", low=0) != (0, 0)
            )
            if padded or getattr(layer, "ceil_mode", False):
                raise ValueError(
                    f"classifier[{i}] ({layer}) pads its input or uses ceil_mode: the windows "
                    "of a larger image would then see pixels where the classifier saw padding"
                )
            if isinstance(layer, nn.Conv2d):
                channels = layer.out_channels
            if size is not None:
                kernel, stride = (
                    check_per_axis(layer.kernel_size, "k"),
                    check_per_axis(layer.stride, "s"),
                )
                dilation = check_per_axis(getattr(layer, "dilation", 1), "d")
                size = tuple(
                    conv_output_size(n, d * (k - 1) + 1, stride=s)
                    for n, k, s, d in zip(size, kernel, stride, dilation, strict=True)
                )
        elif not isinstance(layer, pointwise):
            raise TypeError(
                f"classifier[{i}] must be a conv, pool or activation layer, got {layer}"
            )
    linears = [layer for layer in head if isinstance(layer, nn.Linear)]
    if not linears or channels is None:
        raise ValueError(
            "classifier must have Conv2d layers before Flatten and Linear layers after"
        )
    first = linears[0]
    if size is None:
        side = int(round((first.in_features / channels) ** 0.5))
        size = (side, side)
    if first.in_features != channels * size[0] * size[1]:
        raise ValueError(
            f"the first Linear takes {first.in_features} features, but Flatten gives "
            f"{channels} channels x {size[0]} x {size[1]} = {channels * size[0] * size[1]}"
            + (
                " (pass input_size when the feature map is not square)"
                if input_size is None
                else ""
            )
        )
    converted = [copy.deepcopy(layer) for layer in features]
    for i, layer in enumerate(head, start=flatten[0] + 1):
        if isinstance(layer, nn.Linear):
            in_channels, kernel = (channels, size) if layer is first else (layer.in_features, 1)
            conv = nn.Conv2d(
                in_channels,
                layer.out_features,
                kernel,  # the first Linear sees the whole map, the next ones a 1 x 1 map
                bias=layer.bias is not None,
                dtype=layer.weight.dtype,
                device=layer.weight.device,
            )
            with torch.no_grad():
                conv.weight.copy_(layer.weight.reshape(conv.weight.shape))  # [F, C, kh, kw]
                if layer.bias is not None:
                    conv.bias.copy_(layer.bias)
            converted.append(conv)
        elif isinstance(layer, pointwise):
            converted.append(copy.deepcopy(layer))
        elif isinstance(layer, (nn.Softmax, nn.LogSoftmax)) and layer.dim in (1, -1):
            converted.append(type(layer)(dim=1))  # over the classes, at every cell of the map
        else:
            raise TypeError(f"classifier[{i}] must be Linear or an activation, got {layer}")
    network = nn.Sequential(*converted)
    return network.train(classifier.training)


def _sizes(image_size, window, stride):
    """(H, W), (h, w), (s_y, s_x) as checked pairs of positive ints, the window inside."""
    image = check_per_axis(image_size, "image_size")
    window = check_per_axis(window, "window")
    stride = check_per_axis(stride, "stride")
    if window[0] > image[0] or window[1] > image[1]:
        raise ValueError(f"window {window} (h, w) must fit inside the image {image} (H, W)")
    return image, window, stride
