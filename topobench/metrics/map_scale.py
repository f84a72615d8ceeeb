"""The distance unit of a model's V1 maps: its own column spacing where it has one, else a declared scale.

The V1 map benchmarks measure cortical distance in column widths. A model's own
column spacing is the wavelength at the maximum of the radial power spectrum of
its orientation map (``topobench.metrics.column_spacing``), but only a **real
spectral peak** defines a spacing. A map whose spectrum falls from the lowest
frequencies (a smoothed salt-and-pepper map, or a network whose preferences drift
across the sheet) has its maximum in the first rings: 1 / k there is the size
of the sheet, not of a column, and measuring distance in it flattens every curve
(issue 13: the ``tdann-mini`` maps, "spacing" 37.2 mm on a 36.75 mm sheet).

**Criterion** (:func:`real_spectral_peak`, named ``REAL_PEAK_RULE``): the maximum
of the radial spectrum is a real peak when

1. it stands at least ``min_peak_ratio`` (2) times above the mean power at
   |k| <= k_peak / 2 **and** at |k| >= 2 k_peak (it is a peak, not the top of a
   falling or a flat spectrum), and
2. it lies at ring ``min_periods`` (3) or beyond: at least three periods across
   the map's longest side, i.e. spacing <= side / 3 (a maximum in the first two
   rings is a gradient across the sheet, and has no low frequencies to stand above).

**Declared scale** (:func:`declared_spacing_mm`), used where the peak is not
real: TDANN's hypercolumn, 3.5 mm on its 36.75 mm V1 sheet of 8 degrees
(Margalit et al. 2024; ``spacetorch.analyses.sine_gratings.get_smoothness_curves``,
``hcw = 3.5``; the sheet side in ``topobench.positions.SHEET_SIDE_MM``), scaled
with the model's sheet side: ``3.5 mm x sheet_side / 36.75 mm``, i.e. one
hypercolumn per 10.5th of the sheet. The sheet side is that of the model's
positions (the largest extent of its responsive units' positions, or a side
passed in). The visual field does not enter: a network's V1 layer tiles its
input image whatever visual angle the image is said to cover, and its
receptive fields are fixed in pixels, so the fraction of the sheet that one
hypercolumn spans does not change when a model declares another field of view
(the declared field only changes which grating frequencies, in cycles per
degree, the model sees). ``visual_degrees`` is recorded in the summary.

The scale used goes into each V1 map benchmark's ``details`` (:meth:`MapScale.summary`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from topobench.metrics.column_spacing import MIN_PERIODS, SpectralPeak, column_spacing

#: TDANN's orientation hypercolumn (mm) on its V1 sheet (spacetorch ``get_smoothness_curves``: ``hcw = 3.5``).
TDANN_HYPERCOLUMN_MM = 3.5
#: TDANN's V1 (layer2.0) sheet side (mm) for a 224 px input covering 8 degrees.
TDANN_V1_SHEET_SIDE_MM = 36.75
TDANN_VISUAL_DEGREES = 8.0
#: A real peak stands this many times above the mean power below half and above twice its frequency.
MIN_PEAK_RATIO = 2.0
REAL_PEAK_RULE = (f"maximum of the radial power spectrum >= {MIN_PEAK_RATIO:g} x the mean power at "
                  f"|k| <= k_peak/2 and at |k| >= 2 k_peak, and at ring >= {MIN_PERIODS} "
                  f"(at least {MIN_PERIODS} periods across the map: spacing <= side / {MIN_PERIODS})")
DECLARED_RULE = (f"TDANN's {TDANN_HYPERCOLUMN_MM} mm hypercolumn on its {TDANN_V1_SHEET_SIDE_MM} mm V1 sheet "
                 f"({TDANN_VISUAL_DEGREES:g} degrees), scaled with the model's sheet side: "
                 f"{TDANN_HYPERCOLUMN_MM} mm x side / {TDANN_V1_SHEET_SIDE_MM} mm")

SOURCE_PEAK = "spectral peak"
SOURCE_DECLARED = "declared"


def declared_spacing_mm(sheet_side_mm: float) -> float:
    """TDANN's hypercolumn scaled to a sheet of side ``sheet_side_mm``: 3.5 x side / 36.75 mm."""
    if not (np.isfinite(sheet_side_mm) and sheet_side_mm > 0):
        raise ValueError(f"sheet side must be a positive number of mm, not {sheet_side_mm}")
    return float(TDANN_HYPERCOLUMN_MM * sheet_side_mm / TDANN_V1_SHEET_SIDE_MM)


def sheet_side_of(positions) -> float:
    """The largest extent (mm) of a set of positions."""
    positions = np.asarray(positions, dtype=np.float64)
    return float(np.ptp(positions, axis=0).max()) if len(positions) else float("nan")


def real_spectral_peak(peak: SpectralPeak) -> bool:
    """Whether a spectrum's maximum is a real peak (the module docstring's criterion, as
    :func:`topobench.metrics.column_spacing.spectral_peak` computes it)."""
    return bool(peak.is_real and np.isfinite(peak.spacing_mm) and peak.spacing_mm > 0)


@dataclass
class MapScale:
    """The column width in which a model's map distances are measured."""

    spacing_mm: float             # the scale used
    source: str                   # 'spectral peak' or 'declared'
    peak: SpectralPeak            # the spectrum and its maximum
    peak_is_real: bool
    declared_spacing_mm: float
    sheet_side_mm: float
    visual_degrees: float | None
    constant_map: bool = False    # a map without any spread of preferences has no spectrum

    def summary(self) -> dict:
        def clean(value):
            return float(value) if value is not None and np.isfinite(value) else None
        return {"spacing_mm": clean(self.spacing_mm), "source": self.source,
                "spectral_peak_is_real": bool(self.peak_is_real),
                "spectral_maximum_spacing_mm": clean(self.peak.spacing_mm),
                "peak_to_low_frequencies": clean(self.peak.peak_to_low),
                "peak_to_high_frequencies": clean(self.peak.peak_to_high),
                "real_peak_rule": REAL_PEAK_RULE,
                "declared_spacing_mm": clean(self.declared_spacing_mm), "declared_rule": DECLARED_RULE,
                "sheet_side_mm": clean(self.sheet_side_mm),
                "visual_degrees": clean(self.visual_degrees),
                "constant_map": bool(self.constant_map)}


def map_scale(positions, orientation_deg, sheet_side_mm: float | None = None, visual_degrees: float | None = None,
              min_peak_ratio: float = MIN_PEAK_RATIO, min_periods: int = MIN_PERIODS,
              cell_mm: float | None = None) -> MapScale:
    """The model's own column spacing where its orientation map's spectrum has a real peak, else the
    declared scale for its sheet (see the module docstring).

    ``sheet_side_mm``: the side of the model's sheet; default the largest extent of ``positions``.
    """
    positions = np.asarray(positions, dtype=np.float64)
    side = sheet_side_of(positions) if sheet_side_mm is None else float(sheet_side_mm)
    declared = declared_spacing_mm(side)
    peak = column_spacing(positions, orientation_deg, cell_mm=cell_mm, min_peak_ratio=min_peak_ratio,
                          min_periods=min_periods)
    constant = not (np.isfinite(peak.spacing_mm) and peak.spacing_mm > 0)
    real = (not constant) and real_spectral_peak(peak)
    spacing, source = (peak.spacing_mm, SOURCE_PEAK) if real else (declared, SOURCE_DECLARED)
    return MapScale(float(spacing), source, peak, bool(real), declared, side,
                    None if visual_degrees is None else float(visual_degrees), constant)
