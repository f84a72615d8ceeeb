"""Plugin registries and discovery.

Four plain dicts, as in Brain-Score: a plugin registers a zero-argument factory
under its identifier. In-repo plugins are the sub-packages of
``topobench.models`` (``topobench/models/<name>/``) and
``topobench.benchmarks`` (``benchmarks/<name>/`` in the checkout); third-party
packages declare entry points in the groups ``topobench.models`` and
``topobench.benchmarks`` whose name is the identifier and whose object is the
factory. Models imported or trained locally live in
``TOPOBENCH_HOME/models/<name>/`` and register under their folder name. Discovery
imports those modules; it never installs anything and never
scans source text.
"""
from __future__ import annotations

import difflib
import importlib
import pkgutil
from importlib.metadata import entry_points
from typing import Callable

from topobench.errors import UnknownPluginError

class PluginTable(dict):
    """name -> factory. A plugin file imported twice, under its installed name
    (``topobench.benchmarks.<plugin>``) and under the checkout's folder name (pytest's importlib
    mode imports ``benchmarks/<plugin>/test.py`` as ``benchmarks.<plugin>.test``, running the
    folder's ``__init__`` again), keeps one class: the installed one. Any other factory replaces
    the old one, as plain assignment does."""

    def __setitem__(self, name, factory):
        previous = self.get(name)
        if previous is not None and _installed_twin(previous, factory):
            return
        super().__setitem__(name, factory)


def _installed_twin(installed, other) -> bool:
    """Whether ``installed`` is the class ``other`` is, imported under ``topobench.<module>``."""
    if installed is other or getattr(installed, "__qualname__", None) != getattr(other, "__qualname__", object()):
        return False
    return str(getattr(installed, "__module__", "")) == f"topobench.{getattr(other, '__module__', '')}"


model_registry: dict[str, Callable] = PluginTable()
benchmark_registry: dict[str, Callable] = PluginTable()
stimulus_set_registry: dict[str, Callable] = PluginTable()
dataset_registry: dict = {}  # name -> reference_data.Dataset, filled by topobench.reference_data

_REGISTRIES = {"model": model_registry, "benchmark": benchmark_registry,
               "stimulus set": stimulus_set_registry, "dataset": dataset_registry}
_PACKAGES = {"model": "topobench.models", "benchmark": "topobench.benchmarks"}
_GROUPS = {"model": "topobench.models", "benchmark": "topobench.benchmarks"}
_discovered: set[str] = set()


def _import_subpackages(package_name: str) -> None:
    package = importlib.import_module(package_name)
    for info in pkgutil.iter_modules(package.__path__):
        if info.ispkg:
            importlib.import_module(f"{package_name}.{info.name}")


def discover(kind: str) -> None:
    """Import every plugin of ``kind`` (model, benchmark, stimulus set, dataset) once."""
    if kind in _discovered:
        return
    _discovered.add(kind)
    if kind == "dataset":
        importlib.import_module("topobench.reference_data")
        return
    if kind == "stimulus set":
        importlib.import_module("topobench.stimuli")
        return
    _import_subpackages(_PACKAGES[kind])
    registry = _REGISTRIES[kind]
    for entry_point in entry_points(group=_GROUPS[kind]):
        registry.setdefault(entry_point.name, _LazyEntryPoint(entry_point))
    if kind == "model":
        _register_local_models()


def _register_local_models() -> None:
    """Models imported or trained on this machine: ``TOPOBENCH_HOME/models/<name>/model.json``."""
    from functools import partial
    from topobench.data_client import topobench_home
    folder = topobench_home() / "models"
    for model_file in sorted(folder.glob("*/model.json")) if folder.is_dir() else ():
        from topobench.tdann.pretrained import load_model_folder
        model_registry.setdefault(model_file.parent.name, partial(load_model_folder, model_file.parent))


class _LazyEntryPoint:
    """A factory that imports a third-party plugin only when it is used."""

    def __init__(self, entry_point):
        self.entry_point = entry_point

    def __call__(self):
        return self.entry_point.load()()


def names(kind: str) -> list[str]:
    discover(kind)
    return sorted(_REGISTRIES[kind])


def _lookup(kind: str, name: str):
    discover(kind)
    registry = _REGISTRIES[kind]
    if name not in registry:
        close = difflib.get_close_matches(name, list(registry), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        listing = {"model": "models", "benchmark": "benchmarks", "dataset": "datasets"}.get(kind)
        where = f"; `topobench list {listing}` shows the registered ones" if listing else ""
        raise UnknownPluginError(f"unknown {kind} '{name}'{hint}{where}")
    return registry[name]


def load_model(name: str):
    return _lookup("model", name)()


def load_benchmark(name: str):
    return _lookup("benchmark", name)()


def load_stimulus_set(name: str):
    return _lookup("stimulus set", name)()


def get_dataset(name: str):
    return _lookup("dataset", name)
