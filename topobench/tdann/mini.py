"""The recipe of the bundled ``tdann-mini`` models (trained here on 2 CPU cores).

TDANN's order (Margalit et al. 2024): a task-only network, then swap
optimisation of the positions on its responses, then the topographic network
trained with those positions. At this budget the comparison is made fair by
giving both bundled models the same start, positions, data, seed and steps:

1. **base**: SimCLR, alpha 0, ResNet-18 at 64 px over 8 degrees, batch 128,
   seed 0, default retinotopic positions; stopped at ``BASE_STEPS``.
2. **swap**: every block's positions swap-optimised on the base network's
   responses to the 1,000 ``imagenet_sample`` photographs (no benchmark scores
   them), TDANN's window widths x 224/64.
3. **fine-tune**, two runs from the base checkpoint (trunk and projection head)
   with the swapped positions, ``FINETUNE_STEPS`` each, identical but for alpha:
   ``tdann-mini`` (relative spatial loss, alpha 0.25 on all 8 blocks) and
   ``tdann-mini-task-only`` (alpha 0). Only the spatial loss differs. Both draw
   ``NEIGHBORHOODS_PER_BATCH`` windows per layer and batch (TDANN drew 1 at batch
   512): at batch 128 one window's correlations are noisy, and averaging a few
   windows steadies the spatial-loss gradient at negligible cost.

``tdann-mini-supervised`` (``--supervised``) has the same budget, data, seed and swapped
positions with the cross-entropy task on the training images' 14 category labels: a
``BASE_STEPS`` task-only supervised base, then ``FINETUNE_STEPS`` with alpha 0.25. It asks
whether supervised and self-supervised topographic networks make similar maps.

Run the whole recipe (each stage resumes, finished stages are skipped)::

    python -m topobench.tdann.mini --root runs/tdann-mini [--threads 2]

It trains the base with ``--threads`` torch threads, then the two fine-tuning
runs side by side with one thread each, and bundles both into
``topobench/models/tdann_mini/<identifier>/``.

The reduced resolution changes no sheet size in mm. The declared visual field is
8 degrees over 64 px: 4 cycles/degree at Nyquist, above the 3 cpd of the
benchmark gratings.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from topobench.nets import BLOCK_NAMES, resnet18
from topobench.positions import LayerPositions
from topobench.tdann.config import TrainConfig

INPUT_SIZE = 64
VISUAL_DEGREES = 8.0
BASE_STEPS = 400
FINETUNE_STEPS = 300
FINETUNE_LR = 0.05
NEIGHBORHOODS_PER_BATCH = 4
ALPHA = 0.25
SUPERVISED = "tdann-mini-supervised"
SWAP_STIMULI = "imagenet_sample: 1,000 photographs (one per ImageNet class), whole image at 64 px"
#: Swap iterations (random-offset tilings) per block: fewer where 500-unit windows make one
#: iteration slow (about 40 s for layer3/layer4 at 64 px on one core).
SWAP_ITERATIONS = {"layer1.0": 5, "layer1.1": 5, "layer2.0": 10, "layer2.1": 10,
                   "layer3.0": 3, "layer3.1": 3, "layer4.0": 3, "layer4.1": 3}


def base_config() -> TrainConfig:
    return TrainConfig(seed=0, steps=600, batch_size=128, input_size=INPUT_SIZE, alpha=0.0, warmup_steps=20,
                       log_every=1, checkpoint_every=50)


def finetune_config(alpha: float, init_from: str, positions: str, steps: int = FINETUNE_STEPS,
                    task: str = "simclr") -> TrainConfig:
    return TrainConfig(seed=1, steps=steps, batch_size=128, input_size=INPUT_SIZE, alpha=alpha, lr=FINETUNE_LR,
                       warmup_steps=10, log_every=1, checkpoint_every=25, init_from=init_from,
                       positions=positions, neighborhoods_per_batch=NEIGHBORHOODS_PER_BATCH, threads=1, task=task)


def supervised_base_config() -> TrainConfig:
    """The base run of ``tdann-mini-supervised``: :func:`base_config` with the cross-entropy task
    on the 14 category labels of the training images (:mod:`topobench.tdann.training_data`)."""
    config = base_config()
    config.task = "supervised"
    return config


def _collect_blocks(trunk: torch.nn.Module, batches) -> dict[str, np.ndarray]:
    """(n_images, units) output of every BasicBlock over an iterable of input batches."""
    modules = dict(trunk.named_modules())
    outputs = {name: [] for name in BLOCK_NAMES}
    handles = [modules[name].register_forward_hook(
        lambda _m, _i, out, name=name: outputs[name].append(out.detach().flatten(1).numpy()))
        for name in BLOCK_NAMES]
    trunk.eval()
    try:
        with torch.no_grad():
            for batch in batches:
                trunk.features(batch)
    finally:
        for handle in handles:
            handle.remove()
    return {name: np.concatenate(chunks) for name, chunks in outputs.items()}


def block_responses(trunk: torch.nn.Module, images, input_size: int = INPUT_SIZE,
                    batch_size: int = 100) -> dict[str, np.ndarray]:
    """Block responses to uint8 images (N, 3, S, S), each shown whole at ``input_size`` px."""
    from topobench.tdann.augment import center_view
    images = torch.as_tensor(images)
    return _collect_blocks(trunk, (center_view(images[start:start + batch_size], input_size)
                                   for start in range(0, len(images), batch_size)))


def grating_responses(trunk: torch.nn.Module, input_size: int = INPUT_SIZE) -> dict[str, np.ndarray]:
    """Block responses to the 640 benchmark gratings (8 degrees over ``input_size`` px)."""
    from topobench.model_interface import PytorchModel
    from topobench.stimuli import sine_gratings
    model = PytorchModel(trunk, "swap-evaluation", {}, visual_degrees=VISUAL_DEGREES, image_size=input_size,
                         cache=False)
    images = model.load_images(sine_gratings())
    return _collect_blocks(trunk, (images[start:start + 128] for start in range(0, len(images), 128)))


def swap_positions(weights, positions_dir, out_dir, seed: int = 0, n_iterations: dict | int | None = None,
                   layers=BLOCK_NAMES, log=print) -> dict:
    """Swap-optimise the positions of ``layers`` on the network's responses to imagenet_sample.

    Writes ``out_dir/<layer>.npz`` for every block (unchanged ones copied) and
    ``out_dir/swap_report.json``: per layer the loss before and after on the fitting
    images, and on held-out stimuli (the benchmark gratings, which the fit never saw) the
    loss with the starting positions, the swapped ones, and as many random swaps.
    """
    from topobench.tdann.neighborhoods import tdann_width_scale
    from topobench.tdann.swap import evaluate_spatial_loss, random_swaps, swap_optimize
    from topobench.tdann.train import load_trunk_weights
    from topobench.tdann.training_data import load_training_data

    trunk = resnet18(num_classes=None)
    trunk.load_state_dict(load_trunk_weights(weights))
    images = load_training_data(["imagenet_sample"], 80, progress=False).images
    responses = block_responses(trunk, images)
    held_out = grating_responses(trunk)
    iterations = n_iterations if isinstance(n_iterations, dict) else \
        {name: n_iterations or SWAP_ITERATIONS[name] for name in BLOCK_NAMES}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = {}
    for name in BLOCK_NAMES:
        positions = LayerPositions.load(Path(positions_dir) / f"{name}.npz")
        if name in layers:
            scale = tdann_width_scale(INPUT_SIZE)
            swapped = swap_optimize(responses[name], positions, SWAP_STIMULI, width_scale=scale,
                                    n_iterations=iterations[name], seed=seed)
            control = random_swaps(positions, int(swapped.provenance["n_swaps"]), width_scale=scale, seed=seed)
            report[name] = {k: swapped.provenance.get(k) for k in swapped.provenance
                            if "loss" in k or k in ("n_iterations", "seconds", "n_swaps")}
            report[name]["held_out_gratings"] = {
                label: evaluate_spatial_loss(held_out[name], layer_positions, width_scale=scale, seed=seed + 1)
                for label, layer_positions in (("start", positions), ("swapped", swapped),
                                               ("random_swaps", control))}
            log(f"{name}: {report[name]}")
            positions = swapped
        positions.save(out_dir / f"{name}.npz")
    (out_dir / "swap_report.json").write_text(json.dumps(report, indent=1))
    return report



def write_finetune_configs(root, init_from, positions, steps: int = FINETUNE_STEPS) -> dict:
    """Config files of the two fine-tuning runs (``tdann-mini``, ``tdann-mini-task-only``)."""
    root = Path(root)
    runs = {}
    for name, alpha in (("tdann-mini", ALPHA), ("tdann-mini-task-only", 0.0)):
        run_dir = root / name
        run_dir.mkdir(parents=True, exist_ok=True)
        finetune_config(alpha, str(init_from), str(positions), steps).save(run_dir / "config.json")
        runs[name] = run_dir
    return runs


def bundle(run_dir, out_dir, identifier: str, checkpoint=None, extra_files=()) -> Path:
    """Write a trained run as a model folder (``topobench.tdann.pretrained``) for committing:
    half-precision trunk weights, the positions of every block, ``model.json`` with the
    recipe, and the exact ``config.json`` and ``losses.csv`` of the run."""
    import shutil
    from topobench.tdann.pretrained import TDANN_REGIONS, save_model_folder
    from topobench.tdann.train import CHECKPOINT_FILE, LOSSES_FILE, load_checkpoint, read_losses

    run_dir, out_dir = Path(run_dir), Path(out_dir)
    state = load_checkpoint(Path(checkpoint) if checkpoint else run_dir / CHECKPOINT_FILE)
    config = TrainConfig.from_dict(state["config"])
    positions = {name: LayerPositions.load(run_dir / "positions" / f"{name}.npz") for name in BLOCK_NAMES}
    provenance = {"recipe": "topobench.tdann.mini", "step": int(state["step"]), "task": config.task,
                  "alpha": config.alphas(), "spatial_loss_kind": config.spatial_loss_kind,
                  "init_from": config.init_from, "training_sources": config.sources,
                  "input_size": config.input_size, "visual_degrees": VISUAL_DEGREES}
    save_model_folder(out_dir, identifier, state["trunk"], positions, config.input_size, VISUAL_DEGREES,
                      TDANN_REGIONS, provenance)
    shutil.copyfile(run_dir / "config.json", out_dir / "config.json")
    rows = [row for row in read_losses(run_dir / LOSSES_FILE) if int(row["step"]) <= int(state["step"])]
    with open(run_dir / LOSSES_FILE) as handle:
        header = handle.readline()
    with open(out_dir / LOSSES_FILE, "w") as handle:
        handle.write(header)
        columns = header.strip().split(",")
        for row in rows:
            handle.write(",".join(str(row[c]) for c in columns) + "\n")
    for extra in extra_files:
        shutil.copyfile(extra, out_dir / Path(extra).name)
    return out_dir


def run_finished(run_dir) -> bool:
    """Whether the run folder's checkpoint has reached the steps of its config."""
    from topobench.tdann.train import CHECKPOINT_FILE, load_checkpoint
    run_dir = Path(run_dir)
    if not (run_dir / CHECKPOINT_FILE).is_file():
        return False
    return int(load_checkpoint(run_dir / CHECKPOINT_FILE)["step"]) >= TrainConfig.load(run_dir / "config.json").steps


