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

from topobench.errors import TopobenchError, UnknownPluginError
from topobench.leaderboard.aggregate import LeaderboardError, _unique
from topobench.results import STATUS_FAILED, STATUS_OK, ResultsStore, utc_now

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- records

@dataclass(frozen=True)
class Task:
    """One (model, benchmark) pair to score, as the plan saw it."""

    model: str
    benchmark: str
    version: str                    # the benchmark's current version
    weights_sha256: str | None      # the model's current weights (None: unknown)
    load_error: str | None = None   # the model could not be loaded while planning

    @property
    def pair(self) -> tuple[str, str]:
        return self.model, self.benchmark


@dataclass
class Outcome:
    """What scoring one pair gave; the row itself is in the store."""

    model: str
    benchmark: str
    version: str
    status: str                     # 'ok' | 'failed'
    score: float | None = None
    message: str | None = None
    seconds: float = 0.0
    row_id: int | None = None


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

    @property
    def ok(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.status == STATUS_OK]

    @property
    def failed(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.status != STATUS_OK]

    def text(self) -> str:
        skipped = len(self.skipped_ok) + len(self.skipped_failed)
        lines = [f"scored {len(self.outcomes)} pair(s): {len(self.ok)} ok, {len(self.failed)} failed; "
                 f"skipped {skipped}: {len(self.skipped_ok)} already scored, {len(self.skipped_failed)} "
                 f"failed before" + (" (--retry-failed scores them again)" if self.skipped_failed else "")
                 + f"; {self.seconds:.1f} s"]
        if self.failed:
            lines.append("failed:")
            for outcome in sorted(self.failed, key=lambda o: (o.model, o.benchmark)):
                first = (outcome.message or "").strip().splitlines()[:1] or [""]
                lines.append(f"  {outcome.model}  {outcome.benchmark}: {first[0]}")
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


def score_pair(model_id: str, benchmark_id: str, version: str, store_url: str, threads: int = 1,
               imports=(), no_cache: bool = False, batch: str | None = None) -> Outcome:
    """Score one pair and commit its row to the store at ``store_url``; never raises for the pair.

    Runs in this process or on a Dask worker. A model or benchmark that cannot
    be loaded is stored as failed, like a benchmark that raises. Pairs of one
    ``batch`` reuse the model loaded for the previous pair of the same model.
    """
    import torch
    from topobench.registry import load_benchmark
    from topobench.scoring import score_model

    warnings.filterwarnings("ignore", message=".*should explicitly define __slots__")  # as the CLI does
    import_modules(imports)
    torch.set_num_threads(int(threads))
    store = _store(store_url)
    clock, started = time.perf_counter(), utc_now()

    def failure(message, weights=None, benchmark_version=version):
        row_id = store.record_failure(model_id, weights, benchmark_id, benchmark_version, message, started,
                                      provenance={"torch_threads": int(threads)})
        return Outcome(model_id, benchmark_id, str(benchmark_version), STATUS_FAILED, None, message,
                       time.perf_counter() - clock, row_id)

    try:
        benchmark = load_benchmark(benchmark_id)
    except Exception as error:  # noqa: BLE001 - stored as failed
        return failure(f"benchmark {benchmark_id} cannot be loaded: {_error_text(error)}")
    try:
        model = _model(model_id, no_cache, batch)
    except Exception as error:  # noqa: BLE001 - stored as failed
        return failure(f"model {model_id} cannot be loaded: {_error_text(error)}",
                       benchmark_version=benchmark.version)
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


