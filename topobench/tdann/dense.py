"""The recipe of ``tdann-dense`` and ``tdann-dense-task-only``: a topographic EfficientNet-Lite0
dense enough to carry maps, fine-tuned here with TDANN's spatial loss, and its alpha = 0 control.

Both runs share everything but ``alpha`` (:func:`pair_configs`; a test asserts it):

* **start**: the ImageNet-trained EfficientNet-Lite0 of ``efficientnet-lite0-imagenet``
  (224 px over 8 degrees, TensorFlow Lite input scaling, sha256-checked weights);
* **positions**: those of ``efficientnet-lite0-imagenet-swapopt`` (TDANN's default
  retinotopic placement, swap-optimised on the 1,000 ``imagenet_sample`` photographs, which no
  benchmark scores) for the three committed layers V1 ``_blocks.3`` (40 x 28 x 28, 36.75 mm
  sheet), V4 ``_blocks.7`` (80 x 14 x 14, 22.4 mm) and VTC ``_blocks.15`` (320 x 7 x 7, 70 mm);
* **task loss**: distillation from the frozen original network: KL divergence between the
  softened 1000-way outputs (temperature ``temperature``) of the original (teacher) and of the
  network being trained (student), times T^2 (Hinton et al. 2015), so that the network keeps
  its ImageNet function while the spatial loss reorganises it;
* **spatial loss** (:class:`topobench.tdann.SpatialLoss`, relative, Margalit et al. 2024):
  ``alpha x SL_l`` on each of the three layers, ``neighborhoods_per_batch`` windows per layer
  and batch of TDANN's width for the analogous ResNet-18 layer (V1 1.626 mm as ``layer2.0``,
  V4 2.545 mm as ``layer3.1``, VTC 31.818 mm as ``layer4.1``), at most 500 units per window;
  at alpha 0 it is still evaluated (without gradient) and logged;
* **data**: the data host's training images, each source at its own decoded size
  (``imagenet_sample`` 1,000 photographs at 144 px; ``more_training_images`` 23,253 at 80 px:
  faces, scenes, characters), never fLoc; light augmentation: random resized crop (area
  fraction ``crop_scale``, aspect 3/4 to 4/3) upsampled bilinearly to 224 px, horizontal flip;
* **optimisation**: the whole network (all weights, BatchNorm affine parameters included),
  Adam, constant lr 1e-4, batch 32; BatchNorm statistics frozen (BN in eval mode, so that the
  maps are not moved by a drift of the running statistics); the classifier's dropout (0.2)
  is active in the student, so that the control's task loss is not identically zero.

**Resolution of the training data.** The 80 px images upsampled to 224 px carry at most
40 cycles per image, 5 cycles per degree over the 8-degree field when shown whole (more in
a crop), above the benchmark gratings (at most 3 cpd), but with no energy at the highest
frequencies the 224 px network resolves: V1 units tuned to the finest frequencies see little
drive from the training images, and their maps are organised mainly by the swap-optimised
start and by the 144 px ImageNet photographs.

**The TopoLoss run** ``tdann-dense-topoloss`` (:func:`topoloss_config`): the same start, data,
seed, optimisation and budget, with ``constraint = 'topoloss'``: TopoLoss (Deb et al. 2025,
ICLR, "TopoNets"; :mod:`topobench.tdann.topoloss`, computed by the PyPI package ``topoloss``) on
the convolution that makes each committed layer's output channels (``_blocks.N._project_conv``),
``mean over the three layers of topoloss_scale x TopoLoss_l`` (blur factor ``topoloss_factor``
3, scale 1.0, bilinear) instead of ``alpha x SL``; its units are placed as TopoNets lays them out
(``positions = 'toponets'``: the channels on TopoNets' sheet, one copy per retinotopic location,
:func:`topobench.toponets.toponets_positions`). The spatial loss is still evaluated on those
positions without gradient and logged (``sl_<layer>``), beside ``topoloss_term`` and the unscaled
``tl_<layer>``. Its config differs from ``tdann-dense``'s only in :data:`CONSTRAINT_FIELDS`
(a test asserts it); ``alpha`` is not used by it.

**How it differs from the published TDANN**: EfficientNet-Lite0 (MBConv blocks, no
squeeze-and-excitation) instead of ResNet-18; a supervised ImageNet network fine-tuned
with distillation instead of SimCLR trained from scratch on ImageNet for 200 epochs; three
layers with a sheet instead of all eight blocks; several windows per layer and batch
(TDANN: one, at batch 512); a few thousand steps of batch 32 on a CPU.

A run lives in one folder: ``config.json`` (:class:`DenseConfig`), ``positions/<layer>.npz``,
``checkpoint.pt`` (the latest only: model, optimiser, step, the states of torch's global
generator (dropout) and of the augmentation generator, the data order; readable with
``torch.load(path, weights_only=True)``; written to a temporary file and renamed every
``checkpoint_every`` steps and at the end), ``losses.csv`` (one row per step) and
``measures.jsonl`` (:func:`measure`). Resuming restores all of it and truncates
``losses.csv`` to the checkpoint's step: at the same thread count on the CPU the weights
are bit-identical to those of an uninterrupted run. Command line::

    python -m topobench.tdann.dense --run-dir DIR --alpha A --until STEP [--threads N] [--device cuda]
    python -m topobench.tdann.dense --run-dir DIR --constraint topoloss --until STEP

(``--alpha`` and ``--constraint`` only on the first call; later calls read ``config.json`` and
refuse a different alpha or constraint. ``--device``, cpu by default, may change between calls:
on an accelerator the arithmetic differs from the CPU's in the last bits, so a run is bit-identical
to an uninterrupted one only on the CPU; its checkpoints hold CPU tensors either way.)
:func:`bundle` writes a finished run as a model folder with half-precision weights
and their sha256, which :func:`load_bundle` checks.
"""
from __future__ import annotations

