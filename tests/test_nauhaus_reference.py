"""The macaque maps decoded from Nauhaus et al. 2012, Fig. 2: legends, scale, plausibility."""
import os

import numpy as np
import pytest

from topobench.metrics.smoothness import absolute_difference, preference_spread


@pytest.fixture(scope="module")
def maps():
    if not os.environ.get("TOPOBENCH_DATA_URL"):
        pytest.fail("no data host: set TOPOBENCH_DATA_URL", pytrace=False)
    from topobench.reference_data.nauhaus2012 import load_nauhaus2012
    return load_nauhaus2012()


def _common(first, second):
    rows = min(first.values.shape[0], second.values.shape[0])
    cols = min(first.values.shape[1], second.values.shape[1])
    return first.values[:rows, :cols], second.values[:rows, :cols]


def test_orientation_legend_bars_are_30_degree_steps(data_host):
    from topobench.reference_data.nauhaus2012 import LEGEND_ORIENTATIONS_DEG, orientation_legend
    bars = orientation_legend()
    assert [bar["orientation_deg"] for bar in bars] == list(LEGEND_ORIENTATIONS_DEG)
    for bar in bars:  # the bars' drawn axes agree with the 30 deg steps used
        assert absolute_difference(bar["measured_axis_deg"], bar["orientation_deg"], 180.0) < 3.0
    hues = [bar["hue_deg"] for bar in bars]
    assert hues[0] > 350 and hues[-1] > 350  # red at top and bottom
    assert 50 < hues[1] < 70 and 170 < hues[3] < 200  # yellow, cyan


def test_hue_to_orientation_through_the_legend(data_host):
    from topobench.reference_data.nauhaus2012 import hue_to_orientation, orientation_legend
    bars = orientation_legend()
    for bar in bars[:-1]:  # the last bar repeats the first's red: its hue is 1 deg off
        assert absolute_difference(hue_to_orientation(bar["hue_deg"], bars), bar["orientation_deg"], 180) < 1e-6
    assert absolute_difference(hue_to_orientation(bars[-1]["hue_deg"], bars), 90.0, 180) < 1.0
    # halfway between the yellow (60 deg) and green (30 deg) bars' hues
    middle = 0.5 * (bars[1]["hue_deg"] + bars[2]["hue_deg"])
    assert float(hue_to_orientation(middle, bars)) == pytest.approx(45.0, abs=1e-6)


def test_sf_colorbar_is_log_scaled_from_8_to_half(data_host):
    from topobench.reference_data.nauhaus2012 import sf_colorbar
    colors, sf = sf_colorbar()
    assert sf[0] == pytest.approx(8.0, rel=0.03) and sf[-1] == pytest.approx(0.5, rel=0.03)
    assert np.all(np.diff(sf) <= 0)
    inside = (sf > 0.5) & (sf < 8.0)  # the bar's last rows lie a pixel or two beyond the ticks' 0.5: clipped
    assert inside.mean() > 0.98
    steps = np.diff(np.log2(sf[inside]))
    assert np.allclose(steps, -1 / 98.0, rtol=0.03)  # linear in log2 SF: one octave per ~98 rows
    assert colors[0, 0] > colors[0, 2] and colors[-1, 2] > colors[-1, 0]  # dark red on top, blue at the bottom


def test_scale_and_panel_sizes(maps):
    from topobench.reference_data.nauhaus2012 import MM_PER_PX
    assert MM_PER_PX == pytest.approx(0.5 / 243.5)
    for letter in "abcd":
        assert maps[letter].width_mm == pytest.approx(0.77, abs=0.03)
    for letter in "efgh":
        assert 0.85 < maps[letter].width_mm < 0.98


def test_decoded_maps_are_plausible(maps):
    for letter, decoded in maps.items():
        values = decoded.masked_values()
        assert np.isfinite(values).all() and values.size == decoded.mask.sum()
        assert np.isnan(decoded.values[~decoded.mask]).all()
        assert 0.45 < decoded.mask.mean() < 0.97, letter  # site 2 is half black background
        assert decoded.positions_mm().shape == (values.size, 2)
        if decoded.kind == "orientation":
            assert values.min() >= 0 and values.max() < 180
            # one hypercolumn: every 30 deg sector of orientation is present, spread widely
            counts = np.histogram(values, bins=np.arange(0, 181, 30))[0]
            assert (counts > 0.03 * values.size).all(), letter
            assert preference_spread(values, 180.0) > 0.6
        else:
            assert values.min() >= 0.5 - 1e-9 and values.max() <= 8.0 + 1e-9
            assert 1.0 < np.median(values) < 4.0
            assert np.log2(values).std() > 0.4


def test_background_is_masked(maps):
    # the black corner top right of panel a and the dark background of e are outside the mask
    a, e = maps["a"], maps["e"]
    assert not a.mask[5:20, -30:-10].any()
    assert not e.mask[:20, :20].any()
    assert a.mask[150:250, 100:250].mean() > 0.99  # the imaged field (a few greyish pixels have no hue)


def test_two_planes_of_one_site_agree_strongly(maps):
    """Top and bottom planes of a site (same columns at two depths) decode to agreeing maps;
    different sites do not."""
    rng = np.random.default_rng(0)
    for first, second in (("a", "b"), ("e", "f")):
        one, two = _common(maps[first], maps[second])
        both = np.isfinite(one) & np.isfinite(two)
        difference = absolute_difference(one[both], two[both], 180).mean()
        shuffled = absolute_difference(one[both], rng.permutation(two[both]), 180).mean()
        assert difference < 0.45 * shuffled  # measured: 13 and 16 deg against 43 and 44
    for first, second in (("c", "d"), ("g", "h")):
        one, two = _common(maps[first], maps[second])
        both = np.isfinite(one) & np.isfinite(two)
        assert np.corrcoef(np.log2(one[both]), np.log2(two[both]))[0, 1] > 0.6  # measured 0.73, 0.72
    one, two = _common(maps["c"], maps["g"])
    both = np.isfinite(one) & np.isfinite(two)
    assert abs(np.corrcoef(np.log2(one[both]), np.log2(two[both]))[0, 1]) < 0.4


def test_provenance_is_kept(maps):
    provenance = maps["d"].provenance()
    assert provenance["panel"] == "d" and provenance["site"] == 1 and provenance["plane"] == "bottom"
    assert provenance["crop_box_px"] == list(maps["d"].box)
    assert "243.5 px" in provenance["scale"]


def test_unknown_panel(data_host):
    from topobench.reference_data.nauhaus2012 import decode_panel
    with pytest.raises(ValueError, match="panels a, b"):
        decode_panel("z")
