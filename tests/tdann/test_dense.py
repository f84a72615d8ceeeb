"""The dense recipe (topobench.tdann.dense): the pair differs only in alpha, training resumes
exactly, the spatial loss is present, and bundles are checked by sha256 on load."""
import csv
import json

import numpy as np
import pytest
import torch

from topobench.errors import ModelError
from topobench.tdann import dense
from topobench.tdann.training_data import TrainingImages


@pytest.fixture(scope="module")
def teacher():
    return dense.load_teacher()


@pytest.fixture(scope="module")
def data():
    # two sources of different sizes, as imagenet_sample (144 px) and more_training_images (80 px)
    return dense.SourceImages({"big": TrainingImages.synthetic(24, 32, seed=0).images,
                               "small": TrainingImages.synthetic(24, 16, seed=1).images})


def tiny(alpha):
    return dense.DenseConfig(alpha=alpha, input_size=64, batch_size=4, positions="default",
                             sources={"big": 32, "small": 16}, checkpoint_every=2, n_neighborhoods=20)


def run(config, folder, until, data, teacher):
    return dense.train(config, folder, until=until, data=data, teacher=teacher, log=lambda message: None)


def rows(folder):
    with open(folder / dense.LOSSES_FILE, newline="") as handle:
        return list(csv.DictReader(handle))


def test_alpha_is_the_only_difference_inside_the_pair():
    pair = dense.pair_configs()
    first, second = (pair[name] for name in dense.IDENTIFIERS)
    assert set(first.differences(second)) == {"alpha"}
    assert first.alpha == dense.ALPHA > 0 and second.alpha == 0.0
    assert set(dense.pair_configs(0.25, steps=10)["tdann-dense"].differences(
        dense.pair_configs(0.25, steps=10)["tdann-dense-task-only"])) == {"alpha"}


def test_the_committed_run_folders_differ_only_in_alpha():
    from pathlib import Path
    root = Path(__file__).resolve().parents[2] / "training"
    folders = [root / name for name in dense.IDENTIFIERS]
    if not all((folder / dense.CONFIG_FILE).is_file() for folder in folders):
        pytest.fail("the training/ runs (committed, resumable across sessions) are missing from this checkout",
                    pytrace=False)
    first, second = (dense.DenseConfig.load(folder / dense.CONFIG_FILE) for folder in folders)
    assert set(first.differences(second)) == {"alpha"}
    assert first.alpha > 0 and second.alpha == 0.0


def test_interrupted_and_resumed_run_gives_identical_weights(tmp_path, data, teacher):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    run(tiny(1.0), straight, 5, data, teacher)
    run(tiny(1.0), resumed, 3, data, teacher)  # "interrupted" at step 3 (checkpointed there)
    assert dense.load_checkpoint(resumed / dense.CHECKPOINT_FILE)["step"] == 3
    run(None, resumed, 5, data, teacher)  # resumed from its config.json and checkpoint
    a = dense.load_checkpoint(straight / dense.CHECKPOINT_FILE)
    b = dense.load_checkpoint(resumed / dense.CHECKPOINT_FILE)
    assert a["step"] == b["step"] == 5
    assert a["model"].keys() == b["model"].keys()
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    assert torch.equal(a["torch_rng"], b["torch_rng"]) and torch.equal(a["augment_rng"], b["augment_rng"])
    drop = lambda table: [{k: v for k, v in row.items() if k != "seconds"} for row in table]  # noqa: E731
    assert drop(rows(straight)) == drop(rows(resumed))
    assert [int(row["step"]) for row in rows(resumed)] == [1, 2, 3, 4, 5]


def test_checkpoint_loads_with_weights_only(tmp_path, data, teacher):
    run(tiny(1.0), tmp_path, 1, data, teacher)
    state = torch.load(tmp_path / dense.CHECKPOINT_FILE, weights_only=True)
    assert state["format"] == dense.CHECKPOINT_FORMAT and state["step"] == 1
    assert {"model", "optimizer", "torch_rng", "augment_rng", "data_order", "config"} <= set(state)


