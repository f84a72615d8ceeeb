"""Smoothness of V1 orientation and spatial-frequency maps against macaque V1
(Nauhaus, Nielsen, Disney & Callaway 2012, Fig. 2).

Measurement (DESIGN.md, "Smoothness"). For every pair of units (pixels of a
macaque map), the absolute difference of preferred orientation (circular,
period 180 deg) or of log2 preferred spatial frequency (octaves) is averaged in
bins of cortical distance and divided by the mean for shuffled positions (the
mean over random pairs): a **shuffle-normalised curve**, 1 where tuning is
unrelated to distance. Distances are in **column widths**: 0.75 mm for macaque
V1 (the cited value TDANN used; each Nauhaus panel is only about 0.77 mm wide,
too small to measure the spacing from), and for a model the scale of
``topobench.metrics.map_scale``: its own spacing from the peak of the radial
power spectrum of its orientation map where that peak is real (at least 2x the
mean power below half and above twice its frequency, and at least 3 periods
across the sheet), else the declared scale, TDANN's 3.5 mm hypercolumn on its
36.75 mm V1 sheet scaled with the model's sheet side. A maximum in the first
rings of the spectrum is the size of the sheet, not of a column: measured in
it, every curve is flat. The scale used (value, source, peak ratios) is in
``details["scale"]``. Bins: 0 to 0.9 column widths in steps
of 0.1 (TDANN's curves reach 0.94). The model's units are its responsive V1
units (``topobench.metrics.v1_maps``); its curve is scored **without pairs of the
same channel** (weight sharing puts identical tunings side by side even in an
untrained network) and reported with them too.

Score. The macaque reference is one curve per imaging site, the mean of its two
planes' curves (site 1: panels a, b for orientation, c, d for spatial
frequency; site 2: e, f; g, h). A curve is compared with a site's curve by
``topobench.metrics.smoothness.curve_agreement``: the curve is clipped, bin by
bin, into the band between 1 and the site's curve (a bin departing from 1
further than the macaque's, in the macaque's direction, counts as the
macaque's; one on the other side of 1 as flat), then 1 - sum |clipped - site| /
(sum |site - 1| + sum |clipped - 1|): 1 for the macaque's curve or one that
departs further in every bin, 0 for a flat curve (a salt-and-pepper map) or a
mirrored one. Scattering units shrinks a curve toward 1, and so does noise in
the macaque's measured preferences; without the clipping, a perfect
band-limited map (smoother than the macaque's at the nearest distances, higher
beyond) scored 0.84 and the same map with a quarter of its units scattered
0.87. With it, scattering never raises the score (version 2). This is multiplied by a
**spread factor** min(1, spread / least macaque spread): a map needs a spread
of preferences to count (circular variance of preferred orientations, or s.d.
of log2 SF, against the least varied of the four macaque maps of that kind), so
a constant map scores 0 however smooth. raw = mean over the two sites of the
model's agreement with that site. ceiling = the same quantity for a single
macaque plane against the *other* site, averaged over the four planes (the two
planes of one site are not independent: they are the same columns at two
depths; ``topobench.ceilings.SiteAgainstSite``). A macaque plane entered as a
model and scored against the other site alone therefore lands at 1 on average
over the four planes.
"""
from __future__ import annotations

import functools

import numpy as np
from brainscore_core.metrics import Score

from topobench.benchmark_base import Comparison, V1MapBenchmark
from topobench.ceilings import SiteAgainstSite
from topobench.metrics.map_scale import map_scale
from topobench.metrics.smoothness import (DEFAULT_BIN_EDGES_COLUMN_WIDTHS, curve_agreement, difference_curve,
                                          preference_spread, smoothness_index)
from topobench.metrics.v1_maps import gridded_orientation_map, gridded_value_map
from topobench.reference_data.macaque_v1 import MACAQUE_COLUMN_WIDTH_MM  # 0.75 mm, with its source

REGION = "V1"

BIBTEX = """@article{nauhaus2012orthogonal,
  title={Orthogonal micro-organization of orientation and spatial frequency in primate primary visual cortex},
  author={Nauhaus, Ian and Nielsen, Kristina J. and Disney, Anita A. and Callaway, Edward M.},
  journal={Nature Neuroscience},
  volume={15},
  number={12},
  pages={1683--1690},
  year={2012},
  doi={10.1038/nn.3255},
  url={https://doi.org/10.1038/nn.3255}
}
@article{margalit2024unifying,
  title={A unifying framework for functional organization in early and higher ventral visual cortex},
  author={Margalit, Eshed and Lee, Hyodong and Finzi, Dawn and DiCarlo, James J. and Grill-Spector, Kalanit and Yamins, Daniel L. K.},
  journal={Neuron},
  volume={112},
  number={14},
  pages={2435--2451},
  year={2024},
  doi={10.1016/j.neuron.2024.04.018}
}"""

#: feature -> (map kind in the figure, period of the preference or None, unit of differences)
FEATURES = {"orientation": ("orientation", 180.0, "deg"), "sf": ("sf", None, "octaves")}


