"""Faults of the machine never become wrong scores, and a computed result is never lost.

- A data host that is down, a cache that cannot be written (disk full, no permission, a folder
  where a cached file belongs), a home that is a file or read-only: one line naming the thing and
  the fix, exit 3, and nothing stored against the model (a stored failure would be a 0 on the
  board and be skipped by every later ``leaderboard run``).
- A store that cannot be opened (a corrupted SQLite file, an unreachable PostgreSQL, a read-only
  home) is refused before any work, and the file is left exactly as it was.
- A result the store cannot take at write time is spooled to ``TOPOBENCH_HOME/spool``, printed
  anyway, and imported by ``topobench results import-spool`` or the next ``score``.
- A fault stored as a failure by an older topobench is scored again by ``leaderboard run``.
"""
from __future__ import annotations

import datetime
import errno
import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import peewee
import pytest
from brainscore_core.benchmarks import BenchmarkBase

from topobench import registry
from topobench.errors import DataError, EnvironmentFault, ModelError
from topobench.results import ResultSpooled, ResultsStore, spooled_files
from topobench.scores import ceiled_score, score_values
from topobench.scoring import BenchmarkFailed, score_model

LEADERBOARD_TESTS = Path(__file__).resolve().parents[1] / "leaderboard"
#: The cheapest real benchmark that fetches reference data before any forward pass.
FETCHES_FIRST = "Cowley2023.V4-pls"
MODEL = "resnet18-untrained"
SECRET = "s3cr3t-pw"
DEAD_POSTGRES = f"postgresql://u:{SECRET}@127.0.0.1:9/x"
RINGACH = ("ringach2002_v1", "ringach_2002_db.mat")


# ----------------------------------------------------------------------------- helpers

def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _seed_store(sandbox) -> list:
    """A finished result the user already has: no fault may lose or change it."""
    sandbox.home.mkdir(parents=True, exist_ok=True)
    with ResultsStore(f"sqlite:///{sandbox.home / 'results.sqlite'}") as store:
        store.record_result("earlier-model", None, FETCHES_FIRST, "1", ceiled_score(0.5, 0.9, 0.01),
                            started_at=_now())
    rows = sandbox.rows()
    assert len(rows) == 1
    return rows


def _no_work_done(sandbox):
    for made_by_work in ("activations", "stimuli", "data"):
        assert not (sandbox.home / made_by_work).exists(), f"{made_by_work} made: the check came after work"


def _result(sandbox, completed):
    """The harness's Result for a process run another way than ``sandbox.cli``."""
    return sys.modules[type(sandbox).__module__].Result(completed)


def _in_home(monkeypatch, sandbox):
    """Run in this process as ``sandbox.cli`` would: the sandbox's home, no TOPOBENCH_DB_URL."""
    monkeypatch.setenv("TOPOBENCH_HOME", str(sandbox.home))
    monkeypatch.delenv("TOPOBENCH_DB_URL", raising=False)


def _main(capsys, *args):
    """``topobench ARGS`` in this process: (exit status, stdout, stderr lines)."""
    import topobench.cli
    code = topobench.cli.main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, [line for line in captured.err.splitlines() if line.strip()]


def _one_line(lines, *words):
    assert len(lines) == 1 and lines[0].startswith("topobench: error:"), lines
    for word in words:
        assert word in lines[0], f"{word!r} not in {lines[0]!r}"
    return lines[0]


@pytest.fixture
def fakes(monkeypatch):
    """The leaderboard tests' cheap models and benchmarks (and only them), registered here and
    importable as ``leaderboard_fakes`` by subprocesses."""
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


class Model:
    identifier = "fault-model"
    weights_sha256 = "cd" * 32


class Raising(BenchmarkBase):
    """A benchmark that raises ``error`` (or whatever ``call`` raises)."""

    def __init__(self, error=None, call=None):
        super().__init__("Fault2026.V1-raising", ceiling=None, version=1, parent="V1", bibtex="")
        self.error, self.call = error, call

    def __call__(self, model):
        if self.call is not None:
            return self.call()
        raise self.error


