"""The main job end to end, in the default run: score a (small) registered model from
the command line, print the four numbers, store the row, and print the same digits again."""
import re

import pytest

from topobench.cli import main
from topobench.model_interface import PytorchModel
from topobench.nets import resnet18
from topobench.registry import model_registry
from topobench.results import ResultsStore

BENCHMARK = "Ringach2002.V1-orientation_selectivity"


@pytest.fixture
def small_model(monkeypatch):
    def build():
        return PytorchModel(resnet18(num_classes=None, seed=0), "e2e-resnet18-seed0-64px", {"V1": "layer2.0"},
                            visual_degrees=8.0, image_size=64)
    monkeypatch.setitem(model_registry, "e2e-resnet18-seed0-64px", build)
    return "e2e-resnet18-seed0-64px"


def test_score_prints_stores_and_repeats(small_model, fresh_home, capsys):
    assert main(["score", small_model, BENCHMARK]) == 0
    first = capsys.readouterr().out
    pattern = r"score (\d\.\d{4})  raw (\d\.\d{4})  ceiling (\d\.\d{4})  error (\d\.\d{4})"
    numbers = re.search(pattern, first).groups()
    assert main(["score", small_model, BENCHMARK]) == 0
    assert re.search(pattern, capsys.readouterr().out).groups() == numbers
    rows = ResultsStore().rows(model=small_model)
    assert [row["status"] for row in rows] == ["ok", "ok"]
    assert f"{rows[0]['score']:.4f}" == numbers[0]


def test_failing_benchmark_is_reported_and_stored(fresh_home, monkeypatch, capsys):
    monkeypatch.setitem(model_registry, "e2e-no-v1", lambda: PytorchModel(
        resnet18(num_classes=None, seed=0), "e2e-no-v1", {"VTC": "layer4.1"}, image_size=64))
    assert main(["score", "e2e-no-v1", BENCHMARK]) == 1
    assert "FAILED" in capsys.readouterr().out
    row = ResultsStore().latest("e2e-no-v1", BENCHMARK)
    assert row["status"] == "failed" and row["score"] is None and "V1" in row["message"]
