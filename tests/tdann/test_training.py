"""TDANN training: SimCLR pieces, augmentations, exact resumption, spatial loss, export.

Tiny configs (32 px input, batch 8) on a small synthetic uint8 tensor, so that no
training images are decoded; one torch thread.
"""
import json
import math

import numpy as np
import pytest
import torch

from topobench.errors import DataError, ModelError
from topobench.nets.resnet import BLOCK_NAMES, resnet18
from topobench.positions import LayerPositions
from topobench.tdann.augment import SimCLRAugment, center_view, hsv_to_rgb, rgb_to_hsv
from topobench.tdann.config import TrainConfig
from topobench.tdann.simclr import ProjectionHead, nt_xent_loss
from topobench.tdann.train import (BlockRecorder, DataOrder, export_model, load_checkpoint, read_losses,
                                   train)
from topobench.tdann.training_data import TrainingImages, cache_key, decode_image, load_training_data


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def data():
    return TrainingImages.synthetic(n=96, size=32, n_classes=4, seed=0)


def tiny(**changes) -> TrainConfig:
    values = dict(steps=6, batch_size=8, input_size=32, image_size=32, checkpoint_every=2,
                  n_neighborhoods=16, log_spatial_every=2, warmup_steps=1, log_every=0)
    values.update(changes)
    return TrainConfig(**values)


def without_seconds(rows):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


# -- SimCLR ---------------------------------------------------------------------------------
def naive_nt_xent(z1, z2, t):
    z = torch.nn.functional.normalize(torch.cat([z1, z2]), dim=1)
    n = z1.shape[0]
    total = 0.0
    for i in range(2 * n):
        positive = (i + n) % (2 * n)
        logits = torch.stack([z[i] @ z[j] / t for j in range(2 * n) if j != i])
        index = positive if positive < i else positive - 1
        total = total - torch.log_softmax(logits, 0)[index]
    return total / (2 * n)


def test_nt_xent_matches_a_loop_and_is_low_for_matched_views():
    generator = torch.Generator().manual_seed(0)
    z1, z2 = torch.randn(5, 7, generator=generator), torch.randn(5, 7, generator=generator)
    assert torch.allclose(nt_xent_loss(z1, z2, 0.1), naive_nt_xent(z1, z2, 0.1), atol=1e-5)
    basis = torch.eye(6)[:3] * 3.0
    assert nt_xent_loss(basis, basis, 0.1) < 1e-3  # positives identical, negatives orthogonal
    same = torch.ones(4, 6)
    assert math.isclose(float(nt_xent_loss(same, same, 0.1)), math.log(7), rel_tol=1e-5)  # collapse


def test_projection_head_shapes():
    head = ProjectionHead((512, 512, 128))
    assert head(torch.randn(4, 512)).shape == (4, 128)
    assert [type(m).__name__ for m in head.mlp] == ["Linear", "BatchNorm1d", "ReLU", "Linear"]
    assert [type(m).__name__ for m in ProjectionHead(batchnorm=False).mlp] == ["Linear", "ReLU", "Linear"]


# -- augmentations ----------------------------------------------------------------------------
def test_augment_is_seeded_shaped_and_normalised(data):
    images = torch.from_numpy(data.images[:16])
    augment = SimCLRAugment(size=24)
    a = augment(images, torch.Generator().manual_seed(3))
    b = augment(images, torch.Generator().manual_seed(3))
    c = augment(images, torch.Generator().manual_seed(4))
    assert a.shape == (16, 3, 24, 24) and a.dtype == torch.float32
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.isfinite(a).all()
    # parameters of a sub-batch give the same images as the whole batch's rows
    params = augment.sample(16, 32, 32, torch.Generator().manual_seed(5))
    whole = augment.apply(images, params)
    part = augment.apply(images[4:8], augment.subset(params, slice(4, 8)))
    assert torch.allclose(whole[4:8], part, atol=1e-6)


def test_augment_identity_crop_and_flip():
    images = torch.randint(0, 256, (2, 3, 16, 16), dtype=torch.uint8)
    augment = SimCLRAugment(size=16, scale=(1.0, 1.0), ratio=(1.0, 1.0), flip_p=1.0, jitter_p=0.0,
                            gray_p=0.0, normalize=False)
    out = augment(images, torch.Generator().manual_seed(0))
    assert torch.allclose(out, images.float().flip(-1) / 255, atol=1e-5)
    gray = SimCLRAugment(size=16, gray_p=1.0, jitter_p=0.0, normalize=False)(images, torch.Generator())
    assert torch.allclose(gray[:, 0], gray[:, 1]) and torch.allclose(gray[:, 1], gray[:, 2])