import copy
import csv
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from topobench.data_client import sha256_of
from topobench.errors import InputError, ModelError
from topobench.tdann.config import JsonConfig
from topobench.tdann.train import atomic_save, prepare_losses, read_losses

CONFIG_FILE = "config.json"
CHECKPOINT_FILE = "checkpoint.pt"
LOSSES_FILE = "losses.csv"
MEASURES_FILE = "measures.jsonl"
POSITIONS_FOLDER = "positions"
CHECKPOINT_FORMAT = "topobench-dense-checkpoint/1"
BUNDLE_FORMAT = "topobench-dense-model/1"
IDENTIFIERS = ("tdann-dense", "tdann-dense-task-only")
#: The third member of the family: TopoLoss instead of the spatial loss (:func:`topoloss_config`).
TOPOLOSS_IDENTIFIER = "tdann-dense-topoloss"
#: ``constraint``: the spatial loss (TDANN) or TopoLoss (TopoNets).
CONSTRAINTS = ("spatial", "topoloss")
#: The fields in which the TopoLoss run differs from ``tdann-dense``: the constraint and the
#: layout that goes with it (TopoNets' sheet instead of TDANN's swap-optimised positions).
CONSTRAINT_FIELDS = ("constraint", "positions")
#: The committed layers (V1, V4, VTC of ``efficientnet-lite0-imagenet``) and TDANN's window
#: width (mm) of the analogous ResNet-18 layer.
WIDTH_MM = {"_blocks.3": 1.626, "_blocks.7": 2.545, "_blocks.15": 31.818}
#: Sheet sides (mm) of the committed layers (TDANN's V1, V4 and VTC sheets), in network order.
SHEET_MM = {"_blocks.3": 36.75, "_blocks.7": 22.4, "_blocks.15": 70.0}
#: The alpha of ``tdann-dense`` (see the pilot note in the training README).
ALPHA = 1.0
#: Fields that may change between calls of one run: they change neither the arithmetic nor
#: the random streams of training.
RESUMABLE_CHANGES = ("threads", "checkpoint_every", "log_every", "steps")
_NOMINAL = 1000.0  # augmentation boxes are drawn on a nominal square, then scaled per source


@dataclass
class DenseConfig(JsonConfig):
    """One run of the dense recipe (every field JSON-serialisable; see the module docstring).

    ``positions``: 'swapopt' (the shipped positions of ``efficientnet-lite0-imagenet-swapopt``,
    224 px only), 'default' (TDANN's retinotopic placement with ``positions_seed``) or a folder
    of ``<layer>.npz``. ``sources``: training source -> decoded size (px); ``max_images``: use
    only the first N images of each source (None: all). ``steps``: the planned length of the
    run (nothing depends on it: the learning rate is constant). ``positions`` 'toponets':
    TopoNets' layout (:func:`topobench.toponets.toponets_positions`) on :data:`SHEET_MM`.

    ``constraint``: 'spatial' (``alpha x SL`` on the windows of the positions) or 'topoloss'
    (``mean_l topoloss_scale x TopoLoss_l`` on the weights of each spatial layer's
    ``_project_conv``, blur factor ``topoloss_factor``, ``topoloss_interpolation``;
    :mod:`topobench.tdann.topoloss`); ``alpha`` is used by 'spatial' only.
    """

    seed: int = 0
    alpha: float = ALPHA
    steps: int = 3000
    batch_size: int = 32
    input_size: int = 224
    lr: float = 1e-4
    temperature: float = 2.0
    sources: dict = field(default_factory=lambda: {"imagenet_sample": 144, "more_training_images": 80})
    max_images: int | None = None
    crop_scale: list = field(default_factory=lambda: [0.35, 1.0])
    flip_p: float = 0.5
    spatial_layers: dict = field(default_factory=lambda: dict(WIDTH_MM))
    positions: str = "swapopt"
    positions_seed: int = 0
    spatial_loss_kind: str = "relative"
    n_neighborhoods: int = 1000
    max_units: int = 500
    neighborhoods_per_batch: int = 4
    dropout: bool = True
    freeze_bn: bool = True
    constraint: str = "spatial"
    topoloss_factor: float = 3.0
    topoloss_scale: float = 1.0
    topoloss_interpolation: str = "bilinear"
    checkpoint_every: int = 25
    log_every: int = 1
    threads: int = 1

    def __post_init__(self):
        if "floc" in self.sources:
            raise ModelError("fLoc images are test stimuli of the benchmarks: never train on them")
        unknown = [layer for layer in self.spatial_layers if layer not in SHEET_MM]
        if unknown:
            raise ModelError(f"no sheet for layer(s) {', '.join(unknown)}; spatial layers are {', '.join(SHEET_MM)}")
        if self.batch_size < 2 or self.steps < 1 or self.checkpoint_every < 1:
            raise ModelError("batch_size must be >= 2, steps and checkpoint_every >= 1")
        if self.constraint not in CONSTRAINTS:
            raise ModelError(f"constraint must be one of {', '.join(CONSTRAINTS)}, not {self.constraint!r}")
        if not (math.isfinite(float(self.topoloss_factor)) and float(self.topoloss_factor) >= 1.0):
            raise ModelError(f"topoloss_factor must be a finite number >= 1, not {self.topoloss_factor}")
        if not (math.isfinite(float(self.topoloss_scale)) and float(self.topoloss_scale) >= 0.0):
            raise ModelError(f"topoloss_scale must be a finite number >= 0, not {self.topoloss_scale}")

    def layers(self) -> list[str]:
        """The spatial layers in network order (not the order of the JSON file, whose keys are sorted)."""
        return [layer for layer in SHEET_MM if layer in self.spatial_layers]

    @property
    def width_scale(self) -> float:
        """Window widths x 224 / input_size (TDANN's units per window at a reduced input)."""
        return 224.0 / float(self.input_size)


