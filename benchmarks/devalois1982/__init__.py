"""DeValois1982.V1-cardinal_bias: more V1 units preferring cardinal than oblique orientations
(De Valois, Yund & Hepler 1982). Report-only: kept out of aggregates."""
from topobench.registry import benchmark_registry

from .benchmark import DeValoisCardinalBias

benchmark_registry["DeValois1982.V1-cardinal_bias"] = DeValoisCardinalBias
