"""The open-questions figures: the sweep figure draws from a record of the measured numbers, and
scores are committed and reused (a rerun does not score a stored pair again)."""
import numpy as np
import pytest
from brainscore_core.benchmarks import BenchmarkBase

from topobench.registry import benchmark_registry, discover
from topobench.results import ResultsStore
from topobench.scores import ceiled_score
from topobench.tdann.questions import PROBE, SWEEP_BENCHMARKS, plot_sweep, scores


def _record(alphas=(0.0, 0.1, 0.25, 2.5, 25.0)):
    rng = np.random.default_rng(0)
    models = {}
    for alpha in alphas:
        ratio = list(np.round(0.6 + 0.1 * rng.random(3), 3))
        models[f"{alpha:g}"] = {
            "scores": {name: {"status": "ok", "score": float(rng.random()), "raw": float(rng.random()),
                              "error": 0.02} for name in SWEEP_BENCHMARKS},
            "smoothness": {"bins_mm": [[0.0, 0.5], [0.5, 1.0], [1.0, 2.0]], "ratio": ratio,
                           "interval_95": [[r - 0.05 for r in ratio], [r + 0.05 for r in ratio]]}}
    return {"models": models, "budget": "test"}


def test_sweep_figure_is_drawn_from_the_record(tmp_path):
    path = plot_sweep(_record(), tmp_path / "alpha_sweep.png")
    assert path.is_file() and path.stat().st_size > 20_000


class Counting(BenchmarkBase):
    calls = 0

    def __init__(self):
        super().__init__(identifier=PROBE, ceiling=None, version=1, parent="engineering", bibtex="")

    def __call__(self, model):
        Counting.calls += 1
        return ceiled_score(0.5, 1.0, 0.01, {})


def test_scores_are_stored_once_and_reused(tmp_path, monkeypatch):
    from topobench.model_interface import PytorchModel
    from topobench.nets import resnet18
    discover("benchmark")  # the real plugins first, so that the fake below is not overwritten
    monkeypatch.setitem(benchmark_registry, PROBE, Counting)
    model = PytorchModel(resnet18(num_classes=None, seed=0), "q-test", {"VTC": "layer4.1"}, image_size=32,
                         cache=False)
    store = ResultsStore(str(tmp_path / "results.sqlite"))
    first = scores(model, store, benchmarks=(PROBE,))
    second = scores(model, store, benchmarks=(PROBE,))
    assert Counting.calls == 1
    assert first == second and first[PROBE]["raw"] == pytest.approx(0.5)
