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
    assert benchmark.version == 3 and benchmark.parent == "V1" and benchmark.seed == 0
    assert "10.1126/science.1194869" in benchmark.bibtex
    assert benchmark.ceiling == 1.0


def test_scale_factor_two_is_clearly_worse_than_ten_percent():
    assert density_score(math.pi, math.pi, 0.5) == 1.0
    ten_percent = min(density_score(math.pi * 1.1, math.pi, 0.5), density_score(math.pi / 1.1, math.pi, 0.5))
    double = max(density_score(math.pi * 2, math.pi, 0.5), density_score(math.pi / 2, math.pi, 0.5))
    assert ten_percent > 0.95 and double < 0.15
    assert density_score(0.0, math.pi, 0.5) == 0.0


def test_pinned_refusal_of_seeded_untrained_resnet18():
    """Version 3: refused, because the map has no orientation columns at the declared 3.5 mm scale
    (nearest pairs at 1.01 of random pairs); version 2 scored it 0 for the same reason, version 1
    for another (no real spectral peak and no smoothness at the spectrum's maximum, 6.60 mm)."""
    with pytest.raises(ModelError, match=r"has no orientation columns.*3\.5 mm, declared\) differ by 1\.01 of random"):
        KaschubePinwheelDensity()(_model({"V1": "layer2.0"}))


def test_model_without_v1_fails_clearly():
    with pytest.raises(ModelError, match="V1"):
        KaschubePinwheelDensity()(_model({"VTC": "layer4.1"}))


def test_smoothed_salt_and_pepper_is_refused_though_its_density_is_near_pi():
    """Smoothing a salt-and-pepper map makes pinwheels at about pi per squared 'spacing'
    (Wolf & Geisel 1998); it has no real spectral peak, so no column spacing: refused, with why.
    A band-limited map on the same units is scored."""
    from topobench.metrics.synthetic_maps import band_limited_map, random_positions, smoothed_salt_and_pepper
    positions = random_positions(6000, 20.0, seed=0)
    benchmark = KaschubePinwheelDensity()
    with pytest.raises(ModelError, match="no column spacing.*not a real peak"):
        benchmark.score_map(positions, smoothed_salt_and_pepper(positions, sigma_mm=1.0, seed=3))
    real = benchmark.score_map(positions, band_limited_map(positions, spacing_mm=2.0, seed=0))
    assert all(real.attrs["details"]["gates"].values()) and float(real) > 0.5


def test_dense_positive_control_scores_high():
    """The positive control: units at the density of a 224 px ResNet-18's V1 layer (128 x 28 x 28 on
    TDANN's 36.75 mm sheet) whose preferences follow a band-limited map of spacing 3.5 mm answer the
    gratings through their tuning (SyntheticV1Model): measured 0.97 (density 3.41 per squared measured
    spacing, 3.56 mm; the map's own density is 3.28 per squared 3.5 mm)."""
    from topobench.metrics.synthetic_maps import SyntheticV1Model, band_limited_map, random_positions
    positions = random_positions(128 * 28 * 28, 36.75, seed=0)
    model = SyntheticV1Model(positions, band_limited_map(positions, 3.5, seed=1), identifier="positive-control")
    score = KaschubePinwheelDensity()(model)
    details = score.attrs["details"]
    assert float(score) > 0.9
    assert details["scale"]["source"] == "spectral peak"
    assert details["scale"]["spacing_mm"] == pytest.approx(3.5, rel=0.05)
    assert details["pinwheel_density"] == pytest.approx(math.pi, rel=0.1)
    assert details["units_per_squared_spacing"] > 800


def test_unmeasurable_maps_are_refused_with_the_reason():
    """Too few units per squared spacing, or a real spectral peak but too little smoothness:
    a ModelError that names the cause, not a silent 0."""
    import numpy as np
    from topobench.metrics.synthetic_maps import band_limited_map, random_positions
    benchmark = KaschubePinwheelDensity()
    sparse = random_positions(1500, 36.75, seed=0)   # 13.6 units per (3.5 mm)^2
    with pytest.raises(ModelError, match="units per squared column spacing"):
        benchmark.score_map(sparse, band_limited_map(sparse, 3.5, seed=1))
    positions = random_positions(20000, 36.75, seed=0)
    theta = band_limited_map(positions, 3.5, seed=1)
    scattered = np.random.default_rng(5).choice(len(theta), len(theta) // 2, replace=False)
    theta[scattered] = np.random.default_rng(6).uniform(0, 180, len(scattered))   # near ratio about 0.8
    with pytest.raises(ModelError, match="too weakly smooth"):
        benchmark.score_map(positions, theta)


def test_salt_and_pepper_shuffled_and_constant_maps_are_refused():
    """No columns, no pinwheels per squared column spacing: refused with why (version 2 scored 0)."""
    import numpy as np
    from topobench.metrics.synthetic_maps import band_limited_map, random_positions, salt_and_pepper
    positions = random_positions(20000, 36.75, seed=0)
    benchmark = KaschubePinwheelDensity()
    shuffled = np.random.default_rng(2).permutation(band_limited_map(positions, 3.5, seed=1))
    for theta in (salt_and_pepper(len(positions), seed=1), shuffled):
        with pytest.raises(ModelError, match="has no orientation columns"):
            benchmark.score_map(positions, theta)
    with pytest.raises(ModelError, match="is constant"):
        benchmark.score_map(positions, np.full(len(positions), 45.0))


# ----------------------------------------------------------------------------- controls (issue 13)
@pytest.mark.parametrize("identifier", ['Kaschube2010.V1-pinwheel_density'])
def test_fast_controls_through_the_skeleton(identifier, tmp_path):
    """The 64 px positive control scores >= 0.8 and its shuffled twin is refused (no columns; topobench.validity)."""
    from topobench.results import ResultsStore
    from topobench.validity import FAST_V1_CONTROLS, missed_controls
    with ResultsStore(f"sqlite:///{tmp_path / 'controls.sqlite'}") as store:
        assert missed_controls(identifier, FAST_V1_CONTROLS, store) == {}


@pytest.mark.slow
@pytest.mark.parametrize("identifier", ['Kaschube2010.V1-pinwheel_density'])
def test_every_declared_control(identifier, tmp_path):
    """Every declared control (224 px density, salt-and-pepper, constant too) meets its expectation."""
    from topobench.results import ResultsStore
    from topobench.validity import missed_controls
    with ResultsStore(f"sqlite:///{tmp_path / 'controls.sqlite'}") as store:
        assert missed_controls(identifier, None, store) == {}
