"""Histogram of preferred orientations and the cardinal bias.

Orientation in degrees [0, 180), 0 = horizontal, 90 = vertical (the grating
convention of ``topobench.stimuli.gratings``). A preference is **cardinal**
when it lies within ``half_width_deg`` (default 22.5) of 0 or 90 deg and
**oblique** when it lies within it of 45 or 135 deg; with 22.5 the two classes
split the circle in halves (a value exactly between is left out).
"""
from __future__ import annotations

import numpy as np


def orientation_histogram(orientation_deg, n_bins: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """(counts, bin centres in deg): ``n_bins`` bins centred on 0, 180/n_bins, ...; wraps at 180."""
    orientation = np.asarray(orientation_deg, dtype=np.float64)
    orientation = orientation[np.isfinite(orientation)]
    width = 180.0 / n_bins
    index = np.floor(np.mod(orientation + width / 2, 180.0) / width).astype(int) % n_bins
    return np.bincount(index, minlength=n_bins), np.arange(n_bins) * width


def cardinal_bias(orientation_deg, half_width_deg: float = 22.5) -> dict:
    """Counts of cardinal and oblique preferences, their ratio, and a one-sided binomial test.

    ``p_value``: probability of at least this many cardinal preferences among
    the cardinal + oblique ones if both were equally likely (the classes cover
    equal parts of the circle).
    """
    from scipy.stats import binomtest
    orientation = np.asarray(orientation_deg, dtype=np.float64)
    orientation = np.mod(orientation[np.isfinite(orientation)], 180.0)
    to_cardinal = np.minimum(np.mod(orientation, 90.0), 90.0 - np.mod(orientation, 90.0))
    to_oblique = np.abs(np.mod(orientation, 90.0) - 45.0)
    cardinal = int((to_cardinal < half_width_deg).sum())
    oblique = int((to_oblique < half_width_deg).sum())
    total = cardinal + oblique
    p_value = float(binomtest(cardinal, total, 0.5, alternative="greater").pvalue) if total else float("nan")
    ratio = cardinal / oblique if oblique else float("inf") if cardinal else float("nan")
    return {"n_cardinal": cardinal, "n_oblique": oblique, "cardinal_to_oblique_ratio": float(ratio),
            "cardinal_fraction": cardinal / total if total else float("nan"), "p_value": p_value,
            "half_width_deg": float(half_width_deg)}
