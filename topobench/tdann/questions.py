"""The seed's open questions, measured on the models trained here (Margalit et al. 2024, Neuron).

1. **Cost of topography and wiring against alpha.** Every point of an alpha sweep
   (:mod:`topobench.tdann.sweep`: same start, positions, data, seed and steps) is
   scored on the topography benchmarks, the CIFAR-10 linear probe and the
   wiring-length benchmarks, and measured as :mod:`topobench.tdann.compare`
   does (V1 orientation smoothness with half-sample intervals; held-out spatial
   loss on CIFAR-10 test images, paired over shared neighbourhoods).
2. **Supervised against self-supervised.** ``tdann-mini-supervised`` beside
   ``tdann-mini``: the same measurements and their V1 and VTC maps side by side.

Scores are committed to a results store as they are made (a rerun reuses rows
of the same weights and benchmark version), the numbers go to a JSON file, and
each question gets a PNG::

    topobench questions --sweep-root runs/alpha-sweep --out leaderboard/questions [--db FILE]

writes ``alpha_sweep.json`` / ``alpha_sweep.png`` and ``supervised.json`` /
``supervised.png`` under ``--out`` (the scores in ``--db``, default ``results.sqlite``
there).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SWEEP_BENCHMARKS = ("Nauhaus2012.V1-orientation_smoothness", "Nauhaus2012.V1-sf_smoothness",
                    "Kaschube2010.V1-pinwheel_density", "LivingstoneHubel1984.V1-color_clustering",
                    "GrillSpector2014.VTC-patch_organization", "Nordt2023.VTC-rsa",
                    "Ringach2002.V1-orientation_selectivity", "CIFAR10.engineering-linear_probe",
                    "Margalit2024.V1-wiring_length", "Margalit2024.VTC-wiring_length")
TOPOGRAPHY = SWEEP_BENCHMARKS[:5]
WIRING = ("Margalit2024.V1-wiring_length", "Margalit2024.VTC-wiring_length")
PROBE = "CIFAR10.engineering-linear_probe"


def sweep_point_model(run_dir, alpha: float):
    """A finished sweep point as a model (bundled into ``run_dir/model`` once)."""
    from topobench.tdann.mini import bundle
    from topobench.tdann.pretrained import load_model_folder
    folder = Path(run_dir) / "model"
    if not (folder / "model.json").is_file():
        bundle(run_dir, folder, f"tdann-mini-alpha{float(alpha):g}")
    return load_model_folder(folder)


def scores(model, store, benchmarks=SWEEP_BENCHMARKS) -> dict:
    """benchmark -> {score, raw, error, status} for ``model``, reusing stored rows of the same weights."""
    from topobench.registry import load_benchmark
    from topobench.scoring import score_model
    result = {}
    for name in benchmarks:
        benchmark = load_benchmark(name)
        row = None
        if store.has_result(model.identifier, name, benchmark.version, model.weights_sha256):
            row = store.latest(model.identifier, name, benchmark.version, status="ok")
        if row is None:
            score_model(model, benchmark, store=store, raise_errors=False)
            row = store.latest(model.identifier, name, benchmark.version)
        result[name] = {"status": row["status"], "score": row["score"], "raw": row["raw"], "error": row["error"],
                        **({"message": (row["message"] or "").splitlines()[0]} if row["status"] != "ok" else {})}
    return result


def measure(models: dict, store, n_resamples: int = 100, seed: int = 0) -> dict:
    """Scores, smoothness with intervals and held-out spatial loss of models sharing positions."""
    from topobench.tdann.compare import held_out_spatial_loss, orientation_smoothness
    record = {"models": {}}
    for label, model in models.items():
        smooth = orientation_smoothness(model, n_resamples, seed)
        smooth.pop("_halves")
        record["models"][label] = {"identifier": model.identifier, "smoothness": smooth,
                                   "scores": scores(model, store)}
    record["held_out_spatial_loss"] = held_out_spatial_loss(models, seed=seed)
    return record


# ----------------------------------------------------------------------------- figures
def _alpha_axis(alphas):
    """Positions on a symlog-like axis: 0 at the left, then log10(alpha)."""
    positive = [a for a in alphas if a > 0]
    low = np.log10(min(positive)) - 1.0 if positive else -1.0
    return [low if a == 0 else float(np.log10(a)) for a in alphas], low


def plot_sweep(record: dict, path) -> Path:
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    labels = list(record["models"])
    alphas = [float(label) for label in labels]
    x, zero = _alpha_axis(alphas)
    figure, axes = plt.subplots(1, 4, figsize=(17, 4.0))

    axis = axes[0]
    for name in TOPOGRAPHY:
        values = [record["models"][label]["scores"][name]["score"] for label in labels]
        errors = [record["models"][label]["scores"][name]["error"] or 0.0 for label in labels]
        axis.errorbar(x, [np.nan if v is None else v for v in values], yerr=errors, marker="o", capsize=2,
                      label=name.split("-", 1)[1] if "-" in name else name)
    axis.set_ylabel("score (ceiled)")
    axis.set_title("topography benchmarks")
    axis.legend(fontsize=6)

    axis = axes[1]
    bins = record["models"][labels[0]]["smoothness"]["bins_mm"]
    for b, (low, high) in enumerate(bins):
        values = [record["models"][label]["smoothness"]["ratio"][b] for label in labels]
        intervals = np.array([[record["models"][label]["smoothness"]["interval_95"][k][b] for k in (0, 1)]
                              for label in labels])
        axis.errorbar(x, values, yerr=[np.array(values) - intervals[:, 0], intervals[:, 1] - np.array(values)],
                      marker="o", capsize=2, label=f"{low:g}-{high:g} mm")
    axis.axhline(1.0, color="grey", linewidth=0.5)
    axis.set_ylabel("|d orientation| / shuffled (V1, other channels)")
    axis.set_title("V1 orientation smoothness (95 % half-sample)")
    axis.legend(fontsize=7)

    axis = axes[2]
    values = [record["models"][label]["scores"][PROBE]["raw"] for label in labels]
    errors = [record["models"][label]["scores"][PROBE]["error"] or 0.0 for label in labels]
    axis.errorbar(x, values, yerr=errors, marker="o", capsize=2, color="k")
    axis.set_ylabel("CIFAR-10 linear-probe accuracy")
    axis.set_title("cost of topography")

    axis = axes[3]
    for name in WIRING:
        values = [record["models"][label]["scores"][name]["raw"] for label in labels]
        errors = [record["models"][label]["scores"][name]["error"] or 0.0 for label in labels]
        axis.errorbar(x, [np.nan if v is None else v for v in values], yerr=errors, marker="o", capsize=2,
                      label=name.split(".")[1])
    axis.axhline(1.0, color="grey", linewidth=0.5)
    axis.set_ylabel("wiring length / shuffled")
    axis.set_title("wiring length")
    axis.legend(fontsize=7)

    for axis in axes:
        axis.set_xticks(x)
        axis.set_xticklabels([f"{a:g}" for a in alphas])
        axis.set_xlabel("alpha (spatial-loss weight)")
    figure.suptitle(f"alpha sweep: {record.get('budget', '')}", fontsize=9)
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def plot_maps_side_by_side(models: dict, path) -> Path:
    """V1 orientation map and VTC preferred-domain map of each model, one row per model."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from topobench.metrics.v1_maps import measure_v1_maps
    from topobench.benchmarks.stigliani2015.benchmark import DEFAULT_THRESHOLD  # d' 0.659 (TDANN's t > 10)
    from topobench.report import model_vtc_selectivity

    figure, axes = plt.subplots(len(models), 2, figsize=(9, 4.2 * len(models)), squeeze=False)
    for row, (label, model) in enumerate(models.items()):
        maps = measure_v1_maps(model, "questions")
        axis = axes[row][0]
        image = axis.scatter(maps.positions_mm[:, 0], maps.positions_mm[:, 1], c=maps.orientation_deg,
                             cmap="hsv", vmin=0, vmax=180, s=3, linewidths=0)
        axis.set_title(f"{label}: V1 ({maps.layer}) preferred orientation", fontsize=9)
        axis.set_aspect("equal")
        figure.colorbar(image, ax=axis, fraction=0.046, pad=0.04, label="deg")
        positions, selectivity = model_vtc_selectivity(model)
        domains = list(selectivity)
        stacked = np.stack([selectivity[d] for d in domains], axis=1)
        preferred, selective = np.argmax(stacked, axis=1), stacked.max(axis=1) > DEFAULT_THRESHOLD
        axis = axes[row][1]
        axis.scatter(positions[~selective, 0], positions[~selective, 1], c="0.85", s=3, linewidths=0)
        colours = plt.get_cmap("tab10")(np.arange(len(domains)))
        for index, domain in enumerate(domains):
            chosen = selective & (preferred == index)
            axis.scatter(positions[chosen, 0], positions[chosen, 1], color=colours[index], s=3, linewidths=0,
                         label=f"{domain} ({int(chosen.sum())})")
        axis.set_title(f"{label}: VTC ({model.regions['VTC']}) preferred domain, d' > {DEFAULT_THRESHOLD:g}",
                       fontsize=9)
        axis.set_aspect("equal")
        axis.legend(fontsize=6, markerscale=3)
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