def _fetch_ringach():
    from topobench.data_client import fetch
    fetch(*RINGACH)
    return ceiled_score(0.3, 0.6, 0.01)


# ----------------------------------------------------------------------------- data host

@pytest.mark.parametrize("host", ["/nonexistent", "https://127.0.0.1:9/"])
def test_unreachable_data_host_is_exit_3_and_nothing_is_stored_against_the_model(sandbox, host):
    before = _seed_store(sandbox)
    result = sandbox.cli("score", MODEL, FETCHES_FIRST, env=sandbox.env(TOPOBENCH_DATA_URL=host))
    result.assert_one_line("unreachable", "TOPOBENCH_DATA_URL", code=3)
    assert sandbox.rows() == before, "the fault was stored (or a result lost)"


def test_data_fetch_from_an_unreachable_file_url_is_exit_3(sandbox):
    result = sandbox.cli("data", "fetch", RINGACH[0], env=sandbox.env(TOPOBENCH_DATA_URL="file:///nonexistent"))
    result.assert_one_line("unreachable", "TOPOBENCH_DATA_URL", code=3)
    assert not list(sandbox.home.rglob("*.part")), "a partial download was left behind"


def test_leaderboard_run_with_the_data_host_down_stops_with_one_line_and_stores_nothing(sandbox):
    database = sandbox.home / "board.sqlite"
    result = sandbox.cli("leaderboard", "run", "--db", database, "--quiet", "--models", MODEL,
                         "--benchmarks", FETCHES_FIRST, env=sandbox.env(TOPOBENCH_DATA_URL="/nonexistent"))
    result.assert_one_line("unreachable", "the run stopped", "run the same command again", code=3)
    assert sandbox.rows(f"sqlite:///{database}") == []


# ----------------------------------------------------------------------------- the store

def test_corrupted_sqlite_is_one_line_before_any_work_and_the_file_is_left_as_it_is(sandbox):
    sandbox.home.mkdir(parents=True)
    database = sandbox.home / "results.sqlite"
    garbage = os.urandom(4096)
    database.write_bytes(garbage)
    result = sandbox.cli("score", MODEL, FETCHES_FIRST)
    result.assert_one_line(str(database), "corrupted", "mv", code=3)
    assert database.read_bytes() == garbage, "the corrupted file was changed"
    _no_work_done(sandbox)


def test_corrupted_sqlite_for_leaderboard_run_results_show_and_import_spool(sandbox):
    sandbox.home.mkdir(parents=True)
    database = sandbox.home / "results.sqlite"
    garbage = b"this is not an SQLite database\n" * 100
    database.write_bytes(garbage)
    for args in (("leaderboard", "run", "--quiet", "--models", MODEL, "--benchmarks", FETCHES_FIRST),
                 ("results", "show"), ("results", "import-spool")):
        sandbox.cli(*args).assert_one_line(str(database), "corrupted", code=3)
    assert database.read_bytes() == garbage
    _no_work_done(sandbox)


def test_unreachable_postgres_is_one_line_before_any_work_without_the_password(sandbox):
    env = sandbox.env(TOPOBENCH_DB_URL=DEAD_POSTGRES)
    for args in (("score", MODEL, FETCHES_FIRST),
                 ("leaderboard", "run", "--quiet", "--models", MODEL, "--benchmarks", FETCHES_FIRST)):
        result = sandbox.cli(*args, env=env)
        line = result.assert_one_line("127.0.0.1", "u:***@", "TOPOBENCH_DB_URL", code=3)
        assert SECRET not in result.err + result.out and SECRET not in line
    _no_work_done(sandbox)


