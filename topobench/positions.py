"""Cortical positions of a layer's units (mm on a 2-D sheet), TDANN's way.

Retinotopic placement after Margalit et al. 2024 (Neuron; code: neuroailab/TDANN,
``spacetorch``): a layer of C channels on an H x W grid covers a square sheet of
side ``sheet_side_mm``. Each grid location (row, col) owns a square patch of the
sheet on an even grid, so that the sheet is a retinotopic map of the visual
field. Each channel at that location sits at a uniform random offset inside the
patch widened by ``rf_overlap`` (TDANN: 0.1 x 56 / H of a patch, so patches of
neighbouring locations overlap), plus Gaussian jitter (0.3 mm); the cloud is then
rescaled to span the sheet. Positions never change during training; a swap
optimisation (``topobench.tdann.swap``) may permute them before training.

Units are ordered as a (C, H, W) activation tensor flattens: unit index
``c * H * W + row * W + col``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from topobench.errors import InputError, ModelError, TopobenchError

#: TDANN's sheet side (mm) for every ResNet-18 BasicBlock output.
SHEET_SIDE_MM = {
    "layer1.0": 2.4, "layer1.1": 2.4,
    "layer2.0": 36.75, "layer2.1": 36.75,
    "layer3.0": 35.0, "layer3.1": 22.4,
    "layer4.0": 70.0, "layer4.1": 70.0,
}
#: TDANN's neighbourhood width (mm) for the spatial loss, per layer.
NEIGHBORHOOD_WIDTH_MM = {
    "layer1.0": 0.0475, "layer1.1": 0.0475,
    "layer2.0": 1.626, "layer2.1": 1.626,
    "layer3.0": 3.977, "layer3.1": 2.545,
    "layer4.0": 31.818, "layer4.1": 31.818,
}
JITTER_MM = 0.3
#: Largest fraction of a layer's units that may share a position with another unit (duplicates
#: beyond it leave no distances to measure maps on).
MAX_DUPLICATE_FRACTION = 0.01
#: Fields of a positions ``.npz`` (``LayerPositions.save``): required, then optional.
REQUIRED_FIELDS = ("dims", "coordinates", "sheet_side_mm")
OPTIONAL_FIELDS = ("name", "provenance")


def tdann_rf_overlap(height: int) -> float:
    """TDANN's patch overlap for a layer of ``height`` rows: 0.1 x (56 / H) of a patch."""
    return 0.1 * 56.0 / height


