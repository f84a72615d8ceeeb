"""Tests of the bundled TDANN pair: what was trained, how, and that only alpha differs."""
import json

import numpy as np
import pytest
import torch

from topobench.models.tdann_mini.model import IDENTIFIERS, folder
from topobench.nets import BLOCK_NAMES
from topobench.registry import load_model


@pytest.fixture(scope="module")
def models():
    return {name: load_model(name) for name in IDENTIFIERS}


def test_registered_with_tdann_regions_and_a_resolvable_field(models):
    from topobench.stimuli.gratings import check_resolvable, sine_gratings
    for name, model in models.items():
        assert model.identifier == name
        assert model.regions == {"V1": "layer2.0", "V4": "layer3.1", "VTC": "layer4.1"}
        assert model.image_size == 64 and model.visual_degrees == 8.0
        check_resolvable(float(sine_gratings()["sf_cpd"].max()), model.image_size, model.visual_degrees, name)
        assert not any(model.positions_by_default.values())


def test_the_pair_shares_swapped_positions_and_differs_only_in_alpha(models):
    first, second = (models[name] for name in IDENTIFIERS)
    for layer in BLOCK_NAMES:
        a, b = first._positions[layer], second._positions[layer]
        assert np.array_equal(a.coordinates, b.coordinates)
        assert "swap" in json.dumps(a.provenance).lower()
    configs = {name: json.loads((folder(name) / "config.json").read_text()) for name in IDENTIFIERS}
    differing = {key for key in configs[IDENTIFIERS[0]] if configs[IDENTIFIERS[0]][key] != configs[IDENTIFIERS[1]][key]}
    assert differing == {"alpha"}
    assert configs["tdann-mini"]["alpha"] == 0.25 and configs["tdann-mini-task-only"]["alpha"] == 0.0
    assert first.weights_sha256 != second.weights_sha256


def test_weights_ship_in_half_precision_with_the_loss_curve():
    for name in IDENTIFIERS:
        weights = torch.load(folder(name) / "weights.pt", weights_only=True)
        assert {t.dtype for t in weights.values() if t.is_floating_point()} == {torch.float16}
        lines = (folder(name) / "losses.csv").read_text().splitlines()
        record = json.loads((folder(name) / "model.json").read_text())
        assert len(lines) - 1 == record["provenance"]["step"]
        assert "floc" not in record["provenance"]["training_sources"]


def test_supervised_has_the_budget_and_positions_of_tdann_mini():
    from topobench.models.tdann_mini.model import SUPERVISED
    supervised, reference = load_model(SUPERVISED), load_model("tdann-mini")
    for layer in BLOCK_NAMES:
        assert np.array_equal(supervised._positions[layer].coordinates, reference._positions[layer].coordinates)
    configs = {name: json.loads((folder(name) / "config.json").read_text()) for name in (SUPERVISED, "tdann-mini")}
    differing = {k for k in configs[SUPERVISED] if configs[SUPERVISED][k] != configs["tdann-mini"][k]}
    assert differing == {"task", "init_from"}  # its own (supervised) task-only base, same steps
    assert configs[SUPERVISED]["task"] == "supervised" and configs[SUPERVISED]["alpha"] == 0.25
