"""Plugin discovery: in-repo folders and third-party entry points, never installing anything;
every registered benchmark's declarations (topobench.benchmark_base.TopoBenchmark)."""
import json
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

import topobench.registry as registry
from topobench.benchmark_base import FAMILIES, TopoBenchmark
from topobench.errors import UnknownPluginError


def test_in_repo_plugins_are_found():
    assert "resnet18-untrained" in registry.names("model")
    assert "Ringach2002.V1-orientation_selectivity" in registry.names("benchmark")
    assert {"topobench.sine_gratings", "Stigliani2015.fLoc"} <= set(registry.names("stimulus set"))


def test_entry_point_plugin_is_loaded_lazily(monkeypatch):
    # a third-party package's entry point: name = identifier, object = zero-argument factory
    entry = EntryPoint(name="thirdparty-model", value="tests_thirdparty_plugin:build", group="topobench.models")
    monkeypatch.setattr(registry, "entry_points", lambda group: [entry] if group == "topobench.models" else [])
    monkeypatch.setattr(registry, "_discovered", set())
    monkeypatch.setitem(registry.model_registry, "placeholder", None)  # registry is restored afterwards
    assert "thirdparty-model" in registry.names("model")
    # loading imports the module only now; a missing module is the plugin's own error
    with pytest.raises(ModuleNotFoundError, match="tests_thirdparty_plugin"):
        registry.load_model("thirdparty-model")
    registry.model_registry.pop("thirdparty-model")


def test_unknown_names_suggest_close_ones():
    with pytest.raises(UnknownPluginError, match="did you mean resnet18-untrained"):
        registry.load_model("resnet18-untrainde")
    with pytest.raises(UnknownPluginError, match="unknown dataset 'floc2'"):
        registry.get_dataset("floc2")


# ----------------------------------------------------------------------------- benchmark declarations
CONFIG = Path(__file__).resolve().parents[1] / "leaderboard" / "config.json"


@pytest.mark.parametrize("name", registry.names("benchmark"))
def test_every_benchmark_declares_what_it_is(name):
    """Every registered benchmark is a TopoBenchmark and declares its data sets (or why none), its
    family, whether it is report-only, and the registered controls that certify it (or why none)."""
    benchmark = registry.load_benchmark(name)
    assert isinstance(benchmark, TopoBenchmark), f"{name} is a {type(benchmark).__mro__}"
    assert benchmark.identifier == name
    assert benchmark.version is not None and benchmark.bibtex and benchmark.region and benchmark.parent
    assert benchmark.family in FAMILIES, f"{name}: family {benchmark.family!r} is none of {FAMILIES}"
    assert isinstance(benchmark.report_only, bool)
    assert isinstance(benchmark.datasets, tuple)
    if benchmark.datasets:
        assert set(benchmark.datasets) <= set(registry.names("dataset")), benchmark.datasets
        assert not benchmark.no_datasets_reason, f"{name} declares data sets and a reason for having none"
    else:
        assert benchmark.no_datasets_reason.strip(), f"{name} declares no data set and no reason"
    assert isinstance(benchmark.controls, tuple)
    assert len(set(benchmark.controls)) == len(benchmark.controls)
    if benchmark.controls:
        unregistered = set(benchmark.controls) - set(registry.names("model"))
        assert not unregistered, f"{name} declares controls that are not registered models: {sorted(unregistered)}"
        assert not benchmark.no_controls_reason
    else:
        assert benchmark.no_controls_reason.strip(), f"{name} declares no control and no reason"
    if benchmark.family != "topography":
        assert not benchmark.controls, f"{name}: only a topography benchmark is certified by map controls"


def test_v1_and_vtc_map_benchmarks_are_certified_by_their_controls():
    from topobench.models.controls import CONTROLS
    registry.discover("model")
    for name in ("Nauhaus2012.V1-orientation_smoothness", "Nauhaus2012.V1-sf_smoothness",
                 "Kaschube2010.V1-pinwheel_density", "LivingstoneHubel1984.V1-color_clustering",
                 "DeValois1982.V1-cardinal_bias", "GrillSpector2014.VTC-patch_organization"):
        benchmark = registry.load_benchmark(name)
        kinds = {CONTROLS[control]["kind"] for control in benchmark.controls}
        assert {CONTROLS[control]["region"] for control in benchmark.controls} == {benchmark.region}
        assert {"positive", "shuffled"} <= kinds, (name, kinds)
        if benchmark.region == "V1":
            assert {"salt-and-pepper", "constant"} <= kinds, (name, kinds)


@pytest.mark.parametrize("name", sorted(json.loads(CONFIG.read_text())["benchmarks"]))
def test_leaderboard_config_agrees_with_the_declarations(name):
    """leaderboard/config.json's family and report-only flag of a benchmark are its class's (the
    leaderboard reads the class first: topobench.leaderboard.aggregate.describe_benchmark)."""
    entry = json.loads(CONFIG.read_text())["benchmarks"][name]
    benchmark = registry.load_benchmark(name)
    assert (benchmark.family, benchmark.report_only) == (entry["family"], entry["report_only"])
