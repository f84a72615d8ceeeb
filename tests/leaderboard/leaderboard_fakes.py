"""Small models and cheap benchmarks for the leaderboard tests; importing registers them.

The test process registers them through the ``fakes`` fixture (which restores the
registries afterwards); subprocesses and Dask workers through ``--import
leaderboard_fakes`` / ``imports=("leaderboard_fakes",)`` with this folder on
``PYTHONPATH``. ``LB_FAKE_SLEEP_S`` makes the ``-slow`` benchmarks sleep.
"""
from __future__ import annotations

import os
import time

import numpy as np
import torch
from brainscore_core.benchmarks import BenchmarkBase
from PIL import Image

from topobench.errors import ModelError
from topobench.registry import benchmark_registry, model_registry
from topobench.scores import ceiled_score

MODELS = ("test-lb-a", "test-lb-b")


def make_model(identifier: str, seed: int):
    from topobench.model_interface import PytorchModel
    from topobench.nets import resnet18
    return PytorchModel(resnet18(num_classes=None, seed=seed), identifier, {"V1": "layer2.0"}, image_size=64,
                        cache=False)


class Fake(BenchmarkBase):
    """A cheap benchmark of the leaderboard tests."""

    def __init__(self, identifier: str, region: str, family: str | None = None, report_only=None, version=1,
                 kind: str = "forward", sleep: bool = False):
        super().__init__(identifier=identifier, ceiling=None, version=version, parent=region,
                         bibtex="@misc{fake2026, title={Fake}}")
        if family is not None:
            self.family = family
        if report_only is not None:
            self.report_only = report_only
        self.kind = kind
        self.sleep = sleep
        self.seed = 0

    def __call__(self, model):
        if self.sleep:
            time.sleep(float(os.environ.get("LB_FAKE_SLEEP_S", "0")))
        if self.kind == "broken":
            raise RuntimeError(f"{self.identifier} always fails")
        if self.kind == "no-v1" and "V1" not in model.regions:
            raise ModelError(f"{self.identifier} needs V1")
        if self.kind == "constant":
            return ceiled_score(0.3, 0.6, 0.01, {"kind": "constant"})
        generator = torch.Generator().manual_seed(self.seed)
        images = torch.randn(4, 3, 64, 64, generator=generator)
        with torch.no_grad():
            features = model.module(images).flatten(1).numpy().astype(np.float64)
        raw = float(1.0 / (1.0 + np.exp(-features.std() * 3.0))) * 0.8  # in (0, 0.8)
        if self.kind == "response":
            raw = float(abs(np.corrcoef(features[0], features[1])[0, 1])) * 0.7
        return ceiled_score(raw, 0.8, 0.02, {"n_features": int(features.shape[1]), "kind": self.kind})

    def figures(self, details, folder):
        """One small deterministic PNG per pair (the site's picture hook)."""
        if self.kind != "forward":
            return []
        value = int(255 * (details.get("n_features", 0) % 7) / 7)
        pixels = np.full((24, 32, 3), value, dtype=np.uint8)
        pixels[::4, :, 0] = 255
        path = folder / "pattern.png"
        Image.fromarray(pixels).save(path)
        return [(path, "a test pattern")]


BENCHMARKS = {
    "Fake2026.V1-forward": lambda: Fake("Fake2026.V1-forward", "V1", family="topography"),
    "Fake2026.V1-response": lambda: Fake("Fake2026.V1-response", "V1", family="responses", kind="response"),
    "Fake2026.VTC-constant": lambda: Fake("Fake2026.VTC-constant", "VTC", kind="constant"),  # family: config
    "Fake2026.V1-broken": lambda: Fake("Fake2026.V1-broken", "V1", family="responses", kind="broken"),
    "Fake2026.V1-report": lambda: Fake("Fake2026.V1-report", "V1", family="responses", report_only=True,
                                       kind="response"),
}
SLOW = tuple(f"Fake2026.V1-slow{index}" for index in range(4))
for _name in SLOW:
    BENCHMARKS[_name] = (lambda name: lambda: Fake(name, "V1", family="topography", kind="constant",
                                                   sleep=True))(_name)

MODEL_FACTORIES = {"test-lb-a": lambda: make_model("test-lb-a", 0), "test-lb-b": lambda: make_model("test-lb-b", 1)}


def register() -> None:
    model_registry.update(MODEL_FACTORIES)
    benchmark_registry.update(BENCHMARKS)


register()
