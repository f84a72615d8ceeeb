"""Tests of GrillSpector2014.VTC-patch_organization: synthetic sheets built to satisfy
or to violate the four claims, shuffled positions, the pinned score of a fixed seeded
model (raise the benchmark's version when it changes) and its errors."""

import numpy as np
import pytest

import topobench.nets
from topobench.benchmarks.grillspector2014 import GrillSpector2014PatchOrganization
from topobench.benchmarks.grillspector2014.benchmark import SUB_SCORES, between_score
from topobench.errors import ModelError
from topobench.metrics.selectivity import DOMAINS
from topobench.model_interface import PytorchModel
from topobench.registry import benchmark_registry

SIDE = 70.0
EXTENT = (0.0, SIDE, 0.0, SIDE)
LABELS = np.repeat([c for pair in DOMAINS.values() for c in pair], 144)


def _model(region_layers):
    return PytorchModel(topobench.nets.resnet18(num_classes=None, seed=0), identifier="test-resnet18-seed0-64px",
                        region_layers=region_layers, visual_degrees=8.0, image_size=64)


def floc_subset(per_category=48):
    """The first ``per_category`` images of each fLoc category (no scrambled): fast pins."""
    from topobench.stimuli.base import subset
    from topobench.stimuli.floc import floc_stimuli
    stimuli = floc_stimuli()
    return subset(stimuli, (stimuli.groupby("category").cumcount() < per_category).to_numpy())


def _disc(positions, x, y, radius):
    return np.hypot(positions[:, 0] - x, positions[:, 1] - y) <= radius


def _synthetic_sheet(layout: str, n_units=4000, seed=0):
    """Positions on a 70 mm sheet and fLoc-like responses (1,440 images): unit noise plus a
    boost of 1.5 for the images of a domain wherever that domain's map says so."""
    rng = np.random.default_rng(seed)
    positions = rng.uniform(0.0, SIDE, size=(n_units, 2))
    if layout == "human-like":  # lateral = large x
        maps = {"faces": _disc(positions, 50, 18, 8) | _disc(positions, 50, 52, 8),
                "bodies": _disc(positions, 50, 35, 6),
                "characters": _disc(positions, 58, 35, 14),
                "places": positions[:, 0] < 25}
    elif layout == "violating":  # places interleaved with the one face patch (other units of the same disc)
        centre = _disc(positions, 30, 35, 12)
        odd = np.arange(n_units) % 2 == 1
        maps = {"faces": centre & ~odd,
                "bodies": _disc(positions, 60, 60, 8),
                "characters": _disc(positions, 10, 62, 10),
                "places": centre & odd}
    else:
        raise ValueError(layout)
    responses = rng.normal(size=(LABELS.size, n_units))
    for domain, where in maps.items():
        responses[np.ix_(np.isin(LABELS, DOMAINS[domain]), where)] += 1.5
    return responses, positions


def test_registered():
    benchmark = benchmark_registry["GrillSpector2014.VTC-patch_organization"]()
    assert benchmark.identifier == "GrillSpector2014.VTC-patch_organization"
    assert benchmark.version == 1 and benchmark.parent == "VTC"
    assert "10.1038/nrn3747" in benchmark.bibtex and benchmark.ceiling == 1.0
    assert benchmark.datasets == ("floc",)
    assert benchmark.patch_threshold == pytest.approx(0.132) and benchmark.unit_threshold == pytest.approx(0.659)
    t_benchmark = GrillSpector2014PatchOrganization(measure="t")
    assert (t_benchmark.patch_threshold, t_benchmark.unit_threshold) == (2.0, 10.0)


