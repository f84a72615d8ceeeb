"""Scoring a model on a benchmark, and keeping the result.

:func:`score_model` runs one (model, benchmark) pair and commits the row to the
results store as soon as it exists: a ceiled score with raw, ceiling, error and
details, or, when the benchmark fails, a row with status 'failed' and the
message (never a number). Provenance kept with each row: the benchmark version,
the model weights sha256, the sha256 of every reference file the benchmark
declares, the torch thread count, the device when it is not the CPU and the positions' provenance.

A fault that is not the model's is never stored as its failure (it would become
a 0 on the leaderboard and be skipped by later runs): an
:class:`~topobench.errors.EnvironmentFault` (data host unreachable, cache not
writable...), a :class:`~topobench.errors.DataError` (reference data missing or
corrupted on the host) and an ``OSError`` of the machine (disk full, no
permission, read-only file system...) are re-raised, nothing stored
(:func:`environment_fault`).

A result the store cannot take at write time (the database went away, the disk
is full) is not lost: it is written to a spool file in ``TOPOBENCH_HOME/spool``
and :class:`~topobench.results.ResultSpooled` is raised, holding the score and
naming the file (see :mod:`topobench.results`).
"""
from __future__ import annotations

import datetime as dt
import errno
import traceback

import peewee
import torch

from topobench.errors import DataError, EnvironmentFault, TopobenchError
from topobench.registry import get_dataset, load_benchmark, load_model

#: errno of an OSError that is the machine's fault, not the model's.
MACHINE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS, errno.EIO,
                            errno.ENOTDIR, errno.EISDIR, errno.EMFILE, errno.ENFILE})
#: the same faults as libraries put them in the text of other errors (torch.save: RuntimeError).
MACHINE_MESSAGES = ("No space left on device", "Disk quota exceeded", "Read-only file system")


class BenchmarkFailed(TopobenchError):
    """A benchmark raised; the failure was stored."""


def _provenance(model, benchmark) -> dict:
    provenance = {"torch_threads": torch.get_num_threads(), "torch_version": torch.__version__}
    device = str(getattr(model, "device", "cpu"))
    if device != "cpu":  # an accelerator's arithmetic may differ in the last bits; CPU rows stay as they were
        provenance["device"] = device
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


def environment_fault(error: BaseException, doing: str = "") -> TopobenchError | None:
    """``error`` as a fault that is not the model's, or None when it is a failure of the model.

    An :class:`EnvironmentFault` or a :class:`DataError` (in ``error`` or what caused it) is
    returned as it is; an ``OSError`` of the machine (:data:`MACHINE_ERRNOS`: disk full, no
    permission, read-only, I/O error...), or an error whose text says so, becomes an
    :class:`EnvironmentFault` naming the file and the fix. ``doing`` says where it happened.
    """
    from topobench.data_client import fix_of

    seen, current = set(), error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (EnvironmentFault, DataError)):
            return current
        if isinstance(current, OSError) and current.errno in MACHINE_ERRNOS:
            where = f"{current.filename}: " if getattr(current, "filename", None) else ""
            return EnvironmentFault(f"{doing + ': ' if doing else ''}{where}{current.strerror or current}; "
                                    f"{fix_of(current)}; nothing was stored, run again once it is fixed")
        current = current.__cause__ or current.__context__
    text = str(error)
    for marker in MACHINE_MESSAGES:
        if marker in text:
            return EnvironmentFault(f"{doing + ': ' if doing else ''}{marker} ({type(error).__name__}); "
                                    f"free disk space or set TOPOBENCH_HOME to a writable folder on another "
                                    f"disk; nothing was stored, run again once it is fixed")
    return None


#: Errors of a store that could not take a row at write time (then the row is spooled).
STORE_WRITE_ERRORS = (peewee.PeeweeException, OSError)


