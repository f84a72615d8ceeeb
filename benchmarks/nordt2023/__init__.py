"""Nordt2023.VTC-rsa: rank correlation of the model's split-half category RSM over the
10 fLoc categories with the VTC RSMs of 29 children (Nordt et al. 2023, Nat Commun),
ceiled by each child's agreement with the other children."""
from topobench.registry import benchmark_registry

from .benchmark import Nordt2023VtcRsa

benchmark_registry["Nordt2023.VTC-rsa"] = Nordt2023VtcRsa
