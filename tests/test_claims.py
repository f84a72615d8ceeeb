"""``topobench claims`` on maps with known answers: a smooth synthetic V1 map and a fake human VTC layout
against their shuffled twins, and the reverse; the JSON's eight claims and their fields; the figure."""
from __future__ import annotations

import json

import numpy as np
import pytest

from topobench.claims import (CLAIM_FIELDS, CLAIM_KEYS, SIDE_FIELDS, Recordings, VTCData, claims_table, record,
                              write_claims)
from topobench.metrics.synthetic_maps import SyntheticV1Model, band_limited_field, random_positions
from topobench.metrics.selectivity import DOMAINS

V1_SIDE_MM, SPACING_MM, N_V1 = 36.75, 3.5, 4000
VTC_SIDE_MM, N_VTC, IMAGES_PER_CATEGORY = 70.0, 3000, 24
#: centres (mm) of each domain's selectivity in the fake human layout: two face patches, a body patch
#: between them, characters beside faces and bodies, places far from faces
LAYOUT = {"faces": [(18.0, 35.0), (52.0, 35.0)], "bodies": [(35.0, 35.0)],
          "characters": [(26.0, 42.0), (44.0, 42.0)],
          "places": [(8.0, 62.0), (22.0, 64.0), (36.0, 64.0), (50.0, 64.0), (64.0, 62.0)],
          "objects": [(35.0, 10.0)]}
N_RESAMPLES = 20


def _v1_models():
    positions = random_positions(N_V1, V1_SIDE_MM, seed=0)
    orientation = np.mod(np.rad2deg(np.angle(band_limited_field(positions, SPACING_MM, seed=1))) / 2.0, 180.0)
    sf_field = band_limited_field(positions, SPACING_MM, seed=2).real
    sf = 2.0 ** (0.2 + 1.1 * sf_field / np.abs(sf_field).max())          # about 0.5 to 2.5 cpd
    colour_field = band_limited_field(positions, SPACING_MM, seed=3).real
    colour = 0.6 * colour_field / np.abs(colour_field).max()
    shuffled = positions[np.random.default_rng(4).permutation(N_V1)]
    smooth = SyntheticV1Model(positions, orientation, sf, colour, identifier="synthetic-smooth")
    scattered = SyntheticV1Model(shuffled, orientation, sf, colour, identifier="synthetic-shuffled")
    return smooth, scattered


def _vtc(positions, seed: int = 5) -> VTCData:
    """fLoc-like responses: unit noise plus, for images of a domain, a gain that falls off (sigma 5 mm)
    from that domain's centres of the layout (at the units' *own* positions)."""
    rng = np.random.default_rng(seed)
    categories = np.repeat([c for pair in DOMAINS.values() for c in pair], IMAGES_PER_CATEGORY)
    domain_of = {c: d for d, pair in DOMAINS.items() for c in pair}
    layout = random_positions(N_VTC, VTC_SIDE_MM, seed=6)  # where the selectivity was made
    gain = {d: sum(1.5 * np.exp(-np.sum((layout - np.asarray(c)) ** 2, axis=1) / (2 * 5.0 ** 2)) for c in centres)
            for d, centres in LAYOUT.items()}
    responses = rng.normal(size=(len(categories), N_VTC))
    for index, category in enumerate(categories):
        responses[index] += gain[domain_of[category]]
    return VTCData(responses, categories, positions, (0.0, VTC_SIDE_MM, 0.0, VTC_SIDE_MM))


@pytest.fixture(scope="module")
def recordings():
    smooth, scattered = _v1_models()
    a, b = record(smooth), record(scattered)
    layout = random_positions(N_VTC, VTC_SIDE_MM, seed=6)
    a.vtc = _vtc(layout)
    b.vtc = _vtc(layout[np.random.default_rng(7).permutation(N_VTC)])
    return a, b


@pytest.fixture(scope="module")
def smooth_against_shuffled(recordings):
    return claims_table(*recordings, n_resamples=N_RESAMPLES, seed=0)


def _claims(table):
    return {entry["key"]: entry for entry in table["claims"]}


def test_smooth_map_against_its_shuffled_twin(smooth_against_shuffled):
    claims = _claims(smooth_against_shuffled)
    first = claims["v1_orientation_smoothness"]
    assert first["model"]["value"] < 0.5 and first["model"]["interval_95"][1] < first["control"]["interval_95"][0]
    assert first["control"]["interval_95"][0] < 1.0 < first["control"]["interval_95"][1]
    assert first["holds"] is True and first["verdict"] == "holds"
    assert claims["v1_sf_clustering"]["holds"] is True
    assert claims["v1_colour_blobs"]["holds"] is True
    # a band-limited map has no cardinal bias, with or without its layout
    bias = claims["v1_cardinal_bias"]
    assert bias["shows_property"] is False and bias["holds"] is False
    assert 0.8 < bias["model"]["value"] < 1.3, bias["model"]


