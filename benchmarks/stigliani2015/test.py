"""Tests of Stigliani2015.VTC-category_selectivity (report-only): planted selectivity is found
at its planted fraction, noise gives none, and the pinned result of a fixed seeded model."""

import numpy as np
import pytest

import topobench.nets
from topobench.benchmarks.stigliani2015 import Stigliani2015CategorySelectivity
from topobench.errors import ModelError
from topobench.metrics.selectivity import DOMAINS
from topobench.model_interface import PytorchModel
from topobench.registry import benchmark_registry

LABELS = np.repeat([c for pair in DOMAINS.values() for c in pair], 144)


def test_registered_and_report_only():
    benchmark = benchmark_registry["Stigliani2015.VTC-category_selectivity"]()
    assert benchmark.report_only and benchmark.identifier == "Stigliani2015.VTC-category_selectivity"


def test_planted_face_and_place_units_are_found_at_their_fractions():
    rng = np.random.default_rng(0)
    responses = rng.normal(size=(LABELS.size, 1000))
    faces = np.isin(LABELS, DOMAINS["faces"])
    places = np.isin(LABELS, DOMAINS["places"])
    responses[:, :100] += 2.0 * faces[:, None]      # 10 % face-selective
    responses[:, 100:150] += 2.0 * places[:, None]  # 5 % place-selective
    score = Stigliani2015CategorySelectivity(n_resamples=5).score_responses(responses, LABELS)
    fractions = score.attrs["details"]["selective_fractions"]
    assert fractions["faces"] == pytest.approx(0.10, abs=0.01)
    assert fractions["places"] == pytest.approx(0.05, abs=0.01)
    assert fractions["bodies"] < 0.01 and fractions["characters"] < 0.01
    assert float(score) == pytest.approx(0.15, abs=0.015)
    assert score.attrs["error"] < 0.02


def test_noise_has_no_selective_units():
    responses = np.random.default_rng(1).normal(size=(LABELS.size, 500))
    score = Stigliani2015CategorySelectivity(n_resamples=0).score_responses(responses, LABELS)
    assert float(score) < 0.01


def test_model_without_vtc_fails_clearly():
    model = PytorchModel(topobench.nets.resnet18(num_classes=None, seed=0), identifier="v1-only",
                         region_layers={"V1": "layer2.0"}, visual_degrees=8.0, image_size=64)
    with pytest.raises(ModelError, match="needs a VTC layer"):
        Stigliani2015CategorySelectivity()(model)


def test_pinned_result_of_seeded_untrained_resnet18_on_a_floc_subset():
    from topobench.stimuli.base import subset
    from topobench.stimuli.floc import floc_stimuli
    stimuli = floc_stimuli()
    stimuli = subset(stimuli, (stimuli.groupby("category").cumcount() < 48).to_numpy())
    model = PytorchModel(topobench.nets.resnet18(num_classes=None, seed=0), identifier="test-resnet18-seed0-64px",
                         region_layers={"VTC": "layer4.1"}, visual_degrees=8.0, image_size=64)
    score = Stigliani2015CategorySelectivity(stimuli=stimuli, n_resamples=5)(model)
    details = score.attrs["details"]
    assert details["n_images"] == 480 and details["n_units"] == 2048
    assert float(score) == pytest.approx(0.0200, abs=0.001)
    # the same units GrillSpector2014.VTC-patch_organization counts as face-selective
    assert details["selective_fractions"]["faces"] == pytest.approx(0.0176, abs=0.0005)
