"""The dataset registry: one JSON file per dataset in ``datasets/`` (files with
sha256 and size, upstream source, licence, citation), read into
``topobench.registry.dataset_registry``. The files themselves live on the data
host (``TOPOBENCH_DATA_URL``) and never in this repository.

Modules beside this one turn raw reference files into reference values
(``ringach2002.py``: the circular variances of 308 macaque V1 cells, ...).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from topobench.errors import UnknownPluginError
from topobench.registry import dataset_registry

DATASETS_FOLDER = Path(__file__).parent / "datasets"


@dataclass(frozen=True)
class DataFile:
    path: str
    sha256: str
    bytes: int


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    citation: str
    licence: str
    upstream: object
    files: tuple[DataFile, ...] = field(default_factory=tuple)

    def file(self, path: str) -> DataFile:
        for entry in self.files:
            if entry.path == path:
                return entry
        known = ", ".join(f.path for f in self.files[:5])
        raise UnknownPluginError(f"dataset '{self.name}' has no file '{path}' (it has: {known}"
                                 f"{', ...' if len(self.files) > 5 else ''})")

    def fetch(self, path: str, progress: bool = False) -> Path:
        from topobench.data_client import fetch
        return fetch(self.name, path, progress=progress)


def _load(json_path: Path) -> Dataset:
    record = json.loads(json_path.read_text())
    files = tuple(DataFile(f["path"], f["sha256"], int(f["bytes"])) for f in record["files"])
    return Dataset(record["name"], record["description"], record["citation"], record["licence"],
                   record["upstream"], files)


for _json in sorted(DATASETS_FOLDER.glob("*.json")):
    _dataset = _load(_json)
    dataset_registry[_dataset.name] = _dataset
