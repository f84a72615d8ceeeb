"""Spatial loss (Margalit et al. 2024 relative; Lee et al. 2020 absolute): values, NaN safety, gradients."""
import numpy as np
import pytest
import torch

from topobench.positions import retinotopic_positions
from topobench.tdann import (SpatialLoss, absolute_sl_from_matrices, distance_similarity, make_neighborhoods,
                             relative_sl_from_matrices, response_correlation, spatial_loss, spatial_loss_batched)

torch.set_num_threads(1)

# four units at the corners of a 3 x 4 mm rectangle: distances 3, 4, 5 mm
COORDS = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0], [3.0, 4.0]])
A = np.array([1.0, 2.0, 3.0, 4.0])
FEATURES = np.stack([A, 2 * A, -A, np.array([1.0, -1.0, 1.0, -1.0])], axis=1)  # (B=4, k=4)
# lower triangle in np.tril_indices order: (1,0) (2,0) (2,1) (3,0) (3,1) (3,2)
R_LOWER = np.array([1.0, -1.0, -1.0, -1 / np.sqrt(5), -1 / np.sqrt(5), 1 / np.sqrt(5)])
D_LOWER = np.array([1 / 4, 1 / 5, 1 / 6, 1 / 6, 1 / 5, 1 / 4])


def test_hand_computed_values():
    rows, cols = np.tril_indices(4, -1)
    r, valid = response_correlation(torch.tensor(FEATURES))
    assert valid.all()
    np.testing.assert_allclose(r.numpy()[rows, cols], R_LOWER, atol=1e-9)
    np.testing.assert_allclose(distance_similarity(torch.tensor(COORDS)).numpy()[rows, cols], D_LOWER, atol=1e-12)

    expected_absolute = np.mean(np.abs(R_LOWER - D_LOWER))
    rc, dc = R_LOWER - R_LOWER.mean(), D_LOWER - D_LOWER.mean()
    expected_relative = (1 - (rc @ dc) / np.sqrt((rc @ rc) * (dc @ dc))) / 2
    features, coords = torch.tensor(FEATURES), torch.tensor(COORDS)
    assert spatial_loss(features, coords, "absolute").item() == pytest.approx(expected_absolute, abs=1e-9)
    assert spatial_loss(features, coords, "relative").item() == pytest.approx(expected_relative, abs=1e-9)
    assert spatial_loss(features, coords).item() == pytest.approx(expected_relative, abs=1e-9)  # default
    # the same numbers as np.corrcoef-based reference code
    r_np = np.corrcoef(FEATURES.T)[rows, cols]
    assert (1 - np.corrcoef(r_np, D_LOWER)[0, 1]) / 2 == pytest.approx(expected_relative, abs=1e-9)


def test_zero_when_correlation_equals_distance_similarity():
    rng = np.random.default_rng(0)
    coords = torch.tensor(rng.uniform(0, 3, size=(20, 2)))
    similarity = distance_similarity(coords)
    assert relative_sl_from_matrices(similarity, similarity).item() == pytest.approx(0.0, abs=1e-12)
    assert absolute_sl_from_matrices(similarity, similarity).item() == pytest.approx(0.0, abs=1e-12)
    # features whose correlation falls with distance exactly as 1 / (d + 1) (D is positive definite)
    chol = np.linalg.cholesky(similarity.numpy())
    features = torch.tensor(rng.normal(size=(20000, 20)) @ chol.T)
    assert spatial_loss(features, coords, "relative").item() < 0.005
    assert spatial_loss(features, coords, "absolute").item() < 0.02
    # and far from 0 when the same features sit at shuffled positions
    assert spatial_loss(features, coords[torch.randperm(20)], "relative").item() > 0.1


def test_relative_is_invariant_to_affine_changes_of_r_absolute_is_not():
    rng = np.random.default_rng(1)
    coords = torch.tensor(rng.uniform(0, 3, size=(12, 2)))
    similarity = distance_similarity(coords)
    r = 0.5 * similarity + 0.1
    assert relative_sl_from_matrices(r, similarity).item() == pytest.approx(0.0, abs=1e-12)
    assert absolute_sl_from_matrices(r, similarity).item() > 0.05


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("kind", ["relative", "absolute"])
def test_constant_units_give_finite_loss_and_gradient(kind, dtype):
    rng = np.random.default_rng(2)
    coords = torch.tensor(rng.uniform(0, 2, size=(8, 2)))
    live = rng.normal(size=(16, 6))
    features = np.concatenate([live, np.zeros((16, 1)), np.full((16, 1), 0.1)], axis=1)
    x = torch.tensor(features, dtype=dtype, requires_grad=True)
    loss = spatial_loss(x, coords, kind)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(x.grad).all()
    assert (x.grad[:, 6:] == 0).all()
    # the constant units are excluded: same loss as the live units alone
    alone = spatial_loss(torch.tensor(live, dtype=dtype), coords[:6], kind)
    assert loss.item() == pytest.approx(alone.item(), rel=1e-5)
    # all units constant: finite, no gradient
    dead = torch.zeros(16, 8, dtype=dtype, requires_grad=True)
    value = spatial_loss(dead, coords, kind)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(dead.grad).all()
    # a ReLU layer whose units fire on a single image is still used (not treated as constant)
    sparse = torch.zeros(16, 8, dtype=dtype)
    sparse[3] = torch.arange(1, 9, dtype=dtype)
    _, valid = response_correlation(sparse)
    assert valid.all()


