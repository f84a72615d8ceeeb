"""Tests of LivingstoneHubel1984.V1-color_clustering: the pinned score of a fixed seeded model
(raise the benchmark's version when it changes) and its errors. Properties on maps with known
answers: tests/test_v1_map_benchmarks.py."""

import pytest

import topobench.nets
from topobench.errors import ModelError
from topobench.model_interface import PytorchModel
from topobench.registry import benchmark_registry

from topobench.benchmarks.livingstonehubel1984 import LivingstoneHubelColorClustering


def _model(region_layers):
    return PytorchModel(topobench.nets.resnet18(num_classes=None, seed=0), identifier="test-resnet18-seed0-64px",
                        region_layers=region_layers, visual_degrees=8.0, image_size=64)


def test_registered():
    benchmark = benchmark_registry["LivingstoneHubel1984.V1-color_clustering"]()
    assert benchmark.identifier == "LivingstoneHubel1984.V1-color_clustering"
    assert benchmark.version == 2 and benchmark.parent == "V1" and benchmark.seed == 0
    assert benchmark.datasets == ("nauhaus2012_v1",)
    assert "JNEUROSCI.04-01-00309.1984" in benchmark.bibtex


def test_pinned_score_of_seeded_untrained_resnet18():
    """Version 2 (distances in the declared 3.5 mm, not the spectrum's maximum at 6.60 mm, which is no
    real peak): 0.0045 (clustering index 0.0015) -> 0.0 (-0.0082)."""
    score = LivingstoneHubelColorClustering()(_model({"V1": "layer2.0"}))
    details = score.attrs["details"]
    assert float(score) == pytest.approx(0.0, abs=0.001)
    assert score.attrs["ceiling"] == pytest.approx(0.9727, abs=0.001)
    assert details["clustering_index"] == pytest.approx(-0.0082, abs=0.002)
    assert details["scale"]["source"] == "declared" and details["model_column_spacing_mm"] == pytest.approx(3.5)
    assert all(abs(value) < 0.05 for value in details["shuffled_clustering_indices"])
    assert details["color_index_spread"] == pytest.approx(0.103, abs=0.005)
    assert "stand-in" in details["reference_kind"]
    # the stand-in target: macaque SF maps cluster at about 0.3 within 0.2 column widths
    assert all(0.25 < value < 0.4 for value in details["macaque_sf_clustering_index_per_plane"].values())


def test_model_without_v1_fails_clearly():
    with pytest.raises(ModelError, match="V1"):
        LivingstoneHubelColorClustering()(_model({"VTC": "layer4.1"}))
