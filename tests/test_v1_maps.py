"""The V1 maps of a grating recording are computed once and shared by the benchmarks that score it:
the shared copy equals a fresh computation, cannot be changed by one benchmark under another's
feet, and never answers for a different recording."""
import itertools

import numpy as np
import pytest
import xarray as xr

from topobench.metrics import v1_maps
from topobench.stimuli.gratings import COLORS, ORIENTATIONS_DEG, PHASES_DEG, SPATIAL_FREQUENCIES_CPD


def grating_recording(seed: int, n_units: int = 300) -> xr.DataArray:
    rows = list(itertools.product(COLORS, ORIENTATIONS_DEG, SPATIAL_FREQUENCIES_CPD, PHASES_DEG))
    rng = np.random.default_rng(seed)
    values = ((rng.gamma(2.0, 1.0, size=(len(rows), n_units)) - 0.5) * rng.uniform(0.01, 1, n_units)).astype(np.float32)
    presentation = {name: ("presentation", np.array([row[k] for row in rows]))
                    for k, name in enumerate(("color", "orientation_deg", "sf_cpd", "phase_deg"))}
    neuroid = {"tissue_x": ("neuroid", rng.uniform(0, 5, n_units)), "tissue_y": ("neuroid", rng.uniform(0, 5, n_units)),
               "channel": ("neuroid", np.arange(n_units) % 8)}
    return xr.DataArray(values, dims=["presentation", "neuroid"], coords={**presentation, **neuroid})


def fields(maps):
    return [maps.positions_mm, maps.channel, maps.orientation_deg, maps.sf_cpd, maps.circular_variance,
            maps.color_index]


def test_shared_maps_equal_a_fresh_computation_and_are_read_only():
    recording = grating_recording(0)
    first = v1_maps.v1_maps_from_assembly(recording, "model-a")
    second = v1_maps.v1_maps_from_assembly(recording, "model-b")
    fresh = v1_maps._compute_v1_maps(recording, "model-a", 0.1, "test")
    assert second.model_identifier == "model-b" and first.model_identifier == "model-a"
    for shared, again, computed in zip(fields(first), fields(second), fields(fresh)):
        np.testing.assert_array_equal(shared, computed)
        assert again is shared  # not recomputed
        with pytest.raises(ValueError):
            shared[0] = 0  # one benchmark cannot change the maps another scores


def test_another_recording_or_threshold_gets_its_own_maps():
    one, other = grating_recording(0), grating_recording(1)
    maps_one = v1_maps.v1_maps_from_assembly(one)
    maps_other = v1_maps.v1_maps_from_assembly(other)
    assert not np.array_equal(maps_one.orientation_deg, maps_other.orientation_deg)
    stricter = v1_maps.v1_maps_from_assembly(one, relative_threshold=0.5)
    assert stricter.n_responsive < maps_one.n_responsive


def test_the_memo_does_not_keep_a_recording_alive():
    recording = grating_recording(2)
    v1_maps.v1_maps_from_assembly(recording)
    key = (id(recording), 0.1)
    assert key in v1_maps._MAPS_OF_RECORDING
    del recording
    assert key not in v1_maps._MAPS_OF_RECORDING
