"""topobench: benchmarks of vision models against the topography and the responses
of the primate ventral visual pathway (DESIGN.md)."""
__version__ = "0.1.0"


def score(model, layers=None, positions=None, benchmarks=None, **options):
    """Score a ``torch.nn.Module`` (with ``layers``), a topobench model or a registered name:
    :func:`topobench.submit.score`."""
    from topobench.submit import score as _score
    return _score(model, layers=layers, positions=positions, benchmarks=benchmarks, **options)
