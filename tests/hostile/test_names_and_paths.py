"""A user-given name never escapes topobench's folders, and nothing a user has is overwritten or
deleted: ``import-tdann --name``, ``score --checkpoint --name``, ``report MODEL`` and ``report --out``.

Names are checked by one rule (``topobench.naming.check_model_name``) before any file is touched.
"""
from __future__ import annotations

import datetime
import json
import pickle
import sys
import types
import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from topobench.errors import InputError
from topobench.naming import check_model_name

BAD_NAMES = ["..", "../../x", "a/b", "", "has space", "-leading-dash", ".hidden", "x" * 200, "a\\b", "~user"]


@pytest.mark.parametrize("name", [*BAD_NAMES, "a\x00b", "/abs/path", "tab\tname", "new\nline"])
def test_the_one_rule_refuses_path_like_names(name):
    with pytest.raises(InputError, match="is not valid") as caught:
        check_model_name(name)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("name", ["tdann-official", "my_resnet-1a2b3c4d", "ResNet50.v2", "a", "x9"])
def test_the_one_rule_accepts_model_names(name):
    assert check_model_name(name) == name


def _models(sandbox) -> list:
    folder = sandbox.home / "models"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.mark.parametrize("name", ["..", "../../x", "a/b", "", "has space", "ABS"])
def test_import_tdann_refuses_a_name_that_is_a_path(sandbox, name):
    if name == "ABS":  # an absolute path into the user's folder
        name = str(sandbox.outside / "abs")
    result = sandbox.cli("import-tdann", "--checkpoint", sandbox.root / "none.torch", "--positions",
                         sandbox.root / "none", "--name", name)
    result.assert_one_line("model name", "not valid", repr(name), code=2)
    assert not (sandbox.outside / "abs").exists() and not (sandbox.root / "x").exists()
    assert _models(sandbox) == []


@pytest.mark.parametrize("name", ["../../escaped", "/tmp/topobench-escaped-abs"])
def test_score_checkpoint_refuses_a_name_that_is_a_path(sandbox, name):
    result = sandbox.cli("score", "--checkpoint", sandbox.root / "none.pt", "--arch", "resnet18", "--name", name,
                         "Ringach2002.V1-orientation_selectivity")
    result.assert_one_line("model name", repr(name), "not valid", code=2)
    assert sandbox.rows() == []


@pytest.mark.parametrize("name", ["../../somewhere", "../outside"])
def test_report_refuses_a_name_that_is_a_path(sandbox, name):
    result = sandbox.cli("report", name, "--no-maps")
    result.assert_one_line("model name", repr(name), "not valid", code=2)
    assert not (sandbox.root / "somewhere").exists()
    assert not (sandbox.home / "reports").exists()


def test_report_of_an_unknown_model_deletes_nothing_in_out(sandbox):
    """The model's existence is checked before the --out folder is touched (its PNGs survive)."""
    result = sandbox.cli("report", "never-scored-model", "--out", sandbox.outside, "--no-maps")
    result.assert_one_line("never-scored-model", code=2)


def _store_results(sandbox, model: str) -> None:
    from topobench.results import ResultsStore
    from topobench.scores import ceiled_score
    sandbox.home.mkdir(parents=True, exist_ok=True)
    store = ResultsStore(f"sqlite:///{sandbox.home / 'results.sqlite'}")
    try:
        r = np.random.default_rng(0).uniform(0, 0.6, 40).tolist()
        store.record_result(model, None, "Cowley2023.V4-ridge", "1",
                            ceiled_score(0.3, 0.6, 0.02, {"per_neuron": {"r": r}}),
                            started_at=datetime.datetime.now(datetime.timezone.utc))
    finally:
        store.close()


def test_report_keeps_the_users_own_pngs_and_replaces_only_its_own(sandbox):
    model = "stored-only-model"
    _store_results(sandbox, model)
    watched = sandbox.root / "watched"
    watched.mkdir()
    (watched / "holiday.png").write_bytes(b"\x89PNG the user's photo")
    (watched / "v4_predictivity.old.png").write_bytes(b"\x89PNG another of the user's")
    for _ in range(2):  # the second report removes what the first wrote (its manifest), nothing else
        result = sandbox.cli("report", model, "--out", watched, "--no-maps")
        assert result.code == 0, result.err
        assert (watched / "holiday.png").read_bytes() == b"\x89PNG the user's photo"
        assert (watched / "v4_predictivity.old.png").exists()
        assert (watched / "v4_predictivity.png").is_file() and (watched / "index.html").is_file()
    manifest = json.loads((watched / ".topobench-report.json").read_text())
    assert sorted(manifest["files"]) == ["index.html", "v4_predictivity.png"]


def test_a_hostile_report_manifest_deletes_nothing_outside(sandbox):
    """A manifest that lists paths outside the folder (or the user's files) is not followed."""
    model = "stored-only-model"
    _store_results(sandbox, model)
    watched = sandbox.root / "watched"
    watched.mkdir()
    (watched / "sub").mkdir()
    (watched / "sub" / "deep.png").write_bytes(b"\x89PNG")
    (watched / ".topobench-report.json").write_text(json.dumps({"files": [
        "../outside/keep.png", str(sandbox.outside / "keep.png"), "sub/deep.png", "..", "sub"]}))
    result = sandbox.cli("report", model, "--out", watched, "--no-maps")
    assert result.code == 0, result.err
    assert (watched / "sub" / "deep.png").exists()