def test_spatial_loss_present_with_alpha_and_absent_from_the_total_at_zero(tmp_path, data, teacher):
    run(tiny(1.0), tmp_path / "a", 2, data, teacher)
    run(tiny(0.0), tmp_path / "b", 2, data, teacher)
    layers = list(dense.WIDTH_MM)
    for row in rows(tmp_path / "a"):
        values = [float(row[f"sl_{layer}"]) for layer in layers]
        assert all(np.isfinite(v) and 0 < v <= 1 for v in values)
        assert float(row["spatial_term"]) == pytest.approx(sum(values), abs=1e-5)
        assert float(row["total_loss"]) == pytest.approx(float(row["task_loss"]) + float(row["spatial_term"]), abs=1e-5)
    for row in rows(tmp_path / "b"):
        assert all(0 < float(row[f"sl_{layer}"]) <= 1 for layer in layers)  # logged, not trained
        assert float(row["spatial_term"]) == 0.0 and row["total_loss"] == row["task_loss"]
    # same start, data, seed: the first task loss agrees; then the spatial loss moves the weights apart
    assert rows(tmp_path / "a")[0]["task_loss"] == rows(tmp_path / "b")[0]["task_loss"]
    a = dense.load_checkpoint(tmp_path / "a" / dense.CHECKPOINT_FILE)["model"]
    b = dense.load_checkpoint(tmp_path / "b" / dense.CHECKPOINT_FILE)["model"]
    assert not torch.equal(a["_blocks.3._project_conv.weight"], b["_blocks.3._project_conv.weight"])


def test_a_run_refuses_another_alpha(tmp_path, data, teacher):
    run(tiny(1.0), tmp_path, 1, data, teacher)
    with pytest.raises(ModelError, match="alpha"):
        run(tiny(0.5), tmp_path, 2, data, teacher)
    assert dense.main(["--run-dir", str(tmp_path), "--alpha", "0.5", "--until", "2"]) == 2


def test_bundle_is_half_precision_and_checked_by_sha256(tmp_path, data, teacher):
    run(tiny(1.0), tmp_path / "run", 2, data, teacher)
    folder = dense.bundle(tmp_path / "run", tmp_path / "bundle", "tdann-dense-test")
    record = json.loads((folder / "model.json").read_text())
    assert record["step"] == 2 and record["alpha"] == 1.0 and record["architecture"] == "efficientnet-lite0"
    weights = torch.load(folder / "weights.pt", weights_only=True)
    assert all(v.dtype == torch.float16 for v in weights.values() if v.is_floating_point())
    model = dense.load_bundle(folder)
    assert model.identifier == "tdann-dense-test" and set(model.regions) == {"V1", "V4", "VTC"}
    trained = dense.load_checkpoint(tmp_path / "run" / dense.CHECKPOINT_FILE)["model"]
    key = "_blocks.3._project_conv.weight"
    assert torch.equal(model.module.state_dict()[key], trained[key].half().float())
    weights[key] = weights[key] + 1
    torch.save(weights, folder / "weights.pt")
    with pytest.raises(ModelError, match="sha256"):
        dense.load_bundle(folder)


def test_watch_measures_checkpoints_at_multiples_of_every(tmp_path, data, teacher, monkeypatch):
    calls = []

    def fake_measure_model(model, n_resamples=100, seed=0, patches=True):
        calls.append(model.identifier)
        return {"v1_orientation_ratio": [1.0]}

    monkeypatch.setattr(dense, "measure_model", fake_measure_model)
    run(tiny(1.0), tmp_path, 2, data, teacher)
    dense.watch([tmp_path], every=2, poll_seconds=0, stop_at=2, log=lambda message: None)
    dense.watch([tmp_path], every=2, poll_seconds=0, stop_at=2, log=lambda message: None)  # nothing new
    assert dense.measured_steps(tmp_path) == {2} and len(calls) == 1
    assert not list(tmp_path.glob("*.part"))