def pair_configs(alpha: float = ALPHA, **overrides) -> dict[str, DenseConfig]:
    """The configs of ``tdann-dense`` (``alpha``) and ``tdann-dense-task-only`` (0): identical but for alpha."""
    return {IDENTIFIERS[0]: DenseConfig(alpha=float(alpha), **overrides),
            IDENTIFIERS[1]: DenseConfig(alpha=0.0, **overrides)}


def topoloss_config(alpha: float = ALPHA, **overrides) -> DenseConfig:
    """The config of ``tdann-dense-topoloss``: ``tdann-dense``'s (``pair_configs(alpha, **overrides)``)
    with only :data:`CONSTRAINT_FIELDS` changed: TopoLoss, and TopoNets' layout. ``alpha`` is kept
    equal to ``tdann-dense``'s (TopoLoss does not use it); TopoLoss's own parameters may be
    overridden (``topoloss_scale=...``), which then holds for the whole family."""
    overrides = {k: v for k, v in overrides.items() if k not in CONSTRAINT_FIELDS}
    return DenseConfig(alpha=float(alpha), constraint="topoloss", positions="toponets", **overrides)


def family_configs(alpha: float = ALPHA, **overrides) -> dict[str, DenseConfig]:
    """``tdann-dense``, ``tdann-dense-task-only`` and ``tdann-dense-topoloss``: one start, data, seed
    and budget; alpha differs inside the pair, the constraint between ``tdann-dense`` and the third."""
    return {**pair_configs(alpha, **overrides), TOPOLOSS_IDENTIFIER: topoloss_config(alpha, **overrides)}


def topoloss_convolutions(layers) -> dict[str, str]:
    """layer -> the convolution that makes its output channels (an MBConv block's ``_project_conv``)."""
    return {layer: f"{layer}._project_conv" for layer in layers}


# ----------------------------------------------------------------------------------------
# pieces
# ----------------------------------------------------------------------------------------
def load_teacher() -> torch.nn.Module:
    """The ImageNet-trained EfficientNet-Lite0 of ``efficientnet-lite0-imagenet`` (sha256-checked), eval mode."""
    from topobench.models.efficientnet_lite0_imagenet.model import load_network
    return load_network()


def set_train_mode(network: torch.nn.Module, config: DenseConfig) -> None:
    """Train mode, except BatchNorm (eval: frozen statistics) when ``freeze_bn``, and dropout
    (eval) unless ``dropout``."""
    network.train()
    for module in network.modules():
        if config.freeze_bn and isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.eval()
        if not config.dropout and isinstance(module, torch.nn.Dropout):
            module.eval()


def layer_shapes(network: torch.nn.Module, input_size: int, layers) -> dict[str, tuple]:
    from topobench.tdann.train import BlockRecorder
    recorder = BlockRecorder(network, layers)
    was_training = network.training
    network.eval()
    try:
        with torch.no_grad():
            network(torch.zeros(1, 3, input_size, input_size, device=next(network.parameters()).device))
    finally:
        network.train(was_training)
        recorder.remove()
    return {name: tuple(int(d) for d in recorder.features[name].shape[1:]) for name in layers}


