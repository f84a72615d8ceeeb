"""Shared fixtures for every test (tests/, benchmarks/*/test.py, topobench/models/*/test.py):
the data host of TOPOBENCH_DATA_URL (default ../shared/reference-data), a fresh
TOPOBENCH_HOME per test session unless one is set, one torch thread."""
import os
import shutil
from pathlib import Path

import pytest
import torch

REFERENCE_DATA = Path(__file__).resolve().parent.parent / "shared" / "reference-data"
#: Services the run must use (set by .ci/run where it installed them): the run stops at
#: once when one is missing, so that their tests cannot pass by skipping.
REQUIRED = set(os.environ.get("TOPOBENCH_REQUIRE", "").split())


def pytest_collection_modifyitems(config, items):
    missing = []
    if "postgres" in REQUIRED and not os.environ.get("TOPOBENCH_TEST_POSTGRES_URL"):
        missing.append("postgres (TOPOBENCH_TEST_POSTGRES_URL is not set)")
    if "chromium" in REQUIRED and shutil.which("chromium") is None:
        missing.append("chromium (not on PATH)")
    if missing:
        raise pytest.UsageError(f"TOPOBENCH_REQUIRE names services that are missing: {', '.join(missing)}")


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


@pytest.fixture
def data_host():
    url = os.environ.get("TOPOBENCH_DATA_URL")
    if not url:
        pytest.skip("no data host: set TOPOBENCH_DATA_URL")
    return Path(url)


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
