"""Closed-form orientation statistics and per-unit grating tuning."""
import numpy as np
import pandas as pd
import pytest
from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly

from topobench.metrics.orientation_tuning import (
    circular_variance, grating_tuning, orientation_statistics, preferred_orientation,
    responsive_threshold, responsive_units, tuning_column)

ORIENTATIONS = np.arange(8) * 22.5


@pytest.mark.parametrize("index", range(8))
def test_single_orientation_has_cv_0_and_that_preference(index):
    curve = np.zeros(8)
    curve[index] = 3.0
    preferred, variance = orientation_statistics(curve, ORIENTATIONS)
    assert variance == pytest.approx(0.0, abs=1e-12)
    assert preferred == pytest.approx(ORIENTATIONS[index], abs=1e-9)


def test_flat_curve_has_cv_1():
    assert circular_variance(np.full(8, 2.5), ORIENTATIONS) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("amplitude, theta0", [(0.2, 10.0), (0.6, 100.0), (1.0, 170.0), (0.8, 67.5)])
def test_cosine_tuning_gives_cv_1_minus_half_amplitude(amplitude, theta0):
    # sum_k (1 + a cos 2(theta_k - theta0)) e^{2i theta_k} = 8 (a/2) e^{2i theta0} over 8 equal steps
    # and sum_k r_k = 8, so CV = 1 - a/2 and the preferred orientation is theta0.
    curve = 1 + amplitude * np.cos(2 * np.deg2rad(ORIENTATIONS - theta0))
    preferred, variance = orientation_statistics(curve, ORIENTATIONS)
    assert variance == pytest.approx(1 - amplitude / 2, abs=1e-12)
    assert preferred == pytest.approx(theta0, abs=1e-9)


def test_vectorised_over_units_and_axis():
    curves = np.stack([1 + a * np.cos(2 * np.deg2rad(ORIENTATIONS - t)) for a, t in [(0.4, 30), (1.0, 150)]])
    assert np.allclose(circular_variance(curves, ORIENTATIONS), [0.8, 0.5])
    assert np.allclose(preferred_orientation(curves.T, ORIENTATIONS, axis=0), [30, 150])


def test_negative_responses_are_clipped():
    curve = np.array([2.0, -5.0, -5.0, -5.0, -5.0, -5.0, -5.0, -5.0])
    assert circular_variance(curve, ORIENTATIONS) == pytest.approx(0.0, abs=1e-12)
    preferred, variance = orientation_statistics(-np.ones(8), ORIENTATIONS)
    assert np.isnan(preferred) and np.isnan(variance)


def _assembly(units, repeat_colors=("bw", "red_cyan")):
    """Grating responses of hand-made units: unit(ori, sf, phase, color) -> response."""
    sfs = np.geomspace(0.5, 3.0, 8)
    rows = [(o, s, p, c) for c in repeat_colors for o in ORIENTATIONS for s in sfs for p in np.arange(5) * 72.0]
    table = pd.DataFrame(rows, columns=["orientation_deg", "sf_cpd", "phase_deg", "color"])
    table = table.sample(frac=1.0, random_state=0)  # order must not matter
    values = np.array([[unit(o, s, p, c) for unit in units] for o, s, p, c in table.itertuples(index=False)])
    coords = {name: ("presentation", table[name].values) for name in table.columns}
    coords["stimulus_id"] = ("presentation", [f"s{i}" for i in range(len(table))])
    coords["neuroid_id"] = ("neuroid", [f"n{i}" for i in range(len(units))])
    coords["tissue_x"] = ("neuroid", np.arange(len(units), dtype=float))
    return NeuroidAssembly(values, coords=coords, dims=["presentation", "neuroid"]), sfs


def test_grating_tuning_uses_bw_at_preferred_sf_averaged_over_phase():
    def tuned(o, s, p, c):
        # bw: cosine tuning at 45 deg, a = 0.6, only at sf ~1.08; phase modulation averages out
        if c != "bw":
            return 100.0  # colour gratings must be ignored
        gain = 2.0 if abs(s - 1.0776) < 0.01 else 0.5
        return gain * (1 + 0.6 * np.cos(2 * np.deg2rad(o - 45))) * (1 + 0.5 * np.cos(np.deg2rad(p)))

    def sharp(o, s, p, c):
        return 4.0 if (o == 112.5 and abs(s - 3.0) < 1e-6) else 0.0

    def flat(o, s, p, c):
        return 1.0 + s

    assembly, sfs = _assembly([tuned, sharp, flat])
    table = grating_tuning(assembly)
    assert list(table["neuroid_id"]) == ["n0", "n1", "n2"]
    assert np.allclose(table["tissue_x"], [0, 1, 2])
    assert table["preferred_sf_cpd"].tolist() == pytest.approx([sfs[3], 3.0, 3.0])
    assert table["circular_variance"].tolist() == pytest.approx([0.7, 0.0, 1.0], abs=1e-9)
    assert table["preferred_orientation_deg"][:2].tolist() == pytest.approx([45.0, 112.5], abs=1e-9)
    # tuning curve columns hold the phase-averaged curve at the preferred frequency
    assert table[tuning_column(45.0)][0] == pytest.approx(2.0 * 1.6)
    assert table[tuning_column(112.5)][1] == pytest.approx(4.0)
    assert table["mean_response"][1] == pytest.approx(4.0 / 64)


def test_grating_tuning_refuses_incomplete_sets():
    assembly, _ = _assembly([lambda o, s, p, c: 1.0], repeat_colors=("bw",))
    with pytest.raises(ValueError, match="missing"):
        grating_tuning(assembly[1:])
    with pytest.raises(ValueError, match="color"):
        grating_tuning(assembly, color="red_cyan")


def test_responsive_units_relative_to_layer():
    mean = np.concatenate([np.linspace(0, 10, 1000), [np.nan]])
    threshold = responsive_threshold(mean, 0.1)
    assert threshold == pytest.approx(0.1 * np.percentile(mean[:-1], 99))
    mask = responsive_units(mean, 0.1)
    assert mask.sum() == int((mean[:-1] > threshold).sum()) and not mask[-1]
    # scale-free: multiplying the layer by a constant selects the same units
    assert np.array_equal(responsive_units(mean * 1000, 0.1), mask)
    assert not responsive_units(np.zeros(10)).any()
    assert not responsive_units(-np.ones(10)).any()


def test_repeated_gratings_are_averaged():
    def unit(o, s, p, c):
        return 1 + np.cos(2 * np.deg2rad(o - 90)) + s

    assembly, _ = _assembly([unit], repeat_colors=("bw",))
    once = grating_tuning(assembly)
    values = assembly.values
    coords = {name: ("presentation", np.concatenate([assembly[name].values] * 2))
              for name in ("orientation_deg", "sf_cpd", "phase_deg", "color")}
    coords["neuroid_id"] = ("neuroid", ["n0"])
    twice = NeuroidAssembly(np.concatenate([values - 0.5, values + 0.5]), coords=coords,
                            dims=["presentation", "neuroid"])
    repeated = grating_tuning(twice)
    for column in ("circular_variance", "preferred_orientation_deg", "preferred_sf_cpd", "mean_response"):
        assert repeated[column][0] == pytest.approx(once[column][0])
