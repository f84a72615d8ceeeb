"""The alpha sweep: every point has the same budget and seed, and a rerun after an
interruption finishes the missing points without redoing finished ones."""
import json

import pytest
import torch

from topobench.errors import ModelError
from topobench.nets import resnet18
from topobench.tdann.mini import run_finished
from topobench.tdann.sweep import point_dir, sweep, write_sweep

TINY = {"sources": ["imagenet_sample"], "max_images": 64, "input_size": 32, "batch_size": 8,
        "checkpoint_every": 1, "log_spatial_every": 0, "warmup_steps": 0}


@pytest.fixture
def start(tmp_path):
    path = tmp_path / "start.pt"
    torch.save(resnet18(num_classes=None, seed=0).state_dict(), path)
    return path


def test_points_differ_only_in_alpha(tmp_path, start):
    runs = write_sweep(tmp_path / "sweep", (0.0, 0.25, 25.0), start, None, 3, TINY)
    configs = [json.loads((run / "config.json").read_text()) for run in runs]
    assert [c["alpha"] for c in configs] == [0.0, 0.25, 25.0]
    for config in configs[1:]:
        assert {k for k in config if config[k] != configs[0][k]} == {"alpha"}
    with pytest.raises(ModelError, match="another config"):
        write_sweep(tmp_path / "sweep", (0.25,), start, None, 4, TINY)


def test_rerun_finishes_missing_points_and_leaves_finished_ones(tmp_path, start, data_host):
    root = tmp_path / "sweep"
    sweep(root, (0.0,), start, None, steps=2, overrides=TINY)
    first = point_dir(root, 0.0) / "checkpoint.pt"
    assert run_finished(point_dir(root, 0.0))
    stamp = first.stat().st_mtime_ns
    # the second point was cut off after its first step: one checkpoint, at step 1
    write_sweep(root, (0.5,), start, None, 2, TINY)
    from topobench.tdann.config import TrainConfig
    from topobench.tdann.train import train
    train(TrainConfig.load(point_dir(root, 0.5) / "config.json"), point_dir(root, 0.5), until=1, log=None)
    assert not run_finished(point_dir(root, 0.5))
    sweep(root, (0.0, 0.5), start, None, steps=2, jobs=2, overrides=TINY)
    assert run_finished(point_dir(root, 0.5))
    assert first.stat().st_mtime_ns == stamp  # the finished point was not redone
    rows = (point_dir(root, 0.5) / "losses.csv").read_text().splitlines()
    assert len(rows) == 3  # header and steps 1, 2: resumed, not restarted
