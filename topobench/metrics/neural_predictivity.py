"""Held-out neural predictivity: cross-validated linear maps from model features to neurons.

For ``features`` (images x units) and ``responses`` (images x neurons), images
are split into ``n_folds`` folds grouped by image content (``groups``: images
of one group, e.g. byte-identical repeats or near-copies, always fall in the same
fold), with a fixed ``seed``. For each fold a linear map is fitted on the other
folds and predicts the held-out images; the score of a neuron is the Pearson r
between its responses and its held-out predictions within each fold, averaged
over folds (as Brain-Score's cross-regressed correlation). Pooling the held-out
predictions of all folds into one r instead would give a model that predicts
nothing a negative r (about -0.08 here): each fold's prediction is the mean of
the other folds, which is anti-correlated with the held-out fold's mean. The
pooled r is kept as ``r_pooled``.

Two maps:

- ``ridge``: ridge regression with an intercept (features and responses centred
  on the training images). Each neuron's penalty is chosen by an inner grouped
  cross-validation (``inner_folds``) on the training images only, by the
  smallest held-out squared error, from a grid of ``alpha_grid`` factors times
  the mean non-zero eigenvalue of the training features' scatter matrix
  (scale-free: the same grid suits any feature scale). One decomposition per
  outer fold serves every penalty, every neuron and the inner folds (whose
  held-out errors follow exactly from the block-deletion formula, without
  refitting).
- ``pls``: partial least squares with ``n_components`` (25, as Brain-Score's
  ``pls_metric``), one model for all neurons, ``scale=False``
  (``sklearn.cross_decomposition.PLSRegression``).

Fold assignment (:func:`grouped_folds`): groups are shuffled with ``seed`` and
dealt, largest first, to the currently smallest fold, so folds are balanced in
images and no group is split.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Ridge penalties tried, as factors of the mean non-zero eigenvalue of X'X.
ALPHA_GRID = tuple(float(f) for f in 10.0 ** np.arange(-4.0, 4.01, 0.5))
METHODS = ("ridge", "pls")


def grouped_folds(groups, n_folds: int, seed: int) -> np.ndarray:
    """Fold index (0..n_folds-1) of every sample; samples of one group share a fold."""
    groups = np.asarray(groups)
    unique, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    if len(unique) < n_folds:
        raise ValueError(f"{len(unique)} image groups cannot make {n_folds} folds")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(unique))
    # largest groups first (stable, so ties keep the random order)
    order = order[np.argsort(-counts[order], kind="stable")]
    sizes = np.zeros(n_folds, dtype=int)
    fold_of_group = np.empty(len(unique), dtype=int)
    for g in order:
        fold = int(np.argmin(sizes))  # the smallest fold, lowest index on ties
        fold_of_group[g] = fold
        sizes[fold] += counts[g]
    return fold_of_group[inverse]


def pearson_per_column(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson r between matching columns of ``a`` and ``b`` (NaN where one is constant)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    denominator = np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a * b).sum(axis=0) / denominator
    return np.where(denominator > 0, r, np.nan)


class _RidgeFit:
    """Ridge fits of one training set (with an unpenalised intercept) for any penalty.

    One decomposition of the centred training features: the SVD when there are
    fewer units than images, else the eigendecomposition of the centred Gram
    matrix (images x images). With ``U`` the left singular vectors and ``lam``
    the eigenvalues of X'X, the fitted values are ``y_mean + U diag(lam / (lam +
    alpha)) U' y_c`` and a new image ``x`` is predicted as ``y_mean + (x - x_mean)
    X_c' U diag(1 / (lam + alpha)) U' y_c``.
    """

    def __init__(self, X: np.ndarray, Y: np.ndarray):
        self.x_mean = X.mean(axis=0)
        self.y_mean = Y.mean(axis=0)
        Xc = X - self.x_mean
        Yc = Y - self.y_mean
        if X.shape[1] < X.shape[0]:
            # eigendecomposition of the units x units scatter (3x faster than the SVD of Xc at
            # 1,080 x 999; the same fit to ~1e-12); U = Xc V / sqrt(lam) and Xc' U = V sqrt(lam)
            lam, V = np.linalg.eigh(Xc.T @ Xc)
            lam, V = lam[::-1], V[:, ::-1]
            keep = lam > max(float(lam.max(initial=0.0)), 0.0) * 1e-10
            lam, V = lam[keep], V[:, keep]
            root = np.sqrt(lam)
            U, self.XtU = (Xc @ V) / root, V * root
        else:
            lam, U = np.linalg.eigh(Xc @ Xc.T)
            lam, U = lam[::-1], U[:, ::-1]
            keep = lam > max(float(lam.max(initial=0.0)), 0.0) * 1e-10
            lam, U = lam[keep], U[:, keep]
            self.XtU = Xc.T @ U  # (units, rank)
        self.lam, self.U = lam, U
        self.UtY = self.U.T @ Yc  # (rank, neurons)
        self.residual_base = Yc  # fitted values are U diag(.) UtY; residuals = Yc - that

    @property
    def scale(self) -> float:
        """Mean non-zero eigenvalue of the centred X'X."""
        return float(np.mean(self.lam)) if self.lam.size else 1.0

    def _test_projection(self, X_test: np.ndarray) -> np.ndarray:
        return (X_test - self.x_mean) @ self.XtU  # (n_test, rank)

    def predict_per_target(self, X_test: np.ndarray, alpha_per_target: np.ndarray) -> np.ndarray:
        weights = 1.0 / (self.lam[:, None] + alpha_per_target[None, :])  # (rank, neurons)
        return self._test_projection(X_test) @ (weights * self.UtY) + self.y_mean

    def block_cv_errors(self, folds: np.ndarray, n_folds: int, alphas: np.ndarray) -> np.ndarray:
        """(len(alphas), neurons) summed squared errors of a grouped k-fold CV on the
        training images, computed exactly without refitting: deleting a block F from
        a penalised least-squares fit leaves residuals ``(I - H_FF)^-1 r_F``
        (H: hat matrix including the intercept, r: residuals of the full fit)."""
        n = self.U.shape[0]
        errors = np.zeros((len(alphas), self.UtY.shape[1]))
        from scipy.linalg import cho_factor, cho_solve
        blocks = [np.flatnonzero(folds == f) for f in range(n_folds)]
        U_blocks = [self.U[block] for block in blocks]
        for k, alpha in enumerate(alphas):
            shrink = self.lam / (self.lam + alpha)
            residuals = self.residual_base - self.U @ (shrink[:, None] * self.UtY)
            for block, U_block in zip(blocks, U_blocks):
                # I - H_FF is symmetric positive definite (H's eigenvalues lie in [0, 1)): Cholesky
                kept = np.eye(len(block)) - (U_block * shrink) @ U_block.T - 1.0 / n
                deleted = cho_solve(cho_factor(kept, lower=True, check_finite=False), residuals[block],
                                    check_finite=False)
                errors[k] += (deleted ** 2).sum(axis=0)
        return errors


