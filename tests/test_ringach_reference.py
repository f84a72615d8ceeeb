"""The Ringach, Shapley & Hawken (2002) reference cells as loaded from the data host."""
import numpy as np
import pytest

from topobench.reference_data.ringach2002 import load_ringach2002


@pytest.fixture(scope="module")
def cells():
    return load_ringach2002()


def test_308_cells_from_26_animals(cells):
    assert len(cells) == 308
    assert cells["cell"].tolist() == list(range(308))
    assert cells["animal"].nunique() == 26
    counts = cells["animal"].value_counts()
    assert counts.min() == 1 and counts.max() == 25
    assert cells["animal"].str.fullmatch(r"M[A-Z]\d").all()


def test_circular_variance_values(cells):
    cv = cells["circular_variance"].to_numpy()
    assert cv.dtype == float and np.isfinite(cv).all()
    assert ((cv >= 0) & (cv <= 1)).all()
    # broad distribution (Ringach et al. 2002, Fig. 2); the file's median is 0.605, mean 0.559
    assert np.median(cv) == pytest.approx(0.605, abs=0.01)
    assert cv.min() < 0.1 and cv.max() > 0.95
    assert np.mean(cv) == pytest.approx(0.559, abs=0.01)


def test_other_fields_are_consistent(cells):
    # median bandwidth 23.5 deg in the file; 180 marks cells whose curve never falls to 1/sqrt(2)
    bandwidth = cells["bandwidth_deg"].to_numpy()
    assert np.median(bandwidth) == pytest.approx(23.5)
    assert bandwidth.max() == 180.0
    # well-tuned cells (narrow bandwidth) have lower circular variance
    narrow = bandwidth < np.median(bandwidth)
    assert cells["circular_variance"][narrow].median() < cells["circular_variance"][~narrow].median()
    # po is the orthogonal / preferred response ratio, not an angle
    ratio = cells["orthogonal_to_preferred_ratio"]
    assert ratio.between(0, 1).all()
    assert np.corrcoef(ratio, cells["circular_variance"])[0, 1] > 0.5
    assert (cells["min_rate"] <= cells["max_rate"]).all()
