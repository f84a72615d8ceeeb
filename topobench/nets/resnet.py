"""ResNet-18 (He et al. 2016, CVPR) with torchvision's parameter names.

Written here because PyPI's torchvision does not import beside the pinned CPU
torch; the state-dict keys (``conv1.weight``, ``layer2.0.downsample.0.weight``,
``fc.bias``...) are torchvision's, so official checkpoints (torchvision, VISSL
trunks of TDANN after stripping their prefix) load unchanged.
"""
from __future__ import annotations

import torch
from torch import nn

#: The eight BasicBlock outputs, each with a cortical sheet in TDANN.
BLOCK_NAMES = ("layer1.0", "layer1.1", "layer2.0", "layer2.1",
               "layer3.0", "layer3.1", "layer4.0", "layer4.1")


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or in_planes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride, bias=False),
                                            nn.BatchNorm2d(planes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """ResNet with BasicBlocks; ``fc`` is optional (``num_classes=None`` gives a trunk)."""

    def __init__(self, layers=(2, 2, 2, 2), num_classes: int | None = 1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        planes, in_planes = (64, 128, 256, 512), 64
        for index, (width, blocks) in enumerate(zip(planes, layers), start=1):
            stride = 1 if index == 1 else 2
            stage = [BasicBlock(in_planes, width, stride)] + [BasicBlock(width, width) for _ in range(blocks - 1)]
            setattr(self, f"layer{index}", nn.Sequential(*stage))
            in_planes = width
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes) if num_classes else None
        self._init_weights()

    def _init_weights(self) -> None:
        """torchvision's initialisation: Kaiming normal (fan out) convs, unit BN."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled 512-d trunk output."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(self.avgpool(x), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        return x if self.fc is None else self.fc(x)


def resnet18(num_classes: int | None = 1000, seed: int | None = None) -> ResNet:
    """ResNet-18; with ``seed`` the random initialisation is reproducible."""
    if seed is None:
        return ResNet((2, 2, 2, 2), num_classes)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return ResNet((2, 2, 2, 2), num_classes)
