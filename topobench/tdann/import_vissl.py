"""Import the official TDANN checkpoints (Margalit et al. 2024; neuroailab/TDANN).

The release has a VISSL checkpoint (``model_final_checkpoint_phase199.torch``:
trunk weights under ``classy_state_dict.base_model.model.trunk``, keys with a
``base_model.`` or ``_feature_blocks.`` prefix) and one pickled positions object
per layer (``spacetorch``'s ``LayerPositions``: name, dims, coordinates N x 2 mm,
neighborhood_indices, neighborhood_width). The pickles are read without
``spacetorch``: any class they name is rebuilt as a plain attribute holder.
Coordinates are in the (C, H, W) flattening order of the layer's output, as in
``spacetorch``. The model is saved as a local model folder
(``topobench.tdann.pretrained``) under ``TOPOBENCH_HOME/models/<name>`` and is
registered from there under ``<name>``.
"""
from __future__ import annotations

import pickle
import re
from pathlib import Path

import numpy as np
import torch

from topobench.errors import ModelError
from topobench.positions import SHEET_SIDE_MM, LayerPositions
from topobench.tdann.pretrained import TDANN_REGIONS, load_state_dict_into, save_model_folder

PREFIXES = ("base_model.", "_feature_blocks.", "module.", "trunk.")


class _Anything:
    """Stand-in for any class named in a pickle (spacetorch need not be installed)."""

    def __init__(self, *args, **kwargs):
        self.__dict__.update(kwargs)

    def __setstate__(self, state):
        if isinstance(state, tuple):  # (dict, slots)
            state = {k: v for part in state if isinstance(part, dict) for k, v in part.items()}
        self.__dict__.update(state or {})


class _LenientUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module.split(".")[0] in ("numpy", "builtins", "collections", "copyreg", "_codecs"):
            return super().find_class(module, name)
        return _Anything


def read_vissl_trunk(checkpoint) -> dict:
    path = Path(checkpoint)
    if not path.is_file():
        raise ModelError(f"checkpoint {path} does not exist; download model_final_checkpoint_phase199.torch "
                         f"from the TDANN release")
    try:
        content = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:
        raise ModelError(f"checkpoint {path} does not load with torch.load ({error}); is it a VISSL "
                         f".torch file?") from None
    try:
        trunk = content["classy_state_dict"]["base_model"]["model"]["trunk"]
    except (KeyError, TypeError):
        raise ModelError(f"checkpoint {path} has no classy_state_dict.base_model.model.trunk; it is not a "
                         f"VISSL checkpoint of the TDANN release") from None
    state = {}
    for key, tensor in trunk.items():
        for prefix in PREFIXES:
            while key.startswith(prefix):
                key = key[len(prefix):]
        if key.startswith("fc."):
            continue  # a classifier head is not part of the trunk
        state[key] = tensor
    return state


def read_tdann_positions(folder) -> dict:
    folder = Path(folder)
    files = sorted(folder.glob("*.pkl"))
    if not files:
        raise ModelError(f"no positions pickles (*.pkl) in {folder}; give the folder of per-layer "
                         f"positions files of the TDANN release")
    positions = {}
    for path in files:
        with open(path, "rb") as handle:
            obj = _LenientUnpickler(handle).load()
        state = obj if isinstance(obj, dict) else obj.__dict__
        name = str(state.get("name") or path.stem)
        if "coordinates" not in state:
            raise ModelError(f"{path} holds no 'coordinates'; it is not a TDANN positions file")
        coordinates = np.asarray(state["coordinates"], dtype=np.float64)
        dims = tuple(int(d) for d in state.get("dims", ()))
        match = re.search(r"layer\d\.\d", name)
        layer = match.group(0) if match else name
        side = SHEET_SIDE_MM.get(layer, float(np.ceil(coordinates.max())))
        provenance = {"placement": "imported from the TDANN release", "source_file": path.name,
                      "neighborhood_width_mm": float(state["neighborhood_width"])
                      if state.get("neighborhood_width") is not None else None}
        positions[layer] = LayerPositions(layer, dims, coordinates, side, provenance)
    return positions


def import_tdann(checkpoint, positions_dir, name: str, image_size: int = 224, visual_degrees: float = 8.0,
                 destination=None) -> Path:
    """Turn a VISSL checkpoint and its positions into a registered local model; returns its folder."""
    from topobench.nets import resnet18
    from topobench.data_client import topobench_home

    state = read_vissl_trunk(checkpoint)
    load_state_dict_into(resnet18(num_classes=None), state, f"trunk of {checkpoint}")  # check before writing
    positions = read_tdann_positions(positions_dir)
    folder = Path(destination) if destination else topobench_home() / "models" / name
    save_model_folder(folder, name, state, positions, image_size, visual_degrees, TDANN_REGIONS,
                      provenance={"imported_from": str(Path(checkpoint).name),
                                  "positions_from": str(Path(positions_dir).name)},
                      half_precision=False)
    try:  # the imported model must load and its positions must fit its layers
        from topobench.tdann.pretrained import load_model_folder
        model = load_model_folder(folder)
        for region in model.regions:
            model.layer_positions(region)
    except ModelError:
        import shutil
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder
