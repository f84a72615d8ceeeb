"""``tdann-mini`` and ``tdann-mini-task-only``: the bundled TDANN pair, trained here on 2 CPU cores.

TDANN (Margalit et al. 2024, Neuron) at a CPU budget, recipe in
:mod:`topobench.tdann.mini`: ResNet-18 at 64 px over 8 degrees, SimCLR on
``imagenet_sample`` + ``more_training_images`` + the CIFAR-10 train split
(never fLoc), batch 128. A task-only base run, then swap optimisation of every
block's positions on the base network's responses to ``imagenet_sample``, then
two fine-tuning runs from the base checkpoint with those positions that differ
only in alpha: ``tdann-mini`` (relative spatial loss, alpha 0.25 on all 8
blocks) and ``tdann-mini-task-only`` (alpha 0). Both are scored with the same
swapped positions, so the spatial loss has to win on its own merit.

Each model is a folder beside this file (``topobench.tdann.pretrained``):
``model.json`` (recipe and provenance), ``weights.pt`` (trunk, half precision),
``positions/<layer>.npz`` (all 8 blocks), the exact ``config.json`` and the
``losses.csv`` of the run; ``swap_report.json`` holds the swap optimisation's
losses before and after. Regions: V1 = layer2.0, V4 = layer3.1, VTC = layer4.1.

``tdann-mini-supervised``: the budget, data, seed and swapped positions of
``tdann-mini`` (a 400-step task-only base, then 300 steps with alpha 0.25), with
a cross-entropy task on the 14 category labels of the training images instead
of SimCLR (``topobench.tdann.mini.run_supervised``).
"""
from __future__ import annotations

from pathlib import Path

from topobench.errors import ModelError

#: The pair that differs only in alpha.
IDENTIFIERS = ("tdann-mini", "tdann-mini-task-only")
#: The same budget, data, seed and positions as ``tdann-mini``, with the cross-entropy task.
SUPERVISED = "tdann-mini-supervised"
FOLDER = Path(__file__).parent


def folder(identifier: str) -> Path:
    return FOLDER / identifier


def builder(identifier: str):
    def build():
        from topobench.tdann.pretrained import load_model_folder
        path = folder(identifier)
        if not (path / "model.json").is_file():
            raise ModelError(f"{identifier}: its trained weights are not in {path}; train them with the recipe "
                             f"of topobench.tdann.mini (see its docstring)")
        return load_model_folder(path)
    build.__doc__ = f"``{identifier}`` from {folder(identifier).name}/ beside this file."
    return build
