"""Does the spatial loss win on its own merit? Two TDANN runs compared with intervals.

The central claim of Margalit et al. 2024 (Neuron) for the V1-like layer: a
network trained with the spatial loss has a smoother orientation map, and a
lower spatial loss on images it never saw, than the same network trained on the
task alone with the same positions. Measured here for models that share their
positions (the bundled ``tdann-mini`` and ``tdann-mini-task-only``):

- **Orientation smoothness** of the V1 layer (``layer2.0``): |difference in
  preferred orientation| (black/white gratings at each unit's preferred
  frequency, :mod:`topobench.metrics.v1_maps`) of pairs of responsive units of
  *different channels*, per bin of cortical distance in mm (0-0.5, 0.5-1, 1-2),
  divided by the same for shuffled positions (1: no map;
  :func:`topobench.metrics.smoothness.difference_curve`). Interval: 2.5 and 97.5
  percentiles over half-samples of the units (random halves without
  replacement; half-sampling reproduces the bootstrap variance of the
  full-sample statistic, Efron 1982, "The jackknife, the bootstrap and other
  resampling plans", ch. 8).
- **Held-out spatial loss** of every block: relative SL of the responses to
  CIFAR-10 *test* images (never trained on; the positions were swap-optimised
  on ``imagenet_sample``, not these) in the same seeded neighbourhoods for both
  models (TDANN's window widths scaled to the input), so that neighbourhoods
  pair the two models; interval: 95 % bootstrap over neighbourhoods, and for
  the difference a paired bootstrap.
- **Cost of topography**: the CIFAR-10 linear probe
  (``CIFAR10.engineering-linear_probe``) accuracy with its binomial error.

Run: ``topobench compare-tdann tdann-mini tdann-mini-task-only --out FILE.json``.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from topobench.metrics.smoothness import difference_curve

BIN_EDGES_MM = (0.0, 0.5, 1.0, 2.0)
V1_LAYER = "layer2.0"


def _percentiles(samples) -> list[float]:
    samples = np.asarray(samples, dtype=np.float64)
    samples = samples[np.all(np.isfinite(samples), axis=-1)] if samples.ndim > 1 else samples[np.isfinite(samples)]
    return np.percentile(samples, [2.5, 97.5], axis=0).round(4).tolist()


def _other_channel_ratio(positions, orientation, channels, seed: int) -> np.ndarray:
    curve = difference_curve(positions, orientation, BIN_EDGES_MM, period=180.0, channels=channels, seed=seed)
    return curve.mean_difference_other_channel / curve.shuffled_difference_other_channel


def orientation_smoothness(model, n_resamples: int = 100, seed: int = 0) -> dict:
    """Shuffle-normalised orientation difference of the V1 layer per mm bin, with half-sample intervals."""
    from topobench.metrics.v1_maps import measure_v1_maps
    maps = measure_v1_maps(model, "compare-tdann")
    ratio = _other_channel_ratio(maps.positions_mm, maps.orientation_deg, maps.channel, seed)
    rng = np.random.default_rng(seed)
    n = maps.n_responsive
    halves = []
    for _ in range(n_resamples):
        pick = rng.choice(n, n // 2, replace=False)
        halves.append(_other_channel_ratio(maps.positions_mm[pick], maps.orientation_deg[pick],
                                           maps.channel[pick], seed))
    interval = _percentiles(halves)
    return {"bins_mm": [list(pair) for pair in zip(BIN_EDGES_MM[:-1], BIN_EDGES_MM[1:])],
            "ratio": np.round(ratio, 4).tolist(), "interval_95": interval,
            "n_responsive": n, "n_units": maps.n_units,
            "median_circular_variance": round(float(np.median(maps.circular_variance)), 4),
            "_halves": np.asarray(halves)}


def held_out_spatial_loss(models: dict, n_images: int = 1000, n_neighborhoods: int = 200,
                          n_boot: int = 2000, seed: int = 0, layers=None) -> dict:
    """Relative SL of every block on CIFAR-10 test images, per model, in shared neighbourhoods."""
    from topobench.benchmarks.cifar10_probe.benchmark import cifar10_stimuli
    from topobench.nets import BLOCK_NAMES
    from topobench.tdann.neighborhoods import make_neighborhoods, tdann_width_scale
    from topobench.tdann.swap import spatial_losses

    stimuli = cifar10_stimuli("test", n_images, seed=seed + 1)
    first = next(iter(models.values()))
    rng = np.random.default_rng(seed)
    result = {"stimuli": stimuli.identifier, "n_neighborhoods": n_neighborhoods, "layers": {}}
    for layer in layers or BLOCK_NAMES:
        positions = first._positions[layer]
        for name, model in models.items():
            if not np.array_equal(model._positions[layer].coordinates, positions.coordinates):
                raise ValueError(f"{name} does not share the positions of layer {layer}: the comparison "
                                 f"needs models with the same positions")
        scale = tdann_width_scale(first.image_size)
        windows = make_neighborhoods(positions, None, n_neighborhoods, 500, seed, width_scale=scale)
        losses = {name: spatial_losses(model.activations(stimuli, layer), positions, windows)
                  for name, model in models.items()}
        draws = rng.integers(0, n_neighborhoods, size=(n_boot, n_neighborhoods))
        entry = {name: {"mean": round(float(values.mean()), 4),
                        "interval_95": _percentiles(values[draws].mean(axis=1))}
                 for name, values in losses.items()}
        names = list(models)
        if len(names) == 2:
            difference = losses[names[0]] - losses[names[1]]
            entry[f"{names[0]} - {names[1]}"] = {"mean": round(float(difference.mean()), 4),
                                                 "interval_95": _percentiles(difference[draws].mean(axis=1))}
        result["layers"][layer] = entry
    return result


def compare(names, out=None, n_resamples: int = 100, seed: int = 0) -> dict:
    """Smoothness, held-out spatial loss and linear probe of registered models ``names``."""
    from topobench.benchmarks.cifar10_probe.benchmark import CIFAR10LinearProbe
    from topobench.registry import load_model

    models = {name: load_model(name) for name in names}
    record = {"method": __doc__.split("\n\n")[1].strip(), "seed": seed, "smoothness": {}, "linear_probe": {}}
    halves = {}
    for name, model in models.items():
        smooth = orientation_smoothness(model, n_resamples, seed)
        halves[name] = smooth.pop("_halves")
        record["smoothness"][name] = smooth
    if len(models) == 2:
        a, b = names
        # unpaired: each model has its own responsive units; independent half-samples
        record["smoothness"][f"{a} - {b}"] = {
            "ratio": np.round(np.asarray(record["smoothness"][a]["ratio"])
                              - np.asarray(record["smoothness"][b]["ratio"]), 4).tolist(),
            "interval_95": _percentiles(halves[a] - halves[b])}
    record["held_out_spatial_loss"] = held_out_spatial_loss(models, seed=seed)
    for name, model in models.items():
        score = CIFAR10LinearProbe()(model)
        record["linear_probe"][name] = {"accuracy": round(float(score.attrs["raw"]), 4),
                                        "error": round(float(score.attrs["error"]), 4)}
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(record, indent=1) + "\n")
    return record
