"""Import the official TDANN checkpoints (Margalit et al. 2024; neuroailab/TDANN).

The release has a VISSL checkpoint (``model_final_checkpoint_phase199.torch``:
trunk weights under ``classy_state_dict.base_model.model.trunk``, keys with a
``base_model.`` or ``_feature_blocks.`` prefix) and one pickled positions object
per layer (``spacetorch``'s ``LayerPositions``: name, dims, coordinates N x 2 mm,
neighborhood_indices, neighborhood_width). The pickles are read without
``spacetorch``: any class they name is rebuilt as a plain attribute holder, and nothing
else than numpy arrays is rebuilt (an allow-list: nothing in a pickle runs). The checkpoint
is read with ``torch.load(weights_only=True)``.
Coordinates are in the (C, H, W) flattening order of the layer's output, as in
``spacetorch``. The model is saved as a local model folder
(``topobench.tdann.pretrained``) under ``TOPOBENCH_HOME/models/<name>`` and is
registered from there under ``<name>``.
"""
from __future__ import annotations

import pickle
import re
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch

from topobench.errors import ModelError
from topobench.positions import SHEET_SIDE_MM, LayerPositions
from topobench.tdann.pretrained import TDANN_REGIONS, load_state_dict_into, save_model_folder

PREFIXES = ("base_model.", "_feature_blocks.", "module.", "trunk.")
NUMERIC_DTYPES = ("Bool", "Byte", "UByte", "Short", "UShort", "Int", "UInt", "Long", "ULong", "LongLong",
                  "ULongLong", "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64", "Float16",
                  "Float32", "Float64", "LongDouble", "Complex64", "Complex128", "CLongDouble")


def _numpy_core(name: str):
    """``numpy.core.<name>`` (numpy 1) or ``numpy._core.<name>`` (numpy 2), without a deprecation warning."""
    import importlib
    package = "numpy._core" if int(np.__version__.split(".")[0]) >= 2 else "numpy.core"
    return importlib.import_module(f"{package}.{name}")


def _checkpoint_globals() -> list:
    """Plain types a VISSL checkpoint may hold beside tensors (numpy scalars and arrays in its meters
    and losses), under both numpy spellings; ``torch.load(weights_only=True)`` refuses anything else."""
    multiarray = _numpy_core("multiarray")
    allowed = [np.ndarray, np.dtype]
    for package in ("numpy.core", "numpy._core"):
        allowed += [(multiarray._reconstruct, f"{package}.multiarray._reconstruct"),
                    (multiarray.scalar, f"{package}.multiarray.scalar")]
    dtypes = getattr(np, "dtypes", None)
    allowed += [getattr(dtypes, f"{n}DType") for n in NUMERIC_DTYPES if hasattr(dtypes, f"{n}DType")]
    return allowed


class _Anything:
    """Stand-in for any class named in a pickle (spacetorch need not be installed)."""

    def __init__(self, *args, **kwargs):
        self.__dict__.update(kwargs)

    def __setstate__(self, state):
        if isinstance(state, tuple):  # (dict, slots)
            state = {k: v for part in state if isinstance(part, dict) for k, v in part.items()}
        self.__dict__.update(state if isinstance(state, dict) else {})


class _Refused(Exception):
    """A pickle names something a positions file never needs (it is not run)."""


class _ObjectBase:
    """What ``builtins.object`` resolves to: only usable as the base of ``copyreg._reconstructor``."""


def _reconstructor(cls, base, state):
    """``copyreg._reconstructor`` for the stand-in only (protocol 0/1 pickles of a plain class)."""
    if cls is not _Anything or base is not _ObjectBase or state is not None:
        raise _Refused("copyreg._reconstructor with something other than a plain class")
    return _Anything.__new__(_Anything)


def _latin1(text, encoding="latin1"):
    """``_codecs.encode`` as numpy pickles of protocol <= 2 use it: str -> bytes, nothing else."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise _Refused("_codecs.encode of something other than a latin1 string")
    return text.encode("latin1")


def _numpy_globals() -> dict:
    """(module, name) -> object of numpy's array and scalar reconstruction (both spellings)."""
    multiarray, numeric = _numpy_core("multiarray"), _numpy_core("numeric")
    allowed = {}
    for package in ("numpy.core", "numpy._core"):
        allowed[(f"{package}.multiarray", "_reconstruct")] = multiarray._reconstruct
        allowed[(f"{package}.multiarray", "scalar")] = multiarray.scalar
        allowed[(f"{package}.numeric", "_frombuffer")] = numeric._frombuffer
    allowed[("numpy", "ndarray")] = np.ndarray
    allowed[("numpy", "dtype")] = np.dtype
    return allowed