def _unshare_works(folder: Path) -> bool:
    probe = ('mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && '
             '! touch "$0/probe" 2>/dev/null')
    try:
        done = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", probe, str(folder)],
                              capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0 and not (folder / "probe").exists()


def _cli_with_read_only_home(sandbox, *args):
    """``sandbox.cli(*args)`` with the home read-only for this process. Permissions do not stop
    root, so as root the home is a read-only bind mount in a private mount namespace (EROFS
    stops root too); elsewhere it is ``chmod 0o500``."""
    home = sandbox.home
    if os.geteuid() != 0:
        home.chmod(0o500)
        try:
            return sandbox.cli(*args)
        finally:
            home.chmod(0o700)
    if shutil.which("unshare") is None or not _unshare_works(home):
        pytest.skip("running as root without user and mount namespaces: a read-only home cannot be made")
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
    completed = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, str(home),
                                sys.executable, "-m", "topobench", *map(str, args)],
                               capture_output=True, text=True, env=sandbox.env(), cwd=sandbox.root, timeout=600)
    return _result(sandbox, completed)


def test_read_only_home_is_one_line_naming_it_before_any_work(sandbox):
    sandbox.home.mkdir(parents=True)
    result = _cli_with_read_only_home(sandbox, "score", MODEL, FETCHES_FIRST)
    result.assert_one_line(str(sandbox.home), "writable", code=3)
    assert list(sandbox.home.iterdir()) == []
    _no_work_done(sandbox)


def test_read_only_home_keeps_the_results_it_holds(sandbox):
    before = _seed_store(sandbox)
    for name in ("results.sqlite-wal", "results.sqlite-shm"):
        (sandbox.home / name).unlink(missing_ok=True)
    result = _cli_with_read_only_home(sandbox, "score", MODEL, FETCHES_FIRST)
    result.assert_one_line("results.sqlite", "writable", code=3)
    assert sandbox.rows() == before
    _no_work_done(sandbox)


@pytest.mark.parametrize("args", [("score", MODEL, FETCHES_FIRST), ("data", "fetch", RINGACH[0]),
                                  ("results", "show")], ids=["score", "data-fetch", "results-show"])
def test_home_that_is_a_file_is_one_line_naming_it(sandbox, args):
    home = sandbox.root / "home-file"
    home.write_text("a user's file\n")
    result = sandbox.cli(*args, env=sandbox.env(TOPOBENCH_HOME=home))
    result.assert_one_line("TOPOBENCH_HOME", str(home), "is a file", code=3)
    assert home.read_text() == "a user's file\n"


def test_home_under_a_file_is_one_line_naming_it(sandbox):
    parent = sandbox.root / "a-file"
    parent.write_text("x")
    home = parent / "sub"
    result = sandbox.cli("score", MODEL, FETCHES_FIRST, env=sandbox.env(TOPOBENCH_HOME=home))
    result.assert_one_line("TOPOBENCH_HOME", str(home), code=3)
    assert parent.read_text() == "x"


# ----------------------------------------------------------------------------- the cache

def test_cached_data_file_replaced_by_a_folder_is_one_line_naming_it_and_the_fix(sandbox):
    folder = sandbox.home / "data" / RINGACH[0] / RINGACH[1]
    (folder / "inside").mkdir(parents=True)
    result = sandbox.cli("data", "fetch", RINGACH[0])
    result.assert_one_line(str(folder), "is a folder", "rm -r", code=3)
    assert (folder / "inside").is_dir(), "topobench removed a folder itself"


def test_cached_data_file_replaced_by_a_folder_is_not_stored_as_a_failure(sandbox, monkeypatch):
    _in_home(monkeypatch, sandbox)
    (sandbox.home / "data" / RINGACH[0] / RINGACH[1]).mkdir(parents=True)
    store = ResultsStore()
    with pytest.raises(EnvironmentFault, match="is a folder"):
        score_model(Model(), Raising(call=_fetch_ringach), store=store, raise_errors=False)
    assert store.rows() == []


