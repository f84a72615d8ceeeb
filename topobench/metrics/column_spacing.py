"""Column spacing of an orientation map from the peak of its radial power spectrum.

The map is gridded from unit positions (cells holding about 0.5 units): each
grid cell holds the mean of exp(2i theta) over its units (0 where it has none), the mean over the map is
subtracted, a Hann window is applied, and the power spectrum is averaged over
rings of |k| one frequency step wide. The column spacing is 1 / k at the peak
(refined by a parabola through the peak and its neighbours).

A **real spectral peak** (DESIGN.md, "Smoothness" and "Pinwheels";
``topobench.metrics.map_scale``) stands above the spectrum on both sides: at
least ``min_peak_ratio`` times the mean power at |k| <= k_peak / 2 and at
|k| >= 2 k_peak, and lies at ring ``min_periods`` (3) or beyond, i.e. at least
three periods across the map's longest side (a maximum in the first two rings
is a gradient across the sheet). A salt-and-pepper map (white spectrum) and a
smoothed salt-and-pepper map (low-pass: its maximum is at the lowest
frequency) have none; a band-limited map has one.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Largest grid side (cells) for the spectrum; finer grids cost time and only add empty cells.
MAX_GRID_CELLS = 256


@dataclass
class SpectralPeak:
    spacing_mm: float
    peak_frequency_cpmm: float
    peak_to_low: float
    peak_to_high: float
    is_real: bool
    frequencies_cpmm: np.ndarray
    power: np.ndarray
    cell_mm: float

    def summary(self) -> dict:
        def clean(value):
            return float(value) if np.isfinite(value) else None
        return {"column_spacing_mm": clean(self.spacing_mm), "peak_frequency_cycles_per_mm": clean(self.peak_frequency_cpmm),
                "peak_to_low_frequencies": clean(self.peak_to_low), "peak_to_high_frequencies": clean(self.peak_to_high),
                "spectral_peak_is_real": bool(self.is_real), "grid_cell_mm": float(self.cell_mm),
                "radial_frequencies_cycles_per_mm": [round(float(k), 5) for k in self.frequencies_cpmm],
                "radial_power": [float(f"{p:.6g}") for p in self.power]}


#: Units per grid cell of the spectrum: fine enough that the spectrum reaches twice a band-limited map's
#: peak frequency down to 10 units per squared spacing (at 2 units per cell, below about 30 it did not,
#: and no peak could be shown real).
UNITS_PER_CELL = 0.5


def default_cell_mm(positions, units_per_cell: float = UNITS_PER_CELL, max_cells: int = MAX_GRID_CELLS) -> float:
    """Grid cell side so that a cell holds about ``units_per_cell`` units, the grid at most ``max_cells`` a side."""
    positions = np.asarray(positions, dtype=np.float64)
    extent = np.ptp(positions, axis=0)
    area = max(float(extent[0] * extent[1]), 1e-12)
    cell = np.sqrt(area * units_per_cell / max(len(positions), 1))
    return float(max(cell, extent.max() / max_cells))


def grid_sums(positions, values, cell_mm: float, origin=None, shape=None):
    """Sum of ``values`` (real or complex) and unit count per grid cell.

    Cell (row, col) covers y in [origin_y + row cell, ...) and x in
    [origin_x + col cell, ...). Returns (sums, counts, origin).
    """
    positions = np.asarray(positions, dtype=np.float64)
    values = np.asarray(values)
    origin = positions.min(axis=0) if origin is None else np.asarray(origin, dtype=np.float64)
    index = np.floor((positions - origin) / cell_mm).astype(int)
    if shape is None:
        shape = (int(index[:, 1].max()) + 1, int(index[:, 0].max()) + 1)
    rows = np.clip(index[:, 1], 0, shape[0] - 1)
    cols = np.clip(index[:, 0], 0, shape[1] - 1)
    flat = rows * shape[1] + cols
    size = shape[0] * shape[1]
    counts = np.bincount(flat, minlength=size).reshape(shape).astype(np.float64)
    if np.iscomplexobj(values):
        sums = (np.bincount(flat, weights=values.real, minlength=size)
                + 1j * np.bincount(flat, weights=values.imag, minlength=size)).reshape(shape)
    else:
        sums = np.bincount(flat, weights=values.astype(np.float64), minlength=size).reshape(shape)
    return sums, counts, origin


def orientation_field(positions, orientation_deg, cell_mm: float | None = None):
    """(field, cell_mm): the grid of mean exp(2i theta) per cell, less its mean over all units; 0 in
    empty cells (so that a constant map gives a field of 0, not a pattern of occupied cells)."""
    positions = np.asarray(positions, dtype=np.float64)
    orientation = np.asarray(orientation_deg, dtype=np.float64)
    keep = np.isfinite(orientation)
    positions, orientation = positions[keep], orientation[keep]
    cell_mm = default_cell_mm(positions) if cell_mm is None else float(cell_mm)
    phasor = np.exp(2j * np.deg2rad(orientation))
    sums, counts, _origin = grid_sums(positions, phasor - phasor.mean(), cell_mm)
    field = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
    return field, cell_mm


def radial_power_spectrum(field, cell_mm: float):
    """(frequencies in cycles/mm, mean power per ring) of a 2-D field, rings one frequency step wide.

    The field's mean is removed and a 2-D Hann window applied first. Ring r
    holds |k| in [(r - 0.5) dk, (r + 0.5) dk), dk = 1 / (largest side in mm);
    ring 0 (the mean) is left out.
    """
    field = np.asarray(field)
    rows, cols = field.shape
    window = np.outer(np.hanning(rows), np.hanning(cols))
    centred = (field - field.mean()) * window
    power = np.abs(np.fft.fft2(centred)) ** 2
    ky = np.fft.fftfreq(rows, d=cell_mm)
    kx = np.fft.fftfreq(cols, d=cell_mm)
    step = 1.0 / (max(rows, cols) * cell_mm)
    radius = np.sqrt(ky[:, None] ** 2 + kx[None, :] ** 2) / step
    ring = np.rint(radius).astype(int)
    n_rings = int(min(rows, cols) // 2)  # up to the Nyquist frequency of the shorter side
    inside = (ring >= 1) & (ring <= n_rings)
    sums = np.bincount(ring[inside], weights=power[inside], minlength=n_rings + 1)[1:]
    counts = np.bincount(ring[inside], minlength=n_rings + 1)[1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / counts
    return np.arange(1, n_rings + 1) * step, mean


#: A real peak lies at least this many periods across the map (ring >= 3).
MIN_PERIODS = 3


def spectral_peak(frequencies, power, min_peak_ratio: float = 2.0, cell_mm: float = float("nan"),
                  min_periods: int = MIN_PERIODS) -> SpectralPeak:
    """The peak of a radial power spectrum and whether it is real (see the module docstring)."""
    frequencies = np.asarray(frequencies, dtype=np.float64)
    power = np.asarray(power, dtype=np.float64)
    finite = np.isfinite(power)
    if finite.sum() < 3:
        return SpectralPeak(float("nan"), float("nan"), float("nan"), float("nan"), False, frequencies, power, cell_mm)
    peak = int(np.nanargmax(np.where(finite, power, -np.inf)))
    k_peak = frequencies[peak]
    if 0 < peak < len(power) - 1 and np.all(power[peak - 1:peak + 2] > 0):
        # parabola through log power at the peak and its neighbours
        left, centre, right = np.log(power[peak - 1:peak + 2])
        denominator = left - 2 * centre + right
        if denominator < 0:
            offset = 0.5 * (left - right) / denominator
            k_peak = k_peak + float(np.clip(offset, -0.5, 0.5)) * (frequencies[1] - frequencies[0])
    low = finite & (frequencies <= frequencies[peak] / 2)
    high = finite & (frequencies >= 2 * frequencies[peak])
    peak_to_low = power[peak] / power[low].mean() if low.any() and power[low].mean() > 0 else float("nan")
    peak_to_high = power[peak] / power[high].mean() if high.any() and power[high].mean() > 0 else float("nan")
    is_real = bool(peak + 1 >= max(2, min_periods) and np.isfinite(peak_to_low) and np.isfinite(peak_to_high)
                   and peak_to_low >= min_peak_ratio and peak_to_high >= min_peak_ratio)
    return SpectralPeak(float(1.0 / k_peak), float(k_peak), float(peak_to_low), float(peak_to_high), is_real,
                        frequencies, power, cell_mm)


def column_spacing(positions, orientation_deg, cell_mm: float | None = None,
                   min_peak_ratio: float = 2.0, min_periods: int = MIN_PERIODS) -> SpectralPeak:
    """Column spacing (mm) of an orientation map given by unit positions (mm) and preferences (deg).

    A constant map has no spacing: NaN, and no real peak."""
    field, cell_mm = orientation_field(positions, orientation_deg, cell_mm)
    frequencies, power = radial_power_spectrum(field, cell_mm)
    orientation = np.asarray(orientation_deg, dtype=np.float64)
    if not 1.0 - np.abs(np.nanmean(np.exp(2j * np.deg2rad(orientation)))) > 1e-9:  # a constant map
        return SpectralPeak(float("nan"), float("nan"), float("nan"), float("nan"), False, frequencies,
                            np.zeros_like(power), cell_mm)
    return spectral_peak(frequencies, power, min_peak_ratio, cell_mm, min_periods)
