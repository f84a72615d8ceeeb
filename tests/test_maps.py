"""V1 map statistics on maps with known answers: column spacing, pinwheels, smoothness
curves, colour clustering, the orientation histogram."""
import numpy as np
import pytest

from topobench.metrics.color_clustering import clustering_index, clustering_null
from topobench.metrics.column_spacing import column_spacing
from topobench.metrics.orientation_histogram import cardinal_bias, orientation_histogram
from topobench.metrics.pinwheels import detect_pinwheels, smoothed_orientation_map, winding_numbers
from topobench.metrics.smoothness import (absolute_difference, curve_similarity, difference_curve,
                                          preference_spread, smoothness_index)
from topobench.metrics.synthetic_maps import (band_limited_field, band_limited_map, pinwheel_lattice,
                                              pinwheel_lattice_count, random_positions, salt_and_pepper,
                                              smoothed_salt_and_pepper)

SIDE_MM = 36.75     # TDANN's V1 sheet
SPACING_MM = 3.5    # TDANN's hypercolumn


@pytest.fixture(scope="module")
def positions():
    return random_positions(30000, SIDE_MM, seed=0)


# -- column spacing -----------------------------------------------------------------------
def test_spacing_of_band_limited_map_is_its_wavelength(positions):
    for spacing in (2.5, 3.5, 6.0):
        peak = column_spacing(positions, band_limited_map(positions, spacing, seed=1))
        assert peak.spacing_mm == pytest.approx(spacing, rel=0.05)
        assert peak.is_real and peak.peak_to_low > 10 and peak.peak_to_high > 10


def test_no_real_peak_for_salt_and_pepper_or_smoothed_salt_and_pepper(positions):
    salt = column_spacing(positions, salt_and_pepper(len(positions), seed=2))
    assert not salt.is_real and salt.peak_to_high < 2
    smoothed = column_spacing(positions, smoothed_salt_and_pepper(positions, sigma_mm=1.0, seed=3))
    assert not smoothed.is_real  # low-pass: its maximum sits at the lowest frequencies
    assert smoothed.spacing_mm > 3 * SPACING_MM and not smoothed.peak_to_low >= 2


def test_constant_map_has_no_spacing(positions):
    peak = column_spacing(positions, np.full(len(positions), 30.0))
    assert not peak.is_real and np.isnan(peak.spacing_mm)


# -- pinwheels ----------------------------------------------------------------------------
def test_single_pinwheel_winding_numbers():
    y, x = np.mgrid[-5:5, -5:5] + 0.5  # rows along y, columns along x; the origin inside plaquette (4, 4)
    theta = np.rad2deg(np.arctan2(y, x)) / 2 % 180  # charge +1/2 at the origin
    winding = winding_numbers(theta)
    assert np.abs(winding).sum() == 0.5 and winding[4, 4] == 0.5
    assert winding_numbers(180 - theta)[4, 4] == -0.5


def test_pinwheel_lattice_count_within_ten_percent(positions):
    """A map of plane waves with a known number of pinwheels gives that count (within 10 %)."""
    theta = pinwheel_lattice(positions, SPACING_MM)
    found = detect_pinwheels(positions, theta)
    smoothed = found.smoothed
    stride = smoothed.stride_mm
    # pinwheels inside the plaquettes analysed: the rectangle spanned by the outer window centres
    expected = pinwheel_lattice_count((smoothed.x_mm[0], smoothed.x_mm[-1]), (smoothed.y_mm[0], smoothed.y_mm[-1]),
                                      SPACING_MM)
    assert found.count == pytest.approx(expected, rel=0.10)
    assert found.density(SPACING_MM) == pytest.approx(4.0, rel=0.10)  # the lattice has 4 per squared spacing
    assert abs(int((found.charges > 0).sum()) - int((found.charges < 0).sum())) <= 0.1 * found.count
    assert found.analysed_area_mm2 == pytest.approx(
        (len(smoothed.x_mm) - 1) * (len(smoothed.y_mm) - 1) * stride ** 2, rel=1e-9)


def test_band_limited_map_density_about_pi(positions):
    """Band-limited random maps have about pi pinwheels per squared spacing (Wolf & Geisel 1998)."""
    densities = []
    for seed in (1, 2, 3):
        theta = band_limited_map(positions, SPACING_MM, seed=seed)
        spacing = column_spacing(positions, theta).spacing_mm
        densities.append(detect_pinwheels(positions, theta).density(spacing))
    assert np.mean(densities) == pytest.approx(np.pi, rel=0.10)


def test_smoothing_is_a_circular_mean_in_windows():
    rng = np.random.default_rng(0)
    positions = rng.uniform(0, 10, size=(5000, 2))
    theta = np.where(positions[:, 0] < 5, 10.0, 170.0)  # 10 and 170 deg: circular mean 0, not 90
    smoothed = smoothed_orientation_map(positions, theta, window_mm=1.5, stride_mm=0.45)
    middle = np.argmin(np.abs(smoothed.x_mm - 5.0))
    assert absolute_difference(smoothed.orientation_deg[:, middle], 0.0, 180).max() < 5
    assert absolute_difference(smoothed.orientation_deg[:, 0], 10.0, 180).max() < 1e-6
    assert (smoothed.counts > 0).all()


