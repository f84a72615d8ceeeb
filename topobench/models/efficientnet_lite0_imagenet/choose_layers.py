"""Choose the V4 layer of ``efficientnet-lite0-imagenet`` on data that no benchmark scores.

Candidates: the outputs of ``_blocks.3`` ... ``_blocks.15`` (output stride 8 to
32 at 224 px). Each candidate is reduced as the V4 benchmark reduces features
(``topobench.features``: very sparse sketch to 8,192 dimensions when larger, then
PCA fitted on the 1,000 ``imagenet_sample`` photographs, up to 999 components),
and the 67 neurons of Cowley et al. 2023 session 210224 (800 images, which the
authors mark "validation" and no benchmark scores) are predicted by
cross-validated ridge regression (``topobench.metrics.neural_predictivity``:
10 folds grouped by ``image_group``, penalty by inner 5-fold cross-validation,
seed 0). The layer with the highest mean held-out Pearson r is V4.

All candidates are read in one forward pass per image (hooks on every
candidate), so the cost is one pass over 1,800 images. Run::

    python -m topobench.models.efficientnet_lite0_imagenet.choose_layers [--threads N]

It writes ``layer_choice.json`` beside this file (per layer: mean and median r,
units, components, explained variance) and prints the table.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

CANDIDATES = tuple(f"_blocks.{i}" for i in range(3, 16))
SESSION = "210224"
OUT = Path(__file__).parent / "layer_choice.json"


def _multi_layer_activations(model, stimuli, layers, reducers, progress=True):
    """{layer: (n, d) reduced activations} from one forward pass per batch."""
    from tqdm import tqdm
    modules = dict(model.module.named_modules())
    captured = {}
    handles = [modules[layer].register_forward_hook(
        lambda _m, _i, out, layer=layer: captured.__setitem__(layer, out.detach().flatten(1).float().numpy()))
        for layer in layers]
    outputs = {layer: [] for layer in layers}
    try:
        with torch.no_grad():
            for start in tqdm(range(0, len(stimuli), model.batch_size), disable=not progress,
                              desc=f"{stimuli.identifier}"):
                chunk = stimuli.iloc[start:start + model.batch_size]
                chunk.stimulus_paths = stimuli.stimulus_paths
                model.module(model.load_images(chunk))
                for layer in layers:
                    outputs[layer].append(reducers[layer](captured.pop(layer)))
    finally:
        for handle in handles:
            handle.remove()
    return {layer: np.concatenate(parts) for layer, parts in outputs.items()}


def choose(seed: int = 0, progress: bool = True) -> dict:
    from topobench.reference_data.cowley2023 import cowley2023_assembly, cowley2023_stimuli
    from topobench.features import ProjectionSpec, imagenet_sample_stimuli, sparse_sketch
    from topobench.metrics.neural_predictivity import neural_predictivity
    from topobench.model_interface import PytorchModel
    from topobench.models.efficientnet_lite0_imagenet.model import IMAGE_SIZE, MEAN, STD, VISUAL_DEGREES, \
        load_network

    spec = ProjectionSpec()
    model = PytorchModel(load_network(), "efficientnet-lite0-imagenet(choose_layers)", {"V1": "_blocks.3"},
                         visual_degrees=VISUAL_DEGREES, image_size=IMAGE_SIZE, mean=MEAN, std=STD, cache=False)
    sketches = {}
    for layer in CANDIDATES:
        units = int(np.prod(model.layer_shape(layer)))
        sketches[layer] = sparse_sketch(units, spec.sketch_dim, spec.seed) if units > spec.sketch_dim else None
    reducers = {layer: (lambda batch, s=sketch: np.asarray(batch @ s, dtype=np.float32) if s is not None else batch)
                for layer, sketch in sketches.items()}
    fit = _multi_layer_activations(model, imagenet_sample_stimuli(spec.fit_degrees), CANDIDATES, reducers, progress)
    stimuli = cowley2023_stimuli(SESSION)
    responses = cowley2023_assembly(SESSION, stimuli)
    test = _multi_layer_activations(model, stimuli, CANDIDATES, reducers, progress)
    results = {}
    for layer in CANDIDATES:
        data = fit[layer].astype(np.float64)
        mean = data.mean(axis=0)
        _, s, vt = np.linalg.svd(data - mean, full_matrices=False)
        k = int(min(spec.n_components, data.shape[0] - 1, data.shape[1]))
        features = (test[layer].astype(np.float64) - mean) @ vt[:k].T
        started = time.perf_counter()
        result = neural_predictivity(features, responses.values, groups=stimuli["image_group"].to_numpy(),
                                     method="ridge", n_folds=10, seed=seed)
        variance = s ** 2
        results[layer] = {"mean_r": round(float(np.nanmean(result.r)), 4),
                          "median_r": round(float(np.nanmedian(result.r)), 4),
                          "units": int(np.prod(model.layer_shape(layer))),
                          "shape": list(model.layer_shape(layer)), "sketched": sketches[layer] is not None,
                          "n_components": k,
                          "explained_variance_fraction": round(float(variance[:k].sum() / variance.sum()), 4),
                          "seconds": round(time.perf_counter() - started, 1)}
        print(layer, results[layer], flush=True)
    best = max(results, key=lambda layer: results[layer]["mean_r"])
    record = {"chosen": {"V4": best}, "session": SESSION, "n_neurons": int(responses.shape[1]),
              "n_images": int(responses.shape[0]), "criterion": "mean held-out Pearson r (ridge, 10 grouped folds, "
              "seed 0) of PCA features fitted on imagenet_sample (topobench.features.ProjectionSpec())",
              "projection": spec.describe(), "torch_threads": torch.get_num_threads(), "layers": results}
    OUT.write_text(json.dumps(record, indent=1) + "\n")
    return record


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    record = choose(seed=args.seed)
    print(f"V4 = {record['chosen']['V4']}; written to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
