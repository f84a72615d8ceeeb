"""Noise ceilings of neurons from repeated presentations.

**Split-half reliability** (:func:`split_half_reliability`): for each of
``n_splits`` random splits (``seed``), the repeats of every image are shuffled
and split into two halves as equal as possible (an odd count gives one more
repeat to the second half); each half is averaged per image, and each neuron's
two half-means are correlated (Pearson) across images. The correlations are
averaged over splits and corrected to the full number of repeats with the
Spearman-Brown formula ``2 r / (1 + r)``: the reliability of the repeat
average, i.e. the correlation to expect between two independent repeat averages
of the same neuron.

**Ceiling of a Pearson r** (:func:`ceiling_of_r`): a noise-free predictor of a
neuron correlates with its repeat average at most ``sqrt(reliability)`` in
expectation, the ceiling used per neuron (negative reliabilities give 0).

**Duplicated images** (:func:`duplicate_reliability`): where the same image was
shown as two separate stimuli, each with its own repeat average (Cowley 2023
session 190925), the correlation of the two averages across such images is the
reliability of one repeat average directly (no Spearman-Brown step).
"""
from __future__ import annotations

import numpy as np

from topobench.metrics.neural_predictivity import pearson_per_column


def spearman_brown(r, factor: float = 2.0):
    """Reliability of a measurement ``factor`` times as long as one with reliability ``r``."""
    r = np.asarray(r, dtype=np.float64)
    return factor * r / (1.0 + (factor - 1.0) * r)


def ceiling_of_r(reliability):
    """Ceiling of a Pearson r against a repeat average of this reliability: sqrt, floored at 0."""
    return np.sqrt(np.clip(np.asarray(reliability, dtype=np.float64), 0.0, None))


def split_half_correlations(repeats: np.ndarray, n_splits: int = 100, seed: int = 0) -> np.ndarray:
    """(n_splits, neurons) correlations between half-means of the repeats.

    ``repeats``: (images, neurons, repetitions) with NaN for missing repeats; an
    image's repeats must be present for all neurons alike and it needs at least 2.
    """
    values = np.asarray(repeats, dtype=np.float64)
    if values.ndim != 3:
        raise ValueError(f"repeats must be (images, neurons, repetitions), got shape {values.shape}")
    present = ~np.isnan(values[:, 0, :])  # (images, repetitions)
    if not (np.isnan(values) == ~present[:, None, :]).all():
        raise ValueError("every neuron must have the same repeats of an image")
    counts = present.sum(axis=1)
    if (counts < 2).any():
        raise ValueError(f"{int((counts < 2).sum())} images have fewer than 2 repeats")
    n_images, n_neurons, n_repetitions = values.shape
    # repeats of each image moved to the front (NaNs last), so that repeat k < count is valid
    order = np.argsort(~present, axis=1, kind="stable")
    packed = np.take_along_axis(values, order[:, None, :], axis=2)
    filled = np.nan_to_num(packed)
    rng = np.random.default_rng(seed)
    out = np.empty((n_splits, n_neurons))
    position = np.arange(n_repetitions)[None, :]
    half = counts // 2
    for split in range(n_splits):
        # a random permutation of each image's valid repeats: sort random keys, invalid ones last
        keys = rng.random((n_images, n_repetitions))
        keys[position >= counts[:, None]] = np.inf
        permutation = np.argsort(keys, axis=1)
        rank = np.empty_like(permutation)
        np.put_along_axis(rank, permutation, np.broadcast_to(position, permutation.shape).copy(), axis=1)
        first = (rank < half[:, None]) & (position < counts[:, None])
        second = (rank >= half[:, None]) & (position < counts[:, None])
        mean_first = (filled * first[:, None, :]).sum(axis=2) / first.sum(axis=1)[:, None]
        mean_second = (filled * second[:, None, :]).sum(axis=2) / second.sum(axis=1)[:, None]
        out[split] = pearson_per_column(mean_first, mean_second)
    return out


def split_half_reliability(repeats: np.ndarray, n_splits: int = 100, seed: int = 0) -> dict:
    """Per-neuron split-half reliability of the repeat average (Spearman-Brown corrected).

    Returns ``{'half_r': (neurons,) mean over splits of the half-mean correlation,
    'half_r_std': its std over splits, 'reliability': spearman_brown(half_r),
    'ceiling': sqrt(reliability)}``.
    """
    per_split = split_half_correlations(repeats, n_splits, seed)
    half_r = per_split.mean(axis=0)
    reliability = spearman_brown(half_r)
    return {"half_r": half_r, "half_r_std": per_split.std(axis=0), "reliability": reliability,
            "ceiling": ceiling_of_r(reliability)}


def duplicate_reliability(responses: np.ndarray, pairs: np.ndarray) -> dict:
    """Per-neuron reliability from images shown twice as separate stimuli.

    ``responses``: (images, neurons) repeat averages; ``pairs``: (k, 2) row
    indices of the two presentations of each duplicated image.
    """
    responses = np.asarray(responses, dtype=np.float64)
    pairs = np.asarray(pairs, dtype=int)
    if pairs.ndim != 2 or pairs.shape[1] != 2 or len(pairs) < 3:
        raise ValueError("need at least 3 pairs of duplicated images")
    reliability = pearson_per_column(responses[pairs[:, 0]], responses[pairs[:, 1]])
    return {"reliability": reliability, "ceiling": ceiling_of_r(reliability), "n_pairs": int(len(pairs))}
