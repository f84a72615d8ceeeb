"""The submitter's path: a checkpoint or an nn.Module scored without a plugin, and every
bad input answered with a message that names the fix (and exit status 2 on the CLI)."""
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from topobench import cli
from topobench.errors import ModelError
from topobench.nets import resnet18
from topobench.positions import retinotopic_positions
from topobench.results import ResultsStore
from topobench.scores import ceiled_score
from topobench.stimuli.base import make_stimulus_set
from topobench.submit import model_from_checkpoint, model_from_module, read_checkpoint, score

TINY = "Tiny2024.V1-positive_fraction"


class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        return self.fc(self.pool(self.conv2(self.relu(self.conv1(x)))).flatten(1))


class FixedSizeNet(nn.Module):
    """Takes 32 px only: a flattening classifier."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 32 * 32, 10)

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))


class TinyBenchmark:
    """Records V1 on four noise images; score = fraction of units with a positive mean response."""
    identifier = TINY
    version = "1"
    bibtex = ""

    def __init__(self, folder):
        rng = np.random.default_rng(0)
        paths = {}
        for i in range(4):
            paths[f"noise{i}"] = folder / f"noise{i}.png"
            Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(paths[f"noise{i}"])
        import pandas as pd
        table = pd.DataFrame({"stimulus_id": list(paths), "degrees": 8.0})
        self.stimuli = make_stimulus_set(table, paths, "tiny-noise")

    def __call__(self, model):
        assembly = model.record(self.stimuli, "V1")
        raw = float((assembly.values.mean(axis=0) > 0).mean())
        return ceiled_score(raw, 1.0, 0.0, {"n_units": int(assembly.shape[1]),
                                            "positions_by_default": assembly.attrs["positions_by_default"]})


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A ResNet-18 trunk (no classifier) saved as a submitter would, in half precision to keep it small."""
    path = tmp_path_factory.mktemp("checkpoint") / "my_resnet.pt"
    state = {k: (v.half() if v.is_floating_point() else v) for k, v in resnet18(num_classes=None, seed=3)
             .state_dict().items()}
    torch.save(state, path)
    return path


@pytest.fixture
def tiny_benchmark(tmp_path, monkeypatch):
    from topobench.registry import benchmark_registry, names
    names("benchmark")  # discovery first, so that it cannot replace the entry below
    benchmark = TinyBenchmark(tmp_path)
    monkeypatch.setitem(benchmark_registry, TINY, lambda: benchmark)
    return benchmark


@pytest.fixture
def store(tmp_path, monkeypatch):
    url = str(tmp_path / "results.sqlite")
    monkeypatch.setenv("TOPOBENCH_DB_URL", url)
    return ResultsStore(url)


# ----------------------------------------------------------------------------- Python
def test_checkpoint_loads_with_default_layers(checkpoint):
    model = model_from_checkpoint(checkpoint, "resnet18", image_size=64)
    assert model.regions == {"V1": "layer2.0", "V4": "layer3.1", "VTC": "layer4.1"}
    assert model.identifier.startswith("my_resnet-") and len(model.identifier) == len("my_resnet-") + 8
    reference = resnet18(num_classes=None, seed=3)
    assert torch.equal(model.module.conv1.weight, reference.conv1.weight.half().float())
    assert all(model.positions_by_default.values())


def test_efficientnet_checkpoint_gets_its_layers_and_input_scaling(tmp_path):
    from topobench.nets.efficientnet_lite import efficientnet_lite0
    path = tmp_path / "lite0.pt"
    torch.save({k: (v.half() if v.is_floating_point() else v) for k, v in
                efficientnet_lite0(num_classes=10, seed=0).state_dict().items()}, path)
    model = model_from_checkpoint(path, "efficientnet-lite0", image_size=64, name="lite0-10")
    assert model.identifier == "lite0-10" and model.module._fc.out_features == 10
    assert model.regions["VTC"] == "_blocks.15" and model.mean == (127 / 255,) * 3
    assert model.layer_shape("_blocks.3") == (40, 8, 8)


