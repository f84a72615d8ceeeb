"""Tests of the Cowley2023.V4-* benchmarks: the pinned score of a fixed seeded model
on a subset of session 210325 (raise the benchmark's version when it changes),
errors, report-only marking; full scores behind the ``slow`` marker."""
import math

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

import topobench.nets
from topobench.benchmarks.cowley2023 import (Cowley2023V4PLS, Cowley2023V4Ridge,
                                             Cowley2023V4RidgeSessions)
from topobench.errors import ModelError
from topobench.features import ProjectionSpec
from topobench.model_interface import PytorchModel
from topobench.registry import benchmark_registry

#: The fast path: the first 320 images of 210325, a projection fitted on 300 of the ImageNet images.
FAST = dict(n_images=320, projection=ProjectionSpec(n_fit_images=300))


def _model(region_layers=None):
    return PytorchModel(topobench.nets.resnet18(num_classes=None, seed=0), identifier="test-resnet18-seed0-64px",
                        region_layers=region_layers or {"V4": "layer3.1"}, visual_degrees=8.0, image_size=64)


@pytest.fixture(scope="module", autouse=True)
def _one_blas_thread():
    """One BLAS thread: the same numbers everywhere and no oversubscription on shared machines."""
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def fast_score():
    return Cowley2023V4Ridge(**FAST)(_model())


def test_registered():
    for identifier, cls in [("Cowley2023.V4-ridge", Cowley2023V4Ridge), ("Cowley2023.V4-pls", Cowley2023V4PLS),
                            ("Cowley2023.V4-ridge_sessions", Cowley2023V4RidgeSessions)]:
        assert benchmark_registry[identifier] is cls
        benchmark = cls()
        assert benchmark.identifier == identifier
        assert benchmark.version == 1 and benchmark.parent == "V4"
        assert "10.1101/2023.11.22.568315" in benchmark.bibtex
        assert benchmark.datasets == ("cowley2023_v4", "imagenet_sample")
        assert benchmark.seed == 0
    assert Cowley2023V4RidgeSessions.report_only is True and Cowley2023V4PLS.report_only is True
    assert Cowley2023V4Ridge.report_only is False


def test_pinned_score_of_seeded_untrained_resnet18(fast_score):
    details = fast_score.attrs["details"]
    assert float(fast_score) == pytest.approx(0.4065, abs=0.001)
    assert fast_score.attrs["raw"] == pytest.approx(0.3439, abs=0.001)
    assert fast_score.attrs["ceiling"] == pytest.approx(0.8485, abs=0.001)
    assert details["n_images"] == 320 and details["n_neurons"] == 50 == details["n_neurons_scored"]
    assert details["n_components"] == 299 and not details["sketched"] and details["n_units"] == 256 * 4 * 4
    assert details["layer"] == "layer3.1" and details["image_degrees"] == 8.0
    assert "clipped_from" not in details


def test_details_are_consistent(fast_score):
    details = fast_score.attrs["details"]
    r = np.array(details["r_per_neuron"])
    ceiling = np.array(details["ceiling_per_neuron"])
    assert np.mean(r / ceiling) == pytest.approx(float(fast_score))
    assert np.mean(r) == pytest.approx(fast_score.attrs["raw"])
    assert np.allclose(ceiling, np.sqrt(np.clip(details["reliability_per_neuron"], 0, None)))
    assert 0 < fast_score.attrs["error"] < 0.1
    assert len(details["neuroid_id"]) == 50 and details["neuroid_id"][0] == "210325.0"


def test_cached_second_run_is_identical(fast_score):
    again = Cowley2023V4Ridge(**FAST)(_model())
    assert float(again) == float(fast_score)
    assert again.attrs["details"]["r_per_neuron"] == fast_score.attrs["details"]["r_per_neuron"]


def test_model_without_v4_fails_clearly():
    with pytest.raises(ModelError, match="V4"):
        Cowley2023V4Ridge(**FAST)(_model({"V1": "layer2.0"}))
    with pytest.raises(ModelError, match="V4"):
        Cowley2023V4RidgeSessions(**FAST)(_model({"VTC": "layer4.1"}))


def test_sessions_benchmark_is_report_only_and_raw():
    score = Cowley2023V4RidgeSessions(sessions=("210305",), n_images=200,
                                      projection=FAST["projection"])(_model())
    details = score.attrs["details"]
    assert details["report_only"] is True and "ceiling" in details["report_only_reason"]
    assert math.isnan(score.attrs["ceiling"])
    assert float(score) == pytest.approx(details["per_session"]["210305"]["mean_r"])
    assert float(score) == pytest.approx(0.3460, abs=0.001)
    # 200 images of 210305: originals and their blurred copies grouped together
    assert details["per_session"]["210305"]["n_image_groups"] < 200


@pytest.mark.slow
def test_full_scores_of_seeded_untrained_resnet18():
    model = _model()
    # measured 2026-12-01 (OMP_NUM_THREADS=1, one torch thread)
    ridge = Cowley2023V4Ridge()(model)
    assert float(ridge) == pytest.approx(0.4359, abs=0.001)
    assert ridge.attrs["raw"] == pytest.approx(0.3748, abs=0.001)
    assert ridge.attrs["ceiling"] == pytest.approx(0.8596, abs=0.001)
    pls = Cowley2023V4PLS()(model)
    assert float(pls) == pytest.approx(0.4196, abs=0.001)
    sessions = Cowley2023V4RidgeSessions()(model)
    per_session = sessions.attrs["details"]["per_session"]
    assert len(per_session) == 12
    assert float(sessions) == pytest.approx(0.3731, abs=0.001)
    assert per_session["190925"]["n_duplicated_images"] == 300
