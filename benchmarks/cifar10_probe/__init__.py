"""CIFAR10.engineering-linear_probe: test accuracy of a logistic-regression read-out of the
model's VTC layer on CIFAR-10 (Krizhevsky 2009), the cost of topography for the task.
Engineering family: kept out of the brain aggregate."""
from topobench.registry import benchmark_registry

from .benchmark import CIFAR10LinearProbe

benchmark_registry["CIFAR10.engineering-linear_probe"] = CIFAR10LinearProbe
