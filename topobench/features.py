"""Layer features reduced by a projection fitted on images that no benchmark scores.

A large layer over a thousand images does not fit in memory or in the
activation cache (a 3.2 M-unit layer over 1,200 images is 15 GB of float32).
As Brain-Score does, the features are reduced by a PCA fitted on ImageNet
images: here the 1,000 photographs of ``imagenet_sample`` (one per class,
centre-cropped to a square, placed on the model's field at ``fit_degrees``),
which no benchmark scores. Memory stays bounded by one batch of activations:

1. **Sketch.** A layer with more than ``sketch_dim`` units is first reduced,
   batch by batch, by a very sparse random projection (Li, Hastie & Church 2006:
   entries +-1/sqrt(density * sketch_dim) with density 1/sqrt(units), else 0,
   drawn from ``seed``), which keeps inner products to about 1/sqrt(sketch_dim)
   (1% at 8,192). A smaller layer is used as it is.
2. **PCA.** The (sketched) features of the 1,000 images (1,000 x at most
   ``sketch_dim`` floats) are centred and decomposed by SVD; the first
   ``n_components`` components are kept (at most 999, the rank of 1,000 centred
   images), signs fixed so that each component's largest loading is positive.
3. **Projected features** of any stimulus set: activations streamed batch by
   batch through the sketch, centred with the ImageNet mean and multiplied by
   the components (not whitened), cached on disk with
   :class:`topobench.activation_cache.ActivationCache` under a key of the model
   weights, the stimuli's content hash, the preprocessing, the layer and the
   projection (its spec and the fit set's content hash).

The fitted projection is cached as ``.npz`` under
``TOPOBENCH_HOME/projections`` (components: n_components x sketch_dim float32,
32 MB at most), so a second benchmark needs no refit.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import warnings
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from topobench.activation_cache import (ActivationCache, CacheWarning, discard, file_sha256, sweep_once,
                                        warn_write_failed, write_with_sidecar)

#: Visual angle at which the ImageNet fit images are placed (Brain-Score's 8 degrees).
FIT_DEGREES = 8.0
FIT_IMAGE_SIZE_PX = 144
_FIT_SET_VERSION = 1


@dataclass(frozen=True)
class ProjectionSpec:
    """How features are reduced; part of every cache key."""
    n_components: int = 1000
    sketch_dim: int = 8192
    seed: int = 0
    fit_stimuli: str = "imagenet_sample"
    fit_degrees: float = FIT_DEGREES
    n_fit_images: int | None = None  # None: all 1,000; else a random subset drawn with ``seed``
    version: int = 1

    def describe(self) -> str:
        subset = "all" if self.n_fit_images is None else f"{self.n_fit_images}-of-seed{self.seed}"
        return (f"pca(n_components<={self.n_components},centred,not-whitened)"
                f"|sketch(very-sparse-sign,dim={self.sketch_dim},seed={self.seed},only-if-units>dim)"
                f"|fit={self.fit_stimuli}(images={subset},square-crop,degrees={self.fit_degrees:g})"
                f"|v{self.version}")


# ----------------------------------------------------------------------------- fit images
def imagenet_sample_stimuli(degrees: float = FIT_DEGREES, n_images: int | None = None, seed: int = 0):
    """The ``imagenet_sample`` photographs, centre-cropped to 144 x 144 px squares
    (PNG), as a ``TopoStimulusSet`` (``stimulus_id`` = file stem, e.g.
    ``n01440764_tench``; ``wnid``; ``label``; ``degrees``). All 1,000 by default;
    ``n_images`` takes a random subset (``seed``), kept in file order. For fitting
    projections only: no benchmark scores these images."""
    import pandas as pd
    from PIL import Image

    from topobench.data_client import fetch, topobench_home
    from topobench.stimuli.base import make_stimulus_set

    archive = fetch("imagenet_sample", "imagenet_sample_144px.zip")
    folder = topobench_home() / "stimuli" / f"imagenet_sample_square{FIT_IMAGE_SIZE_PX}_v{_FIT_SET_VERSION}"
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive) as handle:
        members = sorted(n for n in handle.namelist() if not n.endswith("/"))
        if n_images is not None and n_images < len(members):
            chosen = np.sort(np.random.default_rng(seed).choice(len(members), size=int(n_images), replace=False))
            members = [members[i] for i in chosen]
        for member in members:
            target = folder / (Path(member).stem + ".png")
            if target.is_file():
                continue
            with Image.open(io.BytesIO(handle.read(member))) as image:
                image = image.convert("RGB")
                width, height = image.size
                side = min(width, height)
                left, top = (width - side) // 2, (height - side) // 2
                image = image.crop((left, top, left + side, top + side))
                if side != FIT_IMAGE_SIZE_PX:
                    image = image.resize((FIT_IMAGE_SIZE_PX, FIT_IMAGE_SIZE_PX), Image.BICUBIC)
                temporary = target.with_name(f".{target.name}.{os.getpid()}.part")
                image.save(temporary, format="PNG", compress_level=1)
                os.replace(temporary, target)
    stems = [Path(m).stem for m in members]
    table = pd.DataFrame({"stimulus_id": stems, "wnid": [s.split("_", 1)[0] for s in stems],
                          "label": [s.split("_", 1)[1] if "_" in s else s for s in stems],
                          "degrees": float(degrees)})
    identifier = "imagenet_sample-square" + ("" if n_images is None else f"-{len(stems)}-seed{seed}")
    return make_stimulus_set(table, {s: folder / f"{s}.png" for s in stems}, identifier)


# ----------------------------------------------------------------------------- projection
def sparse_sketch(n_units: int, dim: int, seed: int):
    """(n_units, dim) very sparse random sign matrix (CSR), density 1/sqrt(n_units)."""
    from scipy.sparse import csc_matrix

    density = 1.0 / np.sqrt(n_units)
    rng = np.random.default_rng([seed, n_units, dim])
    per_column = rng.binomial(n_units, density, size=dim)
    rows = np.concatenate([rng.choice(n_units, size=k, replace=False) for k in per_column]) \
        if per_column.sum() else np.zeros(0, dtype=np.int64)
    signs = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=rows.size)
    value = np.float32(1.0 / np.sqrt(density * dim))
    indptr = np.concatenate([[0], np.cumsum(per_column)])
    matrix = csc_matrix((signs * value, rows, indptr), shape=(n_units, dim))
    return matrix.tocsr()


@dataclass
class FittedProjection:
    spec: ProjectionSpec
    n_units: int
    mean: np.ndarray  # (d,) mean of the (sketched) fit features
    components: np.ndarray  # (k, d) float32
    explained_variance: np.ndarray  # (k,)
    total_variance: float
    fit_hash: str

    def __post_init__(self):
        self._sketch = None

    @property
    def sketched(self) -> bool:
        return self.n_units > self.spec.sketch_dim

    @property
    def sketch(self):
        if self.sketched and self._sketch is None:
            self._sketch = sparse_sketch(self.n_units, self.spec.sketch_dim, self.spec.seed)
        return self._sketch

    @property
    def n_components(self) -> int:
        return int(self.components.shape[0])

    def reduce(self, batch: np.ndarray) -> np.ndarray:
        """(b, n_units) activations -> (b, d) sketched (or unchanged) float32."""
        batch = np.asarray(batch, dtype=np.float32)
        if batch.shape[1] != self.n_units:
            raise ValueError(f"activations have {batch.shape[1]} units, the projection was fitted on {self.n_units}")
        return np.asarray(batch @ self.sketch, dtype=np.float32) if self.sketched else batch

    def transform(self, batch: np.ndarray) -> np.ndarray:
        """(b, n_units) activations -> (b, k) projected features (float32)."""
        reduced = self.reduce(batch).astype(np.float64)
        return ((reduced - self.mean) @ self.components.T.astype(np.float64)).astype(np.float32)

    def summary(self) -> dict:
        return {"projection": self.spec.describe(), "n_units": int(self.n_units), "sketched": bool(self.sketched),
                "n_components": self.n_components,
                "explained_variance_fraction": float(self.explained_variance.sum() / self.total_variance)
                if self.total_variance > 0 else float("nan"),
                "fit_stimuli_hash": self.fit_hash}

    # -- storage ---------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write the projection atomically, with a sidecar ``<stem>.json`` holding the file's sha256,
        which :meth:`load` verifies."""
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = json.dumps({"spec": asdict(self.spec), "n_units": int(self.n_units),
                           "total_variance": float(self.total_variance), "fit_hash": self.fit_hash})
        write_with_sidecar(path, path.with_suffix(".json"),
                           lambda out: np.savez(out, mean=self.mean, components=self.components,
                                                explained_variance=self.explained_variance, meta=np.array(meta)),
                           lambda written: {"sha256": file_sha256(written)})

    @classmethod
    def load(cls, path: Path) -> "FittedProjection | None":
        """The projection in ``path`` when the file matches the sha256 in its sidecar ``.json``; else
        None, and the file is deleted (with a warning) so that the projection is refitted."""
        path = Path(path)
        sidecar = path.with_suffix(".json")
        try:
            recorded = json.loads(sidecar.read_text()).get("sha256")
            verified = recorded is not None and file_sha256(path) == recorded
            problem = "does not match its recorded sha256: it changed after it was written"
        except (OSError, ValueError, AttributeError):
            verified, problem = False, "has no readable checksum file"
        if verified:
            try:
                with np.load(path, allow_pickle=False) as data:
                    meta = json.loads(str(data["meta"]))
                    return cls(ProjectionSpec(**meta["spec"]), int(meta["n_units"]), data["mean"],
                               data["components"], data["explained_variance"], float(meta["total_variance"]),
                               meta["fit_hash"])
            except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
                problem = "does not load"
        if path.exists():
            warnings.warn(f"projection cache entry {path} {problem}; deleted it and refitting",
                          CacheWarning, stacklevel=2)
        discard(path, sidecar)
        return None


