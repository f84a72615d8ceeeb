"""LivingstoneHubel1984.V1-color_clustering: colour preference (isoluminant red/cyan against
black/white gratings) clustered on the V1 sheet beyond shuffled positions."""
from topobench.registry import benchmark_registry

from .benchmark import LivingstoneHubelColorClustering

benchmark_registry["LivingstoneHubel1984.V1-color_clustering"] = LivingstoneHubelColorClustering
