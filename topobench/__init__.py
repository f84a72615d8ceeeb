"""topobench: benchmarks of vision models against the topography and the responses
of the primate ventral visual pathway (DESIGN.md)."""
__version__ = "0.1.0"
