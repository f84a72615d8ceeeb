"""Tests of topobench.metrics.patches: smoothing on a grid, patches, co-localisation."""
import numpy as np
import pytest

from topobench.metrics.patches import (colocalisation, colocalisation_vs_shuffled, find_patches, smooth_on_grid,
                                      window_fractions)

SIDE = 70.0
EXTENT = (0.0, SIDE, 0.0, SIDE)


def _sheet(n_units=20000, seed=0):
    return np.random.default_rng(seed).uniform(0.0, SIDE, size=(n_units, 2))


def _blobs(positions, blobs, noise=0.05, seed=1):
    """Selectivity 1 inside each (x, y, radius) disc, 0 outside, plus Gaussian noise."""
    values = np.random.default_rng(seed).normal(0.0, noise, size=len(positions))
    for x, y, radius in blobs:
        values[np.hypot(positions[:, 0] - x, positions[:, 1] - y) <= radius] += 1.0
    return values


def test_two_planted_face_patches_are_found_with_their_areas():
    positions = _sheet()
    blobs = [(20.0, 20.0, 8.0), (48.0, 45.0, 11.0)]
    values = _blobs(positions, blobs)
    patches = find_patches(values, positions, threshold=0.5, domain="faces", extent=EXTENT)
    assert len(patches) == 2
    by_size = sorted(blobs, key=lambda b: -b[2])
    for patch, (x, y, radius) in zip(patches, by_size):
        assert patch.domain == "faces"
        assert patch.area_mm2 == pytest.approx(np.pi * radius ** 2, rel=0.15)
        assert patch.centroid_mm == pytest.approx((x, y), abs=0.7)
        assert patch.n_units == pytest.approx(len(positions) * np.pi * radius ** 2 / SIDE ** 2, rel=0.2)
        assert patch.peak == pytest.approx(1.0, abs=0.1)


def test_three_blobs_within_fifteen_percent():
    positions = _sheet(seed=5)
    blobs = [(15.0, 15.0, 8.0), (35.0, 50.0, 10.0), (55.0, 20.0, 13.0)]
    patches = find_patches(_blobs(positions, blobs, seed=6), positions, 0.5, extent=EXTENT)
    assert len(patches) == 3
    for patch, (_, _, radius) in zip(patches, sorted(blobs, key=lambda b: -b[2])):
        assert patch.area_mm2 == pytest.approx(np.pi * radius ** 2, rel=0.15)


def test_shuffled_positions_destroy_patches():
    positions = _sheet()
    values = _blobs(positions, [(20.0, 20.0, 8.0), (48.0, 45.0, 11.0)])
    shuffled = positions[np.random.default_rng(2).permutation(len(positions))]
    assert find_patches(values, shuffled, 0.5, extent=EXTENT) == []


def test_area_and_unit_limits():
    positions = _sheet()
    # a 4 mm disc (50 mm^2) is below TDANN's 100 mm^2; the whole sheet is above 4,500 mm^2
    assert find_patches(_blobs(positions, [(30.0, 30.0, 4.0)]), positions, 0.5, extent=EXTENT) == []
    assert find_patches(np.ones(len(positions)), positions, 0.5, extent=EXTENT) == []
    assert len(find_patches(np.ones(len(positions)), positions, 0.5, extent=EXTENT, max_area_mm2=1e4)) == 1
    sparse = _sheet(n_units=300, seed=3)  # about 1 unit per 16 mm^2: about 28 in a 12 mm disc
    values = _blobs(sparse, [(35.0, 35.0, 12.0)], noise=0.0)
    assert len(find_patches(values, sparse, 0.5, extent=EXTENT, min_units=10)) == 1
    assert find_patches(values, sparse, 0.5, extent=EXTENT, min_units=60) == []


