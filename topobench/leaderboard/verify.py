"""Reproducibility check: rescore stored pairs and compare at the printed precision.

:func:`verify` takes the newest stored row of each (model, benchmark) pair at
the benchmark's current version (all of them, or ``sample`` drawn with
``seed``), scores each pair again into a temporary results store (never the
real one) with the torch thread count the row records and, by default, without
the activation cache, so the forward passes are redone too, and compares:

- differences (the check fails): status; score, raw, ceiling and error at 4
  decimals; model weights sha256; reference-data sha256s; seed;
- notes (reported, not failures): another topobench version; another failure
  message.
"""
from __future__ import annotations

import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from topobench.leaderboard.aggregate import _unique, fmt4, latest_rows, load_infos
from topobench.leaderboard.run import Task, execute, import_modules
from topobench.results import STATUS_OK, ResultsStore

NUMBERS = ("score", "raw", "ceiling", "error")


@dataclass
class Check:
    model: str
    benchmark: str
    version: str
    stored: dict
    rescored: dict | None = None
    differences: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not self.differences


@dataclass
class VerifyReport:
    checks: list[Check]
    seconds: float

    @property
    def differing(self) -> list[Check]:
        return [check for check in self.checks if not check.same]

    def text(self) -> str:
        lines = []
        for check in self.checks:
            stored = check.stored
            shown = (f"score {fmt4(stored['score']) or 'nan'}" if stored["status"] == STATUS_OK
                     else "failed")
            lines.append(f"{'same     ' if check.same else 'DIFFERENT'}  {check.model}  {check.benchmark} "
                         f"v{check.version}  {shown}")
            lines += [f"    {text}" for text in check.differences]
            lines += [f"    note: {text}" for text in check.notes]
        lines.append(f"verified {len(self.checks)} pair(s): {len(self.checks) - len(self.differing)} same, "
                     f"{len(self.differing)} different; {self.seconds:.1f} s")
        return "\n".join(lines)


def _first_line(text) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0] if lines else ""


def compare(stored: dict, rescored: dict | None) -> tuple[list[str], list[str]]:
    """(differences, notes) between a stored row and its rescoring (see the module docstring)."""
    if rescored is None:
        return ["no row was stored when rescoring"], []
    differences, notes = [], []
    if stored["status"] != rescored["status"]:
        differences.append(f"status {stored['status']} -> {rescored['status']}"
                           + (f": {_first_line(rescored['message'])}" if rescored["message"] else ""))
    elif stored["status"] == STATUS_OK:
        for name in NUMBERS:
            before, after = fmt4(stored[name]) or "nan", fmt4(rescored[name]) or "nan"
            if before != after:
                differences.append(f"{name} {before} -> {after}")
    elif _first_line(stored["message"]) != _first_line(rescored["message"]):
        notes.append(f"message {_first_line(stored['message'])!r} -> {_first_line(rescored['message'])!r}")
    before, after = stored.get("model_weights_sha256"), rescored.get("model_weights_sha256")
    if before and after and before != after:
        differences.append(f"model weights sha256 {before[:12]}... -> {after[:12]}...")
    old, new = stored.get("provenance") or {}, rescored.get("provenance") or {}
    if stored["status"] == STATUS_OK and rescored["status"] == STATUS_OK:
        old_data, new_data = old.get("reference_data_sha256") or {}, new.get("reference_data_sha256") or {}
        for name in sorted(set(old_data) | set(new_data)):
            if old_data.get(name) != new_data.get(name):
                differences.append(f"reference data {name}: sha256 {old_data.get(name)} -> {new_data.get(name)}")
        if old.get("seed") != new.get("seed"):
            differences.append(f"seed {old.get('seed')} -> {new.get('seed')}")
    if stored.get("topobench_version") != rescored.get("topobench_version"):
        notes.append(f"topobench {stored.get('topobench_version')} -> {rescored.get('topobench_version')}")
    return differences, notes


def select_rows(store: ResultsStore, models=None, benchmarks=None, sample: int | None = None,
                seed: int = 0) -> list[dict]:
    """The newest row of each stored pair at its benchmark's current version, sorted; or a sample."""
    infos = load_infos(benchmarks)
    latest = latest_rows(store.rows(), infos)
    wanted = set(_unique(models)) if models else None
    keys = sorted(key for key in latest if wanted is None or key[0] in wanted)
    if sample is not None and sample < len(keys):
        keys = sorted(random.Random(seed).sample(keys, max(int(sample), 0)))
    return [latest[key] for key in keys]


def verify(store: ResultsStore | str | None = None, sample: int | None = None, seed: int = 0, models=None,
           benchmarks=None, jobs: int = 1, client=None, imports=(), use_cache: bool = False,
           progress: bool = True) -> VerifyReport:
    """Rescore stored pairs into a temporary store and compare (see the module docstring)."""
    clock = time.perf_counter()
    store = store if isinstance(store, ResultsStore) else ResultsStore(store)
    import_modules(imports)
    rows = select_rows(store, models, benchmarks, sample, seed)
    by_threads: dict[int, list[Task]] = {}
    for row in rows:
        threads = int((row.get("provenance") or {}).get("torch_threads") or 1)
        by_threads.setdefault(threads, []).append(Task(row["model_identifier"], row["benchmark_identifier"],
                                                       row["benchmark_version"], row["model_weights_sha256"]))
    checks = []
    with tempfile.TemporaryDirectory(prefix="topobench-verify-") as folder:
        with ResultsStore(f"sqlite:///{Path(folder) / 'verify.sqlite'}") as scratch:
            for threads, tasks in sorted(by_threads.items()):
                execute(tasks, scratch, jobs=jobs, client=client, threads=threads, imports=imports,
                        no_cache=not use_cache, progress=progress, description="rescoring")
            for row in rows:
                rescored = scratch.latest(row["model_identifier"], row["benchmark_identifier"],
                                          row["benchmark_version"])
                check = Check(row["model_identifier"], row["benchmark_identifier"], row["benchmark_version"],
                              row, rescored)
                check.differences, check.notes = compare(row, rescored)
                checks.append(check)
    return VerifyReport(checks, time.perf_counter() - clock)