def make_positions(config: DenseConfig, shapes: dict) -> dict:
    """layer -> LayerPositions for the spatial layers (see :class:`DenseConfig`)."""
    from topobench.positions import LayerPositions, retinotopic_positions
    out = {}
    for layer, dims in shapes.items():
        if config.positions == "toponets":
            from topobench.toponets import toponets_positions
            out[layer] = toponets_positions(dims, SHEET_MM[layer], name=layer)
            continue
        if config.positions == "default":
            out[layer] = retinotopic_positions(layer, dims, sheet_side_mm=SHEET_MM[layer], seed=config.positions_seed)
            continue
        if config.positions == "swapopt":
            from topobench.models.efficientnet_lite0_imagenet.model import POSITIONS_FOLDER as folder
        else:
            folder = Path(config.positions)
        positions = LayerPositions.load(Path(folder) / f"{layer}.npz")
        if tuple(positions.dims) != tuple(dims):
            raise ModelError(f"positions {folder}/{layer}.npz have dims {positions.dims} but the layer has {dims} "
                             f"at {config.input_size} px; use positions 'default' or positions for this input")
        out[layer] = positions
    return out


class SourceImages:
    """Training images of several sources, each at its own size, behind one global index."""

    def __init__(self, arrays: dict):
        self.names = list(arrays)
        self.arrays = [arrays[name] for name in self.names]
        self.offsets = np.cumsum([0] + [len(a) for a in self.arrays])

    def __len__(self) -> int:
        return int(self.offsets[-1])

    @classmethod
    def load(cls, config: DenseConfig) -> "SourceImages":
        from topobench.tdann.training_data import load_training_data
        arrays = {}
        for source, size in config.sources.items():
            images = load_training_data([source], int(size), progress=False).images
            arrays[source] = images[:config.max_images] if config.max_images else images
        return cls(arrays)

    def batch(self, indices, params: dict, augment) -> torch.Tensor:
        """Augmented float batch (B, 3, S, S) in [0, 1] for global ``indices``, in their order."""
        indices = np.asarray(indices)
        source = np.searchsorted(self.offsets, indices, side="right") - 1
        out = torch.empty(len(indices), 3, augment.size, augment.size)
        for s, array in enumerate(self.arrays):
            rows = np.flatnonzero(source == s)
            if len(rows) == 0:
                continue
            images = torch.from_numpy(np.ascontiguousarray(array[indices[rows] - self.offsets[s]]))
            part = augment.subset(params, torch.as_tensor(rows))
            part["box"] = part["box"] * (images.shape[-1] / _NOMINAL)
            out[torch.as_tensor(rows)] = augment.apply(images, part)
        return out


def make_augment(config: DenseConfig):
    from topobench.tdann.augment import SimCLRAugment
    return SimCLRAugment(size=config.input_size, scale=tuple(config.crop_scale), flip_p=config.flip_p,
                         jitter_p=0.0, gray_p=0.0, blur_p=0.0, normalize=False)


def to_network_input(x: torch.Tensor) -> torch.Tensor:
    """[0, 1] images -> the TensorFlow Lite scaling of EfficientNet-Lite0, (x - 127/255) / (128/255)."""
    from topobench.models.efficientnet_lite0_imagenet.model import MEAN, STD
    return (x - MEAN[0]) / STD[0]


def distillation_loss(student_logits, teacher_logits, temperature: float) -> torch.Tensor:
    """KL(teacher || student) of the softened outputs, times T^2 (Hinton et al. 2015)."""
    t = float(temperature)
    return F.kl_div(F.log_softmax(student_logits / t, dim=1), F.log_softmax(teacher_logits / t, dim=1),
                    log_target=True, reduction="batchmean") * (t * t)


def csv_columns(layers, constraint: str = "spatial") -> list[str]:
    """Columns of ``losses.csv``; a TopoLoss run adds ``topoloss_term`` and the unscaled ``tl_<layer>``."""
    topo = ["topoloss_term"] + [f"tl_{layer}" for layer in layers] if constraint == "topoloss" else []
    return (["step", "task_loss", "agreement", "spatial_term"] + [f"sl_{layer}" for layer in layers] + topo
            + ["total_loss", "seconds"])


