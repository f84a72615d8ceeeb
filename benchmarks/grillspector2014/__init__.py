"""GrillSpector2014.VTC-patch_organization: four graded claims about category-selective
patches in the model's VTC sheet (Grill-Spector & Weiner 2014; Weiner & Grill-Spector
2010; Stigliani et al. 2015), with errors from resampling the fLoc images."""
from topobench.registry import benchmark_registry

from .benchmark import GrillSpector2014PatchOrganization

benchmark_registry["GrillSpector2014.VTC-patch_organization"] = GrillSpector2014PatchOrganization
