"""Pinwheel density of the V1 orientation map against pi (Kaschube et al. 2010).

Measurement (DESIGN.md, "Pinwheels"). From the model's responsive V1 units
(``topobench.metrics.v1_maps``):

1. **Column spacing** from the peak of the radial power spectrum of the
   orientation map (``topobench.metrics.column_spacing``), and whether the
   peak is real (at least ``min_peak_ratio`` x the mean power below half and
   above twice its frequency).
2. **Smoothness**: the shuffle-normalised orientation-difference curve of pairs
   of different channels (``topobench.metrics.smoothness``), in column widths;
   real when its first bin (0 to 0.1 column widths) is at most
   ``max_near_ratio`` (macaque maps: 0.31 to 0.36; a salt-and-pepper map: 1).
3. **Pinwheels** (``topobench.metrics.pinwheels``): the orientation map
   smoothed in square windows, winding numbers +-1/2 on the smoothed map, kept
   where TDANN's criterion holds (circular s.d. per unit below 0.3). TDANN's
   window (1.5 mm) and stride (0.45 mm) are for its 3.5 mm hypercolumn; here
   they scale with the model's own spacing (0.43 and 0.13 column widths), so
   that a TDANN map is analysed exactly as TDANN did and any other at the same
   scale relative to its columns. Density = pinwheels x spacing^2 / analysed area.

Score. Only for a map with a real spectral peak and real smoothness
(band-limited noise, and a smoothed salt-and-pepper map, also give about pi):
otherwise 0, with the reason in ``details``. Else
``exp(-log2(density / pi)^2 / (2 * tolerance_octaves^2))`` with
``tolerance_octaves`` 0.5: 10 % off scores 0.96, a factor 1.5 off 0.50, a
factor 2 off 0.14. The reference, pi, is a number from a paper
(``topobench.reference_data.kaschube2010``), not data with a reliability: the
ceiling is 1 and the scale (tolerance) is this benchmark's choice, stated in
``details``.
"""
from __future__ import annotations

import math

import numpy as np
from brainscore_core.benchmarks import BenchmarkBase

from topobench.errors import ModelError
from topobench.map_figures import V1MapFigures
from topobench.metrics.column_spacing import column_spacing
from topobench.metrics.pinwheels import TDANN_HYPERCOLUMN_MM, TDANN_STRIDE_MM, TDANN_WINDOW_MM, detect_pinwheels
from topobench.metrics.smoothness import DEFAULT_BIN_EDGES_COLUMN_WIDTHS, difference_curve, smoothness_index
from topobench.metrics.v1_maps import gridded_orientation_map, measure_v1_maps
from topobench.scores import ceiled_score

IDENTIFIER = "Kaschube2010.V1-pinwheel_density"
REGION = "V1"

BIBTEX = """@article{kaschube2010universality,
  title={Universality in the evolution of orientation columns in the visual cortex},
  author={Kaschube, Matthias and Schnabel, Michael and L{\\"o}wel, Siegrid and Coppola, David M. and White, Leonard E. and Wolf, Fred},
  journal={Science},
  volume={330},
  number={6007},
  pages={1113--1116},
  year={2010},
  doi={10.1126/science.1194869},
  url={https://doi.org/10.1126/science.1194869}
}"""


def density_score(density: float, reference: float, tolerance_octaves: float) -> float:
    """exp(-log2(density / reference)^2 / (2 tolerance^2)); 0 for no pinwheels."""
    if not (density > 0 and np.isfinite(density)):
        return 0.0
    return float(math.exp(-math.log2(density / reference) ** 2 / (2 * tolerance_octaves ** 2)))