def test_grid_smoothing_matches_a_dense_gaussian_average():
    """TDANN averaged with Gaussian weights around each anchor; the grid version agrees
    away from the edges up to the binning of positions (0.7 mm)."""
    positions = _sheet(n_units=3000, seed=4)
    values = np.sin(positions[:, 0] / 6.0) + np.cos(positions[:, 1] / 9.0)
    smoothed = smooth_on_grid(values, positions, sigma_mm=2.4, grid_mm=0.7, extent=EXTENT)
    assert smoothed.values.shape == (100, 100)
    for iy, ix in [(30, 40), (50, 50), (70, 25), (20, 80)]:
        centre = (smoothed.x_mm[ix], smoothed.y_mm[iy])
        weights = np.exp(-((positions[:, 0] - centre[0]) ** 2 + (positions[:, 1] - centre[1]) ** 2) / (2 * 2.4 ** 2))
        dense = np.average(values, weights=weights)
        assert smoothed.values[iy, ix] == pytest.approx(dense, abs=0.05)


def test_bins_far_from_every_unit_are_nan():
    positions = np.array([[5.0, 5.0]] * 20)
    smoothed = smooth_on_grid(np.ones(20), positions, extent=EXTENT)
    assert smoothed.values[7, 7] == pytest.approx(1.0)
    assert np.isnan(smoothed.values[90, 90])


def test_colocalisation_of_overlapping_and_separate_maps():
    positions = _sheet()
    lateral = positions[:, 0] > 40.0
    medial = positions[:, 0] < 25.0
    near = np.hypot(positions[:, 0] - 50, positions[:, 1] - 35) < 15
    assert colocalisation(lateral, lateral, positions, extent=EXTENT) == pytest.approx(1.0)
    assert colocalisation(lateral, medial, positions, extent=EXTENT) < -0.6
    assert colocalisation(lateral, near, positions, extent=EXTENT) > 0.4
    rng = np.random.default_rng(7)
    random_a, random_b = rng.random(len(positions)) < 0.2, rng.random(len(positions)) < 0.2
    assert abs(colocalisation(random_a, random_b, positions, extent=EXTENT)) < 0.35
    assert np.isnan(colocalisation(np.zeros(len(positions), bool), lateral, positions, extent=EXTENT))


def test_colocalisation_of_exclusive_units_is_negative_without_any_map():
    """Units selective for A are never selective for B: per-window fractions then
    correlate negatively on any sheet; the shuffled mean measures it, the excess is 0."""
    positions = _sheet(n_units=4000)
    kind = np.random.default_rng(8).choice(3, size=len(positions), p=[0.35, 0.1, 0.55])
    result = colocalisation_vs_shuffled(kind == 0, kind == 1, positions, extent=EXTENT, n_shuffles=50)
    assert result["r"] < -0.05 and result["shuffled_mean"] < -0.15
    assert abs(result["excess"]) < 0.25
    assert result["r"] == pytest.approx(colocalisation(kind == 0, kind == 1, positions, extent=EXTENT))
    # a real arrangement: A medial, B lateral
    a, b = (kind == 0) & (positions[:, 0] < 30), (kind == 1) & (positions[:, 0] > 40)
    arranged = colocalisation_vs_shuffled(a, b, positions, extent=EXTENT)
    assert arranged["excess"] < -0.3
    again = colocalisation_vs_shuffled(a, b, positions, extent=EXTENT)
    assert again == arranged  # seeded
    empty = colocalisation_vs_shuffled(np.zeros(len(positions), bool), b, positions, extent=EXTENT)
    assert np.isnan(empty["r"]) and np.isnan(empty["excess"])


def test_window_fractions():
    positions = np.array([[1.0, 1.0], [2.0, 2.0], [15.0, 1.0], [15.0, 2.0]])
    fractions = window_fractions(np.array([True, False, True, True]), positions, window_mm=10.0,
                                 extent=(0, 20, 0, 10), min_units_per_window=2)
    np.testing.assert_allclose(fractions, [0.5, 1.0])
    assert np.isnan(window_fractions(np.array([True, False, True, True]), positions, 10.0, (0, 20, 0, 10), 3)).all()
