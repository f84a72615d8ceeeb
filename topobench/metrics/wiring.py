"""Wiring length between two consecutive layers, after TDANN (Margalit et al. 2024).

TDANN (``spacetorch/wiring_length.py`` of neuroailab/TDANN) estimates how long
the fibres between a source and a target layer would be if each group of
co-active source units sent one fibre to a group of co-active target units.
For one image ("pattern"):

1. **Active units**: the ``active_fraction`` most responsive units of each
   layer (TDANN: above the 99th percentile, i.e. 1 %); units that do not
   respond (response <= 0) are never active.
2. **Fibres**: the positions of the active units of each layer are clustered
   with k-means (``n_clusters`` clusters, ``n_init`` restarts, seeded); one
   cluster is one fibre ending. Both layers use the same number of clusters,
   lowered for a pattern with fewer distinct active positions.
3. **Length**: source and target centroids are paired by the assignment of
   least total distance (Hungarian method, ``scipy.optimize.linear_sum_assignment``);
   the pattern's wiring length is the sum of the paired distances (mm).

Deviations from TDANN, each a choice stated here:

- **Sheets overlaid in relative coordinates.** Each sheet is scaled to [0, 1]
  along x and y (its own bounding box), then both to the target sheet's side in
  mm (``target_side_mm``). A source unit and a target unit at the same relative
  position (same part of the visual field, for retinotopic sheets) are at
  distance 0. TDANN instead shifted the target sheet by the source's extent (the
  two areas side by side), which adds a near-constant offset to every fibre and
  pulls the ratio to shuffled positions towards 1.
- **A fixed number of clusters** (``n_clusters``). TDANN chose, per pattern,
  the smallest k whose k-means inertia is at most n x (1 mm)^2 (up to 99), so
  that its length counts both fibre number and fibre length; a fixed k measures
  length alone, costs one k-means fit per layer, and does not depend on the
  sheet's scale in mm.
- **Control**: the same patterns with the source layer's positions shuffled (a
  random permutation of its units' positions per pattern, as TDANN shuffled the
  source), so that ``ratio`` = mean length / mean shuffled length is below 1
  when co-active units of consecutive layers sit at corresponding places.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist
from threadpoolctl import threadpool_limits

#: TDANN's share of active units per layer and pattern (above the 99th percentile).
ACTIVE_FRACTION = 0.01
N_CLUSTERS = 8
N_INIT = 10  # k-means restarts (TDANN and scikit-learn's classic default)


def relative_coordinates(xy: np.ndarray) -> np.ndarray:
    """Positions scaled to [0, 1] along each axis by their own bounding box."""
    xy = np.asarray(xy, dtype=np.float64)
    low, high = xy.min(axis=0), xy.max(axis=0)
    return (xy - low) / np.where(high > low, high - low, 1.0)


def align_sheets(source_xy, target_xy, target_side_mm: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Both sheets in relative coordinates, scaled to the target sheet's side (mm).

    ``target_side_mm`` defaults to the larger extent of the target positions.
    """
    target_xy = np.asarray(target_xy, dtype=np.float64)
    if target_side_mm is None:
        target_side_mm = float(np.ptp(target_xy, axis=0).max())
    side = float(target_side_mm)
    return relative_coordinates(source_xy) * side, relative_coordinates(target_xy) * side


def active_units(responses, fraction: float = ACTIVE_FRACTION) -> np.ndarray:
    """Indices of the ``ceil(fraction x N)`` most responsive units with a response above 0
    (ties broken by unit index), in unit order."""
    responses = np.asarray(responses, dtype=np.float64).ravel()
    n_active = int(np.ceil(fraction * responses.size))
    order = np.argsort(-responses, kind="stable")[:n_active]
    return np.sort(order[responses[order] > 0])


def kmeans_centroids(xy: np.ndarray, n_clusters: int, seed: int = 0, n_init: int = N_INIT) -> np.ndarray:
    """(n_clusters, 2) k-means centroids of positions (scikit-learn, Lloyd, k-means++ starts), on one
    BLAS thread."""
    with threadpool_limits(1):
        return _kmeans_centroids(xy, n_clusters, seed, n_init)


def _kmeans_centroids(xy, n_clusters: int, seed: int, n_init: int) -> np.ndarray:
    """:func:`kmeans_centroids` inside the caller's thread limits (entering threadpoolctl's limits
    costs about 4 ms, as much as a small k-means fit: :func:`wiring_lengths` enters them once)."""
    from sklearn.cluster import KMeans

    xy = np.asarray(xy, dtype=np.float64)
    if n_clusters == 1:
        return xy.mean(axis=0, keepdims=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate positions: fewer distinct clusters is fine
        kmeans = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=seed).fit(xy)
    return kmeans.cluster_centers_


def matched_length(source_centroids: np.ndarray, target_centroids: np.ndarray) -> float:
    """Sum of the distances of the least-total-distance pairing of source and target centroids."""
    distances = cdist(source_centroids, target_centroids)
    rows, cols = linear_sum_assignment(distances)
    return float(distances[rows, cols].sum())


def pattern_wiring_length(source_xy, source_responses, target_xy, target_responses,
                          n_clusters: int = N_CLUSTERS, active_fraction: float = ACTIVE_FRACTION,
                          seed: int = 0, n_init: int = N_INIT) -> tuple[float, int]:
    """(wiring length in mm, number of fibres) of one pattern; positions already aligned.

    Returns (nan, 0) when either layer has no active unit.
    """
    source = np.asarray(source_xy)[active_units(source_responses, active_fraction)]
    target = np.asarray(target_xy)[active_units(target_responses, active_fraction)]
    with threadpool_limits(1):
        return _active_wiring_length(source, target, {}, n_clusters, seed, n_init)


