"""Two ``leaderboard run`` processes on one store never score a pair twice.

A run takes a lease on each (model, benchmark, version) pair in the store before scoring it
(table ``score_leases``), atomically on SQLite and PostgreSQL: a second holder is refused while
the lease is live, takes it once it has expired, and takes it at once when its holder process
is gone (``kill -9``); a pair scored by another run after this run planned it is not redone.
"""
from __future__ import annotations

import datetime
import importlib
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from topobench import registry
from topobench.results import ResultsStore

LEADERBOARD_TESTS = Path(__file__).resolve().parents[1] / "leaderboard"


@pytest.fixture
def fakes(monkeypatch):
    """The leaderboard tests' cheap models and benchmarks, here and in subprocesses."""
    monkeypatch.syspath_prepend(str(LEADERBOARD_TESTS))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(LEADERBOARD_TESTS),
                                                                   os.environ.get("PYTHONPATH")])))
    saved = {name: dict(table) for name, table in
             (("model", registry.model_registry), ("benchmark", registry.benchmark_registry))}
    monkeypatch.setattr(registry, "_discovered", set(registry._discovered) | {"model", "benchmark"})
    module = sys.modules.get("leaderboard_fakes") or importlib.import_module("leaderboard_fakes")
    module.register()
    yield module
    for name, table in (("model", registry.model_registry), ("benchmark", registry.benchmark_registry)):
        table.clear()
        table.update(saved[name])


def _pair():
    return f"lease-model-{uuid.uuid4().hex[:8]}", "Lease2026.V1-x", "1"


def _dead_pid() -> int:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    return finished.pid


# ----------------------------------------------------------------------------- the lease itself

def test_a_second_lease_is_refused_while_the_first_is_live_and_taken_after_it_expires(store):
    pair = _pair()
    first = store.acquire_lease(*pair, seconds=0.5)
    assert first is not None
    assert store.acquire_lease(*pair, seconds=60) is None  # live: refused
    assert store.lease(*pair)["token"] == first
    time.sleep(0.7)
    second = store.acquire_lease(*pair, seconds=60)
    assert second is not None and second != first and store.lease(*pair)["token"] == second
    assert not store.renew_lease(*pair, first)  # the first holder lost it and knows
    store.release_lease(*pair, first)  # and cannot give back what it no longer holds
    assert store.lease(*pair)["token"] == second


def test_a_lease_whose_holder_process_is_gone_is_taken_at_once(store):
    pair = _pair()
    dead = f"{socket.gethostname()}:{_dead_pid()}"
    assert store.acquire_lease(*pair, seconds=3600, holder=dead) is not None
    taken = store.acquire_lease(*pair, seconds=60)
    assert taken is not None and store.lease(*pair)["holder"] == f"{socket.gethostname()}:{os.getpid()}"


def test_a_lease_of_another_host_waits_for_its_expiry(store):
    pair = _pair()
    assert store.acquire_lease(*pair, seconds=3600, holder="another-host.example:1") is not None
    assert store.acquire_lease(*pair, seconds=60) is None


def test_renewing_keeps_a_lease_and_releasing_frees_it(store):
    pair = _pair()
    token = store.acquire_lease(*pair, seconds=0.5)
    before = store.lease(*pair)["expires_at"]
    assert store.renew_lease(*pair, token, seconds=60)
    assert store.lease(*pair)["expires_at"] - before > datetime.timedelta(seconds=30)
    time.sleep(0.7)
    assert store.acquire_lease(*pair) is None  # renewed: still live
    store.release_lease(*pair, token)
    assert store.lease(*pair) is None
    assert store.acquire_lease(*pair) is not None


def test_racing_acquisitions_give_the_lease_to_exactly_one(store_url):
    pair = _pair()
    racers = 6
    barrier = threading.Barrier(racers)
    tokens, errors = [], []

    def race():
        with ResultsStore(store_url) as own:  # each its own store and connection, as another process
            own.check()
            try:
                barrier.wait(timeout=30)
                tokens.append(own.acquire_lease(*pair, seconds=60))
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert len(tokens) == racers and sum(token is not None for token in tokens) == 1


