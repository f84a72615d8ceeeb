"""Scores follow the maps, not the estimator (issue 13, items 3 and the Nauhaus monotonicity):

- three equally smooth maps whose spectral maxima differ (a real peak at 3.5 mm, one at 7 mm on a
  sheet twice as large, and a maximum at the size of the sheet, which is no peak) score alike on
  Nauhaus2012: each is measured in its own spacing or, without a real peak, in the declared scale;
- scattering units never raises a Nauhaus2012 score;
- a shuffled map scores at most 0.1 and a constant map 0.
"""
import os

import numpy as np
import pytest

from topobench.metrics.synthetic_maps import SyntheticV1Model, band_limited_field, band_limited_map, random_positions
from topobench.registry import load_benchmark

ORIENTATION = "Nauhaus2012.V1-orientation_smoothness"
SF = "Nauhaus2012.V1-sf_smoothness"
SIDE_MM, SPACING_MM = 36.75, 3.5   # TDANN's V1 sheet and hypercolumn: the declared scale is 3.5 mm


@pytest.fixture(scope="module")
def benchmarks():
    if not os.environ.get("TOPOBENCH_DATA_URL"):
        pytest.fail("no data host: set TOPOBENCH_DATA_URL", pytrace=False)
    return {name: load_benchmark(name) for name in (ORIENTATION, SF)}


def _chosen(n_units, fraction, seed):
    return np.random.default_rng(seed).choice(n_units, int(round(fraction * n_units)), replace=False)


def _scattered(theta, fraction, seed):
    theta = np.array(theta, dtype=np.float64)
    chosen = _chosen(len(theta), fraction, seed)
    theta[chosen] = np.random.default_rng(seed + 1).uniform(0.0, 180.0, len(chosen))
    return theta


@pytest.fixture(scope="module")
def three_maps():
    """Three maps, equally smooth at their scale (a band-limited map with 40 % of its units
    scattered, so that it is weakly smooth like the registered models and its score is not at 1):

    - ``peak 3.5 mm``: on TDANN's 36.75 mm sheet, spacing 3.5 mm: a real spectral peak, equal to
      the declared scale;
    - ``peak 7 mm``: an independent map of spacing 7 mm on a 73.5 mm sheet with 4 x the units
      (the same units per squared spacing): a real peak at 7 mm;
    - ``maximum at the sheet``: the 3.5 mm map whose scattered units (47 %) belong to one channel
      and follow a gradient across the sheet (as a weight-shared channel whose preference drifts
      with the visual field would): the spectrum's maximum is at the size of the sheet, no real
      peak, so the declared 3.5 mm is used. The scored curve (pairs of different channels) leaves
      out pairs within that channel; 47 % is the fraction that leaves it as smooth as 40 %
      scattered: (1 - f) / (1 + f) = (1 - 0.4)^2.
    """
    fraction, seed = 0.4, 1
    positions = random_positions(10000, SIDE_MM, seed=seed)
    base = band_limited_map(positions, SPACING_MM, seed=seed)
    wide = random_positions(40000, 2 * SIDE_MM, seed=seed + 100)
    drifting = base.copy()
    channel = np.arange(len(base))
    chosen = _chosen(len(base), 1 - 2 * (1 - fraction) ** 2 / (1 + (1 - fraction) ** 2), seed)
    drifting[chosen] = np.mod(180.0 * positions[chosen, 0] / SIDE_MM, 180.0)
    channel[chosen] = -1
    return {
        "peak 3.5 mm": SyntheticV1Model(positions, _scattered(base, fraction, seed), identifier="peak-3.5mm"),
        "peak 7 mm": SyntheticV1Model(wide, _scattered(band_limited_map(wide, 2 * SPACING_MM, seed=seed + 100),
                                                       fraction, seed), identifier="peak-7mm"),
        "maximum at the sheet": SyntheticV1Model(positions, drifting, channel=channel, identifier="max-at-sheet"),
    }


