"""The published leaderboard (leaderboard/site/ of the checkout) covers every registered model
and benchmark at its current version (a control: every benchmark that declares it), and every
pair has a stored result (score or failure)."""
import csv
from pathlib import Path

import pytest

from topobench.leaderboard.run import is_control
from topobench.registry import load_benchmark, names

SITE = Path(__file__).resolve().parents[2] / "leaderboard" / "site"


def test_published_scores_cover_every_registered_model_and_benchmark():
    if not (SITE / "scores.csv").is_file():
        pytest.fail("leaderboard/site/scores.csv is missing: run `topobench leaderboard run --db "
                    "leaderboard/results.sqlite` and `topobench leaderboard build --db leaderboard/results.sqlite`")
    with open(SITE / "scores.csv", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["kind"] == "benchmark"]
    published = {(row["model"], row["item"]): row for row in rows}
    missing, stale = [], []
    for model in names("model"):
        for benchmark in names("benchmark"):
            if is_control(model) and model not in load_benchmark(benchmark).controls:
                continue  # controls are scored on the benchmarks they certify
            row = published.get((model, benchmark))
            if row is None or row["status"] not in ("ok", "failed"):
                missing.append(f"{model} x {benchmark}")
            elif str(row["benchmark_version"]) != str(load_benchmark(benchmark).version):
                stale.append(f"{model} x {benchmark} (published v{row['benchmark_version']})")
    assert not missing, f"pairs without a published result: {missing[:10]} ({len(missing)} in all)"
    assert not stale, f"pairs published at an old benchmark version: {stale[:10]}"
