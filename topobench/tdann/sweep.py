"""The alpha sweep: equal-budget TDANN runs that differ only in the spatial-loss weight.

Margalit et al. 2024 (Neuron) trained TDANNs at alpha 0, 0.1, 0.25, 0.5, 1.25,
2.5 and 25 and compared topography, task performance and wiring length against
alpha. Here every point is a fine-tuning run of :func:`topobench.tdann.mini.finetune_config`
(same start, same positions, same data order and seed, same steps), so alpha is
the only difference::

    topobench sweep-alpha --root runs/alpha-sweep --init-from runs/tdann-mini/base/checkpoint_step400.pt \\
        --positions runs/tdann-mini/swapped [--alphas 0 0.1 0.25 2.5 25] [--steps 150] [--jobs 2]

Each point is ``ROOT/alpha_<value>/`` (``config.json``, checkpoints, ``losses.csv``).
A rerun skips finished points and resumes an interrupted one from its checkpoint;
points run ``--jobs`` at a time, one torch thread each. ``--export`` writes each
finished point as a model folder (``ROOT/alpha_<value>/model``) that
``topobench.tdann.pretrained.load_model_folder`` loads for scoring.
"""
from __future__ import annotations

from pathlib import Path

PUBLISHED_ALPHAS = (0.0, 0.1, 0.25, 0.5, 1.25, 2.5, 25.0)
DEFAULT_ALPHAS = (0.0, 0.1, 0.25, 2.5, 25.0)


def point_dir(root, alpha: float) -> Path:
    return Path(root) / f"alpha_{float(alpha):g}"


def write_sweep(root, alphas, init_from, positions, steps: int, overrides: dict | None = None) -> list[Path]:
    """One run folder per alpha with its config (``overrides``: other config fields, the same for
    every point); an existing config must be the same."""
    import dataclasses
    from topobench.errors import ModelError
    from topobench.tdann.config import TrainConfig
    from topobench.tdann.mini import finetune_config
    runs = []
    for alpha in alphas:
        run = point_dir(root, alpha)
        config = finetune_config(float(alpha), str(init_from) if init_from else None,
                                 str(positions) if positions else None, int(steps))
        config = dataclasses.replace(config, **(overrides or {}))
        if (run / "config.json").is_file():
            differences = TrainConfig.load(run / "config.json").differences(config)
            if differences:
                raise ModelError(f"{run} was made with another config ({differences}); use another --root")
        else:
            config.save(run / "config.json")
        runs.append(run)
    return runs


def sweep(root, alphas=DEFAULT_ALPHAS, init_from=None, positions=None, steps: int = 150, jobs: int = 1,
          export: bool = False, overrides: dict | None = None) -> dict:
    """Train every point of the sweep (resumable); returns alpha -> run folder."""
    from topobench.tdann.mini import bundle, train_in_parallel
    runs = write_sweep(root, alphas, init_from, positions, steps, overrides)
    train_in_parallel(runs, jobs)
    if export:
        for alpha, run in zip(alphas, runs):
            bundle(run, run / "model", f"tdann-mini-alpha{float(alpha):g}")
    return dict(zip(alphas, runs))


def add_commands(sub) -> None:
    parser = sub.add_parser("sweep-alpha", help="equal-budget TDANN runs over alpha (resumable)")
    parser.add_argument("--root", required=True, help="folder of the sweep's runs")
    parser.add_argument("--init-from", required=True, help="checkpoint every point starts from")
    parser.add_argument("--positions", required=True, help="folder of <layer>.npz positions every point uses")
    parser.add_argument("--alphas", type=float, nargs="+", default=list(DEFAULT_ALPHAS))
    parser.add_argument("--steps", type=int, default=150, help="steps per point (the same for all)")
    parser.add_argument("--jobs", type=int, default=1, help="points trained at a time (one thread each)")
    parser.add_argument("--export", action="store_true", help="write each point as a model folder")
    parser.set_defaults(func=lambda args: _cmd(args))


def _cmd(args) -> int:
    runs = sweep(args.root, args.alphas, args.init_from, args.positions, args.steps, args.jobs, args.export)
    for alpha, run in runs.items():
        print(f"alpha {alpha:g}: {run}")
    return 0
