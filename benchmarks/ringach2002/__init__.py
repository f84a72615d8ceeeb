"""Ringach2002.V1-orientation_selectivity: circular variance of responsive V1
units against 308 macaque V1 cells (Ringach, Shapley & Hawken 2002)."""
from topobench.registry import benchmark_registry

from .benchmark import RingachOrientationSelectivity

benchmark_registry["Ringach2002.V1-orientation_selectivity"] = RingachOrientationSelectivity