#: Module roots whose names are never a stand-in (the Python library, numpy, torch): a name from
#: them that is not allowed above makes the file refused.
_SYSTEM_ROOTS = frozenset(getattr(sys, "stdlib_module_names", ())) | {
    "builtins", "__builtin__", "copy_reg", "numpy", "torch", "pickle", "_pickle", "dill", "cloudpickle",
    "joblib", "pandas", "scipy"}


class _PositionsUnpickler(pickle.Unpickler):
    """Reads spacetorch ``LayerPositions`` pickles and nothing that could run code.

    Allowed: numpy's array/scalar/dtype reconstruction, ``collections.OrderedDict``,
    ``_codecs.encode`` of a latin1 string and ``copyreg._reconstructor`` of the stand-in; a class
    of any other package (``spacetorch.*``) becomes the inert :class:`_Anything`, never imported.
    Anything else (``builtins.*``, ``os``, ``subprocess``, other numpy or torch names) is refused.
    """

    _allowed = None

    def find_class(self, module, name):
        module = {"copy_reg": "copyreg", "__builtin__": "builtins"}.get(module, module)
        if _PositionsUnpickler._allowed is None:
            _PositionsUnpickler._allowed = {**_numpy_globals(), ("collections", "OrderedDict"): OrderedDict,
                                            ("_codecs", "encode"): _latin1,
                                            ("copyreg", "_reconstructor"): _reconstructor,
                                            ("builtins", "object"): _ObjectBase}
        if (module, name) in self._allowed:
            return self._allowed[(module, name)]
        root = module.split(".")[0]
        if root in _SYSTEM_ROOTS or root.startswith("_") or not name.isidentifier() or \
                not all(part.isidentifier() for part in module.split(".")):
            raise _Refused(f"{module}.{name}")
        return _Anything

    def persistent_load(self, pid):
        raise _Refused("a persistent id")


def _unsafe_globals(path: Path) -> str:
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception:  # noqa: BLE001 - only for the message
        return ""
    return f" ({', '.join(sorted(names)[:4])})" if names else ""


def read_vissl_trunk(checkpoint) -> dict:
    path = Path(checkpoint)
    if not path.is_file():
        raise ModelError(f"checkpoint {path} does not exist; download model_final_checkpoint_phase199.torch "
                         f"from the TDANN release")
    try:
        with torch.serialization.safe_globals(_checkpoint_globals()):
            content = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise ModelError(f"checkpoint {path} holds objects other than tensors and plain values"
                         f"{_unsafe_globals(path)}; topobench loads only weights (torch.load with "
                         f"weights_only=True) and runs nothing from a file: save the trunk's state dict "
                         f"alone with torch.save and import that") from None
    except Exception as error:  # noqa: BLE001 - a broken or foreign file
        reason = " ".join(str(error).split())[:200]
        raise ModelError(f"checkpoint {path} does not load with torch.load ({type(error).__name__}: {reason}); "
                         f"is it a VISSL .torch file?") from None
    try:
        trunk = content["classy_state_dict"]["base_model"]["model"]["trunk"]
    except (KeyError, TypeError, IndexError):
        raise ModelError(f"checkpoint {path} has no classy_state_dict.base_model.model.trunk; it is not a "
                         f"VISSL checkpoint of the TDANN release") from None
    if not isinstance(trunk, dict) or not all(isinstance(v, torch.Tensor) for v in trunk.values()):
        raise ModelError(f"checkpoint {path}: classy_state_dict.base_model.model.trunk is not a state dict of "
                         f"tensors; it is not a VISSL checkpoint of the TDANN release")
    state = {}
    for key, tensor in trunk.items():
        key = str(key)
        for prefix in PREFIXES:
            while key.startswith(prefix):
                key = key[len(prefix):]
        if key.startswith("fc."):
            continue  # a classifier head is not part of the trunk
        state[key] = tensor
    return state


def _load_positions_pickle(path: Path):
    try:
        with open(path, "rb") as handle:
            return _PositionsUnpickler(handle).load()
    except _Refused as refused:
        raise ModelError(f"{path} is not a TDANN positions file: it names {refused}, which a positions "
                         f"pickle never needs (nothing in it was run); give the positions folder of the "
                         f"TDANN release") from None
    except Exception as error:  # noqa: BLE001 - a broken or foreign file
        raise ModelError(f"{path} is not a TDANN positions file ({type(error).__name__}); give the "
                         f"positions folder of the TDANN release") from None