def test_hsv_round_trip_and_center_view():
    x = torch.rand(3, 3, 5, 5)
    assert torch.allclose(hsv_to_rgb(rgb_to_hsv(x)), x, atol=1e-5)
    view = center_view(torch.full((1, 3, 8, 8), 255, dtype=torch.uint8), 4)
    assert view.shape == (1, 3, 4, 4)
    assert torch.allclose(view[0, :, 0, 0], (1 - torch.tensor([0.485, 0.456, 0.406])) / torch.tensor([0.229, 0.224, 0.225]))


# -- data -------------------------------------------------------------------------------------
def test_data_order_is_a_function_of_seed_and_epoch():
    order = DataOrder(10, 4, seed=1)
    batches = [order.next() for _ in range(4)]
    assert sorted(np.concatenate(batches[:2]).tolist()) == sorted(set(np.concatenate(batches[:2]).tolist()))
    resumed = DataOrder(10, 4, seed=1)
    replay = DataOrder(10, 4, seed=1)
    for _ in range(3):
        replay.next()
    resumed.load_state_dict(replay.state_dict())
    assert np.array_equal(resumed.next(), batches[3])


def test_training_sources_refuse_floc_and_name_the_cache():
    with pytest.raises(ModelError, match="test stimuli"):
        TrainConfig(sources=["floc"])
    with pytest.raises(DataError, match="test stimuli"):
        load_training_data(["floc"], 32)
    assert cache_key(["cifar10", "imagenet_sample"], 80) == "imagenet_sample+cifar10-train_80px_v1"


def test_decode_image_resizes_shorter_side_and_centre_crops():
    from io import BytesIO
    from PIL import Image
    array = np.zeros((40, 100, 3), dtype=np.uint8)
    array[:, 40:60] = 255  # a white band in the middle: survives the centre crop, flanked by black
    buffer = BytesIO()
    Image.fromarray(array).save(buffer, format="JPEG", quality=95)
    out = decode_image(buffer.getvalue(), 20)
    assert out.shape == (3, 20, 20) and out.dtype == np.uint8
    assert out[:, :, 10].mean() > 200 and out[:, :, 0].mean() < 60


def test_load_training_data_decodes_once_and_caches(data_host, fresh_home):
    images = load_training_data(["imagenet_sample"], 24, workers=1, progress=False)
    assert images.images.shape == (1000, 3, 24, 24) and images.images.dtype == np.uint8
    assert images.classes == ["objects"] and len(images.names) == 1000
    assert (fresh_home / "training_data" / cache_key(["imagenet_sample"], 24) / "images.npy").is_file()
    again = load_training_data(["imagenet_sample"], 24, progress=False)
    assert np.array_equal(np.asarray(again.images[:5]), np.asarray(images.images[:5]))


# -- training -----------------------------------------------------------------------------------
def test_loss_decreases_on_a_repeated_batch(tmp_path):
    small = TrainingImages.synthetic(n=8, size=32, seed=2)  # one batch, seen again at every step
    config = tiny(steps=20, lr=0.01, warmup_steps=0, min_lr_fraction=1.0, alpha=0.0, log_spatial_every=0,
                  checkpoint_every=20, augment_scale=[0.8, 1.0])
    train(config, tmp_path / "run", data=small, log=None)
    losses = [float(row["task_loss"]) for row in read_losses(tmp_path / "run" / "losses.csv")]
    assert len(losses) == 20
    assert losses[0] == pytest.approx(math.log(15), abs=0.5)  # chance: log(2B - 1)
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 0.3


