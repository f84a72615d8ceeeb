"""A trained topographic ResNet-18 as a folder, and loading it as a model.

Folder layout (written by ``topobench.tdann.train.export_model``, by
``topobench import-tdann`` and shipped for the bundled TDANN models)::

    model.json            identifier, architecture, image_size, visual_degrees,
                          regions, provenance (config, training data, steps...)
    weights.pt            trunk state dict (torchvision key names; half precision allowed)
    positions/<layer>.npz one LayerPositions per layer with positions

Loading checks what a submitter gets wrong: missing or unexpected state-dict
keys are listed, and positions whose unit count does not match the layer are
named (``topobench.model_interface.PytorchModel.layer_positions``).
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from topobench.errors import ModelError
from topobench.model_interface import PytorchModel
from topobench.nets import resnet18
from topobench.positions import LayerPositions

MODEL_FILE = "model.json"
WEIGHTS_FILE = "weights.pt"
POSITIONS_FOLDER = "positions"
TDANN_REGIONS = {"V1": "layer2.0", "V4": "layer3.1", "VTC": "layer4.1"}


def load_state_dict_into(module: torch.nn.Module, state_dict: dict, what: str) -> None:
    """Load ``state_dict`` strictly, with a message that lists missing and unexpected keys."""
    expected = module.state_dict()
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    if missing or unexpected:
        def listing(keys):
            return ", ".join(keys[:8]) + (f" ... ({len(keys)} in all)" if len(keys) > 8 else "")
        parts = []
        if missing:
            parts.append(f"missing keys: {listing(missing)}")
        if unexpected:
            parts.append(f"unexpected keys: {listing(unexpected)}")
        raise ModelError(f"{what} does not fit a torchvision-named ResNet-18 ({'; '.join(parts)}); "
                         f"strip any prefix so keys read like 'layer2.0.conv1.weight'")
    for key, tensor in state_dict.items():
        if tuple(tensor.shape) != tuple(expected[key].shape):
            raise ModelError(f"{what}: {key} has shape {tuple(tensor.shape)}, the architecture needs "
                             f"{tuple(expected[key].shape)}")
    module.load_state_dict({k: v.to(expected[k].dtype) for k, v in state_dict.items()})


def save_model_folder(folder, identifier: str, state_dict: dict, positions: dict, image_size: int,
                      visual_degrees: float, regions: dict | None = None, provenance: dict | None = None,
                      half_precision: bool = True) -> Path:
    folder = Path(folder)
    (folder / POSITIONS_FOLDER).mkdir(parents=True, exist_ok=True)
    weights = {k: (v.half() if half_precision and v.is_floating_point() else v).clone()
               for k, v in state_dict.items()}
    torch.save(weights, folder / WEIGHTS_FILE)
    for layer, layer_positions in positions.items():
        layer_positions.save(folder / POSITIONS_FOLDER / f"{layer}.npz")
    record = {"identifier": identifier, "architecture": "resnet18", "image_size": int(image_size),
              "visual_degrees": float(visual_degrees), "regions": dict(regions or TDANN_REGIONS),
              "provenance": provenance or {}}
    (folder / MODEL_FILE).write_text(json.dumps(record, indent=1))
    return folder


def load_model_folder(folder) -> PytorchModel:
    folder = Path(folder)
    if not (folder / MODEL_FILE).is_file():
        raise ModelError(f"{folder} holds no {MODEL_FILE}; a model folder needs {MODEL_FILE}, "
                         f"{WEIGHTS_FILE} and {POSITIONS_FOLDER}/")
    record = json.loads((folder / MODEL_FILE).read_text())
    if record.get("architecture", "resnet18") != "resnet18":
        raise ModelError(f"{folder}: architecture {record['architecture']} is not supported (resnet18 is)")
    module = resnet18(num_classes=None)
    try:
        state_dict = torch.load(folder / WEIGHTS_FILE, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ModelError(f"{folder / WEIGHTS_FILE} does not load as a state dict ({error}); "
                         f"save it with torch.save(model.state_dict(), ...)") from None
    load_state_dict_into(module, state_dict, str(folder / WEIGHTS_FILE))
    positions = {path.stem: LayerPositions.load(path) for path in sorted((folder / POSITIONS_FOLDER).glob("*.npz"))}
    return PytorchModel(module, record["identifier"], record["regions"],
                        visual_degrees=record["visual_degrees"], image_size=record["image_size"],
                        positions=positions)
