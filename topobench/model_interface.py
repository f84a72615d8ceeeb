"""The model interface of topobench, and its PyTorch adapter.

A model exposes ``identifier``, ``visual_degrees`` (the visual angle its input
spans), ``regions`` (region -> layer it commits to, e.g. ``{'V1': 'layer2.0'}``),
``weights_sha256``, ``layer_positions(region)`` and
``record(stimuli, region) -> NeuroidAssembly`` (presentation x neuroid). Every
neuroid carries ``neuroid_id, region, layer, channel, row, col`` and its cortical
position ``tissue_x, tissue_y`` in mm (DESIGN.md, "Model").
"""
from __future__ import annotations

import abc
import difflib
import hashlib

import numpy as np
import torch
from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly

from topobench.errors import ModelError
from topobench.positions import LayerPositions, SHEET_SIDE_MM, retinotopic_positions

#: Sheet side (mm) for a region whose layer has no TDANN default (TDANN's V1, V4, VTC layers).
REGION_SHEET_SIDE_MM = {"V1": SHEET_SIDE_MM["layer2.0"], "V4": SHEET_SIDE_MM["layer3.1"],
                        "VTC": SHEET_SIDE_MM["layer4.1"], "IT": SHEET_SIDE_MM["layer4.1"]}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class TopoModel(abc.ABC):
    """What a benchmark may ask of a model."""

    identifier: str
    visual_degrees: float
    image_size: int
    regions: dict

    @property
    @abc.abstractmethod
    def weights_sha256(self) -> str: ...

    @abc.abstractmethod
    def layer_positions(self, region: str) -> LayerPositions: ...

    @abc.abstractmethod
    def record(self, stimuli, region: str) -> NeuroidAssembly: ...

    def layer(self, region: str) -> str:
        if region not in self.regions:
            raise ModelError(f"model {self.identifier} commits no layer to region {region} (it has "
                             f"{', '.join(self.regions) or 'none'}); give a layer for {region}, e.g. "
                             f"--layers {region}=<layer name>")
        return self.regions[region]


def state_dict_sha256(module: torch.nn.Module) -> str:
    """sha256 over every tensor of the state dict (names, dtypes, shapes and bytes, in key order)."""
    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        tensor = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}".encode())
        digest.update(tensor.view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()


def closest_names(name: str, candidates) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=5, cutoff=0.4)
    return ", ".join(close) if close else ", ".join(list(candidates)[:8])


