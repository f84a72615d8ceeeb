"""TDANN neighbourhoods: windows inside the sheet, common size, determinism, width scaling."""
import numpy as np
import pytest

from topobench.errors import ModelError
from topobench.positions import NEIGHBORHOOD_WIDTH_MM, retinotopic_positions
from topobench.tdann import make_neighborhoods, neighborhood_width, tdann_width_scale
from topobench.tdann.neighborhoods import _WindowIndex


@pytest.fixture(scope="module")
def layer():
    return retinotopic_positions("layer2.0", (32, 16, 16), seed=0)  # TDANN's V1 sheet, 36.75 mm


def test_members_lie_inside_their_windows_and_share_one_size(layer):
    indices, corners, width = make_neighborhoods(layer, 6.0, 300, max_units=500, seed=1, return_windows=True)
    assert width == 6.0 and indices.dtype == np.int64
    n, k = indices.shape
    assert n == 300 and 25 <= k <= 500
    xy = layer.coordinates[indices]  # (n, k, 2)
    assert (xy >= corners[:, None, :] - 1e-12).all() and (xy <= corners[:, None, :] + width + 1e-12).all()
    # windows inside the sheet
    assert (corners >= layer.coordinates.min(0) - 1e-12).all()
    assert (corners + width <= layer.coordinates.max(0) + 1e-12).all()
    # no unit twice in a neighbourhood, rows sorted
    assert all(len(np.unique(row)) == k for row in indices)
    assert (np.diff(indices, axis=1) > 0).all()
    # k is the smallest count over the kept windows: some window is used in full
    index = _WindowIndex(layer.coordinates, width)
    counts = index.counts(corners)
    assert counts.min() == k and (counts >= k).all()


def test_trimmed_to_max_units_and_deterministic(layer):
    first = make_neighborhoods(layer, 12.0, 50, max_units=100, seed=3)
    assert first.shape == (50, 100)
    np.testing.assert_array_equal(first, make_neighborhoods(layer, 12.0, 50, max_units=100, seed=3))
    assert not np.array_equal(first, make_neighborhoods(layer, 12.0, 50, max_units=100, seed=4))


def test_sparse_windows_are_redrawn(layer):
    indices, corners, width = make_neighborhoods(layer, 3.0, 200, seed=0, min_units=40, return_windows=True)
    assert indices.shape[1] >= 40
    with pytest.raises(ModelError, match="widen the windows"):
        make_neighborhoods(layer, 0.05, 20, seed=0, min_units=30)


def test_default_width_and_scaling_for_reduced_resolution():
    assert neighborhood_width(retinotopic_positions("layer2.0", (4, 8, 8), seed=0)) == NEIGHBORHOOD_WIDTH_MM["layer2.0"]
    assert tdann_width_scale(64) == pytest.approx(3.5)
    # a 64 px layer keeps the unit count of the 224 px layer when its windows widen by 224 / 64
    full = retinotopic_positions("layer2.0", (8, 28, 28), seed=0, jitter_mm=0.0)
    reduced = retinotopic_positions("layer2.0", (8, 8, 8), seed=0, jitter_mm=0.0)
    rng = np.random.default_rng(0)

    def median_count(positions, width):
        corners = rng.uniform(0, 36.75 - width, size=(400, 2))
        return np.median(_WindowIndex(positions.coordinates, width).counts(corners))

    width = NEIGHBORHOOD_WIDTH_MM["layer2.0"] * 2
    ratio = median_count(reduced, neighborhood_width(reduced, width, tdann_width_scale(64))) / \
        median_count(full, neighborhood_width(full, width))
    assert 0.8 < ratio < 1.25
    # wider than the sheet: clamped, every window is the whole sheet
    layer4 = retinotopic_positions("layer4.0", (64, 2, 2), seed=0)
    assert neighborhood_width(layer4, None, tdann_width_scale(64)) == pytest.approx(np.ptp(layer4.coordinates, 0).min())
    assert make_neighborhoods(layer4, None, 5, max_units=500, width_scale=3.5).shape == (5, 256)
    with pytest.raises(ModelError, match="pass width_mm"):
        neighborhood_width(retinotopic_positions("fc", (4, 2, 2), sheet_side_mm=3.0))
