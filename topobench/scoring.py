"""Scoring a model on a benchmark, and keeping the result.

:func:`score_model` runs one (model, benchmark) pair and commits the row to the
results store as soon as it exists: a ceiled score with raw, ceiling, error and
details, or, when the benchmark fails, a row with status 'failed' and the
message (never a number). Provenance kept with each row: the benchmark version,
the model weights sha256, the sha256 of every reference file the benchmark
declares, the torch thread count and the positions' provenance.
"""
from __future__ import annotations

import datetime as dt
import traceback

import torch

from topobench.errors import TopobenchError
from topobench.registry import get_dataset, load_benchmark, load_model


class BenchmarkFailed(TopobenchError):
    """A benchmark raised; the failure was stored."""


def _provenance(model, benchmark) -> dict:
    provenance = {"torch_threads": torch.get_num_threads(), "torch_version": torch.__version__}
    datasets = getattr(benchmark, "datasets", ())
    provenance["reference_data_sha256"] = {
        f"{name}/{entry.path}": entry.sha256 for name in datasets for entry in get_dataset(name).files}
    seed = getattr(benchmark, "seed", None)
    if seed is not None:
        provenance["seed"] = seed
    by_default = getattr(model, "positions_by_default", None)
    if by_default is not None:
        provenance["positions_by_default"] = dict(by_default)
    return provenance


def score_model(model, benchmark, store=None, raise_errors: bool = True):
    """Score ``model`` (object or registered identifier) on ``benchmark`` (likewise).

    The row is committed to ``store`` (default: ``ResultsStore()``) before this
    returns. A failing benchmark is stored as failed and raises
    :class:`BenchmarkFailed` (or returns None with ``raise_errors=False``).
    """
    from topobench.results import ResultsStore

    model = load_model(model) if isinstance(model, str) else model
    benchmark = load_benchmark(benchmark) if isinstance(benchmark, str) else benchmark
    store = store or ResultsStore()
    started = dt.datetime.now(dt.timezone.utc)
    provenance = _provenance(model, benchmark)
    try:
        score = benchmark(model)
    except Exception as error:  # stored, then reported
        message = str(error) if isinstance(error, TopobenchError) else \
            f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=5)}"
        store.record_failure(model.identifier, _weights(model), benchmark.identifier, benchmark.version,
                             message=message, started_at=started, provenance=provenance)
        if raise_errors:
            raise BenchmarkFailed(f"{benchmark.identifier} failed on {model.identifier}: "
                                  f"{message.splitlines()[0]} (stored as failed)") from error
        return None
    store.record_result(model.identifier, _weights(model), benchmark.identifier, benchmark.version,
                        score, started_at=started, provenance=provenance)
    return score


def _weights(model) -> str | None:
    try:
        return model.weights_sha256
    except Exception:  # a model whose weights cannot be hashed is still scored
        return None
