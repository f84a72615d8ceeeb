"""Fixtures of the leaderboard tests: the fake plugins and a results store on
SQLite and, when ``TOPOBENCH_TEST_POSTGRES_URL`` names a scratch PostgreSQL
database, on PostgreSQL too (the root conftest's ``store_url`` and ``store``)."""
from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest

from topobench import registry

HERE = Path(__file__).resolve().parent
FAKES = "leaderboard_fakes"


@pytest.fixture
def fakes(monkeypatch):
    """The fake models and benchmarks, registered here (only them: no plugin discovery) and
    importable as ``leaderboard_fakes`` by subprocesses and Dask workers (PYTHONPATH)."""
    monkeypatch.syspath_prepend(str(HERE))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])))
    saved = {name: dict(table) for name, table in
             (("model", registry.model_registry), ("benchmark", registry.benchmark_registry))}
    monkeypatch.setattr(registry, "_discovered", set(registry._discovered) | {"model", "benchmark"})
    module = sys.modules.get(FAKES) or importlib.import_module(FAKES)
    module.register()
    yield module
    # undo every patch of this test first (a test's own monkeypatch.setitem on a registry would
    # otherwise put a fake back after the tables are restored), then restore the tables
    monkeypatch.undo()
    for name, table in (("model", registry.model_registry), ("benchmark", registry.benchmark_registry)):
        table.clear()
        table.update(saved[name])
