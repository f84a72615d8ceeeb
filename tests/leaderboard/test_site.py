"""`leaderboard build`: the static site shows failures as failed, and two builds from the
same store are byte-identical (scores.csv included)."""
from __future__ import annotations

import csv
import io
import json

import pytest

from topobench.leaderboard.aggregate import build_leaderboard, load_config
from topobench.leaderboard.run import run_leaderboard
from topobench.leaderboard.site import SiteError, build_site

MODELS = ["test-lb-a", "test-lb-b"]
BENCHMARKS = ["Fake2026.V1-forward", "Fake2026.V1-response", "Fake2026.VTC-constant", "Fake2026.V1-broken",
              "Fake2026.V1-report"]


def _files(folder):
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture
def scored(fakes, store):
    run_leaderboard(MODELS, BENCHMARKS[:-1], store, progress=False)  # the report-only one stays unscored
    run_leaderboard(["test-lb-a"], BENCHMARKS[-1:], store, progress=False)
    return store


def test_failed_benchmark_is_shown_as_failed_everywhere(scored, tmp_path):
    board = build_leaderboard(scored, MODELS, BENCHMARKS, load_config())
    site = build_site(board, tmp_path / "site")
    index = (site / "index.html").read_text()
    assert index.count('class="failed"') == 2 and "Fake2026.V1-broken always fails" in index
    model_page = (site / "models" / "test-lb-a.html").read_text()
    assert "failed" in model_page and "RuntimeError: Fake2026.V1-broken always fails" in model_page
    benchmark_page = (site / "benchmarks" / "Fake2026.V1-broken.html").read_text()
    assert benchmark_page.count('class="failed"') == 2
    rows = list(csv.DictReader(io.StringIO((site / "scores.csv").read_text())))
    broken = [row for row in rows if row["item"] == "Fake2026.V1-broken"]
    assert [row["status"] for row in broken] == ["failed", "failed"] and broken[0]["score"] == ""
    assert "always fails" in broken[0]["message"]
    overall = {row["model"]: row for row in rows if row["item"] == "overall"}
    assert overall["test-lb-a"]["status"] == "incomplete" and overall["test-lb-a"]["n_failed"] == "1"
    unscored = [row for row in rows if row["item"] == "Fake2026.V1-report" and row["model"] == "test-lb-b"]
    assert unscored[0]["status"] == "missing"
    data = json.loads((site / "scores.json").read_text())
    entry = next(model for model in data["models"] if model["identifier"] == "test-lb-a")
    assert entry["benchmarks"]["Fake2026.V1-broken"]["status"] == "failed"
    assert entry["benchmarks"]["Fake2026.V1-forward"]["provenance"]["torch_threads"] == 1
    assert entry["benchmarks"]["Fake2026.V1-forward"]["weights_sha256"]
    report = next(b for b in data["benchmarks"] if b["identifier"] == "Fake2026.V1-report")
    assert report["report_only"] and not report["aggregated"]
    # the aggregate on the site is what aggregation says, to 4 decimals
    assert overall["test-lb-a"]["score"] == f"{board.entry('test-lb-a').overall:.4f}"
    # pictures from the benchmark's figures() hook are in the site
    assert (site / "figures" / "Fake2026.V1-forward" / "test-lb-a" / "pattern.png").is_file()
    assert 'src="../figures/Fake2026.V1-forward/test-lb-a/pattern.png"' in model_page


def test_two_builds_are_byte_identical(scored, tmp_path):
    first = build_site(build_leaderboard(scored, MODELS, BENCHMARKS, load_config()), tmp_path / "one")
    second = build_site(build_leaderboard(scored, MODELS, BENCHMARKS, load_config()), tmp_path / "two")
    one, two = _files(first), _files(second)
    assert one == two
    assert {"index.html", "scores.csv", "scores.json", "sort.js", "style.css", "models/test-lb-b.html",
            "benchmarks/Fake2026.VTC-constant.html"} <= set(one)
    lines = one["scores.csv"].decode().splitlines()
    assert lines[0].startswith("model,rank,item,kind")
    assert all(len(value.split(".")[1]) == 4 for line in lines[1:]
               for value in line.split(",")[9:13] if value)  # 4 decimals
    rebuilt = build_site(build_leaderboard(scored, MODELS, BENCHMARKS, load_config()), first)  # in place
    assert _files(rebuilt) == one


