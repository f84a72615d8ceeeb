"""Wiring length (topobench.metrics.wiring): shorter when connected units sit close.

Synthetic sheets: each pattern activates a Gaussian blob of units at one relative
position of the source sheet and at the same relative position of the target
sheet (a topographic projection); the same source sheet with its positions
shuffled must need longer fibres, and unrelated blobs no shorter ones.
"""
import numpy as np
import pytest

from topobench.metrics.wiring import (active_units, align_sheets, matched_length, pattern_wiring_length,
                                      relative_coordinates, wiring_lengths)


def blob_responses(xy, centres, sigma, rng, noise=0.05):
    """(patterns, units) responses: a Gaussian bump (relative units) around each centre."""
    relative = relative_coordinates(xy)
    d2 = ((relative[None, :, :] - centres[:, None, :]) ** 2).sum(-1)
    return np.exp(-d2 / (2 * sigma ** 2)) + noise * rng.standard_normal(d2.shape)


@pytest.fixture(scope="module")
def sheets():
    rng = np.random.default_rng(0)
    source_xy = rng.uniform(0, 36.75, size=(3000, 2))  # a V1-like sheet (mm)
    target_xy = rng.uniform(0, 70.0, size=(2000, 2))   # a larger sheet: alignment is relative
    centres = rng.uniform(0.1, 0.9, size=(12, 2))
    return source_xy, target_xy, centres


def test_connected_units_close_give_shorter_wiring_than_shuffled(sheets):
    source_xy, target_xy, centres = sheets
    rng = np.random.default_rng(1)
    source = blob_responses(source_xy, centres, 0.05, rng)
    target = blob_responses(target_xy, centres, 0.05, rng)
    result = wiring_lengths(source_xy, source, target_xy, target, target_side_mm=70.0, n_clusters=4, seed=0)
    summary = result.summary()
    assert summary["n_patterns_used"] == 12
    assert result.mean_mm < result.shuffled_mean_mm
    assert result.ratio < 0.2  # measured 0.054 (6.7 mm against 125.7 mm shuffled)
    assert np.all(result.lengths_mm < result.shuffled_mm)
    assert 0 < summary["ratio_error_bootstrap"] < 0.1
    # same inputs, same seed: the same numbers
    again = wiring_lengths(source_xy, source, target_xy, target, target_side_mm=70.0, n_clusters=4, seed=0)
    assert np.array_equal(again.lengths_mm, result.lengths_mm) and np.array_equal(again.shuffled_mm, result.shuffled_mm)


def test_unrelated_patterns_are_not_shorter_than_shuffled(sheets):
    source_xy, target_xy, centres = sheets
    rng = np.random.default_rng(2)
    source = blob_responses(source_xy, centres, 0.05, rng)
    target = blob_responses(target_xy, rng.uniform(0.1, 0.9, size=centres.shape), 0.05, rng)
    result = wiring_lengths(source_xy, source, target_xy, target, target_side_mm=70.0, n_clusters=4, seed=0)
    assert result.ratio > 0.75  # measured 0.95


def test_alignment_is_relative_and_in_target_mm():
    rng = np.random.default_rng(1)
    target_xy = rng.uniform(10, 80, size=(50, 2))
    source_xy = 0.01 * (target_xy - 10)  # the same layout on a 0.7 mm sheet, shifted
    source, target = align_sheets(source_xy, target_xy, target_side_mm=70.0)
    assert np.allclose(source, target)
    assert target.min() == pytest.approx(0.0) and target.max() == pytest.approx(70.0)
    responses = rng.uniform(0, 1, size=50)
    length, fibres = pattern_wiring_length(source, responses, target, responses, n_clusters=3,
                                           active_fraction=0.2)
    assert fibres == 3 and length == pytest.approx(0.0, abs=1e-9)


def test_active_units_and_matching():
    responses = np.array([0.0, 5.0, -1.0, 3.0, 0.0, 4.0, 0.0, 0.0, 0.0, 0.0])
    assert active_units(responses, 0.2).tolist() == [1, 5]
    assert active_units(responses, 0.9).tolist() == [1, 3, 5]  # silent units are never active
    assert active_units(np.zeros(10), 0.5).size == 0
    source = np.array([[0.0, 0.0], [10.0, 0.0]])
    target = np.array([[10.0, 1.0], [0.0, 2.0]])
    assert matched_length(source, target) == pytest.approx(3.0)  # crossing pairs would cost 2 x sqrt(101)


def test_silent_pattern_is_left_out():
    rng = np.random.default_rng(2)
    xy = rng.uniform(0, 1, size=(100, 2))
    responses = rng.uniform(0, 1, size=(3, 100))
    responses[1] = 0.0
    result = wiring_lengths(xy, responses, xy, responses, n_clusters=2, active_fraction=0.1)
    assert np.isnan(result.lengths_mm[1]) and result.valid.tolist() == [True, False, True]
    assert result.summary()["n_patterns_used"] == 2
    with pytest.raises(ValueError, match="positions"):
        wiring_lengths(xy[:50], responses, xy, responses)