def load_checkpoint(path) -> dict:
    """A dense training checkpoint (plain tensors, numbers and strings: ``weights_only``)."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"checkpoint {path} does not exist")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ModelError(f"{path} is not a topobench dense training checkpoint")
    return state


def prepare_run(run_dir, config: DenseConfig | None = None) -> DenseConfig:
    """The run's config: ``config`` written as ``config.json`` on the first call; later calls
    check it against the saved one (only :data:`RESUMABLE_CHANGES` may differ)."""
    run_dir = Path(run_dir)
    path = run_dir / CONFIG_FILE
    if path.is_file():
        saved = DenseConfig.load(path)
        if config is None:
            return saved
        changed = {k: v for k, v in saved.differences(config).items() if k not in RESUMABLE_CHANGES}
        if changed:
            raise ModelError(f"{run_dir} was started with another config; differing fields: "
                             + ", ".join(f"{k} (saved {a!r}, given {b!r})" for k, (a, b) in changed.items()))
        return config
    if config is None:
        raise ModelError(f"{path} does not exist: give the config (e.g. --alpha) on the first call")
    config.save(path)
    return config


# ----------------------------------------------------------------------------------------
# training
# ----------------------------------------------------------------------------------------
def _on_cpu(value):
    """``value`` (a state dict, nested in dicts and lists) with every tensor copied to the CPU, so that
    a checkpoint written on an accelerator loads on any machine."""
    if isinstance(value, torch.Tensor):
        return value.cpu()
    if isinstance(value, dict):
        return {key: _on_cpu(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_on_cpu(item) for item in value)
    return value


def train(config: DenseConfig, run_dir, until: int | None = None, data: SourceImages | None = None,
          teacher: torch.nn.Module | None = None, log=None, device: str = "cpu") -> dict:
    """Train (or resume) the run of ``config`` in ``run_dir`` up to step ``until`` (default
    ``config.steps``); returns a summary. ``data`` and ``teacher``: for tests (defaults: the
    decoded training images and the packaged ImageNet network). ``device``: where the teacher, the
    network and each batch go (:func:`topobench.model_interface.check_device`); the images are
    augmented on the CPU, so the data stream is the same on every device."""
    from topobench.model_interface import check_device
    from topobench.tdann.neighborhoods import make_neighborhoods
    from topobench.tdann.spatial_loss import SpatialLoss
    from topobench.tdann.train import BlockRecorder, DataOrder

    device = check_device(device)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    config = prepare_run(run_dir, config)
    say = log if log is not None else (lambda message: print(message, flush=True))
    torch.set_num_threads(int(config.threads))
    data = data if data is not None else SourceImages.load(config)
    teacher = (teacher if teacher is not None else load_teacher()).to(device)
    teacher.eval()
    for parameter in teacher.parameters():
        parameter.requires_grad_(False)
    student = copy.deepcopy(teacher)
    for parameter in student.parameters():
        parameter.requires_grad_(True)

    layers = config.layers()
    shapes = layer_shapes(student, config.input_size, layers)
    positions = make_positions(config, shapes)
    for layer, layer_positions in positions.items():
        if not (run_dir / POSITIONS_FOLDER / f"{layer}.npz").is_file():
            layer_positions.save(run_dir / POSITIONS_FOLDER / f"{layer}.npz")
    neighborhoods = {layer: make_neighborhoods(positions[layer], config.spatial_layers[layer],
                                               config.n_neighborhoods, config.max_units, config.seed + index,
                                               width_scale=config.width_scale)
                     for index, layer in enumerate(layers)}
    use_spatial = config.constraint == "spatial"
    spatial = SpatialLoss(positions, neighborhoods, alpha=float(config.alpha) if use_spatial else 0.0,
                          kind=config.spatial_loss_kind, neighborhoods_per_batch=config.neighborhoods_per_batch,
                          seed=config.seed).to(device)
    topo = None
    if config.constraint == "topoloss":
        from topobench.tdann.topoloss import TopoLossConstraint
        topo = TopoLossConstraint(student, topoloss_convolutions(layers), factor=config.topoloss_factor,
                                  scale=config.topoloss_scale, interpolation=config.topoloss_interpolation)
    optimizer = torch.optim.Adam(student.parameters(), lr=config.lr)
    augment = make_augment(config)
    augment_generator = torch.Generator().manual_seed(config.seed + 2)
    order = DataOrder(len(data), config.batch_size, config.seed)

    checkpoint_path = run_dir / CHECKPOINT_FILE
    start = 0
    if checkpoint_path.is_file():
        state = load_checkpoint(checkpoint_path)
        student.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        augment_generator.set_state(state["augment_rng"])
        order.load_state_dict(state["data_order"])
        torch.set_rng_state(state["torch_rng"])
        if device.startswith("cuda") and "cuda_rng" in state:  # dropout's stream on the GPU
            torch.cuda.set_rng_state(state["cuda_rng"], device)
        start = int(state["step"])
        say(f"resuming {run_dir} from step {start}")
    else:
        torch.manual_seed(config.seed + 3)  # dropout's stream
    columns = csv_columns(layers, config.constraint)
    losses_path = run_dir / LOSSES_FILE
    prepare_losses(losses_path, columns, start)

    def save_checkpoint(step: int) -> None:
        state = {"format": CHECKPOINT_FORMAT, "step": int(step), "config": config.to_dict(),
                 "model": student.state_dict(), "optimizer": optimizer.state_dict(),
                 "augment_rng": augment_generator.get_state(), "torch_rng": torch.get_rng_state(),
                 "data_order": order.state_dict()}
        if device != "cpu":  # CPU tensors, the device named; a CPU checkpoint is written as before
            state = _on_cpu({**state, "device": device})
            if device.startswith("cuda"):
                state["cuda_rng"] = torch.cuda.get_rng_state(device)
        atomic_save(state, checkpoint_path)

    recorder = BlockRecorder(student, layers)
    train_spatial = use_spatial and float(config.alpha) != 0.0
    last = config.steps if until is None else max(start, int(until))
    durations = []
    row = None
    set_train_mode(student, config)
    try:
        with open(losses_path, "a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            for step in range(start + 1, last + 1):
                began = time.perf_counter()
                indices = order.next()
                params = augment.sample(config.batch_size, _NOMINAL, _NOMINAL, augment_generator)
                x = to_network_input(data.batch(indices, params, augment)).to(device)
                with torch.no_grad():
                    teacher_logits = teacher(x)
                recorder.clear()
                logits = student(x)
                task = distillation_loss(logits, teacher_logits, config.temperature)
                spatial_term, per_layer = spatial(recorder.features, step=step)
                loss = task + spatial_term if train_spatial else task
                if topo is not None:
                    topo_term, topo_layers = topo(student)
                    loss = loss + topo_term
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                recorder.clear()
                seconds = time.perf_counter() - began
                durations.append(seconds)
                task_value = float(task.detach())
                term = float(spatial_term.detach()) if train_spatial else 0.0
                row = {"step": step, "task_loss": f"{task_value:.6f}",
                       "agreement": f"{float((logits.detach().argmax(1) == teacher_logits.argmax(1)).float().mean()):.4f}",
                       "spatial_term": f"{term:.6f}", "total_loss": f"{task_value + term:.6f}",
                       "seconds": f"{seconds:.3f}"}
                row.update({f"sl_{layer}": f"{float(per_layer[layer]):.6f}" for layer in layers})
                if topo is not None:
                    topo_value = float(topo_term.detach())
                    row["topoloss_term"] = f"{topo_value:.6f}"
                    row["total_loss"] = f"{task_value + term + topo_value:.6f}"
                    row.update({f"tl_{layer}": f"{float(topo_layers[layer]):.6f}" for layer in layers})
                    term = term + topo_value
                writer.writerow(row)
                handle.flush()
                if not (math.isfinite(task_value) and math.isfinite(term)):
                    raise ModelError(f"training diverged at step {step}: task {task_value}, {config.constraint} {term}")
                if step % config.checkpoint_every == 0 or step == last:
                    save_checkpoint(step)
                if config.log_every and step % config.log_every == 0:
                    say(f"step {step} task {row['task_loss']} agree {row['agreement']} "
                        + " ".join(f"{layer} {row['sl_' + layer]}" for layer in layers) + f" {seconds:.2f} s")
    finally:
        recorder.remove()
    return {"run_dir": str(run_dir), "step": last, "steps_run": len(durations),
            "seconds_per_step": float(np.mean(durations)) if durations else None, "last": row}


# ----------------------------------------------------------------------------------------
# the network of a checkpoint, measurement, bundling
# ----------------------------------------------------------------------------------------
def network_from_state(state_dict: dict) -> torch.nn.Module:
    from topobench.nets.efficientnet_lite import efficientnet_lite0
    network = efficientnet_lite0(num_classes=1000)
    network.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state_dict.items()})
    return network.eval()


def _run_positions(run_dir) -> dict:
    from topobench.positions import LayerPositions
    folder = Path(run_dir) / POSITIONS_FOLDER
    return {path.stem: LayerPositions.load(path) for path in sorted(folder.glob("*.npz"))}


def model_from_run(run_dir, checkpoint=None, identifier: str | None = None, cache: bool = False):
    """A scorable model (``PytorchModel``) of a run's checkpoint (default: the latest)."""
    from topobench.model_interface import PytorchModel
    from topobench.models.efficientnet_lite0_imagenet.model import MEAN, REGION_LAYERS, STD, VISUAL_DEGREES
    run_dir = Path(run_dir)
    state = load_checkpoint(Path(checkpoint) if checkpoint else run_dir / CHECKPOINT_FILE)
    config = DenseConfig.from_dict(state["config"])
    name = identifier or f"{run_dir.name}-step{int(state['step'])}"
    return PytorchModel(network_from_state(state["model"]), name, REGION_LAYERS, visual_degrees=VISUAL_DEGREES,
                        image_size=config.input_size, positions=_run_positions(run_dir), mean=MEAN, std=STD,
                        cache=cache), int(state["step"])