@dataclass
class LayerPositions:
    """Positions of one layer's units.

    ``coordinates``: (N, 2) float array, x (along columns) and y (along rows) in mm.
    ``provenance``: how the positions were made (``placement``: 'default retinotopic'
    or 'swap-optimised', the stimuli used, seeds...), kept in the positions file.
    """

    name: str
    dims: tuple[int, int, int]
    coordinates: np.ndarray
    sheet_side_mm: float
    provenance: dict = field(default_factory=dict)

    def __post_init__(self):
        self.dims = tuple(int(d) for d in self.dims)
        self.coordinates = np.asarray(self.coordinates, dtype=np.float64)
        expected = int(np.prod(self.dims))
        if self.coordinates.shape != (expected, 2):
            raise ModelError(f"positions of layer {self.name}: coordinates have shape "
                             f"{self.coordinates.shape}, but the layer has {expected} units "
                             f"(dims {self.dims}); make positions for this layer's shape")
        self._check_coordinates()

    def _check_coordinates(self) -> None:
        """Finite, and distinct enough that units have distances (an InputError otherwise)."""
        coordinates = self.coordinates
        finite = np.isfinite(coordinates).all(axis=1)
        if not finite.all():
            bad = np.flatnonzero(~finite)
            raise InputError(f"positions of layer {self.name}: {bad.size} of {len(coordinates)} units have a "
                             f"coordinate that is not finite (NaN or inf), e.g. unit {int(bad[0])}; give every "
                             f"unit a finite position in mm")
        n_units = len(coordinates)
        if n_units < 2:
            return
        if np.all(coordinates == coordinates[0]):
            raise InputError(f"positions of layer {self.name}: all {n_units} units sit at the same point "
                             f"{tuple(float(v) for v in coordinates[0])}; give each unit its own position in mm")
        duplicates = n_units - len(np.unique(coordinates, axis=0))
        if duplicates > MAX_DUPLICATE_FRACTION * n_units:
            raise InputError(f"positions of layer {self.name}: {duplicates} of {n_units} units share a position "
                             f"with another unit (more than {MAX_DUPLICATE_FRACTION:.0%}); give each unit its "
                             f"own position in mm")

    @property
    def n_units(self) -> int:
        return self.coordinates.shape[0]

    def save(self, path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        import json
        np.savez_compressed(path, name=self.name, dims=np.array(self.dims), coordinates=self.coordinates,
                            sheet_side_mm=self.sheet_side_mm, provenance=json.dumps(self.provenance))
        return path

    @classmethod
    def load(cls, path) -> "LayerPositions":
        import json
        path = Path(path)
        if not path.is_file():
            raise ModelError(f"positions file {path} does not exist; give the folder that holds "
                             f"<layer>.npz files")
        fields = _read_positions_file(path)
        try:
            dims = np.asarray(fields["dims"])
            if dims.shape != (3,) or dims.dtype.kind not in "iuf" or not np.isfinite(dims).all() \
                    or (dims != np.round(dims)).any() or (dims < 1).any():
                raise InputError(f"positions file {path}: field 'dims' is {dims.tolist()!r}, not three whole "
                                 f"numbers > 0 (channels, rows, cols)")
            coordinates = np.asarray(fields["coordinates"])
            if coordinates.dtype.kind not in "iuf":
                raise InputError(f"positions file {path}: field 'coordinates' holds {coordinates.dtype} values, "
                                 f"not numbers (mm)")
            side = np.asarray(fields["sheet_side_mm"])
            if side.shape != () or side.dtype.kind not in "iuf" or not np.isfinite(side) or side <= 0:
                raise InputError(f"positions file {path}: field 'sheet_side_mm' is {side.tolist()!r}, not one "
                                 f"finite number of mm > 0")
            name = str(fields["name"]) if "name" in fields else path.stem
            provenance = {}
            if "provenance" in fields:
                try:
                    provenance = json.loads(str(fields["provenance"]))
                except ValueError:
                    provenance = None
                if not isinstance(provenance, dict):
                    raise InputError(f"positions file {path}: field 'provenance' is not a JSON object")
            return cls(name, tuple(int(d) for d in dims), coordinates.astype(np.float64), float(side), provenance)
        except TopobenchError as error:
            message = str(error)
            if str(path) not in message:
                message = f"positions file {path}: {message}"
            raise type(error)(message) from None


def _read_positions_file(path: Path) -> dict:
    """The arrays of a positions ``.npz`` (no pickles), or an InputError naming the file and the field."""
    import zipfile
    import zlib
    unreadable = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, RuntimeError)
    try:
        data = np.load(path, allow_pickle=False)
    except unreadable as error:
        reason = "it holds pickled data, which is refused" if "pickled" in str(error) else \
            " ".join(str(error).split())[:120] or type(error).__name__
        raise InputError(f"positions file {path} is not a .npz archive of arrays ({reason}); write it with "
                         f"topobench.positions.LayerPositions.save") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise InputError(f"positions file {path} holds one array, not a .npz archive with the fields "
                         f"{', '.join(REQUIRED_FIELDS)}; write it with topobench.positions.LayerPositions.save")
    with data:
        missing = [name for name in REQUIRED_FIELDS if name not in data.files]
        if missing:
            raise InputError(f"positions file {path} lacks the field{'s' if len(missing) > 1 else ''} "
                             f"{', '.join(repr(m) for m in missing)} (it has {', '.join(data.files) or 'none'}); "
                             f"write it with topobench.positions.LayerPositions.save")
        fields = {}
        for name in (*REQUIRED_FIELDS, *OPTIONAL_FIELDS):
            if name not in data.files:
                continue
            try:
                fields[name] = data[name]
            except unreadable as error:
                reason = "it holds pickled objects, which are refused" if "allow_pickle" in str(error) else \
                    " ".join(str(error).split())[:120] or type(error).__name__
                raise InputError(f"positions file {path}: field '{name}' does not load ({reason}); save plain "
                                 f"numeric arrays with topobench.positions.LayerPositions.save") from None
    return fields


def retinotopic_positions(name: str, dims: tuple[int, int, int], sheet_side_mm: float | None = None,
                          seed: int = 0, jitter_mm: float = JITTER_MM,
                          rf_overlap: float | None = None) -> LayerPositions:
    """TDANN's retinotopic placement of a (C, H, W) layer on a square sheet.

    ``sheet_side_mm`` defaults to TDANN's value for ResNet-18 block ``name``;
    ``rf_overlap`` (fraction of a patch) defaults to :func:`tdann_rf_overlap`.
    """
    channels, height, width = (int(d) for d in dims)
    if sheet_side_mm is None:
        if name not in SHEET_SIDE_MM:
            raise ModelError(f"no default sheet size for layer '{name}' (TDANN gives them for "
                             f"{', '.join(SHEET_SIDE_MM)}); pass sheet_side_mm")
        sheet_side_mm = SHEET_SIDE_MM[name]
    if rf_overlap is None:
        rf_overlap = tdann_rf_overlap(height)
    rng = np.random.default_rng(seed)
    patch_x, patch_y = sheet_side_mm / width, sheet_side_mm / height
    rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    centre_x = (cols.ravel() + 0.5) * patch_x
    centre_y = (rows.ravel() + 0.5) * patch_y
    half = 0.5 * (1.0 + rf_overlap)
    offsets = rng.uniform(-half, half, size=(channels, height * width, 2)) * np.array([patch_x, patch_y])
    coordinates = np.stack([np.broadcast_to(centre_x, (channels, height * width)),
                            np.broadcast_to(centre_y, (channels, height * width))], axis=-1) + offsets
    coordinates = coordinates.reshape(-1, 2) + rng.normal(0.0, jitter_mm, size=(channels * height * width, 2))
    low, high = coordinates.min(axis=0), coordinates.max(axis=0)
    coordinates = (coordinates - low) / np.where(high > low, high - low, 1.0) * sheet_side_mm
    provenance = {"placement": "default retinotopic (TDANN, no swap optimisation)", "seed": int(seed),
                  "jitter_mm": float(jitter_mm), "rf_overlap": float(rf_overlap)}
    return LayerPositions(name, (channels, height, width), coordinates, float(sheet_side_mm), provenance)
