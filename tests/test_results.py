"""The results store keeps every run, exactly, at once, per database.

The ``store_url`` fixture runs each test on SQLite (a file in ``tmp_path``) and,
when ``TOPOBENCH_TEST_POSTGRES_URL`` names a PostgreSQL database, on it too
(the table is dropped before and after each test: use a scratch database, and
do not run two test sessions on it at once).
"""
from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys
import threading

import numpy as np
import pytest

from topobench.results import (COLUMNS, ResultsStore, ResultsStoreError, STATUS_FAILED,
                               STATUS_OK, to_jsonable)
from topobench.scores import ceiled_score

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def _score(raw=0.42, ceiling=0.84, error=0.03, details=None):
    return ceiled_score(raw, ceiling, error, details or {})


def _ok(store, model="m", benchmark="B.V1-x", version=1, score=None, weights="w" * 64,
        started_at=T0, **kwargs):
    return store.record_result(model, weights, benchmark, version, score or _score(),
                               started_at, **kwargs)


def test_ok_result_reads_back_same_numbers_and_details(store):
    details = {
        "curve": np.linspace(0.0, 1.0, 7),                 # float64 array
        "counts": np.arange(4, dtype=np.int32),            # int array
        "peak": np.float32(0.25), "third": np.float64(1 / 3), "n": np.int64(7),
        "flag": np.bool_(True),
        "nested": {"map": np.array([[0.1, 0.2], [0.3, 0.4]]), "label": "V1"},
        "pairs": (np.float64(0.5), 2),
    }
    provenance = {"seed": 3, "reference_sha256": {"ringach2002.csv": "ab" * 32},
                  "positions": "default retinotopic", "thread_count": np.int64(1)}
    score = _score(0.42, 0.84, 0.03, details)
    row_id = _ok(store, model="tdann_seed0", version=2, score=score, provenance=provenance)

    row = store.latest("tdann_seed0", "B.V1-x")
    assert row["id"] == row_id
    assert set(row) == set(COLUMNS)
    assert row["status"] == STATUS_OK and row["message"] is None
    assert row["score"] == float(score.values) == 0.5
    assert (row["raw"], row["ceiling"], row["error"]) == (0.42, 0.84, 0.03)
    assert row["model_weights_sha256"] == "w" * 64
    assert row["benchmark_version"] == "2"
    assert row["topobench_version"]
    assert row["details"] == {
        "curve": np.linspace(0.0, 1.0, 7).tolist(), "counts": [0, 1, 2, 3],
        "peak": 0.25, "third": 1 / 3, "n": 7, "flag": True,
        "nested": {"map": [[0.1, 0.2], [0.3, 0.4]], "label": "V1"},
        "pairs": [0.5, 2],
    }
    assert row["provenance"] == {"seed": 3, "reference_sha256": {"ringach2002.csv": "ab" * 32},
                                 "positions": "default retinotopic", "thread_count": 1}
    assert row["started_at"] == T0 and row["started_at"].tzinfo is not None
    assert row["finished_at"] >= T0 and row["finished_at"].utcoffset() == dt.timedelta(0)
    assert store.has_result("tdann_seed0", "B.V1-x", 2)
    assert store.has_result("tdann_seed0", "B.V1-x", "2", weights_sha256="w" * 64)
    assert not store.has_result("tdann_seed0", "B.V1-x", 2, weights_sha256="x" * 64)
    assert not store.has_result("tdann_seed0", "B.V1-x", 3)


def test_clipping_and_nan_are_kept_honestly(store):
    _ok(store, model="clipped", score=_score(raw=0.9, ceiling=0.6, details={"gap": float("nan")}))
    _ok(store, model="no_ceiling", score=_score(raw=0.3, ceiling=0.0))
    clipped = store.latest("clipped", "B.V1-x")
    assert clipped["score"] == 1.0
    assert clipped["details"]["clipped_from"] == pytest.approx(1.5)
    assert clipped["details"]["gap"] is None  # strict JSON: NaN becomes null
    no_ceiling = store.latest("no_ceiling", "B.V1-x")
    assert no_ceiling["score"] is None  # NaN stored as NULL on every backend
    assert no_ceiling["raw"] == 0.3 and no_ceiling["ceiling"] == 0.0
    assert "ceiling_problem" in no_ceiling["details"]


def test_failure_is_stored_as_failed_without_score(store):
    row_id = store.record_failure("m", None, "B.V1-x", 1, "model m has no positions; add them",
                                  T0, provenance={"seed": 0})
    row = store.latest("m", "B.V1-x")
    assert row["id"] == row_id
    assert row["status"] == STATUS_FAILED
    assert row["message"] == "model m has no positions; add them"
    assert all(row[name] is None for name in ("score", "raw", "ceiling", "error", "details"))
    assert row["model_weights_sha256"] is None
    assert row["provenance"] == {"seed": 0}
    assert not store.has_result("m", "B.V1-x", 1)
    assert store.rows(status=STATUS_FAILED)[0]["id"] == row_id
    assert store.rows(status=STATUS_OK) == []
    _ok(store, model="m")
    assert store.has_result("m", "B.V1-x", 1)


