"""Stigliani2015.VTC-category_selectivity: the fraction of the model's VTC units selective for
each fLoc domain (Stigliani et al. 2015). Report-only: kept out of aggregates."""
from topobench.registry import benchmark_registry

from .benchmark import Stigliani2015CategorySelectivity

benchmark_registry["Stigliani2015.VTC-category_selectivity"] = Stigliani2015CategorySelectivity
