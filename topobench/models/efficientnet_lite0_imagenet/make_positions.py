"""Make the shipped positions of ``efficientnet-lite0-imagenet-swapopt``.

For each region layer: TDANN's default retinotopic placement (seed 0, the
positions ``efficientnet-lite0-imagenet`` uses), swap-optimised
(``topobench.tdann.swap.swap_optimize``, relative spatial loss, 20 random-offset
tilings, at most 500 units per window, seed 0) on the layer's responses to the
1,000 ``imagenet_sample`` photographs (centre-cropped squares placed on the
8-degree field, ``topobench.features.imagenet_sample_stimuli``): natural images
that no benchmark scores. Window widths are TDANN's for the analogous ResNet-18
layer, in mm on the same sheets (V1 1.626 mm as layer2.0, V4 2.545 mm as
layer3.1, VTC 31.818 mm as layer4.1). Written to ``positions/<layer>.npz``
beside this file (their provenance records all of this and the spatial loss
before and after); run once, the files are shipped::

    python -m topobench.models.efficientnet_lite0_imagenet.make_positions [--threads N]
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

#: TDANN's neighbourhood width (mm) of the ResNet-18 layer each region is analogous to.
WIDTH_MM = {"V1": 1.626, "V4": 2.545, "VTC": 31.818}
SWAP_STIMULI = ("imagenet_sample: the 1,000 photographs (one per ImageNet class), centre-cropped to "
                "144 px squares, placed on the model's 8-degree field (topobench.features.imagenet_sample_stimuli)")
N_ITERATIONS = 20
MAX_UNITS = 500
SEED = 0


def make_positions(progress: bool = True) -> dict:
    from topobench.features import imagenet_sample_stimuli
    from topobench.models.efficientnet_lite0_imagenet.choose_layers import _multi_layer_activations
    from topobench.models.efficientnet_lite0_imagenet.model import POSITIONS_FOLDER, REGION_LAYERS, build
    from topobench.tdann.swap import swap_optimize

    model = build()
    stimuli = imagenet_sample_stimuli()
    layers = list(REGION_LAYERS.values())
    # one forward pass per batch for all three layers
    responses = _multi_layer_activations(model, stimuli, layers, {layer: (lambda batch: batch) for layer in layers},
                                         progress)
    summary = {}
    for region, layer in REGION_LAYERS.items():
        start = model.layer_positions(region)  # default retinotopic placement, seed 0
        started = time.perf_counter()
        swapped = swap_optimize(responses[layer], start, SWAP_STIMULI, width_mm=WIDTH_MM[region],
                                n_iterations=N_ITERATIONS, max_units=MAX_UNITS, seed=SEED)
        swapped.provenance.update({"model": "efficientnet-lite0-imagenet", "region": region,
                                   "stimuli_hash": stimuli.content_hash, "torch_threads": torch.get_num_threads()})
        path = swapped.save(POSITIONS_FOLDER / f"{layer}.npz")
        summary[region] = {"layer": layer, "loss_before": swapped.provenance.get("loss_before"),
                           "loss_after": swapped.provenance.get("loss_after"),
                           "n_swaps": swapped.provenance.get("n_swaps"),
                           "seconds": round(time.perf_counter() - started, 1), "file": path.name}
        print(region, json.dumps(summary[region]), flush=True)
        assert np.allclose(np.sort(swapped.coordinates, axis=0), np.sort(start.coordinates, axis=0))
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    make_positions()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
