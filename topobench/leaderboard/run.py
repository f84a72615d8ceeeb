"""Scoring every missing (model, benchmark) pair, resumably, here or on a Dask cluster.

:func:`plan` decides, from the results store, which pairs need scoring at the
benchmarks' current versions: a pair with an ``'ok'`` row for this benchmark
version and these model weights (sha256) is skipped; so is a pair whose newest
row at this version, for these weights, failed, unless ``retry_failed``.
:func:`run_leaderboard` scores the rest with :func:`score_pair`, which calls
:func:`topobench.scoring.score_model` and so commits each row (score or failure)
the moment it exists: killing a run loses only the pairs in progress, and the
next run does exactly those and the ones never started.

Where the work runs:

- ``jobs=1`` and no scheduler: in this process, one pair after the other;
- ``jobs=N``: a Dask ``LocalCluster`` of N worker processes, one thread each;
- ``scheduler='tcp://host:8786'``: the workers of a running Dask scheduler
  (start them with ``dask worker ADDRESS --nthreads 1``). Every worker must
  have the same topobench, plugins and reference data, and reach the results
  database: use PostgreSQL (``TOPOBENCH_DB_URL``) when the workers are on other
  machines.

Every pair runs with ``threads`` torch threads (default 1) wherever it runs, so
the same pair gives the same score locally and on a cluster (DESIGN.md,
"Conventions").

Faults of the machine are never results. The store is opened and checked
before any work (and results an earlier run had to spool are imported first);
a fault that is not the model's (data host unreachable, disk full, the store
gone: :func:`topobench.scoring.environment_fault`) stops the run with one line
and stores nothing for that pair, so the next run scores it. A row stored as
failed by an older topobench for such a fault (:func:`is_fault_message`) is
scored again too, like any status other than ``'ok'`` and ``'failed'``.

Costs known before the work (``topobench.costs``): :func:`plan` estimates each pair's
seconds and peak memory from the benchmark's declared ``cost`` and the model's layer
sizes, and orders the pairs longest first (here and on Dask, whose priorities follow
that order; pairs without an estimate come last, in plan order). :func:`run_leaderboard`
refuses, before any work, a pair whose estimated peak memory exceeds the memory this
machine has available (``MemAvailable``, or ``memory_limit``): one line with the
number, nothing stored for it (it is no failure of the model: a larger machine
scores it), listed again in the summary.

Two runs on one store do not score a pair twice: :func:`score_pair` takes the
pair's lease in the store first (:meth:`ResultsStore.acquire_lease`, renewed
every minute while the pair runs, released when it ends), skips a pair another
run holds, and, holding the lease, skips a pair that got a new row since this
run planned it. A lease whose holder was killed expires, or is taken over at once
when the holder was a process of this host.
"""
from __future__ import annotations

import contextlib
import importlib
import logging
import threading
import time
import traceback
import uuid
import warnings
from dataclasses import dataclass, field

from topobench.costs import available_bytes, estimate, format_bytes
from topobench.errors import TopobenchError, UnknownPluginError
from topobench.leaderboard.aggregate import LeaderboardError, _unique
from topobench.results import LEASE_SECONDS, STATUS_FAILED, STATUS_OK, ResultSpooled, ResultsStore, utc_now
from topobench.scoring import environment_fault, score_model

log = logging.getLogger(__name__)

#: An outcome that is not a result: another run holds the pair, or stored a row for it meanwhile.
STATUS_ELSEWHERE = "elsewhere"
#: What an older topobench stored as a model's failure when the machine was at fault (the text of
#: its message): such rows are scored again, never skipped.
FAULT_MESSAGE_MARKERS = ("is unreachable", "No space left on device", "[Errno 28]", "Disk quota exceeded",
                         "Read-only file system", "[Errno 30]", "Permission denied", "[Errno 13]",
                         "database or disk is full", "disk I/O error", "cannot cache ", "was lost while "
                         "downloading")


def is_fault_message(message) -> bool:
    """Whether a stored failure's message is a fault of the machine, not of the model."""
    text = str(message or "")
    return any(marker in text for marker in FAULT_MESSAGE_MARKERS)


# ----------------------------------------------------------------------------- records