def _positions_of(path: Path, state: dict) -> LayerPositions:
    name = str(state.get("name") or path.stem)
    if "coordinates" not in state:
        raise ModelError(f"{path} holds no 'coordinates'; it is not a TDANN positions file")
    match = re.search(r"layer\d\.\d", name)
    layer = match.group(0) if match else path.stem
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", layer):
        raise ModelError(f"{path}: layer name {layer!r} is not a layer of a ResNet-18; it is not a TDANN "
                         f"positions file")
    try:
        coordinates = np.asarray(state["coordinates"], dtype=np.float64)
        dims = tuple(int(d) for d in state.get("dims", ()))
        side = SHEET_SIDE_MM.get(layer, float(np.ceil(coordinates.max())))
        width = state.get("neighborhood_width")
        provenance = {"placement": "imported from the TDANN release", "source_file": path.name,
                      "neighborhood_width_mm": float(width) if width is not None else None}
        return LayerPositions(layer, dims, coordinates, side, provenance)
    except (TypeError, ValueError, AttributeError) as error:
        raise ModelError(f"{path} does not hold coordinates and dims as numbers "
                         f"({' '.join(str(error).split())[:120]}); it is not a TDANN positions file") from None


def read_tdann_positions(folder) -> dict:
    folder = Path(folder)
    files = sorted(folder.glob("*.pkl"))
    if not files:
        raise ModelError(f"no positions pickles (*.pkl) in {folder}; give the folder of per-layer "
                         f"positions files of the TDANN release")
    positions = {}
    for path in files:
        obj = _load_positions_pickle(path)
        state = obj if isinstance(obj, dict) else getattr(obj, "__dict__", None)
        if not isinstance(state, dict):
            raise ModelError(f"{path} holds a {type(obj).__name__}, no positions object; it is not a TDANN "
                             f"positions file")
        layer_positions = _positions_of(path, state)
        positions[layer_positions.name] = layer_positions
    return positions


def _is_model_folder(folder: Path) -> bool:
    """A real folder (not a link) holding a topobench model.json: the only thing --force replaces."""
    import json
    from topobench.tdann.pretrained import MODEL_FILE
    if folder.is_symlink() or not folder.is_dir() or not (folder / MODEL_FILE).is_file():
        return False
    try:
        record = json.loads((folder / MODEL_FILE).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and "identifier" in record and "regions" in record


def _check_target(folder: Path, name: str, force: bool, check_registry: bool) -> None:
    """Refuse, before any work, to write where a model (or anything else) already is."""
    from topobench.errors import InputError
    if folder.exists() or folder.is_symlink():
        if not force:
            raise InputError(f"model folder {folder} already exists (model '{name}'); give --force to "
                             f"replace it, or choose another --name")
        if not _is_model_folder(folder):
            raise InputError(f"{folder} exists and is not a topobench model folder (no model.json); "
                             f"--force replaces only an imported model: move it away or choose another --name")
    elif check_registry:
        from topobench.registry import names
        if name in names("model"):
            raise InputError(f"a model '{name}' is already registered (not an imported folder); choose "
                             f"another --name")


def import_tdann(checkpoint, positions_dir, name: str, image_size: int = 224, visual_degrees: float = 8.0,
                 destination=None, force: bool = False) -> Path:
    """Turn a VISSL checkpoint and its positions into a registered local model; returns its folder.

    The name is checked first; an existing model folder is replaced only with ``force`` (and only
    when it is a topobench model folder). The model is written into a fresh temporary folder beside
    the target, checked to load, then renamed into place: a failed check removes only that folder.
    """
    import os
    import shutil
    import tempfile
    from topobench.data_client import topobench_home
    from topobench.naming import check_model_name
    from topobench.nets import resnet18
    from topobench.tdann.pretrained import load_model_folder

    name = check_model_name(name)
    folder = Path(destination) if destination else topobench_home() / "models" / name
    _check_target(folder, name, force, check_registry=destination is None)

    positions = read_tdann_positions(positions_dir)  # the small files first: a bad one fails at once
    state = read_vissl_trunk(checkpoint)
    load_state_dict_into(resnet18(num_classes=None), state, f"trunk of {checkpoint}")  # check before writing

    folder.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".importing", dir=folder.parent))
    try:
        save_model_folder(temporary, name, state, positions, image_size, visual_degrees, TDANN_REGIONS,
                          provenance={"imported_from": str(Path(checkpoint).name),
                                      "positions_from": str(Path(positions_dir).name)},
                          half_precision=False)
        model = load_model_folder(temporary)  # the imported model must load and its positions fit
        for region in model.regions:
            model.layer_positions(region)
        _check_target(folder, name, force, check_registry=False)  # nothing appeared meanwhile
        aside = None
        if folder.exists() or folder.is_symlink():  # --force on a model folder: swap, then drop the old one
            aside = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".replaced", dir=folder.parent))
            try:
                os.replace(folder, aside / name)
            except BaseException:
                aside.rmdir()  # still empty: created by this call
                raise
        try:
            os.replace(temporary, folder)
        except BaseException:
            if aside is not None:  # put the old model back
                os.replace(aside / name, folder)
                aside.rmdir()
            raise
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)  # created by this call, and only it
        raise
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)  # the replaced model folder (checked above), moved aside
    return folder
