"""`leaderboard verify`: rescoring stored pairs into a temporary store reproduces them at 4
decimals, and a stored number that does not reproduce is reported (exit 1)."""
from __future__ import annotations

import datetime as dt

import pytest

from topobench.leaderboard.run import _model, run_leaderboard
from topobench.leaderboard.verify import compare, select_rows, verify
from topobench.results import utc_now
from topobench.scores import ceiled_score

MODELS = ["test-lb-a", "test-lb-b"]
BENCHMARKS = ["Fake2026.V1-forward", "Fake2026.VTC-constant", "Fake2026.V1-broken"]


@pytest.fixture
def cli(monkeypatch):
    import topobench.cli
    if "topobench.leaderboard.cli" not in topobench.cli.COMMAND_MODULES:
        monkeypatch.setattr(topobench.cli, "COMMAND_MODULES",
                            [*topobench.cli.COMMAND_MODULES, "topobench.leaderboard.cli"])
    return topobench.cli.main


def test_stored_scores_reproduce(fakes, store, store_url, cli, capsys):
    run_leaderboard(MODELS, BENCHMARKS, store, progress=False)
    before = store.rows()
    report = verify(store, models=MODELS, benchmarks=BENCHMARKS, progress=False)
    assert len(report.checks) == 6 and report.differing == []
    assert "6 same, 0 different" in report.text()
    assert store.rows() == before  # rescored into a temporary store, never the real one
    status = cli(["leaderboard", "verify", "--db", store_url, "--quiet", "--models", *MODELS,
                  "--benchmarks", *BENCHMARKS])
    assert status == 0 and "6 same, 0 different" in capsys.readouterr().out


def test_a_score_that_does_not_reproduce_is_reported(fakes, store, store_url, cli, capsys):
    run_leaderboard(["test-lb-a"], BENCHMARKS, store, progress=False)
    row = store.latest("test-lb-a", "Fake2026.VTC-constant")
    store.record_result("test-lb-a", row["model_weights_sha256"], "Fake2026.VTC-constant", 1,
                        ceiled_score(0.31, 0.6, 0.01), utc_now(), provenance=row["provenance"],
                        finished_at=utc_now() + dt.timedelta(seconds=1))
    report = verify(store, models=["test-lb-a"], benchmarks=BENCHMARKS, progress=False)
    assert [(c.model, c.benchmark) for c in report.differing] == [("test-lb-a", "Fake2026.VTC-constant")]
    assert report.differing[0].differences == ["score 0.5167 -> 0.5000", "raw 0.3100 -> 0.3000"]
    status = cli(["leaderboard", "verify", "--db", store_url, "--quiet", "--models", "test-lb-a",
                  "--benchmarks", *BENCHMARKS])
    out = capsys.readouterr().out
    assert status == 1 and "DIFFERENT  test-lb-a  Fake2026.VTC-constant v1" in out and "1 different" in out


def test_sample_is_drawn_with_the_seed(fakes, store):
    run_leaderboard(MODELS, BENCHMARKS, store, progress=False)
    everything = select_rows(store, MODELS, BENCHMARKS)
    assert len(everything) == 6
    picked = [(r["model_identifier"], r["benchmark_identifier"]) for r in select_rows(store, MODELS, BENCHMARKS,
                                                                                     sample=2, seed=5)]
    again = [(r["model_identifier"], r["benchmark_identifier"]) for r in select_rows(store, MODELS, BENCHMARKS,
                                                                                    sample=2, seed=5)]
    assert len(picked) == 2 and picked == again
    report = verify(store, sample=2, seed=5, models=MODELS, benchmarks=BENCHMARKS, progress=False)
    assert [(c.model, c.benchmark) for c in report.checks] == picked and not report.differing


def test_compare_names_every_kind_of_difference():
    stored = {"status": "ok", "score": 0.5, "raw": 0.4, "ceiling": 0.8, "error": 0.01, "message": None,
              "model_weights_sha256": "a" * 64, "topobench_version": "0.1.0",
              "provenance": {"seed": 0, "reference_data_sha256": {"d/f.mat": "1" * 64}}}
    assert compare(stored, dict(stored)) == ([], [])
    assert compare(stored, {**stored, "score": 0.50004}) == ([], [])  # same at 4 decimals
    changed = {**stored, "raw": 0.41, "model_weights_sha256": "b" * 64, "topobench_version": "0.2.0",
               "provenance": {"seed": 1, "reference_data_sha256": {"d/f.mat": "2" * 64}}}
    differences, notes = compare(stored, changed)
    assert differences[0] == "raw 0.4000 -> 0.4100"
    assert any("weights" in text for text in differences) and any("reference data d/f.mat" in text
                                                                   for text in differences)
    assert "seed 0 -> 1" in differences and notes == ["topobench 0.1.0 -> 0.2.0"]
    failed = {**stored, "status": "failed", "message": "boom"}
    assert compare(stored, failed)[0][0] == "status ok -> failed: boom"


def test_rescoring_skips_the_activation_cache(monkeypatch):
    from topobench import registry
    from topobench.model_interface import PytorchModel
    from topobench.nets import resnet18
    monkeypatch.setitem(registry.model_registry, "test-lb-cached", lambda: PytorchModel(
        resnet18(num_classes=None, seed=0), "test-lb-cached", {"V1": "layer2.0"}, image_size=64))
    assert _model("test-lb-cached", no_cache=True).cache is False
    assert _model("test-lb-cached", no_cache=False).cache is True