@dataclass(frozen=True)
class Task:
    """One (model, benchmark) pair to score, as the plan saw it."""

    model: str
    benchmark: str
    version: str                    # the benchmark's current version
    weights_sha256: str | None      # the model's current weights (None: unknown)
    load_error: str | None = None   # the model could not be loaded while planning
    seen_row_id: int | None = None  # the newest row of the pair at this version when planned
    recheck: bool = False           # skip the pair if it got a newer row since (another run scored it)
    seconds: float | None = None    # estimated CPU seconds (topobench.costs); None: unknown
    peak_bytes: float | None = None  # estimated peak memory in bytes; None: unknown

    @property
    def pair(self) -> tuple[str, str]:
        return self.model, self.benchmark


@dataclass
class Outcome:
    """What scoring one pair gave; the row itself is in the store."""

    model: str
    benchmark: str
    version: str
    status: str                     # 'ok' | 'failed' | 'elsewhere' (another run has it; nothing stored)
    score: float | None = None
    message: str | None = None
    seconds: float = 0.0
    row_id: int | None = None


@dataclass(frozen=True)
class Refusal:
    """A pair not started: its estimated peak memory exceeds what the machine has."""

    task: Task
    limit_bytes: float
    limit_source: str = "available"  # 'available' (MemAvailable) or 'memory_limit' (given)

    def text(self) -> str:
        has = (f"this machine has {format_bytes(self.limit_bytes)} available" if self.limit_source == "available"
               else f"the memory limit is {format_bytes(self.limit_bytes)}")
        return (f"refused {self.task.benchmark} on {self.task.model}: needs about "
                f"{format_bytes(self.task.peak_bytes)}, {has}; score it on a larger machine or commit a "
                f"smaller layer")


@dataclass
class Plan:
    tasks: list[Task] = field(default_factory=list)
    skipped_ok: list[Task] = field(default_factory=list)
    skipped_failed: list[Task] = field(default_factory=list)


@dataclass
class RunSummary:
    outcomes: list[Outcome]
    skipped_ok: list[Task]
    skipped_failed: list[Task]
    seconds: float
    elsewhere: list[Outcome] = field(default_factory=list)  # held or scored by another run meanwhile
    imported: int = 0                                        # spooled results imported at the start
    refused: list[Refusal] = field(default_factory=list)    # not started: too little memory; nothing stored

    @property
    def ok(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.status == STATUS_OK]

    @property
    def failed(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.status != STATUS_OK]

    def text(self) -> str:
        skipped = len(self.skipped_ok) + len(self.skipped_failed) + len(self.elsewhere)
        lines = [f"scored {len(self.outcomes)} pair(s): {len(self.ok)} ok, {len(self.failed)} failed; "
                 f"skipped {skipped}: {len(self.skipped_ok)} already scored, {len(self.skipped_failed)} "
                 f"failed before" + (" (--retry-failed scores them again)" if self.skipped_failed else "")
                 + (f", {len(self.elsewhere)} being or just scored by another run" if self.elsewhere else "")
                 + f"; {self.seconds:.1f} s"]
        if self.imported:
            lines.append(f"imported {self.imported} spooled result(s) an earlier run could not store")
        if self.failed:
            lines.append("failed:")
            for outcome in sorted(self.failed, key=lambda o: (o.model, o.benchmark)):
                first = (outcome.message or "").strip().splitlines()[:1] or [""]
                lines.append(f"  {outcome.model}  {outcome.benchmark}: {first[0]}")
        if self.refused:
            lines.append(f"refused {len(self.refused)} pair(s) that need more memory than this run has "
                         f"(nothing stored for them):")
            lines.extend(f"  {refusal.text()}" for refusal in self.refused)
        return "\n".join(lines)


# ----------------------------------------------------------------------------- worker side

_local = threading.local()  # per thread: Dask threads never share a model's hooks
#: Model factories may draw initial weights from torch's global generator (seeded inside
#: ``fork_rng``): two threads building models at once would interleave the draws.
_LOAD_LOCK = threading.Lock()


def import_modules(modules) -> None:
    """Import modules that register more models or benchmarks (``--import``)."""
    for name in modules or ():
        try:
            importlib.import_module(name)
        except ImportError as error:
            raise LeaderboardError(f"cannot import plugin module {name!r}: {error}; it must be importable "
                                   f"here and on every worker (installed, or on PYTHONPATH)") from None


