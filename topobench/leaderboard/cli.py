"""``topobench leaderboard run|build|verify|show``.

    topobench leaderboard run [--models M ...] [--benchmarks B ...] [--jobs N] [--scheduler ADDRESS]
                              [--retry-failed] [--threads T] [--device D] [--memory-limit GB]
                              [--db URL] [--import MODULE]
    topobench leaderboard build [--out leaderboard/site] [--config FILE] [--db URL] [--include-unregistered]
    topobench leaderboard verify [--sample N] [--seed S] [--jobs N] [--use-cache] [--db URL]
    topobench leaderboard show [--db URL] [--include-unregistered]

Each also takes ``--models`` and ``--benchmarks`` (default: every registered one).

``--db`` defaults to ``TOPOBENCH_DB_URL``, else the SQLite file in
``TOPOBENCH_HOME``. ``--import`` names a module that registers more models or
benchmarks (imported here and on every worker). ``run`` exits 0 once every
pair has a row (failures are results, listed in the summary; a pair refused because its
estimated memory exceeds the machine's, or ``--memory-limit``, is listed too, stores
nothing and does not change the exit status); ``verify`` exits 1
when a rescored pair differs.
"""
from __future__ import annotations

import argparse


def _store(args):
    from topobench.results import ResultsStore
    return ResultsStore(args.db)


def _common(parser, selection: bool = True) -> None:
    parser.add_argument("--db", default=None, help="results database URL or SQLite file "
                        "(default: TOPOBENCH_DB_URL, else TOPOBENCH_HOME/results.sqlite)")
    parser.add_argument("--import", dest="imports", action="append", default=[], metavar="MODULE",
                        help="a module that registers more models or benchmarks (repeatable)")
    if selection:
        parser.add_argument("--models", nargs="+", default=None, metavar="MODEL",
                            help="these models (default: every registered one)")
        parser.add_argument("--benchmarks", nargs="+", default=None, metavar="BENCHMARK",
                            help="these benchmarks (default: every registered one)")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _gigabytes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of gigabytes, e.g. 16, not {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 GB, not {text}")
    return value


def cmd_run(args) -> int:
    from topobench.leaderboard.run import run_leaderboard
    store = _store(args)
    summary = run_leaderboard(args.models, args.benchmarks, store, jobs=args.jobs, scheduler=args.scheduler,
                              retry_failed=args.retry_failed, threads=args.threads, imports=args.imports,
                              progress=not args.quiet, device=args.device,
                              memory_limit=None if args.memory_limit is None else args.memory_limit * 1e9)
    from topobench.redact import redact_url
    print(summary.text())
    print(f"stored in {redact_url(store.url)}")
    return 0


def cmd_build(args) -> int:
    from topobench.leaderboard.aggregate import build_leaderboard, load_config
    from topobench.leaderboard.run import import_modules
    from topobench.leaderboard.site import build_site
    import_modules(args.imports)
    board = build_leaderboard(_store(args), args.models, args.benchmarks, load_config(args.config),
                              include_unregistered=args.include_unregistered)
    out = build_site(board, args.out)
    failed = sum(cell.status == "failed" for entry in board.entries for cell in entry.cells.values())
    missing = sum(cell.status == "missing" for entry in board.entries for cell in entry.cells.values())
    print(f"wrote {out}: {len(board.entries)} model(s), {len(board.benchmarks)} benchmark(s), "
          f"{failed} failed and {missing} unscored pair(s); open {out / 'index.html'}")
    return 0


def cmd_show(args) -> int:
    from topobench.leaderboard.aggregate import build_leaderboard, fmt4, load_config
    from topobench.leaderboard.run import import_modules
    import_modules(args.imports)
    board = build_leaderboard(_store(args), args.models, args.benchmarks, load_config(args.config),
                              include_unregistered=args.include_unregistered)
    keys = [node.key for node in board.tree if node.level != "region"]
    print("rank  model  " + "  ".join(keys))
    for entry in board.entries:
        values = []
        for key in keys:
            value = entry.aggregates[key]
            values.append(fmt4(value.score) + ("" if value.complete else "*"))
        print(f"{entry.rank}  {entry.identifier}  " + "  ".join(values))
    if any(not value.complete for entry in board.entries for value in entry.aggregates.values()):
        print("* a failed or unscored benchmark counts 0 in this aggregate")
    return 0


def cmd_verify(args) -> int:
    from topobench.leaderboard.verify import verify
    report = verify(_store(args), sample=args.sample, seed=args.seed, models=args.models,
                    benchmarks=args.benchmarks, jobs=args.jobs, imports=args.imports, use_cache=args.use_cache,
                    progress=not args.quiet)
    print(report.text())
    return 1 if report.differing else 0


def add_commands(subparsers) -> None:
    board = subparsers.add_parser("leaderboard", help="score every model on every benchmark, build the site, "
                                  "verify stored scores")
    sub = board.add_subparsers(dest="leaderboard_command", required=True)

    run = sub.add_parser("run", help="score every missing (model, benchmark) pair at current versions")
    _common(run)
    run.add_argument("--jobs", type=_positive, default=1,
                     help="parallel single-threaded worker processes (a local Dask cluster when > 1)")
    run.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="a running Dask scheduler, e.g. tcp://host:8786 (workers: --nthreads 1)")
    run.add_argument("--retry-failed", action="store_true",
                     help="also score pairs stored as failed at the current version")
    run.add_argument("--threads", type=_positive, default=1, help="torch threads per pair (default 1)")
    run.add_argument("--device", default="cpu", help="where every pair's forward passes run: cpu (default), "
                     "cuda, cuda:N or mps (each worker must have it)")
    run.add_argument("--memory-limit", type=_gigabytes, default=None, metavar="GB",
                     help="refuse pairs whose estimated peak memory exceeds GB gigabytes (default: the "
                          "memory this machine has available)")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    run.set_defaults(func=cmd_run)

    build = sub.add_parser("build", help="write the static leaderboard site with scores.csv and scores.json")
    _common(build)
    build.add_argument("--out", default="leaderboard/site", help="folder of the site (default leaderboard/site)")
    build.add_argument("--config", default=None,
                       help="leaderboard configuration (default: leaderboard/config.json of the checkout)")
    build.add_argument("--include-unregistered", action="store_true",
                       help="also models that are stored but not registered (e.g. scored from a checkpoint)")
    build.set_defaults(func=cmd_build)

    show = sub.add_parser("show", help="print the ranking and aggregates")
    _common(show)
    show.add_argument("--config", default=None, help="leaderboard configuration")
    show.add_argument("--include-unregistered", action="store_true",
                      help="also models that are stored but not registered")
    show.set_defaults(func=cmd_show)

    check = sub.add_parser("verify", help="rescore stored pairs into a temporary store and compare at 4 decimals")
    _common(check)
    check.add_argument("--sample", type=_positive, default=None, metavar="N",
                       help="only N pairs drawn at random (default: every stored pair)")
    check.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    check.add_argument("--jobs", type=_positive, default=1, help="parallel worker processes")
    check.add_argument("--use-cache", action="store_true",
                       help="reuse cached activations (checks the benchmark's computation, not the forward pass)")
    check.add_argument("--quiet", action="store_true", help="no progress bars")
    check.set_defaults(func=cmd_verify)
