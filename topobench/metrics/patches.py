"""Category-selective patches on a cortical sheet, and co-localisation of selectivities.

**Smoothing** (DESIGN.md, "VTC selectivity and patches"). TDANN smoothed a
selectivity map with a Gaussian-weighted average of the units' values around
each of 100 x 100 anchors (``spacetorch.maps.it_map.ITMap.find_patches``,
sigma 2.4 mm on the 70 mm sheet). Here the same normalised average is taken on
a grid: the units' values and counts are summed into square bins of side
``grid_mm`` (default 0.7 mm, TDANN's 100 anchors over 70 mm), both sums are
filtered with ``scipy.ndimage.gaussian_filter`` (sigma ``sigma_mm`` in bins,
zero outside the sheet), and their ratio is the smoothed map. Bins whose
kernel holds less than ``min_weight`` units (filtered count x 2 pi sigma^2,
the effective number of units averaged there; far from every unit) are NaN.

**Patches**: connected regions (8-connected) of bins whose smoothed value
exceeds ``threshold``, kept when their area is within [``min_area_mm2``,
``max_area_mm2``] (TDANN: 100 to 4,500 mm^2) and they hold at least
``min_units`` units (TDANN: 10). A patch's area is its number of bins times
``grid_mm``^2; its units are those whose bin lies in it; its centroid is the
mean position of its bins. (TDANN measured area as the concave hull of the
member units; on a bin grid the area is exact for the thresholded region.)

**Co-localisation** of two domains: the sheet is tiled with square windows of
side ``window_mm``; in each window holding at least ``min_units_per_window``
units, the fraction of units selective for each domain (unit selectivity >
a threshold); the Spearman correlation of the two fractions across windows.
Positive: the two selectivities share windows; negative: they avoid each other.
Because a unit's selectivities for two domains are not independent, fractions
correlate even on shuffled positions (:func:`colocalisation_vs_shuffled`
measures that part, to be subtracted).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from topobench.metrics.rsa import spearman

TDANN_SIGMA_MM = 2.4
TDANN_MIN_AREA_MM2 = 100.0
TDANN_MAX_AREA_MM2 = 4500.0
TDANN_MIN_UNITS = 10
TDANN_GRID_MM = 0.7


@dataclass
class Patch:
    """A connected region of the smoothed map above threshold."""

    domain: str
    area_mm2: float
    n_units: int
    centroid_mm: tuple
    peak: float
    unit_indices: np.ndarray = field(repr=False)

    def summary(self) -> dict:
        return {"domain": self.domain, "area_mm2": round(float(self.area_mm2), 3), "n_units": int(self.n_units),
                "centroid_mm": [round(float(v), 3) for v in self.centroid_mm], "peak": round(float(self.peak), 4)}


@dataclass
class SmoothedMap:
    """A smoothed map on a grid: ``values[iy, ix]`` at bin centres ``x_mm[ix]``, ``y_mm[iy]``."""

    values: np.ndarray
    weight: np.ndarray
    x_mm: np.ndarray
    y_mm: np.ndarray
    bin_mm: tuple
    unit_bins: tuple  # (iy, ix) of every unit


def sheet_extent(positions, extent=None) -> tuple:
    """(x0, x1, y0, y1) in mm: ``extent`` if given, else the positions' bounding box."""
    if extent is not None:
        x0, x1, y0, y1 = (float(v) for v in extent)
    else:
        positions = np.asarray(positions, dtype=float)
        (x0, y0), (x1, y1) = positions.min(axis=0), positions.max(axis=0)
    if not (x1 > x0 and y1 > y0):
        raise ValueError(f"the sheet's extent {(x0, x1, y0, y1)} is empty")
    return x0, x1, y0, y1


def _bins(positions, extent, grid_mm):
    x0, x1, y0, y1 = extent
    nx = max(1, int(round((x1 - x0) / grid_mm)))
    ny = max(1, int(round((y1 - y0) / grid_mm)))
    bx, by = (x1 - x0) / nx, (y1 - y0) / ny
    ix = np.clip(np.floor((positions[:, 0] - x0) / bx).astype(int), 0, nx - 1)
    iy = np.clip(np.floor((positions[:, 1] - y0) / by).astype(int), 0, ny - 1)
    return nx, ny, bx, by, ix, iy


