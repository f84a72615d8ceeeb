"""The fraction of VTC units selective for each fLoc domain (report-only).

Measurement. The model's VTC layer is recorded on the fLoc images without
"scrambled" (1,440 images, 10 categories; ``topobench.stimuli.floc``), and per
unit and domain (faces, bodies, characters, places, objects; each domain's two
categories pooled against the other domains) the selectivity d' is computed
(``topobench.metrics.selectivity``), as ``GrillSpector2014.VTC-patch_organization``
does. A unit is selective for a domain above ``threshold`` (default d' 0.659:
TDANN's t > 10 for 288 on / 1,152 off fLoc images, converted by t = 15.18 d').
Error of each fraction: the standard deviation over ``n_resamples`` bootstrap
resamples of the images within each category (``seed``).

Score. The fractions depend on the threshold, and no human fraction can be
cited with confidence (``topobench.reference_data.stigliani2015``), so the
benchmark is **report-only**: its value is the fraction of units selective for
at least one of the four domains that have human VTC regions (faces, bodies,
characters, places), ceiling 1, and it enters no aggregate. ``details`` keep
the per-domain fractions, their errors, and the fraction selective for two or
more domains.
"""
from __future__ import annotations

import numpy as np

from topobench.benchmark_base import FLOC_IMAGES, FLOC_STIMULI, Comparison, TopoBenchmark
from topobench.costs import FULL, Cost, Fit
from topobench.ceilings import PublishedClaims
from topobench.metrics.selectivity import DOMAINS, T_PER_DPRIME_FULL_FLOC, bootstrap_weights, domain_selectivity

IDENTIFIER = "Stigliani2015.VTC-category_selectivity"
REGION = "VTC"
VERSION = 1
HUMAN_REGION_DOMAINS = ("faces", "bodies", "characters", "places")
DEFAULT_THRESHOLD = round(10.0 / T_PER_DPRIME_FULL_FLOC, 3)

BIBTEX = """@article{stigliani2015temporal,
  title={Temporal processing capacity in high-level visual cortex is domain specific},
  author={Stigliani, Anthony and Weiner, Kevin S. and Grill-Spector, Kalanit},
  journal={Journal of Neuroscience},
  volume={35},
  number={36},
  pages={12412--12424},
  year={2015},
  doi={10.1523/JNEUROSCI.4822-14.2015},
  url={https://doi.org/10.1523/JNEUROSCI.4822-14.2015}
}"""


def _fractions(selectivity: dict, threshold: float) -> tuple[dict, float, float]:
    selective = {domain: values > threshold for domain, values in selectivity.items()}
    per_domain = {domain: float(mask.mean()) for domain, mask in selective.items()}
    count = np.sum([selective[d] for d in HUMAN_REGION_DOMAINS], axis=0)
    return per_domain, float(np.mean(count >= 1)), float(np.mean(count >= 2))


class Stigliani2015CategorySelectivity(TopoBenchmark):
    """Fractions of VTC units selective for faces, bodies, characters, places and objects."""

    identifier = IDENTIFIER
    version = VERSION
    region = REGION
    bibtex = BIBTEX
    datasets = ("floc",)
    family = "topography"
    report_only = True
    no_controls_reason = ("measures how many units are selective, not where they lie; no registered control has "
                          "a known fraction of selective units")
    cost = Cost(images=FLOC_IMAGES, stimuli=FLOC_STIMULI, region=REGION, features=FULL, copies=3.0,
                fixed_seconds=4.0, fit=Fit("d' per unit and domain, on the images and 20 bootstrap resamples",
                                           "linear", repeats=21 * 5))

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, n_resamples: int = 20, seed: int = 0,
                 stimuli=None):
        super().__init__()
        self.threshold = float(threshold)
        self.n_resamples = int(n_resamples)
        self.seed = int(seed)
        self._stimuli = stimuli

    def make_ceiling(self) -> PublishedClaims:
        """1: no human fraction with a reliability."""
        return PublishedClaims()

    def make_stimuli(self):
        from topobench.stimuli.floc import floc_stimuli
        return floc_stimuli()

    def measure(self, recording, model, layer):
        """(responses (images x units), image categories, details)."""
        return (recording.values, recording["category"].values,
                {"layer": layer, "stimulus_set": getattr(self.stimuli, "identifier", None)})

    def compare(self, measurement) -> Comparison:
        from topobench.reference_data.stigliani2015 import CITATION, CLAIM, HUMAN_FRACTIONS
        responses, categories, details = measurement
        responses = np.asarray(responses, dtype=np.float64)
        categories = np.asarray(categories).astype(str)
        per_domain, any_domain, several = _fractions(domain_selectivity(responses, categories), self.threshold)
        rng = np.random.default_rng(self.seed)
        resampled = [_fractions(domain_selectivity(responses, categories,
                                                   weights=bootstrap_weights(categories, rng)), self.threshold)
                     for _ in range(self.n_resamples)]
        error = float(np.std([r[1] for r in resampled])) if resampled else float("nan")
        details = dict(details or {})
        details.update({
            "selective_fractions": per_domain,
            "selective_fraction_errors": {d: float(np.std([r[0][d] for r in resampled])) if resampled
                                          else None for d in DOMAINS},
            "fraction_selective_any_of": {"domains": list(HUMAN_REGION_DOMAINS), "value": any_domain},
            "fraction_selective_two_or_more": several,
            "measure": "dprime", "threshold": self.threshold,
            "threshold_origin": "TDANN's t > 10 for 288 on / 1,152 off fLoc images, converted to d' by t = 15.18 d'",
            "n_units": int(responses.shape[1]), "n_images": int(responses.shape[0]),
            "n_resamples": self.n_resamples, "seed": self.seed,
            "human_fractions": HUMAN_FRACTIONS,
            "report_only": True,
            "report_only_reason": "fractions depend on the threshold and no human fraction can be cited with "
                                  "confidence",
            "claim": CLAIM, "reference": CITATION,
            "score_scale": "fraction of units selective (d' > threshold) for faces, bodies, characters or places",
            **self.ceiling_object.describe(),
        })
        return Comparison(any_domain, error, details)

    def score_responses(self, responses, categories, details=None):
        """The score of responses (images x units) to images of ``categories``."""
        return self.score(self.compare((responses, categories, details)))
