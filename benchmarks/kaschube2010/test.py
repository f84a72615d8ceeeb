"""Tests of Kaschube2010.V1-pinwheel_density: the pinned score of a fixed seeded model (raise the
benchmark's version when it changes), its scale and its errors. Properties on maps with known
answers: tests/test_maps.py and tests/test_v1_map_benchmarks.py."""
import math

import pytest

import topobench.nets
from topobench.errors import ModelError
from topobench.model_interface import PytorchModel
from topobench.registry import benchmark_registry

from topobench.benchmarks.kaschube2010 import KaschubePinwheelDensity
from topobench.benchmarks.kaschube2010.benchmark import density_score


def _model(region_layers):
    return PytorchModel(topobench.nets.resnet18(num_classes=None, seed=0), identifier="test-resnet18-seed0-64px",
                        region_layers=region_layers, visual_degrees=8.0, image_size=64)


def test_registered():
    benchmark = benchmark_registry["Kaschube2010.V1-pinwheel_density"]()
    assert benchmark.identifier == "Kaschube2010.V1-pinwheel_density"
    assert benchmark.version == 1 and benchmark.parent == "V1" and benchmark.seed == 0
    assert "10.1126/science.1194869" in benchmark.bibtex
    assert benchmark.ceiling == 1.0


def test_scale_factor_two_is_clearly_worse_than_ten_percent():
    assert density_score(math.pi, math.pi, 0.5) == 1.0
    ten_percent = min(density_score(math.pi * 1.1, math.pi, 0.5), density_score(math.pi / 1.1, math.pi, 0.5))
    double = max(density_score(math.pi * 2, math.pi, 0.5), density_score(math.pi / 2, math.pi, 0.5))
    assert ten_percent > 0.95 and double < 0.15
    assert density_score(0.0, math.pi, 0.5) == 0.0


def test_pinned_score_of_seeded_untrained_resnet18():
    score = KaschubePinwheelDensity()(_model({"V1": "layer2.0"}))
    details = score.attrs["details"]
    # an untrained network's map has neither a spectral peak nor smoothness: scored 0, reason given
    assert float(score) == 0.0 and score.attrs["ceiling"] == 1.0
    assert details["gates"] == {"spectral_peak_is_real": False, "smoothness_is_real": False}
    assert details["scored_zero_because"].startswith("no real spectral peak")
    assert details["column_spacing"]["column_spacing_mm"] == pytest.approx(6.596, abs=0.01)
    assert details["near_ratio_other_channel"] == pytest.approx(0.994, abs=0.01)
    assert details["n_pinwheels"] == pytest.approx(15, abs=2)
    assert details["reference_density"] == pytest.approx(math.pi)


def test_model_without_v1_fails_clearly():
    with pytest.raises(ModelError, match="V1"):
        KaschubePinwheelDensity()(_model({"VTC": "layer4.1"}))


def test_smoothed_salt_and_pepper_fails_the_gates_though_its_density_is_near_pi():
    """Smoothing a salt-and-pepper map makes pinwheels at about pi per squared 'spacing'
    (Wolf & Geisel 1998); without a real spectral peak the benchmark scores it 0."""
    from topobench.metrics.synthetic_maps import band_limited_map, random_positions, smoothed_salt_and_pepper
    positions = random_positions(6000, 20.0, seed=0)
    benchmark = KaschubePinwheelDensity()
    smoothed = benchmark.score_map(positions, smoothed_salt_and_pepper(positions, sigma_mm=1.0, seed=3))
    assert float(smoothed) == 0.0
    assert smoothed.attrs["details"]["gates"]["spectral_peak_is_real"] is False
    real = benchmark.score_map(positions, band_limited_map(positions, spacing_mm=2.0, seed=0))
    assert all(real.attrs["details"]["gates"].values()) and float(real) > 0.5
