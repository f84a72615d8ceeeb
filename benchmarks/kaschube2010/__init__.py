"""Kaschube2010.V1-pinwheel_density: pinwheels per squared column spacing of the V1 orientation
map against pi (Kaschube et al. 2010), for maps with a real spectral peak and real smoothness."""
from topobench.registry import benchmark_registry

from .benchmark import KaschubePinwheelDensity

benchmark_registry["Kaschube2010.V1-pinwheel_density"] = KaschubePinwheelDensity
