"""Training images for the bundled TDANN models, decoded once into a uint8 tensor.

Decoding ~75,000 small JPEGs at every epoch would dominate a CPU training run,
so every source is decoded once (shorter side resized to ``size`` px with
bicubic resampling, centre crop to ``size`` x ``size``, RGB), stacked into an
array of shape (N, 3, size, size), dtype uint8, and cached as ``.npy`` files
under ``TOPOBENCH_HOME/training_data/<key>/`` where the key names the sources
and the size. Later calls memory-map the cached array.

Sources (all from the data host, see ``reference_data/datasets/``):

- ``imagenet_sample``: 1,000 photographs, one per ImageNet class, shorter side 144 px.
- ``more_training_images``: 23,253 photographs with the shorter side 80 px:
  faces (UTKFace), outdoor scenes (Intel Image Classification), written
  characters (Chars74K).
- ``cifar10``: the 50,000 images of the CIFAR-10 *train* split (Krizhevsky 2009),
  32 px, upsampled to ``size``. The test split is never used for training (it
  is kept for the linear probe).

The fLoc stimuli (Stigliani et al. 2015) are test stimuli of every VTC
benchmark and are refused here.

Labels (for the supervised variant) are category-level: the ten CIFAR-10
classes (``cifar10/<class>``), the kind of a ``more_training_images`` image
(``faces``, ``scenes``, ``characters``) and ``objects`` for the ImageNet sample
(one image per ImageNet class is too few to learn 1,000 classes).
"""
from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from topobench.errors import DataError

#: Sources that may be used for training, in the order they are stacked.
SOURCES = ("imagenet_sample", "more_training_images", "cifar10")
#: Datasets that are test stimuli and must never be trained on.
FORBIDDEN_SOURCES = ("floc",)
#: Bumped when the decoding changes, so that stale caches are not reused.
DECODE_VERSION = 1


