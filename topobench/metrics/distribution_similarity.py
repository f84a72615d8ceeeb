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
The halves depend on ``seed`` and the animals only (a second generator, spawned
from the same seed, draws the model samples), so every model meets the same
halves and the ceiling does not depend on the model.
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


def _check_reference(reference_values, reference_animals):
    reference_values = np.asarray(reference_values, dtype=float)
    reference_animals = np.asarray(reference_animals)
    if reference_values.shape != reference_animals.shape or reference_values.ndim != 1:
        raise ValueError("reference_values and reference_animals must be 1-D and of the same length")
    if np.unique(reference_animals).size < 2:
        raise ValueError(f"a split by animal needs at least 2 animals, got {np.unique(reference_animals).size}")
    return reference_values, reference_animals


def _generators(seed: int):
    """Independent generators for the animal splits and for the model samples, so
    that the halves (and the ceiling) depend on ``seed`` only, not on the model."""
    split_seed, sample_seed = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(split_seed), np.random.default_rng(sample_seed)


def animal_splits(reference_animals, n_splits: int = 100, seed: int = 0) -> np.ndarray:
    """Boolean array (n_splits, n_cells): True where a cell is in half A of that split.

    Each split shuffles the distinct animals; half A holds the first floor(n/2)
    of them, half B the rest.
    """
    reference_animals = np.asarray(reference_animals)
    if n_splits < 1:
        raise ValueError(f"n_splits must be at least 1, got {n_splits}")
    animals = np.unique(reference_animals)
    split_rng, _ = _generators(seed)
    in_a = np.empty((n_splits, reference_animals.size), dtype=bool)
    for split in range(n_splits):
        order = split_rng.permutation(animals)
        in_a[split] = np.isin(reference_animals, order[: animals.size // 2])
    return in_a


def split_half_ceiling(reference_values, reference_animals, n_splits: int = 100,
                       seed: int = 0) -> np.ndarray:
    """ks_similarity(half A, half B) per split: the ceiling_s of :func:`split_half_by_animal`."""
    reference_values, reference_animals = _check_reference(reference_values, reference_animals)
    return np.array([ks_similarity(reference_values[in_a], reference_values[~in_a])
                     for in_a in animal_splits(reference_animals, n_splits, seed)])


def split_half_by_animal(reference_values, reference_animals, model_values,
                         n_splits: int = 100, seed: int = 0) -> SplitHalfResult:
    """Raw similarity, ceiling and error of model values against animal-split halves.

    ``reference_values`` and ``reference_animals`` have one entry per cell;
    ``model_values`` one per model unit (NaNs dropped). The halves come from
    :func:`animal_splits` (they depend on ``seed`` and the animals only, so every
    model is compared with the same halves); the model sample of a split has
    |A| values drawn with replacement from ``model_values`` by a second
    generator derived from the same ``seed``.
    """
    reference_values, reference_animals = _check_reference(reference_values, reference_animals)
    model_values = np.asarray(model_values, dtype=float).ravel()
    model_values = model_values[np.isfinite(model_values)]
    if model_values.size == 0:
        raise ValueError("no finite model values to compare")
    splits = animal_splits(reference_animals, n_splits, seed)
    _, sample_rng = _generators(seed)
    raw = np.empty(n_splits)
    ceiling = np.empty(n_splits)
    n_a = splits.sum(axis=1)
    n_b = splits.shape[1] - n_a
    for split, in_a in enumerate(splits):
        half_a, half_b = reference_values[in_a], reference_values[~in_a]
        sample = sample_rng.choice(model_values, size=half_a.size, replace=True)
        ceiling[split] = ks_similarity(half_a, half_b)
        raw[split] = ks_similarity(sample, half_b)
    mean_ceiling = float(ceiling.mean())
    error = float(np.std(raw / mean_ceiling)) if mean_ceiling > 0 else float("nan")
    return SplitHalfResult(float(raw.mean()), mean_ceiling, error, raw, ceiling, n_a, n_b)