def test_disk_full_while_caching_is_a_fault_not_a_failure_and_leaves_no_partial_file(sandbox, monkeypatch):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    _in_home(monkeypatch, sandbox)
    import topobench.data_client as data_client
    monkeypatch.setattr(data_client, "_VERIFIED", {})

    def full_disk(dir=None, prefix="", suffix=""):  # every write to it fails with ENOSPC, as a full disk
        return os.open("/dev/full", os.O_WRONLY), str(Path(dir) / f"{prefix}full{suffix}")

    store = ResultsStore().check()
    with monkeypatch.context() as patch:
        patch.setattr(data_client.tempfile, "mkstemp", full_disk)
        with pytest.raises(EnvironmentFault) as caught:
            score_model(Model(), Raising(call=_fetch_ringach), store=store, raise_errors=False)
    message = str(caught.value)
    assert "No space left on device" in message and "free disk space" in message
    assert isinstance(caught.value, DataError)  # a data problem, and the machine's
    assert store.rows() == []
    cached = sandbox.home / "data" / RINGACH[0]
    assert not cached.exists() or list(cached.iterdir()) == []


@pytest.mark.parametrize("error", [
    OSError(errno.ENOSPC, "No space left on device", "/home/x/activations/a.npy"),
    PermissionError(errno.EACCES, "Permission denied", "/home/x/stimuli"),
    OSError(errno.EROFS, "Read-only file system", "/home/x/activations"),
    RuntimeError("[enforce fail at inline_container.cc:595] . PytorchStreamWriter failed writing file "
                 "data/0: file write failed (No space left on device)"),
], ids=["ENOSPC", "EACCES", "EROFS", "torch.save-disk-full"])
def test_an_oserror_of_the_machine_in_a_benchmark_is_not_stored_as_the_models_failure(tmp_path, error):
    store = ResultsStore(str(tmp_path / "r.sqlite"))
    with pytest.raises(EnvironmentFault) as caught:
        score_model(Model(), Raising(error), store=store, raise_errors=False)
    assert "nothing was stored" in str(caught.value) and "Fault2026.V1-raising" in str(caught.value)
    assert store.rows() == []


def test_a_failure_of_the_model_is_still_stored_as_failed(tmp_path):
    store = ResultsStore(str(tmp_path / "r.sqlite"))
    with pytest.raises(BenchmarkFailed):
        score_model(Model(), Raising(ModelError("fault-model has no V1")), store=store)
    with pytest.raises(BenchmarkFailed):
        score_model(Model(), Raising(FileNotFoundError(errno.ENOENT, "No such file", "/model/part.pt")),
                    store=store)
    assert [row["status"] for row in store.rows()] == ["failed", "failed"]


# ----------------------------------------------------------------------------- spool

def _down(*args, **kwargs):
    raise peewee.OperationalError("server closed the connection unexpectedly")


def _expected_score(fakes):
    """The score the fake pair gives, computed here."""
    model = registry.load_model("test-lb-a")
    return score_values(registry.load_benchmark("Fake2026.VTC-constant")(model))


def test_store_failing_at_write_time_spools_the_result_and_import_spool_stores_it(sandbox, fakes, monkeypatch,
                                                                                 capsys):
    _in_home(monkeypatch, sandbox)
    expected = _expected_score(fakes)
    with monkeypatch.context() as patch:
        patch.setattr(ResultsStore, "record_result", _down)
        code, out, err = _main(capsys, "score", "test-lb-a", "Fake2026.VTC-constant")
    assert code == 3
    line = _one_line(err, "server closed the connection", str(sandbox.home / "spool"), "import-spool")
    assert f"score {expected['score']:.4f}" in out, "the score was not printed"
    files = spooled_files(sandbox.home / "spool")
    assert len(files) == 1 and str(files[0]) in line
    spooled = json.loads(files[0].read_text())
    assert spooled["row"]["score"] == expected["score"] and spooled["row"]["status"] == "ok"
    assert sandbox.rows() == []

    code, out, err = _main(capsys, "results", "import-spool")
    assert code == 0 and "imported 1 spooled result" in out and not err
    with ResultsStore() as store:
        (row,) = store.rows()
    for name in ("score", "raw", "ceiling", "error"):
        assert row[name] == pytest.approx(expected[name], abs=0, rel=1e-12), name
    assert (row["model_identifier"], row["benchmark_identifier"], row["status"]) == \
        ("test-lb-a", "Fake2026.VTC-constant", "ok")
    assert row["finished_at"].isoformat() == spooled["row"]["finished_at"]
    assert not files[0].exists() and spooled_files(sandbox.home / "spool") == []


