"""Nauhaus2012.V1-orientation_smoothness and Nauhaus2012.V1-sf_smoothness: shuffle-normalised
tuning-difference curves of V1 maps against macaque two-photon maps (Nauhaus et al. 2012, Fig. 2)."""
from topobench.registry import benchmark_registry

from .benchmark import NauhausOrientationSmoothness, NauhausSFSmoothness

benchmark_registry["Nauhaus2012.V1-orientation_smoothness"] = NauhausOrientationSmoothness
benchmark_registry["Nauhaus2012.V1-sf_smoothness"] = NauhausSFSmoothness
