"""Tests of DeValois1982.V1-cardinal_bias (report-only): the pinned result for a fixed seeded model
(raise the benchmark's version when it changes), the direction test and its errors."""
import numpy as np

import pytest

import topobench.nets
from topobench.errors import ModelError
from topobench.model_interface import PytorchModel
from topobench.registry import benchmark_registry

from topobench.benchmarks.devalois1982 import DeValoisCardinalBias


def _model(region_layers):
    return PytorchModel(topobench.nets.resnet18(num_classes=None, seed=0), identifier="test-resnet18-seed0-64px",
                        region_layers=region_layers, visual_degrees=8.0, image_size=64)


def test_registered_and_report_only():
    benchmark = benchmark_registry["DeValois1982.V1-cardinal_bias"]()
    assert benchmark.identifier == "DeValois1982.V1-cardinal_bias"
    assert benchmark.version == 2 and benchmark.parent == "V1" and benchmark.report_only is True
    assert "Vision Research" in benchmark.bibtex


def test_direction_of_the_bias():
    benchmark = DeValoisCardinalBias()
    rng = np.random.default_rng(0)
    cardinal = np.concatenate([rng.normal(0, 10, 300), rng.normal(90, 10, 300), rng.uniform(0, 180, 400)]) % 180
    assert float(benchmark.score_preferences(cardinal)) == 1.0
    assert float(benchmark.score_preferences((cardinal + 45) % 180)) == 0.0
    assert float(benchmark.score_preferences(rng.uniform(0, 180, 1000))) == 0.0
    # a large layer with a negligible excess (50.6 % cardinal, as uniform preferences measure through
    # the grating set) is significant by the binomial test alone, and is no bias
    n = 100_000
    slight = np.concatenate([rng.uniform(-22.5, 22.5, int(n * 0.253)), rng.uniform(67.5, 112.5, int(n * 0.253)),
                             rng.uniform(22.5, 67.5, int(n * 0.247)), rng.uniform(112.5, 157.5, int(n * 0.247))]) % 180
    assert benchmark.score_preferences(slight).attrs["details"]["p_value"] < 0.05
    assert float(benchmark.score_preferences(slight)) == 0.0
    assert benchmark.score_preferences(cardinal).attrs["details"]["report_only"] is True


def test_pinned_result_of_seeded_untrained_resnet18():
    score = DeValoisCardinalBias()(_model({"V1": "layer2.0"}))
    details = score.attrs["details"]
    # the untrained network prefers oblique orientations (45 and 67.5 deg bins hold the most units)
    assert float(score) == 0.0
    assert details["n_cardinal"] == pytest.approx(1629, abs=10)
    assert details["n_oblique"] == pytest.approx(2084, abs=10)
    assert sum(details["orientation_histogram"]) == details["n_responsive"]


def test_model_without_v1_fails_clearly():
    with pytest.raises(ModelError, match="V1"):
        DeValoisCardinalBias()(_model({"VTC": "layer4.1"}))


# ----------------------------------------------------------------------------- controls (issue 13)
@pytest.mark.parametrize("identifier", ['DeValois1982.V1-cardinal_bias'])
def test_fast_controls_through_the_skeleton(identifier, tmp_path):
    """The 64 px positive control scores >= 0.8 and its shuffled twin <= 0.1 (topobench.validity)."""
    from topobench.results import ResultsStore
    from topobench.validity import FAST_V1_CONTROLS, missed_controls
    with ResultsStore(f"sqlite:///{tmp_path / 'controls.sqlite'}") as store:
        assert missed_controls(identifier, FAST_V1_CONTROLS, store) == {}


@pytest.mark.slow
@pytest.mark.parametrize("identifier", ['DeValois1982.V1-cardinal_bias'])
def test_every_declared_control(identifier, tmp_path):
    """Every declared control (224 px density, salt-and-pepper, constant too) meets its expectation."""
    from topobench.results import ResultsStore
    from topobench.validity import missed_controls
    with ResultsStore(f"sqlite:///{tmp_path / 'controls.sqlite'}") as store:
        assert missed_controls(identifier, None, store) == {}
