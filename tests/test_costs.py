"""Costs known before the work (issue 16): every benchmark declares how its time and memory grow
with the model (topobench.costs.Cost); the estimates grow with units and image size; the command
line prints them."""
import subprocess
import sys
import tempfile

import pytest

import topobench.registry as registry
from topobench.costs import (FEATURE_KINDS, FULL, PROJECTED, Cost, Fit, estimate, estimated_peak_bytes,
                             estimated_seconds, format_bytes, layer_units)

BENCHMARKS = registry.names("benchmark")


@pytest.mark.parametrize("name", BENCHMARKS)
def test_every_benchmark_declares_its_cost(name):
    benchmark = registry.load_benchmark(name)
    cost = benchmark.cost
    assert isinstance(cost, Cost), f"{name} declares no topobench.costs.Cost as its class attribute `cost`"
    assert cost.images > 0 and cost.stimuli.strip() and cost.features in FEATURE_KINDS
    if cost.layers:  # recorded layers named by the benchmark itself
        assert cost.region is None and all(isinstance(layer, str) for layer in cost.layers)
    else:  # the layer the model commits to the benchmark's region
        assert cost.region == benchmark.region
    assert cost.fixed_seconds >= 0 and cost.copies >= 1
    assert cost.describe().startswith(f"{cost.images:,} images")


@pytest.mark.parametrize("name", BENCHMARKS)
def test_estimates_grow_with_units_and_image_size(name):
    cost = registry.load_benchmark(name).cost
    for estimated in (estimated_seconds, estimated_peak_bytes):
        small = estimated(cost, 1_000, 64)
        assert 0 < small < estimated(cost, 4_000, 64), f"{name}: {estimated.__name__} does not grow with units"
        assert small < estimated(cost, 1_000, 224), f"{name}: {estimated.__name__} does not grow with image size"


def test_full_activations_grow_with_units_a_projection_stays_bounded():
    full = Cost(images=640, stimuli="gratings", region="V1", features=FULL, copies=2.0)
    projected = Cost(images=640, stimuli="session", region="V4", features=PROJECTED)
    small, big = 10_000, 3_200_000
    # full: the images x units float32 array, twice: 640 x 3.2 M x 4 B x 2 = 16.4 GB more
    grown = estimated_peak_bytes(full, big, 224) - estimated_peak_bytes(full, small, 224)
    assert grown == pytest.approx(2 * 640 * (big - small) * 4 + 2 * 64 * (big - small) * 4)
    # projected: bounded by a batch of the layer and the sketch, not by images x units
    assert estimated_peak_bytes(projected, big, 224) < 0.25 * estimated_peak_bytes(full, big, 224)


def test_fit_terms_follow_their_formulas():
    ridge = Cost(images=640, stimuli="s", region="V4", features=PROJECTED,
                 fit=Fit("ridge", "ridge", repeats=10))
    assert ridge.fit_formula() == "10 x 640 x min(640, min(units, 1,000))^2"
    # above 640 dimensions the ridge term no longer grows: only the PCA does, up to the sketch's 8,192
    assert estimated_seconds(ridge, 20_000, 64) == estimated_seconds(ridge, 40_000, 64)
    with pytest.raises(ValueError, match="fit kind"):
        Fit("x", "cubic")
    with pytest.raises(ValueError, match="either a region or layers"):
        Cost(images=1, stimuli="s")


def test_estimate_reads_the_units_of_a_model_without_stimuli():
    from topobench.model_interface import PytorchModel
    from topobench.nets import resnet18
    model = PytorchModel(resnet18(num_classes=None, seed=0), "test-costs", {"V1": "layer2.0"}, image_size=64,
                         cache=False)
    v1 = Cost(images=640, stimuli="gratings", region="V1")
    assert layer_units(model, v1) == (128 * 8 * 8, 128)
    assert layer_units(model, Cost(images=1, stimuli="s", layers=("layer2.0", "layer2.1"))) == (2 * 8192, 256)
    guess = estimate(v1, model)
    assert guess.units == 8192 and guess.image_size == 64
    assert guess.seconds == pytest.approx(estimated_seconds(v1, 8192, 64, 128, "ResNet"))
    assert guess.peak_bytes > estimated_peak_bytes(v1, 8192, 64, 128, "ResNet")  # and the model's weights
    assert estimate(Cost(images=1, stimuli="s", region="VTC"), model) is None  # no VTC layer: fails by itself
    assert estimate(Cost(images=1, stimuli="s", layers=("layer9.9",)), model) is None
    assert estimate(None, model) is None
    assert format_bytes(41.23e9) == "41.2 GB" and format_bytes(5e8) == "500 MB"


def _cli(*args):
    result = subprocess.run([sys.executable, "-m", "topobench", *args], capture_output=True, text=True,
                            timeout=300, cwd=tempfile.gettempdir())
    return result.returncode, result.stdout, result.stderr


def test_list_benchmarks_costs_prints_a_line_per_benchmark():
    code, out, err = _cli("list", "benchmarks", "--costs")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == BENCHMARKS
    assert all(" images (" in line for line in lines)
    by_name = dict(line.split(": ", 1) for line in lines)
    assert "full activations in memory" in by_name["Nauhaus2012.V1-orientation_smoothness"]
    assert "projected: PCA to <= 1,000 components" in by_name["Cowley2023.V4-ridge"]
    assert "640 images" in by_name["Kaschube2010.V1-pinwheel_density"]


def test_list_benchmarks_costs_for_a_model_gives_seconds_and_memory():
    code, out, err = _cli("list", "benchmarks", "--costs", "--model", "tdann-mini")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == len(BENCHMARKS)
    ringach = next(line for line in lines if line.startswith("Ringach2002.V1-orientation_selectivity"))
    assert "| tdann-mini: 8,192 units at 64 px, about " in ringach and " peak" in ringach
    code, _, err = _cli("list", "models", "--costs")
    assert code == 2 and "--costs and --model go with `topobench list benchmarks`" in err
    code, _, err = _cli("list", "benchmarks", "--costs", "--model", "tdann-mni")
    assert code == 2 and "unknown model 'tdann-mni'" in err
