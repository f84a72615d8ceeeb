"""What a benchmark costs, known before any work: a :class:`Cost` declared on its class.

A benchmark declares, as the class attribute ``cost``, how its time and memory grow
with the model (issue 16, "Speed"): how many images it records (and which), the
region or layers whose units it records, how it keeps them, and what it fits
afterwards. :func:`estimated_seconds` and :func:`estimated_peak_bytes` turn that,
with the model's number of units and input size, into numbers;
:func:`estimate` reads those from a model without a forward pass over stimuli
(``layer_shape``: one blank image). ``topobench list benchmarks --costs`` prints
them; ``topobench leaderboard run`` schedules the longest pairs first and refuses a
pair that would not fit in the memory of the machine.

How features are kept (``Cost.features``):

- :data:`FULL`: the whole images x units float32 array in memory (``model.record``),
  ``copies`` times over at the peak (the concatenated batches, float64 copies of
  the metrics): memory grows with images x units;
- :data:`PROJECTED`: a PCA to at most 1,000 components fitted on the 1,000
  ``imagenet_sample`` images (``topobench.features``; a sparse sketch to 8,192
  dimensions first for a layer of more units), streamed batch by batch: memory is
  bounded by one batch of the layer and 1,000 x min(units, 8,192) floats;
- :data:`CHANNEL_MEAN`: each channel averaged over space, streamed batch by batch
  (images x channels kept).

**Calibration and how rough it is.** Measured once (issue 16) with
``/usr/bin/time -v topobench score MODEL BENCHMARK --threads 1`` and a fresh
``TOPOBENCH_HOME`` (no cached activations or projections; reference data and
stimuli already on disk), on a 2-core AMD EPYC virtual machine shared with two
training processes. Seconds are CPU seconds (user + system: about the wall time
on a free core; under load the wall time was 2 to 4 times longer); memory is the
peak resident set (``Maximum resident set size``).

- Each benchmark on ``tdann-mini`` (64 px ResNet-18: V1 8,192, V4 4,096, VTC
  2,048 units): 6.6 to 8.4 s for the V1 benchmarks, 14 to 15 s for the fLoc
  ones, 24 s Cowley ridge, 46 s Cowley PLS, 80 s CIFAR-10, 132 s Cowley
  sessions; 0.5 to 0.7 GB. A process that imports topobench and loads the model
  and stops: 5.5 to 6 s, 0.41 to 0.46 GB (:data:`STARTUP_SECONDS`,
  :data:`BASE_BYTES`). Each benchmark's ``fixed_seconds`` is what this run
  took beyond the formulas below (the reference, the ceiling, the bootstrap).
- The forward pass and the fit constants from the 224 px runs:
  ``resnet18-untrained`` on Ringach2002 and Nauhaus2012 (V1 100,352 units:
  31 to 33 s, 1.2 to 1.3 GB) and ``efficientnet-lite0-imagenet`` on
  Ringach2002, Nordt2023, Cowley ridge and GrillSpector2014 (38, 115, 110 and
  109 s; 1.3 to 1.4 GB);
  the bytes of a forward batch from ``resource.getrusage`` around one pass of
  64 images (ResNet-18 +400 MB, EfficientNet-Lite0 +1,000 MB at 224 px).

The estimates came within 0.9 to 1.25 times the measured seconds and 0.9 to 1.5
times the measured peak memory (rather over than under; Cowley ridge and
GrillSpector2014 on EfficientNet-Lite0, not used to fit: 1.15 and 1.0 times the
seconds, 1.15 and 1.2 times the memory). Expect the right order
of magnitude, within a factor of about 2 on other machines and models: enough to
schedule the long pairs first and to refuse a pair that cannot fit, not to
promise a finishing time. They are for one torch thread on the CPU, activations
not cached yet (a second benchmark on the same images reads the activation cache
and skips the forward pass), and a network that costs like the measured
families (:data:`FORWARD_SECONDS_PER_PX2`; an unknown architecture is taken as
the slowest measured one). This module imports neither benchmarks nor models.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

#: How a benchmark keeps the recorded features (see the module docstring).
FULL = "full"
PROJECTED = "projected"
CHANNEL_MEAN = "channel_mean"
FEATURE_KINDS = (FULL, PROJECTED, CHANNEL_MEAN)

#: Fit kinds -> the number of operations, in words (``n``: images of one fit, ``d``: feature dimensions).
FIT_FORMULAS = {
    "ridge": "repeats x n x min(n, d)^2",
    "linear": "repeats x n x d",
}

# -- the projection of topobench.features (ProjectionSpec's defaults) ---------------------------------
PROJECTION_FIT_IMAGES = 1000
PROJECTION_COMPONENTS = 1000
SKETCH_DIM = 8192

# -- calibration (see the module docstring) -------------------------------------------------------------
#: CPU seconds of a topobench process before any benchmark work: imports, the results store, the model.
STARTUP_SECONDS = 5.0
#: Seconds per image to read and place one stimulus on the model's field (PIL), besides the forward pass.
IMAGE_SECONDS = 1.0e-3
#: Seconds of one forward pass per image per px^2 of input, one torch thread, by the class name of the
#: model's ``module``; :data:`DEFAULT_ARCHITECTURE` for any other.
FORWARD_SECONDS_PER_PX2 = {"ResNet": 0.75e-6, "EfficientNetLite": 1.3e-6}
#: Bytes that one forward pass of one image holds per px^2 of input (activations of the layers in flight).
FORWARD_BYTES_PER_PX2 = {"ResNet": 110.0, "EfficientNetLite": 260.0}
DEFAULT_ARCHITECTURE = "EfficientNetLite"  # the slowest measured: an unknown network is not underestimated
#: Seconds per operation of a fit kind (:data:`FIT_FORMULAS`).
SECONDS_PER_OPERATION = {"ridge": 0.5e-9, "linear": 2.0e-9}
#: Seconds per multiply-add of the projection's PCA (a BLAS product: the fit images' Gram matrix).
PCA_SECONDS_PER_OPERATION = 0.1e-9
#: Bytes of a process that imports topobench and torch and holds a small model.
BASE_BYTES = 450e6
FLOAT32, FLOAT64 = 4, 8


@dataclass(frozen=True)
class Fit:
    """The work on the recorded features after the forward pass.

    ``kind``: a key of :data:`FIT_FORMULAS`; ``repeats``: how many times that
    formula's work is done (folds, resamples, iterations x classes); ``samples``:
    images of one fit (None: all the images the benchmark records); ``dims``: the
    feature dimensions it works on (None: those the benchmark keeps: the units, at
    most 1,000 components when projected, the channels when channel-averaged).
    """

    words: str
    kind: str = "linear"
    repeats: float = 1.0
    samples: int | None = None
    dims: int | None = None

    def __post_init__(self):
        if self.kind not in FIT_FORMULAS:
            raise ValueError(f"fit kind {self.kind!r} is none of {', '.join(FIT_FORMULAS)}")


@dataclass(frozen=True)
class Cost:
    """How a benchmark's time and memory grow with the model (a class attribute ``cost``).

    ``images``: images recorded by the forward pass (all stimulus sets together;
    the projection's 1,000 fit images are added by :func:`forward_images`);
    ``stimuli``: which, in words; ``region``: the region whose committed layer is
    recorded, or ``layers``: the layers recorded instead, each in its own forward
    pass; ``features``: one of :data:`FEATURE_KINDS`; ``copies``: for
    :data:`FULL`, how many images x units float32 arrays are held at the peak
    (for :data:`CHANNEL_MEAN`: images x channels float64 arrays);
    ``fit``: what is computed afterwards; ``fixed_seconds``: the model-independent
    work (reference, ceiling) in CPU seconds, measured.
    """

    images: int
    stimuli: str
    region: str | None = None
    features: str = FULL
    fit: Fit | None = None
    layers: tuple = ()
    copies: float = 2.0
    fixed_seconds: float = 0.0

    def __post_init__(self):
        if self.features not in FEATURE_KINDS:
            raise ValueError(f"features {self.features!r} is none of {', '.join(FEATURE_KINDS)}")
        if (self.region is None) == (not self.layers):
            raise ValueError("a cost names either a region or layers")

    @property
    def passes(self) -> int:
        """Forward passes over the images: one per recorded layer."""
        return max(1, len(self.layers))

    def fit_formula(self) -> str:
        """The fit's operations as a formula of this benchmark's images and the model's units."""
        if self.fit is None:
            return "0"
        n = f"{self.fit.samples:,}" if self.fit.samples is not None else f"{self.images:,}"
        d = (f"{self.fit.dims:,}" if self.fit.dims is not None else
             {FULL: "units", PROJECTED: f"min(units, {PROJECTION_COMPONENTS:,})",
              CHANNEL_MEAN: "channels"}[self.features])
        if self.fit.kind == "ridge":
            return f"{self.fit.repeats:g} x {n} x min({n}, {d})^2"
        return f"{self.fit.repeats:g} x {n} x {d}"

    def describe(self) -> str:
        """The growth in words, e.g. for ``topobench list benchmarks --costs``."""
        where = f"{self.region} layer" if self.region else " and ".join(self.layers)
        passes = f", {self.passes} forward passes (one per layer)" if self.passes > 1 else ""
        text = f"{self.images:,} images ({self.stimuli}) at {where}{passes}; "
        if self.features == FULL:
            text += f"full activations in memory: images x units float32, x{self.copies:g} at the peak"
        elif self.features == PROJECTED:
            text += (f"projected: PCA to <= {PROJECTION_COMPONENTS:,} components fitted on "
                     f"{PROJECTION_FIT_IMAGES:,} more images (sketch to {SKETCH_DIM:,} dims above that), "
                     f"streamed: memory bounded")
        else:
            text += "channel means, streamed: images x channels in memory"
        if self.fit is not None:
            text += f"; fit: {self.fit.words} ({self.fit_formula()} operations)"
        return text + f"; fixed {self.fixed_seconds:g} s"


# ----------------------------------------------------------------------------- the parts
def forward_images(cost: Cost) -> int:
    """Images the forward pass sees: the benchmark's, once per layer, and the projection's fit images."""
    return cost.images * cost.passes + (PROJECTION_FIT_IMAGES if cost.features == PROJECTED else 0)


def feature_dims(cost: Cost, units: int, channels: int | None = None) -> int:
    """Dimensions of the features the fit works on."""
    if cost.fit is not None and cost.fit.dims is not None:
        return int(cost.fit.dims)
    if cost.features == PROJECTED:
        return min(int(units), PROJECTION_COMPONENTS)
    if cost.features == CHANNEL_MEAN:
        return int(channels if channels is not None else units)
    return int(units)


def fit_operations(cost: Cost, units: int, channels: int | None = None) -> float:
    """Operations of the fit (:data:`FIT_FORMULAS`); 0 without a fit."""
    if cost.fit is None:
        return 0.0
    n = float(cost.fit.samples if cost.fit.samples is not None else cost.images)
    d = float(feature_dims(cost, units, channels))
    if cost.fit.kind == "ridge":
        return cost.fit.repeats * n * min(n, d) ** 2
    return cost.fit.repeats * n * d


def _architecture(architecture: str | None) -> str:
    return architecture if architecture in FORWARD_SECONDS_PER_PX2 else DEFAULT_ARCHITECTURE


# ----------------------------------------------------------------------------- the estimates
def estimated_seconds(cost: Cost, units: int, image_size: int, channels: int | None = None,
                      architecture: str | None = None) -> float:
    """CPU seconds (one torch thread, nothing cached) to score a model whose recorded layer(s) have
    ``units`` units in all (``channels`` channels; default: ``units``) at an input of
    ``image_size`` px: startup + fixed work + forward images x (reading + image_size^2 x the
    architecture's constant) + the fit's operations x their constant (+ the projection's PCA).
    ``architecture``: the class name of the model's network (a key of :data:`FORWARD_SECONDS_PER_PX2`)."""
    arch = _architecture(architecture)
    seconds = STARTUP_SECONDS + cost.fixed_seconds
    seconds += forward_images(cost) * (IMAGE_SECONDS + FORWARD_SECONDS_PER_PX2[arch] * float(image_size) ** 2)
    if cost.fit is not None:
        seconds += fit_operations(cost, units, channels) * SECONDS_PER_OPERATION[cost.fit.kind]
    if cost.features == PROJECTED:  # the PCA: Gram matrix of the fit images over min(units, sketch) dims
        seconds += PROJECTION_FIT_IMAGES ** 2 * min(int(units), SKETCH_DIM) * PCA_SECONDS_PER_OPERATION
    return float(seconds)


def estimated_peak_bytes(cost: Cost, units: int, image_size: int, channels: int | None = None,
                         architecture: str | None = None, batch_size: int = 64, model_bytes: float = 0.0
                         ) -> float:
    """Peak resident bytes of the process that scores the pair: the process and model
    (:data:`BASE_BYTES` + ``model_bytes``), one forward batch (``batch_size`` x image_size^2 px x
    the architecture's bytes per px^2), the features as the benchmark keeps them, and the fit."""
    arch = _architecture(architecture)
    units = int(units)
    batch = float(batch_size) * float(image_size) ** 2 * FORWARD_BYTES_PER_PX2[arch]
    batch_units = 2.0 * batch_size * units * FLOAT32  # one batch of the layer, as captured and flattened
    if cost.features == FULL:
        features = cost.copies * cost.images * units * FLOAT32 + batch_units
    elif cost.features == PROJECTED:
        dims = min(units, SKETCH_DIM)
        sketch = 12.0 * SKETCH_DIM * math.sqrt(units) if units > SKETCH_DIM else 0.0  # sparse: value + index
        features = (batch_units + sketch + PROJECTION_FIT_IMAGES * dims * (FLOAT32 + 2 * FLOAT64)
                    + PROJECTION_COMPONENTS * dims * (FLOAT32 + FLOAT64)
                    + 2 * cost.images * PROJECTION_COMPONENTS * FLOAT64)
    else:
        features = batch_units + cost.copies * cost.images * (channels if channels is not None else units) * FLOAT64
    fit = 0.0  # a linear fit works on the features in place (its float64 copies are in ``copies``)
    if cost.fit is not None and cost.fit.kind == "ridge":  # decompositions of n x min(n, d) float64
        n = float(cost.fit.samples if cost.fit.samples is not None else cost.images)
        fit = 4 * n * min(n, float(feature_dims(cost, units, channels))) * FLOAT64
    return float(BASE_BYTES + model_bytes + batch + features + fit)


# ----------------------------------------------------------------------------- from a model
@dataclass(frozen=True)
class Estimate:
    """What scoring one model on one benchmark is expected to cost (one thread, nothing cached)."""

    seconds: float
    peak_bytes: float
    units: int
    image_size: int

    def text(self) -> str:
        return f"about {format_seconds(self.seconds)}, {format_bytes(self.peak_bytes)} peak"


def layer_units(model, cost: Cost) -> tuple[int, int] | None:
    """(units, channels) of the layer(s) ``cost`` records in ``model``, read without a forward pass
    over stimuli (``layer_shape``, else ``layer_positions(region).dims``); None when the model does not
    have them (the pair then fails at once, or is no PyTorch model)."""
    names = list(cost.layers)
    if not names:
        layer = (getattr(model, "regions", None) or {}).get(cost.region)
        if layer is None:
            return None
        names = [layer]
    units = channels = 0
    for layer in names:
        try:
            if hasattr(model, "layer_shape"):
                dims = tuple(model.layer_shape(layer))
            elif cost.region is not None and hasattr(model, "layer_positions"):
                dims = tuple(model.layer_positions(cost.region).dims)
            else:
                return None
        except Exception:  # noqa: BLE001 - no such layer, a size it cannot take: the pair says so itself
            return None
        units += int(math.prod(dims))
        channels += int(dims[0]) if dims else 0
    return units, channels


def estimate(cost: Cost | None, model) -> Estimate | None:
    """The :class:`Estimate` of scoring ``model`` on a benchmark of ``cost``; None when either is
    unknown (no declared cost, or the model's layer cannot be read)."""
    if cost is None:
        return None
    found = layer_units(model, cost)
    if found is None:
        return None
    units, channels = found
    image_size = int(getattr(model, "image_size", 224) or 224)
    module = getattr(model, "module", None)
    architecture = type(module).__name__ if module is not None else None
    model_bytes = 0.0
    if module is not None and hasattr(module, "parameters"):
        model_bytes = float(sum(p.numel() * p.element_size() for p in module.parameters()))
    batch_size = int(getattr(model, "batch_size", 64) or 64)
    return Estimate(estimated_seconds(cost, units, image_size, channels, architecture),
                    estimated_peak_bytes(cost, units, image_size, channels, architecture, batch_size, model_bytes),
                    units, image_size)


# ----------------------------------------------------------------------------- memory of this machine
def available_bytes() -> float | None:
    """Memory this machine can give a new process now, in bytes: ``MemAvailable`` of /proc/meminfo,
    else psutil's ``available``; None when neither can be read."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024  # kB
    except OSError:
        pass
    try:
        import psutil  # a dependency of dask.distributed
        return float(psutil.virtual_memory().available)
    except Exception:  # noqa: BLE001 - unknown: nothing is refused
        return None


def format_bytes(value: float) -> str:
    """``value`` bytes as GB with one decimal (MB below 1 GB), e.g. '41.2 GB'."""
    return f"{value / 1e9:.1f} GB" if value >= 1e9 else f"{value / 1e6:.0f} MB"


def format_seconds(value: float) -> str:
    """``value`` seconds as '40 s', '12 min' or '3.4 h'."""
    if value < 120:
        return f"{value:.0f} s"
    if value < 7200:
        return f"{value / 60:.0f} min"
    return f"{value / 3600:.1f} h"