def _store(url: str) -> ResultsStore:
    stores = _local.__dict__.setdefault("stores", {})
    if url not in stores:
        stores[url] = ResultsStore(url)
    return stores[url]


def _model(identifier: str, no_cache: bool, batch: str | None = None):
    """The model; within one batch (one :func:`execute` call), loaded once per thread for
    consecutive pairs of the same model. A new batch always loads afresh (the model may have
    been retrained or re-imported since)."""
    from topobench.registry import load_model
    key = (identifier, no_cache, batch)
    cached = getattr(_local, "model", None)
    if batch is not None and cached is not None and cached[0] == key:
        return cached[1]
    _local.model = None  # free the previous one first
    with _LOAD_LOCK:
        model = load_model(identifier)
    if no_cache and hasattr(model, "cache"):
        model.cache = False  # PytorchModel: compute every activation afresh
    if batch is not None:
        _local.model = (key, model)
    return model


def _error_text(error: BaseException) -> str:
    if isinstance(error, TopobenchError):
        return str(error)
    return f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=5)}"


class _LeaseKeeper:
    """Renews a pair's lease in a background thread while the pair is scored (its own connection)."""

    def __init__(self, store: ResultsStore, model: str, benchmark: str, version: str, token: str,
                 seconds: float = LEASE_SECONDS):
        self.store, self.key, self.token, self.seconds = store, (model, benchmark, version), token, seconds
        self.every = max(0.05, min(60.0, seconds / 4))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease {model} {benchmark}", daemon=True)

    def _run(self):
        try:
            while not self._stop.wait(self.every):
                try:
                    if not self.store.renew_lease(*self.key, self.token, self.seconds):
                        log.warning("the lease of %s %s was taken over (it had expired)", *self.key[:2])
                        return
                except Exception as error:  # noqa: BLE001 - the pair goes on; its lease may expire
                    # info, not warning: a store that is down says so on its own line when the row is written
                    log.info("cannot renew the lease of %s %s: %s", *self.key[:2], error)
        finally:
            with contextlib.suppress(Exception):
                self.store.close()  # this thread's connection only

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=30)


@contextlib.contextmanager
def _leased(store: ResultsStore, model: str, benchmark: str, version: str, seen_row_id=None,
            recheck: bool = False):
    """Hold the pair's lease while the body runs (renewed, then released); yields None to score the
    pair, or why it is left alone: another run holds its lease, or (``recheck``) its newest row is no
    longer ``seen_row_id`` because another run stored one since this run planned it."""
    token = store.acquire_lease(model, benchmark, version)
    if token is None:
        lease = store.lease(model, benchmark, version) or {}
        yield f"being scored by another run ({lease.get('holder', 'unknown holder')})"
        return
    try:
        with _LeaseKeeper(store, model, benchmark, version, token):
            reason = None
            if recheck:
                newest = store.latest(model, benchmark, version)
                if newest is not None and newest["id"] != seen_row_id:
                    reason = f"scored by another run meanwhile (row {newest['id']}, {newest['status']})"
            yield reason
    finally:
        try:
            store.release_lease(model, benchmark, version, token)
        except Exception as error:  # noqa: BLE001 - it expires by itself (and a dead holder's at once)
            log.info("cannot release the lease of %s %s: %s", model, benchmark, error)


def score_pair(model_id: str, benchmark_id: str, version: str, store_url: str, threads: int = 1,
               imports=(), no_cache: bool = False, batch: str | None = None, seen_row_id: int | None = None,
               recheck: bool = False, device: str = "cpu") -> Outcome:
    """Score one pair and commit its row to the store at ``store_url``.

    Runs in this process or on a Dask worker. A model or benchmark that cannot
    be loaded is stored as failed, like a benchmark that raises. Pairs of one
    ``batch`` reuse the model loaded for the previous pair of the same model.
    The pair's lease is held while it runs: a pair another run holds gives an
    outcome ``'elsewhere'`` and nothing is stored; so does, with ``recheck``, a
    pair whose newest row is no longer ``seen_row_id``. A fault of the machine
    (:func:`topobench.scoring.environment_fault`) and a result that had to be
    spooled (:class:`ResultSpooled`) are raised, with nothing stored for the pair.
    """
    clock = time.perf_counter()
    store = _store(store_url)
    with _leased(store, model_id, benchmark_id, version, seen_row_id, recheck) as elsewhere:
        if elsewhere is not None:
            return Outcome(model_id, benchmark_id, str(version), STATUS_ELSEWHERE, None, elsewhere,
                           time.perf_counter() - clock)
        return _score_pair(model_id, benchmark_id, version, store, threads, imports, no_cache, batch, device)