def test_wrong_layer_names_the_closest(checkpoint):
    with pytest.raises(ModelError, match=r"layer 'layer2\.O' \(for region V1\) does not exist; closest "
                                         r"layer names: .*layer2\.0"):
        model_from_checkpoint(checkpoint, "resnet18", layers="V1=layer2.O", image_size=64)
    with pytest.raises(ModelError, match="is not REGION=LAYER"):
        model_from_checkpoint(checkpoint, "resnet18", layers="V1:layer2.0", image_size=64)


def test_missing_and_unexpected_keys_are_listed(tmp_path):
    state = resnet18(num_classes=None, seed=0).state_dict()
    state.pop("layer4.1.bn2.weight")
    state["layer5.0.conv1.weight"] = torch.zeros(1)
    path = tmp_path / "broken.pt"
    torch.save(state, path)
    with pytest.raises(ModelError) as error:
        model_from_checkpoint(path, "resnet18")
    message = str(error.value)
    assert "missing keys: layer4.1.bn2.weight" in message and "unexpected keys: layer5.0.conv1.weight" in message

    prefixed = {f"backbone.{k}": v for k, v in resnet18(num_classes=None, seed=0).state_dict().items()}
    torch.save(prefixed, path)
    with pytest.raises(ModelError, match="every key carries the prefix 'backbone.': strip it"):
        model_from_checkpoint(path, "resnet18")


def test_wrapped_checkpoints_are_unwrapped(tmp_path):
    state = resnet18(num_classes=1000, seed=0).state_dict()
    path = tmp_path / "wrapped.pt"
    torch.save({"epoch": 3, "state_dict": {f"module.{k}": v for k, v in state.items()}}, path)
    assert set(read_checkpoint(path)) == set(state)
    model = model_from_checkpoint(path, "resnet18", image_size=32)
    assert model.module.fc.out_features == 1000


def test_not_a_state_dict(tmp_path):
    path = tmp_path / "whole_model.pt"
    torch.save(TinyNet(), path)
    with pytest.raises(ModelError, match=r"torch.save\(model.state_dict\(\), PATH\)"):
        model_from_checkpoint(path, "resnet18")
    with pytest.raises(ModelError, match="does not exist"):
        model_from_checkpoint(tmp_path / "nothing.pt", "resnet18")
    with pytest.raises(ModelError, match="unknown architecture 'resnet50'"):
        model_from_checkpoint(path, "resnet50")


def test_positions_whose_unit_count_does_not_match(checkpoint, tmp_path):
    folder = tmp_path / "positions"
    retinotopic_positions("layer2.0", (128, 28, 28), seed=1).save(folder / "layer2.0.npz")  # made for 224 px
    model = model_from_checkpoint(checkpoint, "resnet18", positions=folder, image_size=224)
    assert not model.positions_by_default["V1"] and model.positions_by_default["V4"]
    with pytest.raises(ModelError, match=r"positions for layer layer2\.0 .* \(100352 units\) but the layer has "
                                         r"\(128, 8, 8\) \(8192 units\) at 64 px"):
        model_from_checkpoint(checkpoint, "resnet18", positions=folder, image_size=64)
    retinotopic_positions("layer2.0", (128, 8, 8), seed=1).save(folder / "layer2.O.npz")
    with pytest.raises(ModelError, match=r"positions are given for layer 'layer2\.O', which the network does "
                                         r"not have; closest layer names: .*layer2\.0"):
        model_from_checkpoint(checkpoint, "resnet18", positions=folder, image_size=64)


def test_image_size_the_network_cannot_take():
    with pytest.raises(ModelError, match="cannot take a 64 px image: .*give the input size it was built for"):
        model_from_module(FixedSizeNet(), {"V1": "conv"}, image_size=64)
    assert model_from_module(FixedSizeNet(), {"V1": "conv"}, image_size=32).layer_shape("conv") == (4, 32, 32)
    with pytest.raises(ModelError, match="image size 4 px cannot be shown"):
        model_from_module(TinyNet(), {"V1": "conv2"}, image_size=4)


