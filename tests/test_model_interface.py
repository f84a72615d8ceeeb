import numpy as np
import pytest
import torch
from PIL import Image

from topobench.errors import ModelError
from topobench.model_interface import PytorchModel
from topobench.nets import resnet18
from topobench.positions import retinotopic_positions
from topobench.preprocessing import place_on_field
from topobench.stimuli import sine_gratings
from topobench.stimuli.base import subset


def small_model(**kwargs):
    return PytorchModel(resnet18(num_classes=None, seed=0), "test-resnet18-seed0-64px",
                        {"V1": "layer2.0", "VTC": "layer4.1"}, image_size=64, **kwargs)


@pytest.fixture(scope="module")
def gratings():
    stimuli = sine_gratings()
    return subset(stimuli, stimuli["phase_deg"] == 0)


def test_record_carries_positions_and_metadata(gratings, fresh_home):
    model = small_model()
    assembly = model.record(gratings, "V1")
    assert assembly.dims == ("presentation", "neuroid") and assembly.shape == (len(gratings), 128 * 8 * 8)
    for coord in ("neuroid_id", "region", "layer", "channel", "row", "col", "tissue_x", "tissue_y"):
        assert len(assembly[coord].values) == assembly.shape[1]
    assert set(assembly["orientation_deg"].values) == set(gratings["orientation_deg"])
    assert assembly.attrs["positions_by_default"]
    channel, row, col = (assembly[c].values for c in ("channel", "row", "col"))
    assert (channel[0], row[0], col[0]) == (0, 0, 0) and (row[1], col[1]) == (0, 1)


def test_second_recording_does_no_forward_pass(gratings, fresh_home, monkeypatch):
    first = small_model().record(gratings, "V1")
    model = small_model()
    monkeypatch.setattr(model, "_forward", lambda *a, **k: pytest.fail("forward pass despite the cache"))
    second = model.record(gratings, "V1")
    np.testing.assert_array_equal(first.values, second.values)


def test_cache_misses_when_weights_change(gratings, fresh_home):
    first = small_model().record(gratings, "V1")
    other = PytorchModel(resnet18(num_classes=None, seed=1), "test-resnet18-seed0-64px", {"V1": "layer2.0"},
                         image_size=64)
    assert not np.allclose(first.values, other.record(gratings, "V1").values)


def test_unknown_layer_names_the_closest():
    with pytest.raises(ModelError, match="layer 'layer2.2'.*closest layer names: layer2.1"):
        PytorchModel(resnet18(num_classes=None, seed=0), "m", {"V1": "layer2.2"})


def test_missing_region_and_wrong_positions(gratings):
    model = small_model()
    with pytest.raises(ModelError, match="no layer to region V4"):
        model.record(gratings, "V4")
    wrong = small_model(positions={"layer2.0": retinotopic_positions("layer2.0", (128, 28, 28))})
    with pytest.raises(ModelError, match="dims .*128, 28, 28.*128, 8, 8"):
        wrong.layer_positions("V1")
    assert not wrong.positions_by_default["V1"]


def test_image_placed_by_visual_degrees(tmp_path):
    path = tmp_path / "white.png"
    Image.fromarray(np.full((100, 100, 3), 255, np.uint8)).save(path)
    half = place_on_field(path, 4.0, 8.0, 64)  # a 4 degree image on an 8 degree field
    covered = (half[..., 0] > 200).sum()
    assert abs(covered - 32 * 32) <= 64 and half[0, 0, 0] == 128
    full = place_on_field(path, 16.0, 8.0, 64)  # larger than the field: cropped
    assert (full > 200).all()
