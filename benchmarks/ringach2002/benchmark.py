"""Orientation selectivity of V1 units against Ringach, Shapley & Hawken (2002).

The model's V1 layer is recorded on TDANN's grating set
(``topobench.stimuli.gratings.sine_gratings``, 8 orientations x 8 spatial
frequencies x 5 phases x 2 colours). For each unit, from the black/white
gratings only: the preferred spatial frequency (argmax of the response averaged
over orientation and phase), the tuning curve at that frequency averaged over
phase, and its closed-form circular variance (negative responses clipped to 0),
as Ringach et al. measured cells (DESIGN.md, "Gratings and tuning (V1)").
Responsive units: mean b/w response above ``relative_threshold`` x the 99th
percentile of the layer's unit means (TDANN used an absolute 1.0).

Score (DESIGN.md, "Ringach 2002 comparison"): for each of ``n_splits`` random
splits of the 26 animals into halves A and B (``seed``),
ceiling_s = 1 - KS(cells of A, cells of B) and
raw_s = 1 - KS(|A| responsive units drawn with replacement, cells of B); raw
and ceiling are the means over splits, the score raw / ceiling clipped to
[0, 1], the error the std over splits of raw_s / ceiling. The ceiling is
``topobench.ceilings.SplitByAnimal`` (1 = as close to the macaque cells as the
cells of one more half of the animals are), which also computes the raw side on
the same splits. Cells of held-out animals entered as a model
(:meth:`RingachOrientationSelectivity.score_values` with the other animals as
``reference``) score about 1.00 (0.996 +- 0.038, 0.92 to 1.05 over 10 draws;
test.py); the same cells with every circular variance raised by 0.1 about 0.92,
by 0.2 about 0.78; an untuned population (CV 0.9 to 1) about 0.1
(tests/test_distribution_similarity.py).
"""
from __future__ import annotations

import numpy as np
from brainscore_core.metrics import Score

from topobench.benchmark_base import RESPONSES_NO_CONTROLS, V1_GRATINGS_COST, Comparison, TopoBenchmark
from topobench.ceilings import SplitByAnimal
from topobench.errors import ModelError
from topobench.metrics.orientation_tuning import grating_tuning, responsive_threshold, responsive_units

IDENTIFIER = "Ringach2002.V1-orientation_selectivity"
REGION = "V1"
HISTOGRAM_EDGES = np.linspace(0.0, 1.0, 21)  # bins of 0.05 over [0, 1]

BIBTEX = """@article{ringach2002orientation,
  title={Orientation selectivity in macaque V1: diversity and laminar dependence},
  author={Ringach, Dario L. and Shapley, Robert M. and Hawken, Michael J.},
  journal={Journal of Neuroscience},
  volume={22},
  number={13},
  pages={5639--5651},
  year={2002},
  doi={10.1523/JNEUROSCI.22-13-05639.2002},
  url={https://doi.org/10.1523/JNEUROSCI.22-13-05639.2002}
}"""


def _histogram(values) -> list:
    counts, _ = np.histogram(np.clip(values, 0.0, 1.0), bins=HISTOGRAM_EDGES)
    return counts.astype(int).tolist()


