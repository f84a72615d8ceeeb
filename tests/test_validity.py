"""The validity table on a small subset (brain data, the 64 px V1 control and its shuffled twin, three
benchmarks and one of another region), its JSON, its page on the site, and the controls beside the
models on the leaderboard, never ranked or aggregated. Directions only: the V1 benchmarks' scale rule
is being changed, so no exact value is pinned."""
from __future__ import annotations

import json

import numpy as np
import pytest

from topobench.validity import BRAIN, build_validity, write_validity

SUBJECTS = [BRAIN, "control-v1-bandlimited-64px", "control-v1-bandlimited-64px-shuffled"]
BENCHMARKS = ["Nauhaus2012.V1-orientation_smoothness", "Kaschube2010.V1-pinwheel_density",
              "DeValois1982.V1-cardinal_bias", "GrillSpector2014.VTC-patch_organization"]


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    from topobench.results import ResultsStore
    folder = tmp_path_factory.mktemp("validity")
    store = ResultsStore(str(folder / "validity.sqlite"))
    table = build_validity(SUBJECTS, BENCHMARKS, store, progress=False)
    return table, store


def test_table_has_every_subject_and_benchmark(stored):
    table, _store = stored
    assert [s["identifier"] for s in table["subjects"]] == SUBJECTS
    assert [b["identifier"] for b in table["benchmarks"]] == BENCHMARKS
    kinds = {s["identifier"]: s["kind"] for s in table["subjects"]}
    assert kinds == {BRAIN: "brain", SUBJECTS[1]: "positive", SUBJECTS[2]: "shuffled"}
    cells = table["cells"]
    assert cells[SUBJECTS[1]]["GrillSpector2014.VTC-patch_organization"]["status"] == "not applicable"
    assert cells[BRAIN]["Kaschube2010.V1-pinwheel_density"]["status"] == "not available"
    assert "0.77 mm" in cells[BRAIN]["Kaschube2010.V1-pinwheel_density"]["message"]
    truth = next(s for s in table["subjects"] if s["identifier"] == SUBJECTS[1])["truth"]
    assert truth["spacing_mm"] == 3.5 and truth["pinwheel_density"] == pytest.approx(np.pi, rel=0.06)


def test_directions(stored):
    """Brain data near 1, the positive control high, its shuffled twin low (the issue's expectations)."""
    table, _store = stored
    cells = table["cells"]
    brain = cells[BRAIN]["Nauhaus2012.V1-orientation_smoothness"]
    assert brain["status"] == "ok" and set(brain["parts"]) == set("abef")
    assert 0.9 <= brain["unclipped"] <= 1.05 and brain["meets"] is True
    for benchmark in BENCHMARKS[:3]:
        positive, shuffled = cells[SUBJECTS[1]][benchmark], cells[SUBJECTS[2]][benchmark]
        assert positive["status"] == "ok", benchmark
        assert positive["score"] >= 0.8 and positive["meets"] is True, (benchmark, positive)
        if benchmark == "Kaschube2010.V1-pinwheel_density":  # no columns: refused, which a shuffled twin meets
            assert shuffled["status"] == "refused" and shuffled["meets"] is True, shuffled
            assert "has no orientation columns" in shuffled["message"]
            continue
        assert shuffled["status"] == "ok", benchmark
        if benchmark == "DeValois1982.V1-cardinal_bias":   # the distribution, not the layout: kept by shuffling
            assert shuffled["score"] == positive["score"] and shuffled["meets"] is None
        else:
            assert shuffled["score"] <= 0.1 and shuffled["meets"] is True, (benchmark, shuffled)
    assert table["summary"]["Nauhaus2012.V1-orientation_smoothness"]["missed"] == []