def _activations(model, stimuli, layer: str, progress: bool):
    """Yield (start, batch) activations of ``layer``; batch-wise when the model allows."""
    if hasattr(model, "iter_activations"):
        yield from model.iter_activations(stimuli, layer, progress=progress)
        return
    region = next((r for r, l in model.regions.items() if l == layer), None)
    yield 0, np.asarray(model.record(stimuli, region).values, dtype=np.float32)


def _fit_key(model, layer: str, spec: ProjectionSpec, fit_stimuli) -> str:
    text = "\n".join([model.weights_sha256, fit_stimuli.content_hash, model.preprocessing, layer, spec.describe()])
    return hashlib.sha256(text.encode()).hexdigest()


def fit_projection(model, layer: str, spec: ProjectionSpec = ProjectionSpec(), progress: bool = True,
                   cache: bool = True) -> FittedProjection:
    """Fit (or load from the cache) the projection of ``layer`` on the fit images."""
    from topobench.data_client import topobench_home

    if spec.fit_stimuli != "imagenet_sample":
        raise ValueError(f"unknown fit stimuli '{spec.fit_stimuli}' (only imagenet_sample)")
    fit_stimuli = imagenet_sample_stimuli(spec.fit_degrees, spec.n_fit_images, spec.seed)
    path = topobench_home() / "projections" / f"{_fit_key(model, layer, spec, fit_stimuli)}.npz"
    if cache:
        sweep_once(path.parent)  # temporary files of interrupted writes
    if cache and path.is_file():
        loaded = FittedProjection.load(path)
        if loaded is not None:
            return loaded
    reduced = None
    n_units = None
    sketch = None
    for start, batch in _activations(model, fit_stimuli, layer, progress):
        if reduced is None:
            n_units = batch.shape[1]
            if n_units > spec.sketch_dim:
                sketch = sparse_sketch(n_units, spec.sketch_dim, spec.seed)
            reduced = np.empty((len(fit_stimuli), spec.sketch_dim if sketch is not None else n_units),
                               dtype=np.float32)
        reduced[start:start + len(batch)] = batch @ sketch if sketch is not None else batch
    data = reduced.astype(np.float64)
    del reduced
    mean = data.mean(axis=0)
    data -= mean
    k = int(min(spec.n_components, data.shape[0] - 1, data.shape[1]))
    if data.shape[0] < data.shape[1]:
        # fewer images than units: eigendecomposition of the images x images Gram matrix
        eigenvalues, vectors = np.linalg.eigh(data @ data.T)
        eigenvalues, vectors = eigenvalues[::-1], vectors[:, ::-1]
        s = np.sqrt(np.clip(eigenvalues, 0.0, None))
        components = (vectors[:, :k] / np.where(s[:k] > 0, s[:k], 1.0)).T @ data
    else:
        _, s, Vt = np.linalg.svd(data, full_matrices=False)
        components = Vt[:k]
    # sign convention: each component's largest-magnitude loading is positive
    signs = np.sign(components[np.arange(k), np.argmax(np.abs(components), axis=1)])
    components = components * np.where(signs == 0, 1.0, signs)[:, None]
    variance = s ** 2 / (data.shape[0] - 1)
    fitted = FittedProjection(spec, int(n_units), mean, components.astype(np.float32), variance[:k],
                              float(variance.sum()), fit_stimuli.content_hash)
    fitted._sketch = sketch
    if cache:
        try:
            fitted.save(path)
        except OSError as error:  # the cache is optional: a failed write warns once, the work goes on
            warn_write_failed(path.parent, error, "projection cache")
    return fitted