def test_stored_figure_paths_are_copied_and_missing_ones_named(fakes, store, tmp_path, monkeypatch):
    from PIL import Image
    from topobench import registry
    from topobench.scores import ceiled_score
    picture = tmp_path / "map.png"
    Image.new("RGB", (8, 8), (10, 200, 30)).save(picture)

    class Pictured(fakes.Fake):
        def __call__(self, model):
            return ceiled_score(0.4, 0.8, 0.01, {"figures": [{"path": str(picture), "caption": "the map"},
                                                             str(tmp_path / "gone.png")]})
    monkeypatch.setitem(registry.benchmark_registry, "Fake2026.V1-pictured",
                        lambda: Pictured("Fake2026.V1-pictured", "V1", family="topography", kind="stored"))
    run_leaderboard(["test-lb-a"], ["Fake2026.V1-pictured"], store, progress=False)
    site = build_site(build_leaderboard(store, ["test-lb-a"], ["Fake2026.V1-pictured"]), tmp_path / "site")
    copied = site / "figures" / "Fake2026.V1-pictured" / "test-lb-a" / "map.png"
    assert copied.read_bytes() == picture.read_bytes()
    page = (site / "benchmarks" / "Fake2026.V1-pictured.html").read_text()
    assert "the map" in page and "gone.png not found" in page


def test_build_refuses_a_folder_that_is_not_a_site(scored, tmp_path):
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "thesis.tex").write_text("keep me")
    with pytest.raises(SiteError, match="not a leaderboard site"):
        build_site(build_leaderboard(scored, MODELS, BENCHMARKS), tmp_path / "precious")
    assert (tmp_path / "precious" / "thesis.tex").read_text() == "keep me"


def test_cli_build(scored, store_url, tmp_path, capsys, monkeypatch):
    import topobench.cli
    if "topobench.leaderboard.cli" not in topobench.cli.COMMAND_MODULES:
        monkeypatch.setattr(topobench.cli, "COMMAND_MODULES",
                            [*topobench.cli.COMMAND_MODULES, "topobench.leaderboard.cli"])
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"title": "Test board", "benchmarks": {
        "Fake2026.VTC-constant": {"family": "responses", "report_only": False}}}))
    status = topobench.cli.main(["leaderboard", "build", "--db", store_url, "--out", str(tmp_path / "out"),
                                 "--config", str(config), "--models", *MODELS, "--benchmarks", *BENCHMARKS])
    out = capsys.readouterr().out
    assert status == 0 and "2 model(s), 5 benchmark(s), 2 failed and 1 unscored" in out
    index = (tmp_path / "out" / "index.html").read_text()
    assert "<title>Test board</title>" in index and "Responses VTC" in index  # the table's family


def test_two_independent_runs_give_identical_scores_csv(scored, tmp_path):
    """Scoring everything again from nothing, into another store, builds the same scores.csv."""
    other = f"sqlite:///{tmp_path / 'again.sqlite'}"
    run_leaderboard(MODELS, BENCHMARKS[:-1], other, progress=False)
    run_leaderboard(["test-lb-a"], BENCHMARKS[-1:], other, progress=False)
    first = build_site(build_leaderboard(scored, MODELS, BENCHMARKS, load_config()), tmp_path / "one")
    second = build_site(build_leaderboard(other, MODELS, BENCHMARKS, load_config()), tmp_path / "two")
    assert (first / "scores.csv").read_bytes() == (second / "scores.csv").read_bytes()
    assert (first / "index.html").read_bytes() == (second / "index.html").read_bytes()