def test_resume_gives_the_same_losses_as_an_uninterrupted_run(tmp_path, data):
    config = tiny(alpha=0.5, checkpoint_every=3)
    train(config, tmp_path / "whole", data=data, log=None)
    whole = without_seconds(read_losses(tmp_path / "whole" / "losses.csv"))
    assert [int(row["step"]) for row in whole] == list(range(1, 7))

    train(config, tmp_path / "split", data=data, log=None, until=3)
    assert load_checkpoint(tmp_path / "split" / "checkpoint.pt")["step"] == 3
    assert len(read_losses(tmp_path / "split" / "losses.csv")) == 3
    train(config, tmp_path / "split", data=data, log=None)
    assert without_seconds(read_losses(tmp_path / "split" / "losses.csv")) == whole

    # a crash after step 5 (last checkpoint at 3): the CSV is truncated to step 3 on resume
    class Crash(Exception):
        pass

    def crash_after_five(line):
        if line.startswith("step 5/"):
            raise Crash

    with pytest.raises(Crash):
        train(tiny(alpha=0.5, checkpoint_every=3, log_every=1), tmp_path / "crash", data=data,
              log=crash_after_five)
    assert len(read_losses(tmp_path / "crash" / "losses.csv")) == 5
    assert load_checkpoint(tmp_path / "crash" / "checkpoint.pt")["step"] == 3
    train(tiny(alpha=0.5, checkpoint_every=3, log_every=1), tmp_path / "crash", data=data, log=None)
    assert without_seconds(read_losses(tmp_path / "crash" / "losses.csv")) == whole

    whole_state = load_checkpoint(tmp_path / "whole" / "checkpoint.pt")["trunk"]
    split_state = load_checkpoint(tmp_path / "split" / "checkpoint.pt")["trunk"]
    assert all(torch.equal(whole_state[k], split_state[k]) for k in whole_state)


def test_resume_refuses_a_changed_config(tmp_path, data):
    train(tiny(steps=2), tmp_path / "run", data=data, log=None)
    with pytest.raises(ModelError, match="another config"):
        train(tiny(steps=2, alpha=0.25), tmp_path / "run", data=data, log=None)
    saved = TrainConfig.load(tmp_path / "run" / "config.json")
    assert saved == tiny(steps=2)


def test_spatial_loss_is_logged_and_its_gradient_reaches_layer1(tmp_path, data):
    from topobench.tdann.neighborhoods import make_neighborhoods
    from topobench.tdann.spatial_loss import SpatialLoss
    from topobench.tdann.train import layer_shapes, make_positions

    config = tiny(steps=1, alpha=0.25)
    train(config, tmp_path / "sl", data=data, log=None)
    row = read_losses(tmp_path / "sl" / "losses.csv")[0]
    per_layer = [float(row[f"sl_{name}"]) for name in BLOCK_NAMES]
    assert all(0.0 <= value <= 1.0 for value in per_layer)
    assert math.isclose(float(row["spatial_term"]), 0.25 * sum(per_layer), rel_tol=1e-4)
    assert math.isclose(float(row["total_loss"]), float(row["task_loss"]) + float(row["spatial_term"]),
                        rel_tol=1e-5)
    # task only: logged every log_spatial_every steps, not added
    train(tiny(steps=2, alpha=0.0), tmp_path / "task", data=data, log=None)
    rows = read_losses(tmp_path / "task" / "losses.csv")
    assert rows[0]["sl_layer1.0"] == "" and rows[1]["sl_layer1.0"] != ""
    assert rows[1]["total_loss"] == rows[1]["task_loss"]

    # the gradient of the spatial term alone reaches layer1's weights
    trunk = resnet18(num_classes=None, seed=0)
    shapes = layer_shapes(trunk, 32, list(BLOCK_NAMES))
    positions = make_positions(config, shapes)
    neighborhoods = {n: make_neighborhoods(positions[n], n_neighborhoods=4, seed=0, width_scale=7.0)
                     for n in BLOCK_NAMES}
    spatial = SpatialLoss(positions, neighborhoods, alpha={"layer1.0": 1.0})
    recorder = BlockRecorder(trunk, BLOCK_NAMES)
    trunk(torch.randn(8, 3, 32, 32))
    total, _ = spatial(recorder.features, step=1)
    total.backward()
    assert trunk.layer1[0].conv1.weight.grad.abs().sum() > 0
    assert trunk.layer2[0].conv1.weight.grad is None  # alpha 0 there, and layer2 lies downstream

    # end to end: one step with alpha > 0 moves layer1 differently from alpha 0
    zero = load_checkpoint(tmp_path / "task" / "checkpoint.pt")
    train(tiny(steps=2, alpha=5.0), tmp_path / "sl5", data=data, log=None)
    five = load_checkpoint(tmp_path / "sl5" / "checkpoint.pt")
    assert not torch.equal(zero["trunk"]["layer1.0.conv1.weight"], five["trunk"]["layer1.0.conv1.weight"])