def test_human_vtc_layout_against_its_shuffled_twin(smooth_against_shuffled):
    claims = _claims(smooth_against_shuffled)
    faces = claims["vtc_face_patches"]
    assert faces["model"]["value"] == 2 and faces["control"]["value"] == 0 and faces["holds"] is True
    assert claims["vtc_bodies_between_faces"]["model"]["value"] > 0.9
    assert claims["vtc_bodies_between_faces"]["holds"] is True
    assert claims["vtc_characters_near_faces_and_bodies"]["holds"] is True
    assert claims["vtc_places_far_from_faces"]["holds"] is True


def test_the_reverse_does_not_hold(recordings):
    table = claims_table(recordings[1], recordings[0], n_resamples=N_RESAMPLES, seed=0)
    claims = _claims(table)
    assert claims["v1_orientation_smoothness"]["holds"] is False
    assert claims["v1_orientation_smoothness"]["shows_property"] is False
    assert claims["v1_orientation_smoothness"]["beats_control"] is False
    assert all(entry["holds"] is False for entry in table["claims"]), [e["verdict"] for e in table["claims"]]
    assert table["summary"]["holds"] == 0


def test_json_has_all_eight_claims_with_their_fields(smooth_against_shuffled, tmp_path):
    json_path, png_path = write_claims(smooth_against_shuffled, tmp_path / "claims" / "synthetic-smooth.json")
    table = json.loads(json_path.read_text())
    assert png_path.is_file() and png_path.stat().st_size > 10_000 and table["figure"] == "synthetic-smooth.png"
    assert [entry["key"] for entry in table["claims"]] == list(CLAIM_KEYS)
    assert [entry["number"] for entry in table["claims"]] == list(range(1, 9))
    for entry in table["claims"]:
        assert set(CLAIM_FIELDS) <= set(entry), entry["key"]
        for side in ("model", "control"):
            assert set(SIDE_FIELDS) <= set(entry[side])
            assert entry[side]["reason"] is None
            low, high = entry[side]["interval_95"]
            assert low <= high and entry[side]["n_resamples"] >= N_RESAMPLES - 1
        assert entry["test"].startswith("holds if") and entry["holds"] in (True, False)
        assert set(entry["test_rule"]) == {"shows_property", "beats_control", "decided_on"}
    assert table["model"] == "synthetic-smooth" and table["control"] == "synthetic-shuffled"
    assert table["summary"]["of"] == 8 and len(table["summary"]["table"]) == 8


def test_a_region_the_model_lacks_is_a_reason_not_a_number(recordings):
    no_vtc = Recordings(recordings[0].identifier, v1=recordings[0].v1)
    no_vtc.vtc_reason = record(SyntheticV1Model(np.zeros((2, 2)) + [[0, 0], [1, 1]], [0.0, 90.0])).vtc_reason
    assert "VTC" in no_vtc.vtc_reason
    claims = _claims(claims_table(no_vtc, recordings[1], n_resamples=5, seed=0))
    for key in CLAIM_KEYS[4:]:
        assert claims[key]["model"]["value"] is None and claims[key]["model"]["interval_95"] is None
        assert "VTC" in claims[key]["model"]["reason"]
        assert claims[key]["holds"] is None and claims[key]["verdict"].startswith("not decided")
    assert claims["v1_orientation_smoothness"]["holds"] is True


def test_unknown_model_is_one_clear_error():
    """Names are checked before any work: one line, exit status 2."""
    import os
    import subprocess
    import sys
    import tempfile
    result = subprocess.run([sys.executable, "-m", "topobench", "claims", "tdann-mni", "tdann-mini-task-only"],
                            capture_output=True, text=True, env=dict(os.environ), timeout=300,
                            cwd=tempfile.gettempdir())
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0].startswith("topobench: error:") and "unknown model 'tdann-mni'" in lines[0]


def test_the_command_is_registered_and_its_help_renders():
    from topobench.cli import build_parser
    parser = build_parser()
    assert "claims" in parser.format_help()
    args = parser.parse_args(["claims", "tdann-mini", "tdann-mini-task-only"])
    assert args.func.__module__ == "topobench.claims" and args.out is None and args.resamples == 100