class KaschubePinwheelDensity(V1MapFigures, BenchmarkBase):
    """Pinwheels per squared column spacing of the V1 orientation map, against pi."""

    datasets = ()  # the reference is a number from a paper (topobench.reference_data.kaschube2010)

    def __init__(self, window_column_widths: float = TDANN_WINDOW_MM / TDANN_HYPERCOLUMN_MM,
                 stride_column_widths: float = TDANN_STRIDE_MM / TDANN_HYPERCOLUMN_MM,
                 max_circstd_per_unit: float = 0.3, min_peak_ratio: float = 2.0, max_near_ratio: float = 0.7,
                 tolerance_octaves: float = 0.5, relative_threshold: float = 0.1, max_pairs: int = 1_000_000,
                 seed: int = 0):
        super().__init__(identifier=IDENTIFIER, ceiling=None, version=1, parent=REGION, bibtex=BIBTEX)
        self.window_column_widths = float(window_column_widths)
        self.stride_column_widths = float(stride_column_widths)
        self.max_circstd_per_unit = float(max_circstd_per_unit)
        self.min_peak_ratio = float(min_peak_ratio)
        self.max_near_ratio = float(max_near_ratio)
        self.tolerance_octaves = float(tolerance_octaves)
        self.relative_threshold = float(relative_threshold)
        self.max_pairs = int(max_pairs)
        self.seed = int(seed)

    @property
    def ceiling(self):
        return 1.0

    def score_map(self, positions_mm, orientation_deg, channels=None, details=None):
        """Score an orientation map given as unit positions (mm) and preferences (deg)."""
        from topobench.reference_data.kaschube2010 import CITATION, PINWHEEL_DENSITY
        positions_mm = np.asarray(positions_mm, dtype=np.float64)
        orientation_deg = np.asarray(orientation_deg, dtype=np.float64)
        peak = column_spacing(positions_mm, orientation_deg, min_peak_ratio=self.min_peak_ratio)
        spacing = peak.spacing_mm
        details = dict(details or {})
        if not (np.isfinite(spacing) and spacing > 0):
            details.update({"pinwheel_density": None, "reference_density": PINWHEEL_DENSITY, "reference": CITATION,
                            "gates": {"spectral_peak_is_real": False, "smoothness_is_real": False},
                            "scored_zero_because": "the orientation map is constant: it has no column spacing",
                            "column_spacing": peak.summary(), "seed": self.seed})
            return ceiled_score(0.0, 1.0, 0.0, details)
        edges = np.asarray(DEFAULT_BIN_EDGES_COLUMN_WIDTHS)
        curve = difference_curve(positions_mm, orientation_deg, edges * spacing, period=180.0, channels=channels,
                                 max_pairs=self.max_pairs, seed=self.seed)
        near_ratio = float(curve.ratio_other_channel[0])
        smooth = bool(np.isfinite(near_ratio) and near_ratio <= self.max_near_ratio)
        window_mm = self.window_column_widths * spacing
        stride_mm = self.stride_column_widths * spacing
        pinwheels = detect_pinwheels(positions_mm, orientation_deg, window_mm, stride_mm, self.max_circstd_per_unit)
        density = pinwheels.density(spacing)
        gates = {"spectral_peak_is_real": bool(peak.is_real), "smoothness_is_real": smooth}
        if all(gates.values()):
            raw, reason = density_score(density, PINWHEEL_DENSITY, self.tolerance_octaves), None
        else:
            raw = 0.0
            reason = "; ".join(text for failed, text in [
                (not peak.is_real, f"no real spectral peak (peak / low frequencies {peak.peak_to_low:.2f}, "
                                   f"peak / high frequencies {peak.peak_to_high:.2f}; at least "
                                   f"{self.min_peak_ratio} needed)"),
                (not smooth, f"no real smoothness (orientation difference of the nearest pairs at "
                             f"{near_ratio:.2f} of shuffled; at most {self.max_near_ratio} needed)")] if failed)
        smoothed = pinwheels.smoothed
        details.update({
            "pinwheel_density": density, "reference_density": PINWHEEL_DENSITY, "reference": CITATION,
            "reference_kind": "a number from a paper, not data with a reliability: ceiling 1",
            "score_scale": (f"exp(-log2(density / pi)^2 / (2 x {self.tolerance_octaves}^2)): 10% off 0.96, "
                            f"x1.5 off 0.50, x2 off 0.14"),
            "gates": gates, "scored_zero_because": reason,
            "n_pinwheels": pinwheels.count, "n_positive": int((pinwheels.charges > 0).sum()),
            "n_negative": int((pinwheels.charges < 0).sum()),
            "analysed_area_mm2": pinwheels.analysed_area_mm2,
            "analysed_hypercolumns": pinwheels.analysed_area_mm2 / spacing ** 2 if spacing > 0 else None,
            "column_spacing": peak.summary(),
            "orientation_curve": curve.summary(scale=spacing),
            "near_ratio_other_channel": near_ratio,
            "smoothness_index_tdann": smoothness_index(curve.ratio_other_channel),
            "window_mm": window_mm, "stride_mm": stride_mm,
            "window_rule": (f"TDANN's {TDANN_WINDOW_MM} mm window and {TDANN_STRIDE_MM} mm stride at its "
                            f"{TDANN_HYPERCOLUMN_MM} mm hypercolumn, scaled to the model's spacing"),
            "max_circstd_per_unit": self.max_circstd_per_unit,
            "pinwheels_mm": [[round(float(x), 4), round(float(y), 4), float(charge)]
                             for (x, y), charge in zip(pinwheels.positions_mm, pinwheels.charges)],
            "smoothed_map": {"orientation_deg": [[None if not np.isfinite(v) else round(float(v), 2) for v in row]
                                                 for row in smoothed.orientation_deg],
                             "x_mm": [round(float(x), 4) for x in smoothed.x_mm],
                             "y_mm": [round(float(y), 4) for y in smoothed.y_mm],
                             "origin": "lower (row 0 at the smallest y)"},
            "seed": self.seed,
        })
        return ceiled_score(raw, 1.0, 0.0, details)

    def __call__(self, model):
        maps = measure_v1_maps(model, self.identifier, self.relative_threshold)
        if maps.n_responsive < 10:
            raise ModelError(f"{self.identifier}: only {maps.n_responsive} responsive V1 units in model "
                             f"{maps.model_identifier}; a map needs more")
        details = {"layer": maps.layer, "n_units": maps.n_units, "n_responsive": maps.n_responsive,
                   "relative_threshold": self.relative_threshold,
                   "model_map": gridded_orientation_map(maps.positions_mm, maps.orientation_deg), **maps.attrs}
        return self.score_map(maps.positions_mm, maps.orientation_deg, channels=maps.channel, details=details)
