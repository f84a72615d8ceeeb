"""Tuning difference against cortical distance, normalised by shuffled positions.

For pairs of units (or pixels of a map) the mean absolute difference of a
preference (orientation: circular, period 180 deg; spatial frequency: octaves;
colour preference: its index) is taken in bins of cortical distance, and
divided by the same mean for shuffled positions: the mean absolute difference
of random pairs of the same units (in expectation what TDANN gets by shuffling
the distances of its sampled pairs). 1 means no relation to distance; below 1 near neighbours
are more alike than chance (DESIGN.md, "Smoothness").

In a convolutional layer the same channel at neighbouring grid locations shares
its weights, so where patches overlap, identical tunings sit side by side even
in an untrained network. :func:`difference_curve` therefore returns the curve
over all pairs and over pairs of different channels; benchmarks score the
latter.

Pairs are found with a k-d tree within the largest distance bin; when there
would be more than ``max_pairs`` of them, a random subset of the units (seeded)
is used, so the cost does not grow with the square of the unit count.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: TDANN's distance bins (get_smoothness_curves): 9 bins from 0 to the half-diagonal of a
#: window of 4/3 hypercolumn, i.e. 0 to 0.943 column widths.
TDANN_MAX_DISTANCE_COLUMN_WIDTHS = float(np.sqrt(2 * (4 / 3) ** 2) / 2)
DEFAULT_BIN_EDGES_COLUMN_WIDTHS = tuple(np.round(np.linspace(0.0, 0.9, 10), 3))


def absolute_difference(a, b, period: float | None = None) -> np.ndarray:
    """|a - b|, or the circular difference in [0, period / 2] when ``period`` is given."""
    difference = np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))
    if period is not None:
        difference = np.mod(difference, period)
        difference = np.minimum(difference, period - difference)
    return difference


@dataclass
class DifferenceCurve:
    """Mean |difference| per distance bin, over all pairs and over pairs of different channels.

    ``ratio`` = ``mean_difference`` / ``shuffled_difference`` (1: no relation to
    distance); ``*_other_channel`` exclude pairs of the same channel (equal to
    the all-pairs values when no channels are given). Bins without pairs are NaN.
    """

    bin_edges: np.ndarray
    mean_difference: np.ndarray
    counts: np.ndarray
    shuffled_difference: float
    mean_difference_other_channel: np.ndarray
    counts_other_channel: np.ndarray
    shuffled_difference_other_channel: float
    n_units: int
    n_units_sampled: int

    @property
    def bin_centers(self) -> np.ndarray:
        return 0.5 * (self.bin_edges[1:] + self.bin_edges[:-1])

    @property
    def ratio(self) -> np.ndarray:
        return _ratio(self.mean_difference, self.shuffled_difference)

    @property
    def ratio_other_channel(self) -> np.ndarray:
        return _ratio(self.mean_difference_other_channel, self.shuffled_difference_other_channel)

    def summary(self, scale: float = 1.0) -> dict:
        """JSON-ready: bin edges divided by ``scale``, both curves, counts and shuffle levels."""
        return {
            "bin_edges": _rounded(self.bin_edges / scale),
            "ratio_all_pairs": _rounded(self.ratio),
            "ratio_other_channel": _rounded(self.ratio_other_channel),
            "mean_difference_all_pairs": _rounded(self.mean_difference),
            "mean_difference_other_channel": _rounded(self.mean_difference_other_channel),
            "shuffled_difference_all_pairs": float(self.shuffled_difference),
            "shuffled_difference_other_channel": float(self.shuffled_difference_other_channel),
            "pair_counts_all_pairs": self.counts.astype(int).tolist(),
            "pair_counts_other_channel": self.counts_other_channel.astype(int).tolist(),
            "n_units": int(self.n_units), "n_units_sampled": int(self.n_units_sampled),
        }


def _ratio(curve, level) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(curve, dtype=np.float64) / level if level > 0 else np.full(len(curve), np.nan)


def _rounded(values, digits: int = 6) -> list:
    return [None if not np.isfinite(v) else round(float(v), digits) for v in np.asarray(values, dtype=float)]


def close_pairs(positions, max_distance: float, max_pairs: int = 2_000_000, seed: int = 0):
    """(i, j, distance) of unit pairs closer than ``max_distance``, i < j.

    When the expected number of such pairs (from the unit density over the
    bounding box) exceeds ``max_pairs``, a random subset of units is used;
    the indices refer to the full ``positions``. Returns (i, j, distance, indices of the units used).
    """
    from scipy.spatial import cKDTree
    positions = np.asarray(positions, dtype=np.float64)
    n = len(positions)
    rng = np.random.default_rng(seed)
    extent = np.ptp(positions, axis=0) if n else np.zeros(2)
    area = float(max(extent[0], 1e-12) * max(extent[1], 1e-12))
    fraction = min(1.0, np.pi * max_distance ** 2 / area)
    expected = 0.5 * n * (n - 1) * fraction
    subset = np.arange(n)
    if expected > max_pairs:
        keep = int(np.sqrt(2.0 * max_pairs / fraction))
        subset = np.sort(rng.choice(n, size=min(n, max(keep, 2)), replace=False))
    tree = cKDTree(positions[subset])
    pairs = tree.query_pairs(max_distance, output_type="ndarray")
    if len(pairs) > 2 * max_pairs:  # the density estimate was off (e.g. a masked map): thin out
        pairs = pairs[rng.choice(len(pairs), size=2 * max_pairs, replace=False)]
    i, j = subset[pairs[:, 0]], subset[pairs[:, 1]]
    distance = np.linalg.norm(positions[i] - positions[j], axis=1)
    return i, j, distance, subset


def shuffled_difference(values, period: float | None = None, channels=None, n_pairs: int = 200_000,
                        seed: int = 0) -> tuple[float, float]:
    """Mean |difference| of random pairs (positions shuffled): (all pairs, pairs of different channels)."""
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    if n < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, size=n_pairs)
    j = (i + rng.integers(1, n, size=n_pairs)) % n  # j != i
    difference = absolute_difference(values[i], values[j], period)
    level = float(difference.mean())
    if channels is None:
        return level, level
    channels = np.asarray(channels)
    other = channels[i] != channels[j]
    return level, float(difference[other].mean()) if other.any() else float("nan")


def difference_curve(positions, values, bin_edges, period: float | None = None, channels=None,
                     max_pairs: int = 2_000_000, n_shuffle_pairs: int = 200_000, seed: int = 0) -> DifferenceCurve:
    """Mean |difference in ``values``| of unit pairs per bin of distance (``bin_edges``, same unit as
    ``positions``), with the shuffled-position level; see :class:`DifferenceCurve`.

    ``period``: 180 for orientation (circular difference), None for linear
    values (log2 spatial frequency, colour index). ``channels``: per-unit
    channel, to report pairs of different channels separately. NaN values are dropped.
    """
    positions = np.asarray(positions, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    keep = np.isfinite(values) & np.all(np.isfinite(positions), axis=1)
    positions, values = positions[keep], values[keep]
    channels = None if channels is None else np.asarray(channels)[keep]
    bin_edges = np.asarray(bin_edges, dtype=np.float64)
    i, j, distance, subset = close_pairs(positions, float(bin_edges[-1]), max_pairs, seed)
    difference = absolute_difference(values[i], values[j], period)
    index = np.digitize(distance, bin_edges) - 1
    inside = (index >= 0) & (index < len(bin_edges) - 1)
    n_bins = len(bin_edges) - 1

    def binned(mask):
        counts = np.bincount(index[mask], minlength=n_bins)[:n_bins].astype(np.float64)
        sums = np.bincount(index[mask], weights=difference[mask], minlength=n_bins)[:n_bins]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan), counts

    mean_all, counts_all = binned(inside)
    if channels is not None:
        mean_other, counts_other = binned(inside & (channels[i] != channels[j]))
    else:
        mean_other, counts_other = mean_all, counts_all
    # the shuffled level from the same units as the pairs: a subset's own spread of values
    # would otherwise shift every bin of the curve alike
    level_all, level_other = shuffled_difference(values[subset], period,
                                                 None if channels is None else channels[subset],
                                                 n_shuffle_pairs, seed + 1)
    return DifferenceCurve(bin_edges, mean_all, counts_all, level_all, mean_other, counts_other, level_other,
                           n_units=len(values), n_units_sampled=len(subset))


def smoothness_index(ratio) -> float:
    """TDANN's smoothness index, (max - curve[0]) / max, of a difference curve.

    It is 0 for a curve flat at its first bin and approaches 1 when the nearest
    pairs are identical; it is undefined (NaN) for a map without any spread
    (a constant map), which a curve alone cannot tell from a smooth one: see
    :func:`preference_spread`.
    """
    ratio = np.asarray(ratio, dtype=np.float64)
    finite = ratio[np.isfinite(ratio)]
    if finite.size == 0 or not np.isfinite(ratio[0]) or not finite.max() > 0:
        return float("nan")
    return float((finite.max() - ratio[0]) / finite.max())


def preference_spread(values, period: float | None = None) -> float:
    """How varied the preferences of a map are.

    Orientation (``period`` 180): the circular variance of the preferences,
    1 - |mean exp(2 pi i theta / period)| (0: all alike, 1: uniform).
    Linear values (log2 SF, colour index): the standard deviation.
    """
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan")
    if period is not None:
        return float(1.0 - np.abs(np.exp(2j * np.pi * values / period).mean()))
    return float(values.std())


def curve_similarity(model_ratio, reference_ratio) -> float:
    """Agreement of a shuffle-normalised curve with a reference curve, in [0, 1].

    1 - sum |model - reference| / (sum |reference - 1| + sum |model - 1|) over
    the bins: 1 for the reference itself; 0 for a flat curve at 1 (tuning
    unrelated to distance: a salt-and-pepper map) and for a curve mirrored
    about 1; a curve that departs from 1 in the reference's direction but by
    more or less gets partial credit (by the triangle inequality the ratio is
    at most 1). Model bins without pairs count as flat (1).
    """
    model = np.asarray(model_ratio, dtype=np.float64)
    reference = np.asarray(reference_ratio, dtype=np.float64)
    usable = np.isfinite(reference)
    model = np.where(np.isfinite(model), model, 1.0)[usable]
    reference = reference[usable]
    scale = np.abs(reference - 1.0).sum() + np.abs(model - 1.0).sum()
    if not scale > 0:
        return float("nan")
    return float(np.clip(1.0 - np.abs(model - reference).sum() / scale, 0.0, 1.0))


def clip_to_reference(model_ratio, reference_ratio) -> np.ndarray:
    """The model's curve clipped, bin by bin, into the band between 1 and the reference curve.

    A bin that departs from 1 further than the reference, in the reference's
    direction, is set to the reference; a bin on the other side of 1 is set to 1
    (flat). Bins without pairs count as flat (1). See :func:`curve_agreement`.
    """
    model = np.asarray(model_ratio, dtype=np.float64)
    reference = np.asarray(reference_ratio, dtype=np.float64)
    model = np.where(np.isfinite(model), model, 1.0)
    low, high = np.minimum(reference, 1.0), np.maximum(reference, 1.0)
    return np.where(np.isfinite(reference), np.clip(model, low, high), model)


def curve_agreement(model_ratio, reference_ratio) -> float:
    """Agreement of a shuffle-normalised curve with a reference curve that never rewards scattering.

    :func:`curve_similarity` of the model's curve clipped into the band between
    1 and the reference (:func:`clip_to_reference`). With C = sum |clipped - 1|
    (the part of the reference's departure from 1 that the model reaches, bin
    by bin) and R = sum |reference - 1|, it is 2 C / (R + C): 1 when the model
    departs from 1 at least as far as the reference in every bin, in the
    reference's direction; 0 for a flat curve (salt and pepper) or a mirrored
    one; for a curve that reaches a fraction c of the reference in every bin,
    2c / (1 + c), as :func:`curve_similarity` gives.

    Why clip. Scattering a fraction f of a map's units shrinks its curve toward
    1 (every bin: 1 - (1 - f)^2 (1 - ratio)), and noise in measured preferences
    shrinks a measured curve the same way: the macaque's curves are such
    measurements, so a model curve that departs from 1 further than the
    macaque's, in the same direction, is what a less noisy cortex would give
    and is not penalised. A departure on the other side of 1 earns nothing
    (as a flat bin) rather than a penalty, since a penalty there would shrink
    under scattering and reward it. Each clipped bin's |clipped - 1| is a
    non-decreasing function of how far the model's bin departs from 1 toward the
    reference, so shrinking a curve toward 1 never raises the agreement
    (:func:`curve_similarity` rewards matching the macaque exactly: a perfect
    band-limited map, smoother than the macaque at the nearest distances and
    rising higher beyond them, scored below the same map with a quarter of its
    units scattered).
    """
    reference = np.asarray(reference_ratio, dtype=np.float64)
    return curve_similarity(clip_to_reference(model_ratio, reference), reference)