def test_a_spooled_result_is_imported_at_the_start_of_the_next_score(sandbox, fakes, monkeypatch, capsys):
    _in_home(monkeypatch, sandbox)
    with monkeypatch.context() as patch:
        patch.setattr(ResultsStore, "record_result", _down)
        assert _main(capsys, "score", "test-lb-a", "Fake2026.VTC-constant")[0] == 3
    assert len(spooled_files(sandbox.home / "spool")) == 1
    code, out, err = _main(capsys, "score", "test-lb-a", "Fake2026.V1-forward")
    assert code == 0 and any("imported 1 spooled result" in line for line in err)
    assert spooled_files(sandbox.home / "spool") == []
    assert [row[:3] for row in sandbox.rows()] == [("test-lb-a", "Fake2026.V1-forward", "ok"),
                                                   ("test-lb-a", "Fake2026.VTC-constant", "ok")]


def test_a_failure_the_store_cannot_take_is_spooled_too(sandbox, fakes, monkeypatch, capsys):
    _in_home(monkeypatch, sandbox)
    with monkeypatch.context() as patch:
        patch.setattr(ResultsStore, "record_failure", _down)
        code, out, err = _main(capsys, "score", "test-lb-a", "Fake2026.V1-broken")
    assert code == 3 and "FAILED: RuntimeError: Fake2026.V1-broken always fails" in out
    _one_line(err, "spool", "import-spool")
    assert _main(capsys, "results", "import-spool")[0] == 0
    ((model, benchmark, status, score),) = sandbox.rows()
    assert (model, benchmark, status, score) == ("test-lb-a", "Fake2026.V1-broken", "failed", None)


def test_a_result_that_cannot_even_be_spooled_is_printed_and_one_line_says_so(sandbox, fakes, monkeypatch,
                                                                              capsys):
    _in_home(monkeypatch, sandbox)
    ResultsStore().check()
    (sandbox.home / "spool").write_text("a file where the spool folder belongs")
    with monkeypatch.context() as patch:
        patch.setattr(ResultsStore, "record_result", _down)
        code, out, err = _main(capsys, "score", "test-lb-a", "Fake2026.VTC-constant")
    assert code == 3 and "score 0.5000" in out
    _one_line(err, "server closed the connection", "could not be kept", str(sandbox.home / "spool"))


def test_import_spool_leaves_other_stores_and_unreadable_files_in_place(sandbox, fakes, monkeypatch, capsys):
    _in_home(monkeypatch, sandbox)
    other = ResultsStore(str(sandbox.root / "other.sqlite"))
    row = {"model_identifier": "m", "benchmark_identifier": "B.V1-x", "benchmark_version": "1",
           "topobench_version": "t", "score": 0.5, "raw": 0.4, "ceiling": 0.8, "error": 0.01, "details": {},
           "started_at": _now(), "finished_at": _now(), "status": "ok", "message": None, "provenance": None,
           "model_weights_sha256": None}
    for_other = other.spool(row, "the other store was down")
    broken = sandbox.home / "spool" / "20260101T000000.000000Z-broken.json"
    broken.write_text("{ not json")
    code, out, err = _main(capsys, "results", "import-spool")
    assert code == 1 and "another store" in out and "cannot be read" in out
    assert for_other.exists() and broken.exists() and sandbox.rows() == []
    assert other.import_spool().imported == [for_other] and not for_other.exists()
    assert [r["score"] for r in other.rows()] == [0.5]


