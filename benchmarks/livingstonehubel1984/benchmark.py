"""Clustering of colour preference in V1 (Livingstone & Hubel 1984).

Measurement. Each responsive V1 unit's colour preference index,
(red/cyan - b/w) / (red/cyan + b/w) of its mean responses to the isoluminant
red/cyan and the black/white gratings (``topobench.metrics.v1_maps``), is a
map; its shuffle-normalised difference curve (pairs of different channels,
distances in the model's column widths: its own spacing where its orientation
map's spectrum has a real peak, else the declared scale of
``topobench.metrics.map_scale``, recorded in ``details["scale"]``; version 2)
gives the **clustering index** 1 - mean ratio over distances below
0.2 column widths (``topobench.metrics.color_clustering``): 0 when colour
preference is scattered, higher when neighbours share it. Its null (the same
values at shuffled positions, ``n_shuffles`` seeded permutations) is reported.

Score. Livingstone & Hubel (1984) state the clustering qualitatively (colour
cells concentrated in the cytochrome-oxidase blobs), and the reference data
hold no macaque colour map (``topobench.reference_data.livingstonehubel1984``).
The target strength of clustering is that of the macaque spatial-frequency
maps (Nauhaus et al. 2012, panels c, d of site 1 and g, h of site 2) at the
same distances: the V1 feature map that the blobs share. raw = mean over the
two sites of min(1, model index / site index), the site index the mean of its
two planes; the ceiling is computed the same way for each single macaque plane
against the other site, averaged over the four planes. Clustering beyond the
macaque's is not penalised: the claim is that colour preference clusters.
"""
from __future__ import annotations

import functools

import numpy as np
from brainscore_core.benchmarks import BenchmarkBase
from brainscore_core.metrics import Score

from topobench.errors import ModelError
from topobench.map_figures import V1MapFigures
from topobench.metrics.color_clustering import NEAR_COLUMN_WIDTHS, clustering_index, clustering_null
from topobench.metrics.map_scale import map_scale
from topobench.metrics.smoothness import DEFAULT_BIN_EDGES_COLUMN_WIDTHS, difference_curve, preference_spread
from topobench.metrics.v1_maps import gridded_value_map, measure_v1_maps
from topobench.reference_data.macaque_v1 import MACAQUE_COLUMN_WIDTH_MM  # 0.75 mm, with its source
from topobench.scores import ceiled_score, mean_ceiling

IDENTIFIER = "LivingstoneHubel1984.V1-color_clustering"
REGION = "V1"

BIBTEX = """@article{livingstone1984anatomy,
  title={Anatomy and physiology of a color system in the primate visual cortex},
  author={Livingstone, Margaret S. and Hubel, David H.},
  journal={Journal of Neuroscience},
  volume={4},
  number={1},
  pages={309--356},
  year={1984},
  doi={10.1523/JNEUROSCI.04-01-00309.1984},
  url={https://doi.org/10.1523/JNEUROSCI.04-01-00309.1984}
}
@article{nauhaus2012orthogonal,
  title={Orthogonal micro-organization of orientation and spatial frequency in primate primary visual cortex},
  author={Nauhaus, Ian and Nielsen, Kristina J. and Disney, Anita A. and Callaway, Edward M.},
  journal={Nature Neuroscience},
  volume={15},
  number={12},
  pages={1683--1690},
  year={2012},
  doi={10.1038/nn.3255}
}"""


@functools.lru_cache(maxsize=4)
def macaque_clustering(bin_edges_column_widths: tuple, near: float, column_width_mm: float, max_pairs: int,
                       seed: int) -> dict:
    """Clustering index of each macaque spatial-frequency plane (log2 SF), and per site."""
    from topobench.reference_data.nauhaus2012 import load_nauhaus2012, site_panels
    maps = load_nauhaus2012()
    edges = np.asarray(bin_edges_column_widths)
    planes, sites = {}, {}
    for site, letters in sorted(site_panels("sf").items()):
        for letter in letters:
            decoded = maps[letter]
            curve = difference_curve(decoded.positions_mm(), np.log2(decoded.masked_values()), edges * column_width_mm,
                                     max_pairs=max_pairs, seed=seed)
            planes[letter] = {"site": site, "index": clustering_index(curve.ratio, edges, near)}
        sites[site] = {"panels": letters, "index": float(np.mean([planes[p]["index"] for p in letters]))}
    return {"planes": planes, "sites": sites}


def relative_clustering(index: float, target: float) -> float:
    """min(1, index / target), 0 for no clustering (or a NaN index)."""
    if not np.isfinite(index) or not target > 0:
        return 0.0
    return float(np.clip(index / target, 0.0, 1.0))


