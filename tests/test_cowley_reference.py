"""The Cowley et al. 2023 V4 reference data as topobench reads it: image order,
byte-identical repeats and their groups, per-repeat responses, coordinates."""
import numpy as np
import pytest

from topobench.errors import DataError
from topobench.metrics.neural_predictivity import grouped_folds
from topobench.reference_data.cowley2023 import (IMAGE_DEGREES, SESSION_IDS, SESSIONS, cowley2023_assembly,
                                                 cowley2023_repeats, cowley2023_stimuli, duplicate_pairs)


@pytest.fixture(scope="module")
def session_190925(data_host_module):
    stimuli = cowley2023_stimuli("190925")
    return stimuli, cowley2023_assembly("190925", stimuli)


@pytest.fixture(scope="module")
def session_210325(data_host_module):
    stimuli = cowley2023_stimuli("210325")
    return stimuli, cowley2023_assembly("210325", stimuli), cowley2023_repeats("210325", stimuli)


@pytest.fixture(scope="module")
def data_host_module():
    import os
    if not os.environ.get("TOPOBENCH_DATA_URL"):
        pytest.fail("no data host: set TOPOBENCH_DATA_URL", pytrace=False)


def test_twelve_sessions_as_in_the_readme():
    assert len(SESSION_IDS) == 12
    assert SESSIONS["210325"].role == "test" and SESSIONS["210224"].role == "validation"
    assert {SESSIONS[s].animal for s in SESSION_IDS} == {"WE", "PE", "RA"}


def test_images_read_in_file_name_order(session_190925):
    stimuli, _ = session_190925
    assert list(stimuli["image_index"]) == list(range(1, 1201))  # the zip is not stored in this order
    assert list(stimuli["filename"][:2]) == ["image0001.jpg", "image0002.jpg"]
    assert stimuli["stimulus_id"].is_unique
    assert (stimuli["degrees"] == IMAGE_DEGREES).all()
    assert stimuli.identifier == "Cowley2023.190925"
    paths = stimuli.stimulus_paths
    assert paths["190925_image0901"].read_bytes() == paths["190925_image0001"].read_bytes()
    assert paths["190925_image0902"].read_bytes() != paths["190925_image0001"].read_bytes()


def test_byte_identical_repeats_share_a_group(session_190925):
    stimuli, assembly = session_190925
    content = stimuli["content_group"].to_numpy()
    group = stimuli["image_group"].to_numpy()
    assert (content[900:] == np.arange(300)).all() and (content[:900] == np.arange(900)).all()
    assert (group[900:] == group[:300]).all()
    pairs = duplicate_pairs(stimuli)
    assert pairs.shape == (300, 2) and (pairs[:, 1] - pairs[:, 0] == 900).all()
    # the repeats' responses agree far better than unrelated images'
    values = assembly.values
    repeat_r = np.corrcoef(values[:300].ravel(), values[900:].ravel())[0, 1]
    other_r = np.corrcoef(values[:300].ravel(), values[300:600].ravel())[0, 1]
    assert repeat_r == pytest.approx(0.93, abs=0.01) and other_r < 0.6


def test_folds_keep_repeated_images_together(session_190925):
    stimuli, _ = session_190925
    folds = grouped_folds(stimuli["image_group"].to_numpy(), 10, seed=0)
    assert (folds[:300] == folds[900:]).all()
    assert np.bincount(folds).max() - np.bincount(folds).min() <= 4


def test_assembly_coordinates(session_210325):
    stimuli, assembly, _ = session_210325
    assert assembly.dims == ("presentation", "neuroid") and assembly.shape == (640, 50)
    assert list(assembly["stimulus_id"].values) == list(stimuli["stimulus_id"])
    assert set(assembly["image_type"].values) == {"bashivan2019"}
    assert (assembly["session"].values == "210325").all() and (assembly["animal"].values == "PE").all()
    assert list(assembly["neuron"].values) == list(range(50))
    assert assembly["neuroid_id"].values[3] == "210325.3"
    assert assembly.attrs["role"] == "test" and assembly.attrs["stimulus_set_identifier"] == "Cowley2023.210325"


def test_per_repeat_responses(session_210325):
    _, assembly, repeats = session_210325
    assert repeats.shape == (640, 50, 10)
    counts = repeats["n_repeats"].values
    assert counts.min() == 6 and counts.max() == 10
    values = repeats.values
    present = ~np.isnan(values)
    assert (present.sum(axis=2) == counts[:, None]).all()
    assert np.array_equal(values[present], np.round(values[present]))  # spike counts
    assert np.allclose(np.nanmean(values, axis=2), assembly.values)


def test_bashivan_images_shared_with_210322(session_210325):
    stimuli, _, _ = session_210325
    other = cowley2023_stimuli("210322")
    assert list(other["image_sha256"][600:]) == list(stimuli["image_sha256"][:600])
    assert set(other["image_type"][:600]) == {"normal"} and set(other["image_type"][600:]) == {"bashivan2019"}


def test_unknown_session_and_missing_repeats_fail_clearly(data_host_module):
    with pytest.raises(DataError, match="190924"):
        cowley2023_stimuli("190924")
    with pytest.raises(DataError, match="only 210325"):
        cowley2023_repeats("190923")


@pytest.mark.slow
def test_every_session_matches_its_responses():
    for session in SESSION_IDS:
        stimuli = cowley2023_stimuli(session)
        assembly = cowley2023_assembly(session, stimuli)
        assert assembly.shape == (len(stimuli), SESSIONS[session].n_neurons)
        assert np.isfinite(assembly.values).all() and (assembly.values >= 0).all()
    blurred = cowley2023_stimuli("210305")
    assert blurred["image_group"].nunique() < 210  # 100 originals with 2 blurred copies each, grouped
    twice = cowley2023_stimuli("210621")
    assert (twice["content_group"].to_numpy() != np.arange(1200)).sum() == 2
