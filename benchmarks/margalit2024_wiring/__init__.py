"""Margalit2024.V1-wiring_length and Margalit2024.VTC-wiring_length: length of the fibres
between consecutive blocks (layer2.0 -> layer2.1, layer4.0 -> layer4.1) relative to shuffled
positions, after TDANN (Margalit et al. 2024). Report-only: kept out of aggregates."""
from topobench.registry import benchmark_registry

from .benchmark import V1WiringLength, VTCWiringLength

benchmark_registry["Margalit2024.V1-wiring_length"] = V1WiringLength
benchmark_registry["Margalit2024.VTC-wiring_length"] = VTCWiringLength
