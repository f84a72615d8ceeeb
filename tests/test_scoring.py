"""Scoring stores every run: a number when it succeeds, a failure (never a number) when not."""
import pytest
from brainscore_core.benchmarks import BenchmarkBase

from topobench.errors import ModelError
from topobench.results import ResultsStore
from topobench.scores import ceiled_score
from topobench.scoring import BenchmarkFailed, score_model


class FixedBenchmark(BenchmarkBase):
    def __init__(self, fail=False):
        super().__init__("Test2026.V1-fixed", ceiling=None, version=3, parent="V1", bibtex="")
        self.fail = fail
        self.datasets = ("ringach2002_v1",)

    def __call__(self, model):
        if self.fail:
            raise ModelError(f"model {model.identifier} has no positions")
        return ceiled_score(0.6, 0.8, 0.01, {"n": 5})


class Model:
    identifier = "fake-model"
    weights_sha256 = "ab" * 32


def test_result_is_stored_with_provenance(tmp_path):
    store = ResultsStore(str(tmp_path / "r.sqlite"))
    score = score_model(Model(), FixedBenchmark(), store=store)
    assert float(score) == pytest.approx(0.75)
    row = store.latest("fake-model", "Test2026.V1-fixed")
    assert row["status"] == "ok" and row["score"] == pytest.approx(0.75) and row["raw"] == pytest.approx(0.6)
    assert row["benchmark_version"] == "3" and row["model_weights_sha256"] == "ab" * 32
    assert "ringach2002_v1/ringach_2002_db.mat" in row["provenance"]["reference_data_sha256"]


def test_failing_benchmark_is_stored_as_failed(tmp_path):
    store = ResultsStore(str(tmp_path / "r.sqlite"))
    with pytest.raises(BenchmarkFailed, match="has no positions"):
        score_model(Model(), FixedBenchmark(fail=True), store=store)
    row = store.latest("fake-model", "Test2026.V1-fixed")
    assert row["status"] == "failed" and row["score"] is None and "has no positions" in row["message"]
    assert not store.has_result("fake-model", "Test2026.V1-fixed", 3)
