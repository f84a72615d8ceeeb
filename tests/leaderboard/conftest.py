"""Fixtures of the leaderboard tests: the fake plugins and a results store on
SQLite and, when ``TOPOBENCH_TEST_POSTGRES_URL`` names a scratch PostgreSQL
database, on PostgreSQL too (its table is dropped before and after each test)."""
from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest

from topobench import registry
from topobench.results import ResultsStore

HERE = Path(__file__).resolve().parent
POSTGRES_VARIABLE = "TOPOBENCH_TEST_POSTGRES_URL"
FAKES = "leaderboard_fakes"


def _drop(url):
    with ResultsStore(url) as store:
        store.database.drop_tables([store.ScoreRecord], safe=True)


def _url_params():
    postgres = os.environ.get(POSTGRES_VARIABLE)
    return [pytest.param("sqlite", id="sqlite"),
            pytest.param(postgres, id="postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=_url_params())
def store_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'results.sqlite'}"
        return
    _drop(request.param)
    yield request.param
    _drop(request.param)


@pytest.fixture
def store(store_url):
    with ResultsStore(store_url) as opened:
        yield opened


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
    for name, table in (("model", registry.model_registry), ("benchmark", registry.benchmark_registry)):
        table.clear()
        table.update(saved[name])
