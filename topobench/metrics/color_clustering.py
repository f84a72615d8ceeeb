"""Clustering of colour preference on the cortical sheet, beyond shuffled positions.

Each unit's colour preference index (``topobench.metrics.v1_maps.color_preference_index``:
(red/cyan - b/w) / (red/cyan + b/w) mean response, isoluminant red/cyan) is a
linear map value; its shuffle-normalised difference curve
(``topobench.metrics.smoothness.difference_curve``) is 1 at every distance when
colour preference is scattered. The **clustering index** is 1 minus the mean
ratio over the near bins (distance below ``near``): 0 for scattered
preferences, up to 1 when near neighbours share their preference exactly.

**Colour domains** (:func:`color_domains`): where the colour map has a period
(a real peak of its radial power spectrum, :func:`scalar_spectral_peak`), its
domains are the local maxima above the mean of the map smoothed at a scale set
by that period, and their spacing is the mean centre-to-centre distance to the
nearest neighbour, border-corrected: the measure Murphy et al. (1998) used for
macaque CO blobs (``topobench.reference_data.murphy1998``). On band-limited
maps of wavelength L it is 0.82-0.99 L from 20 to 300 units per L^2, and
0.74-0.95 L with independent unit noise as strong as the map (fine-grid truth:
0.94-0.97 L). On maps without a period it is not the map's: on
``tdann-mini``'s colour map (no real peak) it grows in proportion to the scale
the detector is given (1.7 to 5.5 mm for 2 to 8.5 mm), so the benchmark
requires a real peak first.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Distances counted as near, in column widths: the size of a macaque CO blob
#: (``topobench.reference_data.macaque_v1``: blobs ~0.15-0.2 mm across, ~0.5 mm apart).
from topobench.reference_data.macaque_v1 import NEAR_COLUMN_WIDTHS  # noqa: E402


def clustering_index(ratio, bin_edges, near: float = NEAR_COLUMN_WIDTHS) -> float:
    """1 - mean of a shuffle-normalised curve over the bins that end at or below ``near``."""
    ratio = np.asarray(ratio, dtype=np.float64)
    upper = np.asarray(bin_edges, dtype=np.float64)[1:]
    chosen = ratio[(upper <= near + 1e-9) & np.isfinite(ratio)]
    if chosen.size == 0:
        return float("nan")
    return float(1.0 - chosen.mean())


def clustering_null(positions, values, bin_edges_column_widths, spacing_mm: float,
                    near: float = NEAR_COLUMN_WIDTHS, channels=None, n_shuffles: int = 5,
                    max_pairs: int = 300_000, seed: int = 0) -> np.ndarray:
    """Clustering indices of the same values at shuffled positions (``n_shuffles`` seeded permutations)."""
    from topobench.metrics.smoothness import difference_curve
    positions = np.asarray(positions, dtype=np.float64)
    edges = np.asarray(bin_edges_column_widths, dtype=np.float64)
    rng = np.random.default_rng(seed)
    indices = []
    for shuffle in range(n_shuffles):
        permuted = positions[rng.permutation(len(positions))]
        curve = difference_curve(permuted, values, edges * spacing_mm, channels=channels, max_pairs=max_pairs,
                                 seed=seed + 17 * (shuffle + 1))
        indices.append(clustering_index(curve.ratio_other_channel, edges, near))
    return np.asarray(indices)


# ----------------------------------------------------------------------------- colour-domain spacing
#
# The spacing of colour domains, measured as Murphy et al. (1998) measured CO blobs: the mean
# centre-to-centre distance from each domain to its nearest neighbour
# (``topobench.reference_data.murphy1998``). A domain is a local maximum of the smoothed colour-preference
# map that lies above the map's mean (a patch of stronger colour preference than its surround). The
# smoothing scale and the exclusion radius of the maxima are tied to the colour map's own period (the
# wavelength at the real peak of its radial power spectrum), never to the reference or to the
# orientation map; a colour map without a real spectral peak has no domain period and is not measured.

#: Gaussian smoothing of the colour map: sigma = max(this, sqrt(KERNEL_UNITS / (4 pi rho))) colour periods,
#: rho the units per squared colour period (the rule of ``topobench.metrics.pinwheels``). 0.2 periods keeps
#: 45 % of a band-limited map's amplitude (smoothing does not move its maxima: all its waves have one
#: wavelength) and averages unit noise over about 5 rho / 20 units; at 0.08, unit noise as strong as the map
#: made spurious domains (nearest-neighbour spacing 0.56-0.66 of the period instead of 0.9).
MIN_SIGMA_PERIODS = 0.2
KERNEL_UNITS = 4.0
#: Two maxima closer than this many colour periods are one domain (the larger is kept).
MIN_SEPARATION_PERIODS = 0.3
#: Grid cells per colour period for the smoothed map.
CELLS_PER_PERIOD = 16
MAX_GRID_CELLS = 1024
#: At least this many domains with a border-corrected nearest-neighbour distance for a spacing.
MIN_DOMAINS = 8
DOMAIN_RULE = (f"local maxima above the map's mean of the colour-preference map smoothed by a Gaussian of "
               f"sigma = max({MIN_SIGMA_PERIODS}, sqrt({KERNEL_UNITS:g} / (4 pi x units per squared colour "
               f"period))) colour periods, maxima closer than {MIN_SEPARATION_PERIODS} periods merged; spacing = "
               f"mean centre-to-centre distance to the nearest neighbour (the 2-D nearest-neighbour measure of "
               f"Murphy et al. 1998), border-corrected (Hanisch): a domain counts only if its nearest neighbour "
               f"is closer than the edge of the analysed area, weighted by 1 / the area eroded by that distance")


def scalar_spectral_peak(positions, values, cell_mm: float | None = None, min_peak_ratio: float = 2.0,
                         min_periods: int | None = None):
    """The peak of the radial power spectrum of a scalar map (``topobench.metrics.column_spacing``'s grid,
    spectrum and real-peak rule, applied to the values less their mean instead of exp(2i theta)).

    A constant map has no peak: spacing NaN, not real."""
    from topobench.metrics.column_spacing import (MIN_PERIODS, SpectralPeak, default_cell_mm, grid_sums,
                                                  radial_power_spectrum, spectral_peak)
    positions = np.asarray(positions, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    keep = np.isfinite(values) & np.all(np.isfinite(positions), axis=1)
    positions, values = positions[keep], values[keep]
    cell_mm = default_cell_mm(positions) if cell_mm is None else float(cell_mm)
    sums, counts, _origin = grid_sums(positions, values - values.mean(), cell_mm)
    field = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
    frequencies, power = radial_power_spectrum(field, cell_mm)
    min_periods = MIN_PERIODS if min_periods is None else int(min_periods)
    if not np.ptp(values) > 1e-12:
        return SpectralPeak(float("nan"), float("nan"), float("nan"), float("nan"), False, frequencies,
                            np.zeros_like(power), cell_mm)
    return spectral_peak(frequencies, power, min_peak_ratio, cell_mm, min_periods)


@dataclass
class ColorDomains:
    """Colour domains of a map: centres (mm), their nearest-neighbour spacing and density."""

    period_mm: float                 # wavelength of the colour map's spectral peak: sets the smoothing
    sigma_mm: float
    cell_mm: float
    centres_mm: np.ndarray           # (n, 2) every domain centre found
    counted: np.ndarray              # (n,) bool: nearest neighbour closer than the analysed area's edge
    nearest_mm: np.ndarray           # nearest-neighbour distance of each counted centre
    weights: np.ndarray              # Hanisch weights of the counted centres: 1 / area eroded by their distance
    analysed_area_mm2: float
    units_per_squared_period: float

    @property
    def n_counted(self) -> int:
        return int(self.counted.sum())

    @property
    def spacing_mm(self) -> float:
        """Border-corrected mean nearest-neighbour distance (NaN with fewer than ``MIN_DOMAINS`` counted)."""
        if self.n_counted < MIN_DOMAINS or not self.weights.sum() > 0:
            return float("nan")
        return float(np.sum(self.weights * self.nearest_mm) / self.weights.sum())

    @property
    def density_per_mm2(self) -> float:
        """Domains per mm^2 of the analysed area (all centres found there)."""
        return float(len(self.centres_mm) / self.analysed_area_mm2) if self.analysed_area_mm2 > 0 else float("nan")

    def summary(self, max_centres: int = 2000) -> dict:
        def clean(value):
            return float(value) if np.isfinite(value) else None
        return {"domain_spacing_mm": clean(self.spacing_mm), "domain_density_per_mm2": clean(self.density_per_mm2),
                "n_domains": int(len(self.centres_mm)), "n_domains_counted": self.n_counted,
                "nearest_neighbour_mm_quartiles": ([float(q) for q in np.percentile(self.nearest_mm, [25, 50, 75])]
                                                   if self.n_counted else None),
                "colour_period_mm": clean(self.period_mm), "smoothing_sigma_mm": float(self.sigma_mm),
                "grid_cell_mm": float(self.cell_mm), "analysed_area_mm2": float(self.analysed_area_mm2),
                "units_per_squared_colour_period": clean(self.units_per_squared_period),
                "domain_rule": DOMAIN_RULE,
                "centres_mm": [[round(float(x), 4), round(float(y), 4)] for x, y in self.centres_mm[:max_centres]]}


def color_domains(positions, values, period_mm: float, min_relative_density: float = 0.25) -> ColorDomains:
    """Domains (local maxima above the mean) of a scalar map smoothed at a scale set by its own period
    ``period_mm`` (see ``DOMAIN_RULE``), and their nearest-neighbour spacing."""
    from scipy.ndimage import gaussian_filter, maximum_filter
    from scipy.spatial import cKDTree
    from topobench.metrics.column_spacing import grid_sums
    positions = np.asarray(positions, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    keep = np.isfinite(values) & np.all(np.isfinite(positions), axis=1)
    positions, values = positions[keep], values[keep]
    if not (np.isfinite(period_mm) and period_mm > 0):
        raise ValueError(f"the colour period must be a positive number of mm, not {period_mm}")
    low, high = positions.min(axis=0), positions.max(axis=0)
    extent = high - low
    area = max(float(extent[0] * extent[1]), 1e-12)
    rho = len(positions) * period_mm ** 2 / area
    sigma = period_mm * max(MIN_SIGMA_PERIODS, np.sqrt(KERNEL_UNITS / (4 * np.pi * rho)) if rho > 0 else np.inf)
    cell = max(period_mm / CELLS_PER_PERIOD, float(extent.max()) / MAX_GRID_CELLS)
    shape = (int(np.floor(extent[1] / cell)) + 1, int(np.floor(extent[0] / cell)) + 1)
    sums, counts, _ = grid_sums(positions, values - values.mean(), cell, origin=low, shape=shape)
    weight = gaussian_filter(counts, sigma / cell, mode="constant")
    smoothed_sum = gaussian_filter(sums, sigma / cell, mode="constant")
    with np.errstate(invalid="ignore", divide="ignore"):
        smoothed = np.where(weight > 1e-9, smoothed_sum / weight, np.nan)
    broad = gaussian_filter(counts, 4 * sigma / cell, mode="nearest") / cell ** 2
    x = low[0] + (np.arange(shape[1]) + 0.5) * cell
    y = low[1] + (np.arange(shape[0]) + 0.5) * cell
    margin = 2.0 * sigma
    inside = (((x >= low[0] + margin) & (x <= high[0] - margin))[None, :]
              & ((y >= low[1] + margin) & (y <= high[1] - margin))[:, None])
    valid = inside & (broad >= min_relative_density * len(positions) / area) & np.isfinite(smoothed)
    filled = np.where(valid, smoothed, -np.inf)
    size = max(3, int(2 * round(MIN_SEPARATION_PERIODS * period_mm / cell) + 1))
    footprint = np.hypot(*np.meshgrid(np.arange(size) - size // 2, np.arange(size) - size // 2)) <= size // 2
    peaks = valid & (filled == maximum_filter(filled, footprint=footprint, mode="constant", cval=-np.inf)) \
        & (smoothed > np.nanmean(np.where(valid, smoothed, np.nan)))
    rows, cols = np.nonzero(peaks)
    centres = np.stack([x[cols], y[rows]], axis=1) if len(rows) else np.zeros((0, 2))
    box_low, box_high = low + margin, high - margin
    if len(centres) >= 2:
        distances, _ = cKDTree(centres).query(centres, k=2)
        nearest_all = distances[:, 1]
        to_edge = np.minimum(centres - box_low, box_high - centres).min(axis=1)
        counted = nearest_all <= to_edge
        nearest = nearest_all[counted]
        eroded = np.clip(box_high[0] - box_low[0] - 2 * nearest, 0, None) * np.clip(
            box_high[1] - box_low[1] - 2 * nearest, 0, None)
        weights = np.where(eroded > 0, 1.0 / np.maximum(eroded, 1e-12), 0.0)
    else:
        counted = np.zeros(len(centres), dtype=bool)
        nearest, weights = np.zeros(0), np.zeros(0)
    return ColorDomains(float(period_mm), float(sigma), float(cell), centres, counted, nearest, weights,
                        float(valid.sum() * cell ** 2), float(rho))