def smooth_on_grid(values, positions, sigma_mm: float = TDANN_SIGMA_MM, grid_mm: float = TDANN_GRID_MM,
                   extent=None, min_weight: float = 0.5) -> SmoothedMap:
    """Gaussian-weighted average of ``values`` (n_units,) at ``positions`` (n_units, 2) mm on a grid.

    ``weight`` of the result: effective number of units in each bin's kernel."""
    values = np.asarray(values, dtype=np.float64)
    positions = np.asarray(positions, dtype=np.float64)
    if values.shape[0] != positions.shape[0]:
        raise ValueError(f"{values.shape[0]} values for {positions.shape[0]} positions")
    extent = sheet_extent(positions, extent)
    nx, ny, bx, by, ix, iy = _bins(positions, extent, grid_mm)
    total = np.zeros((ny, nx))
    count = np.zeros((ny, nx))
    finite = np.isfinite(values)
    np.add.at(total, (iy[finite], ix[finite]), values[finite])
    np.add.at(count, (iy[finite], ix[finite]), 1.0)
    sigma = (sigma_mm / by, sigma_mm / bx)
    total = ndimage.gaussian_filter(total, sigma, mode="constant", cval=0.0)
    density = ndimage.gaussian_filter(count, sigma, mode="constant", cval=0.0)
    weight = density * (2.0 * np.pi * sigma[0] * sigma[1])  # effective units in the kernel
    with np.errstate(invalid="ignore", divide="ignore"):
        smoothed = np.where(weight >= min_weight, total / np.where(density > 0, density, 1.0), np.nan)
    x_mm = extent[0] + (np.arange(nx) + 0.5) * bx
    y_mm = extent[2] + (np.arange(ny) + 0.5) * by
    return SmoothedMap(smoothed, weight, x_mm, y_mm, (bx, by), (iy, ix))


def find_patches(values, positions, threshold: float, domain: str = "", sigma_mm: float = TDANN_SIGMA_MM,
                 min_area_mm2: float = TDANN_MIN_AREA_MM2, max_area_mm2: float = TDANN_MAX_AREA_MM2,
                 min_units: int = TDANN_MIN_UNITS, grid_mm: float = TDANN_GRID_MM, extent=None,
                 smoothed: SmoothedMap | None = None) -> list:
    """Patches of ``values`` (e.g. one domain's selectivity) above ``threshold``, largest first."""
    if smoothed is None:
        smoothed = smooth_on_grid(values, positions, sigma_mm, grid_mm, extent)
    above = np.nan_to_num(smoothed.values, nan=-np.inf) > threshold
    labels, n_labels = ndimage.label(above, structure=np.ones((3, 3), dtype=int))
    if n_labels == 0:
        return []
    bx, by = smoothed.bin_mm
    iy, ix = smoothed.unit_bins
    unit_labels = labels[iy, ix]
    sizes = np.bincount(labels.ravel(), minlength=n_labels + 1)
    yy, xx = np.indices(labels.shape)
    patches = []
    for label in range(1, n_labels + 1):
        area = sizes[label] * bx * by
        members = np.flatnonzero(unit_labels == label)
        if not (min_area_mm2 <= area <= max_area_mm2) or members.size < min_units:
            continue
        mask = labels == label
        centroid = (float(smoothed.x_mm[xx[mask]].mean()), float(smoothed.y_mm[yy[mask]].mean()))
        patches.append(Patch(domain, float(area), int(members.size), centroid,
                             float(np.nanmax(smoothed.values[mask])), members))
    patches.sort(key=lambda p: -p.area_mm2)
    return patches


def _window_index(positions, window_mm: float, extent):
    """Flat window index of every unit and the number of windows."""
    nx, ny, _, _, ix, iy = _bins(np.asarray(positions, dtype=np.float64), sheet_extent(positions, extent), window_mm)
    return iy * nx + ix, nx * ny


def _fractions(selective, flat, n_windows, min_units_per_window):
    count = np.bincount(flat, minlength=n_windows).astype(float)
    hits = np.bincount(flat, weights=selective.astype(float), minlength=n_windows)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count >= min_units_per_window, hits / np.where(count > 0, count, 1.0), np.nan)


def _fraction_correlation(a, b) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return float("nan")
    return spearman(a[ok], b[ok])


