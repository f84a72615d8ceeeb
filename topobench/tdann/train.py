"""Training TDANN: SimCLR (or supervised) ResNet-18 plus the spatial loss on its block outputs.

TDANN (Margalit et al. 2024, Neuron; code neuroailab/TDANN) trains a ResNet-18
with SimCLR (Chen et al. 2020, ICML) and adds, for each of the eight BasicBlock
outputs ``l`` with a cortical sheet, ``alpha_l x SL_l``: the spatial loss of one
random neighbourhood of the sheet per batch (:class:`topobench.tdann.SpatialLoss`).
Block outputs are read with forward hooks, so the trunk is the plain
:func:`topobench.nets.resnet18` and its weights keep torchvision's names.

A run lives in one folder:

- ``config.json``: the :class:`TrainConfig` (written on the first call, checked on resume);
- ``positions/<layer>.npz``: the unit positions (mm) used, one per block;
- ``checkpoint.pt``: the latest checkpoint (trunk, head, optimiser, scheduler, step, the
  states of torch's, numpy's and Python's generators, of the augmentation generator and
  of the data order), written to a temporary file and renamed, every
  ``checkpoint_every`` steps and at the end;
- ``losses.csv``: one row per step (``step, task_loss, task_accuracy, spatial_term,
  spatial_loss, sl_<layer>..., total_loss, lr, seconds``; ``spatial_term`` is
  ``sum_l alpha_l SL_l``, ``spatial_loss`` the unweighted mean of the ``sl_<layer>``
  columns, which are empty on steps where the spatial loss was not evaluated;
  ``seconds`` is the wall time of the step).

**Exact resumption.** Calling :func:`train` again on a folder with a checkpoint
restores everything above, truncates ``losses.csv`` to the checkpoint's step and
continues; on the CPU with the same number of threads the losses are bit-identical
to those of an uninterrupted run (on CUDA, up to cuDNN's nondeterministic kernels).
Random streams are explicit: the data order is a per-epoch permutation drawn from
``(seed, epoch)``, augmentation parameters come from one ``torch.Generator``, and the
spatial loss picks its neighbourhood from ``(seed, step, layer)``.

**Multi-GPU.** Started by ``torchrun`` (``WORLD_SIZE`` > 1) the run uses
``torch.distributed`` (NCCL on CUDA, gloo on CPU) and DistributedDataParallel:
every rank draws the augmentation parameters of the whole global batch and
processes its own shard of ``batch_size / world_size`` images; NT-Xent gathers
the embeddings of all ranks (negatives from the global batch); the spatial loss is
computed on each rank's shard; only rank 0 writes files.
"""
from __future__ import annotations

import csv
import json
import math
import os
import random
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from topobench.errors import InputError, ModelError
from topobench.nets.resnet import BLOCK_NAMES, resnet18
from topobench.positions import LayerPositions, retinotopic_positions
from topobench.tdann.augment import SimCLRAugment
from topobench.tdann.config import RESUMABLE_CHANGES, TrainConfig
from topobench.tdann.simclr import ProjectionHead, nt_xent_accuracy, nt_xent_loss

CONFIG_FILE = "config.json"
CHECKPOINT_FILE = "checkpoint.pt"
LOSSES_FILE = "losses.csv"
POSITIONS_FOLDER = "positions"
CHECKPOINT_FORMAT = "topobench-tdann-checkpoint/1"