class RingachOrientationSelectivity(TopoBenchmark):
    """Distribution of circular variance of responsive V1 units vs. macaque V1 cells."""

    identifier = IDENTIFIER
    version = 1
    region = REGION
    bibtex = BIBTEX
    datasets = ("ringach2002_v1",)  # the gratings are generated, not downloaded
    family = "responses"
    report_only = False
    no_controls_reason = RESPONSES_NO_CONTROLS
    cost = V1_GRATINGS_COST  # the V1 map benchmarks' recording and tuning

    def __init__(self, relative_threshold: float = 0.1, n_splits: int = 100, seed: int = 0, reference=None):
        super().__init__()
        self.relative_threshold = float(relative_threshold)
        self.n_splits = int(n_splits)
        self.seed = int(seed)
        self._reference = reference  # a table like load_ringach2002()'s, e.g. to hold animals out in tests

    @property
    def reference(self):
        """The 308 cells (``topobench.reference_data.ringach2002``), loaded on first use
        (or the ``reference`` table given)."""
        if self._reference is None:
            from topobench.reference_data.ringach2002 import load_ringach2002
            self._reference = load_ringach2002()
        return self._reference

    def make_ceiling(self) -> SplitByAnimal:
        """Halves of the animals, the same for every model: mean over splits of 1 - KS(half A, half B)."""
        return SplitByAnimal(self.reference["circular_variance"].to_numpy(), self.reference["animal"].to_numpy(),
                             self.n_splits, self.seed)

    @property
    def split_by_animal(self) -> SplitByAnimal:
        """The ceiling object (:attr:`ceiling_object`)."""
        return self.ceiling_object

    def make_stimuli(self):
        from topobench.stimuli.gratings import sine_gratings
        return sine_gratings()

    def measure(self, recording, model, layer):
        """(circular variances of the responsive units, details)."""
        tuning = grating_tuning(recording, color="bw")
        mean_response = tuning["mean_response"].to_numpy()
        responsive = responsive_units(mean_response, self.relative_threshold)
        variance = tuning["circular_variance"].to_numpy()[responsive]
        variance = variance[np.isfinite(variance)]
        threshold = responsive_threshold(mean_response, self.relative_threshold)
        if variance.size == 0:
            identifier = getattr(model, "identifier", type(model).__name__)
            raise ModelError(f"{IDENTIFIER}: no responsive unit in V1 layer {layer} of model "
                             f"{identifier}: no unit's mean response to the black/white gratings exceeds "
                             f"{self.relative_threshold} x the layer's 99th percentile ({threshold:.4g}); "
                             f"the layer may be silent for gratings or the wrong layer for V1")
        details = {
            "layer": layer,
            "n_units": int(len(tuning)),
            "n_responsive": int(responsive.sum()),
            "n_responsive_scored": int(variance.size),
            "relative_threshold": self.relative_threshold,
            "threshold": threshold,
            "threshold_rule": "mean b/w grating response > relative_threshold x 99th percentile of the layer",
            "preferred_sf_cpd_counts": {f"{value:g}": int(count) for value, count in
                                        tuning["preferred_sf_cpd"][responsive].value_counts().sort_index().items()},
        }
        if "positions_by_default" in recording.attrs:
            details["positions_by_default"] = bool(recording.attrs["positions_by_default"])
        return variance, details

    def compare(self, measurement) -> Comparison:
        """Circular variances (one per unit or cell) against the cells, on the ceiling's splits."""
        variance, details = measurement
        variance = np.asarray(variance, dtype=float)
        variance = variance[np.isfinite(variance)]
        cells = self.reference
        macaque = cells["circular_variance"].to_numpy()
        result = self.split_by_animal.compare(variance)
        details = dict(details or {})
        details.update({
            "n_splits": self.n_splits,
            "seed": self.seed,
            "histogram_bin_edges": HISTOGRAM_EDGES.round(2).tolist(),
            "model_cv_histogram": _histogram(variance),
            "macaque_cv_histogram": _histogram(macaque),
            "model_median_cv": float(np.median(variance)),
            "macaque_median_cv": float(np.median(macaque)),
            "n_macaque_cells": int(macaque.size),
            "n_macaque_animals": int(cells["animal"].nunique()),
            "splits": result.summary(),
            "unceiled_ratio": float(result.ceiled),
            **self.split_by_animal.describe(),
        })
        return Comparison(result.raw, result.error, details, ceiling=result.ceiling)

    def score_values(self, variance, details: dict | None = None) -> Score:
        """The score of circular variances (one per unit or cell): the part of ``__call__``
        after measuring, usable on brain data (cells of animals held out of ``reference``)."""
        return self.score(self.compare((variance, details)))