def _to_metric_values(feature: str, values):
    """Preferences as compared: orientation in degrees, spatial frequency as log2 cyc/deg."""
    values = np.asarray(values, dtype=np.float64)
    return values if feature == "orientation" else np.log2(values)


@functools.lru_cache(maxsize=8)
def macaque_reference(feature: str, bin_edges_column_widths: tuple, column_width_mm: float,
                      max_pairs: int, seed: int) -> dict:
    """Per-panel curves, per-site mean curves and spreads of the decoded macaque maps."""
    from topobench.reference_data.nauhaus2012 import load_nauhaus2012, site_panels
    kind, period, _unit = FEATURES[feature]
    maps = load_nauhaus2012()
    edges_mm = np.asarray(bin_edges_column_widths) * column_width_mm
    panels, sites = {}, {}
    for site, letters in sorted(site_panels(kind).items()):
        for letter in letters:
            decoded = maps[letter]
            values = _to_metric_values(feature, decoded.masked_values())
            curve = difference_curve(decoded.positions_mm(), values, edges_mm, period=period, max_pairs=max_pairs,
                                     seed=seed)
            panels[letter] = {"site": site, "plane": decoded.plane, "curve": curve, "ratio": curve.ratio,
                              "spread": preference_spread(values, period), "decoded": decoded}
        sites[site] = {"panels": letters, "ratio": np.mean([panels[p]["ratio"] for p in letters], axis=0)}
    return {"panels": panels, "sites": sites, "min_spread": min(p["spread"] for p in panels.values())}


