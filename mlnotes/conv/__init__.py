"""Convolutional layers in NumPy (chapters 5 and 10): padding, output sizes, convolution in
1, 2 and 3 dimensions and 2D pooling, each a forward/backward pair with a cache.

Layout is PyTorch's: images ``x (ndarray[N, C, H, W])``, filters ``w (ndarray[F, C, HH, WW])``,
biases ``b (ndarray[F])``; signals ``(N, C, L)`` with filters ``(F, C, K)``; volumes
``(N, C, D, H, W)`` with filters ``(F, C, KD, KH, KW)``. As in every deep-learning library,
"convolution" here is cross-correlation: the filter is not flipped.

    out, cache = conv2d_forward(x, w, b, stride=1, padding=1)
    dx, dw, db = conv2d_backward(dout, cache)
"""

from mlnotes.conv.convolution import (
    conv1d_backward,
    conv1d_forward,
    conv2d_backward,
    conv2d_forward,
    conv3d_backward,
    conv3d_forward,
    convnd_backward,
    convnd_forward,
)
from mlnotes.conv.loops import (
    avg_pool2d_backward_naive,
    avg_pool2d_forward_naive,
    conv2d_backward_naive,
    conv2d_forward_naive,
    conv2d_naive,
    max_pool2d_backward_naive,
    max_pool2d_forward_naive,
)
from mlnotes.conv.pooling import (
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)
from mlnotes.conv.shapes import conv2d_multiplications, conv2d_parameters, conv_output_size, pad
