"""KS similarity and the split-half-by-animal comparison (DESIGN.md, "Ringach 2002 comparison")."""
import numpy as np
import pytest

from topobench.metrics.distribution_similarity import (
    animal_splits, ks_similarity, split_half_by_animal, split_half_ceiling)
from topobench.reference_data.ringach2002 import load_ringach2002

N_DRAWS = 10  # independent halves of the animals used as the "model"


def test_ks_similarity():
    a = np.linspace(0, 1, 101)
    assert ks_similarity(a, a) == 1.0
    assert ks_similarity(a, a + 2) == 0.0
    assert ks_similarity([0, 1], [0, 0]) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        ks_similarity([], a)


def test_animal_splits_are_halves_of_animals():
    animals = np.repeat(np.array(list("abcdefg")), [1, 2, 3, 4, 5, 6, 7])
    splits = animal_splits(animals, n_splits=20, seed=3)
    assert splits.shape == (20, animals.size)
    for in_a in splits:
        assert np.unique(animals[in_a]).size == 3  # floor(7 / 2)
        assert not set(animals[in_a]) & set(animals[~in_a])  # no animal in both halves
    assert len({row.tobytes() for row in splits}) > 1


@pytest.fixture(scope="module")
def ringach():
    table = load_ringach2002()
    return table["circular_variance"].to_numpy(), table["animal"].to_numpy()


def _held_out(cv, animals, draw):
    """Cells of a random half of the animals as the model; the other half is the reference."""
    order = np.random.default_rng(1000 + draw).permutation(np.unique(animals))
    model = np.isin(animals, order[: order.size // 2])
    return cv[model], cv[~model], animals[~model]


@pytest.fixture(scope="module")
def scores(ringach):
    cv, animals = ringach
    out = {"held_out": [], "shift_0.1": [], "shift_0.2": [], "untuned": []}
    for draw in range(N_DRAWS):
        model, reference, reference_animals = _held_out(cv, animals, draw)
        untuned = np.random.default_rng(draw).uniform(0.9, 1.0, size=2000)
        for name, values in [("held_out", model), ("shift_0.1", np.clip(model + 0.1, 0, 1)),
                             ("shift_0.2", np.clip(model + 0.2, 0, 1)), ("untuned", untuned)]:
            out[name].append(split_half_by_animal(reference, reference_animals, values, seed=draw))
    return out


def test_cells_of_held_out_animals_score_near_1(scores):
    ceiled = np.array([result.ceiled for result in scores["held_out"]])  # unclipped raw / ceiling
    # measured: 0.92 to 1.05 over these draws, mean 1.00
    assert np.all((ceiled > 0.85) & (ceiled < 1.1)), ceiled
    assert 0.95 < ceiled.mean() < 1.05, ceiled
    for result in scores["held_out"]:
        assert 0.7 < result.ceiling < 0.95  # KS between ~75-cell halves of 6 and 7 animals
        assert 0 < result.error < 0.15


def test_shifted_population_scores_lower(scores):
    held_out = np.array([result.ceiled for result in scores["held_out"]])
    shift_1 = np.array([result.ceiled for result in scores["shift_0.1"]])
    shift_2 = np.array([result.ceiled for result in scores["shift_0.2"]])
    # measured: +0.1 about 0.91 on average (KS with ~75 cells a half is not more sensitive),
    # +0.2 about 0.78 (0.71 to 0.85)
    assert shift_1.mean() < held_out.mean() - 0.05, (held_out, shift_1)
    assert shift_1.mean() < 0.95
    assert shift_2.mean() < 0.82 and shift_2.max() < 0.9, shift_2


def test_untuned_population_scores_low(scores):
    untuned = np.array([result.ceiled for result in scores["untuned"]])
    assert untuned.max() < 0.3, untuned


def test_deterministic_and_ceiling_independent_of_model(ringach):
    cv, animals = ringach
    model = np.random.default_rng(5).uniform(0, 1, 500)
    first = split_half_by_animal(cv, animals, model, n_splits=30, seed=7)
    second = split_half_by_animal(cv, animals, model, n_splits=30, seed=7)
    assert np.array_equal(first.raw_per_split, second.raw_per_split)
    assert (first.raw, first.ceiling, first.error) == (second.raw, second.ceiling, second.error)
    other = split_half_by_animal(cv, animals, model[:37], n_splits=30, seed=7)
    assert np.array_equal(other.ceiling_per_split, first.ceiling_per_split)
    assert np.array_equal(split_half_ceiling(cv, animals, n_splits=30, seed=7), first.ceiling_per_split)
    assert split_half_by_animal(cv, animals, model, n_splits=30, seed=8).raw != first.raw
    assert first.summary()["n_splits"] == 30
    assert np.all(first.n_cells_a + first.n_cells_b == cv.size)


def test_error_is_spread_of_ceiled_splits(ringach):
    cv, animals = ringach
    result = split_half_by_animal(cv, animals, cv, n_splits=20, seed=0)
    assert result.error == pytest.approx(np.std(result.raw_per_split / result.ceiling))
    assert result.raw == pytest.approx(result.raw_per_split.mean())
    with pytest.raises(ValueError):
        split_half_by_animal(cv, animals, [np.nan], n_splits=2)
    with pytest.raises(ValueError):
        split_half_by_animal(cv, np.full(cv.size, "one"), cv, n_splits=2)