class NauhausSmoothness(V1MapBenchmark):
    """Shuffle-normalised tuning-difference curve of a V1 map against macaque V1 (see the module docstring)."""

    version = 2
    bibtex = BIBTEX
    datasets = ("nauhaus2012_v1",)

    def __init__(self, feature: str = "orientation", bin_edges_column_widths=DEFAULT_BIN_EDGES_COLUMN_WIDTHS,
                 macaque_column_width_mm: float = MACAQUE_COLUMN_WIDTH_MM, relative_threshold: float = 0.1,
                 max_pairs: int = 1_000_000, seed: int = 0):
        if feature not in FEATURES:
            raise ValueError(f"feature must be one of {', '.join(FEATURES)}, not '{feature}'")
        super().__init__(identifier=f"Nauhaus2012.{REGION}-{feature}_smoothness")
        self.feature = feature
        self.bin_edges_column_widths = tuple(float(edge) for edge in bin_edges_column_widths)
        self.macaque_column_width_mm = float(macaque_column_width_mm)
        self.relative_threshold = float(relative_threshold)
        self.max_pairs = int(max_pairs)
        self.seed = int(seed)

    # -- reference ------------------------------------------------------------------
    @property
    def reference(self) -> dict:
        return macaque_reference(self.feature, self.bin_edges_column_widths, self.macaque_column_width_mm,
                                 self.max_pairs, self.seed)

    def agreement(self, ratio, spread, site: int) -> float:
        """Agreement of one curve (and the spread of its map) with one macaque site."""
        reference = self.reference
        factor = min(1.0, spread / reference["min_spread"]) if np.isfinite(spread) else 0.0
        similarity = curve_agreement(ratio, reference["sites"][site]["ratio"])
        return float(similarity * factor) if np.isfinite(similarity) else 0.0

    def make_ceiling(self) -> SiteAgainstSite:
        """Each macaque plane against the other imaging site (``topobench.ceilings.SiteAgainstSite``)."""
        panels = self.reference["panels"]
        return SiteAgainstSite({letter: panel["site"] for letter, panel in panels.items()},
                               lambda letter, site: self.agreement(panels[letter]["ratio"], panels[letter]["spread"],
                                                                   site))

    def plane_agreements(self) -> dict:
        """Panel -> agreement of that single macaque plane with the other imaging site."""
        return self.ceiling_object.per_plane()

    # -- scoring --------------------------------------------------------------------
    def measure(self, recording, model, layer):
        """(V1 maps, their scale, details)."""
        maps = super().measure(recording, model, layer)
        scale = map_scale(maps.positions_mm, maps.orientation_deg,
                          visual_degrees=getattr(model, "visual_degrees", None))
        details = {
            **self.map_details(maps),
            "scale": scale.summary(),
            "column_spacing": scale.peak.summary(),
            "model_map": gridded_orientation_map(maps.positions_mm, maps.orientation_deg)
            if self.feature == "orientation" else gridded_value_map(maps.positions_mm, np.log2(maps.sf_cpd)),
            "macaque_map": macaque_picture(self.reference, self.feature),
            **maps.attrs,
        }
        return maps, scale, details

    def compare(self, measurement) -> Comparison:
        maps, scale, details = measurement
        if scale.constant_map:
            details["scored_zero_because"] = "the orientation map is constant: it has no column spacing"
            return Comparison(0.0, 0.0, details)
        values = maps.orientation_deg if self.feature == "orientation" else maps.sf_cpd
        return self.compare_map(maps.positions_mm, values, scale.spacing_mm, channels=maps.channel, details=details)

    def compare_map(self, positions_mm, values, spacing_mm: float, channels=None, sites=(1, 2),
                    details=None) -> Comparison:
        """A map given as unit positions (mm), preferences (deg or cyc/deg) and its column spacing (mm)
        against the macaque sites ``sites`` (both for a model; the other site alone for a macaque plane
        entered as a model)."""
        _kind, period, unit = FEATURES[self.feature]
        values = _to_metric_values(self.feature, values)
        edges_mm = np.asarray(self.bin_edges_column_widths) * spacing_mm
        curve = difference_curve(positions_mm, values, edges_mm, period=period, channels=channels,
                                 max_pairs=self.max_pairs, seed=self.seed)
        spread = preference_spread(values, period)
        per_site = {site: self.agreement(curve.ratio_other_channel, spread, site) for site in sites}
        raw = float(np.mean(list(per_site.values())))
        ceiling = self.ceiling
        reference = self.reference
        details = dict(details or {})
        details.update({
            "feature": self.feature, "difference_unit": unit,
            "distance_unit": ("column widths (macaque 0.75 mm; model: its own spacing where its spectrum has a "
                              "real peak, else the declared scale; see 'scale')"),
            "curve_rule": ("curve_agreement: the model's curve clipped bin by bin into the band between 1 and "
                           "the site's curve, then 1 - sum|clipped - site| / (sum|site - 1| + sum|clipped - 1|)"),
            "model_column_spacing_mm": float(spacing_mm),
            "model_curve": curve.summary(scale=spacing_mm),
            "model_curve_scored": "ratio_other_channel (pairs of different channels)",
            "model_smoothness_index_tdann": smoothness_index(curve.ratio_other_channel),
            "model_smoothness_index_tdann_all_pairs": smoothness_index(curve.ratio),
            "model_spread": spread,
            "spread_measure": "circular variance of preferred orientations" if period else "s.d. of log2 preferred SF",
            "macaque_min_spread": reference["min_spread"],
            "agreement_per_site": {str(site): value for site, value in per_site.items()},
            "macaque_site_curves": {str(site): [round(float(v), 6) for v in entry["ratio"]]
                                    for site, entry in reference["sites"].items()},
            "macaque_site_panels": {str(site): entry["panels"] for site, entry in reference["sites"].items()},
            "macaque_panel_curves": {letter: [round(float(v), 6) for v in panel["ratio"]]
                                     for letter, panel in reference["panels"].items()},
            "macaque_panel_spread": {letter: panel["spread"] for letter, panel in reference["panels"].items()},
            "macaque_panel_smoothness_index_tdann": {letter: smoothness_index(panel["ratio"])
                                                     for letter, panel in reference["panels"].items()},
            "ceiling_per_plane": self.plane_agreements(),
            "ceiling_rule": "mean over the 4 macaque planes of the agreement of one plane with the other site",
            "bin_edges_column_widths": list(self.bin_edges_column_widths),
            "macaque_column_width_mm": self.macaque_column_width_mm,
            "seed": self.seed,
        })
        # error: the spread of the ceiling over planes, carried into the ceiled score
        relative = float(ceiling.attrs["error"]) / max(float(ceiling), 1e-12)
        return Comparison(raw, min(1.0, raw / max(float(ceiling), 1e-12)) * relative, details)

    def score_map(self, positions_mm, values, spacing_mm: float, channels=None, sites=(1, 2), details=None) -> Score:
        """The score of a map (:meth:`compare_map`), e.g. a macaque plane entered as a model."""
        return self.score(self.compare_map(positions_mm, values, spacing_mm, channels, sites, details))


def macaque_picture(reference: dict, feature: str, step: int = 4) -> dict:
    """JSON-ready decoded macaque map of the first panel of each site, every ``step``-th pixel."""
    pictures = {}
    for site, entry in reference["sites"].items():
        decoded = reference["panels"][entry["panels"][0]]["decoded"]
        values = decoded.values[::step, ::step]
        if feature == "sf":
            values = np.log2(values)
        rows = [[None if not np.isfinite(v) else round(float(v), 2) for v in row] for row in values]
        pictures[str(site)] = {"panel": decoded.panel, "values": rows,
                               "value": "orientation_deg" if feature == "orientation" else "log2_sf_cpd",
                               "extent_mm": [0.0, decoded.width_mm, 0.0, decoded.height_mm],
                               "origin": "upper (row 0 at the top of the figure)",
                               "provenance": decoded.provenance()}
    return pictures


class NauhausOrientationSmoothness(NauhausSmoothness):
    def __init__(self, **kwargs):
        super().__init__(feature="orientation", **kwargs)


class NauhausSFSmoothness(NauhausSmoothness):
    def __init__(self, **kwargs):
        super().__init__(feature="sf", **kwargs)