def test_between_score():
    faces = [(0.0, 0.0), (10.0, 0.0)]
    assert between_score(faces, [(5.0, 0.0)]) == pytest.approx(1.0)
    assert between_score(faces, [(5.0, 5.0)]) == pytest.approx(0.0, abs=1e-12)  # on the Thales circle
    assert 0.0 < between_score(faces, [(5.0, 2.0)]) < 1.0
    assert between_score(faces, [(20.0, 0.0)]) == 0.0
    assert between_score(faces[:1], [(5.0, 0.0)]) == 0.0 and between_score(faces, []) == 0.0


def test_human_like_sheet_scores_high_and_violating_sheet_low():
    benchmark = GrillSpector2014PatchOrganization(n_resamples=8)
    responses, positions = _synthetic_sheet("human-like")
    good = benchmark.score_selectivity(responses, LABELS, positions, EXTENT)
    sub = good.attrs["details"]["sub_scores"]
    assert good.attrs["details"]["n_patches"]["faces"] == 2 and good.attrs["details"]["n_patches"]["bodies"] == 1
    assert sub["multiple_face_patches"] == 1.0
    assert sub["bodies_between_faces"] > 0.95
    assert sub["characters_near_faces_and_bodies"] > 0.25
    assert sub["places_far_from_faces"] > 0.1
    assert float(good) > 0.55
    assert set(good.attrs["details"]["sub_score_errors"]) == set(SUB_SCORES)
    assert 0.0 <= good.attrs["error"] < 0.1

    responses, positions = _synthetic_sheet("violating")
    bad = benchmark.score_selectivity(responses, LABELS, positions, EXTENT)
    sub = bad.attrs["details"]["sub_scores"]
    assert sub["multiple_face_patches"] == 0.5 and sub["bodies_between_faces"] == 0.0
    assert sub["characters_near_faces_and_bodies"] < 0.1 and sub["places_far_from_faces"] == 0.0
    assert float(bad) < 0.2


def test_shuffled_positions_drop_the_organisation_scores():
    benchmark = GrillSpector2014PatchOrganization(n_resamples=2)
    responses, positions = _synthetic_sheet("human-like")
    shuffled = positions[np.random.default_rng(1).permutation(len(positions))]
    score = benchmark.score_selectivity(responses, LABELS, shuffled, EXTENT)
    details = score.attrs["details"]
    assert details["n_patches"]["faces"] == 0 and details["n_patches"]["bodies"] == 0
    assert details["sub_scores"]["bodies_between_faces"] == 0.0
    # place and face fractions correlate on the shuffled sheet too (one unit is not both);
    # the excess over shuffled positions removes that
    places_faces = details["colocalisations"]["places-faces"]
    assert places_faces["r"] < -0.1 and abs(places_faces["excess"]) < 0.3
    assert float(score) < 0.15


def test_pinned_score_of_seeded_untrained_resnet18_on_a_floc_subset():
    """Fast pin: the first 48 images of each fLoc category (480 images, no scrambled)
    through the 64 px untrained ResNet-18 (2,048 layer4.1 units placed by default):
    one small face patch at the sheet's edge, where the smoothed map averages fewest
    units; no other patch."""
    score = GrillSpector2014PatchOrganization(stimuli=floc_subset())(_model({"VTC": "layer4.1"}))
    details = score.attrs["details"]
    assert float(score) == pytest.approx(0.1401, abs=0.001)
    assert score.attrs["raw"] == pytest.approx(0.1401, abs=0.001)
    assert score.attrs["ceiling"] == 1.0
    assert score.attrs["error"] == pytest.approx(0.1002, abs=0.001)
    assert details["n_patches"] == {"faces": 1, "bodies": 0, "characters": 0, "places": 0, "objects": 0}
    assert details["patches"]["faces"][0]["area_mm2"] == pytest.approx(120.05, abs=1.0)
    assert details["sub_scores"]["characters_near_faces_and_bodies"] == pytest.approx(0.0604, abs=0.001)
    assert details["colocalisations"]["places-faces"]["r"] is None  # no place-selective unit
    assert details["selective_fractions"]["faces"] == pytest.approx(0.0176, abs=0.0005)
    assert details["n_units"] == 2048 and details["n_images"] == 480
    assert details["sheet_extent_mm"] == [0.0, 70.0, 0.0, 70.0]
    assert details["positions_by_default"] is True
    assert set(details["reference_claims"]) == set(SUB_SCORES)