def test_scores_went_through_the_results_store(stored):
    _table, store = stored
    rows = store.rows()
    models = {row["model_identifier"] for row in rows}
    assert {SUBJECTS[1], SUBJECTS[2], f"{BRAIN}-nauhaus2012-panel-a"} <= models
    refused = {(row["model_identifier"], row["benchmark_identifier"]) for row in rows if row["status"] != "ok"}
    assert refused == {(SUBJECTS[2], "Kaschube2010.V1-pinwheel_density")}  # stored as the model's failure
    assert {row["benchmark_identifier"] for row in rows} == set(BENCHMARKS[:3])


def test_json_is_stable_and_the_site_shows_it(stored, tmp_path):
    from topobench.leaderboard.aggregate import Leaderboard
    from topobench.leaderboard.site import build_site
    table, _store = stored
    first = write_validity(table, tmp_path / "one.json").read_bytes()
    again = write_validity(json.loads(first), tmp_path / "two.json").read_bytes()
    assert first == again and b"NaN" not in first
    board = Leaderboard("Board", "", [], [], [], [])
    site = build_site(board, tmp_path / "site", validity=tmp_path / "one.json")
    page = (site / "validity.html").read_text()
    assert "control-v1-bandlimited-64px-shuffled" in page and 'class="meets"' in page
    assert "no data" in page and "n/a" in page
    assert json.loads((site / "validity.json").read_text()) == table
    assert 'href="validity.html"' in (site / "index.html").read_text()


def test_controls_are_shown_beside_models_never_ranked(tmp_path, monkeypatch):
    from brainscore_core.benchmarks import BenchmarkBase

    from topobench import registry
    from topobench.leaderboard.aggregate import build_leaderboard, load_config
    from topobench.leaderboard.site import build_site, scores_csv
    from topobench.results import ResultsStore
    from topobench.scores import ceiled_score

    class Constant(BenchmarkBase):
        datasets = ()

        def __init__(self):
            super().__init__(identifier="Test2026.V1-smooth", version=1, ceiling=None, parent="V1", bibtex="")

        def __call__(self, model):
            return ceiled_score(model.value, 1.0, 0.0, {})

    class Model:
        weights_sha256 = None

        def __init__(self, identifier, value):
            self.identifier, self.value = identifier, value

    def control():
        return Model("test-control", 0.99)
    control.family = "controls"
    monkeypatch.setitem(registry.benchmark_registry, "Test2026.V1-smooth", Constant)
    monkeypatch.setitem(registry.model_registry, "test-model", lambda: Model("test-model", 0.2))
    monkeypatch.setitem(registry.model_registry, "test-control", control)
    from topobench.scoring import score_model
    store = ResultsStore(str(tmp_path / "board.sqlite"))
    for name in ("test-model", "test-control"):
        score_model(registry.load_model(name), "Test2026.V1-smooth", store)
    board = build_leaderboard(store, ["test-model", "test-control"], ["Test2026.V1-smooth"], load_config())
    assert [entry.identifier for entry in board.entries] == ["test-model"]
    assert board.entries[0].rank == 1
    assert [entry.identifier for entry in board.controls] == ["test-control"]
    assert board.controls[0].rank is None and board.controls[0].aggregates == {}
    assert board.controls[0].cells["Test2026.V1-smooth"].score == pytest.approx(0.99)
    rows = scores_csv(board).splitlines()
    control_rows = [row for row in rows if row.startswith("test-control,")]
    assert len(control_rows) == 1 and ",benchmark," in control_rows[0] and control_rows[0].endswith(",controls")
    site = build_site(board, tmp_path / "site", validity={"benchmarks": [], "subjects": [], "cells": {}})
    index = (site / "index.html").read_text()
    leaderboard_table = index.split('id="leaderboard"')[1].split("</table>")[0]
    assert "test-control" not in leaderboard_table and "test-model" in leaderboard_table
    assert 'id="controls-table"' in index and "never ranked" in index
    assert "never ranked" in (site / "models" / "test-control.html").read_text()
    data = json.loads((site / "scores.json").read_text())
    assert [m["identifier"] for m in data["models"]] == ["test-model"]
    assert data["controls"][0]["identifier"] == "test-control" and data["controls"][0]["rank"] is None
