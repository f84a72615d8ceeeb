"""The ``topobench`` command.

    topobench list models|benchmarks|datasets|stimulus-sets
    topobench list benchmarks --costs [--model MODEL]   (how time and memory grow; estimates for MODEL)
    topobench score MODEL [BENCHMARK ...] [--all] [--threads N] [--device cpu|cuda|mps]
    topobench score --checkpoint PATH --arch resnet18 [--positions DIR] [--layers V1=layer2.0,...] [--name NAME] ...
    topobench data fetch [NAME ...|--all]
    topobench data verify [NAME ...]
    topobench results show [--model M] [--benchmark B]
    topobench results import-spool           (results kept in TOPOBENCH_HOME/spool when the store failed)
    topobench import-tdann --checkpoint FILE --positions DIR --name NAME [--force]
    topobench train | swap-positions | compare-tdann ...      (topobench.tdann.cli)
    topobench new-model NAME | report MODEL                    (topobench.zoo_cli)
    topobench leaderboard run | build | show | verify          (topobench.leaderboard.cli)

A user error (unknown name, bad data, a model that does not fit a benchmark)
prints one line ``topobench: error: ...`` and exits with status 2.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from topobench.errors import TopobenchError


#: Modules that add sub-commands: each has ``add_commands(subparsers)``, whose parsers set
#: ``func`` to a function of the parsed arguments returning the exit status.
COMMAND_MODULES: list[str] = ["topobench.tdann.cli", "topobench.zoo_cli", "topobench.leaderboard.cli",
                              "topobench.validity", "topobench.claims"]


def _fmt(value) -> str:
    return "nan" if value is None else f"{value:.4f}"


def cmd_list(args) -> int:
    from topobench.registry import names
    kind = {"models": "model", "benchmarks": "benchmark", "datasets": "dataset",
            "stimulus-sets": "stimulus set"}[args.what]
    if (args.costs or args.model) and args.what != "benchmarks":
        raise TopobenchError("--costs and --model go with `topobench list benchmarks`")
    if args.costs or args.model:
        return _list_costs(names("benchmark"), args.model)
    for name in names(kind):
        print(name)
    return 0


def _list_costs(benchmark_names, model_name=None) -> int:
    """One line per benchmark: its declared cost (``topobench.costs``) and, for a model, the estimate."""
    from topobench.costs import estimate
    from topobench.registry import load_benchmark, load_model
    model = load_model(model_name) if model_name else None  # an unknown name fails before any line
    for name in benchmark_names:
        cost = getattr(load_benchmark(name), "cost", None)
        line = f"{name}: " + (cost.describe() if cost is not None else "no cost declared")
        if model is not None:
            guess = estimate(cost, model) if cost is not None else None
            line += (f" | {model_name}: {guess.units:,} units at {guess.image_size} px, {guess.text()}"
                     if guess is not None else f" | {model_name}: no estimate (no such layer, or no cost)")
        print(line)
    return 0


def cmd_score(args) -> int:
    import torch
    from topobench.errors import EnvironmentFault
    from topobench.registry import load_benchmark, names
    from topobench.results import ResultSpooled, ResultsStore
    from topobench.scoring import score_model
    from topobench.scores import score_values
    from topobench.submit import model_from_args

    if args.threads is not None:  # checked before any work: a whole number > 0
        if args.threads < 1:
            from topobench.errors import InputError
            raise InputError(f"--threads {args.threads} is not a number of threads; give a whole number "
                             f"greater than 0, e.g. --threads 4")
        torch.set_num_threads(args.threads)
    from topobench.model_interface import check_device, to_device
    device = check_device(args.device)  # before any work: one line naming the device and the fix
    # The store is opened and proved to work before any work: a result must have somewhere to go
    # (a corrupted file, a server that is down, a read-only home: one line naming it, exit 3).
    store = ResultsStore().check()
    _import_spool(store, quiet=True)  # results an earlier run could not store
    model, leftover = model_from_args(args)  # a registered MODEL, or --checkpoint (checked before any work)
    to_device(model, device)
    benchmarks = names("benchmark") if args.all else [*leftover, *args.benchmarks]
    if not benchmarks:
        raise TopobenchError("name at least one benchmark or give --all; `topobench list benchmarks` shows them")
    loaded = [load_benchmark(name) for name in benchmarks]  # unknown names fail before any work
    failures, spooled = 0, []
    for benchmark in loaded:
        try:
            score = score_model(model, benchmark, store=store, raise_errors=False)
            message = None
        except ResultSpooled as kept:  # the store failed at write time: the result is in a spool file
            spooled.append(kept)
            score, message = kept.score, (kept.row or {}).get("message") or ""
        if score is None:
            failures += 1
            if message is None:
                message = store.latest(model.identifier, benchmark.identifier)["message"]
            print(f"{model.identifier}  {benchmark.identifier}  FAILED: {message.splitlines()[0]}", flush=True)
        else:
            values = score_values(score)
            print(f"{model.identifier}  {benchmark.identifier}  score {_fmt(values['score'])}  "
                  f"raw {_fmt(values['raw'])}  ceiling {_fmt(values['ceiling'])}  error {_fmt(values['error'])}",
                  flush=True)
        if spooled and spooled[-1].path is None:
            raise spooled[-1]  # not even spooled (the disk is full): the number above is all there is
    if len(spooled) == 1:
        raise spooled[0]
    if spooled:
        raise EnvironmentFault(f"{len(spooled)} results could not be stored in {store.name} "
                               f"({spooled[0].reason}); they are kept in "
                               f"{spooled[0].path.parent} and imported at the next `topobench score`, or now "
                               f"with `topobench results import-spool`")
    from topobench.redact import redact_url
    print(f"stored in {redact_url(store.url)}")
    return 1 if failures else 0


def cmd_data(args) -> int:
    from topobench.data_client import fetch_dataset, verify
    from topobench.registry import get_dataset, names
    selected = names("dataset") if (args.all or (args.action == "verify" and not args.names)) else args.names
    if not selected:
        raise TopobenchError("name a dataset or give --all; `topobench list datasets` shows them")
    for name in selected:
        get_dataset(name)
    bad = 0
    for name in selected:
        if args.action == "fetch":
            paths = fetch_dataset(name, progress=True)
            print(f"{name}: {len(paths)} file(s) fetched and sha256-checked")
        else:
            problems = verify(name)
            bad += len(problems)
            for path, problem in problems:
                print(f"{name}/{path}: {problem}")
            if not problems:
                print(f"{name}: ok")
    return 1 if bad else 0


def _import_spool(store, quiet: bool = False) -> int:
    """Import the spooled results meant for ``store``; print what happened (stderr when ``quiet``)."""
    answer = store.import_spool()
    text = answer.text(store.name)
    if text:
        print(f"topobench: {text}", file=sys.stderr if quiet else sys.stdout)
    elif not quiet:
        print(f"no spooled results for {store.name}")
    return len(answer.unreadable)


def cmd_results(args) -> int:
    from topobench.results import ResultsStore
    if args.action == "import-spool":
        store = ResultsStore(args.db).check()
        return 1 if _import_spool(store) else 0
    rows = ResultsStore(args.db).rows(model=args.model, benchmark=args.benchmark)
    if not rows:
        print("no results stored")
        return 0
    for row in rows:
        when = row["finished_at"].strftime("%Y-%m-%d %H:%M:%S") if row["finished_at"] else ""
        if row["status"] == "ok":
            numbers = (f"score {_fmt(row['score'])}  raw {_fmt(row['raw'])}  ceiling {_fmt(row['ceiling'])}  "
                       f"error {_fmt(row['error'])}")
        else:
            numbers = "FAILED: " + (row["message"] or "").splitlines()[0]
        print(f"{when}  {row['model_identifier']}  {row['benchmark_identifier']} v{row['benchmark_version']}  {numbers}")
    return 0


def cmd_import_tdann(args) -> int:
    from topobench.tdann.import_vissl import import_tdann
    folder = import_tdann(args.checkpoint, args.positions, args.name, image_size=args.image_size,
                          visual_degrees=args.visual_degrees, force=args.force)
    print(f"imported {args.name} into {folder}; score it with: topobench score {args.name} --all")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="topobench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True)

    listing = sub.add_parser("list", help="list registered models, benchmarks, datasets or stimulus sets")
    listing.add_argument("what", choices=["models", "benchmarks", "datasets", "stimulus-sets"])
    listing.add_argument("--costs", action="store_true",
                         help="with benchmarks: how each one's time and memory grow with the model")
    listing.add_argument("--model", default=None, metavar="MODEL",
                         help="with benchmarks --costs: estimated seconds (one thread, nothing cached) and "
                              "peak memory of scoring MODEL")
    listing.set_defaults(func=cmd_list)

    score = sub.add_parser("score", help="score a registered model on benchmarks and store the results")
    score.add_argument("model", nargs="?", help="a registered model (`topobench list models`); "
                       "omit it with --checkpoint")
    score.add_argument("benchmarks", nargs="*")
    score.add_argument("--all", action="store_true", help="every registered benchmark")
    score.add_argument("--threads", type=int, default=None, help="torch threads (scores are identical at a fixed count)")
    score.add_argument("--device", default="cpu", help="where the forward passes run: cpu (default), cuda, "
                       "cuda:N or mps; activations made on an accelerator are cached apart from the CPU's")
    from topobench.submit import add_checkpoint_arguments
    add_checkpoint_arguments(score)
    score.set_defaults(func=cmd_score)

    data = sub.add_parser("data", help="fetch or verify reference data")
    data.add_argument("action", choices=["fetch", "verify"])
    data.add_argument("names", nargs="*")
    data.add_argument("--all", action="store_true")
    data.set_defaults(func=cmd_data)

    results = sub.add_parser("results", help="show stored results, or import the spooled ones")
    results.add_argument("action", choices=["show", "import-spool"],
                         help="show: the stored rows; import-spool: store the results kept in "
                              "TOPOBENCH_HOME/spool when the store could not take them")
    results.add_argument("--model")
    results.add_argument("--benchmark")
    results.add_argument("--db", default=None, help="results database URL or SQLite file "
                         "(default: TOPOBENCH_DB_URL, else TOPOBENCH_HOME/results.sqlite)")
    results.set_defaults(func=cmd_results)
    importer = sub.add_parser("import-tdann", help="register an official TDANN checkpoint (VISSL) as a local model")
    importer.add_argument("--checkpoint", required=True, help="model_final_checkpoint_phase199.torch")
    importer.add_argument("--positions", required=True, help="folder of per-layer positions pickles")
    importer.add_argument("--name", required=True, help="identifier to register the model under")
    importer.add_argument("--image-size", type=int, default=224)
    importer.add_argument("--visual-degrees", type=float, default=8.0)
    importer.add_argument("--force", action="store_true",
                          help="replace a model already imported under NAME (only a topobench model folder)")
    importer.set_defaults(func=cmd_import_tdann)

    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).add_commands(sub)
    return parser


def _one_line(error: BaseException) -> str:
    """The message of an error a user or the machine caused, on one line."""
    text = " ".join(str(error).split())
    if isinstance(error, OSError) and not isinstance(error, TopobenchError):
        from topobench.data_client import fix_of  # only on this error path: the CLI starts light
        where = f"{error.filename}: " if getattr(error, "filename", None) else ""
        return f"{where}{error.strerror or text}; {fix_of(error)}"
    return text


def main(argv=None) -> int:
    """Run the command; a user error or a fault of the machine ends as one line on stderr
    (exit 2 for errors of input, 3 for faults of the environment) unless ``--debug`` asks
    for the traceback; anything else is a bug of topobench (exit 1, one line with --debug's hint)."""
    import warnings
    warnings.filterwarnings("ignore", message=".*should explicitly define __slots__")
    warnings.formatwarning = lambda message, category, *_rest, **_kw: (
        f"topobench: warning: {' '.join(str(message).split())}\n")
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = getattr(args, "debug", False)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("topobench: interrupted; finished results are stored", file=sys.stderr)
        return 130
    except TopobenchError as error:
        if debug:
            raise
        print(f"topobench: error: {_one_line(error)}", file=sys.stderr)
        return getattr(error, "exit_status", 2)
    except OSError as error:
        if debug:
            raise
        print(f"topobench: error: {_one_line(error)}", file=sys.stderr)
        return 3
    except Exception as error:  # noqa: BLE001 - a bug: one line, the traceback on request
        if debug:
            raise
        print(f"topobench: error: internal error ({type(error).__name__}: {_one_line(error)}); "
              f"rerun with --debug for the traceback and report it", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
