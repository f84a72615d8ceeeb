"""Tests of Nauhaus2012.V1-orientation_smoothness and Nauhaus2012.V1-sf_smoothness: the pinned
scores of a fixed seeded model (raise the benchmarks' version when they change) and their errors.
Properties on maps with known answers: tests/test_v1_map_benchmarks.py."""

import pytest

import topobench.nets
from topobench.errors import ModelError
from topobench.model_interface import PytorchModel
from topobench.registry import benchmark_registry

from topobench.benchmarks.nauhaus2012 import NauhausOrientationSmoothness, NauhausSFSmoothness


def _model(region_layers):
    return PytorchModel(topobench.nets.resnet18(num_classes=None, seed=0), identifier="test-resnet18-seed0-64px",
                        region_layers=region_layers, visual_degrees=8.0, image_size=64)


@pytest.fixture(scope="module")
def model():
    return _model({"V1": "layer2.0"})


def test_registered():
    for name, feature in (("Nauhaus2012.V1-orientation_smoothness", "orientation"),
                          ("Nauhaus2012.V1-sf_smoothness", "sf")):
        benchmark = benchmark_registry[name]()
        assert benchmark.identifier == name and benchmark.feature == feature
        assert benchmark.version == 2 and benchmark.parent == "V1"
        assert benchmark.datasets == ("nauhaus2012_v1",) and benchmark.seed == 0
        assert "doi.org/10.1038/nn.3255" in benchmark.bibtex


def test_pinned_orientation_smoothness_of_seeded_untrained_resnet18(model):
    """Version 2 (the declared scale where the spectrum has no real peak; curve_agreement):
    0.0226 (raw 0.0182, ceiling 0.8041, distances in the spectrum's maximum, 6.60 mm) -> 0.0309."""
    score = NauhausOrientationSmoothness()(model)
    details = score.attrs["details"]
    # an untrained network's orientation map is salt-and-pepper: its curve is flat at 1
    assert float(score) == pytest.approx(0.0309, abs=0.001)
    assert score.attrs["raw"] == pytest.approx(0.0277, abs=0.001)
    assert score.attrs["ceiling"] == pytest.approx(0.8953, abs=0.001)
    assert details["n_units"] == 128 * 8 * 8 and details["n_responsive"] == pytest.approx(3713, abs=5)
    # the spectrum's maximum (6.82 mm) is no real peak: distances in the declared 3.5 mm of a 36.75 mm sheet
    assert details["column_spacing"]["column_spacing_mm"] == pytest.approx(6.817, abs=0.01)
    assert details["column_spacing"]["spectral_peak_is_real"] is False
    assert details["scale"]["source"] == "declared" and details["scale"]["sheet_side_mm"] == pytest.approx(36.75)
    assert details["model_column_spacing_mm"] == pytest.approx(3.5, abs=1e-6)
    assert details["model_smoothness_index_tdann"] == pytest.approx(0.0, abs=0.005)
    assert max(abs(v - 1) for v in details["model_curve"]["ratio_other_channel"]) < 0.02
    assert details["positions_by_default"] is True
    assert "clipped_from" not in details


def test_pinned_sf_smoothness_of_seeded_untrained_resnet18(model):
    """Version 2: 0.0628 (raw 0.0456, ceiling 0.7259) -> 0.0481."""
    score = NauhausSFSmoothness()(model)
    details = score.attrs["details"]
    assert float(score) == pytest.approx(0.0481, abs=0.001)
    assert score.attrs["raw"] == pytest.approx(0.0408, abs=0.001)
    assert score.attrs["ceiling"] == pytest.approx(0.8466, abs=0.001)
    assert details["scale"]["source"] == "declared"
    assert details["model_spread"] == pytest.approx(0.732, abs=0.005)  # s.d. of log2 preferred SF (octaves)
    assert set(details["macaque_panel_curves"]) == set("cdgh")


def test_model_without_v1_fails_clearly():
    for benchmark in (NauhausOrientationSmoothness(), NauhausSFSmoothness()):
        with pytest.raises(ModelError, match="V1"):
            benchmark(_model({"VTC": "layer4.1"}))


def test_unknown_feature():
    from topobench.benchmarks.nauhaus2012.benchmark import NauhausSmoothness
    with pytest.raises(ValueError, match="orientation, sf"):
        NauhausSmoothness(feature="color")


# ----------------------------------------------------------------------------- controls (issue 13)
@pytest.mark.parametrize("identifier", ['Nauhaus2012.V1-orientation_smoothness', 'Nauhaus2012.V1-sf_smoothness'])
def test_fast_controls_through_the_skeleton(identifier, tmp_path):
    """The 64 px positive control scores >= 0.8 and its shuffled twin <= 0.1 (topobench.validity)."""
    from topobench.results import ResultsStore
    from topobench.validity import FAST_V1_CONTROLS, missed_controls
    with ResultsStore(f"sqlite:///{tmp_path / 'controls.sqlite'}") as store:
        assert missed_controls(identifier, FAST_V1_CONTROLS, store) == {}


@pytest.mark.slow
@pytest.mark.parametrize("identifier", ['Nauhaus2012.V1-orientation_smoothness', 'Nauhaus2012.V1-sf_smoothness'])
def test_every_declared_control(identifier, tmp_path):
    """Every declared control (224 px density, salt-and-pepper, constant too) meets its expectation."""
    from topobench.results import ResultsStore
    from topobench.validity import missed_controls
    with ResultsStore(f"sqlite:///{tmp_path / 'controls.sqlite'}") as store:
        assert missed_controls(identifier, None, store) == {}
