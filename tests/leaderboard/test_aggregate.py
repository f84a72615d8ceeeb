"""Aggregation as DESIGN.md says: means per region, then family, then overall; a failed or
missing child counts 0 and is shown; report-only and engineering benchmarks stay out."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from topobench.leaderboard.aggregate import (DEFAULT_CONFIG, Cell, LeaderboardError, ModelEntry,
                                             aggregate, aggregation_tree, cell_from_row, describe_benchmark,
                                             fmt4, guess_family, load_config, rank_entries, round4,
                                             sort_benchmarks)

CONFIG = {**DEFAULT_CONFIG, "benchmarks": {"Table2026.V4-listed": {"family": "responses", "report_only": True}}}


def _info(identifier, region, family, report_only=False):
    benchmark = SimpleNamespace(identifier=identifier, version=1, parent=region, family=family,
                                report_only=report_only, bibtex="")
    return describe_benchmark(benchmark, CONFIG)


INFOS = [
    _info("T1.V1-a", "V1", "topography"),
    _info("T2.V1-b", "V1", "topography"),
    _info("T3.VTC-c", "VTC", "topography"),
    _info("R1.V4-d", "V4", "responses"),
    _info("R2.VTC-e", "VTC", "responses"),
    _info("R3.V1-only_reported", "V1", "responses", report_only=True),
    _info("E1.engineering-top1", "engineering", "engineering"),
]
CELLS = {
    "T1.V1-a": Cell("ok", 0.8),
    "T2.V1-b": Cell("failed", message="model has no V1 positions"),
    "T3.VTC-c": Cell("ok", 0.6),
    "R1.V4-d": Cell("ok", 0.5),
    "R2.VTC-e": Cell("missing"),
    "R3.V1-only_reported": Cell("ok", 0.9),
    "E1.engineering-top1": Cell("ok", 1.0),
}


def test_tree_is_region_then_family_then_overall():
    tree = {node.key: node for node in aggregation_tree(INFOS, CONFIG)}
    assert list(tree) == ["overall", "topography", "topography.V1", "topography.VTC", "responses",
                          "responses.V4", "responses.VTC"]
    assert tree["overall"].children == ("topography", "responses")
    assert tree["topography"].children == ("topography.V1", "topography.VTC")
    assert tree["topography.V1"].children == ("T1.V1-a", "T2.V1-b")
    assert tree["responses.V4"].children == ("R1.V4-d",)
    every_leaf = {leaf for node in tree.values() if node.level == "region" for leaf in node.children}
    assert "R3.V1-only_reported" not in every_leaf and "E1.engineering-top1" not in every_leaf


def test_means_per_region_then_family_then_overall_failed_and_missing_count_zero():
    values = aggregate(aggregation_tree(INFOS, CONFIG), CELLS)
    assert values["topography.V1"].score == pytest.approx((0.8 + 0.0) / 2)   # failed counts 0
    assert values["topography.VTC"].score == pytest.approx(0.6)
    assert values["topography"].score == pytest.approx((0.4 + 0.6) / 2)       # mean of regions, not of leaves
    assert values["responses.VTC"].score == 0.0                               # missing counts 0
    assert values["responses"].score == pytest.approx((0.5 + 0.0) / 2)
    assert values["overall"].score == pytest.approx((0.5 + 0.25) / 2)
    # the report-only 0.9 and the engineering 1.0 changed nothing: with them removed it is the same
    kept = [info for info in INFOS if info.aggregated]
    assert aggregate(aggregation_tree(kept, CONFIG), CELLS)["overall"].score == values["overall"].score
    assert (values["topography"].n_failed, values["topography"].n_missing) == (1, 0)
    assert (values["responses"].n_failed, values["responses"].n_missing) == (0, 1)
    assert (values["overall"].n_failed, values["overall"].n_missing) == (1, 1)
    assert not values["overall"].complete and values["topography.VTC"].complete


def test_a_failed_child_is_never_better_than_a_low_score():
    tree = aggregation_tree(INFOS, CONFIG)
    low = aggregate(tree, {**CELLS, "T2.V1-b": Cell("ok", 0.01)})
    failed = aggregate(tree, CELLS)
    assert failed["overall"].score < low["overall"].score


def test_family_comes_from_the_benchmark_then_the_config_then_a_guess():
    plain = SimpleNamespace(identifier="Table2026.V4-listed", version=2, parent="V4", bibtex="")
    info = describe_benchmark(plain, CONFIG)
    assert (info.family, info.report_only, info.family_source, info.aggregated) == (
        "responses", True, "config", False)
    attribute = SimpleNamespace(identifier="Table2026.V4-listed", version=2, parent="V4", bibtex="",
                                family="topography", report_only=False)
    info = describe_benchmark(attribute, CONFIG)
    assert (info.family, info.report_only, info.family_source, info.aggregated) == (
        "topography", False, "benchmark", True)
    guessed = describe_benchmark(SimpleNamespace(identifier="New2030.V4-ridge", version=1, parent="V4"), CONFIG)
    assert (guessed.family, guessed.family_source, guessed.version) == ("responses", "guessed", "1")
    assert guess_family("Nauhaus2012.V1-orientation_smoothness", "V1") == "topography"
    assert guess_family("Nordt2023.VTC-rsa", "VTC") == "responses"
    assert guess_family("Ringach2002.V1-orientation_selectivity", "V1") == "responses"
    assert guess_family("ImageNet.engineering-top1", "engineering") == "engineering"


def test_checkout_config_names_a_family_for_each_benchmark():
    config = load_config()
    assert config["title"] and set(config["families"]) == {"topography", "responses"}
    for identifier, entry in config["benchmarks"].items():
        assert entry["family"] in config["families"], identifier
        assert isinstance(entry["report_only"], bool), identifier
    assert config["benchmarks"]["Ringach2002.V1-orientation_selectivity"]["family"] == "responses"
    assert config["benchmarks"]["Cowley2023.V4-ridge_sessions"]["report_only"] is True


def test_bad_config_is_a_clear_error(tmp_path):
    with pytest.raises(LeaderboardError, match="does not exist"):
        load_config(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(LeaderboardError, match="not valid JSON"):
        load_config(tmp_path / "bad.json")
    (tmp_path / "ok.json").write_text(json.dumps({"title": "mine"}))
    assert load_config(tmp_path / "ok.json")["title"] == "mine"


def test_cells_from_rows():
    assert cell_from_row(None).status == "missing" and cell_from_row(None).value == 0.0
    failed = cell_from_row({"status": "failed", "message": "no V1\ntrace", "score": None})
    assert failed.status == "failed" and failed.value == 0.0 and failed.message.startswith("no V1")
    no_score = cell_from_row({"status": "ok", "score": None, "raw": 0.3, "ceiling": 0.0, "error": 0.1,
                              "details": {"ceiling_problem": "ceiling 0.0 is not positive"}})
    assert no_score.status == "failed" and "ceiling 0.0" in no_score.message and no_score.value == 0.0
    ok = cell_from_row({"status": "ok", "score": 0.25, "raw": 0.2, "ceiling": 0.8, "error": 0.01})
    assert ok.status == "ok" and ok.value == 0.25


def test_ranking_by_overall_at_four_decimals_ties_share_a_rank():
    def entry(name, score):
        return ModelEntry(name, {}, {"overall": SimpleNamespace(score=score)} if score is not None else {})
    ranked = rank_entries([entry("c", 0.5), entry("b", 0.70001), entry("a", 0.7), entry("d", None)])
    assert [(e.identifier, e.rank) for e in ranked] == [("a", 1), ("b", 1), ("c", 3), ("d", 4)]


def test_four_decimal_formatting():
    assert fmt4(0.123456) == "0.1235" and fmt4(None) == "" and fmt4(float("nan")) == ""
    assert fmt4(-0.00001) == "0.0000" and round4(1 / 3) == 0.3333 and round4(None) is None


def test_benchmarks_sorted_aggregated_first_by_family_and_region():
    ordered = [info.identifier for info in sort_benchmarks(reversed(INFOS), CONFIG)]
    assert ordered == ["T1.V1-a", "T2.V1-b", "T3.VTC-c", "R1.V4-d", "R2.VTC-e", "E1.engineering-top1",
                       "R3.V1-only_reported"]
