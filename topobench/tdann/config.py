"""The configuration of one TDANN training run, saved beside it as ``config.json``.

Defaults follow TDANN (Margalit et al. 2024, Neuron; VISSL SimCLR recipe of
neuroailab/TDANN) scaled to a CPU budget: ResNet-18 at 64 px input instead of
224 px, batch 128 instead of 512, a few hundred steps instead of 200 epochs.
SimCLR (Chen et al. 2020, ICML): temperature 0.1, projection MLP 512-512-128,
SGD with momentum 0.9, learning rate 0.3 x batch / 256 with cosine decay,
weight decay 1e-6. Spatial loss weight ``alpha`` 0 (task only) or 0.25
(TDANN's published value), relative spatial loss by default.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from topobench.errors import ModelError

TASKS = ("simclr", "supervised")
#: Fields that may differ between a run's saved config and the one it is resumed with:
#: they change neither the arithmetic nor the random streams of training.
RESUMABLE_CHANGES = ("threads", "device", "checkpoint_every", "keep_checkpoints_every", "log_every")



class JsonConfig:
    """Save, load and compare a dataclass config as sorted JSON (``config.json`` beside a run).

    ``what`` names the config in messages (e.g. 'training config')."""

    what = "config"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def save(self, path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".part")
        temporary.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")
        temporary.replace(path)
        return path

    @classmethod
    def from_dict(cls, values: dict):
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ModelError(f"unknown {cls.what} field(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**values)

    @classmethod
    def load(cls, path):
        path = Path(path)
        if not path.is_file():
            raise ModelError(f"{cls.what} {path} does not exist")
        return cls.from_dict(json.loads(path.read_text()))

    def differences(self, other) -> dict:
        """Fields whose values differ: name -> (self's, other's)."""
        mine, theirs = self.to_dict(), other.to_dict()
        return {k: (mine[k], theirs[k]) for k in mine if mine[k] != theirs[k]}


@dataclass
class TrainConfig(JsonConfig):
    """One training run. Every field is JSON-serialisable.

    Data and model
        ``seed``: model initialisation, data order, augmentations, neighbourhood choice.
        ``sources``: training sources (see :mod:`topobench.tdann.training_data`; never fLoc).
        ``image_size``: side (px) of the decoded, cached training images.
        ``input_size``: side (px) of the network input after augmentation.
        ``max_images``: use only the first N decoded images (None: all).
    Task
        ``task``: 'simclr' or 'supervised' (cross-entropy, linear head on the labels).
        ``temperature``: NT-Xent temperature. ``projection_dims``: SimCLR head sizes;
        ``head_batchnorm``: BN in the head's hidden layer (SimCLR's implementation).
        ``augment_scale``: area fraction of the random resized crop. ``blur_p``: Gaussian blur probability.
    Optimisation
        ``steps``, ``batch_size`` (global, over all ranks), ``lr`` (None: 0.3 x batch / 256),
        ``warmup_steps`` (linear warmup), cosine decay to ``min_lr_fraction`` x lr,
        ``momentum``, ``weight_decay``.
    Spatial loss (TDANN)
        ``alpha``: one weight for every layer of ``spatial_layers`` or a dict layer -> weight.
        ``spatial_loss_kind``: 'relative' (Margalit et al. 2024) or 'absolute' (Lee et al. 2020).
        ``spatial_layers``: layers with a sheet (None: the 8 ResNet-18 block outputs).
        ``positions``: folder of ``<layer>.npz`` positions (None: TDANN's default retinotopic
        positions with ``positions_seed``, None meaning ``seed``).
        ``neighborhood_width_scale``: window widths x this (None: 224 / input_size, which keeps
        TDANN's units per neighbourhood at the reduced resolution).
        ``n_neighborhoods``, ``max_units``, ``neighborhoods_per_batch``: see
        :func:`topobench.tdann.make_neighborhoods` and :class:`topobench.tdann.SpatialLoss`.
        ``log_spatial_every``: when every alpha is 0, still evaluate (without gradient) the
        spatial loss every N steps for comparison (0: never).
    Bookkeeping
        ``checkpoint_every`` (steps), ``keep_checkpoints_every`` (also keep a numbered copy
        every N steps; 0: only the latest), ``log_every`` (progress lines), ``init_from``
        (checkpoint, ``weights.pt`` or run folder to warm-start the trunk from), ``threads``
        (torch intra-op threads per process), ``device`` ('auto', 'cpu', 'cuda'),
        ``sync_batchnorm`` (SyncBatchNorm under DDP).
    """

    seed: int = 0
    sources: list = field(default_factory=lambda: ["imagenet_sample", "more_training_images", "cifar10"])
    image_size: int = 80
    input_size: int = 64
    max_images: int | None = None
    task: str = "simclr"
    temperature: float = 0.1
    projection_dims: list = field(default_factory=lambda: [512, 512, 128])
    head_batchnorm: bool = True
    augment_scale: list = field(default_factory=lambda: [0.2, 1.0])
    blur_p: float = 0.0
    steps: int = 600
    batch_size: int = 128
    lr: float | None = None
    warmup_steps: int = 0
    min_lr_fraction: float = 0.0
    momentum: float = 0.9
    weight_decay: float = 1e-6
    alpha: float | dict = 0.0
    spatial_loss_kind: str = "relative"
    spatial_layers: list | None = None
    positions: str | None = None
    positions_seed: int | None = None
    neighborhood_width_scale: float | None = None
    n_neighborhoods: int = 1000
    max_units: int = 500
    neighborhoods_per_batch: int = 1
    log_spatial_every: int = 10
    checkpoint_every: int = 50
    keep_checkpoints_every: int = 0
    log_every: int = 10
    init_from: str | None = None
    threads: int = 1
    device: str = "auto"
    sync_batchnorm: bool = False

    def __post_init__(self):
        if self.task not in TASKS:
            raise ModelError(f"task must be one of {TASKS}, got '{self.task}'")
        if self.spatial_loss_kind not in ("relative", "absolute"):
            raise ModelError(f"spatial_loss_kind must be 'relative' or 'absolute', got '{self.spatial_loss_kind}'")
        if "floc" in self.sources:
            raise ModelError("fLoc images are test stimuli of the benchmarks: never train on them")
        if self.steps < 1 or self.batch_size < 2:
            raise ModelError("steps must be >= 1 and batch_size >= 2")
        if self.checkpoint_every < 1:
            raise ModelError("checkpoint_every must be >= 1")

    # -- derived values ---------------------------------------------------------------
    @property
    def base_lr(self) -> float:
        """Peak learning rate: ``lr``, or SimCLR's 0.3 x batch / 256."""
        return float(self.lr) if self.lr is not None else 0.3 * self.batch_size / 256.0

    @property
    def width_scale(self) -> float:
        return float(self.neighborhood_width_scale) if self.neighborhood_width_scale is not None \
            else 224.0 / float(self.input_size)

    @property
    def layer_seed(self) -> int:
        return int(self.positions_seed) if self.positions_seed is not None else int(self.seed)

    def layers(self) -> list[str]:
        from topobench.nets.resnet import BLOCK_NAMES
        return list(self.spatial_layers) if self.spatial_layers is not None else list(BLOCK_NAMES)

    def alphas(self) -> dict[str, float]:
        """Layer -> alpha (0 for layers that a dict leaves out)."""
        layers = self.layers()
        if isinstance(self.alpha, dict):
            unknown = [name for name in self.alpha if name not in layers]
            if unknown:
                raise ModelError(f"alpha given for layer(s) {', '.join(unknown)} outside spatial_layers")
            return {name: float(self.alpha.get(name, 0.0)) for name in layers}
        return {name: float(self.alpha) for name in layers}

    def lr_factor(self, step: int) -> float:
        """Learning-rate multiplier for optimiser step ``step`` (0-based): linear warmup over
        ``warmup_steps``, then cosine decay from 1 to ``min_lr_fraction`` at ``steps``."""
        import math
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        span = max(1, self.steps - self.warmup_steps)
        progress = min(1.0, (step - self.warmup_steps) / span)
        return self.min_lr_fraction + (1 - self.min_lr_fraction) * 0.5 * (1 + math.cos(math.pi * progress))