def test_gradcheck_relative_and_absolute():
    rng = np.random.default_rng(3)
    coords = torch.tensor(rng.uniform(0, 2, size=(5, 2)))
    x = torch.tensor(rng.normal(size=(7, 5)), requires_grad=True)
    assert torch.autograd.gradcheck(lambda f: spatial_loss(f, coords, "relative"), (x,))
    assert torch.autograd.gradcheck(lambda f: spatial_loss(f, coords, "absolute"), (x,))
    several = torch.tensor(rng.normal(size=(3, 7, 5)), requires_grad=True)
    several_coords = torch.tensor(rng.uniform(0, 2, size=(3, 5, 2)))
    assert torch.autograd.gradcheck(lambda f: spatial_loss_batched(f, several_coords).sum(), (several,))


def test_batched_matches_one_at_a_time():
    rng = np.random.default_rng(4)
    features = torch.tensor(rng.normal(size=(4, 10, 9)))
    coords = torch.tensor(rng.uniform(0, 2, size=(4, 9, 2)))
    for kind in ("relative", "absolute"):
        batched = spatial_loss_batched(features, coords, kind)
        single = torch.stack([spatial_loss(features[n], coords[n], kind) for n in range(4)])
        torch.testing.assert_close(batched, single)
    with pytest.raises(ValueError):
        spatial_loss_batched(features, coords, "squared")


def _layers():
    positions = {"a": retinotopic_positions("a", (8, 6, 6), sheet_side_mm=6.0, seed=0),
                 "b": retinotopic_positions("b", (16, 3, 3), sheet_side_mm=6.0, seed=1)}
    neighborhoods = {name: make_neighborhoods(p, 2.5, 20, max_units=40, seed=0, min_units=10)
                     for name, p in positions.items()}
    return positions, neighborhoods


def test_module_sums_weighted_layers_and_gathers_only_the_neighbourhood():
    positions, neighborhoods = _layers()
    module = SpatialLoss(positions, neighborhoods, alpha={"a": 0.5, "b": 2.0})
    torch.manual_seed(0)
    features = {"a": torch.randn(12, 8, 6, 6, requires_grad=True), "b": torch.randn(12, 16, 3, 3, requires_grad=True)}
    total, per_layer = module(features, step=3)
    assert total.item() == pytest.approx(0.5 * per_layer["a"].item() + 2.0 * per_layer["b"].item(), rel=1e-6)
    total.backward()
    for name, tensor in features.items():
        grad = tensor.grad.flatten(1)
        touched = (grad != 0).any(dim=0).nonzero().flatten().numpy()
        chosen = neighborhoods[name][module.choose(name, 3).numpy()].ravel()
        assert set(touched) <= set(chosen) and len(touched) > 0
    # the same step draws the same neighbourhoods (exact resumption); another step mostly not
    again, _ = module(features, step=3)
    assert again.item() == total.item()
    values = {module(features, step=s)[0].item() for s in range(10)}
    assert len(values) > 1
    # without a step: torch's generator
    value, _ = module(features)
    assert torch.isfinite(value)


def test_module_alpha_zero_layers_are_logged_without_a_graph():
    positions, neighborhoods = _layers()
    module = SpatialLoss(positions, neighborhoods, alpha={"a": 0.25}, kind="absolute", neighborhoods_per_batch=3)
    features = {"a": torch.randn(12, 8, 6, 6, requires_grad=True), "b": torch.randn(12, 16, 3, 3, requires_grad=True)}
    total, per_layer = module(features, step=0)
    assert set(per_layer) == {"a", "b"} and per_layer["b"].item() > 0
    total.backward()
    assert features["b"].grad is None and features["a"].grad is not None
    zero = SpatialLoss(positions, neighborhoods, alpha=0.0)
    total, per_layer = zero(features, step=0)
    assert total.item() == 0.0 and all(v.item() > 0 for v in per_layer.values())


def test_module_reports_mismatched_layers():
    from topobench.errors import ModelError
    positions, neighborhoods = _layers()
    module = SpatialLoss(positions, neighborhoods)
    with pytest.raises(ModelError, match="no features"):
        module({"a": torch.randn(4, 8, 6, 6)})
    with pytest.raises(ModelError, match="units per image"):
        module({"a": torch.randn(4, 8, 5, 5), "b": torch.randn(4, 16, 3, 3)})
    with pytest.raises(ModelError, match="no neighbourhoods"):
        SpatialLoss(positions, {"a": neighborhoods["a"]})
