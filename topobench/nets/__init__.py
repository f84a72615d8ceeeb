"""Network architectures written in the library (no torchvision dependency)."""
from topobench.nets.resnet import BasicBlock, ResNet, resnet18, BLOCK_NAMES

__all__ = ["BasicBlock", "ResNet", "resnet18", "BLOCK_NAMES"]