def test_python_score_of_an_nn_module(store, tmp_path):
    benchmark = TinyBenchmark(tmp_path)
    scores = score(model=TinyNet().eval(), layers={"V1": "conv2"}, benchmarks=[benchmark], image_size=32,
                   identifier="tiny-net", store=store)
    assert set(scores) == {TINY}
    value = scores[TINY]
    assert 0 <= float(value) <= 1 and value.attrs["details"]["n_units"] == 16 * 8 * 8
    assert value.attrs["details"]["positions_by_default"] is True
    row = store.latest("tiny-net", TINY)
    assert row["status"] == "ok" and row["provenance"]["positions_by_default"] == {"V1": True}
    with pytest.raises(ModelError, match="give layers for the regions"):
        score(model=TinyNet(), benchmarks=[benchmark], store=store)


def test_topobench_score_is_the_python_entry(store, tmp_path):
    import topobench
    scores = topobench.score(model=TinyNet().eval(), layers={"V1": "conv2"}, benchmarks=[TinyBenchmark(tmp_path)],
                             image_size=32, store=store)
    assert list(scores) == [TINY]


# ----------------------------------------------------------------------------- CLI
def _error_line(capsys):
    err = capsys.readouterr().err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("topobench: error:"), err
    return lines[0]


def test_cli_scores_a_checkpoint(checkpoint, tiny_benchmark, store, capsys):
    code = cli.main(["score", "--checkpoint", str(checkpoint), "--arch", "resnet18", "--image-size", "64",
                     "--layers", "V1=layer1.1", "--name", "my-resnet", TINY])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"my-resnet  {TINY}  score" in out
    assert store.latest("my-resnet", TINY)["status"] == "ok"


def test_cli_bad_inputs_exit_2_with_the_fix(checkpoint, tiny_benchmark, store, tmp_path, capsys):
    base = ["score", "--checkpoint", str(checkpoint), "--arch", "resnet18", TINY]
    assert cli.main(base + ["--layers", "V1=layer2.O"]) == 2
    line = _error_line(capsys)
    assert "layer 'layer2.O' (for region V1) does not exist; closest layer names:" in line and "layer2.0" in line

    broken = tmp_path / "broken.pt"
    state = torch.load(checkpoint, weights_only=True)
    state.pop("conv1.weight")
    torch.save(state, broken)
    assert cli.main(["score", "--checkpoint", str(broken), "--arch", "resnet18", TINY]) == 2
    assert "missing keys: conv1.weight" in _error_line(capsys)

    folder = tmp_path / "positions"
    retinotopic_positions("layer2.0", (128, 28, 28), seed=1).save(folder / "layer2.0.npz")
    assert cli.main(base + ["--positions", str(folder), "--image-size", "64"]) == 2
    assert "(8192 units) at 64 px" in _error_line(capsys)

    assert cli.main(base + ["--image-size", "4"]) == 2
    assert "image size 4 px cannot be shown" in _error_line(capsys)

    assert cli.main(["score", "--checkpoint", str(checkpoint), TINY]) == 2
    assert "--checkpoint needs --arch" in _error_line(capsys)


def test_cli_error_as_a_user_sees_it(checkpoint):
    """The installed command, outside the checkout: one line on stderr and exit status 2."""
    result = subprocess.run([sys.executable, "-m", "topobench", "score", "--checkpoint", str(checkpoint),
                             "--arch", "resnet18", "--layers", "V4=layer3.7", "--all"],
                            capture_output=True, text=True, timeout=300, cwd=tempfile.gettempdir(),
                            env={**os.environ})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "layer 'layer3.7' (for region V4) does not exist" in lines[0], result.stderr
    assert "layer3.1" in lines[0]
