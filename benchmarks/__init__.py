"""Bundled benchmark plugins (installed as ``topobench.benchmarks``): one folder each;
``__init__.py`` registers a factory in ``topobench.registry.benchmark_registry``,
``benchmark.py`` implements it, ``test.py`` tests it and pins its score."""
