"""Category RSMs built the way Nordt et al. (2023) built the human ones, and their comparison.

**The matrix** (DESIGN.md, "Human VTC RSA"). For each of ``n_splits`` random
splits of every category's images into two halves A and B (``seed``): the
mean response of each unit to each category's images in A, and in B; each
unit z-scored across the categories within each half; cell (i, j) = Pearson
correlation across units of category i's z-pattern in A and category j's in
B; symmetrised, (C + C^T) / 2. The diagonal is therefore split-half
reliability, as in the human matrices, not 1. The model's matrix is the mean
over splits (the model has no measurement noise to keep; averaging removes
the arbitrariness of one split). Units constant across categories in either
half of a split carry no pattern and are left out of that split.

**The comparison**: only the 45 cells above the diagonal, by Spearman rank
correlation. The Nordt2023 benchmark (version 2) scores a model as it scores one
more subject (``topobench.ceilings.HeldOutSubject``): ``raw`` = mean over subjects
s of corr(model, mean of the subjects other than s); the ceiling = mean over
subjects s of corr(subject s, mean of the other subjects)
(:func:`leave_one_out_ceiling`). A single held-out subject entered as a model
therefore lands at about 1 (1.00; 5th-95th percentile 0.89-1.08), and a model
with less noise than a subject can exceed it (the ceiled score is clipped at 1).
"""
from __future__ import annotations

import numpy as np
from scipy.stats import rankdata


def upper_cells(matrix) -> np.ndarray:
    """The cells above the diagonal of a square matrix, row by row (45 for 10 x 10)."""
    matrix = np.asarray(matrix, dtype=float)
    rows, cols = np.triu_indices(matrix.shape[-1], k=1)
    return matrix[..., rows, cols]


def spearman(a, b) -> float:
    """Spearman rank correlation of two vectors (average ranks for ties); NaN if one is constant."""
    ra, rb = rankdata(a), rankdata(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denominator = np.sqrt((ra * ra).sum() * (rb * rb).sum())
    return float((ra * rb).sum() / denominator) if denominator > 0 else float("nan")


def _zscore_rows_over_categories(patterns: np.ndarray):
    """patterns: (n_categories, n_units) -> z-scored per unit across categories, and the
    mask of units with non-zero spread."""
    mean = patterns.mean(axis=0, keepdims=True)
    std = patterns.std(axis=0, keepdims=True)
    ok = std[0] > 1e-12 * max(1.0, float(np.abs(patterns).max(initial=0.0)))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (patterns - mean) / np.where(std > 0, std, 1.0)
    return z, ok


def split_half_rsm(responses, categories, category_order, n_splits: int = 10, seed: int = 0,
                   return_splits: bool = False):
    """The split-half z-scored category RSM of ``responses`` (n_images, n_units).

    ``categories``: category label of each image; ``category_order``: the rows'
    order (every category needs at least 2 images). Returns the (n, n) mean over
    ``n_splits`` splits, and with ``return_splits`` also the (n_splits, n, n)
    stack and the number of units used per split.
    """
    responses = np.asarray(responses, dtype=np.float64)
    categories = np.asarray(categories)
    order = list(category_order)
    indices = []
    for category in order:
        found = np.flatnonzero(categories == category)
        if found.size < 2:
            raise ValueError(f"category '{category}' has {found.size} image(s); a split-half RSM needs 2 or more")
        indices.append(found)
    rng = np.random.default_rng(seed)
    matrices, n_units = [], []
    for _ in range(int(n_splits)):
        half_a, half_b = [], []
        for found in indices:
            permuted = rng.permutation(found)
            middle = permuted.size // 2
            half_a.append(responses[permuted[:middle]].mean(axis=0))
            half_b.append(responses[permuted[middle:2 * middle]].mean(axis=0))
        z_a, ok_a = _zscore_rows_over_categories(np.stack(half_a))
        z_b, ok_b = _zscore_rows_over_categories(np.stack(half_b))
        keep = ok_a & ok_b
        if keep.sum() < 2:
            raise ValueError("fewer than 2 units vary across categories; no RSM can be built")
        a, b = z_a[:, keep], z_b[:, keep]
        a = a - a.mean(axis=1, keepdims=True)
        b = b - b.mean(axis=1, keepdims=True)
        a /= np.linalg.norm(a, axis=1, keepdims=True)
        b /= np.linalg.norm(b, axis=1, keepdims=True)
        cross = a @ b.T
        matrices.append((cross + cross.T) / 2.0)
        n_units.append(int(keep.sum()))
    stack = np.stack(matrices)
    if return_splits:
        return stack.mean(axis=0), stack, n_units
    return stack.mean(axis=0)


def subject_correlations(model_matrix, subject_matrices) -> np.ndarray:
    """Spearman correlation of the model's 45 off-diagonal cells with each subject's."""
    model_cells = upper_cells(model_matrix)
    return np.array([spearman(model_cells, cells) for cells in upper_cells(subject_matrices)])


def leave_one_out_correlations(subject_matrices) -> np.ndarray:
    """For each subject, Spearman correlation of its 45 cells with the mean of the others'."""
    cells = upper_cells(subject_matrices)
    n = cells.shape[0]
    if n < 2:
        raise ValueError("a leave-one-subject-out ceiling needs 2 or more subjects")
    total = cells.sum(axis=0)
    return np.array([spearman(cells[i], (total - cells[i]) / (n - 1)) for i in range(n)])


def leave_one_out_ceiling(subject_matrices) -> float:
    """Mean over subjects of :func:`leave_one_out_correlations`."""
    return float(np.mean(leave_one_out_correlations(subject_matrices)))