def test_import_tdann_never_overwrites_an_existing_model_without_force(sandbox):
    folder = sandbox.home / "models" / "existing-model"
    folder.mkdir(parents=True)
    (folder / "model.json").write_text('{"identifier": "existing-model", "regions": {}}')
    (folder / "weights.pt").write_bytes(b"the user's trained weights")
    result = sandbox.cli("import-tdann", "--checkpoint", sandbox.root / "none.torch", "--positions",
                         sandbox.root / "none", "--name", "existing-model")
    result.assert_one_line(str(folder), "--force", code=2)
    assert (folder / "weights.pt").read_bytes() == b"the user's trained weights"


def test_import_tdann_force_replaces_only_a_model_folder(sandbox):
    folder = sandbox.home / "models" / "not-a-model"
    folder.mkdir(parents=True)
    (folder / "thesis.txt").write_text("not a model")
    result = sandbox.cli("import-tdann", "--checkpoint", sandbox.root / "none.torch", "--positions",
                         sandbox.root / "none", "--name", "not-a-model", "--force")
    result.assert_one_line(str(folder), "not a topobench model folder", code=2)
    assert (folder / "thesis.txt").read_text() == "not a model"


# ----------------------------------------------------------------------------- a real release
def _spacetorch_class():
    module = types.ModuleType("spacetorch.models.positions")

    @dataclasses.dataclass
    class LayerPositions:
        name: str
        dims: tuple
        coordinates: np.ndarray
        neighborhood_indices: np.ndarray
        neighborhood_width: float

    LayerPositions.__module__, LayerPositions.__qualname__ = module.__name__, "LayerPositions"
    module.LayerPositions = LayerPositions
    return module, LayerPositions


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """A VISSL checkpoint and positions folder in the TDANN release's layout (224 px)."""
    from topobench.nets import resnet18
    from topobench.positions import retinotopic_positions
    root = tmp_path_factory.mktemp("release")
    trunk = resnet18(num_classes=None, seed=5)
    checkpoint = root / "model_final_checkpoint_phase199.torch"
    torch.save({"classy_state_dict": {"base_model": {"model": {
        "trunk": {f"base_model._feature_blocks.{k}": v for k, v in trunk.state_dict().items()}}}}}, checkpoint)
    module, cls = _spacetorch_class()
    folder = root / "positions"
    folder.mkdir()
    names = ("spacetorch", "spacetorch.models", "spacetorch.models.positions")
    for name in names:
        sys.modules[name] = module
    try:
        for layer, shape in {"layer2.0": (128, 28, 28), "layer3.1": (256, 14, 14), "layer4.1": (512, 7, 7)}.items():
            ours = retinotopic_positions(layer, shape, seed=1)
            (folder / f"{layer}.pkl").write_bytes(
                pickle.dumps(cls(layer, shape, ours.coordinates, np.zeros((3, 10), int), 1.6)))
    finally:
        for name in names:
            sys.modules.pop(name, None)
    return checkpoint, folder


def _existing_model(sandbox, name: str) -> Path:
    folder = sandbox.home / "models" / name
    (folder / "positions").mkdir(parents=True)
    (folder / "model.json").write_text(json.dumps({"identifier": name, "regions": {"V1": "layer2.0"}}))
    (folder / "weights.pt").write_bytes(b"an earlier import")
    return folder


def test_a_failed_import_check_deletes_nothing_that_existed(sandbox, release):
    """--force on a model whose new import fails its check (positions that do not fit at 64 px):
    the old model, its neighbours and the user's files stay; no temporary folder is left."""
    tree_digest = sys.modules[type(sandbox).__module__].tree_digest  # the harness's own
    checkpoint, positions = release
    _existing_model(sandbox, "kept-model")
    neighbour = _existing_model(sandbox, "neighbour-model")
    (neighbour.parent / "README.txt").write_text("the user's notes on their models")
    before = tree_digest(sandbox.home / "models")
    result = sandbox.cli("import-tdann", "--checkpoint", checkpoint, "--positions", positions,
                         "--name", "kept-model", "--image-size", "64", "--force")
    result.assert_one_line("dims", code=2)
    assert tree_digest(sandbox.home / "models") == before


def test_import_tdann_force_replaces_a_model_folder(sandbox, release):
    checkpoint, positions = release
    folder = _existing_model(sandbox, "replaced-model")
    result = sandbox.cli("import-tdann", "--checkpoint", checkpoint, "--positions", positions,
                         "--name", "replaced-model", "--force")
    assert result.code == 0, result.err
    assert json.loads((folder / "model.json").read_text())["provenance"]["imported_from"] == checkpoint.name
    assert (folder / "weights.pt").read_bytes() != b"an earlier import"
    assert _models(sandbox) == ["replaced-model"]  # no temporary or replaced folder left beside it