class PytorchModel(TopoModel):
    """A ``torch.nn.Module`` as a topobench model.

    Stimuli are placed on the model's visual field by their visual angle, as
    Brain-Score does: an image spanning ``degrees`` is scaled to
    ``image_size * degrees / visual_degrees`` pixels, then centred on a mid-grey
    canvas of ``image_size`` px (or centre-cropped when larger), then normalised
    with ImageNet statistics. Activations are read with forward hooks and cached
    on disk (``topobench.activation_cache``) keyed by weights, stimuli,
    preprocessing and layer, so a second scoring run does no forward pass.

    ``positions``: layer name -> :class:`LayerPositions`; a committed layer
    without positions gets TDANN's retinotopic placement (no swap optimisation,
    seed ``positions_seed``) and ``positions_by_default[region]`` says so.
    """

    def __init__(self, module: torch.nn.Module, identifier: str, region_layers: dict,
                 visual_degrees: float = 8.0, image_size: int = 224,
                 positions: dict | None = None, positions_seed: int = 0,
                 batch_size: int = 64, mean=IMAGENET_MEAN, std=IMAGENET_STD, cache: bool = True,
                 weights_sha256: str | None = None):
        self.module = module.eval()
        self.identifier = identifier
        self.visual_degrees = float(visual_degrees)
        self.image_size = int(image_size)
        self.batch_size = int(batch_size)
        self.mean, self.std = tuple(mean), tuple(std)
        self.cache = cache
        self.positions_seed = int(positions_seed)
        self._positions = dict(positions or {})
        self._default_positions: set[str] = set()
        self._weights_sha256 = weights_sha256
        self._shapes: dict[str, tuple] = {}
        modules = dict(module.named_modules())
        for region, layer in region_layers.items():
            if layer not in modules:
                raise ModelError(f"model {identifier}: layer '{layer}' (for region {region}) does not exist; "
                                 f"closest layer names: {closest_names(layer, [m for m in modules if m])}")
        self.regions = dict(region_layers)

    # -- identity -------------------------------------------------------------------
    @property
    def weights_sha256(self) -> str:
        if self._weights_sha256 is None:
            self._weights_sha256 = state_dict_sha256(self.module)
        return self._weights_sha256

    @property
    def preprocessing(self) -> str:
        return (f"place-on-field(visual_degrees={self.visual_degrees:g},image_size={self.image_size},"
                f"background=grey128,resample=bilinear-antialias)|normalize(mean={self.mean},std={self.std})")

    # -- positions ------------------------------------------------------------------
    def layer_shape(self, layer: str) -> tuple:
        """(C, H, W) of a layer's output at this model's input size."""
        if layer not in self._shapes:
            captured = {}

            def hook(_module, _inputs, output):  # returns None: the output is left unchanged
                captured["shape"] = tuple(output.shape[1:])

            handle = dict(self.module.named_modules())[layer].register_forward_hook(hook)
            try:
                with torch.no_grad():
                    self.module(torch.zeros(1, 3, self.image_size, self.image_size))
            except RuntimeError as error:
                raise ModelError(f"model {self.identifier} cannot take a {self.image_size} px image: "
                                 f"{str(error).splitlines()[0]}; give the input size it was built for") from None
            finally:
                handle.remove()
            shape = captured["shape"]
            self._shapes[layer] = shape if len(shape) == 3 else (shape[0], 1, 1)
        return self._shapes[layer]

    def layer_positions(self, region: str) -> LayerPositions:
        layer = self.layer(region)
        dims = self.layer_shape(layer)
        if layer not in self._positions:
            side = SHEET_SIDE_MM.get(layer, REGION_SHEET_SIDE_MM.get(region))
            if side is None:
                raise ModelError(f"no default sheet size for region {region}; pass positions for layer {layer}")
            self._positions[layer] = retinotopic_positions(layer, dims, side, seed=self.positions_seed)
            self._default_positions.add(layer)
        positions = self._positions[layer]
        if positions.dims != tuple(dims):
            raise ModelError(f"positions for layer {layer} of model {self.identifier} have dims {positions.dims} "
                             f"({positions.n_units} units) but the layer has {tuple(dims)} "
                             f"({int(np.prod(dims))} units) at {self.image_size} px; use positions made for this "
                             f"layer and input size")
        return positions

    @property
    def positions_by_default(self) -> dict:
        """region -> True where the layer was placed by default (no positions of its own)."""
        return {region: layer in self._default_positions or layer not in self._positions
                for region, layer in self.regions.items()}

    # -- recording ------------------------------------------------------------------
    def load_images(self, stimuli) -> torch.Tensor:
        from topobench.preprocessing import place_on_field
        images = [place_on_field(stimuli.get_stimulus(sid), degrees, self.visual_degrees, self.image_size)
                  for sid, degrees in zip(stimuli["stimulus_id"], stimuli["degrees"])]
        batch = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255.0
        mean = torch.tensor(self.mean).view(1, 3, 1, 1)
        std = torch.tensor(self.std).view(1, 3, 1, 1)
        return (batch - mean) / std

    def activations(self, stimuli, layer: str, progress: bool = True) -> np.ndarray:
        """(n_stimuli, C*H*W) float32 activations of ``layer``, from the cache when present."""
        from topobench.activation_cache import ActivationCache
        cache = ActivationCache() if self.cache else None
        key = None
        if cache is not None:
            key = cache.key(self.weights_sha256, stimuli.content_hash, self.preprocessing, layer)
            cached = cache.load(key)
            if cached is not None:
                return cached
        result = self._forward(stimuli, layer, progress)
        if cache is not None:
            cache.save(key, result, {"model": self.identifier, "stimuli": stimuli.identifier, "layer": layer})
        return result

    def _forward(self, stimuli, layer: str, progress: bool) -> np.ndarray:
        from tqdm import tqdm
        target = dict(self.module.named_modules())[layer]
        outputs = []
        handle = target.register_forward_hook(lambda _m, _i, output: outputs.append(
            output.detach().flatten(1).float().cpu().numpy()))
        starts = range(0, len(stimuli), self.batch_size)
        try:
            with torch.no_grad():
                for start in tqdm(starts, desc=f"{self.identifier} {layer}", disable=None if progress else True,
                               leave=False):
                    chunk = stimuli.iloc[start:start + self.batch_size]
                    chunk.stimulus_paths = stimuli.stimulus_paths
                    self.module(self.load_images(chunk))
        finally:
            handle.remove()
        return np.concatenate(outputs, axis=0)

    def record(self, stimuli, region: str) -> NeuroidAssembly:
        from topobench.stimuli.gratings import check_resolvable
        layer = self.layer(region)
        if "sf_cpd" in stimuli.columns:
            check_resolvable(float(stimuli["sf_cpd"].max()), self.image_size, self.visual_degrees,
                             f"model {self.identifier}")
        positions = self.layer_positions(region)
        values = self.activations(stimuli, layer)
        channels, height, width = positions.dims
        channel, row, col = np.unravel_index(np.arange(values.shape[1]), (channels, height, width))
        presentation = {name: ("presentation", stimuli[name].values) for name in stimuli.columns}
        neuroid = {
            "neuroid_id": ("neuroid", np.array([f"{layer}.{i}" for i in range(values.shape[1])])),
            "region": ("neuroid", np.repeat(region, values.shape[1])),
            "layer": ("neuroid", np.repeat(layer, values.shape[1])),
            "channel": ("neuroid", channel), "row": ("neuroid", row), "col": ("neuroid", col),
            "tissue_x": ("neuroid", positions.coordinates[:, 0]),
            "tissue_y": ("neuroid", positions.coordinates[:, 1]),
        }
        assembly = NeuroidAssembly(values, coords={**presentation, **neuroid}, dims=["presentation", "neuroid"])
        assembly.attrs["stimulus_set_identifier"] = stimuli.identifier
        assembly.attrs["positions_by_default"] = bool(self.positions_by_default[region])
        return assembly