def _active_wiring_length(source, target, target_centroids: dict, n_clusters: int, seed: int,
                          n_init: int) -> tuple[float, int]:
    """:func:`pattern_wiring_length` of the active units' positions. ``target_centroids`` (k ->
    centroids) keeps the target layer's k-means of this pattern for the shuffled control, whose
    target is the same (same units, same seed: the same fit)."""
    if len(source) == 0 or len(target) == 0:
        return float("nan"), 0
    k = min(int(n_clusters), len(np.unique(source, axis=0)), len(np.unique(target, axis=0)))
    if k not in target_centroids:
        target_centroids[k] = _kmeans_centroids(target, k, seed, n_init)
    return matched_length(_kmeans_centroids(source, k, seed, n_init), target_centroids[k]), k


@dataclass
class WiringResult:
    """Per-pattern wiring lengths (mm) with and without shuffled source positions."""

    lengths_mm: np.ndarray
    shuffled_mm: np.ndarray
    n_fibres: np.ndarray
    parameters: dict = field(default_factory=dict)

    @property
    def valid(self) -> np.ndarray:
        return np.isfinite(self.lengths_mm) & np.isfinite(self.shuffled_mm)

    @property
    def mean_mm(self) -> float:
        return float(self.lengths_mm[self.valid].mean())

    @property
    def shuffled_mean_mm(self) -> float:
        return float(self.shuffled_mm[self.valid].mean())

    @property
    def ratio(self) -> float:
        """Mean wiring length / mean wiring length with shuffled source positions."""
        return self.mean_mm / self.shuffled_mean_mm

    def ratio_error(self, n_bootstrap: int = 1000, seed: int = 0) -> float:
        """Standard deviation of the ratio over bootstrap resamples of the patterns."""
        lengths, shuffled = self.lengths_mm[self.valid], self.shuffled_mm[self.valid]
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, len(lengths), size=(n_bootstrap, len(lengths)))
        return float((lengths[draws].mean(axis=1) / shuffled[draws].mean(axis=1)).std())

    def summary(self, n_bootstrap: int = 1000, seed: int = 0) -> dict:
        valid = self.valid
        return {
            "ratio_to_shuffled": self.ratio,
            "ratio_error_bootstrap": self.ratio_error(n_bootstrap, seed),
            "mean_length_mm": self.mean_mm,
            "shuffled_mean_length_mm": self.shuffled_mean_mm,
            "mean_length_per_fibre_mm": float((self.lengths_mm[valid] / self.n_fibres[valid]).mean()),
            "n_patterns": int(len(self.lengths_mm)),
            "n_patterns_used": int(valid.sum()),
            "mean_n_fibres": float(self.n_fibres[valid].mean()),
            "lengths_mm": [round(float(v), 4) for v in self.lengths_mm],
            "shuffled_lengths_mm": [round(float(v), 4) for v in self.shuffled_mm],
            **self.parameters,
        }


def wiring_lengths(source_xy, source_responses, target_xy, target_responses, *,
                   target_side_mm: float | None = None, n_clusters: int = N_CLUSTERS,
                   active_fraction: float = ACTIVE_FRACTION, n_init: int = N_INIT,
                   seed: int = 0) -> WiringResult:
    """Wiring length of every pattern, and of the same pattern with shuffled source positions.

    ``source_xy`` (Ns, 2) and ``target_xy`` (Nt, 2): unit positions (mm) in each
    layer's own sheet; ``source_responses`` (P, Ns) and ``target_responses`` (P, Nt):
    the responses of the same units to P patterns. Sheets are aligned by
    :func:`align_sheets`. Pattern ``p``'s k-means use seed ``(seed, p)``; its
    shuffle is a permutation drawn from the same.
    """
    source_responses = np.asarray(source_responses)
    target_responses = np.asarray(target_responses)
    if source_responses.ndim != 2 or target_responses.ndim != 2 or len(source_responses) != len(target_responses):
        raise ValueError("responses must be (patterns, units) arrays with the same number of patterns")
    if source_responses.shape[1] != len(source_xy) or target_responses.shape[1] != len(target_xy):
        raise ValueError(f"responses have {source_responses.shape[1]} source and {target_responses.shape[1]} "
                         f"target units, positions {len(source_xy)} and {len(target_xy)}")
    source, target = align_sheets(source_xy, target_xy, target_side_mm)
    n = len(source_responses)
    lengths, shuffled, fibres = np.full(n, np.nan), np.full(n, np.nan), np.zeros(n, dtype=int)
    with threadpool_limits(1):
        for p in range(n):
            rng = np.random.default_rng([seed, p])
            kmeans_seed = int(rng.integers(2 ** 31 - 1))
            active_source = active_units(source_responses[p], active_fraction)
            active_target = target[active_units(target_responses[p], active_fraction)]
            target_centroids = {}
            lengths[p], fibres[p] = _active_wiring_length(source[active_source], active_target, target_centroids,
                                                          n_clusters, kmeans_seed, n_init)
            shuffled_source = source[rng.permutation(len(source))]
            shuffled[p], _ = _active_wiring_length(shuffled_source[active_source], active_target, target_centroids,
                                                   n_clusters, kmeans_seed, n_init)
    parameters = {"n_clusters": int(n_clusters), "active_fraction": float(active_fraction), "n_init": int(n_init),
                  "seed": int(seed), "target_side_mm": float(target_side_mm if target_side_mm is not None
                                                             else np.ptp(np.asarray(target_xy), axis=0).max()),
                  "alignment": "each sheet scaled to [0, 1] by its bounding box, then both to target_side_mm",
                  "control": "source positions shuffled (one permutation per pattern)"}
    return WiringResult(lengths, shuffled, fibres, parameters)