def _score_pair(model_id, benchmark_id, version, store, threads, imports, no_cache, batch,
                device="cpu") -> Outcome:
    import torch
    from topobench.registry import load_benchmark

    warnings.filterwarnings("ignore", message=".*should explicitly define __slots__")  # as the CLI does
    import_modules(imports)
    torch.set_num_threads(int(threads))
    clock, started = time.perf_counter(), utc_now()

    def failure(message, weights=None, benchmark_version=version):
        row_id = store.record_failure(model_id, weights, benchmark_id, benchmark_version, message, started,
                                      provenance={"torch_threads": int(threads)})
        return Outcome(model_id, benchmark_id, str(benchmark_version), STATUS_FAILED, None, message,
                       time.perf_counter() - clock, row_id)

    try:
        benchmark = load_benchmark(benchmark_id)
    except Exception as error:  # noqa: BLE001 - stored as failed
        fault = environment_fault(error, f"benchmark {benchmark_id} cannot be loaded")
        if fault is not None:
            raise fault from error
        return failure(f"benchmark {benchmark_id} cannot be loaded: {_error_text(error)}")
    try:
        model = _model(model_id, no_cache, batch)
    except Exception as error:  # noqa: BLE001 - stored as failed
        fault = environment_fault(error, f"model {model_id} cannot be loaded")
        if fault is not None:
            raise fault from error
        return failure(f"model {model_id} cannot be loaded: {_error_text(error)}",
                       benchmark_version=benchmark.version)
    from topobench.model_interface import to_device
    to_device(model, device)  # a worker without the device stops the run: not a failure of the model
    if model.identifier != model_id:
        return failure(f"model registered as {model_id!r} calls itself {model.identifier!r}; the "
                       f"registered name and the model's identifier must be the same",
                       benchmark_version=benchmark.version)
    score_model(model, benchmark, store=store, raise_errors=False)
    row = store.latest(model_id, benchmark.identifier, benchmark.version)
    return Outcome(model_id, benchmark.identifier, str(benchmark.version), row["status"], row["score"],
                   row["message"], time.perf_counter() - clock, row["id"])


# ----------------------------------------------------------------------------- planning

def _weights(model) -> str | None:
    """The model's weights sha256 as :func:`topobench.scoring.score_model` stores it."""
    from topobench.scoring import _weights as stored_weights
    return stored_weights(model)


def is_control(model_id: str) -> bool:
    """Whether a registered model is a control (family ``controls``, ``topobench.models.controls``)."""
    from topobench.registry import discover, model_registry
    discover("model")
    return getattr(model_registry.get(model_id), "family", None) == "controls"


