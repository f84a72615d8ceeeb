"""Split-half noise ceilings: Spearman-Brown, NaN-padded repeats, known reliabilities."""
import numpy as np
import pytest

from topobench.metrics.noise_ceiling import (ceiling_of_r, duplicate_reliability, spearman_brown,
                                             split_half_correlations, split_half_reliability)


def _simulated_repeats(n_images=600, n_neurons=20, counts=(8,), signal_sd=1.0, noise_sd=2.0, seed=0):
    """Gaussian signal plus independent noise per repeat; NaN past each image's count."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(0.0, signal_sd, size=(n_images, n_neurons))
    per_image = rng.choice(np.asarray(counts), size=n_images)
    max_count = int(per_image.max())
    values = signal[:, :, None] + rng.normal(0.0, noise_sd, size=(n_images, n_neurons, max_count))
    missing = np.arange(max_count)[None, :] >= per_image[:, None]  # (images, repetitions)
    values[np.broadcast_to(missing[:, None, :], values.shape)] = np.nan
    return values, signal, per_image


def test_spearman_brown_and_ceiling():
    assert spearman_brown(0.5) == pytest.approx(2 / 3)
    assert spearman_brown(0.0) == 0.0 and spearman_brown(1.0) == 1.0
    assert spearman_brown(0.25, factor=3) == pytest.approx(0.5)
    assert np.allclose(ceiling_of_r([0.64, 0.0, -0.2]), [0.8, 0.0, 0.0])


def test_reliability_matches_theory():
    # reliability of the mean of n repeats: s^2 / (s^2 + noise^2 / n)
    values, _, _ = _simulated_repeats(counts=(8,), signal_sd=1.0, noise_sd=2.0)
    result = split_half_reliability(values, n_splits=50, seed=0)
    expected = 1.0 / (1.0 + 4.0 / 8)
    assert result["reliability"].mean() == pytest.approx(expected, abs=0.02)
    assert np.allclose(result["ceiling"], np.sqrt(result["reliability"]))


def test_ceiling_bounds_a_perfect_predictor_with_unequal_repeat_counts():
    # 6 to 10 repeats per image, as in session 210325: the noise-free signal correlates
    # with the repeat average at about the ceiling, not above
    values, signal, _ = _simulated_repeats(n_images=800, n_neurons=30, counts=(6, 7, 8, 9, 10), noise_sd=2.5)
    ceiling = split_half_reliability(values, n_splits=50, seed=1)["ceiling"]
    average = np.nanmean(values, axis=2)
    r = np.array([np.corrcoef(signal[:, k], average[:, k])[0, 1] for k in range(signal.shape[1])])
    assert np.mean(r / ceiling) == pytest.approx(1.0, abs=0.02)


def test_halves_use_only_present_repeats():
    values, _, counts = _simulated_repeats(n_images=50, n_neurons=3, counts=(2, 3, 5))
    per_split = split_half_correlations(values, n_splits=5, seed=0)
    assert per_split.shape == (5, 3) and np.isfinite(per_split).all()
    assert counts.min() == 2


def test_same_seed_same_result_and_splits_differ():
    values, _, _ = _simulated_repeats(n_images=200, n_neurons=5)
    first = split_half_correlations(values, n_splits=4, seed=3)
    assert np.array_equal(first, split_half_correlations(values, n_splits=4, seed=3))
    assert not np.allclose(first[0], first[1])


def test_bad_repeats_are_refused():
    values, _, _ = _simulated_repeats(n_images=20, n_neurons=3, counts=(4,))
    single = values.copy()
    single[0, :, 1:] = np.nan
    with pytest.raises(ValueError, match="fewer than 2"):
        split_half_correlations(single, n_splits=2)
    ragged = values.copy()
    ragged[0, 0, 3] = np.nan
    with pytest.raises(ValueError, match="same repeats"):
        split_half_correlations(ragged, n_splits=2)
    with pytest.raises(ValueError, match="images, neurons, repetitions"):
        split_half_correlations(values[:, :, 0], n_splits=2)


def test_duplicate_reliability():
    rng = np.random.default_rng(0)
    signal = rng.normal(size=(300, 4))
    first = signal + rng.normal(0.0, 1.0, size=signal.shape)
    second = signal + rng.normal(0.0, 1.0, size=signal.shape)
    responses = np.concatenate([first, second])
    pairs = np.stack([np.arange(300), np.arange(300) + 300], axis=1)
    result = duplicate_reliability(responses, pairs)
    assert result["n_pairs"] == 300
    assert result["reliability"].mean() == pytest.approx(0.5, abs=0.06)
    with pytest.raises(ValueError):
        duplicate_reliability(responses, pairs[:2])


def test_session_210325_ceilings(data_host):
    from topobench.reference_data.cowley2023 import cowley2023_repeats

    result = split_half_reliability(cowley2023_repeats("210325").values, n_splits=100, seed=0)
    assert result["ceiling"].mean() == pytest.approx(0.8596, abs=0.001)
    assert 0.7 < result["ceiling"].min() and result["ceiling"].max() < 0.97
