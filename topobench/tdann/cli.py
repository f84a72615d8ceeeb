"""Sub-commands for training topographic networks: ``train`` and ``swap-positions``."""
from __future__ import annotations


def cmd_train(args) -> int:
    from topobench.tdann.config import TrainConfig
    from topobench.tdann.train import export_model, train
    from pathlib import Path
    run_dir = Path(args.run_dir)
    config_path = Path(args.config) if args.config else run_dir / "config.json"
    config = TrainConfig.load(config_path)
    if args.threads:
        config.threads = args.threads
    if args.device:
        config.device = args.device
    train(config, run_dir, until=args.until)
    if args.export:
        print(f"exported to {export_model(run_dir, args.export)}")
    return 0


def cmd_swap(args) -> int:
    from topobench.tdann.mini import swap_positions
    swap_positions(args.weights, args.positions, args.out, seed=args.seed, n_iterations=args.iterations)
    print(f"swap-optimised positions in {args.out}")
    return 0


def cmd_compare(args) -> int:
    import json
    from topobench.tdann.compare import compare
    record = compare(args.models, args.out, n_resamples=args.resamples, seed=args.seed)
    print(json.dumps({k: v for k, v in record.items() if k != "method"}, indent=1))
    return 0


def add_commands(sub) -> None:
    train = sub.add_parser("train", help="train a topographic ResNet-18 (SimCLR or supervised, with the spatial loss); "
                                         "resumes a run folder that has a checkpoint")
    train.add_argument("--config", help="a TrainConfig JSON file (default: the run folder's config.json)")
    train.add_argument("--run-dir", required=True)
    train.add_argument("--until", type=int, default=None, help="stop after this step (resumable)")
    train.add_argument("--threads", type=int, default=None)
    train.add_argument("--device", default=None, help="override the config's device (default 'auto': cuda "
                                                      "where there is one, else cpu): auto, cpu, cuda or mps")
    train.add_argument("--export", default=None, help="folder to export the trained model into")
    train.set_defaults(func=cmd_train)

    swap = sub.add_parser("swap-positions", help="swap-optimise positions on a network's responses to natural "
                                                 "images that no benchmark scores (imagenet_sample)")
    swap.add_argument("--weights", required=True, help="checkpoint, weights.pt or run folder")
    swap.add_argument("--positions", required=True, help="folder of <layer>.npz starting positions")
    swap.add_argument("--out", required=True)
    swap.add_argument("--seed", type=int, default=0)
    swap.add_argument("--iterations", type=int, default=20)
    swap.set_defaults(func=cmd_swap)

    compare = sub.add_parser("compare-tdann", help="smoothness of the V1 map, held-out spatial loss and linear probe "
                                                   "of two models with the same positions, with intervals")
    compare.add_argument("models", nargs="+", help="registered model identifiers (two for differences)")
    compare.add_argument("--out", default=None, help="JSON file to write")
    compare.add_argument("--resamples", type=int, default=100)
    compare.add_argument("--seed", type=int, default=0)
    compare.set_defaults(func=cmd_compare)

    from topobench.tdann.questions import add_commands as add_questions
    from topobench.tdann.sweep import add_commands as add_sweep
    add_sweep(sub)
    add_questions(sub)
