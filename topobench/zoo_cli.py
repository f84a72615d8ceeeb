"""Sub-commands of the model zoo and the submitter's path (added to ``topobench`` through
``topobench.cli.COMMAND_MODULES``)::

    topobench new-model NAME [--out DIR]
    topobench report MODEL [--out DIR] [--no-maps]
    topobench report --checkpoint PATH --arch ARCH [--positions DIR] [--layers ...] [--name NAME]
"""
from __future__ import annotations


def cmd_report(args) -> int:
    from topobench.report import write_report
    from topobench.submit import model_from_args
    model = None
    identifier = args.model
    if args.checkpoint is not None:
        model, leftover = model_from_args(args)
        if leftover:
            from topobench.errors import TopobenchError
            raise TopobenchError(f"give either MODEL ('{leftover[0]}') or --checkpoint, not both")
        identifier = model.identifier
    elif not identifier:
        from topobench.errors import TopobenchError
        raise TopobenchError("name a model (`topobench results show` lists scored ones) or give --checkpoint")
    page = write_report(identifier, out=args.out, model=model, maps=not args.no_maps)
    print(f"wrote {page}")
    return 0


def add_commands(sub) -> None:
    from topobench.new_model import cmd_new_model
    from topobench.submit import add_checkpoint_arguments

    new = sub.add_parser("new-model", help="write a template package for a third-party model (entry point, "
                         "model.py, test.py)")
    new.add_argument("name", help="the model's identifier, e.g. my-resnet50")
    new.add_argument("--out", default=".", help="folder to write NAME/ into (default: the current folder)")
    new.set_defaults(func=cmd_new_model)

    report = sub.add_parser("report", help="one HTML page (and PNGs) with a model's stored scores and its maps")
    report.add_argument("model", nargs="?", help="model identifier (as stored in the results)")
    report.add_argument("--out", default=None, help="folder for index.html and its PNGs "
                        "(default: TOPOBENCH_HOME/reports/MODEL)")
    report.add_argument("--no-maps", action="store_true",
                        help="only the stored scores and details: do not record the model for its maps")
    add_checkpoint_arguments(report)
    report.set_defaults(func=cmd_report)
