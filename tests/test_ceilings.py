"""The named ceilings (topobench.ceilings) on synthetic data: each computes the model's side
against the same targets as its individuals, so that a held-out individual lands at about 1."""
import numpy as np
import pytest

from topobench.ceilings import (HeldOutSubject, PublishedClaims, SiteAgainstSite, SplitByAnimal,
                                SplitHalfReliability, repeat_halves)
from topobench.metrics.neural_predictivity import neural_predictivity
from topobench.metrics.rsa import spearman


def test_held_out_subject_targets_are_the_means_of_the_others():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(6, 45))
    ceiling = HeldOutSubject(data, spearman)
    targets = ceiling.targets()
    for s in range(6):
        assert np.allclose(targets[s], np.delete(data, s, axis=0).mean(axis=0))
    score = ceiling()
    assert float(score) == pytest.approx(np.mean([spearman(data[s], targets[s]) for s in range(6)]))
    assert score.attrs["n_individuals"] == 6 and score.attrs["method"] == "HeldOutSubject"
    assert ceiling.model_agreements(data[0]).shape == (6,)
    with pytest.raises(ValueError, match="2 or more"):
        HeldOutSubject(data[:1], spearman)


def test_held_out_subject_from_the_same_population_scores_about_1():
    rng = np.random.default_rng(1)
    truth = rng.normal(size=45)
    ratios = []
    for draw in range(40):
        subjects = truth + rng.normal(scale=rng.uniform(0.5, 1.5, size=(13, 1)), size=(13, 45))
        ceiling = HeldOutSubject(subjects[1:], spearman)
        ratios.append(ceiling.model_agreements(subjects[0]).mean() / float(ceiling()))
    assert np.mean(ratios) == pytest.approx(1.0, abs=0.05)


def test_split_by_animal_matches_its_comparison():
    rng = np.random.default_rng(2)
    animals = np.repeat(np.arange(10), 12)
    values = rng.uniform(size=animals.size)
    ceiling = SplitByAnimal(values, animals, n_splits=20, seed=1)
    result = ceiling.compare(rng.uniform(size=500))
    assert float(ceiling()) == pytest.approx(result.ceiling)
    assert ceiling().attrs["error"] == pytest.approx(np.std(result.ceiling_per_split))


def test_repeat_halves_are_disjoint_halves_of_each_images_repeats():
    rng = np.random.default_rng(3)
    repeats = rng.normal(size=(20, 4, 7))
    repeats[:5, :, 5:] = np.nan  # 5 repeats for the first images, 7 for the rest
    halves = repeat_halves(repeats, n_splits=3, seed=0)
    assert halves.shape == (3, 2, 20, 4)
    counts = np.where(np.arange(20) < 5, 5, 7)
    full = np.nanmean(repeats, axis=2)
    for split in range(3):
        first, second = counts // 2, counts - counts // 2
        # the two half-means recombine into the mean of all repeats
        recombined = (halves[split, 0] * first[:, None] + halves[split, 1] * second[:, None]) / counts[:, None]
        assert np.allclose(recombined, full)
    assert not np.allclose(halves[0, 0], halves[1, 0])
    with pytest.raises(ValueError, match="fewer than 2"):
        repeat_halves(repeats[:, :, :1], 1, 0)


def test_split_half_reliability_scores_a_held_out_half_at_about_1():
    """Poisson neurons driven by 20 latent features: a half of the repeats of a split the
    ceiling did not use, predicting the other half, lands at about 1."""
    rng = np.random.default_rng(4)
    n_images, n_neurons, n_repeats = 300, 12, 8
    latent = rng.normal(size=(n_images, 20))
    rate = np.exp(0.3 * latent @ rng.normal(size=(20, n_neurons)) / np.sqrt(20) + 1.0)
    repeats = rng.poisson(rate[:, :, None], size=(n_images, n_neurons, n_repeats)).astype(float)

    def predict(features, targets):
        return [neural_predictivity(features, t, n_folds=5, seed=0).r for t in targets]

    ceiling = SplitHalfReliability(repeats, predict, n_splits=2, seed=0)
    per_neuron = ceiling.per_neuron()
    assert per_neuron.shape == (n_neurons,) and np.all(per_neuron > 0)
    assert float(ceiling()) == pytest.approx(per_neuron.mean())
    assert ceiling().attrs["n_individuals"] == 4  # 2 splits x 2 directions
    assert ceiling.model_r(latent).shape == (4, n_neurons)
    ratios = []
    for seed in (10, 11):
        halves = repeat_halves(repeats, 1, seed)[0]
        ratios.append(np.mean(predict(halves[0], [halves[1]])[0] / per_neuron))
    assert np.mean(ratios) == pytest.approx(1.0, abs=0.06)
    # the noise-free latent features predict better than half of the repeats: above 1
    assert np.mean(ceiling.model_r(latent).mean(axis=0) / per_neuron) > 1.05


def test_site_against_site_compares_planes_with_the_other_site_only():
    sites = {"a": 1, "b": 1, "e": 2, "f": 2}
    calls = []

    def agreement(plane, site):
        calls.append((plane, site))
        return {"a": 0.8, "b": 0.9, "e": 0.7, "f": 0.6}[plane]

    ceiling = SiteAgainstSite(sites, agreement)
    assert float(ceiling()) == pytest.approx(0.75)
    assert ceiling().attrs["error"] == pytest.approx(np.std([0.8, 0.9, 0.7, 0.6]))
    assert all(sites[plane] != site for plane, site in calls)
    assert ceiling.model_raw(lambda site: {1: 0.5, 2: 0.7}[site]) == pytest.approx(0.6)
    with pytest.raises(ValueError, match="2 or more sites"):
        SiteAgainstSite({"a": 1, "b": 1}, agreement)


def test_published_claims_is_1_without_error():
    score = PublishedClaims()()
    assert float(score) == 1.0 and score.attrs["error"] == 0.0
    assert PublishedClaims().describe()["ceiling_method"] == "PublishedClaims"
