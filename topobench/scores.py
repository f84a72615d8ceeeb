"""Building benchmark scores: a ceiled value with raw, ceiling, error and details.

Every benchmark returns ``brainscore_core.metrics.Score`` (a 0-d DataAssembly)
made by :func:`ceiled_score`, so that the results store, the CLI and the
leaderboard read the same attributes everywhere (DESIGN.md, "Benchmark").
"""
from __future__ import annotations

import math

import numpy as np
from brainscore_core.metrics import Score


def ceiled_score(raw: float, ceiling: float, error: float, details: dict | None = None) -> Score:
    """Score = raw / ceiling, clipped to [0, 1]; clipping is recorded in ``details``.

    ``error`` is the uncertainty of the ceiled value (same units as the score).
    ``details`` holds the measured quantities a report or plot needs; it must be
    JSON-serialisable (lists, numbers, strings, dicts).
    """
    details = dict(details or {})
    if not (ceiling > 0) or not math.isfinite(ceiling):
        value = float("nan")
        details["ceiling_problem"] = f"ceiling {ceiling} is not positive"
    else:
        value = float(raw) / float(ceiling)
        if value > 1.0:
            details["clipped_from"] = value
            value = 1.0
        elif value < 0.0:
            details["clipped_from"] = value
            value = 0.0
    score = Score(np.float64(value))
    score.attrs["raw"] = float(raw)
    score.attrs["ceiling"] = float(ceiling)
    score.attrs["error"] = float(error)
    score.attrs["details"] = details
    return score


def mean_ceiling(agreements) -> Score:
    """A ceiling as the mean of per-part agreements (e.g. each macaque imaging plane against
    the other site), with their standard deviation as ``error``."""
    values = np.asarray(list(agreements), dtype=np.float64)
    ceiling = Score(np.float64(values.mean()))
    ceiling.attrs["error"] = float(values.std())
    return ceiling


def score_values(score: Score) -> dict:
    """The four numbers of a score as plain floats."""
    return {"score": float(score.values), "raw": float(score.attrs["raw"]),
            "ceiling": float(score.attrs["ceiling"]), "error": float(score.attrs["error"])}
