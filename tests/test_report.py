"""``topobench report``: one HTML page with every stored score and the model's maps; every image on it
loads (checked in headless Chromium where it is installed, and as PNG files always)."""
import re
import shutil
import subprocess

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from topobench import cli
from topobench.model_interface import PytorchModel
from topobench.report import page_images, stored_orientation_map, stored_v4_predictivity, write_report
from topobench.results import ResultsStore
from topobench.scores import ceiled_score

MODEL = "tiny-report-net"


class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 5, stride=2, padding=2)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(16, 24, 3, stride=2, padding=1)
        self.relu2 = nn.ReLU()

    def forward(self, x):
        return self.relu2(self.conv2(self.relu1(self.conv1(x))))


@pytest.fixture
def tiny_model():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        module = TinyNet()
    return PytorchModel(module, MODEL, {"V1": "relu1", "VTC": "relu2"}, visual_degrees=4.0, image_size=32)


@pytest.fixture
def small_stimuli(monkeypatch):
    """The real grating set rendered at 48 px and every 12th fLoc image: the report's own code paths,
    at a fraction of the cost."""
    from topobench.stimuli import floc, gratings
    from topobench.stimuli.base import subset
    real_gratings, real_floc = gratings.sine_gratings, floc.floc_stimuli
    monkeypatch.setattr(gratings, "sine_gratings", lambda degrees=8.0, size_px=224: real_gratings(degrees, 48))

    def few_floc(include_scrambled=False, degrees=floc.FLOC_DEGREES):
        full = real_floc(include_scrambled, degrees)
        return subset(full, np.arange(len(full)) % 12 == 0)
    monkeypatch.setattr(floc, "floc_stimuli", few_floc)


@pytest.fixture
def store(tmp_path, monkeypatch):
    url = str(tmp_path / "results.sqlite")
    monkeypatch.setenv("TOPOBENCH_DB_URL", url)
    store = ResultsStore(url)
    rng = np.random.default_rng(0)
    store.record_result(MODEL, "abc", "Tiny2024.V1-something", "1",
                        ceiled_score(0.4, 0.8, 0.05, {"curve": list(range(40))}), started_at=None)
    store.record_failure(MODEL, "abc", "Tiny2024.VTC-patches", "2", message="no responsive unit\ntraceback...",
                         started_at=None)
    store.record_result(MODEL, "abc", "Cowley2023.V4-ridge", "1",
                        ceiled_score(0.3, 0.6, 0.02, {"per_neuron": {"r": rng.uniform(0, 0.6, 50).tolist(),
                                                                     "ceiling_per_neuron": [0.8] * 50}}),
                        started_at=None)
    return store


def test_report_page(tiny_model, store, small_stimuli, tmp_path):
    page = write_report(MODEL, out=tmp_path / "report", model=tiny_model, store=store)
    text = page.read_text()
    # every stored benchmark with its numbers, failures with their message
    assert "Tiny2024.V1-something" in text and "0.5000" in text and "0.4000" in text and "0.8000" in text
    assert "FAILED: no responsive unit" in text and "traceback" not in text.split("<h2>Details")[0]
    assert "Cowley2023.V4-ridge" in text
    images = page_images(page)
    names = sorted(p.name for p in images)
    assert names == ["orientation_map.png", "v4_predictivity.png", "vtc_selectivity.png"], text
    for path in images:
        with Image.open(path) as image:
            image.verify()
            assert image.format == "PNG"
    assert "no macaque map" not in text  # the Nauhaus 2012 plugin ships with topobench: its map is drawn


def test_report_without_the_model_still_writes_the_page(store, tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "COMMAND_MODULES", [*cli.COMMAND_MODULES, "topobench.zoo_cli"]
                        if "topobench.zoo_cli" not in cli.COMMAND_MODULES else cli.COMMAND_MODULES)
    assert cli.main(["report", MODEL, "--out", str(tmp_path / "r")]) == 0
    text = (tmp_path / "r" / "index.html").read_text()
    assert "the model is not available here" in text and "v4_predictivity.png" in text
    assert [p.name for p in page_images(tmp_path / "r" / "index.html")] == ["v4_predictivity.png"]
    assert cli.main(["report", "never-scored-model", "--out", str(tmp_path / "x")]) == 2


def test_stored_detail_finders():
    rows = [{"benchmark_identifier": "Nauhaus2012.V1-orientation_smoothness", "status": "ok",
             "details": {"model": {"orientation_map": {"orientation_deg": [[1.0, None], [2.0, 3.0]],
                                                       "extent_mm": [0, 1, 0, 1]}}}},
            {"benchmark_identifier": "Cowley2023.V4-pls", "status": "ok", "details": {"r_per_neuron": [0.1, None, 0.3]}}]
    benchmark, grid = stored_orientation_map(rows)
    assert benchmark.startswith("Nauhaus") and grid["extent_mm"] == [0, 1, 0, 1]
    [(name, path, r, ceiling)] = stored_v4_predictivity(rows)
    assert name == "Cowley2023.V4-pls" and path == "r_per_neuron" and np.isnan(r[1]) and ceiling is None


@pytest.mark.browser
def test_every_image_loads_in_headless_chromium(tiny_model, store, small_stimuli, tmp_path):
    page = write_report(MODEL, out=tmp_path / "report", model=tiny_model, store=store)
    result = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                             f"--user-data-dir={tmp_path / 'chromium-profile'}", "--virtual-time-budget=10000",
                             "--dump-dom", page.resolve().as_uri()],
                            capture_output=True, text=True, timeout=120)
    match = re.search(r'data-images="(\d+)" data-images-loaded="(\d+)"', result.stdout)
    assert match, result.stdout[-2000:] + result.stderr[-2000:]
    assert int(match.group(1)) == len(page_images(page)) == 3
    assert match.group(2) == match.group(1)