def face_patches(model, n_resamples: int = 0) -> dict:
    """Patches per domain in the model's VTC (``GrillSpector2014.VTC-patch_organization``'s
    selectivity, smoothing and thresholds)."""
    from topobench.benchmarks.grillspector2014.benchmark import GrillSpector2014PatchOrganization
    score = GrillSpector2014PatchOrganization(n_resamples=n_resamples)(model)
    details = score.attrs["details"]
    return {"n_patches": details["n_patches"], "sub_scores": details["sub_scores"], "raw": float(score.attrs["raw"])}


def measure_model(model, n_resamples: int = 100, seed: int = 0, patches: bool = True) -> dict:
    """V1 orientation smoothness (``compare-tdann``'s measure: different-channel pairs, ratio to
    shuffled positions per bin, 0-0.5 mm first, 95 % half-sample interval) and the number of
    VTC patches per domain of a scorable model (e.g. ``load_model('efficientnet-lite0-imagenet-swapopt')``,
    the start of both runs)."""
    from topobench.tdann.compare import orientation_smoothness
    smooth = orientation_smoothness(model, n_resamples, seed)
    smooth.pop("_halves", None)
    record = {"v1_orientation_ratio": smooth["ratio"], "v1_interval_95": smooth["interval_95"],
              "bins_mm": smooth["bins_mm"], "v1_n_responsive": smooth["n_responsive"],
              "v1_median_circular_variance": smooth["median_circular_variance"]}
    if patches:
        found = face_patches(model)
        record.update({"vtc_n_patches": found["n_patches"], "vtc_n_face_patches": found["n_patches"].get("faces"),
                       "vtc_sub_scores": found["sub_scores"]})
    return record


