"""Classic convolutional networks (chapter 6), built as torchvision builds them.

Every factory takes ``num_classes`` and ``in_channels``; those with published ImageNet weights
also take ``weights`` (``"imagenet"``, a URL or a file), and their state_dicts have
torchvision's keys and shapes, so the published files load with ``strict=True`` (and, given the
same weights, these models return torchvision's logits).
"""

from mlnotes.models.alexnet import AlexNet, alexnet
from mlnotes.models.draw import plot_architecture
from mlnotes.models.googlenet import INCEPTION_CONFIGS, BasicConv2d, GoogLeNet, Inception, googlenet
from mlnotes.models.lenet import LeNet5, lenet5
from mlnotes.models.resnet import BasicBlock, Bottleneck, ResNet, resnet18, resnet34, resnet50
from mlnotes.models.small_resnet import SmallResNet, small_resnet
from mlnotes.models.summary import Summary, SummaryRow, summary
from mlnotes.models.vgg import VGG, VGG_CONFIGS, make_features, vgg11, vgg16, vgg19
from mlnotes.models.weights import IMAGENET_MEAN, IMAGENET_STD, WEIGHTS_URLS, load_weights