class LivingstoneHubelColorClustering(V1MapFigures, BenchmarkBase):
    """Colour preference clustered on the V1 sheet beyond shuffled positions."""

    datasets = ("nauhaus2012_v1",)

    def __init__(self, near_column_widths: float = NEAR_COLUMN_WIDTHS,
                 bin_edges_column_widths=DEFAULT_BIN_EDGES_COLUMN_WIDTHS, relative_threshold: float = 0.1,
                 n_shuffles: int = 5, max_pairs: int = 1_000_000, seed: int = 0):
        super().__init__(identifier=IDENTIFIER, ceiling=None, version=2, parent=REGION, bibtex=BIBTEX)
        self.near_column_widths = float(near_column_widths)
        self.bin_edges_column_widths = tuple(float(edge) for edge in bin_edges_column_widths)
        self.relative_threshold = float(relative_threshold)
        self.n_shuffles = int(n_shuffles)
        self.max_pairs = int(max_pairs)
        self.seed = int(seed)
        self._ceiling_score = None

    @property
    def reference(self) -> dict:
        return macaque_clustering(self.bin_edges_column_widths, self.near_column_widths, MACAQUE_COLUMN_WIDTH_MM,
                                  self.max_pairs, self.seed)

    def plane_agreements(self) -> dict:
        reference = self.reference
        return {letter: relative_clustering(plane["index"], reference["sites"][3 - plane["site"]]["index"])
                for letter, plane in reference["planes"].items()}

    @property
    def ceiling(self) -> Score:
        if self._ceiling_score is None:
            self._ceiling_score = mean_ceiling(self.plane_agreements().values())
        return self._ceiling_score

    def score_map(self, positions_mm, color_index, spacing_mm: float, channels=None, details=None) -> Score:
        """Score a colour-preference map given as unit positions (mm), indices and the column spacing (mm)."""
        from topobench.reference_data.livingstonehubel1984 import CITATION, CLAIM, STAND_IN
        edges = np.asarray(self.bin_edges_column_widths)
        color_index = np.asarray(color_index, dtype=np.float64)
        curve = difference_curve(positions_mm, color_index, edges * spacing_mm, channels=channels,
                                 max_pairs=self.max_pairs, seed=self.seed)
        index = clustering_index(curve.ratio_other_channel, edges, self.near_column_widths)
        null = clustering_null(positions_mm, color_index, edges, spacing_mm, self.near_column_widths, channels,
                               self.n_shuffles, max_pairs=min(self.max_pairs, 300_000), seed=self.seed + 1)
        reference = self.reference
        per_site = {site: relative_clustering(index, entry["index"]) for site, entry in reference["sites"].items()}
        raw = float(np.mean(list(per_site.values())))
        ceiling = self.ceiling
        null_sd = float(null.std(ddof=1)) if len(null) > 1 else float("nan")
        details = dict(details or {})
        details.update({
            "clustering_index": index,
            "clustering_index_all_pairs": clustering_index(curve.ratio, edges, self.near_column_widths),
            "shuffled_clustering_indices": [float(v) for v in null],
            "clustering_z_vs_shuffled": float((index - null.mean()) / null_sd) if null_sd > 0 else None,
            "near_column_widths": self.near_column_widths,
            "model_column_spacing_mm": float(spacing_mm),
            "model_curve": curve.summary(scale=spacing_mm),
            "color_index_spread": preference_spread(color_index),
            "color_index_mean": float(np.nanmean(color_index)),
            "claim": CLAIM, "reference": CITATION,
            "reference_kind": ("qualitative claim; the target clustering strength is a stand-in: " + STAND_IN),
            "macaque_sf_clustering_index_per_plane": {k: v["index"] for k, v in reference["planes"].items()},
            "macaque_sf_clustering_index_per_site": {str(k): v["index"] for k, v in reference["sites"].items()},
            "agreement_per_site": {str(site): value for site, value in per_site.items()},
            "score_scale": "mean over sites of min(1, model clustering index / macaque SF-map clustering index)",
            "ceiling_per_plane": self.plane_agreements(),
            "seed": self.seed,
        })
        relative = float(ceiling.attrs["error"]) / max(float(ceiling), 1e-12)
        return ceiled_score(raw, float(ceiling), min(1.0, raw / max(float(ceiling), 1e-12)) * relative, details)

    def __call__(self, model) -> Score:
        maps = measure_v1_maps(model, self.identifier, self.relative_threshold)
        usable = np.isfinite(maps.color_index)
        if usable.sum() < 10:
            raise ModelError(f"{self.identifier}: only {int(usable.sum())} responsive V1 units of model "
                             f"{maps.model_identifier} respond to the gratings; a map needs more")
        scale = map_scale(maps.positions_mm, maps.orientation_deg,
                          visual_degrees=getattr(model, "visual_degrees", None))
        details = {"layer": maps.layer, "n_units": maps.n_units, "n_responsive": maps.n_responsive,
                   "relative_threshold": self.relative_threshold, "scale": scale.summary(),
                   "column_spacing": scale.peak.summary(),
                   "model_map": gridded_value_map(maps.positions_mm[usable], maps.color_index[usable],
                                                  name="color_index"), **maps.attrs}
        if scale.constant_map:
            details["scored_zero_because"] = "the orientation map is constant: it has no column spacing"
            return ceiled_score(0.0, float(self.ceiling), 0.0, details)
        return self.score_map(maps.positions_mm[usable], maps.color_index[usable], scale.spacing_mm,
                              channels=maps.channel[usable], details=details)
