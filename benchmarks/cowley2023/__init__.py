"""Cowley2023.V4-*: held-out predictions of macaque V4 spike counts (Cowley, Stan,
Pillow & Smith 2023) from a model's V4 layer.

- ``Cowley2023.V4-ridge``: session 210325, ridge, ceiled per neuron by half of the repeats
  predicting the other half through the same map (``topobench.ceilings.SplitHalfReliability``).
- ``Cowley2023.V4-pls``: the same with PLS (25 components), for comparison with Brain-Score;
  report-only (``report_only = True``), so that the one data set enters the V4 aggregate once.
- ``Cowley2023.V4-ridge_sessions``: all 12 sessions, raw mean r, report-only
  (``report_only = True``: kept out of every aggregate).
"""
from topobench.registry import benchmark_registry

from .benchmark import Cowley2023V4PLS, Cowley2023V4Ridge, Cowley2023V4RidgeSessions

benchmark_registry["Cowley2023.V4-ridge"] = Cowley2023V4Ridge
benchmark_registry["Cowley2023.V4-pls"] = Cowley2023V4PLS
benchmark_registry["Cowley2023.V4-ridge_sessions"] = Cowley2023V4RidgeSessions
