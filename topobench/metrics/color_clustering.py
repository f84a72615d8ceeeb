"""Clustering of colour preference on the cortical sheet, beyond shuffled positions.

Each unit's colour preference index (``topobench.metrics.v1_maps.color_preference_index``:
(red/cyan - b/w) / (red/cyan + b/w) mean response, isoluminant red/cyan) is a
linear map value; its shuffle-normalised difference curve
(``topobench.metrics.smoothness.difference_curve``) is 1 at every distance when
colour preference is scattered. The **clustering index** is 1 minus the mean
ratio over the near bins (distance below ``near``): 0 for scattered
preferences, up to 1 when near neighbours share their preference exactly.
"""
from __future__ import annotations

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
