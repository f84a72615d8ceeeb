"""Wiring length between consecutive blocks, after TDANN (Margalit et al. 2024), report-only.

Measurement (``topobench.metrics.wiring``, whose docstring states the method and
where it departs from TDANN's code). The source and target blocks of a region
(V1: ``layer2.0`` -> ``layer2.1``; VTC: ``layer4.0`` -> ``layer4.1``, TDANN's
ResNet-18 names) are recorded on ``n_images`` fLoc images (Stigliani et al.
2015; no scrambled images; an equal, seeded number per category; shown at
10 degrees as in every fLoc benchmark). TDANN used ImageNet images; fLoc is
used here because no bundled model was trained or swap-optimised on it
(``imagenet_sample`` fitted the positions of ``tdann-mini``). For every image:
the 1 % most active units of each block, k-means on their positions
(``n_clusters``), Hungarian pairing of source and target centroids, sum of the
paired distances with both sheets overlaid in relative coordinates and scaled
to the target sheet's side (mm). The same with the source block's positions
shuffled is the control.

Value. ``raw`` = mean wiring length / mean wiring length with shuffled source
positions: below 1 when co-active units of consecutive blocks sit at
corresponding places (shorter fibres than a random layout), about 1 without any
such order. It is a measurement, not a comparison with brain data (there is no
reference and no ceiling: ``ceiling`` is 1), so the benchmark is report-only;
lower means shorter wiring, not "more brain-like". A ratio above 1 is clipped
to 1 and kept in ``details['clipped_from']``. ``error``: bootstrap standard
deviation of the ratio over images. ``details`` keeps the lengths in mm.

The model must have both blocks by these names (a ``PytorchModel`` whose
``module`` has them). Blocks without positions of their own get TDANN's default
retinotopic placement (``positions_by_default`` in ``details``); retinotopy
alone shortens wiring between blocks that see the same part of the field, so
compare models that were placed alike.
"""
from __future__ import annotations

import numpy as np

from topobench.benchmark_base import Comparison, TopoBenchmark
from topobench.costs import FULL, Cost, Fit
from topobench.errors import ModelError
from topobench.metrics.wiring import ACTIVE_FRACTION, N_CLUSTERS, N_INIT, wiring_lengths
from topobench.positions import SHEET_SIDE_MM, LayerPositions, retinotopic_positions

VERSION = 1
#: region -> (source block, target block), TDANN's V1-like and VTC-like pairs.
LAYER_PAIRS = {"V1": ("layer2.0", "layer2.1"), "VTC": ("layer4.0", "layer4.1")}

BIBTEX = """@article{margalit2024unifying,
  title={A unifying framework for functional organization in early and higher ventral visual cortex},
  author={Margalit, Eshed and Lee, Hyodong and Finzi, Dawn and DiCarlo, James J. and Grill-Spector, Kalanit and Yamins, Daniel L. K.},
  journal={Neuron},
  volume={112},
  number={14},
  pages={2435--2451},
  year={2024},
  doi={10.1016/j.neuron.2024.04.018},
  url={https://doi.org/10.1016/j.neuron.2024.04.018}
}"""


def wiring_cost(region: str) -> Cost:
    """The cost of :class:`MargalitWiringLength` for ``region`` (100 images, both blocks recorded)."""
    return Cost(images=100, stimuli="fLoc without scrambled: 10 per category, seeded", layers=LAYER_PAIRS[region],
                features=FULL, copies=2.0, fixed_seconds=8.0,
                fit=Fit("per image: k-means (8 clusters, 10 restarts) on the 1% most active units of each block, "
                        "paired, and again with shuffled positions", "linear", repeats=2 * 10))


