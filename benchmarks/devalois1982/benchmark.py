"""Cardinal bias of preferred orientations in V1 (De Valois, Yund & Hepler 1982).

Measurement. The closed-form preferred orientation of each responsive V1 unit
(``topobench.metrics.v1_maps``: black/white gratings at the unit's preferred
spatial frequency, averaged over phase) is classed as cardinal (within 22.5 deg
of horizontal or vertical) or oblique (within 22.5 deg of 45 or 135 deg)
(``topobench.metrics.orientation_histogram``); the 8-bin histogram of
preferences is kept in ``details``. Note that the grating set samples 8
orientations, 4 cardinal-class and 4 oblique-class, so the stimuli do not
favour either class.

Score. De Valois et al. (1982) report more horizontal and vertical than oblique
preferred orientations (foveal and high spatial-frequency subsamples), with no
proportion that can be cited with confidence
(``topobench.reference_data.devalois1982``). The benchmark therefore tests the
direction only: 1 when cardinal preferences outnumber oblique ones by at least
``min_ratio`` (1.1: a bias, not the 50.6 % of cardinal preferences that a map
with uniformly drawn preferences measures through the 8-orientation grating
set) at one-sided binomial p < ``alpha``, else 0. Version 2 adds the effect
size: with 100,352 units the test alone called that 0.6 % excess a bias
(the salt-and-pepper control scored 1). It is **report-only**
(``report_only`` True, also in ``details``): its score is kept out of every
aggregate (issue 4).
"""
from __future__ import annotations

import numpy as np

from topobench.benchmark_base import Comparison, V1MapBenchmark
from topobench.ceilings import PublishedClaims
from topobench.metrics.orientation_histogram import cardinal_bias, orientation_histogram

IDENTIFIER = "DeValois1982.V1-cardinal_bias"

BIBTEX = """@article{devalois1982orientation,
  title={The orientation and direction selectivity of cells in macaque visual cortex},
  author={De Valois, Russell L. and Yund, E. William and Hepler, Norva},
  journal={Vision Research},
  volume={22},
  number={5},
  pages={531--544},
  year={1982},
  note={PubMed 7112953}
}"""


class DeValoisCardinalBias(V1MapBenchmark):
    """More V1 units preferring cardinal than oblique orientations (report-only)."""

    identifier = IDENTIFIER
    version = 2
    bibtex = BIBTEX
    no_datasets_reason = ("the reference is a qualitative claim from the paper "
                          "(topobench.reference_data.devalois1982); the gratings are generated")
    report_only = True

    def __init__(self, half_width_deg: float = 22.5, alpha: float = 0.05, min_ratio: float = 1.1, relative_threshold: float = 0.1,
                 seed: int = 0):
        super().__init__()
        self.half_width_deg = float(half_width_deg)
        self.alpha = float(alpha)
        self.min_ratio = float(min_ratio)
        self.relative_threshold = float(relative_threshold)
        self.seed = int(seed)  # nothing here is random; kept for the uniform provenance of scores

    def make_ceiling(self) -> PublishedClaims:
        """1: the reference is a qualitative claim."""
        return PublishedClaims()

    def measure(self, recording, model, layer):
        """(preferred orientations of the responsive units, details)."""
        maps = super().measure(recording, model, layer)
        return maps.orientation_deg, {**self.map_details(maps), **maps.attrs}

    def compare(self, measurement) -> Comparison:
        from topobench.reference_data.devalois1982 import CITATION, CLAIM
        orientation_deg, details = measurement
        orientation_deg = np.asarray(orientation_deg, dtype=np.float64)
        bias = cardinal_bias(orientation_deg, self.half_width_deg)
        counts, centres = orientation_histogram(orientation_deg)
        ratio = bias["n_cardinal"] / max(bias["n_oblique"], 1)
        raw = 1.0 if ratio >= self.min_ratio and bias["p_value"] < self.alpha else 0.0
        details = dict(details or {})
        details.update({
            **bias, "alpha": self.alpha, "cardinal_to_oblique": ratio, "min_ratio": self.min_ratio,
            "orientation_histogram": counts.astype(int).tolist(),
            "orientation_bin_centers_deg": centres.tolist(),
            "report_only": True,
            "report_only_reason": "no cardinal-to-oblique proportion can be cited with confidence; direction only",
            "claim": CLAIM, "reference": CITATION,
            "score_scale": (f"1 if cardinal / oblique >= {self.min_ratio} at one-sided binomial p < {self.alpha}, "
                            f"else 0"),
            **self.ceiling_object.describe(),
        })
        return Comparison(raw, 0.0, details)

    def score_preferences(self, orientation_deg, details=None):
        """The score of preferred orientations (deg), one per unit."""
        return self.score(self.compare((orientation_deg, details)))
