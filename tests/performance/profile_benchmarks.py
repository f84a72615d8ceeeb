"""Where the time of every benchmark goes, for one model: a script, not a test (issue 16).

    python tests/performance/profile_benchmarks.py MODEL [--benchmarks B ...] [--out FILE.json]

For each registered benchmark it times, in this process, with the activation cache off and one
torch thread, the steps of the benchmark skeleton (``topobench.benchmark_base.TopoBenchmark``):

- ``stimuli``: building the stimulus set (rendering or extracting images, hashing them);
- ``ceiling``: the ceiling (reference data only; never the model);
- ``record``: the model's recording, i.e. the forward pass, plus the projection for the
  benchmarks that project features (Cowley: fit of the PCA on ``imagenet_sample`` and the
  projection of the session's images);
- ``measure`` and ``compare``: the measurement on the recording (tuning, maps, fits) and the
  comparison with the reference (including the regression of the Cowley benchmarks).

A benchmark that keeps its own ``__call__`` (``Cowley2023.V4-ridge_sessions``) is timed whole. The
bare forward pass of the same images (``forward``: the model's layer only, no cache) is timed
alongside, and ``ratio`` = total / forward is the scoring overhead that issue 16 bounds at 1.5x.
Absolute times depend on the machine and its load; compare ratios. The results land as JSON.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import contextmanager

import torch

from topobench.benchmark_base import TopoBenchmark
from topobench.errors import TopobenchError
from topobench.registry import load_benchmark, load_model, names


@contextmanager
def timed(into: dict, name: str):
    start = time.perf_counter()
    try:
        yield
    finally:
        into[name] = round(time.perf_counter() - start, 3)


def bare_forward(model, stimuli, region: str) -> float:
    """Seconds of the forward pass of ``stimuli`` through ``model``'s ``region`` layer, uncached."""
    if isinstance(stimuli, (tuple, list)):  # e.g. the CIFAR-10 probe's (train, test) images
        return sum(bare_forward(model, part, region) for part in stimuli)
    start = time.perf_counter()
    for _ in model.iter_activations(stimuli, model.layer(region), progress=False):
        pass
    return time.perf_counter() - start


def profile(model, benchmark) -> dict:
    """Seconds per step of ``benchmark`` on ``model`` (see the module docstring)."""
    steps: dict = {}
    sequential = type(benchmark).__call__ is TopoBenchmark.__call__
    if not sequential:
        with timed(steps, "whole"):
            benchmark(model)
        return {"steps": steps, "total": steps["whole"]}
    with timed(steps, "stimuli"):
        stimuli = benchmark.stimuli
    try:
        with timed(steps, "ceiling"):
            getattr(benchmark, "ceiling", None)
    except NotImplementedError:
        steps.pop("ceiling", None)
    layer = benchmark.check_region(model)
    with timed(steps, "record"):
        recording = benchmark.record(model, stimuli)
    with timed(steps, "measure"):
        measurement = benchmark.measure(recording, model, layer)
    with timed(steps, "compare"):
        benchmark.score(benchmark.compare(measurement))
    forward = bare_forward(model, stimuli, benchmark.region)
    total = sum(steps.values()) - steps.get("stimuli", 0.0) - steps.get("ceiling", 0.0)
    return {"steps": steps, "forward": round(forward, 3), "total": round(total, 3),
            "ratio": round(total / forward, 3) if forward > 0 else None}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model")
    parser.add_argument("--benchmarks", nargs="*", default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    model = load_model(args.model)
    model.cache = False  # every recording is a forward pass
    results = {}
    for identifier in args.benchmarks or names("benchmark"):
        benchmark = load_benchmark(identifier)
        if benchmark.region not in model.regions:
            continue
        try:
            results[identifier] = profile(model, benchmark)
        except TopobenchError as error:  # e.g. a map without columns is refused: its cost up to there is not kept
            results[identifier] = {"refused": str(error).split(":")[0] + ": " + type(error).__name__}
        print(identifier, json.dumps(results[identifier]), flush=True)
    if args.out:
        with open(args.out, "w") as handle:
            json.dump({"model": args.model, "image_size": model.image_size, "benchmarks": results}, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