def plan(models=None, benchmarks=None, store: ResultsStore | None = None, retry_failed: bool = False,
         imports=(), progress: bool = False) -> Plan:
    """Which pairs to score (see the module docstring); unknown names raise before any work.

    Loads each model once (one at a time) for the sha256 of its weights and the
    sizes of its layers, from which each pair's cost is estimated
    (``topobench.costs``); the tasks are ordered longest first. A model or
    benchmark that cannot be loaded because of a fault of the machine raises it
    (nothing is planned, nothing stored).
    """
    from tqdm import tqdm
    from topobench.registry import load_benchmark, load_model, names

    import_modules(imports)
    store = store if store is not None else ResultsStore()
    model_ids = _unique(models) if models else names("model")
    benchmark_ids = _unique(benchmarks) if benchmarks else names("benchmark")
    registered = set(names("model"))
    for model_id in model_ids:
        if model_id not in registered:
            load_model(model_id)  # raises UnknownPluginError with the registry's hint
    versions, certifies, costs = {}, {}, {}
    for benchmark_id in benchmark_ids:
        try:
            benchmark = load_benchmark(benchmark_id)
            versions[benchmark_id] = str(benchmark.version)
            certifies[benchmark_id] = set(getattr(benchmark, "controls", ()) or ())
            costs[benchmark_id] = getattr(benchmark, "cost", None)
        except UnknownPluginError:
            raise
        except Exception as error:
            fault = environment_fault(error, f"benchmark {benchmark_id} cannot be constructed")
            if fault is not None:
                raise fault from error
            raise LeaderboardError(f"benchmark {benchmark_id} cannot be constructed: {_error_text(error)}; fix "
                                   f"its plugin or leave it out with --benchmarks") from error
    ok_rows, newest = set(), {}
    for row in store.rows():  # oldest first: the last one seen is the newest
        key = (row["model_identifier"], row["benchmark_identifier"], row["benchmark_version"])
        newest[key] = row
        if row["status"] == STATUS_OK:
            ok_rows.add(key + (row["model_weights_sha256"],))
            ok_rows.add(key + ("*",))
    result = Plan()
    for model_id in tqdm(model_ids, desc="checking models", unit="model", disable=not progress, leave=False):
        weights, load_error, estimates = None, None, {}
        try:
            model = load_model(model_id)
        except Exception as error:  # noqa: BLE001 - every pair of this model fails, stored as such
            fault = environment_fault(error, f"model {model_id} cannot be loaded")
            if fault is not None:
                raise fault from error
            load_error = f"model {model_id} cannot be loaded: {_error_text(error)}"
        else:
            weights = _weights(model)
            estimates = {benchmark_id: _estimate(costs[benchmark_id], model) for benchmark_id in benchmark_ids}
            del model
        for benchmark_id in benchmark_ids:
            if is_control(model_id) and model_id not in certifies[benchmark_id]:
                continue  # a control is scored only on the benchmarks that declare it
            version = versions[benchmark_id]
            key = (model_id, benchmark_id, version)
            last = newest.get(key)
            guess = estimates.get(benchmark_id)
            task = Task(model_id, benchmark_id, version, weights, load_error,
                        seen_row_id=None if last is None else last["id"], recheck=True,
                        seconds=None if guess is None else guess.seconds,
                        peak_bytes=None if guess is None else guess.peak_bytes)
            if key + ((weights if weights is not None else "*"),) in ok_rows:
                result.skipped_ok.append(task)
                continue
            # A failure of the model is skipped; a fault of the machine (any other status, or a failure an
            # older topobench stored for a fault) is scored again.
            if (not retry_failed and last is not None and last["status"] == STATUS_FAILED
                    and not is_fault_message(last["message"]) and last["model_weights_sha256"] == weights):
                result.skipped_failed.append(task)
                continue
            result.tasks.append(task)
    result.tasks = longest_first(result.tasks)
    return result


def _estimate(cost, model):
    """``topobench.costs.estimate``, or None: an estimate never stops a plan."""
    try:
        return estimate(cost, model)
    except Exception as error:  # noqa: BLE001 - unknown cost: scheduled last, never refused
        log.info("no cost estimate for %s: %s", getattr(model, "identifier", model), error)
        return None


def longest_first(tasks) -> list[Task]:
    """``tasks`` by estimated seconds, longest first; those without an estimate last, in their order."""
    return sorted(tasks, key=lambda task: (task.seconds is None, -(task.seconds or 0.0)))


def refuse_too_large(tasks, memory_limit: float | None = None) -> tuple[list[Task], list[Refusal]]:
    """(tasks that fit, refusals): a task whose estimated peak memory exceeds ``memory_limit``
    bytes (None: this machine's available memory, ``topobench.costs.available_bytes``) is refused.
    A task without an estimate, or a machine whose memory cannot be read, is never refused."""
    source = "memory_limit" if memory_limit is not None else "available"
    limit = memory_limit if memory_limit is not None else available_bytes()
    if limit is None:
        return list(tasks), []
    kept, refused = [], []
    for task in tasks:
        if task.peak_bytes is not None and task.peak_bytes > limit:
            refused.append(Refusal(task, float(limit), source))
        else:
            kept.append(task)
    return kept, refused


# ----------------------------------------------------------------------------- execution