@dataclass
class TrainingImages:
    """Decoded training images.

    ``images``: uint8 array (N, 3, S, S), RGB, possibly memory-mapped.
    ``labels``: int64 array (N,), indices into ``classes``.
    ``kinds``: int64 array (N,), indices into ``kind_names`` (the source kind of
    each image: 'objects', 'faces', 'scenes', 'characters', 'cifar10').
    ``names``: the file of each image inside its source (``<source>:<path>``).
    """

    images: np.ndarray
    labels: np.ndarray
    kinds: np.ndarray
    classes: list[str]
    kind_names: list[str]
    sources: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def size(self) -> int:
        return int(self.images.shape[-1])

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @classmethod
    def synthetic(cls, n: int = 256, size: int = 32, n_classes: int = 4, seed: int = 0) -> "TrainingImages":
        """Random smooth uint8 images with class-dependent colour, for tests (no decoding)."""
        rng = np.random.default_rng(seed)
        labels = rng.integers(0, n_classes, size=n)
        coarse = rng.uniform(0, 255, size=(n, 3, 4, 4))
        images = np.repeat(np.repeat(coarse, size // 4, axis=2), size // 4, axis=3)
        tint = np.linspace(-60, 60, n_classes)[labels][:, None, None, None] * np.array([1, 0, -1])[None, :, None, None]
        images = np.clip(images + tint + rng.normal(0, 20, size=images.shape), 0, 255).astype(np.uint8)
        return cls(images, labels.astype(np.int64), np.zeros(n, dtype=np.int64),
                   [f"class{i}" for i in range(n_classes)], ["synthetic"], ["synthetic"],
                   [f"synthetic:{i}" for i in range(n)])


def cache_key(sources, size: int) -> str:
    """Folder name of the cache for ``sources`` decoded at ``size`` px."""
    ordered = [s for s in SOURCES if s in set(sources)]
    parts = [s if s != "cifar10" else "cifar10-train" for s in ordered]
    return "+".join(parts) + f"_{int(size)}px_v{DECODE_VERSION}"


def _check_sources(sources) -> list[str]:
    sources = list(sources)
    if not sources:
        raise DataError("no training sources given; choose from " + ", ".join(SOURCES))
    for source in sources:
        if source in FORBIDDEN_SOURCES:
            raise DataError(f"'{source}' holds test stimuli of the benchmarks and must never be used "
                            f"for training; choose from {', '.join(SOURCES)}")
        if source not in SOURCES:
            raise DataError(f"unknown training source '{source}'; choose from {', '.join(SOURCES)}")
    return [s for s in SOURCES if s in set(sources)]


def _entries(source: str) -> tuple[Path, list[tuple[str, str, str]]]:
    """The zip of ``source`` and its (member, class, kind) entries, in a fixed order."""
    from topobench.data_client import fetch

    if source == "imagenet_sample":
        archive = fetch("imagenet_sample", "imagenet_sample_144px.zip", progress=True)
        with zipfile.ZipFile(archive) as handle:
            members = sorted(n for n in handle.namelist() if not n.endswith("/"))
        return archive, [(m, "objects", "objects") for m in members]
    if source == "more_training_images":
        archive = fetch("more_training_images", "more_training_images_80px.zip", progress=True)
        table = fetch("more_training_images", "more_training_images.csv")
        import csv
        with open(table, newline="") as handle:
            rows = [(row["filename"], row["kind"]) for row in csv.DictReader(handle)]
        rows.sort()
        return archive, [(m, kind, kind) for m, kind in rows]
    if source == "cifar10":
        archive = fetch("cifar10", "cifar10_images.zip", progress=True)
        with zipfile.ZipFile(archive) as handle:
            members = sorted(n for n in handle.namelist() if n.startswith("train/") and not n.endswith("/"))
        return archive, [(m, "cifar10/" + m.split("/")[1], "cifar10") for m in members]
    raise DataError(f"unknown training source '{source}'")


def decode_image(data: bytes, size: int) -> np.ndarray:
    """One JPEG -> uint8 (3, size, size): shorter side to ``size`` (bicubic), centre crop.

    PIL's draft mode lets the JPEG decoder skip detail that the resize would
    drop anyway (it decodes at 1/2, 1/4 or 1/8 scale when that stays above
    ``size``).
    """
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (size, size))
        image = image.convert("RGB")
        width, height = image.size
        scale = size / min(width, height)
        new = (max(size, round(width * scale)), max(size, round(height * scale)))
        if new != (width, height):
            image = image.resize(new, Image.BICUBIC)
        left, top = (new[0] - size) // 2, (new[1] - size) // 2
        image = image.crop((left, top, left + size, top + size))
        return np.asarray(image, dtype=np.uint8).transpose(2, 0, 1)


def _decode_chunk(job):
    archive, members, size = job
    out = np.empty((len(members), 3, size, size), dtype=np.uint8)
    with zipfile.ZipFile(archive) as handle:
        for index, member in enumerate(members):
            out[index] = decode_image(handle.read(member), size)
    return out


def decode_source(source: str, size: int, workers: int | None = None, progress: bool = True):
    """Decode every training image of ``source``: (images uint8 (N,3,S,S), classes, kinds, names)."""
    archive, entries = _entries(source)
    members = [m for m, _, _ in entries]
    chunk = 500
    jobs = [(str(archive), members[i:i + chunk], size) for i in range(0, len(members), chunk)]
    workers = workers or max(1, min(len(jobs), os.cpu_count() or 1))
    images = np.empty((len(members), 3, size, size), dtype=np.uint8)
    from tqdm import tqdm
    bar = tqdm(total=len(members), desc=f"decoding {source}", unit="img", disable=not progress)
    position = 0
    if workers == 1:
        results = map(_decode_chunk, jobs)
        pool = None
    else:
        import multiprocessing
        pool = multiprocessing.get_context("spawn" if os.name == "nt" else "fork").Pool(workers)
        results = pool.imap(_decode_chunk, jobs)
    try:
        for block in results:
            images[position:position + len(block)] = block
            position += len(block)
            bar.update(len(block))
    finally:
        bar.close()
        if pool is not None:
            pool.close()
            pool.join()
    return images, [c for _, c, _ in entries], [k for _, _, k in entries], [f"{source}:{m}" for m in members]


def load_training_data(sources=SOURCES, size: int = 80, workers: int | None = None,
                       progress: bool = True, mmap: bool = True) -> TrainingImages:
    """The decoded training images of ``sources`` at ``size`` px, decoded on first use and cached.

    The cache lives in ``TOPOBENCH_HOME/training_data/<cache_key>/`` (``images.npy``,
    ``labels.npy``, ``kinds.npy``, ``meta.json``); it is written into a
    temporary folder and renamed into place, so an interrupted decode never
    leaves a cache that looks complete. ``mmap`` memory-maps the images.
    """
    from topobench.data_client import topobench_home

    sources = _check_sources(sources)
    root = topobench_home() / "training_data"
    folder = root / cache_key(sources, size)
    if not (folder / "meta.json").is_file():
        root.mkdir(parents=True, exist_ok=True)
        parts = [decode_source(source, size, workers=workers, progress=progress) for source in sources]
        classes = sorted({c for part in parts for c in part[1]})
        kind_names = sorted({k for part in parts for k in part[2]})
        class_index = {c: i for i, c in enumerate(classes)}
        kind_index = {k: i for i, k in enumerate(kind_names)}
        temporary = Path(tempfile.mkdtemp(dir=root, prefix=f".{folder.name}."))
        os.chmod(temporary, 0o755)  # a shared cache: readable by other users
        try:
            total = sum(len(part[0]) for part in parts)
            images = np.lib.format.open_memmap(temporary / "images.npy", mode="w+", dtype=np.uint8,
                                               shape=(total, 3, size, size))
            position = 0
            for part in parts:
                images[position:position + len(part[0])] = part[0]
                position += len(part[0])
            images.flush()
            del images
            np.save(temporary / "labels.npy", np.array([class_index[c] for p in parts for c in p[1]], np.int64))
            np.save(temporary / "kinds.npy", np.array([kind_index[k] for p in parts for k in p[2]], np.int64))
            meta = {"sources": sources, "size": int(size), "n_images": int(total), "classes": classes,
                    "kind_names": kind_names, "names": [n for p in parts for n in p[3]],
                    "decode_version": DECODE_VERSION,
                    "decoding": "PIL draft mode, shorter side to size (bicubic), centre crop; "
                                "cifar10: train split only"}
            (temporary / "meta.json").write_text(json.dumps(meta))
            try:
                os.replace(temporary, folder)
            except OSError:  # another process finished first: keep its copy
                if not (folder / "meta.json").is_file():
                    raise
        finally:
            if temporary.exists():
                shutil.rmtree(temporary, ignore_errors=True)
    meta = json.loads((folder / "meta.json").read_text())
    images = np.load(folder / "images.npy", mmap_mode="r" if mmap else None)
    return TrainingImages(images, np.load(folder / "labels.npy"), np.load(folder / "kinds.npy"),
                          meta["classes"], meta["kind_names"], meta["sources"], meta["names"])


def _main(argv=None) -> None:
    import argparse
    parser = argparse.ArgumentParser(description="Decode the TDANN training images once and cache them.")
    parser.add_argument("--sources", nargs="+", default=list(SOURCES))
    parser.add_argument("--size", type=int, default=80)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    data = load_training_data(args.sources, args.size, workers=args.workers)
    print(f"{len(data)} images of {data.size} px; classes: {data.n_classes}; kinds: {data.kind_names}")


if __name__ == "__main__":
    _main()
