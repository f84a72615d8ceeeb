"""Metrics shared by benchmarks: closed-form tuning statistics of model units
(``orientation_tuning``), comparisons of distributions with a split-half ceiling
(``distribution_similarity``) and the like. Each takes plain arrays or
assemblies and returns numbers; scoring (ceiling, clipping) is done by the
benchmarks with :func:`topobench.scores.ceiled_score`.
"""
