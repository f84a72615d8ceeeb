"""`leaderboard run`: every missing pair at current versions, each row committed at once;
stored pairs are skipped, failures too unless retried; new versions and new weights rescore."""
from __future__ import annotations

import pytest

from topobench import registry
from topobench.errors import UnknownPluginError
from topobench.leaderboard.run import plan, run_leaderboard

MODELS = ["test-lb-a", "test-lb-b"]
BENCHMARKS = ["Fake2026.V1-forward", "Fake2026.VTC-constant", "Fake2026.V1-broken"]


def _pairs(store):
    counts = {}
    for row in store.rows():
        key = (row["model_identifier"], row["benchmark_identifier"], row["benchmark_version"], row["status"])
        counts[key] = counts.get(key, 0) + 1
    return counts


def test_run_scores_missing_pairs_then_skips_them(fakes, store):
    summary = run_leaderboard(MODELS, BENCHMARKS, store, progress=False)
    assert len(summary.outcomes) == 6 and len(summary.ok) == 4 and len(summary.failed) == 2
    assert {o.benchmark for o in summary.failed} == {"Fake2026.V1-broken"}
    assert "always fails" in summary.failed[0].message
    assert "scored 6 pair(s): 4 ok, 2 failed; skipped 0" in summary.text()
    counts = _pairs(store)
    assert len(counts) == 6 and set(counts.values()) == {1}
    row = store.latest("test-lb-a", "Fake2026.V1-forward")
    assert row["model_weights_sha256"] and row["topobench_version"] and row["benchmark_version"] == "1"
    assert row["provenance"]["torch_threads"] == 1 and row["provenance"]["seed"] == 0

    again = run_leaderboard(MODELS, BENCHMARKS, store, progress=False)
    assert again.outcomes == [] and len(again.skipped_ok) == 4 and len(again.skipped_failed) == 2
    assert "--retry-failed" in again.text()
    assert _pairs(store) == counts

    retried = run_leaderboard(MODELS, BENCHMARKS, store, retry_failed=True, progress=False)
    assert {(o.model, o.benchmark) for o in retried.outcomes} == {(m, "Fake2026.V1-broken") for m in MODELS}
    assert _pairs(store)[("test-lb-a", "Fake2026.V1-broken", "1", "failed")] == 2


def test_new_benchmark_version_and_new_weights_are_rescored(fakes, store, monkeypatch):
    run_leaderboard(["test-lb-a"], ["Fake2026.V1-forward", "Fake2026.VTC-constant"], store, progress=False)
    monkeypatch.setitem(registry.benchmark_registry, "Fake2026.VTC-constant",
                        lambda: fakes.Fake("Fake2026.VTC-constant", "VTC", kind="constant", version=2))
    todo = plan(["test-lb-a"], ["Fake2026.V1-forward", "Fake2026.VTC-constant"], store)
    assert [(t.benchmark, t.version) for t in todo.tasks] == [("Fake2026.VTC-constant", "2")]
    monkeypatch.setitem(registry.model_registry, "test-lb-a", lambda: fakes.make_model("test-lb-a", 7))
    todo = plan(["test-lb-a"], ["Fake2026.V1-forward", "Fake2026.VTC-constant"], store)
    assert len(todo.tasks) == 2 and not todo.skipped_ok  # retrained weights: everything again
    summary = run_leaderboard(["test-lb-a"], ["Fake2026.V1-forward", "Fake2026.VTC-constant"], store,
                              progress=False)
    assert len(summary.ok) == 2
    assert {row["benchmark_version"] for row in store.rows(benchmark="Fake2026.VTC-constant")} == {"1", "2"}
    retrained = fakes.make_model("test-lb-a", 7).weights_sha256
    assert store.latest("test-lb-a", "Fake2026.V1-forward")["model_weights_sha256"] == retrained
    assert store.latest("test-lb-a", "Fake2026.VTC-constant", 2)["model_weights_sha256"] == retrained


def test_a_model_that_does_not_load_is_stored_as_failed(fakes, store, monkeypatch):
    def broken():
        raise FileNotFoundError("checkpoint /nowhere/model.pt is missing")
    monkeypatch.setitem(registry.model_registry, "test-lb-missing", broken)
    summary = run_leaderboard(["test-lb-missing"], ["Fake2026.V1-forward", "Fake2026.VTC-constant"], store,
                              progress=False)
    assert len(summary.failed) == 2
    row = store.latest("test-lb-missing", "Fake2026.V1-forward")
    assert row["status"] == "failed" and "checkpoint /nowhere/model.pt is missing" in row["message"]
    again = run_leaderboard(["test-lb-missing"], ["Fake2026.V1-forward"], store, progress=False)
    assert again.outcomes == [] and len(again.skipped_failed) == 1


def test_unknown_names_fail_before_any_work(fakes, store):
    with pytest.raises(UnknownPluginError, match="test-lb-nope"):
        run_leaderboard(["test-lb-a", "test-lb-nope"], BENCHMARKS, store, progress=False)
    with pytest.raises(UnknownPluginError, match="Fake2026.V1-nope"):
        run_leaderboard(["test-lb-a"], ["Fake2026.V1-nope"], store, progress=False)
    assert store.rows() == []


def test_cli_run_and_show(fakes, store_url, capsys, monkeypatch):
    import topobench.cli
    if "topobench.leaderboard.cli" not in topobench.cli.COMMAND_MODULES:
        monkeypatch.setattr(topobench.cli, "COMMAND_MODULES",
                            [*topobench.cli.COMMAND_MODULES, "topobench.leaderboard.cli"])
    status = topobench.cli.main(["leaderboard", "run", "--db", store_url, "--quiet", "--models", *MODELS,
                                 "--benchmarks", *BENCHMARKS])
    out = capsys.readouterr().out
    assert status == 0 and "scored 6 pair(s): 4 ok, 2 failed" in out and "Fake2026.V1-broken" in out
    status = topobench.cli.main(["leaderboard", "show", "--db", store_url, "--models", *MODELS,
                                 "--benchmarks", *BENCHMARKS])
    out = capsys.readouterr().out
    assert status == 0 and "test-lb-a" in out and "counts 0" in out
    status = topobench.cli.main(["leaderboard", "run", "--db", store_url, "--models", "test-lb-nope"])
    assert status == 2 and "unknown model 'test-lb-nope'" in capsys.readouterr().err
