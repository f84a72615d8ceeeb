"""On-disk cache of layer activations.

Keyed by the sha256 of (model weights sha256, stimulus-set content hash,
preprocessing description, layer name), so a second scoring run of the same
model on the same stimuli does no forward pass, and any change of weights,
stimuli or preprocessing misses. Files are ``.npy`` (float32), written
atomically, under ``TOPOBENCH_HOME/activations``.

Every entry is served only after it is verified: its sidecar ``<key>.json``
records the sha256 of the array's bytes, its shape and dtype, and an entry that
does not match them (changed, truncated, or written by an older topobench
without a checksum) is deleted and recomputed, with a warning. The cache is
optional: a write that fails (disk full, read-only folder) warns once and the
work goes on uncached. Temporary files of interrupted writes (``tmp*.npy.part``,
``tmp*.json.part``) older than an hour are removed when the cache opens.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import warnings
from pathlib import Path
from typing import BinaryIO, Callable

import numpy as np

from topobench.data_client import topobench_home

#: Temporary files of the cache's own writes (``tempfile.mkstemp(prefix=PART_PREFIX, suffix=...)``).
PART_PREFIX = "tmp"
PART_PATTERNS = ("tmp*.npy.part", "tmp*.json.part", "tmp*.npz.part")
#: A temporary file older than this (seconds) belongs to an interrupted write.
STALE_PART_SECONDS = 3600.0

_write_warned = False
_swept: set = set()


class CacheWarning(UserWarning):
    """The activation cache could not be used as it should (a failed write, an entry recomputed)."""


def array_checksum(values: np.ndarray) -> dict:
    """sha256 of the array's bytes (C order), its shape and its dtype."""
    values = np.ascontiguousarray(values)
    return {"sha256": hashlib.sha256(values.reshape(-1).view(np.uint8)).hexdigest(),
            "shape": [int(d) for d in values.shape], "dtype": str(values.dtype)}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def warn_write_failed(folder: Path, error: BaseException, what: str = "activation cache") -> None:
    """Warn (once per process) that an optional cache could not be written; the work goes on."""
    global _write_warned
    if _write_warned:
        return
    _write_warned = True
    reason = getattr(error, "strerror", None) or " ".join(str(error).split()) or type(error).__name__
    warnings.warn(f"cannot write the {what} in {folder} ({reason}); scoring goes on without "
                  f"caching (free disk space or make the folder writable to cache again)", CacheWarning,
                  stacklevel=3)


def remove_stale_parts(folder: Path, patterns=PART_PATTERNS, older_than: float = STALE_PART_SECONDS) -> list:
    """Delete the cache's own temporary files in ``folder`` older than ``older_than`` seconds
    (left by interrupted writes); returns the paths removed. Other files are never touched."""
    removed = []
    now = time.time()
    for pattern in patterns:
        try:
            candidates = list(Path(folder).glob(pattern))
        except OSError:
            continue
        for path in candidates:
            try:
                if path.is_file() and not path.is_symlink() and now - path.stat().st_mtime > older_than:
                    path.unlink()
                    removed.append(path)
            except OSError:  # gone already, or a read-only folder: nothing to do
                continue
    return removed


def sweep_once(folder: Path) -> None:
    """:func:`remove_stale_parts` of ``folder``, once per process."""
    if folder not in _swept:
        _swept.add(folder)
        remove_stale_parts(folder)


def discard(*paths: Path) -> None:
    """Delete the given cache files (the cache's own entries), ignoring those already gone."""
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass


def write_with_sidecar(path: Path, sidecar: Path, write: Callable[[BinaryIO], None],
                       record: Callable[[Path], dict]) -> None:
    """Write ``path`` (``write`` fills a binary file) and its JSON ``sidecar`` (``record`` of the
    written temporary file) atomically, both through temporary files of the cache's own pattern in
    ``path``'s folder; no temporary is left behind. Raises the ``OSError`` of a failed write."""
    temporaries = []
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=PART_PREFIX, suffix=f"{path.suffix}.part")
        temporaries.append(temporary)
        with os.fdopen(handle, "wb") as out:
            write(out)
        handle, temporary_json = tempfile.mkstemp(dir=path.parent, prefix=PART_PREFIX, suffix=".json.part")
        temporaries.append(temporary_json)
        with os.fdopen(handle, "w") as out:
            out.write(json.dumps(record(Path(temporary))))
        os.replace(temporary, path)
        os.replace(temporary_json, sidecar)
    finally:
        discard(*map(Path, temporaries))


class ActivationCache:
    def __init__(self, folder: Path | None = None):
        self.folder = Path(folder) if folder else topobench_home() / "activations"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            warn_write_failed(self.folder, error)
        sweep_once(self.folder)

    @staticmethod
    def key(weights_sha256: str, stimuli_hash: str, preprocessing: str, layer: str) -> str:
        text = "\n".join([weights_sha256, stimuli_hash, preprocessing, layer])
        return hashlib.sha256(text.encode()).hexdigest()

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.npy"

    def sidecar(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def load(self, key: str) -> np.ndarray | None:
        """The cached array of ``key`` when it matches its recorded checksum, else None (and the
        entry is deleted so that it is recomputed)."""
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            values = np.load(path, allow_pickle=False)
            recorded = json.loads(self.sidecar(key).read_text()).get("checksum")
        except FileNotFoundError:
            values, recorded = None, None
            problem = "has no checksum file"
        except (ValueError, OSError, EOFError, AttributeError) as error:
            values, recorded = None, None
            problem = f"does not load ({' '.join(str(error).split())[:80] or type(error).__name__})"
        else:
            if not isinstance(values, np.ndarray):
                problem = "is not an array"
            elif recorded is None:
                problem = "has no recorded checksum (an older topobench wrote it)"
            elif array_checksum(values) != recorded:
                problem = "does not match its recorded checksum (sha256, shape, dtype): it changed after it was written"
            else:
                return values
        warnings.warn(f"activation cache entry {path} {problem}; deleted it and recomputing",
                      CacheWarning, stacklevel=2)
        discard(self.path(key), self.sidecar(key))
        return None

    def save(self, key: str, values: np.ndarray, description: dict) -> Path | None:
        """Write ``values`` (as float32) and its checksum atomically; on a failed write (disk full,
        read-only folder) warn once and return None: the cache is optional."""
        path = self.path(key)
        values = np.ascontiguousarray(values, dtype=np.float32)
        record = {**description, "checksum": array_checksum(values)}
        try:
            write_with_sidecar(path, self.sidecar(key), lambda out: np.save(out, values), lambda _written: record)
        except OSError as error:
            warn_write_failed(self.folder, error)
            return None
        return path
