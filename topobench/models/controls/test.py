"""The controls: registered in the family 'controls', they record like any model, their positions are
what they claim, and each shuffled twin has the same units at permuted places. Fast: the 64 px V1
control on a subset of the gratings, the 224 px one without recording, the VTC control without fLoc
(its scores: ``topobench validity`` and tests/test_validity.py)."""
import numpy as np
import pytest

from topobench.models.controls import CONTROLS, FAMILY, v1_gabor, vtc_layout
from topobench.positions import SHEET_SIDE_MM, retinotopic_positions
from topobench.registry import load_model, model_registry, names

V1_IDENTIFIERS = ("control-v1-bandlimited-224px", "control-v1-bandlimited-224px-shuffled",
                  "control-v1-bandlimited-64px", "control-v1-bandlimited-64px-shuffled",
                  "control-v1-salt-and-pepper", "control-v1-constant")
VTC_IDENTIFIERS = ("control-vtc-efficientnet-lite0-human-layout",
                   "control-vtc-efficientnet-lite0-human-layout-shuffled")


def _gratings(color=None, phases=(0.0,)):
    """The grating set's images of one phase (and colour): 64 or 128 images."""
    from topobench.stimuli.base import subset
    from topobench.stimuli.gratings import sine_gratings
    stimuli = sine_gratings()
    keep = stimuli["phase_deg"].isin(phases)
    if color is not None:
        keep &= stimuli["color"] == color
    return subset(stimuli, keep.to_numpy())


@pytest.fixture(scope="module")
def control64():
    return load_model("control-v1-bandlimited-64px")


@pytest.fixture(scope="module")
def recorded64(control64):
    return control64.record(_gratings(), "V1")


def test_registered_as_controls():
    registered = set(names("model"))
    assert set(V1_IDENTIFIERS + VTC_IDENTIFIERS) <= registered
    assert set(CONTROLS) == set(V1_IDENTIFIERS + VTC_IDENTIFIERS)
    for identifier in V1_IDENTIFIERS + VTC_IDENTIFIERS:
        factory = model_registry[identifier]
        assert factory.family == FAMILY == "controls"
        assert factory.kind == CONTROLS[identifier]["kind"]
    assert CONTROLS["control-v1-bandlimited-224px-shuffled"]["twin_of"] == "control-v1-bandlimited-224px"
    assert CONTROLS[VTC_IDENTIFIERS[1]]["twin_of"] == VTC_IDENTIFIERS[0]
    assert {CONTROLS[i]["kind"] for i in V1_IDENTIFIERS} == {"positive", "shuffled", "salt-and-pepper", "constant"}


def test_positions_are_the_default_v1_sheet_at_resnet18_unit_density():
    assert v1_gabor.SHEET_MM == SHEET_SIDE_MM["layer2.0"] == 36.75
    for size, grid in ((224, 28), (64, 8)):
        maps = v1_gabor.control_maps("bandlimited", size)
        assert maps.dims == (128, grid, grid) and maps.n_units == 128 * grid * grid  # 100,352 and 8,192
        expected = retinotopic_positions("layer2.0", (128, grid, grid), 36.75, seed=0).coordinates
        np.testing.assert_array_equal(maps.positions, expected)


def test_model_interface_and_positions(control64):
    assert control64.family == "controls" and control64.regions == {"V1": v1_gabor.LAYER}
    assert control64.visual_degrees == 8.0 and control64.image_size == 64
    positions = control64.layer_positions("V1")
    assert positions.dims == (128, 8, 8) and positions.sheet_side_mm == 36.75
    np.testing.assert_array_equal(positions.coordinates, control64.maps.positions)
    assert control64.positions_by_default == {"V1": False}
    assert control64.weights_sha256 == load_model("control-v1-bandlimited-64px").weights_sha256
    assert control64.weights_sha256 != load_model("control-v1-bandlimited-64px-shuffled").weights_sha256


def test_it_records_and_its_units_have_the_map_s_preferences(control64, recorded64):
    """Through its filters: the closed-form preferred orientation (b/w gratings, best SF) is the map's."""
    from topobench.metrics.orientation_tuning import grating_tuning
    from topobench.metrics.v1_maps import color_preference_index
    assert recorded64.shape == (128, control64.maps.n_units)
    np.testing.assert_array_equal(recorded64["tissue_x"].values, control64.maps.positions[:, 0])
    assert (recorded64.values >= 0).all() and recorded64.values.std() > 0
    tuning = grating_tuning(recorded64)
    error = np.abs((tuning["preferred_orientation_deg"].to_numpy() - control64.maps.orientation_deg + 90) % 180 - 90)
    assert np.median(error) < 1.0 and np.percentile(error, 90) < 5.0
    correlation = np.corrcoef(np.log2(tuning["preferred_sf_cpd"].to_numpy()), np.log2(control64.maps.sf_cpd))[0, 1]
    assert correlation > 0.95
    index, _bw, _colour = color_preference_index(recorded64)
    difference = np.abs(index - control64.maps.color_index)
    assert np.median(difference) < 0.01 and difference.max() < 0.06  # one phase here
    # the map's spacing and its cardinal warp
    assert control64.truth["spacing_mm"] == 3.5
    preferred = tuning["preferred_orientation_deg"].to_numpy()
    cardinal = np.minimum(preferred % 90, 90 - preferred % 90) < 22.5
    assert 0.55 < cardinal.mean() < 0.67