@pytest.mark.slow
def test_pinned_score_of_seeded_untrained_resnet18():
    """The benchmark as registered (all 1,440 fLoc images) on the same model."""
    score = GrillSpector2014PatchOrganization()(_model({"VTC": "layer4.1"}))
    details = score.attrs["details"]
    assert float(score) == pytest.approx(0.1359, abs=0.001)
    assert score.attrs["error"] == pytest.approx(0.0625, abs=0.001)
    assert details["n_patches"] == {"faces": 1, "bodies": 0, "characters": 0, "places": 0, "objects": 0}
    assert details["patches"]["faces"][0]["area_mm2"] == pytest.approx(140.6, abs=1.0)
    assert details["sub_scores"]["characters_near_faces_and_bodies"] == pytest.approx(0.0438, abs=0.001)
    assert details["colocalisations"]["characters-faces"]["r"] == pytest.approx(0.1101, abs=0.001)
    assert details["selective_fractions"]["faces"] == pytest.approx(0.0132, abs=0.0005)
    assert details["n_images"] == 1440


def test_model_without_vtc_fails_clearly():
    with pytest.raises(ModelError, match="VTC"):
        GrillSpector2014PatchOrganization()(_model({"V1": "layer2.0"}))


def test_t_measure_on_a_fixed_image_count():
    responses, positions = _synthetic_sheet("human-like")
    score = GrillSpector2014PatchOrganization(measure="t", n_resamples=0).score_selectivity(
        responses, LABELS, positions, EXTENT)
    details = score.attrs["details"]
    assert details["n_patches"]["faces"] == 2 and details["n_images_per_category"] == 144
    assert float(score) > 0.55 and np.isnan(score.attrs["error"])
    with pytest.raises(ValueError, match="needs 200 per category"):
        GrillSpector2014PatchOrganization(measure="t", n_images_per_category=200).score_selectivity(
            responses, LABELS, positions, EXTENT)


def test_model_without_positions_fails_clearly():
    from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly

    class NoPositions:
        identifier, regions = "no-positions", {"VTC": "x"}

        def record(self, stimuli, region):
            coords = {"category": ("presentation", LABELS), "neuroid_id": ("neuroid", np.arange(3))}
            return NeuroidAssembly(np.zeros((LABELS.size, 3)), coords=coords, dims=["presentation", "neuroid"])

    with pytest.raises(ModelError, match="cortical positions"):
        GrillSpector2014PatchOrganization(stimuli=object())(NoPositions())


def test_unknown_measure_is_refused():
    with pytest.raises(ValueError, match="measure"):
        GrillSpector2014PatchOrganization(measure="z")


@pytest.mark.slow
def test_declared_controls(tmp_path):
    """The VTC control (human layout of efficientnet-lite0-imagenet's units) against its shuffled twin.
    The twin scores <= 0.1. The positive control reaches 0.66, short of the 0.8 asked of a positive control:
    two face patches and bodies between them score about 1, places far from faces 0.63, but characters near
    faces and bodies 0 (a recorded gap, see leaderboard/validity.json)."""
    from topobench.results import ResultsStore
    from topobench.validity import control_cells
    with ResultsStore(f"sqlite:///{tmp_path / 'controls.sqlite'}") as store:
        cells = control_cells("GrillSpector2014.VTC-patch_organization", None, store)
    positive = cells["control-vtc-efficientnet-lite0-human-layout"]["score"]
    shuffled = cells["control-vtc-efficientnet-lite0-human-layout-shuffled"]["score"]
    assert shuffled <= 0.1 and positive >= 0.6, cells
