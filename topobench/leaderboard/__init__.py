"""The leaderboard: score every registered model on every registered benchmark,
aggregate, publish a static site, and check that stored scores reproduce.

- :func:`topobench.leaderboard.run.run_leaderboard` scores every missing
  (model, benchmark) pair at the current benchmark versions, in this process,
  on a local Dask cluster (``jobs > 1``) or on a running Dask scheduler; each
  result is committed to the results store as soon as it exists, so an
  interrupted run resumes where it stopped.
- :func:`topobench.leaderboard.aggregate.build_leaderboard` reads the store and
  aggregates as DESIGN.md says ("Score semantics").
- :func:`topobench.leaderboard.site.build_site` writes the static site with
  ``scores.csv`` and ``scores.json``.
- :func:`topobench.leaderboard.verify.verify` rescores stored pairs into a
  temporary store and reports any difference at 4 decimals.

The command line is ``topobench leaderboard run|build|verify|show``
(:mod:`topobench.leaderboard.cli`).
"""
