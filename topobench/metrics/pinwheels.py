"""Pinwheels of an orientation map: winding numbers on the smoothed map.

Smoothing (TDANN, ``spacetorch/maps/pinwheel_detector.py``: square windows of
side 1.5 mm at a stride of 0.45 mm on the model sheet, the circular mean of the
preferences of the units inside) is done on a grid, not unit by unit: the
units' exp(2i theta) and counts are summed into cells of stride / 3, a box
filter of the window's side sums them over each window, and the result is read
at every third cell. Only windows that lie wholly inside the units' bounding
box are kept.

A pinwheel is a 2 x 2 plaquette of the smoothed map around which the
orientation turns by +-180 deg (winding number +-1/2); each is counted once.

Which pinwheels count (TDANN: "local circular variance < 0.3"): TDANN's code
computes, per window, the circular standard deviation of the preferences (in
its orientation steps of 22.5 deg) divided by the number of units
(``Smoother._circstd``), and keeps windows where it is below 0.3; in practice
it discards windows with too few units. A literal local circular variance of
the preferences cannot serve: it is close to 1 at every pinwheel centre, since
all orientations meet there. :func:`detect_pinwheels` keeps TDANN's statistic
(``max_circstd_per_unit``, default 0.3) and asks for it at the four corners of
a plaquette.

Density = pinwheels per squared column spacing over the analysed area
(Kaschube et al. 2010): ``count * spacing**2 / area``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from topobench.metrics.column_spacing import grid_sums

#: TDANN's window side and stride (mm) on its 36.75 mm V1 sheet, whose hypercolumn it takes as 3.5 mm.
TDANN_WINDOW_MM = 1.5
TDANN_STRIDE_MM = 0.45
TDANN_HYPERCOLUMN_MM = 3.5
TDANN_ORIENTATION_STEP_DEG = 22.5


@dataclass
class SmoothedMap:
    """Window means on a grid of nodes ``stride_mm`` apart (rows along y, columns along x)."""

    orientation_deg: np.ndarray     # circular mean preference per window (NaN where empty)
    resultant: np.ndarray           # |mean exp(2i theta)| per window
    counts: np.ndarray              # units per window
    circstd_per_unit: np.ndarray    # TDANN's circstd (in 22.5 deg steps) / count; inf where empty
    x_mm: np.ndarray                # window centres
    y_mm: np.ndarray
    window_mm: float
    stride_mm: float


def smoothed_orientation_map(positions, orientation_deg, window_mm: float = TDANN_WINDOW_MM,
                             stride_mm: float = TDANN_STRIDE_MM, oversample: int = 3) -> SmoothedMap:
    """Circular mean of preferences in square windows of side ``window_mm`` every ``stride_mm``."""
    from scipy.ndimage import uniform_filter
    positions = np.asarray(positions, dtype=np.float64)
    orientation = np.asarray(orientation_deg, dtype=np.float64)
    keep = np.isfinite(orientation)
    positions, orientation = positions[keep], orientation[keep]
    cell = stride_mm / oversample
    low, high = positions.min(axis=0), positions.max(axis=0)
    shape = (int(np.ceil((high[1] - low[1]) / cell)) + 1, int(np.ceil((high[0] - low[0]) / cell)) + 1)
    phasor = np.exp(2j * np.deg2rad(orientation))
    sums, counts, _ = grid_sums(positions, phasor, cell, origin=low, shape=shape)
    size = max(1, int(round(window_mm / cell)))
    size += 1 - size % 2  # odd, so that a window is centred on a cell

    def box_sum(array):
        return uniform_filter(array, size=size, mode="constant") * size * size

    window_sums = box_sum(sums.real) + 1j * box_sum(sums.imag)
    window_counts = np.rint(box_sum(counts))
    half = size // 2
    rows = np.arange(half, shape[0] - half, oversample)
    cols = np.arange(half, shape[1] - half, oversample)
    window_sums = window_sums[np.ix_(rows, cols)]
    window_counts = window_counts[np.ix_(rows, cols)]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = window_sums / window_counts
        resultant = np.abs(mean)
        orientation_map = np.where(window_counts > 0, np.mod(np.rad2deg(np.angle(mean)) / 2.0, 180.0), np.nan)
        circstd_deg = np.sqrt(-2.0 * np.log(np.clip(resultant, 1e-300, 1.0))) * 180.0 / (2 * np.pi)
        circstd_per_unit = np.where(window_counts > 0,
                                    circstd_deg / TDANN_ORIENTATION_STEP_DEG / window_counts, np.inf)
    return SmoothedMap(orientation_map, np.where(window_counts > 0, resultant, np.nan), window_counts,
                       circstd_per_unit, low[0] + (cols + 0.5) * cell, low[1] + (rows + 0.5) * cell,
                       float(window_mm), float(stride_mm))


def winding_numbers(orientation_deg) -> np.ndarray:
    """Winding number of each 2 x 2 plaquette of an orientation grid: +-0.5 at a pinwheel, else 0.

    The orientation (period 180 deg) is followed around the plaquette's corners;
    the wrapped steps sum to a multiple of 180 deg, i.e. of half a turn.
    NaN where a corner is NaN.
    """
    theta = np.asarray(orientation_deg, dtype=np.float64)
    corners = [theta[:-1, :-1], theta[:-1, 1:], theta[1:, 1:], theta[1:, :-1]]
    total = np.zeros_like(corners[0])
    for first, second in zip(corners, corners[1:] + corners[:1]):
        total += np.mod(second - first + 90.0, 180.0) - 90.0
    return np.rint(total / 180.0) / 2.0


@dataclass
class Pinwheels:
    positions_mm: np.ndarray   # (n, 2) plaquette centres
    charges: np.ndarray        # +-0.5
    analysed_area_mm2: float
    smoothed: SmoothedMap

    @property
    def count(self) -> int:
        return int(len(self.charges))

    def density(self, spacing_mm: float) -> float:
        """Pinwheels per squared column spacing over the analysed area."""
        if not self.analysed_area_mm2 > 0:
            return float("nan")
        return float(self.count * spacing_mm ** 2 / self.analysed_area_mm2)


def detect_pinwheels(positions, orientation_deg, window_mm: float = TDANN_WINDOW_MM,
                     stride_mm: float = TDANN_STRIDE_MM, max_circstd_per_unit: float = 0.3) -> Pinwheels:
    """Pinwheels of the smoothed map in plaquettes whose four corners pass TDANN's criterion."""
    smoothed = smoothed_orientation_map(positions, orientation_deg, window_mm, stride_mm)
    winding = winding_numbers(smoothed.orientation_deg)
    good = smoothed.circstd_per_unit < max_circstd_per_unit
    valid = good[:-1, :-1] & good[:-1, 1:] & good[1:, 1:] & good[1:, :-1] & np.isfinite(winding)
    found = valid & (np.abs(winding) == 0.5)
    rows, cols = np.nonzero(found)
    x = 0.5 * (smoothed.x_mm[cols] + smoothed.x_mm[cols + 1])
    y = 0.5 * (smoothed.y_mm[rows] + smoothed.y_mm[rows + 1])
    return Pinwheels(np.stack([x, y], axis=1), winding[found], float(valid.sum() * stride_mm ** 2), smoothed)