def keep_row(store, record: str, arguments: dict, row: dict, score=None) -> int:
    """``store.<record>(**arguments)`` (``record_result`` or ``record_failure``); when the store
    fails, ``row`` (the same values) is spooled and :class:`ResultSpooled` raised, holding ``score``.
    Returns the row id."""
    from topobench.results import ResultsStoreError, ResultSpooled, StoreUnavailable

    try:
        return getattr(store, record)(**arguments)
    except (*STORE_WRITE_ERRORS, ResultsStoreError) as error:
        reason = (str(error) if isinstance(error, StoreUnavailable) else
                  f"results store {store.name} cannot be written: {type(error).__name__}: "
                  f"{' '.join(str(error).split())}")
        what = f"the {'score' if record == 'record_result' else 'failure'} of {row['model_identifier']} on " \
               f"{row['benchmark_identifier']}"
        try:
            path = store.spool(row, reason)
        except (OSError, TopobenchError) as spool_error:
            detail = (f"{spool_error.filename}: {spool_error.strerror}" if isinstance(spool_error, OSError)
                      else spool_error)
            kept = ResultSpooled(f"{reason}; {what} could not be kept in TOPOBENCH_HOME/spool either "
                                 f"({detail}): score it again once the store works", None, row, score, reason)
        else:
            kept = ResultSpooled(f"{reason}; {what} is kept in {path}: it is imported into that store at the "
                                 f"next `topobench score` or `topobench leaderboard run`, or now with "
                                 f"`topobench results import-spool`", path, row, score, reason)
        raise kept from None


def score_model(model, benchmark, store=None, raise_errors: bool = True):
    """Score ``model`` (object or registered identifier) on ``benchmark`` (likewise).

    The row is committed to ``store`` (default: ``ResultsStore()``) before this
    returns. A failing benchmark is stored as failed and raises
    :class:`BenchmarkFailed` (or returns None with ``raise_errors=False``).
    A fault that is not the model's (:func:`environment_fault`) is raised and
    nothing is stored; a row the store cannot take is spooled and
    :class:`~topobench.results.ResultSpooled` raised (with the score).
    """
    from topobench.results import ResultsStore, failure_row, result_row, utc_now

    model = load_model(model) if isinstance(model, str) else model
    benchmark = load_benchmark(benchmark) if isinstance(benchmark, str) else benchmark
    store = store or ResultsStore()
    started = dt.datetime.now(dt.timezone.utc)
    provenance = _provenance(model, benchmark)
    weights = _weights(model)
    try:
        score = benchmark(model)
    except Exception as error:  # stored, then reported
        fault = environment_fault(error, f"{benchmark.identifier} on {model.identifier}")
        if fault is not None:  # the machine's fault: never stored as the model's
            if fault is error:
                raise
            raise fault from error
        message = str(error) if isinstance(error, TopobenchError) else \
            f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=5)}"
        finished = utc_now()
        keep_row(store, "record_failure",
                 dict(model_identifier=model.identifier, weights_sha256=weights,
                      benchmark_identifier=benchmark.identifier, benchmark_version=benchmark.version,
                      message=message, started_at=started, provenance=provenance, finished_at=finished),
                 failure_row(model.identifier, weights, benchmark.identifier, benchmark.version, message,
                             started, provenance, finished))
        if raise_errors:
            raise BenchmarkFailed(f"{benchmark.identifier} failed on {model.identifier}: "
                                  f"{message.splitlines()[0]} (stored as failed)") from error
        return None
    finished = utc_now()
    keep_row(store, "record_result",
             dict(model_identifier=model.identifier, weights_sha256=weights,
                  benchmark_identifier=benchmark.identifier, benchmark_version=benchmark.version,
                  score=score, started_at=started, provenance=provenance, finished_at=finished),
             result_row(model.identifier, weights, benchmark.identifier, benchmark.version, score, started,
                        provenance, finished), score)
    return score


def _weights(model) -> str | None:
    try:
        return model.weights_sha256
    except Exception:  # a model whose weights cannot be hashed is still scored
        return None