def train_in_parallel(run_dirs, jobs: int = 1) -> list:
    """Train (or resume) the runs of ``run_dirs`` (each with its ``config.json``), ``jobs`` at a
    time, each in its own process with one torch thread; finished runs are skipped. Returns the
    runs that were trained now."""
    import os
    import subprocess
    import sys
    import time
    pending = [Path(run) for run in run_dirs if not run_finished(run)]
    queue, running = list(pending), []
    while queue or running:
        while queue and len(running) < max(1, int(jobs)):
            run = queue.pop(0)
            log = open(run / "train.log", "a")
            # PYTHONSAFEPATH: import the installed topobench, not a checkout in the working folder
            running.append((run, log, subprocess.Popen(
                [sys.executable, "-m", "topobench.tdann.train", "--run-dir", str(run), "--threads", "1"],
                stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONSAFEPATH": "1"})))
        finished = [entry for entry in running if entry[2].poll() is not None]
        if not finished:
            time.sleep(1.0)
            continue
        run, log, process = finished[0]
        running.remove(finished[0])
        code = process.returncode
        log.close()
        if code != 0:
            for _, other_log, other in running:
                other.wait()
                other_log.close()
            raise RuntimeError(f"training run {run} failed (exit {code}): see {run / 'train.log'}")
    return pending


def train_base(base_dir, config: TrainConfig, threads: int, log=print) -> Path:
    """Train (or resume) a task-only base run to ``BASE_STEPS`` and keep that checkpoint as
    ``checkpoint_step<BASE_STEPS>.pt``, the start of every fine-tuning run; returns its path."""
    import shutil
    from topobench.tdann.train import CHECKPOINT_FILE, load_checkpoint, train
    base_dir = Path(base_dir)
    config.threads = int(threads)
    if not (base_dir / "config.json").is_file():
        config.save(base_dir / "config.json")
    base_checkpoint = base_dir / f"checkpoint_step{BASE_STEPS}.pt"
    if not base_checkpoint.is_file():
        train(config, base_dir, until=BASE_STEPS, log=log)
        if int(load_checkpoint(base_dir / CHECKPOINT_FILE)["step"]) != BASE_STEPS:
            raise RuntimeError(f"{base_dir} is not at step {BASE_STEPS}")
        shutil.copyfile(base_dir / CHECKPOINT_FILE, base_checkpoint)
    return base_checkpoint


def run_recipe(root, out=None, threads: int = 2, log=print, supervised: bool = False) -> dict:
    """The whole recipe under ``root`` (``base/``, ``swapped/``, one folder per fine-tuning run),
    resumable stage by stage; bundles both models into ``out`` (default: the model plugin folder)."""
    root = Path(root)
    out = Path(out) if out is not None else Path(__file__).resolve().parents[1] / "models" / "tdann_mini"
    base_dir, swapped_dir = root / "base", root / "swapped"
    base_checkpoint = train_base(base_dir, base_config(), threads, log)
    if not (swapped_dir / "swap_report.json").is_file():
        swap_positions(base_checkpoint, base_dir / "positions", swapped_dir, log=log)
    runs = write_finetune_configs(root, base_checkpoint, swapped_dir)
    train_in_parallel(list(runs.values()), jobs=len(runs))
    for identifier, run in runs.items():
        bundle(run, out / identifier, identifier, extra_files=[swapped_dir / "swap_report.json"])
        log(f"bundled {identifier} into {out / identifier}")
    bundled = {identifier: out / identifier for identifier in runs}
    if supervised:
        bundled[SUPERVISED] = run_supervised(root, out, threads, log)
    return bundled


def run_supervised(root, out, threads: int = 2, log=print) -> Path:
    """``tdann-mini-supervised``: the budget of ``tdann-mini`` (a ``BASE_STEPS`` task-only base, then
    ``FINETUNE_STEPS`` with alpha 0.25) and the same swapped positions, with the cross-entropy task."""
    root, out = Path(root), Path(out)
    base_checkpoint = train_base(root / "supervised-base", supervised_base_config(), threads, log)
    run = root / SUPERVISED
    if not (run / "config.json").is_file():
        finetune_config(ALPHA, str(base_checkpoint), str(root / "swapped"), task="supervised").save(run / "config.json")
    train_in_parallel([run], jobs=1)
    bundle(run, out / SUPERVISED, SUPERVISED, extra_files=[root / "swapped" / "swap_report.json"])
    log(f"bundled {SUPERVISED} into {out / SUPERVISED}")
    return out / SUPERVISED


def main(argv=None) -> int:
    import argparse
    parser = argparse.ArgumentParser(prog="python -m topobench.tdann.mini",
                                     description="Train the bundled tdann-mini pair (resumable).")
    parser.add_argument("--root", default="runs/tdann-mini", help="folder of the runs")
    parser.add_argument("--out", default=None, help="where to bundle the models (default: the plugin folder)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads of the base run")
    parser.add_argument("--supervised", action="store_true",
                        help="also train tdann-mini-supervised (same budget and positions, cross-entropy task)")
    args = parser.parse_args(argv)
    run_recipe(args.root, args.out, args.threads, supervised=args.supervised)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