def test_supervised_variant_runs(tmp_path, data):
    train(tiny(steps=3, task="supervised", alpha={"layer2.0": 0.25}), tmp_path / "sup", data=data, log=None)
    rows = read_losses(tmp_path / "sup" / "losses.csv")
    assert len(rows) == 3 and all(math.isfinite(float(r["task_loss"])) for r in rows)
    assert float(rows[0]["task_loss"]) == pytest.approx(math.log(4), abs=1.0)
    state = load_checkpoint(tmp_path / "sup" / "checkpoint.pt")
    assert state["head"]["weight"].shape == (4, 512)
    assert float(rows[0]["spatial_term"]) == pytest.approx(0.25 * float(rows[0]["sl_layer2.0"]), rel=1e-4)


def test_export_writes_half_precision_weights_positions_config_and_losses(tmp_path, data):
    train(tiny(steps=2), tmp_path / "run", data=data, log=None)
    out = export_model(tmp_path / "run", tmp_path / "export")
    weights = torch.load(out / "weights.pt", weights_only=True)
    assert all(v.dtype == torch.float16 for v in weights.values() if v.is_floating_point())
    assert not any(k.startswith("fc.") for k in weights) and "layer2.0.downsample.0.weight" in weights
    model = resnet18(num_classes=None)
    model.load_state_dict(weights, strict=True)
    state = load_checkpoint(tmp_path / "run" / "checkpoint.pt")["trunk"]
    assert torch.allclose(model.conv1.weight, state["conv1.weight"], atol=1e-2)
    for name in BLOCK_NAMES:
        positions = LayerPositions.load(out / f"{name}.npz")
        assert positions.name == name and positions.dims[1] == positions.dims[2]
    assert positions.provenance["placement"].startswith("default retinotopic")
    assert (out / "config.json").read_bytes() == (tmp_path / "run" / "config.json").read_bytes()
    assert len(read_losses(out / "losses.csv")) == 2
    meta = json.loads((out / "model.json").read_text())
    assert meta["input_size"] == 32 and meta["step"] == 2


def test_warm_start_from_an_export(tmp_path, data):
    train(tiny(steps=2), tmp_path / "base", data=data, log=None)
    export_model(tmp_path / "base", tmp_path / "export")
    train(tiny(steps=1, init_from=str(tmp_path / "export"), log_spatial_every=0, lr=1e-12, momentum=0.0,
               weight_decay=0.0),
          tmp_path / "warm", data=data, log=None)
    base = torch.load(tmp_path / "export" / "weights.pt", weights_only=True)
    warm = load_checkpoint(tmp_path / "warm" / "checkpoint.pt")["trunk"]
    assert torch.allclose(warm["layer3.1.conv2.weight"], base["layer3.1.conv2.weight"].float(), atol=1e-6)


def test_command_line_trains_and_exports(tmp_path, data, monkeypatch):
    import topobench.tdann.train as module
    config_path = tiny(steps=2).save(tmp_path / "config.json")
    monkeypatch.setattr(module, "train", lambda config, run_dir, until=None: module.__dict__["_real_train"](
        config, run_dir, data=data, log=None, until=until))
    monkeypatch.setitem(module.__dict__, "_real_train", train)
    assert module.main(["--config", str(config_path), "--run-dir", str(tmp_path / "run"),
                        "--export", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "weights.pt").is_file()
    assert module.main(["--run-dir", str(tmp_path / "missing")]) == 2


def _distributed_worker(rank, world, port, run_dir, config_values):
    import os
    os.environ.update({"WORLD_SIZE": str(world), "RANK": str(rank), "LOCAL_RANK": str(rank),
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    torch.set_num_threads(1)
    import torch.distributed as dist
    try:
        train(TrainConfig(**config_values), run_dir, data=TrainingImages.synthetic(n=96, size=32, seed=0), log=None)
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


@pytest.mark.slow
def test_distributed_data_parallel_on_cpu_with_gloo(tmp_path):
    """Two CPU ranks (gloo), as torchrun starts them: each takes half the batch, rank 0 writes.
    Slow (two spawned interpreters, about 10 s of CPU): run with -m slow."""
    import socket
    import torch.multiprocessing as mp
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tiny(steps=2, alpha=0.25, device="cpu")
    mp.spawn(_distributed_worker, args=(2, port, str(tmp_path / "ddp"), config.to_dict()), nprocs=2, join=True)
    rows = read_losses(tmp_path / "ddp" / "losses.csv")
    assert [int(r["step"]) for r in rows] == [1, 2]
    assert all(math.isfinite(float(r["task_loss"])) and r["sl_layer2.0"] != "" for r in rows)
    assert load_checkpoint(tmp_path / "ddp" / "checkpoint.pt")["world_size"] == 2
