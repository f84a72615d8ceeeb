"""Cost of the VTC benchmarks' measurements and comparisons against their forward pass (issue 16:
at most 1.5x per benchmark), for a ResNet-18 read at layer4.1 (VTC).

Each benchmark gets its own copy of the recording of its stimulus set (the fLoc images, with or
without the scrambled ones), made once here with the forward pass timed; the benchmarks then cost
only their measurement and comparison (selectivity, split-half RSMs, patch maps). Reported as
ratios measured in one process; absolute times are noise.
"""
import time

import torch

from topobench.model_interface import PytorchModel
from topobench.nets import resnet18
from topobench.registry import load_benchmark

VTC_BENCHMARKS = ("Stigliani2015.VTC-category_selectivity", "Nordt2023.VTC-rsa",
                  "GrillSpector2014.VTC-patch_organization")
IMAGE_SIZE = 112  # layer4.1: 512 x 4 x 4 = 8,192 units


class RecordedModel:
    """A model whose recording of one stimulus set is already made."""

    def __init__(self, model, stimuli, assembly):
        self.identifier, self.regions = model.identifier, model.regions
        self.visual_degrees, self.image_size = model.visual_degrees, model.image_size
        self.positions_by_default = model.positions_by_default
        self._stimuli, self._assembly = stimuli, assembly
        self._model = model

    def layer(self, region):
        return self._model.layer(region)

    def layer_positions(self, region):
        return self._model.layer_positions(region)

    def record(self, stimuli, region):
        assert stimuli.identifier == self._stimuli.identifier
        return self._assembly


def test_vtc_benchmarks_cost_at_most_half_their_forward_pass(benchmark, fresh_home):
    torch.set_num_threads(1)
    model = PytorchModel(resnet18(num_classes=None, seed=0), "perf-resnet18-seed0-112px-vtc", {"VTC": "layer4.1"},
                         visual_degrees=8.0, image_size=IMAGE_SIZE, cache=False)
    benchmarks = [load_benchmark(name) for name in VTC_BENCHMARKS]
    recordings, forward = {}, {}
    for b in benchmarks:
        getattr(b, "ceiling", None)  # reference data decoded outside the timing
        stimuli = b.stimuli
        if stimuli.identifier not in recordings:
            start = time.perf_counter()
            recordings[stimuli.identifier] = model.record(stimuli, "VTC")
            forward[stimuli.identifier] = time.perf_counter() - start

    def metrics():
        seconds = {}
        for b in benchmarks:
            recorded = RecordedModel(model, b.stimuli, recordings[b.stimuli.identifier].copy(deep=True))
            begin = time.perf_counter()
            b(recorded)
            seconds[b.identifier] = time.perf_counter() - begin
        return seconds

    seconds = benchmark.pedantic(metrics, rounds=1, iterations=1)
    ratios = {b.identifier: (forward[b.stimuli.identifier] + seconds[b.identifier]) / forward[b.stimuli.identifier]
              for b in benchmarks}
    benchmark.extra_info.update({"forward_s": forward, "metrics_s": seconds, "ratio_per_benchmark": ratios})
    print("(forward + metrics) / forward: " + ", ".join(f"{name} {ratio:.3f}" for name, ratio in ratios.items()))
    assert max(ratios.values()) <= 1.5, ratios