def projected_features(model, stimuli, region: str, spec: ProjectionSpec = ProjectionSpec(),
                       progress: bool = True, projection: FittedProjection | None = None
                       ) -> tuple[np.ndarray, FittedProjection]:
    """(n_stimuli, k) projected features of ``model``'s ``region`` layer, and the projection.

    Raises :class:`topobench.errors.ModelError` when the model commits no layer to ``region``.
    """

    layer = model.layer(region)
    use_cache = getattr(model, "cache", True)
    cache = ActivationCache() if use_cache else None
    projection = projection or fit_projection(model, layer, spec, progress=progress, cache=use_cache)
    key = None
    if cache is not None:
        key = cache.key(model.weights_sha256, stimuli.content_hash, model.preprocessing,
                        f"{layer}|{spec.describe()}|fit={projection.fit_hash}")
        cached = cache.load(key)
        if cached is not None and cached.shape == (len(stimuli), projection.n_components):
            return cached, projection
    out = np.empty((len(stimuli), projection.n_components), dtype=np.float32)
    for start, batch in _activations(model, stimuli, layer, progress):
        out[start:start + len(batch)] = projection.transform(batch)
    if cache is not None:
        cache.save(key, out, {"model": model.identifier, "stimuli": stimuli.identifier, "layer": layer,
                              "projection": spec.describe()})
    return out, projection