def test_latest_returns_the_newest(store):
    later = T0 + dt.timedelta(hours=1)
    newest = _ok(store, score=_score(raw=0.6), finished_at=later + dt.timedelta(seconds=1))
    older = _ok(store, score=_score(raw=0.2), finished_at=later)  # written after, finished before
    assert store.latest("m", "B.V1-x")["id"] == newest
    # same finish time: the later row wins
    tie = store.record_failure("m", None, "B.V1-x", 1, "boom", T0,
                               finished_at=later + dt.timedelta(seconds=1))
    assert store.latest("m", "B.V1-x")["id"] == tie
    assert store.latest("m", "B.V1-x", status=STATUS_OK)["id"] == newest
    other_version = _ok(store, version=2, finished_at=T0)
    assert store.latest("m", "B.V1-x", 2)["id"] == other_version
    assert store.latest("m", "B.V1-x", 1)["id"] == tie
    assert store.latest("m", "other") is None
    assert [row["id"] for row in store.rows(model="m", benchmark="B.V1-x")] == [
        other_version, older, newest, tie]


def test_rows_filter_and_dataframe(store):
    _ok(store, model="a", benchmark="B1")
    _ok(store, model="b", benchmark="B1")
    store.record_failure("a", None, "B2", 1, "no", T0)
    assert len(store.rows()) == 3
    assert {row["model_identifier"] for row in store.rows(benchmark="B1")} == {"a", "b"}
    assert [row["benchmark_identifier"] for row in store.rows(model="a")] == ["B1", "B2"]
    frame = store.to_dataframe()
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == 3 and sorted(frame["status"]) == ["failed", "ok", "ok"]
    assert store.to_dataframe(status="failed")["message"].tolist() == ["no"]


def test_two_files_do_not_see_each_others_rows(tmp_path):
    first = ResultsStore(f"sqlite:///{tmp_path / 'one.sqlite'}")
    second = ResultsStore(str(tmp_path / "two.sqlite"))  # a plain path is a SQLite file
    _ok(first, model="only_in_one")
    _ok(second, model="only_in_two")
    _ok(first, model="only_in_one")
    assert [row["model_identifier"] for row in first.rows()] == ["only_in_one"] * 2
    assert [row["model_identifier"] for row in second.rows()] == ["only_in_two"]
    assert not second.has_result("only_in_one", "B.V1-x", 1)
    first.close(), second.close()


def test_a_write_is_visible_at_once_to_another_instance(store_url):
    writer, reader = ResultsStore(store_url), ResultsStore(store_url)
    assert reader.rows() == []  # reader connected before the write
    row_id = _ok(writer, model="shared")
    assert reader.latest("shared", "B.V1-x")["id"] == row_id
    assert reader.has_result("shared", "B.V1-x", 1)
    writer.close(), reader.close()


def test_a_write_survives_a_crash_right_after_it(store_url):
    program = (
        "import os, signal, sys\n"
        "from topobench.results import ResultsStore, utc_now\n"
        "from topobench.scores import ceiled_score\n"
        "store = ResultsStore(sys.argv[1])\n"
        "store.record_result('crashy', None, 'B.V1-x', 1, ceiled_score(0.3, 0.6, 0.1), utc_now())\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run([sys.executable, "-c", program, store_url], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == -9, done.stderr
    with ResultsStore(store_url) as store:
        row = store.latest("crashy", "B.V1-x")
    assert row is not None and row["score"] == 0.5


def test_concurrent_writers_on_one_sqlite_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    errors = []

    def write(worker):
        try:
            with ResultsStore(url) as own:
                for index in range(15):
                    _ok(own, model=f"w{worker}", benchmark=f"B{index}")
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with ResultsStore(url) as store:
        rows = store.rows()
        assert store.database.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert len(rows) == 60 and len({row["id"] for row in rows}) == 60


def test_default_path_honours_topobench_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TOPOBENCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TOPOBENCH_DB_URL", raising=False)
    with ResultsStore() as store:
        _ok(store)
    assert (tmp_path / "home" / "results.sqlite").is_file()
    with ResultsStore(f"sqlite:///{tmp_path / 'home' / 'results.sqlite'}") as again:
        assert len(again.rows()) == 1


def test_environment_url_is_used_when_no_url_is_given(tmp_path, monkeypatch):
    monkeypatch.setenv("TOPOBENCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TOPOBENCH_DB_URL", f"sqlite:///{tmp_path / 'elsewhere.sqlite'}")
    with ResultsStore() as store:
        _ok(store)
    assert (tmp_path / "elsewhere.sqlite").is_file()
    assert not (tmp_path / "home" / "results.sqlite").exists()


def test_bad_url_is_a_clear_error():
    with pytest.raises(ResultsStoreError, match="TOPOBENCH_DB_URL"):
        ResultsStore("nosuchdb://user:secret@host/db")
    with pytest.raises(ResultsStoreError) as caught:
        ResultsStore("nosuchdb://user:secret@host/db")
    assert "secret" not in str(caught.value)


def test_times_are_stored_in_utc(store):
    berlin = dt.timezone(dt.timedelta(hours=2))
    started = dt.datetime(2024, 5, 1, 14, 0, 0, tzinfo=berlin)
    _ok(store, started_at=started, finished_at=started + dt.timedelta(minutes=5))
    row = store.latest("m", "B.V1-x")
    assert row["started_at"] == dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert row["started_at"].utcoffset() == dt.timedelta(0)
    assert row["finished_at"] - row["started_at"] == dt.timedelta(minutes=5)


def test_to_jsonable_converts_numpy_and_non_finite_values():
    value = {1: np.float16(0.5), "a": np.array([1.0, np.nan, np.inf]), "s": {3, 1},
             "t": np.datetime64("2024-01-02"), "b": np.bool_(False)}
    assert to_jsonable(value) == {"1": 0.5, "a": [1.0, None, None], "s": [1, 3],
                                  "t": "2024-01-02", "b": False}
    assert to_jsonable(np.float64(math.pi)) == math.pi
