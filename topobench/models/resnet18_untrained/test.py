import numpy as np
import torch

from topobench.registry import load_model


def test_registered_and_seeded():
    first, second = load_model("resnet18-untrained"), load_model("resnet18-untrained")
    assert first.identifier == "resnet18-untrained"
    assert first.weights_sha256 == second.weights_sha256  # seeded initialisation
    assert first.regions == {"V1": "layer2.0", "V4": "layer3.1", "VTC": "layer4.1"}


def test_default_positions_fill_tdann_sheets():
    model = load_model("resnet18-untrained")
    positions = model.layer_positions("V1")
    assert positions.dims == (128, 28, 28)
    assert np.allclose(positions.coordinates.min(axis=0), 0) and np.allclose(positions.coordinates.max(axis=0), 36.75)
    assert model.positions_by_default["V1"]


def test_untrained_weights_differ_from_another_seed():
    from topobench.nets import resnet18
    model = load_model("resnet18-untrained")
    other = resnet18(seed=1)
    assert not torch.equal(model.module.conv1.weight, other.conv1.weight)
