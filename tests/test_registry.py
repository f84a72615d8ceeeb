"""Plugin discovery: in-repo folders and third-party entry points, never installing anything."""
from importlib.metadata import EntryPoint

import pytest

import topobench.registry as registry
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
