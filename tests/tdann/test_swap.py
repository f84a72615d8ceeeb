"""Swap optimisation (TDANN's swapopt): exact gains, permutation, lower held-out spatial loss than random swaps."""
import itertools

import numpy as np
import pytest
import torch

from topobench.errors import ModelError
from topobench.positions import LayerPositions, retinotopic_positions
from topobench.tdann import evaluate_spatial_loss, random_swaps, swap_optimize
from topobench.tdann.spatial_loss import distance_similarity, relative_sl_from_matrices
from topobench.tdann.swap import _swap_gains

torch.set_num_threads(1)
WIDTH = 2.0


def _sorted_rows(coordinates):
    return coordinates[np.lexsort(coordinates.T[::-1])]


def test_closed_form_gains_match_brute_force_and_lower_the_relative_loss():
    rng = np.random.default_rng(0)
    k = 7
    features = rng.normal(size=(30, k))
    r = torch.tensor(np.corrcoef(features.T))
    r.fill_diagonal_(0)
    coords = rng.uniform(0, 3, size=(k, 2))

    def s_and_loss(c):
        d = distance_similarity(torch.tensor(c))
        d.fill_diagonal_(0)
        return 0.5 * float((r * d).sum()), relative_sl_from_matrices(r, d).item(), d

    s0, loss0, d0 = s_and_loss(coords)
    gains = _swap_gains(r, d0, r @ d0).numpy()
    for i, j in itertools.combinations(range(k), 2):
        swapped = coords.copy()
        swapped[[i, j]] = swapped[[j, i]]
        s1, loss1, _ = s_and_loss(swapped)
        assert gains[i, j] == pytest.approx(s1 - s0, abs=1e-10)
        assert gains[j, i] == pytest.approx(s1 - s0, abs=1e-10)
        # S up <=> relative SL down (a permutation leaves the moments of D unchanged)
        assert np.sign(loss0 - loss1) == np.sign(s1 - s0) or abs(s1 - s0) < 1e-12


def _smooth_layer(seed=0, n_train=300, n_test=300):
    """Units on an 8 mm sheet tuned by a smooth random map; positions given shuffled."""
    rng = np.random.default_rng(seed)
    true = retinotopic_positions("synthetic", (16, 8, 8), sheet_side_mm=8.0, seed=seed)
    freqs = rng.normal(size=(8, 2))
    freqs *= 2 * np.pi / 3.0 / np.linalg.norm(freqs, axis=1, keepdims=True)  # 3 mm wavelength
    tuning = np.cos(true.coordinates @ freqs.T + rng.uniform(0, 2 * np.pi, 8))  # (N, 8)

    def responses(n):
        stimuli = rng.normal(size=(n, 8))
        return np.maximum(stimuli @ tuning.T, 0) + 0.3 * rng.normal(size=(n, len(tuning)))

    train, test = responses(n_train), responses(n_test)
    shuffled = LayerPositions("synthetic", true.dims, true.coordinates[rng.permutation(true.n_units)], 8.0,
                              {"placement": "shuffled"})
    return true, shuffled, train, test


@pytest.fixture(scope="module")
def optimised():
    true, shuffled, train, test = _smooth_layer()
    new = swap_optimize(train, shuffled, "synthetic smooth-map responses (train half)", width_mm=WIDTH,
                        n_iterations=8, seed=0)
    return true, shuffled, train, test, new


def _held_out(positions, test, kind="relative"):
    return evaluate_spatial_loss(test, positions, kind=kind, width_mm=WIDTH, n_neighborhoods=200, seed=11)


def test_swaps_lower_held_out_loss_far_more_than_random_swaps(optimised):
    true, shuffled, _, test, new = optimised
    before, after, ideal = _held_out(shuffled, test), _held_out(new, test), _held_out(true, test)
    control = _held_out(random_swaps(shuffled, new.provenance["n_swaps"], width_mm=WIDTH, seed=0), test)
    assert ideal < 0.15 and before > 0.45
    assert after < before - 0.2
    assert abs(control - before) < 0.03
    assert (before - after) > 10 * abs(before - control)
    # the absolute loss (for which the swap objective is a surrogate) falls too
    assert _held_out(new, test, "absolute") < _held_out(shuffled, test, "absolute") - 0.05


def test_result_is_a_permutation_with_provenance(optimised, tmp_path):
    _, shuffled, _, _, new = optimised
    np.testing.assert_array_equal(_sorted_rows(new.coordinates), _sorted_rows(shuffled.coordinates))
    assert not np.array_equal(new.coordinates, shuffled.coordinates)
    p = new.provenance
    assert p["placement"] == "swap-optimised" and p["stimuli"].startswith("synthetic smooth-map")
    assert p["n_iterations"] == 8 and p["seed"] == 0 and p["n_swaps"] > 0
    assert p["loss_after"] < p["loss_before"] - 0.2
    assert p["start"] == {"placement": "shuffled"}
    loaded = LayerPositions.load(new.save(tmp_path / "synthetic.npz"))
    assert loaded.provenance == p
    np.testing.assert_array_equal(loaded.coordinates, new.coordinates)


def test_deterministic_torch_input_and_errors():
    _, shuffled, train, _ = _smooth_layer(seed=1, n_train=60)
    responses = torch.tensor(train, dtype=torch.float32).reshape(60, 16, 8, 8)
    first = swap_optimize(responses, shuffled, "noise", width_mm=WIDTH, n_iterations=2, seed=5)
    second = swap_optimize(train, shuffled, "noise", width_mm=WIDTH, n_iterations=2, seed=5)
    np.testing.assert_array_equal(first.coordinates, second.coordinates)
    absolute = swap_optimize(train, shuffled, "noise", width_mm=WIDTH, n_iterations=2, seed=5, kind="absolute",
                             dtype=torch.float64)
    assert absolute.provenance["loss_after"] < absolute.provenance["loss_before"]
    with pytest.raises(ModelError, match="stimuli"):
        swap_optimize(train, shuffled, "", width_mm=WIDTH)
    with pytest.raises(ModelError, match="must be"):
        swap_optimize(train[:, :100], shuffled, "noise", width_mm=WIDTH)
    rnd = random_swaps(shuffled, 500, width_mm=WIDTH, seed=0)
    np.testing.assert_array_equal(_sorted_rows(rnd.coordinates), _sorted_rows(shuffled.coordinates))


def test_low_rank_updates_match_full_recomputation(monkeypatch):
    import topobench.tdann.swap as swap_module
    _, shuffled, train, _ = _smooth_layer(seed=2, n_train=80)
    kwargs = dict(width_mm=WIDTH, n_iterations=2, seed=1, dtype=torch.float64)
    low_rank = swap_optimize(train, shuffled, "noise", **kwargs)
    monkeypatch.setattr(swap_module, "_REFRESH_STEPS", 0)  # recompute M = R D at every step
    full = swap_optimize(train, shuffled, "noise", **kwargs)
    np.testing.assert_array_equal(low_rank.coordinates, full.coordinates)
    assert low_rank.provenance["n_swaps"] == full.provenance["n_swaps"] > 0