def measure(run_dir, checkpoint=None, n_resamples: int = 100, seed: int = 0, patches: bool = True,
            write: bool = True) -> dict:
    """:func:`measure_model` of a run's checkpoint (default: the latest), with its step; appended
    to the run's ``measures.jsonl`` when ``write``, so that progress can be followed against steps."""
    model, step = model_from_run(run_dir, checkpoint)
    record = {"step": step, **measure_model(model, n_resamples, seed, patches)}
    if write:
        with open(Path(run_dir) / MEASURES_FILE, "a") as handle:
            handle.write(json.dumps(record) + "\n")
    return record


def measured_steps(run_dir) -> set[int]:
    path = Path(run_dir) / MEASURES_FILE
    if not path.is_file():
        return set()
    return {int(json.loads(line)["step"]) for line in path.read_text().splitlines() if line.strip()}


def watch(run_dirs, every: int = 250, poll_seconds: float = 60.0, start_file=None, stop_at: int | None = None,
          log=print) -> None:
    """Measure each run whenever its latest checkpoint is at a multiple of ``every`` steps not yet
    in its ``measures.jsonl`` (the checkpoint is copied first, since training replaces it every
    ``checkpoint_every`` steps); with ``start_file``, first measure the start of both runs (the
    registered ``efficientnet-lite0-imagenet-swapopt``) into that JSON file. Runs in its own
    process beside the training processes; stops when every run has passed ``stop_at``."""
    import shutil
    if start_file is not None and not Path(start_file).is_file():
        from topobench.registry import load_model
        record = {"step": 0, "model": "efficientnet-lite0-imagenet-swapopt",
                  **measure_model(load_model("efficientnet-lite0-imagenet-swapopt"))}
        Path(start_file).write_text(json.dumps(record, indent=1) + "\n")
        log(f"start: {json.dumps(record)}")
    seen, steps = {}, {}
    while True:
        for run_dir in map(Path, run_dirs):
            path = run_dir / CHECKPOINT_FILE
            if not path.is_file() or seen.get(run_dir) == path.stat().st_mtime_ns:
                continue
            seen[run_dir] = path.stat().st_mtime_ns
            copy_path = run_dir / f".measure-{os.getpid()}.part"
            shutil.copyfile(path, copy_path)
            try:
                step = int(load_checkpoint(copy_path)["step"])
                steps[run_dir] = step
                if step % every == 0 and step not in measured_steps(run_dir):
                    record = measure(run_dir, copy_path)
                    log(f"{run_dir.name}: {json.dumps(record)}")
            finally:
                copy_path.unlink(missing_ok=True)
        if stop_at is not None and steps and all(step >= stop_at for step in steps.values()):
            return
        time.sleep(poll_seconds)


