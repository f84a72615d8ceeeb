"""`leaderboard run` and the declared costs (topobench.costs): the longest pairs first, here and on
Dask; a pair whose estimated memory exceeds the machine's is refused before any work, with the
number, nothing stored for it, and scored by a later run that has the memory."""
from __future__ import annotations

import pytest

from topobench import registry
from topobench.costs import FULL, Cost, format_bytes
from topobench.leaderboard import run as lb_run
from topobench.leaderboard.run import plan, run_leaderboard

MODELS = ["test-lb-a", "test-lb-b"]
#: benchmark -> images its cost declares (the fake models record 8,192 V1 units at 64 px); None: no cost
IMAGES = {"Fake2026.V1-forward": None, "Fake2026.V1-short": 10, "Fake2026.V1-long": 5_000,
          "Fake2026.V1-middle": 500}
HUGE = "Fake2026.V1-huge"  # 2 x 1,000,000 images x 8,192 units x 4 B: about 65.5 GB


def _with_cost(fakes, name, images, kind="constant"):
    benchmark = fakes.Fake(name, "V1", family="topography", kind=kind)
    if images is not None:
        benchmark.cost = Cost(images=images, stimuli="fake images", region="V1", features=FULL)
    return benchmark


@pytest.fixture
def costed(fakes, monkeypatch):
    for name, images in {**IMAGES, HUGE: 1_000_000}.items():
        kind = "forward" if name == "Fake2026.V1-forward" else "constant"
        monkeypatch.setitem(registry.benchmark_registry, name,
                            lambda name=name, images=images, kind=kind: _with_cost(fakes, name, images, kind))
    return fakes


def test_plan_orders_pairs_longest_first(costed, store):
    todo = plan(MODELS, list(IMAGES), store)
    order = [(task.benchmark, task.model) for task in todo.tasks]
    assert order == [(benchmark, model) for benchmark in ("Fake2026.V1-long", "Fake2026.V1-middle",
                                                         "Fake2026.V1-short", "Fake2026.V1-forward")
                     for model in MODELS]
    seconds = [task.seconds for task in todo.tasks]
    assert seconds[-2:] == [None, None]  # no declared cost: last, in plan order
    assert seconds[:-2] == sorted(seconds[:-2], reverse=True) and seconds[0] > seconds[4] > 0
    assert all(task.peak_bytes > 0 for task in todo.tasks[:-2])


def test_run_hands_the_longest_pairs_first_to_the_local_loop_and_dask(costed, store, monkeypatch):
    handed = []

    def execute(tasks, *args, **kwargs):
        handed.extend(tasks)  # the local loop runs them in this order; Dask gets priority -index
        return []

    monkeypatch.setattr(lb_run, "execute", execute)
    run_leaderboard(MODELS, list(IMAGES), store, progress=False)
    assert [task.benchmark for task in handed][::2] == ["Fake2026.V1-long", "Fake2026.V1-middle",
                                                        "Fake2026.V1-short", "Fake2026.V1-forward"]


def test_a_pair_over_the_memory_limit_is_refused_and_stores_nothing(costed, store):
    benchmarks = [HUGE, "Fake2026.V1-short", "Fake2026.V1-forward"]
    summary = run_leaderboard(MODELS, benchmarks, store, progress=False, memory_limit=2e9)
    assert len(summary.ok) == 4 and not summary.failed
    assert [(r.task.model, r.task.benchmark) for r in summary.refused] == [(model, HUGE) for model in MODELS]
    needs = summary.refused[0].task.peak_bytes
    assert 65e9 < needs < 67e9
    line = (f"refused {HUGE} on test-lb-a: needs about {format_bytes(needs)}, the memory limit is 2.0 GB; "
            f"score it on a larger machine or commit a smaller layer")
    assert line == summary.refused[0].text() and line in summary.text()
    assert "refused 2 pair(s) that need more memory than this run has" in summary.text()
    assert store.rows(benchmark=HUGE) == []  # no failure of the model: nothing stored
    assert len(store.rows()) == 4

    # the next run on a machine with the memory scores exactly the refused pairs
    later = run_leaderboard(MODELS, benchmarks, store, progress=False, memory_limit=1e12)
    assert [(o.model, o.benchmark) for o in later.outcomes] == [(model, HUGE) for model in MODELS]
    assert not later.refused and len(later.skipped_ok) == 4


def test_the_machine_memory_is_the_default_limit(costed, store, monkeypatch):
    monkeypatch.setattr(lb_run, "available_bytes", lambda: 22.9e9)
    summary = run_leaderboard(["test-lb-a"], [HUGE, "Fake2026.V1-short"], store, progress=False)
    assert [r.task.benchmark for r in summary.refused] == [HUGE] and len(summary.ok) == 1
    assert "this machine has 22.9 GB available; score it on a larger machine" in summary.refused[0].text()
    monkeypatch.setattr(lb_run, "available_bytes", lambda: None)  # unknown: nothing is refused
    kept, refused = lb_run.refuse_too_large(plan(["test-lb-a"], [HUGE], store).tasks)
    assert len(kept) == 1 and refused == []


def test_cli_memory_limit_reports_refused_pairs_and_exits_0(costed, store_url, monkeypatch, capsys):
    import topobench.cli
    if "topobench.leaderboard.cli" not in topobench.cli.COMMAND_MODULES:
        monkeypatch.setattr(topobench.cli, "COMMAND_MODULES",
                            [*topobench.cli.COMMAND_MODULES, "topobench.leaderboard.cli"])
    status = topobench.cli.main(["leaderboard", "run", "--db", store_url, "--quiet", "--models", "test-lb-a",
                                 "--benchmarks", HUGE, "Fake2026.V1-short", "--memory-limit", "1.5"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "scored 1 pair(s): 1 ok, 0 failed" in out
    assert f"refused {HUGE} on test-lb-a: needs about " in out and "the memory limit is 1.5 GB" in out
    with pytest.raises(SystemExit) as stopped:  # argparse: usage and one line, exit 2
        topobench.cli.main(["leaderboard", "run", "--db", store_url, "--memory-limit", "0"])
    assert stopped.value.code == 2 and "must be more than 0 GB" in capsys.readouterr().err