# ----------------------------------------------------------------------------------------
# pieces
# ----------------------------------------------------------------------------------------
class DataOrder:
    """Shuffled mini-batches of image indices, epoch after epoch (the last partial batch
    of an epoch is dropped). Epoch ``e``'s permutation is drawn from ``(seed, e)`` only, so
    the state is just (epoch, cursor)."""

    def __init__(self, n_images: int, batch_size: int, seed: int):
        if n_images < batch_size:
            raise ModelError(f"{n_images} training images are fewer than one batch of {batch_size}")
        self.n_images, self.batch_size, self.seed = int(n_images), int(batch_size), int(seed)
        self.epoch, self.cursor = 0, 0
        self._permutation = None

    def permutation(self) -> np.ndarray:
        if self._permutation is None:
            self._permutation = np.random.default_rng([self.seed, self.epoch]).permutation(self.n_images)
        return self._permutation

    def next(self) -> np.ndarray:
        if self.cursor + self.batch_size > self.n_images:
            self.epoch, self.cursor, self._permutation = self.epoch + 1, 0, None
        batch = self.permutation()[self.cursor:self.cursor + self.batch_size]
        self.cursor += self.batch_size
        return batch

    def state_dict(self) -> dict:
        return {"n_images": self.n_images, "batch_size": self.batch_size, "seed": self.seed,
                "epoch": self.epoch, "cursor": self.cursor}

    def load_state_dict(self, state: dict) -> None:
        if (state["n_images"], state["batch_size"], state["seed"]) != (self.n_images, self.batch_size, self.seed):
            raise ModelError(f"checkpoint's data order ({state['n_images']} images, batch {state['batch_size']}, "
                             f"seed {state['seed']}) does not match this run ({self.n_images}, {self.batch_size}, "
                             f"{self.seed}): resume with the same data and config")
        self.epoch, self.cursor, self._permutation = int(state["epoch"]), int(state["cursor"]), None


class BlockRecorder:
    """Forward hooks that keep the latest output of each named module (graph attached)."""

    def __init__(self, module: nn.Module, layers):
        modules = dict(module.named_modules())
        missing = [name for name in layers if name not in modules]
        if missing:
            raise ModelError(f"the trunk has no module(s) {', '.join(missing)}")
        self.features: dict[str, torch.Tensor] = {}
        self.handles = [modules[name].register_forward_hook(self._hook(name)) for name in layers]

    def _hook(self, name):
        def hook(_module, _inputs, output):
            self.features[name] = output
        return hook

    def clear(self) -> None:
        self.features = {}

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


class TrainNet(nn.Module):
    """Trunk (ResNet-18 without ``fc``, pooled 512-d output) followed by a head."""

    def __init__(self, trunk: nn.Module, head: nn.Module):
        super().__init__()
        self.trunk = trunk
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(x))


def layer_shapes(trunk: nn.Module, input_size: int, layers) -> dict[str, tuple[int, int, int]]:
    """(C, H, W) of each layer's output for a ``input_size`` px input (eval mode, no grad)."""
    recorder = BlockRecorder(trunk, layers)
    was_training = trunk.training
    trunk.eval()
    try:
        with torch.no_grad():
            trunk(torch.zeros(1, 3, input_size, input_size, device=next(trunk.parameters()).device))
    finally:
        trunk.train(was_training)
        recorder.remove()
    return {name: tuple(int(d) for d in recorder.features[name].shape[1:]) for name in layers}


def make_positions(config: TrainConfig, shapes: dict) -> dict[str, LayerPositions]:
    """Positions of every layer of ``shapes``: from ``config.positions`` where that folder has
    ``<layer>.npz``, else TDANN's default retinotopic placement with ``config.layer_seed``."""
    out = {}
    folder = Path(config.positions) if config.positions else None
    if folder is not None and not folder.is_dir():
        raise ModelError(f"positions folder {folder} does not exist")
    for name, dims in shapes.items():
        path = folder / f"{name}.npz" if folder is not None else None
        if path is not None and path.is_file():
            positions = LayerPositions.load(path)
            if positions.dims != tuple(dims):
                raise ModelError(f"positions {path} have dims {positions.dims} but layer {name} has {dims} "
                                 f"at {config.input_size} px input; make positions for this input size")
        elif path is not None and name in config.layers():
            raise ModelError(f"positions folder {folder} has no {name}.npz for spatial layer {name}")
        else:
            positions = retinotopic_positions(name, dims, seed=config.layer_seed)
        out[name] = positions
    return out


