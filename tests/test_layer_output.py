"""The forward pass stops at the recorded layer (issue 16): activations bit-identical to a full
pass read with a plain hook, no hook left behind, shared modules and probes unchanged."""
import numpy as np
import pytest
import torch

from topobench.errors import ModelError
from topobench.model_interface import PytorchModel, layer_output
from topobench.nets import resnet18
from topobench.nets.efficientnet_lite import efficientnet_lite0
from topobench.stimuli import sine_gratings
from topobench.stimuli.base import subset


@pytest.fixture(scope="module")
def gratings():
    """10 gratings (two batches of 6 and 4: the last batch is a short one)."""
    stimuli = sine_gratings()
    return subset(stimuli, np.arange(len(stimuli)) < 10)


def full_pass(model: PytorchModel, stimuli, layer: str) -> np.ndarray:
    """What ``iter_activations`` gave before: the whole network run, the layer read by a plain hook
    (its last output of each pass)."""
    outputs, batches = [], []
    handle = dict(model.module.named_modules())[layer].register_forward_hook(
        lambda _m, _i, output: outputs.append(output.detach().flatten(1).float().numpy()))
    try:
        with torch.no_grad():
            for start in range(0, len(stimuli), model.batch_size):
                chunk = stimuli.iloc[start:start + model.batch_size]
                chunk.stimulus_paths = stimuli.stimulus_paths
                model.module(model.load_images(chunk))
                batches.append(outputs[-1])
    finally:
        handle.remove()
    return np.concatenate(batches)


def no_hooks(module: torch.nn.Module) -> bool:
    return all(not m._forward_hooks and not m._forward_pre_hooks for m in module.modules())


@pytest.mark.parametrize("network, layers, size", [
    (lambda: resnet18(num_classes=None, seed=0), ["layer1.0", "layer2.0", "layer3.1", "layer4.1"], 64),
    (lambda: efficientnet_lite0(num_classes=1000, seed=0), ["_blocks.3", "_blocks.7", "_blocks.15"], 96),
], ids=["resnet18", "efficientnet-lite0"])
def test_truncated_pass_is_bit_identical_to_the_full_pass(gratings, network, layers, size):
    model = PytorchModel(network(), "truncation", {"V1": layers[0]}, image_size=size, batch_size=6, cache=False)
    for layer in layers:
        truncated = np.concatenate([values for _, values in model.iter_activations(gratings, layer, False)])
        assert model._calls[layer] == 1  # run once per pass: the pass stops there
        reference = full_pass(model, gratings, layer)
        assert truncated.dtype == reference.dtype == np.float32 and truncated.shape == reference.shape
        assert np.array_equal(truncated, reference), layer
        assert no_hooks(model.module)


def test_the_pass_really_stops_at_the_layer():
    network = resnet18(num_classes=None, seed=0).eval()
    ran = []
    later = network.layer3.register_forward_hook(lambda *_: ran.append("layer3"))
    earlier = network.layer1.register_forward_hook(lambda *_: ran.append("layer1"))
    with torch.no_grad():
        output = layer_output(network, network.layer2[0], torch.zeros(2, 3, 32, 32))
    assert output.shape == (2, 128, 4, 4) and ran == ["layer1"]  # others' hooks before it still run
    with torch.no_grad():
        layer_output(network, network.layer2[0], torch.zeros(2, 3, 32, 32), stop=False)
    assert ran == ["layer1", "layer1", "layer3"]
    assert len(network.layer3._forward_hooks) == len(network.layer1._forward_hooks) == 1  # theirs, kept
    assert not network.layer2[0]._forward_hooks  # ours, removed
    later.remove(), earlier.remove()


class SharedReLU(torch.nn.Module):
    """One ReLU module called twice in a pass: a plain hook keeps its last output."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(4, 4, 3, padding=1)
        self.relu = torch.nn.ReLU()

    def forward(self, x):
        return self.relu(self.conv2(self.relu(self.conv1(x))))


def test_a_module_called_twice_is_read_at_its_last_call(gratings):
    torch.manual_seed(0)
    model = PytorchModel(SharedReLU(), "shared", {"V1": "relu"}, image_size=16, batch_size=6, cache=False)
    values = np.concatenate([v for _, v in model.iter_activations(gratings, "relu", False)])
    assert model._calls["relu"] == 2
    assert np.array_equal(values, full_pass(model, gratings, "relu"))
    assert no_hooks(model.module)


class BreaksAfter(torch.nn.Module):
    """A network that fails after the recorded layer (``conv``) or, with ``before``, before it."""

    def __init__(self, before=False):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.before = before

    def forward(self, x):
        if self.before:
            raise RuntimeError("broken before the layer")
        self.conv(x)
        raise RuntimeError("broken after the layer")


def test_the_hook_is_removed_however_the_pass_ends():
    images = torch.zeros(1, 3, 8, 8)
    network = BreaksAfter()
    assert layer_output(network, network.conv, images).shape == (1, 4, 8, 8)  # never reaches the break
    assert no_hooks(network)
    with pytest.raises(RuntimeError, match="broken after the layer"):
        layer_output(network, network.conv, images, stop=False)
    assert no_hooks(network)
    network = BreaksAfter(before=True)
    with pytest.raises(RuntimeError, match="broken before the layer"):
        layer_output(network, network.conv, images)
    assert no_hooks(network)


def test_shape_probes_still_run_the_whole_network():
    """``layer_shape`` proves the network takes its input size: a failure after the layer still counts."""
    model = PytorchModel(BreaksAfter(), "breaks", {"V1": "conv"}, image_size=8, cache=False)
    with pytest.raises(ModelError, match="cannot take a 8 px image"):
        model.layer_shape("conv")
    assert no_hooks(model.module)
