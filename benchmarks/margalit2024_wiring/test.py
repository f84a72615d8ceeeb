"""Tests of Margalit2024.{V1,VTC}-wiring_length: registration, the pinned value of a fixed
seeded model (raise the benchmark's version when it changes) and its errors."""
import pytest
import torch

import topobench.nets
from topobench.benchmarks.margalit2024_wiring.benchmark import V1WiringLength, VTCWiringLength
from topobench.errors import ModelError
from topobench.model_interface import PytorchModel
from topobench.registry import benchmark_registry


@pytest.fixture(scope="module")
def model():
    return PytorchModel(topobench.nets.resnet18(num_classes=None, seed=0), "test-resnet18-seed0-64px",
                        {"VTC": "layer4.1"}, visual_degrees=8.0, image_size=64)


def test_registered_as_report_only():
    for region, layers in (("V1", ("layer2.0", "layer2.1")), ("VTC", ("layer4.0", "layer4.1"))):
        benchmark = benchmark_registry[f"Margalit2024.{region}-wiring_length"]()
        assert benchmark.identifier == f"Margalit2024.{region}-wiring_length"
        assert benchmark.parent == region and benchmark.version == 1
        assert benchmark.report_only is True and benchmark.family == "topography"
        assert benchmark.datasets == ("floc",)
        assert (benchmark.source_layer, benchmark.target_layer) == layers
        assert "10.1016/j.neuron.2024.04.018" in benchmark.bibtex


def test_pinned_values_of_seeded_untrained_resnet18(model):
    """Untrained, default retinotopic positions: retinotopy alone makes fibres shorter than shuffled."""
    v1 = V1WiringLength(n_images=20)(model)
    details = v1.attrs["details"]
    assert float(v1) == pytest.approx(0.5682, abs=0.001)
    assert v1.attrs["ceiling"] == 1.0
    assert details["n_patterns_used"] == 20 and details["mean_n_fibres"] == 8.0
    assert details["mean_length_mm"] == pytest.approx(32.61, abs=0.05)
    assert details["shuffled_mean_length_mm"] == pytest.approx(57.38, abs=0.05)
    assert details["positions_by_default"] == {"layer2.0": True, "layer2.1": True}
    assert details["target_sheet_side_mm"] == 36.75
    assert len(details["lengths_mm"]) == 20
    vtc = VTCWiringLength(n_images=20)(model)
    assert float(vtc) == pytest.approx(0.5336, abs=0.001)
    assert vtc.attrs["details"]["target_sheet_side_mm"] == 70.0


def test_model_without_the_blocks_fails_clearly():
    module = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU())
    model = PytorchModel(module, "tiny-conv", {"VTC": "0"}, image_size=32)
    with pytest.raises(ModelError, match="layer4.0 -> layer4.1"):
        VTCWiringLength(n_images=10)(model)

    class NotPytorch:
        identifier = "opaque"
        regions = {"V1": "x"}
    with pytest.raises(ModelError, match="PyTorch model"):
        V1WiringLength(n_images=10)(NotPytorch())