def plan(models=None, benchmarks=None, store: ResultsStore | None = None, retry_failed: bool = False,
         imports=(), progress: bool = False) -> Plan:
    """Which pairs to score (see the module docstring); unknown names raise before any work.

    Loads each model once (one at a time) for the sha256 of its weights.
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
    versions = {}
    for benchmark_id in benchmark_ids:
        try:
            versions[benchmark_id] = str(load_benchmark(benchmark_id).version)
        except UnknownPluginError:
            raise
        except Exception as error:
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
        weights, load_error = None, None
        try:
            model = load_model(model_id)
        except Exception as error:  # noqa: BLE001 - every pair of this model fails, stored as such
            load_error = f"model {model_id} cannot be loaded: {_error_text(error)}"
        else:
            weights = _weights(model)
            del model
        for benchmark_id in benchmark_ids:
            version = versions[benchmark_id]
            task = Task(model_id, benchmark_id, version, weights, load_error)
            key = (model_id, benchmark_id, version)
            if key + ((weights if weights is not None else "*"),) in ok_rows:
                result.skipped_ok.append(task)
                continue
            last = newest.get(key)
            if (not retry_failed and last is not None and last["status"] != STATUS_OK
                    and last["model_weights_sha256"] == weights):
                result.skipped_failed.append(task)
                continue
            result.tasks.append(task)
    return result


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
            description: str = "scoring") -> list[Outcome]:
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
            row_id = store.record_failure(task.model, None, task.benchmark, task.version, task.load_error,
                                          utc_now(), provenance={"torch_threads": int(threads)})
            done(Outcome(task.model, task.benchmark, task.version, STATUS_FAILED, None, task.load_error, 0.0,
                         row_id))
        else:
            runnable.append(task)
    try:
        if client is None and not scheduler and int(jobs or 1) <= 1:
            previous = torch.get_num_threads()
            try:
                for task in runnable:
                    done(score_pair(task.model, task.benchmark, task.version, store.url, threads, tuple(imports),
                                    no_cache, batch))
            finally:
                torch.set_num_threads(previous)
                _local.model = None
        elif runnable:
            with (contextlib.nullcontext(client) if client is not None
                  else dask_client(jobs, scheduler)) as dask:
                _execute_dask(dask, runnable, store, threads, imports, no_cache, since, batch, done)
    finally:
        bar.close()
    return outcomes


def _execute_dask(client, tasks, store, threads, imports, no_cache, since, batch, done) -> None:
    from distributed import as_completed

    futures = {}
    for index, task in enumerate(tasks):
        future = client.submit(score_pair, task.model, task.benchmark, task.version, store.url, int(threads),
                               tuple(imports), no_cache, batch, key=f"topobench-score-{batch[:12]}-{index}",
                               pure=False, priority=-index)
        futures[future] = task
    try:
        for future in as_completed(list(futures)):
            task = futures[future]
            try:
                outcome = future.result()
            except Exception as error:  # noqa: BLE001 - a lost worker, stored as failed
                outcome = _record_lost(task, error, store, since)
            done(outcome)
    except BaseException:
        client.cancel(list(futures))
        raise


def run_leaderboard(models=None, benchmarks=None, store: ResultsStore | str | None = None, jobs: int = 1,
                    scheduler: str | None = None, client=None, retry_failed: bool = False, threads: int = 1,
                    imports=(), progress: bool = True) -> RunSummary:
    """Score every missing pair of ``models`` x ``benchmarks`` (default: all registered).

    ``store``: a :class:`ResultsStore` or its URL (default ``ResultsStore()``).
    Returns a :class:`RunSummary`; every row is already committed.
    """
    clock = time.perf_counter()
    store = store if isinstance(store, ResultsStore) else ResultsStore(store)
    import_modules(imports)
    todo = plan(models, benchmarks, store, retry_failed, imports, progress)
    if scheduler and store.url.startswith("sqlite"):
        log.warning("the results store is the SQLite file %s: every Dask worker must see that same file "
                    "(use PostgreSQL through TOPOBENCH_DB_URL for workers on other machines)", store.url)
    outcomes = execute(todo.tasks, store, jobs, scheduler, client, threads, imports, progress=progress)
    return RunSummary(outcomes, todo.skipped_ok, todo.skipped_failed, time.perf_counter() - clock)
