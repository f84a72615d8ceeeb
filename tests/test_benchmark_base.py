"""The benchmark skeleton (topobench.benchmark_base): declarations as class attributes, the fixed
sequence region check -> stimuli -> record -> measure -> compare -> ceiled Score, and its score."""
import math

import numpy as np
import pytest

from topobench.benchmark_base import Comparison, TopoBenchmark, V1MapBenchmark
from topobench.ceilings import PublishedClaims
from topobench.errors import ModelError


class _Model:
    identifier = "toy-model"
    regions = {"V1": "layer2.0"}

    def __init__(self, calls):
        self.calls = calls

    def record(self, stimuli, region):
        self.calls.append(("record", region, tuple(stimuli)))
        return np.array(stimuli, dtype=float) * 2.0


class _Toy(TopoBenchmark):
    identifier = "Toy2026.V1-mean"
    version = 3
    region = "V1"
    bibtex = "@misc{toy}"
    datasets = ("toy",)
    family = "responses"

    def __init__(self, target: float = 10.0, **kwargs):
        super().__init__(**kwargs)
        self.target = target
        self.calls = []
        self.made_stimuli = 0

    def make_ceiling(self):
        return PublishedClaims()

    def make_stimuli(self):
        self.made_stimuli += 1
        return [1.0, 2.0, 3.0]

    def measure(self, recording, model, layer):
        self.calls.append(("measure", layer, model.identifier))
        return float(recording.mean())

    def compare(self, measurement):
        self.calls.append(("compare", measurement))
        return Comparison(measurement / self.target, 0.01, {"mean": measurement})


def test_declarations_are_class_attributes_and_an_instance_may_override_its_identity():
    toy = _Toy()
    assert (toy.identifier, toy.version, toy.region, toy.parent, toy.bibtex) == \
        ("Toy2026.V1-mean", 3, "V1", "V1", "@misc{toy}")
    assert toy.declarations()["family"] == "responses" and toy.declarations()["datasets"] == ["toy"]
    other = _Toy(identifier="Toy2026.V4-mean", version=4, region="V4", parent="elsewhere")
    assert (other.identifier, other.version, other.region, other.parent) == ("Toy2026.V4-mean", 4, "V4", "elsewhere")
    assert _Toy.identifier == "Toy2026.V1-mean" and toy.identifier == "Toy2026.V1-mean"  # the class is untouched
    assert TopoBenchmark.report_only is False and TopoBenchmark.controls == ()


def test_the_sequence_runs_in_order_and_builds_the_ceiled_score():
    toy = _Toy()
    model = _Model(toy.calls)
    score = toy(model)
    assert toy.calls == [("record", "V1", (1.0, 2.0, 3.0)), ("measure", "layer2.0", "toy-model"), ("compare", 4.0)]
    assert float(score) == pytest.approx(0.4) and score.attrs["raw"] == pytest.approx(0.4)
    assert score.attrs["ceiling"] == 1.0 and score.attrs["error"] == 0.01
    assert score.attrs["details"] == {"mean": 4.0}
    toy(model)
    assert toy.made_stimuli == 1  # the stimulus set is built once


def test_a_model_without_the_region_fails_before_any_stimulus_is_made():
    toy = _Toy()
    model = _Model(toy.calls)
    model.regions = {"VTC": "layer4.1"}
    with pytest.raises(ModelError, match="Toy2026.V1-mean needs a V1 layer"):
        toy(model)
    assert toy.made_stimuli == 0 and toy.calls == []


def test_scores_above_the_ceiling_are_clipped_and_kept():
    score = _Toy(target=2.0)(_Model([]))
    assert float(score) == 1.0 and score.attrs["raw"] == pytest.approx(2.0)
    assert score.attrs["details"]["clipped_from"] == pytest.approx(2.0)


def test_a_comparison_may_carry_its_own_ceiling_or_value():
    toy = _Toy()
    own = toy.score(Comparison(0.3, 0.0, {}, ceiling=0.6))
    assert float(own) == pytest.approx(0.5) and own.attrs["ceiling"] == 0.6
    value = toy.score(Comparison(0.3, 0.02, {"n": 1}, ceiling=0.6, value=1.2))  # e.g. a mean of per-neuron ratios
    assert float(value) == 1.0 and value.attrs["details"]["clipped_from"] == pytest.approx(1.2)
    assert (value.attrs["raw"], value.attrs["ceiling"], value.attrs["error"]) == (0.3, 0.6, 0.02)
    bad = toy.score(Comparison(0.3, 0.0, {}, ceiling=0.0))
    assert math.isnan(float(bad)) and "ceiling_problem" in bad.attrs["details"]


def test_the_ceiling_object_is_made_once():
    toy = _Toy()
    assert toy.ceiling_object is toy.ceiling_object
    assert float(toy.ceiling) == 1.0


def test_a_benchmark_that_names_no_step_says_which():
    class Bare(TopoBenchmark):
        identifier, version, region, family = "Bare2026.V1-x", 1, "V1", "topography"

    with pytest.raises(NotImplementedError, match="make_stimuli"):
        Bare()(_Model([]))
    with pytest.raises(NotImplementedError, match="names no ceiling"):
        Bare().ceiling


def test_v1_map_benchmarks_share_stimuli_region_and_controls():
    assert V1MapBenchmark.region == "V1" and V1MapBenchmark.family == "topography"
    assert "control-v1-salt-and-pepper" in V1MapBenchmark.controls
    from topobench.benchmarks.kaschube2010 import KaschubePinwheelDensity
    from topobench.benchmarks.nauhaus2012 import NauhausOrientationSmoothness
    for benchmark in (KaschubePinwheelDensity(), NauhausOrientationSmoothness()):
        assert isinstance(benchmark, V1MapBenchmark) and benchmark.controls == V1MapBenchmark.controls
