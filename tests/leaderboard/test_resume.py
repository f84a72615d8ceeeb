"""An interrupted `leaderboard run` loses no finished score, and the next run repeats none."""
from __future__ import annotations

import signal
import os
import subprocess
import sys
import time

from topobench.leaderboard.run import run_leaderboard
from topobench.results import ResultsStore

def _command(store_url, benchmarks):
    return [sys.executable, "-m", "topobench", "leaderboard", "run", "--db", store_url, "--quiet",
            "--import", "leaderboard_fakes", "--models", "test-lb-a", "--benchmarks", *benchmarks]


def _interrupt_after_first_row(command, store_url, how) -> subprocess.Popen:
    # PYTHONSAFEPATH: the installed topobench, not a checkout in the working folder (tox installs a wheel)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONSAFEPATH": "1"})
    deadline = time.monotonic() + 120
    with ResultsStore(store_url) as store:
        while not store.rows():
            if process.poll() is not None:
                raise AssertionError(f"the run ended before it was interrupted: {process.communicate()}")
            assert time.monotonic() < deadline, "no row within 120 s"
            time.sleep(0.05)
    process.send_signal(how)
    process.wait(timeout=60)
    return process


def test_killed_run_resumes_without_losing_or_repeating(fakes, store_url, monkeypatch):
    monkeypatch.setenv("LB_FAKE_SLEEP_S", "1.0")
    command = _command(store_url, fakes.SLOW)
    killed = _interrupt_after_first_row(command, store_url, signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL
    with ResultsStore(store_url) as store:
        first = {(row["benchmark_identifier"]): (row["id"], row["score"]) for row in store.rows()}
    assert 1 <= len(first) < len(fakes.SLOW)

    monkeypatch.setenv("LB_FAKE_SLEEP_S", "0")
    resumed = run_leaderboard(["test-lb-a"], list(fakes.SLOW), store_url, progress=False)  # the restart
    assert len(resumed.outcomes) == len(fakes.SLOW) - len(first) and not resumed.failed
    assert len(resumed.skipped_ok) == len(first)
    with ResultsStore(store_url) as store:
        rows = store.rows()
    per_pair = {}
    for row in rows:
        per_pair.setdefault(row["benchmark_identifier"], []).append(row)
    assert sorted(per_pair) == sorted(fakes.SLOW)
    assert all(len(found) == 1 and found[0]["status"] == "ok" for found in per_pair.values())
    for benchmark, (row_id, score) in first.items():  # the first run's rows are untouched
        assert (per_pair[benchmark][0]["id"], per_pair[benchmark][0]["score"]) == (row_id, score)


def test_ctrl_c_stops_with_a_message_and_keeps_finished_rows(fakes, store_url, monkeypatch, capsys):
    import topobench.cli
    from topobench import registry
    if "topobench.leaderboard.cli" not in topobench.cli.COMMAND_MODULES:
        monkeypatch.setattr(topobench.cli, "COMMAND_MODULES",
                            [*topobench.cli.COMMAND_MODULES, "topobench.leaderboard.cli"])

    class Interrupting(fakes.Fake):
        def __call__(self, model):
            raise KeyboardInterrupt  # as Ctrl-C in the middle of a benchmark

    monkeypatch.setitem(registry.benchmark_registry, "Fake2026.V1-slow2",
                        lambda: Interrupting("Fake2026.V1-slow2", "V1", family="topography"))
    status = topobench.cli.main(["leaderboard", "run", "--db", store_url, "--quiet", "--models", "test-lb-a",
                                 "--benchmarks", *fakes.SLOW])
    assert status == 130 and "interrupted; finished results are stored" in capsys.readouterr().err
    with ResultsStore(store_url) as store:
        assert [row["benchmark_identifier"] for row in store.rows()] == list(fakes.SLOW[:2])