def load_trunk_weights(path) -> dict[str, torch.Tensor]:
    """Trunk state dict (float32, torchvision names) from a training checkpoint, an exported
    ``weights.pt``, a plain state dict, or a folder holding one of them (a run or an export)."""
    path = Path(path)
    if path.is_dir():
        for candidate in (CHECKPOINT_FILE, "weights.pt"):
            if (path / candidate).is_file():
                path = path / candidate
                break
        else:
            raise ModelError(f"{path} holds neither {CHECKPOINT_FILE} nor weights.pt")
    if not path.is_file():
        raise ModelError(f"weights file {path} does not exist")
    state = _load_weights_only(path)
    if isinstance(state, dict) and "trunk" in state:
        state = state["trunk"]
    if not isinstance(state, dict):
        raise ModelError(f"{path} holds no state dict")
    return {k: (v.float() if v.is_floating_point() else v) for k, v in state.items() if not k.startswith("fc.")}


def load_head_weights(path) -> dict[str, torch.Tensor] | None:
    """The projection head of a training checkpoint (None for exports and plain state dicts)."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_FILE
    if not path.is_file():
        return None
    state = _load_weights_only(path)
    return state.get("head") if isinstance(state, dict) else None


def _seeded(seed: int, build):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


# ----------------------------------------------------------------------------------------
# distributed / device
# ----------------------------------------------------------------------------------------
def _setup(config: TrainConfig):
    """(rank, world_size, device)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    from topobench.model_interface import check_device
    wanted = config.device
    if wanted == "auto":
        wanted = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(check_device(wanted, "the run's device"))  # an InputError naming it and the fix
    rank = 0
    if world > 1:
        import torch.distributed as dist
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if device.type == "cuda":
            torch.cuda.set_device(local_rank)
            device = torch.device("cuda", local_rank)
        if not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        rank, world = dist.get_rank(), dist.get_world_size()
        if config.batch_size % world:
            raise ModelError(f"batch_size {config.batch_size} is not divisible by the {world} ranks")
    return rank, world, device


def _barrier(world: int) -> None:
    if world > 1:
        import torch.distributed as dist
        dist.barrier()


def _mean_over_ranks(values: torch.Tensor, world: int) -> torch.Tensor:
    if world > 1:
        import torch.distributed as dist
        values = values.clone()
        dist.all_reduce(values)
        values /= world
    return values


# ----------------------------------------------------------------------------------------
# losses.csv and checkpoints
# ----------------------------------------------------------------------------------------
def csv_columns(layers) -> list[str]:
    return (["step", "task_loss", "task_accuracy", "spatial_term", "spatial_loss"]
            + [f"sl_{name}" for name in layers] + ["total_loss", "lr", "seconds"])


def read_losses(path) -> list[dict]:
    """Rows of a ``losses.csv`` as dicts of strings."""
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def prepare_losses(path: Path, columns: list[str], keep_until: int) -> None:
    """Start ``losses.csv`` afresh (``keep_until`` 0) or keep only its rows up to that step."""
    rows = []
    if keep_until > 0 and path.is_file():
        rows = [row for row in read_losses(path) if int(row["step"]) <= keep_until]
    temporary = path.with_name(path.name + ".part")
    with open(temporary, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in columns})
    temporary.replace(path)


def _rng_state(device: torch.device) -> dict:
    """Every RNG state as tensors and plain values (the checkpoint loads with ``weights_only=True``)."""
    kind, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    return {"torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if device.type == "cuda" else None,
            "numpy": {"kind": str(kind), "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
                      "pos": int(position), "has_gauss": int(has_gauss), "cached_gaussian": float(cached_gaussian)},
            "python": {"version": int(version), "internal": torch.tensor(internal, dtype=torch.int64),
                       "gauss_next": gauss_next}}


