"""Similarity of two distributions, with a ceiling from halves of the animals.

``ks_similarity(a, b) = 1 - D``, D the two-sample Kolmogorov-Smirnov statistic
(the largest gap between the two empirical CDFs): 1 for identical samples, 0
for samples that do not overlap.

:func:`split_half_by_animal` compares a model's values (e.g. the circular
variances of its units) with reference cells that carry animal labels
(DESIGN.md, "Ringach 2002 comparison"). For each of ``n_splits`` random splits
of the animals into halves A and B:

    ceiling_s = ks_similarity(cells of A, cells of B)
    raw_s     = ks_similarity(|A| model values drawn with replacement, cells of B)

so the raw score and the ceiling are computed the same way against the same
target B, with samples of the same size: brain data entered as the model
(cells of other animals) lands near raw / ceiling = 1. ``raw`` and ``ceiling``
are the means over splits; ``error`` = std over splits of raw_s / ceiling,
a bootstrap over model units and splits in the units of the ceiled score.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import ks_2samp


def ks_similarity(a, b) -> float:
    """1 - two-sample Kolmogorov-Smirnov statistic of ``a`` and ``b``."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.size == 0 or b.size == 0:
        raise ValueError("ks_similarity needs two non-empty samples")
    return float(1.0 - ks_2samp(a, b).statistic)


@dataclass
class SplitHalfResult:
    """Outcome of :func:`split_half_by_animal`; per-split arrays have length n_splits."""
    raw: float
    ceiling: float
    error: float
    raw_per_split: np.ndarray
    ceiling_per_split: np.ndarray
    n_cells_a: np.ndarray
    n_cells_b: np.ndarray

    @property
    def ceiled(self) -> float:
        """raw / ceiling, not clipped."""
        return self.raw / self.ceiling

    def summary(self) -> dict:
        """JSON-serialisable summary of the per-split values."""
        def stats(values):
            values = np.asarray(values, dtype=float)
            return {"mean": float(values.mean()), "std": float(values.std()),
                    "min": float(values.min()), "max": float(values.max())}
        return {"n_splits": int(len(self.raw_per_split)),
                "raw": stats(self.raw_per_split), "ceiling": stats(self.ceiling_per_split),
                "n_cells_half_a": stats(self.n_cells_a), "n_cells_half_b": stats(self.n_cells_b)}


def split_half_by_animal(reference_values, reference_animals, model_values,
                         n_splits: int = 100, seed: int = 0) -> SplitHalfResult:
    """Raw similarity, ceiling and error of model values against animal-split halves.

    ``reference_values`` and ``reference_animals`` have one entry per cell;
    ``model_values`` one per model unit (NaNs dropped). Each split shuffles the
    distinct animals with ``numpy.random.default_rng(seed)``; half A is the
    first floor(n/2) animals, half B the rest. The model sample for a split has
    |A| values drawn with replacement from ``model_values``.
    """
    reference_values = np.asarray(reference_values, dtype=float)
    reference_animals = np.asarray(reference_animals)
    model_values = np.asarray(model_values, dtype=float)
    model_values = model_values[np.isfinite(model_values)]
    if reference_values.shape != reference_animals.shape or reference_values.ndim != 1:
        raise ValueError("reference_values and reference_animals must be 1-D and of the same length")
    if model_values.size == 0:
        raise ValueError("no finite model values to compare")
    animals = np.unique(reference_animals)
    if animals.size < 2:
        raise ValueError(f"a split by animal needs at least 2 animals, got {animals.size}")
    if n_splits < 1:
        raise ValueError(f"n_splits must be at least 1, got {n_splits}")
    rng = np.random.default_rng(seed)
    raw = np.empty(n_splits)
    ceiling = np.empty(n_splits)
    n_a = np.empty(n_splits, dtype=int)
    n_b = np.empty(n_splits, dtype=int)
    for split in range(n_splits):
        order = rng.permutation(animals)
        in_a = np.isin(reference_animals, order[: animals.size // 2])
        half_a, half_b = reference_values[in_a], reference_values[~in_a]
        sample = rng.choice(model_values, size=half_a.size, replace=True)
        ceiling[split] = ks_similarity(half_a, half_b)
        raw[split] = ks_similarity(sample, half_b)
        n_a[split], n_b[split] = half_a.size, half_b.size
    mean_ceiling = float(ceiling.mean())
    error = float(np.std(raw / mean_ceiling)) if mean_ceiling > 0 else float("nan")
    return SplitHalfResult(float(raw.mean()), mean_ceiling, error, raw, ceiling, n_a, n_b)
