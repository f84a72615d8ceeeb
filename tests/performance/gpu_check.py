"""Check ``--device`` on a machine with a GPU (a maintainer runs it; CI does not: it needs CUDA).

    TOPOBENCH_DATA_URL=... python tests/performance/gpu_check.py [--device cuda] [--model resnet18-untrained]
        [--benchmark Ringach2002.V1-orientation_selectivity] [--threads 1] [--train]

Scores one registered model on one benchmark on the CPU and on ``--device`` (activation cache
off, so both run their forward passes; a first untimed run on the device fetches the reference
data, renders the stimuli and starts CUDA), prints both scores, their difference and the
seconds each took, then runs ``topobench score ... --device DEVICE`` as a user would. With
``--train``: two steps of a tiny ``tdann-dense`` run on each device, seconds per step, and the
device's checkpoint loaded back on the CPU. Everything goes to a temporary TOPOBENCH_HOME.
Exit status 1 when the two scores differ at 4 decimals (the precision of ``leaderboard verify``).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def score_once(model_name: str, benchmark_name: str, device: str, store):
    """(score values, seconds) of one scoring run on ``device``, activations computed afresh."""
    from topobench.model_interface import to_device
    from topobench.registry import load_benchmark, load_model
    from topobench.scores import score_values
    from topobench.scoring import score_model
    model = to_device(load_model(model_name), device)
    if hasattr(model, "cache"):
        model.cache = False
    benchmark = load_benchmark(benchmark_name)
    start = time.perf_counter()
    score = score_model(model, benchmark, store=store)
    return score_values(score), time.perf_counter() - start


def train_once(device: str, folder: Path) -> float:
    """Seconds per step of two steps of a tiny dense run on ``device``."""
    from topobench.tdann import dense
    from topobench.tdann.training_data import TrainingImages
    data = dense.SourceImages({"big": TrainingImages.synthetic(16, 32, seed=0).images})
    config = dense.DenseConfig(alpha=1.0, input_size=64, batch_size=8, positions="default", sources={"big": 32},
                               checkpoint_every=2, n_neighborhoods=20)
    summary = dense.train(config, folder, until=2, data=data, teacher=dense.load_teacher(), log=lambda _: None,
                          device=device)
    return summary["seconds_per_step"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--model", default="resnet18-untrained")
    parser.add_argument("--benchmark", default="Ringach2002.V1-orientation_selectivity")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--train", action="store_true", help="also two training steps on each device")
    args = parser.parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="topobench-gpu-check-"))
    os.environ["TOPOBENCH_HOME"] = str(home)
    import torch
    from topobench.model_interface import check_device
    from topobench.results import ResultsStore
    torch.set_num_threads(args.threads)
    device = check_device(args.device)
    print(f"torch {torch.__version__}, {args.threads} CPU thread(s), device {device}"
          + (f" ({torch.cuda.get_device_name(device)})" if device.startswith("cuda") else ""), flush=True)

    store = ResultsStore(f"sqlite:///{home / 'results.sqlite'}")
    score_once(args.model, args.benchmark, device, store)  # untimed: data, stimuli, CUDA start
    results = [score_once(args.model, args.benchmark, name, store) for name in ("cpu", device)]
    for name, (values, seconds) in zip(("cpu", device), results):
        print(f"{name:>8}: score {values['score']:.6f}  raw {values['raw']:.6f}  ceiling {values['ceiling']:.6f}  "
              f"{seconds:.1f} s", flush=True)
    (cpu_values, cpu_s), (device_values, device_s) = results
    print(f"|score difference| {abs(cpu_values['score'] - device_values['score']):.2e}; "
          f"{device} time / cpu time {device_s / cpu_s:.3f}", flush=True)

    command = [sys.executable, "-m", "topobench", "score", args.model, args.benchmark, "--device", device]
    answer = subprocess.run(command, capture_output=True, text=True, env={**os.environ})
    print(f"$ topobench score {args.model} {args.benchmark} --device {device}  (exit {answer.returncode})")
    print((answer.stdout + answer.stderr).strip(), flush=True)

    if args.train:
        from topobench.tdann.dense import CHECKPOINT_FILE, load_checkpoint
        for index, name in enumerate(("cpu", device)):
            print(f"training on {name}: {train_once(name, home / f'train-{index}'):.3f} s/step", flush=True)
        path = home / "train-1" / CHECKPOINT_FILE
        load_checkpoint(path)  # as topobench reads it
        state = torch.load(path, weights_only=True)  # without map_location: the devices it was saved from
        devices = {tensor.device.type for tensor in state["model"].values()}
        print(f"{device} checkpoint loaded on the CPU: step {state['step']}, tensors on {devices}, "
              f"device {state.get('device', 'cpu')}", flush=True)
    store.close()
    return 0 if round(cpu_values["score"], 4) == round(device_values["score"], 4) and answer.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