def test_equally_smooth_maps_score_alike_whatever_their_spectral_maximum(benchmarks, three_maps):
    """Measured: 0.689, 0.682, 0.681, each +- 0.024 (curves at 0.71, 0.71, 0.70 of shuffled at the
    nearest bin). Measured in its spectrum's maximum (36.9 mm, the sheet), as version 1 did, the
    third map's curve is flat: 0.08."""
    benchmark = benchmarks[ORIENTATION]
    scores = {name: benchmark(model) for name, model in three_maps.items()}
    scales = {name: score.attrs["details"]["scale"] for name, score in scores.items()}
    assert scales["peak 3.5 mm"]["source"] == "spectral peak"
    assert scales["peak 3.5 mm"]["spacing_mm"] == pytest.approx(SPACING_MM, rel=0.05)
    assert scales["peak 7 mm"]["source"] == "spectral peak"
    assert scales["peak 7 mm"]["spacing_mm"] == pytest.approx(2 * SPACING_MM, rel=0.05)
    assert scales["maximum at the sheet"]["source"] == "declared"
    assert scales["maximum at the sheet"]["spectral_maximum_spacing_mm"] > 30
    assert scales["maximum at the sheet"]["spacing_mm"] == pytest.approx(SPACING_MM, rel=0.01)
    near = [score.attrs["details"]["model_curve"]["ratio_other_channel"][0] for score in scores.values()]
    assert max(near) - min(near) < 0.04 and 0.6 < min(near) < 0.8   # equally (and weakly) smooth
    values = {name: float(score) for name, score in scores.items()}
    errors = {name: score.attrs["error"] for name, score in scores.items()}
    assert 0.5 < min(values.values()) and max(values.values()) < 0.85
    for first in values:
        for second in values:
            assert abs(values[first] - values[second]) <= errors[first] + errors[second], (values, errors)
    # what the spectrum's maximum as a spacing did to the third map
    drifting = three_maps["maximum at the sheet"]
    phantom = benchmark.score_map(drifting.positions, drifting.orientation,
                                  scales["maximum at the sheet"]["spectral_maximum_spacing_mm"],
                                  channels=drifting.channel)
    assert float(phantom) < 0.1


def test_scattering_units_never_raises_the_score(benchmarks):
    """Version 1 scored a perfect band-limited map 0.84 and the same map with 25 % of its units
    scattered 0.87: its curve is smoother than the macaque's at the nearest distances and higher
    beyond, and matching the macaque exactly was rewarded. curve_agreement clips the curve into the
    band between 1 and the macaque's; measured, orientation: 1.00, 0.995, 0.86, 0.53, 0.16, 0.01;
    spatial frequency: 1.00, 1.00, 0.98, 0.64, 0.17, 0.04."""
    positions = random_positions(20000, SIDE_MM, seed=2)
    theta = band_limited_map(positions, SPACING_MM, seed=3)
    field = np.real(band_limited_field(positions, SPACING_MM, seed=4))
    log_sf = np.clip(0.3 + 0.6 * field / field.std(), -1, 1.58)
    fractions = (0.0, 0.1, 0.25, 0.5, 0.75, 1.0)
    scores = {ORIENTATION: [], SF: []}
    for fraction in fractions:
        chosen = _chosen(len(theta), fraction, seed=11)
        rng = np.random.default_rng(12)
        scattered_theta, scattered_sf = theta.copy(), log_sf.copy()
        scattered_theta[chosen] = rng.uniform(0, 180, len(chosen))
        scattered_sf[chosen] = rng.uniform(-1, 1.58, len(chosen))
        model = SyntheticV1Model(positions, scattered_theta, 2.0 ** scattered_sf, identifier=f"scattered-{fraction}")
        for name in scores:
            scores[name].append(float(benchmarks[name](model)))
    for name, values in scores.items():
        assert values[0] > 0.9, (name, values)
        assert all(later <= earlier + 0.005 for earlier, later in zip(values, values[1:])), (name, values)
        assert values[-1] < 0.1, (name, values)


def test_shuffled_and_constant_maps(benchmarks):
    positions = random_positions(10000, SIDE_MM, seed=5)
    theta = band_limited_map(positions, SPACING_MM, seed=6)
    shuffled = SyntheticV1Model(positions, np.random.default_rng(7).permutation(theta), identifier="shuffled")
    constant = SyntheticV1Model(positions, np.full(len(theta), 45.0), identifier="constant")
    benchmark = benchmarks[ORIENTATION]
    assert float(benchmark(shuffled)) <= 0.1
    score = benchmark(constant)
    assert float(score) == 0.0 and "constant" in score.attrs["details"]["scored_zero_because"]
