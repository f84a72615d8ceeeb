"""Cross-validated neural predictivity: a simulated ground truth with Poisson spike
counts at the data's repeat counts scores near 1 after the noise ceiling (not
clearly above), features on shuffled images near 0, identical across runs;
grouped folds; the fast inner CV equals refitting."""
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from topobench.metrics.neural_predictivity import (_RidgeFit, grouped_folds, inner_cv_errors,
                                                   neural_predictivity, pearson_per_column)
from topobench.metrics.noise_ceiling import split_half_reliability

#: Repeats per image in session 210325 (count: number of images), 640 images.
REPEAT_COUNTS_210325 = {6: 36, 7: 261, 8: 294, 9: 45, 10: 4}


@pytest.fixture(scope="module", autouse=True)
def _one_blas_thread():
    with threadpool_limits(limits=1):
        yield


def simulate(seed: int, n_images=640, n_neurons=50, n_features=20, mean_rate=2.4, signal_sd=(0.3, 1.0)):
    """Neurons whose rate is a linear function of the features (about 2.4 spikes per
    bin, as in 210325), Poisson spike counts at 210325's repeat counts.

    Returns features, repeat-averaged responses, and repeats (images, neurons, 10) NaN-padded.
    """
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n_images, n_features))
    weights = rng.normal(size=(n_features, n_neurons))
    weights *= rng.uniform(*signal_sd, size=n_neurons) / np.linalg.norm(weights, axis=0)
    rates = np.clip(mean_rate + features @ weights, 0.0, None)  # clipping is rare (>3 sd)
    counts = rng.permutation(np.repeat(list(REPEAT_COUNTS_210325), list(REPEAT_COUNTS_210325.values())))
    counts = counts[:n_images]
    repeats = np.full((n_images, n_neurons, 10), np.nan)
    for image, count in enumerate(counts):
        repeats[image, :, :count] = rng.poisson(rates[image][:, None], size=(n_neurons, count))
    return features, np.nanmean(repeats, axis=2), repeats


@pytest.fixture(scope="module")
def simulation():
    return simulate(seed=0)


def test_ground_truth_scores_near_one_after_ceiling(simulation):
    features, responses, repeats = simulation
    ceiling = split_half_reliability(repeats, n_splits=50, seed=0)["ceiling"]
    result = neural_predictivity(features, responses, method="ridge", seed=0)
    ceiled = np.mean(result.r / ceiling)
    assert 0.95 < ceiled < 1.02, ceiled  # measured 0.989
    assert result.details["alpha_at_grid_edge_fraction"] < 0.1


def test_ground_truth_scores_near_one_with_pls(simulation):
    features, responses, repeats = simulation
    ceiling = split_half_reliability(repeats, n_splits=50, seed=0)["ceiling"]
    result = neural_predictivity(features, responses, method="pls", seed=0)
    assert 0.95 < np.mean(result.r / ceiling) < 1.02


def test_ground_truth_among_many_features_is_still_found():
    # the signal lives in 20 of 300 features with a decaying spectrum, as PCA features do
    features, responses, repeats = simulate(seed=1)
    rng = np.random.default_rng(1)
    extra = rng.normal(size=(features.shape[0], 280)) * np.linspace(1.0, 0.05, 280)
    ceiling = split_half_reliability(repeats, n_splits=50, seed=0)["ceiling"]
    result = neural_predictivity(np.concatenate([features, extra], axis=1), responses, seed=0)
    assert 0.85 < np.mean(result.r / ceiling) < 1.02


def test_shuffled_images_score_near_zero(simulation):
    features, responses, _ = simulation
    shuffled = features[np.random.default_rng(5).permutation(len(features))]
    for method in ("ridge", "pls"):
        result = neural_predictivity(shuffled, responses, method=method, seed=0)
        assert abs(np.mean(result.r)) < 0.03, (method, np.mean(result.r))
    # pooling all held-out predictions would bias a null model negative
    assert np.mean(neural_predictivity(shuffled, responses, seed=0).r_pooled) < -0.03


def test_identical_across_runs(simulation):
    features, responses, _ = simulation
    groups = np.arange(len(features)) // 2
    first = neural_predictivity(features, responses, groups, seed=4)
    second = neural_predictivity(features, responses, groups, seed=4)
    assert np.array_equal(first.r, second.r) and np.array_equal(first.predictions, second.predictions)
    other_seed = neural_predictivity(features, responses, groups, seed=5)
    assert not np.array_equal(first.folds, other_seed.folds)


def test_groups_stay_in_one_fold():
    groups = np.concatenate([np.arange(300), np.arange(300), np.arange(300, 640)])  # 300 images shown twice
    folds = grouped_folds(groups, 10, seed=0)
    assert (folds[:300] == folds[300:600]).all()
    sizes = np.bincount(folds, minlength=10)
    assert sizes.sum() == 940 and sizes.max() - sizes.min() <= 2
    assert np.array_equal(folds, grouped_folds(groups, 10, seed=0))
    with pytest.raises(ValueError, match="groups"):
        grouped_folds(np.zeros(50, dtype=int), 10, seed=0)


def test_held_out_images_were_not_fitted():
    # a neuron that copies one image's feature noise: memorising it must not help held-out images
    rng = np.random.default_rng(0)
    features = rng.normal(size=(200, 400))
    responses = rng.normal(size=(200, 3))
    result = neural_predictivity(features, responses, seed=0)
    assert abs(np.mean(result.r)) < 0.1
    assert set(np.unique(result.folds)) == set(range(10))


def test_fast_inner_cv_equals_refitting():
    rng = np.random.default_rng(2)
    for n_images, n_units in [(120, 30), (100, 250)]:
        X = rng.normal(size=(n_images, n_units))
        Y = X[:, :4] @ rng.normal(size=(4, 6)) + rng.normal(size=(n_images, 6)) * 2
        groups = np.arange(n_images) // 3
        alphas, fast, _ = inner_cv_errors(X, Y, groups, 5, seed=1)
        _, slow, _ = inner_cv_errors(X, Y, groups, 5, seed=1, refit=True)
        assert np.allclose(fast, slow, rtol=1e-9, atol=0)


def test_ridge_fit_equals_sklearn():
    from sklearn.linear_model import Ridge
    rng = np.random.default_rng(3)
    for n_units in (20, 300):
        X = rng.normal(size=(150, n_units))
        Y = rng.normal(size=(150, 4))
        fit = _RidgeFit(X[:120], Y[:120])
        ours = fit.predict_per_target(X[120:], np.full(4, 7.0))
        theirs = Ridge(alpha=7.0).fit(X[:120], Y[:120]).predict(X[120:])
        assert np.allclose(ours, theirs, atol=1e-10)


def test_pearson_and_bad_input():
    a = np.array([[1.0, 2.0], [2.0, 2.0], [3.0, 2.0]])
    r = pearson_per_column(a, a)
    assert r[0] == pytest.approx(1.0) and np.isnan(r[1])
    with pytest.raises(ValueError, match="same images"):
        neural_predictivity(np.zeros((10, 3)), np.zeros((9, 2)))
    with pytest.raises(ValueError, match="method"):
        neural_predictivity(np.zeros((10, 3)), np.zeros((10, 2)), method="lasso")
    with pytest.raises(ValueError, match="finite"):
        neural_predictivity(np.full((20, 3), np.nan), np.zeros((20, 2)))