@contextlib.contextmanager
def dask_client(jobs: int | None = None, scheduler: str | None = None):
    """A ``distributed.Client``: on ``scheduler``, or on a new ``LocalCluster`` of ``jobs``
    single-threaded worker processes (closed on exit)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise LeaderboardError("--jobs and --scheduler need Dask distributed: pip install "
                               "'dask[distributed]'") from None
    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as error:
            raise LeaderboardError(f"cannot reach the Dask scheduler at {scheduler}: {error}; start one with "
                                   f"`dask scheduler` and workers with `dask worker {scheduler} --nthreads 1`"
                                   ) from None
        try:
            threads = {info.get("nthreads") for info in client.scheduler_info().get("workers", {}).values()}
            if any((count or 1) > 1 for count in threads):
                log.warning("Dask workers with more than one thread run several pairs in one process; "
                            "start them with --nthreads 1")
            yield client
        finally:
            client.close()
        return
    cluster = LocalCluster(n_workers=int(jobs or 1), threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR)
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _store_load_error(task: Task, store: ResultsStore, threads: int) -> Outcome:
    """A pair whose model did not load while planning: stored as failed, under the pair's lease."""
    with _leased(store, task.model, task.benchmark, task.version, task.seen_row_id, task.recheck) as elsewhere:
        if elsewhere is not None:
            return Outcome(task.model, task.benchmark, task.version, STATUS_ELSEWHERE, None, elsewhere, 0.0)
        row_id = store.record_failure(task.model, None, task.benchmark, task.version, task.load_error,
                                      utc_now(), provenance={"torch_threads": int(threads)})
        return Outcome(task.model, task.benchmark, task.version, STATUS_FAILED, None, task.load_error, 0.0,
                       row_id)


def _stopped(error: BaseException, task: Task, finished: int) -> BaseException:
    """``error`` (a fault of the machine) with what the run did: it stops here, nothing stored for the
    pair, the finished ones are stored, and the same command continues."""
    if isinstance(error, ResultSpooled):
        return error  # already says where the result is and how it is imported
    note = (f"; the run stopped at {task.model} {task.benchmark} (nothing stored for it); {finished} pair(s) "
            f"finished before are stored: run the same command again once it is fixed")
    try:
        return type(error)(str(error) + note)
    except Exception:  # noqa: BLE001 - an exception class with another signature: as it is
        return error


def _record_lost(task: Task, error: BaseException, store: ResultsStore, since) -> Outcome:
    """A pair whose worker died: stored as failed unless the worker stored a row after all."""
    row = store.latest(task.model, task.benchmark, task.version)
    if row is not None and row["finished_at"] >= since:
        return Outcome(task.model, task.benchmark, task.version, row["status"], row["score"], row["message"],
                       0.0, row["id"])
    message = (f"the worker scoring it was lost ({type(error).__name__}: {error}); often out of memory; "
               f"score it again with --retry-failed")
    row_id = store.record_failure(task.model, task.weights_sha256, task.benchmark, task.version, message,
                                  since)
    return Outcome(task.model, task.benchmark, task.version, STATUS_FAILED, None, message, 0.0, row_id)


def execute(tasks, store: ResultsStore, jobs: int = 1, scheduler: str | None = None, client=None,
            threads: int = 1, imports=(), no_cache: bool = False, progress: bool = True,
            description: str = "scoring", device: str = "cpu") -> list[Outcome]:
    """Score ``tasks`` into ``store``: here (``jobs=1``), on a ``LocalCluster`` or on Dask.

    ``client``: a ``distributed.Client`` to use as it is (tests; a notebook).
    """
    from tqdm import tqdm
    import torch

    outcomes: list[Outcome] = []
    since = utc_now()
    batch = uuid.uuid4().hex
    bar = tqdm(total=len(tasks), desc=description, unit="pair", disable=not progress or not tasks)

    def done(outcome: Outcome):
        outcomes.append(outcome)
        bar.set_postfix_str(f"{outcome.model} {outcome.benchmark} {outcome.status}", refresh=False)
        bar.update(1)

    runnable = []
    for task in tasks:
        if task.load_error:  # nothing to ship: the model does not load
            done(_store_load_error(task, store, threads))
        else:
            runnable.append(task)
    try:
        if client is None and not scheduler and int(jobs or 1) <= 1:
            previous = torch.get_num_threads()
            try:
                for task in runnable:
                    try:
                        outcome = score_pair(task.model, task.benchmark, task.version, store.url, threads,
                                             tuple(imports), no_cache, batch, task.seen_row_id, task.recheck,
                                             device)
                    except TopobenchError as error:  # a fault of the machine: stop, one line
                        finished = sum(o.status != STATUS_ELSEWHERE for o in outcomes)
                        stopped = _stopped(error, task, finished)
                        if stopped is error:
                            raise
                        raise stopped from error
                    done(outcome)
            finally:
                torch.set_num_threads(previous)
                _local.model = None
        elif runnable:
            with (contextlib.nullcontext(client) if client is not None
                  else dask_client(jobs, scheduler)) as dask:
                _execute_dask(dask, runnable, store, threads, imports, no_cache, since, batch, done, device)
    finally:
        bar.close()
    return outcomes