def floc_subset(n_images: int, seed: int):
    """``n_images`` fLoc images (no scrambled), the same number from each category, seeded."""
    from topobench.stimuli.base import subset
    from topobench.stimuli.floc import floc_stimuli

    stimuli = floc_stimuli()
    categories = sorted(stimuli["category"].unique())
    per_category = max(1, int(n_images) // len(categories))
    rng = np.random.default_rng(seed)
    chosen = set()
    for category in categories:
        ids = sorted(stimuli.loc[stimuli["category"] == category, "stimulus_id"])
        chosen.update(rng.choice(ids, size=min(per_category, len(ids)), replace=False).tolist())
    return subset(stimuli, stimuli["stimulus_id"].isin(chosen).to_numpy())


def layer_positions(model, layer: str) -> tuple[LayerPositions, bool]:
    """(positions of ``layer``, placed by default?): the model's own, else TDANN's retinotopic default."""
    dims = tuple(model.layer_shape(layer))
    own = getattr(model, "_positions", {}) or {}
    if layer in own:
        positions = own[layer]
        if tuple(positions.dims) != dims:
            raise ModelError(f"positions for layer {layer} of model {model.identifier} have dims {positions.dims} "
                             f"but the layer has {dims} at {model.image_size} px; use positions made for this layer")
        return positions, False
    if layer not in SHEET_SIDE_MM:
        raise ModelError(f"no positions and no default sheet size for layer {layer} of model {model.identifier}")
    return retinotopic_positions(layer, dims, SHEET_SIDE_MM[layer], seed=getattr(model, "positions_seed", 0)), True


class MargalitWiringLength(TopoBenchmark):
    """Wiring length between consecutive blocks relative to shuffled positions (report-only)."""

    version = VERSION
    bibtex = BIBTEX
    datasets = ("floc",)
    family = "topography"
    report_only = True
    no_controls_reason = ("reads two consecutive ResNet-18 blocks of a PyTorch model; the registered controls "
                          "have no such blocks")

    def __init__(self, region: str, n_images: int = 100, n_clusters: int = N_CLUSTERS,
                 active_fraction: float = ACTIVE_FRACTION, n_init: int = N_INIT, seed: int = 0):
        if region not in LAYER_PAIRS:
            raise ValueError(f"region must be one of {', '.join(LAYER_PAIRS)}")
        super().__init__(identifier=f"Margalit2024.{region}-wiring_length", region=region)
        self.source_layer, self.target_layer = LAYER_PAIRS[region]
        self.n_images = int(n_images)
        self.n_clusters = int(n_clusters)
        self.active_fraction = float(active_fraction)
        self.n_init = int(n_init)
        self.seed = int(seed)

    @property
    def ceiling(self):
        """1: a measurement of the model, no brain reference."""
        return 1.0

    def check_region(self, model) -> None:
        """The model must be a PyTorch model with both blocks (the region's layer is not used)."""
        identifier = getattr(model, "identifier", type(model).__name__)
        module = getattr(model, "module", None)
        if module is None or not hasattr(model, "activations"):
            raise ModelError(f"{self.identifier} reads blocks {self.source_layer} and {self.target_layer} "
                             f"directly, so it needs a PyTorch model (topobench.model_interface.PytorchModel); "
                             f"model {identifier} is a {type(model).__name__}")
        names = {name for name, _ in module.named_modules()}
        missing = [layer for layer in (self.source_layer, self.target_layer) if layer not in names]
        if missing:
            from topobench.model_interface import closest_names
            raise ModelError(f"{self.identifier} needs the consecutive blocks {self.source_layer} -> "
                             f"{self.target_layer} (ResNet-18 names), but model {identifier} has no "
                             f"{', '.join(missing)}; closest layer names: "
                             f"{closest_names(missing[0], [n for n in names if n])}")

    def make_stimuli(self):
        return floc_subset(self.n_images, self.seed)

    def record(self, model, stimuli):
        """Positions (and whether by default) and activations of the source and target blocks."""
        source_positions, source_default = layer_positions(model, self.source_layer)
        target_positions, target_default = layer_positions(model, self.target_layer)
        return {"source_positions": source_positions, "target_positions": target_positions,
                "positions_by_default": {self.source_layer: source_default, self.target_layer: target_default},
                "source": model.activations(stimuli, self.source_layer),
                "target": model.activations(stimuli, self.target_layer)}

    def measure(self, recording, model, layer):
        """(wiring lengths, the recording)."""
        result = wiring_lengths(recording["source_positions"].coordinates, recording["source"],
                                recording["target_positions"].coordinates, recording["target"],
                                target_side_mm=recording["target_positions"].sheet_side_mm,
                                n_clusters=self.n_clusters, active_fraction=self.active_fraction,
                                n_init=self.n_init, seed=self.seed)
        if result.valid.sum() < 2:
            raise ModelError(f"{self.identifier}: blocks {self.source_layer}/{self.target_layer} of model "
                             f"{model.identifier} have no active unit for almost every fLoc image")
        return result, recording

    def compare(self, measurement) -> Comparison:
        """The ratio to shuffled source positions (no reference)."""
        result, recording = measurement
        stimuli = self.stimuli
        summary = result.summary(seed=self.seed)
        details = {
            "source_layer": self.source_layer, "target_layer": self.target_layer,
            "source_sheet_side_mm": float(recording["source_positions"].sheet_side_mm),
            "target_sheet_side_mm": float(recording["target_positions"].sheet_side_mm),
            "positions_by_default": recording["positions_by_default"],
            "stimuli": f"{stimuli.identifier} ({len(stimuli)} images, no scrambled, seed {self.seed})",
            "value": "mean wiring length / mean with shuffled source positions (< 1: shorter than random)",
            "report_only": True,
            "report_only_reason": "a measurement of the model (TDANN's wiring length); no brain reference, "
                                  "no ceiling (ceiling 1)",
            **summary,
        }
        return Comparison(result.ratio, summary["ratio_error_bootstrap"], details)


class V1WiringLength(MargalitWiringLength):
    """Wiring length layer2.0 -> layer2.1 relative to shuffled positions (report-only)."""

    cost = wiring_cost("V1")

    def __init__(self, **kwargs):
        super().__init__("V1", **kwargs)


class VTCWiringLength(MargalitWiringLength):
    """Wiring length layer4.0 -> layer4.1 relative to shuffled positions (report-only)."""

    cost = wiring_cost("VTC")

    def __init__(self, **kwargs):
        super().__init__("VTC", **kwargs)