# ----------------------------------------------------------------------------- leaderboard run

def test_a_pair_another_live_run_holds_is_left_to_it(fakes, store):
    from topobench.leaderboard.run import run_leaderboard
    pair = ("test-lb-a", "Fake2026.VTC-constant", "1")
    token = store.acquire_lease(*pair, seconds=3600, holder="another-host.example:4242")
    summary = run_leaderboard(["test-lb-a"], ["Fake2026.VTC-constant", "Fake2026.V1-forward"], store,
                              progress=False)
    assert [o.benchmark for o in summary.outcomes] == ["Fake2026.V1-forward"]
    assert [(o.benchmark, o.status) for o in summary.elsewhere] == [("Fake2026.VTC-constant", "elsewhere")]
    assert "another-host.example:4242" in summary.elsewhere[0].message
    assert "1 being or just scored by another run" in summary.text()
    assert [row["benchmark_identifier"] for row in store.rows()] == ["Fake2026.V1-forward"]
    store.release_lease(*pair, token)  # the other run ended without a result (say, interrupted)
    again = run_leaderboard(["test-lb-a"], ["Fake2026.VTC-constant", "Fake2026.V1-forward"], store,
                            progress=False)
    assert [o.benchmark for o in again.outcomes] == ["Fake2026.VTC-constant"]


def test_a_pair_scored_by_another_run_after_this_one_planned_it_is_not_redone(fakes, store):
    from topobench.leaderboard.run import execute, plan
    todo = plan(["test-lb-a"], ["Fake2026.VTC-constant"], store)
    assert len(todo.tasks) == 1
    from topobench.scoring import score_model
    score_model("test-lb-a", "Fake2026.VTC-constant", store=store)  # the other run, in between
    outcomes = execute(todo.tasks, store, progress=False)
    assert [o.status for o in outcomes] == ["elsewhere"] and "meanwhile" in outcomes[0].message
    assert len(store.rows()) == 1 and store.lease("test-lb-a", "Fake2026.VTC-constant", "1") is None


def test_the_lease_of_a_killed_run_is_taken_over_by_the_next_run(fakes, store):
    from topobench.leaderboard.run import run_leaderboard
    pair = ("test-lb-a", "Fake2026.VTC-constant", "1")
    store.acquire_lease(*pair, seconds=3600, holder=f"{socket.gethostname()}:{_dead_pid()}")  # kill -9'd
    summary = run_leaderboard(["test-lb-a"], ["Fake2026.VTC-constant"], store, progress=False)
    assert [o.status for o in summary.outcomes] == ["ok"] and not summary.elsewhere
    assert store.lease(*pair) is None  # released when the pair finished


def test_two_runs_started_together_score_each_pair_once_in_total(fakes, store_url, monkeypatch):
    monkeypatch.setenv("LB_FAKE_SLEEP_S", "0.5")
    command = [sys.executable, "-m", "topobench", "leaderboard", "run", "--db", store_url, "--quiet",
               "--import", "leaderboard_fakes", "--models", "test-lb-a", "--benchmarks", *fakes.SLOW]
    ResultsStore(store_url).check().close()
    environment = {**os.environ, "PYTHONSAFEPATH": "1"}
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
            for _ in range(2)]
    outputs = [run.communicate(timeout=600) for run in runs]
    for run, (out, err) in zip(runs, outputs):
        assert run.returncode == 0, err
    with ResultsStore(store_url) as store:
        rows = store.rows()
        assert store.database.table_exists("score_leases")
        assert list(store.ScoreLease.select()) == []  # every lease released
    per_pair = Counter(row["benchmark_identifier"] for row in rows)
    assert per_pair == Counter({name: 1 for name in fakes.SLOW}), (per_pair, outputs)
    assert all(row["status"] == "ok" for row in rows)
