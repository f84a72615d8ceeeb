"""Tests of Nordt2023.VTC-rsa: the pinned score of a fixed seeded model (raise the
benchmark's version when it changes), its errors, Gaussian-noise features, and one
held-out subject entered as a model. More score semantics on matrices (random
matrices): tests/test_rsa.py."""

import numpy as np
import pytest
from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly

import topobench.nets
from topobench.benchmarks.nordt2023 import Nordt2023VtcRsa
from topobench.errors import ModelError
from topobench.model_interface import PytorchModel
from topobench.registry import benchmark_registry


def _model(region_layers):
    return PytorchModel(topobench.nets.resnet18(num_classes=None, seed=0), identifier="test-resnet18-seed0-64px",
                        region_layers=region_layers, visual_degrees=8.0, image_size=64)


def floc_subset(per_category=48):
    """The first ``per_category`` images of each fLoc category (no scrambled): fast pins."""
    from topobench.stimuli.base import subset
    from topobench.stimuli.floc import floc_stimuli
    stimuli = floc_stimuli()
    return subset(stimuli, (stimuli.groupby("category").cumcount() < per_category).to_numpy())


class _NoiseModel:
    """Gaussian-noise 'features' for every image: no category structure at all."""

    identifier = "gaussian-noise"
    regions = {"VTC": "noise"}

    def __init__(self, n_units=512, seed=0):
        self.n_units, self.seed = n_units, seed

    def record(self, stimuli, region):
        values = np.random.default_rng(self.seed).normal(size=(len(stimuli), self.n_units))
        coords = {name: ("presentation", stimuli[name].values) for name in stimuli.columns}
        coords["neuroid_id"] = ("neuroid", np.arange(self.n_units))
        return NeuroidAssembly(values, coords=coords, dims=["presentation", "neuroid"])


def test_registered():
    benchmark = benchmark_registry["Nordt2023.VTC-rsa"]()
    assert benchmark.identifier == "Nordt2023.VTC-rsa"
    assert benchmark.version == 2 and benchmark.parent == "VTC"
    assert "10.1038/s41467-023-43146-w" in benchmark.bibtex
    assert benchmark.datasets == ("floc", "nordt2023_vtc_rsm")


def test_pinned_score_of_seeded_untrained_resnet18_on_a_floc_subset():
    """Fast pin: the first 48 images of each fLoc category (480 images, no scrambled)
    through the 64 px untrained ResNet-18: its 2,048 layer4.1 units carry little of the
    children's category geometry. (Version 1, against single subjects: 0.0945, raw 0.0811.)"""
    score = Nordt2023VtcRsa(stimuli=floc_subset())(_model({"VTC": "layer4.1"}))
    details = score.attrs["details"]
    assert float(score) == pytest.approx(0.0879, abs=0.001)
    assert score.attrs["raw"] == pytest.approx(0.0755, abs=0.001)
    assert score.attrs["ceiling"] == pytest.approx(0.8587, abs=0.001)
    assert score.attrs["error"] == pytest.approx(0.0287, abs=0.001)
    assert details["n_images"] == 480 and details["n_units"] == 2048
    assert details["n_subjects"] == 29 and len(details["raw_per_target"]) == 29
    assert len(details["per_subject_correlation"]) == 29
    assert np.mean(list(details["raw_per_target"].values())) == pytest.approx(score.attrs["raw"], abs=1e-4)
    assert details["ceiling_method"] == "HeldOutSubject"
    assert np.array(details["model_rsm"]).shape == (10, 10)
    assert details["categories"][0] == "number"
    assert details["positions_by_default"] is True
    assert "clipped_from" not in details


@pytest.mark.slow
def test_pinned_score_of_seeded_untrained_resnet18():
    """The benchmark as registered (all 1,440 fLoc images) on the same model (about 20 s).
    (Version 1: 0.0713, raw 0.0612, error 0.0134.)"""
    score = Nordt2023VtcRsa()(_model({"VTC": "layer4.1"}))
    assert float(score) == pytest.approx(0.0609, abs=0.001)
    assert score.attrs["raw"] == pytest.approx(0.0523, abs=0.001)
    assert score.attrs["error"] == pytest.approx(0.0266, abs=0.001)
    assert score.attrs["details"]["n_images"] == 1440


def test_gaussian_noise_features_score_near_zero():
    raws = [Nordt2023VtcRsa()(_NoiseModel(seed=seed)).attrs["raw"] for seed in range(3)]
    assert abs(np.mean(raws)) < 0.08


def test_one_held_out_subject_entered_as_a_model_scores_about_1():
    """One more individual: each child's matrix entered as the model through the plugin's own
    scoring (``score_matrix``), against a reference of the other 28 children (their own ceiling),
    lands at 1.000 on average (0.85 to 1.11 over the 29 children; 5th-95th percentile 0.89 to
    1.08: children differ in their own measurement noise). Version 1, which compared the model
    with single children, gave 0.878 (0.76 to 0.96)."""
    reference = Nordt2023VtcRsa().reference
    ratios = []
    for subject in reference.subjects:
        others = [s for s in reference.subjects if s != subject]
        score = Nordt2023VtcRsa(subjects=others, reference=reference).score_matrix(
            reference.matrices[reference.subjects.index(subject)])
        assert score.attrs["details"]["n_subjects"] == 28
        ratios.append(score.attrs["raw"] / score.attrs["ceiling"])  # unclipped
    ratios = np.array(ratios)
    assert 0.9 <= ratios.mean() <= 1.05, ratios
    assert 0.8 < ratios.min() and ratios.max() < 1.15, ratios
    assert 0.85 < np.percentile(ratios, 5) and np.percentile(ratios, 95) < 1.1, ratios


def test_model_without_vtc_fails_clearly():
    with pytest.raises(ModelError, match="VTC"):
        Nordt2023VtcRsa()(_model({"V1": "layer2.0"}))


def test_wrong_matrix_shape_is_refused():
    benchmark = Nordt2023VtcRsa()
    with pytest.raises(ValueError, match="10 x 10"):
        benchmark.score_matrix(np.zeros((3, 3)))
    with pytest.raises(ModelError, match="constant"):
        benchmark.score_matrix(np.zeros((10, 10)))