def test_shuffled_twin_has_the_same_units_at_permuted_places(control64, recorded64):
    twin = load_model("control-v1-bandlimited-64px-shuffled")
    for name in ("orientation_deg", "sf_cpd", "color_index"):
        np.testing.assert_array_equal(getattr(twin.maps, name), getattr(control64.maps, name))
    permutation = v1_gabor.shuffle_permutation(control64.maps.n_units)
    np.testing.assert_array_equal(twin.maps.positions, control64.maps.positions[permutation])
    assert not np.allclose(twin.maps.positions, control64.maps.positions)
    few = _gratings(color="bw")
    few = few.iloc[::8]
    few.stimulus_paths = _gratings(color="bw").stimulus_paths
    from topobench.stimuli.base import make_stimulus_set
    few = make_stimulus_set(few, few.stimulus_paths, "gratings-few")
    np.testing.assert_allclose(twin.record(few, "V1").values, control64.record(few, "V1").values, rtol=1e-5)


def test_salt_and_pepper_and_constant_maps():
    salt = v1_gabor.control_maps("salt-and-pepper", 64)
    positive = v1_gabor.control_maps("bandlimited", 64)
    np.testing.assert_array_equal(salt.positions, positive.positions)
    assert salt.orientation_deg.std() > 40 and not np.allclose(salt.orientation_deg, positive.orientation_deg)
    constant = v1_gabor.control_maps("constant", 64)
    assert np.all(constant.orientation_deg == 45.0) and np.allclose(constant.sf_cpd, 1.0776)
    assert np.all(constant.color_index == 0.0)
    assert load_model("control-v1-salt-and-pepper").maps.dims == (128, 28, 28)


def test_the_orientation_map_has_a_known_pinwheel_density():
    truth = v1_gabor.true_pinwheel_density()
    assert truth["n_pinwheels"] == 363
    assert truth["density_per_spacing2"] == pytest.approx(np.pi, rel=0.06)


def test_a_224px_control_records_a_few_images():
    model = load_model("control-v1-bandlimited-224px")
    few = _gratings(color="bw")
    from topobench.stimuli.base import make_stimulus_set
    few = make_stimulus_set(few.iloc[:4], few.stimulus_paths, "gratings-four")
    assembly = model.record(few, "V1")
    assert assembly.shape == (4, 100_352) and np.isfinite(assembly.values).all()


def test_vtc_control_is_a_permutation_of_the_default_placement_fitted_without_floc():
    from topobench.models.efficientnet_lite0_imagenet.model import build as build_network
    control = load_model(VTC_IDENTIFIERS[0])
    twin = load_model(VTC_IDENTIFIERS[1])
    network = build_network()
    assert control.family == "controls" and control.regions == {"VTC": "_blocks.15"}
    assert control.weights_sha256 == network.weights_sha256
    start = network.layer_positions("VTC").coordinates
    mine = control.layer_positions("VTC")
    assert mine.dims == (320, 7, 7) and mine.sheet_side_mm == 70.0
    assert np.allclose(np.sort(mine.coordinates, axis=0), np.sort(start, axis=0))
    assert not np.allclose(mine.coordinates, start)
    permutation = np.random.default_rng(vtc_layout.SHUFFLE_SEED).permutation(mine.n_units)
    np.testing.assert_array_equal(twin.layer_positions("VTC").coordinates, mine.coordinates[permutation])
    provenance = mine.provenance
    assert "floc" not in str(provenance["stimulus_sources"]).lower()
    assert provenance["stimuli"]["faces"] == 240 and provenance["stimuli"]["bodies"] == 33  # maillot: 2 classes
    counts = provenance["region_counts"]
    assert counts["faces"]["least_dprime"] > 1.0  # every unit in the face patches is face-selective on the fit
    labels = vtc_layout.template_labels(mine.coordinates)
    assert (labels == "faces").sum() == counts["faces"]["units"]


def test_layout_places_the_most_selective_units_in_their_regions():
    rng = np.random.default_rng(0)
    positions = rng.uniform(0, 70, (3000, 2))
    selectivity = {domain: rng.normal(size=3000) for domain in vtc_layout.DOMAINS}
    placed, counts = vtc_layout.layout(selectivity, positions)
    assert np.allclose(np.sort(placed, axis=0), np.sort(positions, axis=0))
    labels = vtc_layout.template_labels(placed)
    faces = selectivity["faces"][labels == "faces"]
    assert faces.min() >= np.sort(selectivity["faces"])[-len(faces)]
    assert counts["faces"]["units"] == len(faces)
