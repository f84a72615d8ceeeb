"""On-disk cache of layer activations.

Keyed by the sha256 of (model weights sha256, stimulus-set content hash,
preprocessing description, layer name), so a second scoring run of the same
model on the same stimuli does no forward pass, and any change of weights,
stimuli or preprocessing misses. Files are ``.npy`` (float32), written
atomically, under ``TOPOBENCH_HOME/activations``.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from topobench.data_client import topobench_home


class ActivationCache:
    def __init__(self, folder: Path | None = None):
        self.folder = Path(folder) if folder else topobench_home() / "activations"
        self.folder.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def key(weights_sha256: str, stimuli_hash: str, preprocessing: str, layer: str) -> str:
        text = "\n".join([weights_sha256, stimuli_hash, preprocessing, layer])
        return hashlib.sha256(text.encode()).hexdigest()

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.npy"

    def load(self, key: str) -> np.ndarray | None:
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            return np.load(path)
        except (ValueError, OSError, EOFError):  # a damaged file is recomputed
            path.unlink(missing_ok=True)
            return None

    def save(self, key: str, values: np.ndarray, description: dict) -> Path:
        path = self.path(key)
        handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".npy.part")
        try:
            with os.fdopen(handle, "wb") as out:
                np.save(out, np.ascontiguousarray(values, dtype=np.float32))
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)
        path.with_suffix(".json").write_text(json.dumps(description))
        return path