# -- smoothness -----------------------------------------------------------------------------
def test_smooth_map_curve_rises_and_shuffled_positions_flatten_it(positions):
    theta = band_limited_map(positions, SPACING_MM, seed=4)
    edges = np.linspace(0, 0.9, 10) * SPACING_MM
    curve = difference_curve(positions, theta, edges, period=180.0, seed=0)
    assert curve.ratio[0] < 0.3 and curve.ratio[3] > 0.8
    assert smoothness_index(curve.ratio) > 0.7
    shuffled = difference_curve(np.random.default_rng(1).permutation(positions), theta, edges, period=180.0)
    assert np.abs(shuffled.ratio - 1).max() < 0.05
    assert smoothness_index(shuffled.ratio) < 0.05
    assert curve.shuffled_difference == pytest.approx(45.0, abs=1.5)  # uniform orientations: mean |diff| 45 deg


def test_same_channel_pairs_are_reported_apart():
    """Copies of a channel side by side (weight sharing) make all-pairs curves smooth; the scored
    curve without same-channel pairs shows the map is salt-and-pepper."""
    rng = np.random.default_rng(0)
    centres = rng.uniform(0, 20, size=(200, 2))
    channels = np.repeat(np.arange(200), 20)
    positions = centres[channels] + rng.normal(0, 0.1, size=(4000, 2))
    preference = rng.uniform(0, 180, 200)[channels]
    curve = difference_curve(positions, preference, np.linspace(0, 2, 5), period=180.0, channels=channels)
    assert curve.ratio[0] < 0.5
    assert curve.ratio_other_channel[0] == pytest.approx(1.0, abs=0.1)
    assert curve.counts_other_channel.sum() < curve.counts.sum()


def test_subsampled_pairs_are_seeded_and_capped(positions):
    theta = band_limited_map(positions, SPACING_MM, seed=5)
    edges = np.linspace(0, 3, 7)
    first = difference_curve(positions, theta, edges, period=180.0, max_pairs=50_000, seed=3)
    second = difference_curve(positions, theta, edges, period=180.0, max_pairs=50_000, seed=3)
    np.testing.assert_array_equal(first.ratio, second.ratio)
    assert first.n_units_sampled < len(positions) and first.counts.sum() <= 100_000


def test_curve_similarity_and_spread():
    reference = np.array([0.3, 0.6, 0.9, 1.1, 1.1])
    assert curve_similarity(reference, reference) == 1.0
    assert curve_similarity(np.ones(5), reference) == 0.0          # salt and pepper
    assert curve_similarity(2 - reference, reference) == pytest.approx(0.0, abs=1e-12)  # mirrored
    assert 0.3 < curve_similarity(0.5 * reference + 0.5, reference) < 1.0  # half as far from flat
    assert curve_similarity(np.array([0.3, 0.6, np.nan, 1.1, 1.1]), reference) < 1.0
    assert preference_spread(np.full(10, 30.0), 180.0) == pytest.approx(0.0, abs=1e-12)
    assert preference_spread(np.linspace(0, 180, 360, endpoint=False), 180.0) == pytest.approx(1.0)
    assert np.isnan(smoothness_index(np.full(5, np.nan)))


def test_circular_difference():
    assert absolute_difference(179.0, 1.0, 180.0) == pytest.approx(2.0)
    assert absolute_difference(0.0, 90.0, 180.0) == pytest.approx(90.0)
    assert absolute_difference(2.0, -1.0) == pytest.approx(3.0)


# -- colour clustering -------------------------------------------------------------------
def test_clustered_colour_preference_beats_shuffled_positions(positions):
    clustered = np.tanh(np.real(band_limited_field(positions, SPACING_MM, seed=6)) / 3)
    edges = np.linspace(0, 0.9, 10)
    curve = difference_curve(positions, clustered, edges * SPACING_MM)
    index = clustering_index(curve.ratio, edges)
    null = clustering_null(positions, clustered, edges, SPACING_MM, n_shuffles=3, max_pairs=100_000)
    assert index > 0.4 and np.abs(null).max() < 0.05
    scattered = np.random.default_rng(7).permutation(clustered)
    assert abs(clustering_index(difference_curve(positions, scattered, edges * SPACING_MM).ratio, edges)) < 0.05


# -- orientation histogram -----------------------------------------------------------------
def test_cardinal_bias_counts():
    preferences = np.array([0, 5, 90, 100, 175, 45, 130, 60] + [22.5])
    bias = cardinal_bias(preferences)
    assert bias["n_cardinal"] == 5 and bias["n_oblique"] == 3  # 22.5 lies between the classes
    assert bias["cardinal_to_oblique_ratio"] == pytest.approx(5 / 3)
    biased = np.concatenate([np.random.default_rng(0).normal(0, 8, 600) % 180, np.linspace(0, 180, 400)])
    assert cardinal_bias(biased)["p_value"] < 1e-6
    assert cardinal_bias(np.linspace(0, 180, 1000, endpoint=False))["p_value"] > 0.3
    counts, centres = orientation_histogram([0, 179, 22.5, 90], n_bins=8)
    assert centres[2] == 45 and counts[0] == 2 and counts[1] == 1 and counts[4] == 1
