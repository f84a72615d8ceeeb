"""Shared fixtures for every test (tests/, benchmarks/*/test.py, topobench/models/*/test.py):
the data host of TOPOBENCH_DATA_URL (default ../shared/reference-data; a relative
folder is resolved against the folder pytest starts in, so that tests running
commands from other folders find it), a fresh TOPOBENCH_HOME per test session
unless one is set, one torch thread.

Services. Tests of the PostgreSQL results store and of pages in headless Chromium
use Debian's ``postgresql`` and ``chromium``. Where PostgreSQL's server binaries are
installed and ``TOPOBENCH_TEST_POSTGRES_URL`` is not set, a throwaway server is started
for the session (``.ci/postgres.sh``). A service that is absent is never skipped in
silence: its tests are deselected and the run ends with a warning that names them
and the package to install; with ``TOPOBENCH_REQUIRE`` naming it (``.ci/run`` does)
the run stops at once instead.
"""
import atexit
import glob
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent
REFERENCE_DATA = ROOT.parent / "shared" / "reference-data"
#: Services the run must use (set by .ci/run where it installed them): the run stops at
#: once when one is missing, so that their tests cannot pass without them.
REQUIRED = set(os.environ.get("TOPOBENCH_REQUIRE", "").split())
POSTGRES_VARIABLE = "TOPOBENCH_TEST_POSTGRES_URL"
_NOT_RUN: dict[str, list[str]] = {}


def _absolute_data_url():
    url = os.environ.get("TOPOBENCH_DATA_URL")
    if url and "://" not in url and not os.path.isabs(url):
        os.environ["TOPOBENCH_DATA_URL"] = os.path.abspath(url)


def _start_postgres():
    """Start a throwaway PostgreSQL server for this session where its binaries are installed."""
    if os.environ.get(POSTGRES_VARIABLE) or not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        return
    started = subprocess.run(["bash", str(ROOT / ".ci" / "postgres.sh")], capture_output=True, text=True)
    if started.returncode != 0:
        raise pytest.UsageError(f"PostgreSQL is installed but .ci/postgres.sh could not start it: "
                                f"{started.stderr.strip()[-500:]}")
    for line in started.stdout.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        os.environ[name] = value
    directory = os.environ["TOPOBENCH_POSTGRES_DIR"]
    atexit.register(lambda: subprocess.run(["bash", str(ROOT / ".ci" / "postgres.sh"), "stop"],
                                           env={**os.environ, "TOPOBENCH_POSTGRES_DIR": directory},
                                           capture_output=True))


def pytest_configure(config):
    if not os.environ.get("TOPOBENCH_DATA_URL") and REFERENCE_DATA.is_dir():
        os.environ["TOPOBENCH_DATA_URL"] = str(REFERENCE_DATA)
    _absolute_data_url()
    if not hasattr(config, "workerinput"):
        _start_postgres()
    config.addinivalue_line("markers", "postgres: needs a PostgreSQL server (Debian's postgresql)")
    config.addinivalue_line("markers", "browser: needs headless Chromium (Debian's chromium)")


def _service_missing() -> dict:
    missing = {}
    if not os.environ.get(POSTGRES_VARIABLE):
        missing["postgres"] = "PostgreSQL (apt-get install postgresql, or set TOPOBENCH_TEST_POSTGRES_URL)"
    if not any(shutil.which(name) for name in ("chromium", "chromium-browser")):
        missing["browser"] = "Chromium (apt-get install chromium)"
    return missing


def pytest_collection_modifyitems(config, items):
    missing = _service_missing()
    required = {"postgres": "postgres", "chromium": "browser"}
    stop = [missing[marker] for service, marker in required.items() if service in REQUIRED and marker in missing]
    if stop:
        raise pytest.UsageError(f"TOPOBENCH_REQUIRE names services that are missing: {', '.join(stop)}")
    kept, dropped = [], []
    for item in items:
        absent = [marker for marker in missing if item.get_closest_marker(marker)]
        if absent:
            dropped.append(item)
            for marker in absent:
                _NOT_RUN.setdefault(missing[marker], []).append(item.nodeid)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_terminal_summary(terminalreporter):
    for service, nodeids in _NOT_RUN.items():
        terminalreporter.write_line(f"NOT RUN: {len(nodeids)} test(s) need {service}, which is not installed "
                                    f"here: {', '.join(nodeids[:3])}{' ...' if len(nodeids) > 3 else ''}",
                                    yellow=True, bold=True)


@pytest.fixture(scope="session", autouse=True)
def _environment(tmp_path_factory):
    """Tests use the data host of TOPOBENCH_DATA_URL (CI: ../shared/reference-data)
    and a fresh cache unless TOPOBENCH_HOME is set."""
    if not os.environ.get("TOPOBENCH_DATA_URL") and REFERENCE_DATA.is_dir():
        os.environ["TOPOBENCH_DATA_URL"] = str(REFERENCE_DATA)
    if not os.environ.get("TOPOBENCH_HOME"):
        os.environ["TOPOBENCH_HOME"] = str(tmp_path_factory.mktemp("topobench_home"))
    torch.set_num_threads(1)
    yield


def require_data_host() -> Path:
    """The data host folder; a test that needs reference data fails (never skips) without it."""
    url = os.environ.get("TOPOBENCH_DATA_URL")
    if not url:
        pytest.fail("no data host: set TOPOBENCH_DATA_URL to the reference-data folder "
                    "(../shared/reference-data) to run the tests", pytrace=False)
    path = Path(url.removeprefix("file://"))
    if "://" not in url and not (path / "MANIFEST.json").is_file():
        pytest.fail(f"TOPOBENCH_DATA_URL={url} holds no reference data (no MANIFEST.json)", pytrace=False)
    return path


@pytest.fixture
def data_host():
    return require_data_host()


@pytest.fixture
def fresh_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("TOPOBENCH_HOME", str(home))
    return home


@pytest.fixture
def corrupted_host(tmp_path, data_host):
    """A copy of the data host whose Ringach file has one byte changed."""
    host = tmp_path / "host"
    (host / "ringach2002_v1").mkdir(parents=True)
    target = host / "ringach2002_v1" / "ringach_2002_db.mat"
    shutil.copy(data_host / "ringach2002_v1" / "ringach_2002_db.mat", target)
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    return host


@pytest.fixture(params=[pytest.param("sqlite", id="sqlite"),
                        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)])
def store_url(request, tmp_path):
    """A results store URL: an SQLite file in ``tmp_path``, and the session's PostgreSQL database
    (read when the test runs, after the server is started; emptied of rows and leases before and
    after each test: tests share that database)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'results.sqlite'}"
        return
    url = os.environ[POSTGRES_VARIABLE]
    _empty_store(url)
    yield url
    _empty_store(url)


def _empty_store(url):
    """No rows and no leases (the lease table stays: stores cached by leaderboard.run know it exists)."""
    from topobench.results import ResultsStore
    with ResultsStore(url) as store:
        store.database.drop_tables([store.ScoreRecord], safe=True)
        if store.database.table_exists("score_leases"):
            store.ScoreLease.delete().execute()


@pytest.fixture
def store(store_url):
    from topobench.results import ResultsStore
    with ResultsStore(store_url) as opened:
        yield opened
