"""Salt-and-pepper and constant maps score low on every V1 map benchmark, or are refused where
the measurement is undefined (Kaschube2010: no columns, no pinwheels per squared spacing); scores'
details are JSON and draw as a picture."""
import json
import os

import numpy as np
import pytest

from topobench.metrics.synthetic_maps import SyntheticV1Model, random_positions, salt_and_pepper
from topobench.errors import ModelError
from topobench.registry import load_benchmark

SIDE_MM, N_UNITS = 21.0, 5000
SCORED = ("Nauhaus2012.V1-orientation_smoothness", "Nauhaus2012.V1-sf_smoothness",
          "LivingstoneHubel1984.V1-color_clustering")
PINWHEELS = "Kaschube2010.V1-pinwheel_density"
REPORTED = ("DeValois1982.V1-cardinal_bias",)


@pytest.fixture(scope="module")
def scores():
    if not os.environ.get("TOPOBENCH_DATA_URL"):
        pytest.fail("no data host: set TOPOBENCH_DATA_URL", pytrace=False)
    positions = random_positions(N_UNITS, SIDE_MM, seed=0)
    rng = np.random.default_rng(0)
    models = {
        "salt-and-pepper": SyntheticV1Model(positions, salt_and_pepper(N_UNITS, seed=4),
                                            2 ** rng.uniform(-1, 1.58, N_UNITS), rng.uniform(-0.8, 0.8, N_UNITS),
                                            identifier="salt-and-pepper"),
        "constant": SyntheticV1Model(positions, np.full(N_UNITS, 45.0), np.full(N_UNITS, 1.0),
                                     np.full(N_UNITS, 0.3), identifier="constant"),
    }
    benchmarks = {name: load_benchmark(name) for name in SCORED + REPORTED + (PINWHEELS,)}
    return {(model_name, name): score_or_refusal(benchmark, model) for model_name, model in models.items()
            for name, benchmark in benchmarks.items()}


def score_or_refusal(benchmark, model):
    """The score, or the ModelError with which the benchmark refused the map."""
    try:
        return benchmark(model)
    except ModelError as refusal:
        return refusal


@pytest.mark.parametrize("model_name", ["salt-and-pepper", "constant"])
def test_salt_and_pepper_and_constant_maps_score_low(scores, model_name):
    for name in SCORED + REPORTED:
        assert float(scores[model_name, name]) < 0.15, name
    if model_name == "constant":
        for name in SCORED:
            assert float(scores[model_name, name]) == 0.0
            assert "constant" in scores[model_name, name].attrs["details"]["scored_zero_because"]
    refusal = scores[model_name, PINWHEELS]
    assert isinstance(refusal, ModelError)
    assert ("is constant" if model_name == "constant" else "has no orientation columns") in str(refusal)


def test_details_are_json_and_draw(scores, tmp_path):
    from topobench.map_figures import write_v1_map_figure
    for score in scores.values():
        if not isinstance(score, ModelError):
            json.dumps(score.attrs["details"])
    details = scores["salt-and-pepper", SCORED[0]].attrs["details"]
    assert set(details["macaque_map"]) == {"1", "2"} and details["model_map"]["orientation_deg"]
    path = write_v1_map_figure(details, tmp_path / "maps.png", title="salt and pepper")
    assert path.stat().st_size > 10_000
    colour = scores["salt-and-pepper", "LivingstoneHubel1984.V1-color_clustering"].attrs["details"]
    assert write_v1_map_figure(colour, tmp_path / "colour.png").is_file()
    assert scores["salt-and-pepper", REPORTED[0]].attrs["details"]["report_only"] is True


def test_map_benchmarks_draw_their_figures_for_the_site(scores, tmp_path):
    """The hook through which the leaderboard site shows each stored result's maps."""
    from topobench.registry import load_benchmark
    for name in ("Nauhaus2012.V1-orientation_smoothness", "Nauhaus2012.V1-sf_smoothness",
                 "LivingstoneHubel1984.V1-color_clustering"):  # Kaschube2010's: test_v1_map_benchmarks.py
        details = json.loads(json.dumps(scores["salt-and-pepper", name].attrs["details"]))  # as stored
        [(path, caption)] = load_benchmark(name).figures(details, tmp_path / name)
        assert path.is_file() and path.stat().st_size > 10_000 and caption