def _restore_rng(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and state.get("cuda") is not None:
        torch.cuda.set_rng_state_all(state["cuda"])
    numpy_state, python_state = state["numpy"], state["python"]
    if isinstance(numpy_state, dict):
        numpy_state = (numpy_state["kind"], numpy_state["keys"].numpy().astype(np.uint32), numpy_state["pos"],
                       numpy_state["has_gauss"], numpy_state["cached_gaussian"])
    np.random.set_state(numpy_state)  # (a tuple in checkpoints of topobench-tdann-checkpoint/1 before this)
    if isinstance(python_state, dict):
        python_state = (python_state["version"], tuple(int(v) for v in python_state["internal"].tolist()),
                        python_state["gauss_next"])
    random.setstate(python_state)


def _load_weights_only(path):
    """``torch.load(weights_only=True)``: tensors and plain values, never code from a file (numpy
    arrays and scalars allowed, as older checkpoints stored numpy's RNG state)."""
    import pickle
    from topobench.tdann.import_vissl import _checkpoint_globals
    try:
        with torch.serialization.safe_globals(_checkpoint_globals()):
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - a foreign or broken file
        kind = ("holds objects other than tensors and plain values (topobench runs nothing from a file)"
                if isinstance(error, pickle.UnpicklingError) else f"does not load ({type(error).__name__})")
        raise ModelError(f"{path} {kind}; give a topobench training checkpoint, an exported weights.pt or a "
                         f"state dict saved with torch.save(model.state_dict(), ...)") from None


def atomic_save(obj, path: Path) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        torch.save(obj, temporary)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def load_checkpoint(path) -> dict:
    """A training checkpoint (tensors and plain values: loaded with ``weights_only=True``)."""
    state = _load_weights_only(path)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ModelError(f"{path} is not a topobench TDANN training checkpoint")
    return state


# ----------------------------------------------------------------------------------------
# training
# ----------------------------------------------------------------------------------------
def _format_seconds(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def train(config: TrainConfig, run_dir, data=None, log=print, until: int | None = None) -> dict:
    """Train (or resume) the run of ``config`` in ``run_dir``; returns a summary dict.

    ``data``: a :class:`topobench.tdann.training_data.TrainingImages` to train on instead of
    ``config.sources`` (tests pass a small synthetic tensor); by default the decoded,
    cached images of ``config.sources`` at ``config.image_size`` px.
    ``log``: a callable for progress lines (None: silent; only rank 0 logs).
    ``until``: stop after this step (with a checkpoint), as if interrupted; a later call
    resumes. The learning-rate schedule still runs to ``config.steps``.

    Summary: ``run_dir``, ``step`` (last step done), ``steps_run`` (in this call),
    ``seconds_per_step`` (mean over this call's steps), ``last`` (last CSV row).
    """
    run_dir = Path(run_dir)
    rank, world, device = _setup(config)
    main = rank == 0
    say = (log if (log is not None and main) else (lambda *_: None))
    torch.set_num_threads(max(1, int(config.threads)))

    # -- config ---------------------------------------------------------------------
    config_path = run_dir / CONFIG_FILE
    checkpoint_path = run_dir / CHECKPOINT_FILE
    if config_path.is_file():
        saved = TrainConfig.load(config_path)
        changed = {k: v for k, v in saved.differences(config).items() if k not in RESUMABLE_CHANGES}
        if changed:
            details = "; ".join(f"{k}: {a!r} in the run, {b!r} now" for k, (a, b) in changed.items())
            raise ModelError(f"run folder {run_dir} was made with another config ({details}); "
                             f"use a new run folder, or resume with the saved {config_path}")
    _barrier(world)
    if main:
        run_dir.mkdir(parents=True, exist_ok=True)
        config.save(config_path)

    # -- data -----------------------------------------------------------------------
    if data is None:
        from topobench.tdann.training_data import load_training_data
        data = load_training_data(config.sources, config.image_size, progress=main)
    n_images = len(data) if config.max_images is None else min(len(data), int(config.max_images))
    images, labels = data.images, np.asarray(data.labels)

    # -- model ----------------------------------------------------------------------
    trunk = resnet18(num_classes=None, seed=config.seed)
    if config.task == "simclr":
        head = _seeded(config.seed + 1, lambda: ProjectionHead(config.projection_dims, config.head_batchnorm))
    else:
        head = _seeded(config.seed + 1, lambda: nn.Linear(512, data.n_classes))
    has_checkpoint = checkpoint_path.is_file()
    if config.init_from and not has_checkpoint:
        trunk.load_state_dict(load_trunk_weights(config.init_from), strict=True)
        head_state = load_head_weights(config.init_from)
        expected = head.state_dict()
        if head_state is not None and (set(head_state) != set(expected) or any(
                tuple(head_state[k].shape) != tuple(expected[k].shape) for k in expected)):
            head_state = None  # another task's head (projection MLP against classifier): a fresh one
        if head_state is not None:
            head.load_state_dict(head_state)  # a training checkpoint of the same task carries its head
        say(f"warm start: trunk{' and head' if head_state is not None else ''} weights from {config.init_from}")

    layers = config.layers()
    all_layers = list(dict.fromkeys(list(BLOCK_NAMES) + layers))
    shapes = layer_shapes(trunk, config.input_size, all_layers)
    positions = make_positions(config, shapes)
    if main:
        folder = run_dir / POSITIONS_FOLDER
        for name, layer_positions in positions.items():
            if not (folder / f"{name}.npz").is_file():
                layer_positions.save(folder / f"{name}.npz")

    alphas = config.alphas()
    train_spatial = any(a != 0.0 for a in alphas.values())
    spatial = None
    if train_spatial or config.log_spatial_every > 0:
        from topobench.tdann.neighborhoods import make_neighborhoods
        from topobench.tdann.spatial_loss import SpatialLoss
        neighborhoods = {name: make_neighborhoods(positions[name], n_neighborhoods=config.n_neighborhoods,
                                                  max_units=config.max_units, seed=config.seed + index,
                                                  width_scale=config.width_scale)
                         for index, name in enumerate(layers)}
        spatial = SpatialLoss({name: positions[name] for name in layers}, neighborhoods, alpha=alphas,
                              kind=config.spatial_loss_kind, neighborhoods_per_batch=config.neighborhoods_per_batch,
                              seed=config.seed).to(device)

    net = TrainNet(trunk, head).to(device)
    recorder = BlockRecorder(net.trunk, layers)
    model: nn.Module = net
    if world > 1:
        if config.sync_batchnorm:
            if device.type != "cuda":
                raise ModelError("sync_batchnorm needs CUDA (torch's SyncBatchNorm has no CPU kernel); "
                                 "set sync_batchnorm false for a CPU run")
            net = nn.SyncBatchNorm.convert_sync_batchnorm(net)
            model = net
            recorder.remove()
            recorder = BlockRecorder(net.trunk, layers)
        model = nn.parallel.DistributedDataParallel(
            net, device_ids=[device.index] if device.type == "cuda" else None)

    optimizer = torch.optim.SGD(net.parameters(), lr=config.base_lr, momentum=config.momentum,
                                weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, config.lr_factor)
    if config.task == "simclr":
        augment = SimCLRAugment(size=config.input_size, scale=tuple(config.augment_scale), blur_p=config.blur_p)
    else:
        augment = SimCLRAugment.supervised(config.input_size)
    augment_generator = torch.Generator().manual_seed(config.seed + 2)
    order = DataOrder(n_images, config.batch_size, config.seed)

    # -- resume ---------------------------------------------------------------------
    start = 0
    if has_checkpoint:
        state = load_checkpoint(checkpoint_path)
        net.trunk.load_state_dict(state["trunk"])
        net.head.load_state_dict(state["head"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        augment_generator.set_state(state["augment_generator"])
        order.load_state_dict(state["data_order"])
        _restore_rng(state["rng"], device)
        start = int(state["step"])
        say(f"resuming {run_dir} from step {start}")
    columns = csv_columns(layers)
    losses_path = run_dir / LOSSES_FILE
    if main:
        prepare_losses(losses_path, columns, start)
    _barrier(world)

    def save_checkpoint(step: int) -> None:
        if not main:
            return
        state = {"format": CHECKPOINT_FORMAT, "step": step, "config": config.to_dict(),
                 "trunk": net.trunk.state_dict(), "head": net.head.state_dict(),
                 "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                 "augment_generator": augment_generator.get_state(), "data_order": order.state_dict(),
                 "rng": _rng_state(device), "world_size": world}
        atomic_save(state, checkpoint_path)
        if config.keep_checkpoints_every and step % config.keep_checkpoints_every == 0:
            kept = run_dir / f"checkpoint_{step:06d}.pt"
            if kept.exists():
                kept.unlink()
            shutil.copyfile(checkpoint_path, kept)

    # -- loop -----------------------------------------------------------------------
    local = config.batch_size // world
    shard = slice(rank * local, (rank + 1) * local)
    size = data.size
    net.train()
    handle = open(losses_path, "a", newline="") if main else None
    writer = csv.DictWriter(handle, fieldnames=columns) if main else None
    durations = []
    last_row = None
    last = config.steps if until is None else max(start, min(int(until), config.steps))
    try:
        for step in range(start + 1, last + 1):
            began = time.perf_counter()
            indices = order.next()
            batch = torch.from_numpy(np.ascontiguousarray(images[np.asarray(indices[shard])])).to(device)
            lr = optimizer.param_groups[0]["lr"]
            recorder.clear()
            if config.task == "simclr":
                first = augment.subset(augment.sample(config.batch_size, size, size, augment_generator), shard)
                second = augment.subset(augment.sample(config.batch_size, size, size, augment_generator), shard)
                views = torch.cat((augment.apply(batch, first), augment.apply(batch, second)))
                z1, z2 = model(views).chunk(2)
                task_loss = nt_xent_loss(z1, z2, config.temperature)
                accuracy = nt_xent_accuracy(z1.detach(), z2.detach())
            else:
                params = augment.subset(augment.sample(config.batch_size, size, size, augment_generator), shard)
                target = torch.from_numpy(labels[np.asarray(indices[shard])]).to(device)
                logits = model(augment.apply(batch, params))
                task_loss = F.cross_entropy(logits, target)
                accuracy = (logits.detach().argmax(1) == target).float().mean()
            evaluate_spatial = spatial is not None and (
                train_spatial or (config.log_spatial_every > 0 and step % config.log_spatial_every == 0))
            if evaluate_spatial:
                spatial_term, per_layer = spatial(recorder.features, step=step)
                loss = task_loss + spatial_term if train_spatial else task_loss
            else:
                spatial_term, per_layer = None, {}
                loss = task_loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            recorder.clear()

            stats = [task_loss.detach().float(), accuracy.float(),
                     (spatial_term.detach().float() if spatial_term is not None else torch.zeros((), device=device))]
            stats += [per_layer[name].float() for name in layers] if per_layer else []
            stats = _mean_over_ranks(torch.stack([s.to(device) for s in stats]), world).cpu().tolist()
            seconds = time.perf_counter() - began
            durations.append(seconds)
            row = {"step": step, "task_loss": f"{stats[0]:.6f}", "task_accuracy": f"{stats[1]:.4f}",
                   "spatial_term": "", "spatial_loss": "", "lr": f"{lr:.6g}", "seconds": f"{seconds:.3f}"}
            if per_layer:
                values = stats[3:]
                row["spatial_term"] = f"{stats[2]:.6f}"
                row["spatial_loss"] = f"{float(np.mean(values)):.6f}"
                row.update({f"sl_{name}": f"{value:.6f}" for name, value in zip(layers, values)})
            row["total_loss"] = f"{stats[0] + (stats[2] if train_spatial and per_layer else 0.0):.6f}"
            for name in layers:
                row.setdefault(f"sl_{name}", "")
            last_row = row
            if main:
                writer.writerow(row)
                handle.flush()
            if not math.isfinite(stats[0]):
                raise ModelError(f"training diverged at step {step}: task loss {stats[0]}; "
                                 f"lower the learning rate (lr) or check the data")
            if step % config.checkpoint_every == 0 or step == last:
                save_checkpoint(step)
            if config.log_every and (step % config.log_every == 0 or step == start + 1 or step == config.steps):
                mean = float(np.mean(durations[-config.log_every:]))
                sl = f" sl {row['spatial_loss']}" if row["spatial_loss"] else ""
                say(f"step {step}/{config.steps} task {row['task_loss']} acc {row['task_accuracy']}{sl} "
                    f"lr {lr:.4f} {mean:.2f} s/step, eta {_format_seconds(mean * (config.steps - step))}")
    finally:
        recorder.remove()
        if handle is not None:
            handle.close()
    _barrier(world)
    return {"run_dir": str(run_dir), "step": last, "steps_run": len(durations),
            "seconds_per_step": float(np.mean(durations)) if durations else None, "last": last_row}


# ----------------------------------------------------------------------------------------
# export
# ----------------------------------------------------------------------------------------
def export_model(run_dir, out_dir, checkpoint=None) -> Path:
    """Write a trained model for committing and scoring into ``out_dir``.

    - ``weights.pt``: the trunk's state dict (torchvision key names, no ``fc``) with every
      floating tensor in half precision; loads into ``topobench.nets.resnet18(num_classes=None)``
      after ``.float()`` (or with ``load_state_dict``, which casts);
    - ``<layer>.npz``: the positions of each block (:meth:`LayerPositions.save`), so that
      ``out_dir`` is itself a positions folder;
    - ``config.json`` (copied byte for byte) and ``losses.csv`` (rows up to the exported step);
    - ``model.json``: architecture, input size, exported step, task, alphas, layers.

    ``checkpoint``: a checkpoint file to export instead of the run's latest.
    """
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    path = Path(checkpoint) if checkpoint else run_dir / CHECKPOINT_FILE
    if not path.is_file():
        raise ModelError(f"no checkpoint {path} to export: train the run first")
    state = load_checkpoint(path)
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = {k: (v.half() if v.is_floating_point() else v) for k, v in state["trunk"].items()}
    atomic_save(weights, out_dir / "weights.pt")
    folder = run_dir / POSITIONS_FOLDER
    layers = []
    for file in sorted(folder.glob("*.npz")):
        positions = LayerPositions.load(file)
        positions.save(out_dir / f"{positions.name}.npz")
        layers.append(positions.name)
    shutil.copyfile(run_dir / CONFIG_FILE, out_dir / CONFIG_FILE)
    losses = run_dir / LOSSES_FILE
    if losses.is_file():
        rows = read_losses(losses)
        with open(losses, newline="") as handle:
            columns = next(csv.reader(handle))
        with open(out_dir / LOSSES_FILE, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(row for row in rows if int(row["step"]) <= int(state["step"]))
    config = TrainConfig.from_dict(state["config"])
    meta = {"architecture": "resnet18", "weights": "weights.pt", "weights_dtype": "float16",
            "key_names": "torchvision (trunk only, no fc)", "input_size": config.input_size,
            "step": int(state["step"]), "task": config.task, "alpha": config.alphas(),
            "spatial_loss_kind": config.spatial_loss_kind, "seed": config.seed,
            "positions": {name: f"{name}.npz" for name in layers},
            "normalization": {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
            "reference": "Margalit et al. 2024, Neuron (TDANN); trained with topobench.tdann.train"}
    (out_dir / "model.json").write_text(json.dumps(meta, indent=2) + "\n")
    return out_dir


# ----------------------------------------------------------------------------------------
# command line
# ----------------------------------------------------------------------------------------
def main(argv=None) -> int:
    import argparse
    parser = argparse.ArgumentParser(
        prog="python -m topobench.tdann.train",
        description="Train (or resume) a TDANN run: SimCLR/supervised ResNet-18 plus the spatial loss. "
                    "Run again with the same --run-dir to resume from its checkpoint.")
    parser.add_argument("--config", help="TrainConfig JSON (default: the run folder's config.json)")
    parser.add_argument("--run-dir", required=True, help="run folder (checkpoints, losses.csv, positions)")
    parser.add_argument("--export", metavar="DIR", help="after training, export the model to DIR")
    parser.add_argument("--threads", type=int, help="override the config's torch threads")
    parser.add_argument("--device", help="override the config's device (default 'auto': cuda where there is "
                                         "one, else cpu): auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--until", type=int, help="stop after this step (checkpointed; run again to resume)")
    args = parser.parse_args(argv)
    run_dir = Path(args.run_dir)
    config_path = Path(args.config) if args.config else run_dir / CONFIG_FILE
    try:
        config = TrainConfig.load(config_path)
        if args.threads:
            config.threads = args.threads
        if args.device:
            config.device = args.device
        summary = train(config, run_dir, until=args.until)
        if args.export and int(os.environ.get("RANK", "0")) == 0:
            export_model(run_dir, args.export)
            print(f"exported to {args.export}")
    except (ModelError, InputError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if summary["seconds_per_step"] is not None:
        print(f"done: step {summary['step']}, {summary['seconds_per_step']:.2f} s/step")
    return 0


if __name__ == "__main__":
    sys.exit(main())
