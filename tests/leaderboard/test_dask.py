"""The Dask path (a LocalCluster of 2 workers, one thread each) gives the same scores as
the local path, to the last digit.

The fast test's cluster has thread workers in this process (``processes=False``):
measured on the 2-core CI machine under load, a cluster of 2 worker processes
takes about 15 s to start and its workers about 10 s more to import torch and
topobench, about 40 s for the test; that one (``jobs=2``, the path of
``topobench leaderboard run --jobs 2``) is marked slow.
"""
from __future__ import annotations

import logging

import pytest

from topobench.leaderboard.run import Task, _record_lost, run_leaderboard
from topobench.results import ResultsStore, utc_now

MODELS = ["test-lb-a", "test-lb-b"]
BENCHMARKS = ["Fake2026.V1-forward", "Fake2026.V1-response", "Fake2026.VTC-constant", "Fake2026.V1-broken"]
FIELDS = ("status", "score", "raw", "ceiling", "error", "model_weights_sha256", "benchmark_version")


def _results(store):
    return {(row["model_identifier"], row["benchmark_identifier"]): tuple(row[name] for name in FIELDS)
            for row in store.rows()}


def _local_results(tmp_path):
    with ResultsStore(f"sqlite:///{tmp_path / 'local.sqlite'}") as local:
        summary = run_leaderboard(MODELS, BENCHMARKS, local, progress=False)
        assert len(summary.outcomes) == 8
        return _results(local)


def test_dask_cluster_and_local_path_give_identical_scores(fakes, store, tmp_path):
    import distributed
    local = _local_results(tmp_path)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp",
                                  dashboard_address=None, silence_logs=logging.ERROR) as cluster:
        summary = run_leaderboard(MODELS, BENCHMARKS, store, scheduler=cluster.scheduler_address,
                                  imports=[fakes.__name__], progress=False)
        assert len(summary.outcomes) == 8 and len(summary.failed) == 2
        assert run_leaderboard(MODELS, BENCHMARKS, store, scheduler=cluster.scheduler_address,
                               progress=False).outcomes == []  # resumes from the store like the local path
    assert _results(store) == local
    assert local[("test-lb-a", "Fake2026.V1-forward")][1] is not None


@pytest.mark.slow
def test_local_cluster_of_two_worker_processes_gives_identical_scores(fakes, store, tmp_path):
    local = _local_results(tmp_path)
    summary = run_leaderboard(MODELS, BENCHMARKS, store, jobs=2, imports=[fakes.__name__], progress=False)
    assert len(summary.outcomes) == 8
    assert _results(store) == local


def test_a_lost_worker_is_stored_as_failed_once(store):
    since = utc_now()
    task = Task("m", "B.V1-x", "1", "ab" * 32)
    outcome = _record_lost(task, RuntimeError("KilledWorker"), store, since)
    assert outcome.status == "failed" and "--retry-failed" in outcome.message
    again = _record_lost(task, RuntimeError("KilledWorker"), store, since)  # a row since: kept, not doubled
    assert again.row_id == outcome.row_id and len(store.rows()) == 1
