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
   ``tdann-mini-task-only`` (alpha 0). Only the spatial loss differs.

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
FINETUNE_STEPS = 250
FINETUNE_LR = 0.05
ALPHA = 0.25
SWAP_STIMULI = "imagenet_sample: 1,000 photographs (one per ImageNet class), whole image at 64 px"


def base_config() -> TrainConfig:
    return TrainConfig(seed=0, steps=600, batch_size=128, input_size=INPUT_SIZE, alpha=0.0, warmup_steps=20,
                       log_every=1, checkpoint_every=50)


def finetune_config(alpha: float, init_from: str, positions: str, steps: int = FINETUNE_STEPS) -> TrainConfig:
    return TrainConfig(seed=1, steps=steps, batch_size=128, input_size=INPUT_SIZE, alpha=alpha, lr=FINETUNE_LR,
                       warmup_steps=10, log_every=1, checkpoint_every=25, init_from=init_from,
                       positions=positions)


def block_responses(trunk: torch.nn.Module, images: torch.Tensor, input_size: int = INPUT_SIZE,
                    batch_size: int = 100) -> dict[str, np.ndarray]:
    """(n_images, units) responses of every BasicBlock output to uint8 images (N, 3, S, S)."""
    from topobench.tdann.augment import center_view
    modules = dict(trunk.named_modules())
    outputs = {name: [] for name in BLOCK_NAMES}
    handles = [modules[name].register_forward_hook(
        lambda _m, _i, out, name=name: outputs[name].append(out.detach().flatten(1).numpy()))
        for name in BLOCK_NAMES]
    trunk.eval()
    try:
        with torch.no_grad():
            for start in range(0, len(images), batch_size):
                trunk.features(center_view(torch.as_tensor(images[start:start + batch_size]), input_size))
    finally:
        for handle in handles:
            handle.remove()
    return {name: np.concatenate(chunks) for name, chunks in outputs.items()}


def swap_positions(weights, positions_dir, out_dir, seed: int = 0, n_iterations: int = 20,
                   layers=BLOCK_NAMES, log=print) -> dict:
    """Swap-optimise the positions of ``layers`` on the network's responses to imagenet_sample.

    Writes ``out_dir/<layer>.npz`` for every block (unchanged ones copied) and
    ``out_dir/swap_report.json`` (loss before and after, per layer).
    """
    from topobench.tdann.neighborhoods import tdann_width_scale
    from topobench.tdann.swap import swap_optimize
    from topobench.tdann.train import load_trunk_weights
    from topobench.tdann.training_data import load_training_data

    trunk = resnet18(num_classes=None)
    trunk.load_state_dict(load_trunk_weights(weights))
    images = load_training_data(["imagenet_sample"], 80, progress=False).images
    responses = block_responses(trunk, images)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = {}
    for name in BLOCK_NAMES:
        positions = LayerPositions.load(Path(positions_dir) / f"{name}.npz")
        if name in layers:
            positions = swap_optimize(responses[name], positions, SWAP_STIMULI, width_scale=tdann_width_scale(INPUT_SIZE),
                                      n_iterations=n_iterations, seed=seed)
            report[name] = {k: positions.provenance.get(k) for k in positions.provenance
                            if "loss" in k or k in ("n_iterations", "seconds", "n_swaps")}
            log(f"{name}: {report[name]}")
        positions.save(out_dir / f"{name}.npz")
    (out_dir / "swap_report.json").write_text(json.dumps(report, indent=1))
    return report
