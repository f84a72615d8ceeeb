"""Tests of topobench.metrics.selectivity: d' and t per unit and fLoc domain."""
import numpy as np
import pytest

from topobench.metrics.selectivity import (DOMAINS, T_PER_DPRIME_FULL_FLOC, bootstrap_weights, category_statistics,
                                           domain_selectivity, dprime, fixed_count_indices, selective_fractions,
                                           tstat)

CATEGORIES = [c for pair in DOMAINS.values() for c in pair]


def _floc_labels(per_category=144):
    return np.repeat(CATEGORIES, per_category)


def test_unit_responding_only_to_faces():
    rng = np.random.default_rng(0)
    labels = _floc_labels()
    faces = np.isin(labels, DOMAINS["faces"])
    responses = rng.normal(0.0, 0.1, size=(labels.size, 3))
    responses[faces, 0] += 1.0  # unit 0 responds to faces only
    selectivity = domain_selectivity(responses, labels)
    assert selectivity["faces"][0] > 3.0
    for domain in ("bodies", "characters", "places", "objects"):
        assert selectivity[domain][0] < -0.3
    # units 1 and 2 respond to nothing in particular
    assert all(abs(values[1:]).max() < 0.3 for values in selectivity.values())


def test_dprime_and_t_match_their_formulas():
    rng = np.random.default_rng(1)
    labels = _floc_labels(20)
    responses = rng.gamma(2.0, 1.0, size=(labels.size, 50))
    on = np.isin(labels, DOMAINS["places"])
    d = domain_selectivity(responses, labels)["places"]
    expected = (responses[on].mean(0) - responses[~on].mean(0)) / np.sqrt(
        (responses[on].var(0) + responses[~on].var(0)) / 2)
    np.testing.assert_allclose(d, expected, rtol=1e-10)
    np.testing.assert_allclose(dprime(responses[on], responses[~on]), expected, rtol=1e-10)
    t = domain_selectivity(responses, labels, measure="t", n_images_per_category=20)["places"]
    np.testing.assert_allclose(t, tstat(responses[on], responses[~on]), rtol=1e-10)


def test_t_grows_with_the_image_count_but_dprime_does_not():
    rng = np.random.default_rng(2)
    labels = _floc_labels()
    responses = rng.normal(size=(labels.size, 2000))
    responses[np.isin(labels, DOMAINS["faces"])] += 0.5
    d_all = domain_selectivity(responses, labels)["faces"].mean()
    t_36 = domain_selectivity(responses, labels, "t", n_images_per_category=36)["faces"].mean()
    t_144 = domain_selectivity(responses, labels, "t", n_images_per_category=144)["faces"].mean()
    assert d_all == pytest.approx(0.5, abs=0.03)
    assert t_144 / t_36 == pytest.approx(2.0, rel=0.1)  # sqrt(144 / 36)
    assert t_144 == pytest.approx(d_all * T_PER_DPRIME_FULL_FLOC, rel=0.05)


def test_fixed_count_needs_enough_images():
    labels = _floc_labels(10)
    assert fixed_count_indices(labels, 5).size == 50
    with pytest.raises(ValueError, match="needs 20 per category"):
        fixed_count_indices(labels, 20)
    with pytest.raises(ValueError, match="fixed n_images_per_category"):
        domain_selectivity(np.zeros((labels.size, 2)), labels, "t", n_images_per_category=None)


def test_constant_unit_and_missing_category():
    labels = _floc_labels(5)
    responses = np.zeros((labels.size, 2))
    responses[:, 1] = 3.0
    assert all(np.all(v == 0.0) for v in domain_selectivity(responses, labels).values())
    with pytest.raises(ValueError, match="corridor"):
        domain_selectivity(responses[labels != "corridor"], labels[labels != "corridor"])
    with pytest.raises(ValueError, match="unknown selectivity measure"):
        domain_selectivity(responses, labels, measure="z")


def test_scrambled_images_are_ignored():
    rng = np.random.default_rng(3)
    labels = _floc_labels(10)
    responses = rng.normal(size=(labels.size, 5))
    with_scrambled = np.concatenate([labels, np.repeat("scrambled", 10)])
    more = np.concatenate([responses, rng.normal(size=(10, 5)) + 100])
    a, b = domain_selectivity(responses, labels), domain_selectivity(more, with_scrambled)
    for domain in DOMAINS:
        np.testing.assert_allclose(a[domain], b[domain])


def test_bootstrap_weights_keep_each_category_count_and_match_resampling():
    rng = np.random.default_rng(4)
    labels = _floc_labels(12)
    weights = bootstrap_weights(labels, rng)
    for category in CATEGORIES:
        assert weights[labels == category].sum() == 12
    responses = rng.normal(size=(labels.size, 7))
    index = np.repeat(np.arange(labels.size), weights.astype(int))
    weighted = domain_selectivity(responses, labels, weights=weights)
    copied = domain_selectivity(responses[index], labels[index])
    for domain in DOMAINS:
        np.testing.assert_allclose(weighted[domain], copied[domain], rtol=1e-9)
    stats = category_statistics(responses, labels)
    assert stats["adult"][0] == 12


def test_selective_fractions():
    fractions = selective_fractions({"faces": np.array([0.0, 1.0, 2.0, 3.0])}, 1.5)
    assert fractions == {"faces": 0.5}