def window_fractions(selective, positions, window_mm: float = 10.0, extent=None,
                     min_units_per_window: int = 10) -> np.ndarray:
    """Fraction of ``selective`` (bool, n_units) units in each square window of side
    ``window_mm`` tiling the sheet; windows with fewer than ``min_units_per_window``
    units are NaN. Returns a flat array over windows."""
    flat, n_windows = _window_index(positions, window_mm, extent)
    return _fractions(np.asarray(selective, dtype=bool), flat, n_windows, min_units_per_window)


def colocalisation(selective_a, selective_b, positions, window_mm: float = 10.0, extent=None,
                   min_units_per_window: int = 10) -> float:
    """Spearman correlation across windows of the fractions of units selective for A and
    for B (:func:`window_fractions`); NaN when either fraction is constant."""
    flat, n_windows = _window_index(positions, window_mm, extent)
    a = _fractions(np.asarray(selective_a, dtype=bool), flat, n_windows, min_units_per_window)
    b = _fractions(np.asarray(selective_b, dtype=bool), flat, n_windows, min_units_per_window)
    return _fraction_correlation(a, b)


def colocalisation_vs_shuffled(selective_a, selective_b, positions, window_mm: float = 10.0, extent=None,
                               min_units_per_window: int = 10, n_shuffles: int = 50, seed: int = 0) -> dict:
    """:func:`colocalisation`, and the same with the units' positions shuffled.

    Per-window fractions are not independent of the units themselves: where
    one unit cannot be selective for both domains (a place-selective unit has a
    low face d', since places are among the "other" images of faces), windows
    that happen to hold more of one hold fewer of the other, so two maps with
    no spatial relation correlate negatively (about -0.2 to -0.4 for fractions
    of 0.1 and 0.35); units selective for both correlate positively. The mean
    over ``n_shuffles`` seeded permutations of the positions measures that part;
    ``excess`` = r - shuffled mean is the part due to where the units lie.
    Returns ``{'r', 'shuffled_mean', 'shuffled_std', 'excess'}`` (NaN when r is).
    """
    a = np.asarray(selective_a, dtype=bool)
    b = np.asarray(selective_b, dtype=bool)
    flat, n_windows = _window_index(positions, window_mm, extent)
    fractions_a = _fractions(a, flat, n_windows, min_units_per_window)
    fractions_b = _fractions(b, flat, n_windows, min_units_per_window)
    r = _fraction_correlation(fractions_a, fractions_b)
    # shuffling positions permutes which unit sits in which window; each window keeps its count
    keep = np.isfinite(fractions_a)
    count = np.bincount(flat, minlength=n_windows).astype(float)[keep]
    rng = np.random.default_rng(seed)
    shuffled = np.stack([flat[rng.permutation(flat.size)] for _ in range(int(n_shuffles))]) if n_shuffles else \
        np.zeros((0, flat.size), dtype=int)
    offsets = (np.arange(shuffled.shape[0]) * n_windows)[:, None]

    def fractions(selective):
        hits = np.bincount((shuffled + offsets).ravel(), weights=np.tile(selective.astype(float), shuffled.shape[0]),
                           minlength=shuffled.shape[0] * n_windows).reshape(shuffled.shape[0], n_windows)
        return hits[:, keep] / count

    null = _row_spearman(fractions(a), fractions(b)) if keep.sum() >= 3 and n_shuffles else np.array([])
    finite = null[np.isfinite(null)]
    mean = float(finite.mean()) if finite.size else float("nan")
    std = float(finite.std()) if finite.size else float("nan")
    return {"r": r, "shuffled_mean": mean, "shuffled_std": std,
            "excess": r - mean if np.isfinite(r) and np.isfinite(mean) else float("nan")}


def _row_spearman(x, y) -> np.ndarray:
    """Spearman correlation of each row of ``x`` with the same row of ``y``; NaN for a constant row."""
    from scipy.stats import rankdata
    rx, ry = rankdata(x, axis=1), rankdata(y, axis=1)
    rx -= rx.mean(axis=1, keepdims=True)
    ry -= ry.mean(axis=1, keepdims=True)
    denominator = np.sqrt((rx * rx).sum(axis=1) * (ry * ry).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, (rx * ry).sum(axis=1) / np.where(denominator > 0, denominator, 1.0), np.nan)
