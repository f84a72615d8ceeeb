import numpy as np
import pytest

from topobench.errors import ModelError
from topobench.positions import LayerPositions, SHEET_SIDE_MM, retinotopic_positions


@pytest.mark.parametrize("layer,dims", [("layer2.0", (128, 8, 8)), ("layer4.1", (512, 7, 7)),
                                        ("layer1.0", (64, 56, 56))])
def test_positions_inside_sheet(layer, dims):
    positions = retinotopic_positions(layer, dims, seed=3)
    side = SHEET_SIDE_MM[layer]
    assert positions.coordinates.shape == (np.prod(dims), 2)
    assert positions.coordinates.min() >= 0 and positions.coordinates.max() <= side + 1e-9


def test_mean_position_of_a_location_moves_monotonically():
    channels, height, width = 128, 8, 8
    positions = retinotopic_positions("layer2.0", (channels, height, width), seed=0)
    grid = positions.coordinates.reshape(channels, height, width, 2).mean(axis=0)  # mean over channels
    assert np.all(np.diff(grid[..., 0], axis=1) > 0)  # x grows with column
    assert np.all(np.diff(grid[..., 1], axis=0) > 0)  # y grows with row
    # and the column does not move y (nor the row x) beyond the jitter
    assert np.ptp(grid[..., 1], axis=1).max() < 1.0 and np.ptp(grid[..., 0], axis=0).max() < 1.0


def test_deterministic_by_seed_and_roundtrip(tmp_path):
    first = retinotopic_positions("layer2.0", (16, 4, 4), seed=1)
    again = retinotopic_positions("layer2.0", (16, 4, 4), seed=1)
    other = retinotopic_positions("layer2.0", (16, 4, 4), seed=2)
    assert np.array_equal(first.coordinates, again.coordinates)
    assert not np.array_equal(first.coordinates, other.coordinates)
    loaded = LayerPositions.load(first.save(tmp_path / "layer2.0.npz"))
    assert np.array_equal(loaded.coordinates, first.coordinates) and loaded.provenance == first.provenance


def test_wrong_unit_count_is_named():
    with pytest.raises(ModelError, match="layer2.0.*100 units"):
        LayerPositions("layer2.0", (4, 5, 5), np.zeros((99, 2)), 36.75)
