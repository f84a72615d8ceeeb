"""The fair comparison of two TDANN runs: intervals that contain the estimate, a map that
loses its smoothness when its positions are shuffled, and paired held-out spatial losses."""

import numpy as np
import pytest

from topobench.metrics.synthetic_maps import SyntheticV1Model, band_limited_map, random_positions
from topobench.model_interface import PytorchModel
from topobench.nets import resnet18
from topobench.positions import retinotopic_positions
from topobench.tdann.compare import held_out_spatial_loss, orientation_smoothness


def _model(seed, positions, identifier):
    return PytorchModel(resnet18(num_classes=None, seed=seed), identifier, {"V1": "layer2.0"},
                        visual_degrees=8.0, image_size=64, positions=positions)


def test_shuffled_positions_lose_the_same_channel_free_smoothness_and_intervals_hold_the_estimate():
    """A band-limited orientation map (column spacing 3.5 mm) is smooth at 0-0.5 mm; the same
    units with their positions shuffled are flat at every distance; the half-sample intervals
    contain both estimates."""
    positions = random_positions(4000, 21.0, seed=0)
    orientation = band_limited_map(positions, 3.5, seed=1)
    shuffled = positions[np.random.default_rng(0).permutation(len(positions))]
    smooth = orientation_smoothness(SyntheticV1Model(positions, orientation, identifier="cmp-smooth"),
                                    n_resamples=10)
    flat = orientation_smoothness(SyntheticV1Model(shuffled, orientation, identifier="cmp-shuffled"),
                                  n_resamples=10)
    for result in (smooth, flat):
        assert len(result["ratio"]) == 3 and result["n_responsive"] > 3000
        for value, (low, high) in zip(result["ratio"], np.asarray(result["interval_95"]).T):
            assert low <= value + 0.02 and value - 0.02 <= high
    assert smooth["ratio"][0] < 0.5 and smooth["ratio"][0] < smooth["ratio"][1] < smooth["ratio"][2]
    assert np.all(np.abs(np.asarray(flat["ratio"]) - 1.0) < 0.1)


def test_held_out_spatial_loss_pairs_models_with_the_same_positions():
    positions = {"layer2.0": retinotopic_positions("layer2.0", (128, 8, 8), 36.75, seed=0)}
    a, b = _model(0, positions, "cmp-a"), _model(1, positions, "cmp-b")
    result = held_out_spatial_loss({"a": a, "b": b}, n_images=50, n_neighborhoods=20, n_boot=200,
                                   layers=["layer2.0"])
    entry = result["layers"]["layer2.0"]
    assert 0.0 <= entry["a"]["mean"] <= 1.0
    assert entry["a - b"]["mean"] == pytest.approx(entry["a"]["mean"] - entry["b"]["mean"], abs=2e-4)
    low, high = entry["a - b"]["interval_95"]
    assert low <= entry["a - b"]["mean"] <= high
    other = {"layer2.0": retinotopic_positions("layer2.0", (128, 8, 8), 36.75, seed=1)}
    with pytest.raises(ValueError, match="same positions"):
        held_out_spatial_loss({"a": a, "c": _model(0, other, "cmp-c")}, n_images=20, layers=["layer2.0"])