def test_import_spool_interrupted_after_the_insert_does_not_add_the_row_twice(sandbox, monkeypatch, tmp_path):
    _in_home(monkeypatch, sandbox)
    store = ResultsStore().check()
    score = ceiled_score(0.3, 0.6, 0.01)
    with monkeypatch.context() as patch:
        patch.setattr(ResultsStore, "record_result", _down)
        with pytest.raises(ResultSpooled) as caught:
            score_model(Model(), Raising(call=lambda: score), store=store)
    assert caught.value.score is score and caught.value.path.exists()
    copy = tmp_path / "copy.json"
    shutil.copy(caught.value.path, copy)
    assert len(store.import_spool().imported) == 1
    shutil.copy(copy, caught.value.path)  # as if the process died before removing the file
    assert len(store.import_spool().imported) == 1
    assert len(store.rows()) == 1 and not caught.value.path.exists()


def test_an_import_cut_short_by_a_killed_process_is_finished_by_the_next(sandbox, monkeypatch):
    import socket
    _in_home(monkeypatch, sandbox)
    store = ResultsStore().check()
    with monkeypatch.context() as patch:
        patch.setattr(ResultsStore, "record_result", _down)
        with pytest.raises(ResultSpooled) as caught:
            score_model(Model(), Raising(call=lambda: ceiled_score(0.3, 0.6, 0.01)), store=store)
    spooled = caught.value.path
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    claimed = spooled.with_name(f"{spooled.name}~{socket.gethostname()}~{gone.pid}.importing")
    spooled.rename(claimed)  # as a process killed while it imported the file leaves it
    assert spooled_files() == [spooled] and not claimed.exists()
    assert store.import_spool().imported == [spooled]
    assert len(store.rows()) == 1 and list(spooled.parent.iterdir()) == []


@pytest.mark.postgres
def test_postgresql_connection_lost_mid_run_spools_the_result(sandbox, monkeypatch):
    import uuid
    _in_home(monkeypatch, sandbox)
    url = os.environ["TOPOBENCH_TEST_POSTGRES_URL"]
    model = Model()
    model.identifier = f"fault-model-{uuid.uuid4().hex[:8]}"
    store = ResultsStore(url).check()
    backend = store.database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    with ResultsStore(url) as admin:  # the server drops this store's connection, as when it restarts
        admin.database.execute_sql("SELECT pg_terminate_backend(%s)", (backend,))
    try:
        with pytest.raises(ResultSpooled) as caught:
            score_model(model, Raising(call=lambda: ceiled_score(0.3, 0.6, 0.01)), store=store)
        assert "cannot be written" in str(caught.value) and caught.value.path.exists()
        with ResultsStore(url) as again:
            assert again.rows(model=model.identifier) == []
            assert len(again.import_spool().imported) == 1
            (row,) = again.rows(model=model.identifier)
        assert row["score"] == pytest.approx(0.5) and not caught.value.path.exists()
    finally:
        with ResultsStore(url) as cleanup:
            cleanup.ScoreRecord.delete().where(cleanup.ScoreRecord.model_identifier == model.identifier).execute()


# ----------------------------------------------------------------------------- leaderboard

