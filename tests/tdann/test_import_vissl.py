"""Importing the official TDANN release: files built here in exactly its layout."""
import dataclasses
import pickle
import sys
import types

import numpy as np
import pytest
import torch

from topobench.cli import main
from topobench.errors import ModelError
from topobench.nets import resnet18
from topobench.positions import retinotopic_positions
from topobench.registry import load_model


def spacetorch_positions_class():
    """``spacetorch.models.positions.LayerPositions`` as the release pickled it."""
    module = types.ModuleType("spacetorch.models.positions")

    @dataclasses.dataclass
    class LayerPositions:
        name: str
        dims: tuple
        coordinates: np.ndarray
        neighborhood_indices: np.ndarray
        neighborhood_width: float

    LayerPositions.__module__ = module.__name__
    LayerPositions.__qualname__ = "LayerPositions"
    module.LayerPositions = LayerPositions
    return module, LayerPositions


@pytest.fixture
def release(tmp_path, monkeypatch):
    """A VISSL checkpoint and a positions folder as the TDANN release ships them."""
    trunk = resnet18(num_classes=None, seed=5)
    vissl = {"classy_state_dict": {"base_model": {"model": {
        "trunk": {f"base_model._feature_blocks.{k}": v for k, v in trunk.state_dict().items()},
        "heads": {"0.clf.0.weight": torch.zeros(128, 512)}}}}, "phase_idx": 199}
    checkpoint = tmp_path / "model_final_checkpoint_phase199.torch"
    torch.save(vissl, checkpoint)
    module, cls = spacetorch_positions_class()
    for name in ("spacetorch", "spacetorch.models", "spacetorch.models.positions"):
        monkeypatch.setitem(sys.modules, name, module)
    folder = tmp_path / "positions"
    folder.mkdir()
    dims = {"layer2.0": (128, 28, 28), "layer3.1": (256, 14, 14), "layer4.1": (512, 7, 7)}
    for layer, shape in dims.items():
        ours = retinotopic_positions(layer, shape, seed=1)
        obj = cls(layer, shape, ours.coordinates, np.zeros((3, 10), int), 1.6)
        with open(folder / f"{layer}.pkl", "wb") as handle:
            pickle.dump(obj, handle)
    for name in ("spacetorch", "spacetorch.models", "spacetorch.models.positions"):
        monkeypatch.delitem(sys.modules, name)  # the importer must not need spacetorch
    return checkpoint, folder, trunk


def test_import_registers_a_scorable_model(release, fresh_home, capsys):
    checkpoint, positions, trunk = release
    code = main(["import-tdann", "--checkpoint", str(checkpoint), "--positions", str(positions),
                 "--name", "tdann-official-test"])
    assert code == 0 and "imported tdann-official-test" in capsys.readouterr().out
    import topobench.registry as registry
    registry._discovered.discard("model")  # a new process would discover it afresh
    model = load_model("tdann-official-test")
    for key, tensor in trunk.state_dict().items():
        assert torch.equal(model.module.state_dict()[key], tensor), key
    assert model.layer_positions("V1").dims == (128, 28, 28)
    assert not model.positions_by_default["V1"]
    assert model.layer_positions("VTC").provenance["placement"] == "imported from the TDANN release"


def test_positions_that_do_not_fit_are_refused(release, fresh_home, tmp_path, capsys):
    checkpoint, positions, _ = release
    # a 64 px model has an 8 x 8 layer2.0: the 28 x 28 positions do not fit
    code = main(["import-tdann", "--checkpoint", str(checkpoint), "--positions", str(positions),
                 "--name", "wrong-size", "--image-size", "64"])
    assert code == 2 and "dims" in capsys.readouterr().err
    assert not (fresh_home / "models" / "wrong-size").exists()


def test_not_a_vissl_file(tmp_path, fresh_home):
    bogus = tmp_path / "bogus.torch"
    torch.save({"state_dict": {}}, bogus)
    from topobench.tdann.import_vissl import read_vissl_trunk
    with pytest.raises(ModelError, match="classy_state_dict.base_model.model.trunk"):
        read_vissl_trunk(bogus)


def test_missing_keys_are_listed(tmp_path):
    from topobench.tdann.pretrained import load_state_dict_into
    state = resnet18(num_classes=None).state_dict()
    state.pop("layer4.1.bn2.weight")
    state["head.weight"] = torch.zeros(1)
    with pytest.raises(ModelError, match="missing keys: layer4.1.bn2.weight; unexpected keys: head.weight"):
        load_state_dict_into(resnet18(num_classes=None), state, "test")