# ----------------------------------------------------------------------------- command
def run(sweep_root, out, alphas=None, supervised=("tdann-mini", "tdann-mini-supervised"), seed: int = 0,
        db: str | None = None) -> dict:
    """Measure and draw both questions; scores go to (and are reused from) ``db``, by default
    ``out/results.sqlite`` (the leaderboard's database serves for registered models)."""
    from topobench.registry import load_model
    from topobench.results import ResultsStore
    from topobench.tdann.config import TrainConfig
    from topobench.tdann.mini import run_finished
    from topobench.tdann.sweep import point_dir

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    store = ResultsStore(db or str(out / "results.sqlite"))
    written = {}
    if sweep_root is not None:
        sweep_root = Path(sweep_root)
        if alphas is None:
            alphas = sorted(float(p.name.split("_", 1)[1]) for p in sweep_root.glob("alpha_*"))
        unfinished = [a for a in alphas if not run_finished(point_dir(sweep_root, a))]
        if unfinished:
            from topobench.errors import TopobenchError
            raise TopobenchError(f"sweep points {unfinished} are not finished: run topobench sweep-alpha first")
        models = {f"{a:g}": sweep_point_model(point_dir(sweep_root, a), a) for a in alphas}
        record = measure(models, store, seed=seed)
        config = TrainConfig.load(point_dir(sweep_root, alphas[0]) / "config.json")
        record["budget"] = (f"every point {config.steps} steps from {config.init_from}, batch {config.batch_size}, "
                            f"seed {config.seed}, positions {config.positions}; only alpha differs")
        (out / "alpha_sweep.json").write_text(json.dumps(record, indent=1) + "\n")
        written["alpha_sweep"] = plot_sweep(record, out / "alpha_sweep.png")
    if supervised:
        models = {name: load_model(name) for name in supervised}
        record = measure(models, store, seed=seed)
        (out / "supervised.json").write_text(json.dumps(record, indent=1) + "\n")
        written["supervised"] = plot_maps_side_by_side(models, out / "supervised.png")
    store.close()
    return written


def add_commands(sub) -> None:
    parser = sub.add_parser("questions", help="measure the alpha sweep and supervised against self-supervised "
                                              "TDANN; write JSON and PNG figures")
    parser.add_argument("--sweep-root", default=None, help="folder of a finished topobench sweep-alpha")
    parser.add_argument("--alphas", type=float, nargs="+", default=None)
    parser.add_argument("--no-supervised", action="store_true", help="skip the supervised comparison")
    parser.add_argument("--out", default="leaderboard/questions")
    parser.add_argument("--db", default=None, help="results database to store and reuse scores in "
                        "(default: OUT/results.sqlite)")
    parser.set_defaults(func=lambda args: _cmd(args))


def _cmd(args) -> int:
    written = run(args.sweep_root, args.out, args.alphas, supervised=None if args.no_supervised
                  else ("tdann-mini", "tdann-mini-supervised"), db=args.db)
    for name, path in written.items():
        print(f"{name}: {path}")
    return 0