def _execute_dask(client, tasks, store, threads, imports, no_cache, since, batch, done, device="cpu") -> None:
    from distributed import as_completed

    futures = {}
    for index, task in enumerate(tasks):
        future = client.submit(score_pair, task.model, task.benchmark, task.version, store.url, int(threads),
                               tuple(imports), no_cache, batch, task.seen_row_id, task.recheck, device,
                               key=f"topobench-score-{batch[:12]}-{index}", pure=False, priority=-index)
        futures[future] = task
    finished = 0
    try:
        for future in as_completed(list(futures)):
            task = futures[future]
            try:
                outcome = future.result()
            except TopobenchError as error:  # a fault of the machine on the worker: stop, one line
                stopped = _stopped(error, task, finished)
                if stopped is error:
                    raise
                raise stopped from error
            except Exception as error:  # noqa: BLE001 - a lost worker, stored as failed
                outcome = _record_lost(task, error, store, since)
            finished += outcome.status != STATUS_ELSEWHERE
            done(outcome)
    except BaseException:
        client.cancel(list(futures))
        raise


def run_leaderboard(models=None, benchmarks=None, store: ResultsStore | str | None = None, jobs: int = 1,
                    scheduler: str | None = None, client=None, retry_failed: bool = False, threads: int = 1,
                    imports=(), progress: bool = True, device: str = "cpu",
                    memory_limit: float | None = None) -> RunSummary:
    """Score every missing pair of ``models`` x ``benchmarks`` (default: all registered).

    ``store``: a :class:`ResultsStore` or its URL (default ``ResultsStore()``).
    Returns a :class:`RunSummary`; every row is already committed. The store is
    checked before any work (:class:`~topobench.results.StoreUnavailable`: one
    line, exit 3) and results spooled by an earlier run are imported into it first.
    A pair whose estimated peak memory exceeds ``memory_limit`` bytes (default:
    this machine's available memory) is refused before any work: one line
    (logged), nothing stored, listed in :attr:`RunSummary.refused`.
    """
    from topobench.model_interface import check_device
    device = check_device(device)  # before any work: where every pair's forward passes run
    clock = time.perf_counter()
    store = store if isinstance(store, ResultsStore) else ResultsStore(store)
    store.check()
    imported = len(store.import_spool().imported)
    import_modules(imports)
    todo = plan(models, benchmarks, store, retry_failed, imports, progress)
    todo.tasks, refused = refuse_too_large(todo.tasks, memory_limit)
    for refusal in refused:
        log.warning("%s", refusal.text())
    if scheduler and store.url.startswith("sqlite"):
        from topobench.redact import redact_url
        log.warning("the results store is the SQLite file %s: every Dask worker must see that same file "
                    "(use PostgreSQL through TOPOBENCH_DB_URL for workers on other machines)", redact_url(store.url))
    outcomes = execute(todo.tasks, store, jobs, scheduler, client, threads, imports, progress=progress,
                       device=device)
    elsewhere = [outcome for outcome in outcomes if outcome.status == STATUS_ELSEWHERE]
    return RunSummary([outcome for outcome in outcomes if outcome.status != STATUS_ELSEWHERE], todo.skipped_ok,
                      todo.skipped_failed, time.perf_counter() - clock, elsewhere, imported, refused)
