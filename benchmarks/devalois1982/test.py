"""Tests of DeValois1982.V1-cardinal_bias (report-only): the pinned result for a fixed seeded model
(raise the benchmark's version when it changes), the direction test and its errors."""
import numpy as np

import os
from pathlib import Path

import pytest
import torch

import topobench.nets
from topobench.errors import ModelError
from topobench.model_interface import PytorchModel
from topobench.registry import benchmark_registry

from topobench.benchmarks.devalois1982 import DeValoisCardinalBias

REFERENCE_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "reference-data"


@pytest.fixture(scope="module", autouse=True)
def _environment(tmp_path_factory):
    """The data host of TOPOBENCH_DATA_URL (default ../shared/reference-data), a fresh
    cache unless TOPOBENCH_HOME is set, one torch thread."""
    saved = {name: os.environ.get(name) for name in ("TOPOBENCH_DATA_URL", "TOPOBENCH_HOME")}
    if not saved["TOPOBENCH_DATA_URL"]:
        if not REFERENCE_DATA.is_dir():
            pytest.skip("no data host: set TOPOBENCH_DATA_URL")
        os.environ["TOPOBENCH_DATA_URL"] = str(REFERENCE_DATA)
    if not saved["TOPOBENCH_HOME"]:
        os.environ["TOPOBENCH_HOME"] = str(tmp_path_factory.mktemp("topobench_home"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _model(region_layers):
    return PytorchModel(topobench.nets.resnet18(num_classes=None, seed=0), identifier="test-resnet18-seed0-64px",
                        region_layers=region_layers, visual_degrees=8.0, image_size=64)


def test_registered_and_report_only():
    benchmark = benchmark_registry["DeValois1982.V1-cardinal_bias"]()
    assert benchmark.identifier == "DeValois1982.V1-cardinal_bias"
    assert benchmark.version == 1 and benchmark.parent == "V1" and benchmark.report_only is True
    assert "Vision Research" in benchmark.bibtex


def test_direction_of_the_bias():
    benchmark = DeValoisCardinalBias()
    rng = np.random.default_rng(0)
    cardinal = np.concatenate([rng.normal(0, 10, 300), rng.normal(90, 10, 300), rng.uniform(0, 180, 400)]) % 180
    assert float(benchmark.score_preferences(cardinal)) == 1.0
    assert float(benchmark.score_preferences((cardinal + 45) % 180)) == 0.0
    assert float(benchmark.score_preferences(rng.uniform(0, 180, 1000))) == 0.0
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