def bundle(run_dir, out_dir, identifier: str, checkpoint=None) -> Path:
    """Write a run as a model folder: ``weights.pt`` (half precision, the whole network with its
    classifier), ``positions/<layer>.npz``, ``model.json`` (recipe, step, the weights' sha256),
    and the run's exact ``config.json`` and ``losses.csv`` (rows up to the bundled step)."""
    import shutil
    from topobench.models.efficientnet_lite0_imagenet.model import MEAN, REGION_LAYERS, STD, VISUAL_DEGREES
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    state = load_checkpoint(Path(checkpoint) if checkpoint else run_dir / CHECKPOINT_FILE)
    config = DenseConfig.from_dict(state["config"])
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = {k: (v.half() if v.is_floating_point() else v).clone() for k, v in state["model"].items()}
    atomic_save(weights, out_dir / "weights.pt")
    for layer, layer_positions in _run_positions(run_dir).items():
        layer_positions.save(out_dir / POSITIONS_FOLDER / f"{layer}.npz")
    shutil.copyfile(run_dir / CONFIG_FILE, out_dir / CONFIG_FILE)
    rows = [row for row in read_losses(run_dir / LOSSES_FILE) if int(row["step"]) <= int(state["step"])]
    columns = csv_columns(config.layers(), config.constraint)
    with open(out_dir / LOSSES_FILE, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows({k: row.get(k, "") for k in columns} for row in rows)
    record = {"format": BUNDLE_FORMAT, "identifier": identifier, "architecture": "efficientnet-lite0",
              "weights": "weights.pt", "weights_dtype": "float16", "weights_sha256": sha256_of(out_dir / "weights.pt"),
              "image_size": config.input_size, "visual_degrees": VISUAL_DEGREES, "regions": dict(REGION_LAYERS),
              "mean": list(MEAN), "std": list(STD), "step": int(state["step"]), "alpha": config.alpha,
              "constraint": config.constraint,
              "recipe": "topobench.tdann.dense", "config": config.to_dict()}
    (out_dir / "model.json").write_text(json.dumps(record, indent=1) + "\n")
    return out_dir


def load_bundle(folder, identifier: str | None = None):
    """The ``PytorchModel`` of a folder written by :func:`bundle`, after checking the weights' sha256."""
    from topobench.model_interface import PytorchModel
    folder = Path(folder)
    if not (folder / "model.json").is_file():
        raise ModelError(f"{folder} holds no model.json: bundle a run with topobench.tdann.dense.bundle")
    record = json.loads((folder / "model.json").read_text())
    path = folder / record["weights"]
    if not path.is_file():
        raise ModelError(f"{path} is missing")
    found = sha256_of(path)
    if found != record["weights_sha256"]:
        raise ModelError(f"{path} has sha256 {found}, model.json expects {record['weights_sha256']}; "
                         f"the weights file is damaged or was replaced: bundle the run again")
    state = torch.load(path, map_location="cpu", weights_only=True)
    positions = _run_positions(folder)
    return PytorchModel(network_from_state(state), identifier or record["identifier"], record["regions"],
                        visual_degrees=record["visual_degrees"], image_size=record["image_size"],
                        positions=positions, mean=tuple(record["mean"]), std=tuple(record["std"]),
                        weights_sha256=found)


# ----------------------------------------------------------------------------------------
# command line
# ----------------------------------------------------------------------------------------
def main(argv=None) -> int:
    import argparse
    parser = argparse.ArgumentParser(prog="python -m topobench.tdann.dense",
                                     description="Train (or resume) a tdann-dense run (see the module docstring).")
    parser.add_argument("--run-dir", default=None)
    parser.add_argument("--alpha", type=float, help="spatial-loss weight (first call; later calls must match)")
    parser.add_argument("--constraint", choices=CONSTRAINTS,
                        help="spatial (TDANN, default) or topoloss (TopoNets; tdann-dense-topoloss's config): "
                             "first call; later calls must match")
    parser.add_argument("--until", type=int, help="stop after this step (checkpointed; run again to resume)")
    parser.add_argument("--threads", type=int, help="torch threads (the run's arithmetic depends on it)")
    parser.add_argument("--checkpoint-every", type=int)
    parser.add_argument("--device", default="cpu",
                        help="where the networks and batches go: cpu (default), cuda, cuda:N or mps")
    parser.add_argument("--measure", action="store_true",
                        help="measure the latest checkpoint (V1 smoothness, VTC face patches) instead of training")
    parser.add_argument("--watch", nargs="+", metavar="RUN_DIR",
                        help="instead of training: measure these runs every --every steps (run beside training)")
    parser.add_argument("--every", type=int, default=250)
    parser.add_argument("--start-file", help="with --watch: first measure the start network into this JSON")
    args = parser.parse_args(argv)
    if not args.watch and not args.run_dir:
        parser.error("--run-dir is required (except with --watch)")
    run_dir = Path(args.run_dir) if args.run_dir else None
    try:
        if args.watch:
            torch.set_num_threads(int(args.threads or 1))
            watch(args.watch, args.every, start_file=args.start_file, stop_at=args.until,
                  log=lambda message: print(message, flush=True))
            return 0
        if args.measure:
            print(json.dumps(measure(run_dir)), flush=True)
            return 0
        saved = run_dir / CONFIG_FILE
        if saved.is_file():
            config = DenseConfig.load(saved)
            if args.alpha is not None and float(args.alpha) != float(config.alpha):
                raise ModelError(f"{run_dir} was started with alpha {config.alpha}, not {args.alpha}")
            if args.constraint is not None and args.constraint != config.constraint:
                raise ModelError(f"{run_dir} was started with constraint {config.constraint}, not {args.constraint}")
        elif args.constraint == "topoloss":
            config = topoloss_config(alpha=ALPHA if args.alpha is None else float(args.alpha))
        else:
            if args.alpha is None:
                raise ModelError(f"{run_dir} has no {CONFIG_FILE}: give --alpha on the first call")
            config = DenseConfig(alpha=float(args.alpha))
        if args.threads:
            config.threads = int(args.threads)
        if args.checkpoint_every:
            config.checkpoint_every = int(args.checkpoint_every)
        summary = train(config, run_dir, until=args.until, device=args.device)
    except (ModelError, InputError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if summary["seconds_per_step"] is not None:
        print(f"done: step {summary['step']}, {summary['seconds_per_step']:.2f} s/step", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