def inner_cv_errors(X_train, Y_train, groups_train, inner_folds: int, seed: int, alpha_grid=ALPHA_GRID,
                    refit: bool = False) -> tuple[np.ndarray, np.ndarray, "_RidgeFit"]:
    """(alphas, summed squared errors (alphas, neurons), the fit on all training images)
    of the inner grouped CV; ``refit=True`` refits every inner split (slow; for checking)."""
    fit = _RidgeFit(X_train, Y_train)
    alphas = fit.scale * np.asarray(alpha_grid, dtype=np.float64)
    inner = grouped_folds(groups_train, inner_folds, seed)
    if not refit:
        return alphas, fit.block_cv_errors(inner, inner_folds, alphas), fit
    errors = np.zeros((len(alphas), Y_train.shape[1]))
    for fold in range(inner_folds):
        test = inner == fold
        inner_fit = _RidgeFit(X_train[~test], Y_train[~test])
        for k, alpha in enumerate(alphas):
            predictions = inner_fit.predict_per_target(X_train[test], np.full(Y_train.shape[1], alpha))
            errors[k] += ((predictions - Y_train[test]) ** 2).sum(axis=0)
    return alphas, errors, fit


def ridge_fold(X_train, Y_train, groups_train, X_test, inner_folds: int, seed: int,
               alpha_grid=ALPHA_GRID) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predictions for ``X_test`` with per-neuron penalties chosen by inner grouped CV.

    Returns (predictions, chosen alpha per neuron, chosen grid index per neuron).
    The inner CV errors equal those of refitting on each inner training split
    (same absolute penalties; checked in tests/test_neural_predictivity.py).
    """
    alphas, errors, fit = inner_cv_errors(X_train, Y_train, groups_train, inner_folds, seed, alpha_grid)
    best = np.argmin(errors, axis=0)  # first (smallest) penalty on ties
    chosen = alphas[best]
    return fit.predict_per_target(X_test, chosen), chosen, best


def pls_fold(X_train, Y_train, X_test, n_components: int) -> np.ndarray:
    from sklearn.cross_decomposition import PLSRegression

    n_components = int(min(n_components, X_train.shape[0] - 1, X_train.shape[1]))
    model = PLSRegression(n_components=n_components, scale=False)
    model.fit(X_train, Y_train)
    return np.asarray(model.predict(X_test)).reshape(X_test.shape[0], -1)


@dataclass
class PredictivityResult:
    """Held-out predictions and per-neuron Pearson r of one cross-validated fit."""
    r: np.ndarray  # (neurons,) mean over folds of the held-out r
    predictions: np.ndarray  # (images, neurons), each from the fold that held the image out
    folds: np.ndarray  # (images,)
    method: str
    r_per_fold: np.ndarray  # (folds, neurons)
    r_pooled: np.ndarray  # (neurons,) r over all held-out predictions pooled
    details: dict = field(default_factory=dict)

    def summary(self) -> dict:
        finite = self.r[np.isfinite(self.r)]
        return {"method": self.method, "mean_r": float(finite.mean()) if finite.size else float("nan"),
                "median_r": float(np.median(finite)) if finite.size else float("nan"),
                "n_neurons": int(self.r.size), "n_images": int(self.folds.size), **self.details}


def neural_predictivity(features, responses, groups=None, method: str = "ridge", n_folds: int = 10,
                        seed: int = 0, inner_folds: int = 5, alpha_grid=ALPHA_GRID,
                        n_components: int = 25) -> PredictivityResult:
    """Cross-validated held-out Pearson r per neuron (see the module docstring).

    ``features``: (images, units); ``responses``: (images, neurons); ``groups``:
    image-content group per image (default: every image its own group).
    """
    if method not in METHODS:
        raise ValueError(f"unknown method '{method}'; choose from {', '.join(METHODS)}")
    X = np.asarray(features, dtype=np.float64)
    Y = np.asarray(responses, dtype=np.float64)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0]:
        raise ValueError(f"features {X.shape} and responses {Y.shape} must be (images, units) and "
                         f"(images, neurons) with the same images")
    if not (np.isfinite(X).all() and np.isfinite(Y).all()):
        raise ValueError("features and responses must be finite")
    groups = np.arange(X.shape[0]) if groups is None else np.asarray(groups)
    folds = grouped_folds(groups, n_folds, seed)
    predictions = np.empty_like(Y)
    chosen = np.empty((n_folds, Y.shape[1]))
    chosen_index = np.empty((n_folds, Y.shape[1]), dtype=int)
    inner_seeds = np.random.SeedSequence([seed, 1]).generate_state(n_folds)
    for fold in range(n_folds):
        test = folds == fold
        if method == "ridge":
            predictions[test], chosen[fold], chosen_index[fold] = ridge_fold(
                X[~test], Y[~test], groups[~test], X[test], inner_folds, int(inner_seeds[fold]), alpha_grid)
        else:
            predictions[test] = pls_fold(X[~test], Y[~test], X[test], n_components)
    details = {"n_folds": int(n_folds), "seed": int(seed),
               "n_groups": int(len(np.unique(groups))),
               "fold_sizes": np.bincount(folds, minlength=n_folds).tolist()}
    if method == "ridge":
        grid = np.asarray(alpha_grid)
        details.update({
            "inner_folds": int(inner_folds),
            "alpha_grid_factors": grid.tolist(),
            "alpha_factor_median": float(np.median(grid[chosen_index])),
            "alpha_at_grid_edge_fraction": float(np.mean((chosen_index == 0) | (chosen_index == len(grid) - 1))),
        })
    else:
        details["n_components"] = int(min(n_components, X.shape[1]))
    r_per_fold = np.stack([pearson_per_column(Y[folds == fold], predictions[folds == fold])
                           for fold in range(n_folds)])
    with np.errstate(invalid="ignore"):
        r = np.nanmean(r_per_fold, axis=0) if np.isfinite(r_per_fold).any() else np.full(Y.shape[1], np.nan)
    return PredictivityResult(r, predictions, folds, method, r_per_fold, pearson_per_column(Y, predictions),
                              details)