def test_a_fault_stored_as_a_failure_by_an_older_topobench_is_scored_again(fakes, tmp_path):
    from topobench.leaderboard.run import plan, run_leaderboard
    store = ResultsStore(str(tmp_path / "board.sqlite"))
    weights = registry.load_model("test-lb-a").weights_sha256
    store.record_failure("test-lb-a", weights, "Fake2026.VTC-constant", "1",
                         "data host /mnt/refdata is unreachable: /mnt/refdata is not a folder; set "
                         "TOPOBENCH_DATA_URL to the reference-data folder", _now())
    store.record_failure("test-lb-a", weights, "Fake2026.V1-forward", "1",
                         "OSError: [Errno 28] No space left on device: '/home/x/activations/a.npy'", _now())
    store.record_failure("test-lb-a", weights, "Fake2026.V1-broken", "1", "Fake2026.V1-broken always fails",
                         _now())
    benchmarks = ["Fake2026.VTC-constant", "Fake2026.V1-forward", "Fake2026.V1-broken"]
    todo = plan(["test-lb-a"], benchmarks, store)
    assert sorted(task.benchmark for task in todo.tasks) == ["Fake2026.V1-forward", "Fake2026.VTC-constant"]
    assert [task.benchmark for task in todo.skipped_failed] == ["Fake2026.V1-broken"]  # the model's own failure
    summary = run_leaderboard(["test-lb-a"], benchmarks, store, progress=False)
    assert sorted((o.benchmark, o.status) for o in summary.outcomes) == [("Fake2026.V1-forward", "ok"),
                                                                         ("Fake2026.VTC-constant", "ok")]


def test_a_fault_during_leaderboard_run_stops_it_stores_nothing_for_the_pair_and_the_next_run_goes_on(
        fakes, tmp_path, monkeypatch):
    from topobench.data_client import DataHostUnreachable
    from topobench.leaderboard.run import run_leaderboard
    store = ResultsStore(str(tmp_path / "board.sqlite"))

    class Outage(fakes.Fake):
        def __call__(self, model):
            raise DataHostUnreachable("data host https://data.example/ is unreachable (timed out); check "
                                      "TOPOBENCH_DATA_URL and the network")

    benchmarks = ["Fake2026.VTC-constant", "Fake2026.V1-report", "Fake2026.V1-forward"]
    with monkeypatch.context() as patch:
        patch.setitem(registry.benchmark_registry, "Fake2026.V1-report",
                      lambda: Outage("Fake2026.V1-report", "V1", family="responses", report_only=True))
        with pytest.raises(EnvironmentFault) as caught:
            run_leaderboard(["test-lb-a"], benchmarks, store, progress=False)
    assert "unreachable" in str(caught.value) and "the run stopped at test-lb-a Fake2026.V1-report" in \
        str(caught.value)
    assert [row["benchmark_identifier"] for row in store.rows()] == ["Fake2026.VTC-constant"]
    again = run_leaderboard(["test-lb-a"], benchmarks, store, progress=False)  # the host is back
    assert sorted(o.benchmark for o in again.outcomes) == ["Fake2026.V1-forward", "Fake2026.V1-report"]
    assert len(again.skipped_ok) == 1 and not again.failed


def test_leaderboard_run_spools_what_the_store_cannot_take_and_the_next_run_imports_it(fakes, sandbox,
                                                                                      monkeypatch):
    from topobench.leaderboard.run import run_leaderboard
    _in_home(monkeypatch, sandbox)
    url = f"sqlite:///{sandbox.home / 'board.sqlite'}"
    with monkeypatch.context() as patch:
        patch.setattr(ResultsStore, "record_result", _down)
        with pytest.raises(ResultSpooled):
            run_leaderboard(["test-lb-a"], ["Fake2026.VTC-constant"], url, progress=False)
    assert len(spooled_files()) == 1 and sandbox.rows(url) == []
    summary = run_leaderboard(["test-lb-a"], ["Fake2026.VTC-constant"], url, progress=False)
    assert summary.imported == 1 and summary.outcomes == [] and len(summary.skipped_ok) == 1
    assert sandbox.rows(url) == [("test-lb-a", "Fake2026.VTC-constant", "ok", 0.5)]
    assert "imported 1 spooled result" in summary.text()
