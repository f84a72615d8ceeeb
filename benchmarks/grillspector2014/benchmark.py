"""The organisation of category-selective patches in the model's VTC sheet against
the claims of Grill-Spector & Weiner (2014) about human ventral temporal cortex.

The model's VTC layer is recorded on the fLoc images without "scrambled"
(1,440 images, 10 categories; ``topobench.stimuli.floc``). Per unit and domain
(faces, bodies, characters, places, objects; each domain's two categories
pooled against the other domains): d' (``measure='dprime'``, default) or t on
144 images per category (``measure='t'``, TDANN's measure) —
``topobench.metrics.selectivity``. Maps are smoothed on the sheet and patches
found with ``topobench.metrics.patches`` (sigma 2.4 mm on TDANN's 70 mm sheet,
area 100 to 4,500 mm^2, at least 10 units). Thresholds are parameters; their
defaults are TDANN's t-thresholds converted to d' for fLoc's 288 "on" against
1,152 "off" images (t = 15.18 d' at equal variances): patches where the smoothed
map exceeds t = 2 (TDANN's ``ITMap.find_patches`` default) -> d' 0.132; a unit is
"selective" above t = 10 (TDANN's selectivity maps) -> d' 0.659.

**Four graded sub-scores**, each in [0, 1] (the claims and their sources:
``topobench.reference_data.grillspector2014``):

1. ``multiple_face_patches`` = min(number of face patches, 2) / 2: 0 without a
   face patch, 0.5 with one, 1 with two or more (human VTC: pFus- and mFus-faces).
2. ``bodies_between_faces`` = the largest, over pairs of face patches (centroids
   A, B) and body patches (centroid C), of max(0, -cos(angle ACB)): 1 when C lies
   on the segment AB, 0 when C lies on or outside the circle with diameter AB
   (Thales), in between otherwise; 0 with fewer than two face patches or no body
   patch.
3. ``characters_near_faces_and_bodies`` = the mean of the excess
   co-localisation of character-selective units with face-selective and with
   body-selective units, clipped to [0, 1].
4. ``places_far_from_faces`` = minus the excess co-localisation of place- and
   face-selective units, clipped to [0, 1].

Co-localisation: the Spearman correlation over 10 mm windows of the fractions
of selective units (``topobench.metrics.patches``). *Excess*: minus its mean
over ``n_shuffles`` shufflings of the units' positions. Fractions correlate
even without any spatial arrangement, because one unit's selectivities are not
independent (a place-selective unit has a low face d', places being among the
"other" images for faces): on a shuffled sheet, place and face fractions
correlate at about -0.3, which would otherwise score as "places far from
faces". A co-localisation that cannot be computed (no selective unit of a
domain, so that its fraction is 0 everywhere) counts 0 and is recorded as
None.

**Score**: raw = mean of the four sub-scores. The reference is a set of claims
from papers, not data with a reliability, so the ceiling is 1 and the score is
the raw value (details: ``reference_kind``, ``score_scaling``). **Error**: the
standard deviation of the raw value over ``n_resamples`` bootstrap resamples of
the images (within each category, with replacement; ``seed``), each re-running
selectivity, patches and co-localisation; every sub-score's own error likewise.
"""
from __future__ import annotations

import itertools

import numpy as np

from topobench.benchmark_base import FLOC_IMAGES, FLOC_STIMULI, VTC_PATCH_CONTROLS, Comparison, TopoBenchmark
from topobench.costs import FULL, Cost, Fit
from topobench.ceilings import PublishedClaims
from topobench.errors import ModelError
from topobench.metrics.patches import (TDANN_GRID_MM, TDANN_MAX_AREA_MM2, TDANN_MIN_AREA_MM2, TDANN_MIN_UNITS,
                                       TDANN_SIGMA_MM, colocalisation_vs_shuffled, find_patches)
from topobench.metrics.selectivity import (DOMAINS, FLOC_IMAGES_PER_CATEGORY, T_PER_DPRIME_FULL_FLOC,
                                           bootstrap_weights, domain_selectivity, selective_fractions)

IDENTIFIER = "GrillSpector2014.VTC-patch_organization"
REGION = "VTC"
COLOCALISATION_PAIRS = ("characters-faces", "characters-bodies", "places-faces", "bodies-faces")
SUB_SCORES = ("multiple_face_patches", "bodies_between_faces", "characters_near_faces_and_bodies",
              "places_far_from_faces")
#: TDANN's thresholds in t (288 on / 1,152 off fLoc images) and their d' equivalents.
TDANN_PATCH_T, TDANN_UNIT_T = 2.0, 10.0
DEFAULT_THRESHOLDS = {
    "dprime": {"patch": round(TDANN_PATCH_T / T_PER_DPRIME_FULL_FLOC, 3),
               "unit": round(TDANN_UNIT_T / T_PER_DPRIME_FULL_FLOC, 3)},
    "t": {"patch": TDANN_PATCH_T, "unit": TDANN_UNIT_T},
}

BIBTEX = """@article{grillspector2014functional,
  title={The functional architecture of the ventral temporal cortex and its role in categorization},
  author={Grill-Spector, Kalanit and Weiner, Kevin S.},
  journal={Nature Reviews Neuroscience},
  volume={15},
  number={8},
  pages={536--548},
  year={2014},
  doi={10.1038/nrn3747},
  url={https://doi.org/10.1038/nrn3747}
}
@article{weiner2010sparsely,
  title={Sparsely-distributed organization of face and limb activations in human ventral temporal cortex},
  author={Weiner, Kevin S. and Grill-Spector, Kalanit},
  journal={NeuroImage},
  volume={52},
  number={4},
  pages={1559--1573},
  year={2010}
}
@article{stigliani2015temporal,
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


def _none_if_nan(value):
    return None if value is None or not np.isfinite(value) else float(value)


def between_score(face_centroids, body_centroids) -> float:
    """max over face pairs (A, B) and body centroids C of max(0, -cos(angle ACB)); 0 if none."""
    best = 0.0
    for a, b in itertools.combinations([np.asarray(c, dtype=float) for c in face_centroids], 2):
        for c in body_centroids:
            c = np.asarray(c, dtype=float)
            ca, cb = a - c, b - c
            norms = np.linalg.norm(ca) * np.linalg.norm(cb)
            value = 1.0 if norms == 0 else max(0.0, -float(ca @ cb) / norms)
            best = max(best, value)
    return best


def organisation(selectivity: dict, positions, extent, patch_threshold: float, unit_threshold: float,
                 sigma_mm: float = TDANN_SIGMA_MM, min_area_mm2: float = TDANN_MIN_AREA_MM2,
                 max_area_mm2: float = TDANN_MAX_AREA_MM2, min_units: int = TDANN_MIN_UNITS,
                 grid_mm: float = TDANN_GRID_MM, window_mm: float = 10.0, min_units_per_window: int = 10,
                 n_shuffles: int = 50, seed: int = 0) -> dict:
    """The four sub-scores and what they are made of, from per-domain unit selectivity
    (``{domain: (n_units,)}``) and unit ``positions`` (n_units, 2) mm on a sheet of ``extent``."""
    positions = np.asarray(positions, dtype=float)
    patches = {domain: find_patches(values, positions, patch_threshold, domain, sigma_mm, min_area_mm2,
                                    max_area_mm2, min_units, grid_mm, extent)
               for domain, values in selectivity.items()}
    selective = {domain: values > unit_threshold for domain, values in selectivity.items()}

    def coloc(a, b):
        return colocalisation_vs_shuffled(selective[a], selective[b], positions, window_mm, extent,
                                          min_units_per_window, n_shuffles, seed)

    colocalisations = {pair: coloc(*pair.split("-")) for pair in COLOCALISATION_PAIRS}

    def excess(pair):
        value = colocalisations[pair]["excess"]
        return value if np.isfinite(value) else 0.0

    n_face = len(patches["faces"])
    sub_scores = {
        "multiple_face_patches": min(n_face, 2) / 2.0,
        "bodies_between_faces": between_score([p.centroid_mm for p in patches["faces"]],
                                              [p.centroid_mm for p in patches["bodies"]]),
        "characters_near_faces_and_bodies": float(np.clip(
            (excess("characters-faces") + excess("characters-bodies")) / 2.0, 0.0, 1.0)),
        "places_far_from_faces": float(np.clip(-excess("places-faces"), 0.0, 1.0)),
    }
    return {"sub_scores": sub_scores, "patches": patches, "colocalisations": colocalisations,
            "selective_fractions": selective_fractions(selectivity, unit_threshold)}


def _has_coordinate(assembly, name: str) -> bool:
    """Whether ``assembly`` has coordinate ``name``, also as a level of a MultiIndex dimension
    (BrainIO assemblies keep ``tissue_x`` as a level of ``neuroid``, not in ``.coords``)."""
    try:
        assembly[name]
    except KeyError:
        return False
    return True


class GrillSpector2014PatchOrganization(TopoBenchmark):
    """Four graded claims about category-selective patches in VTC (see the module docstring)."""

    identifier = IDENTIFIER
    version = 1
    region = REGION
    bibtex = BIBTEX
    datasets = ("floc",)
    family = "topography"
    report_only = False
    controls = VTC_PATCH_CONTROLS
    cost = Cost(images=FLOC_IMAGES, stimuli=FLOC_STIMULI, region=REGION, features=FULL, copies=3.0,
                fixed_seconds=2.0, fit=Fit("d' per unit and domain, patches and 50 shuffles of positions, on the "
                                           "images and 30 bootstrap resamples", "linear", repeats=31 * 5))

    def __init__(self, measure: str = "dprime", patch_threshold: float | None = None,
                 unit_threshold: float | None = None, sigma_mm: float = TDANN_SIGMA_MM,
                 min_area_mm2: float = TDANN_MIN_AREA_MM2, max_area_mm2: float = TDANN_MAX_AREA_MM2,
                 min_units: int = TDANN_MIN_UNITS, grid_mm: float = TDANN_GRID_MM, window_mm: float = 10.0,
                 min_units_per_window: int = 10, n_shuffles: int = 50, n_resamples: int = 30, seed: int = 0,
                 n_images_per_category: int = FLOC_IMAGES_PER_CATEGORY, stimuli=None):
        super().__init__()
        if measure not in DEFAULT_THRESHOLDS:
            raise ValueError(f"measure must be one of {sorted(DEFAULT_THRESHOLDS)}, got '{measure}'")
        self.selectivity_measure = measure  # 'dprime' or 't' (``measure`` is the step of TopoBenchmark)
        self.patch_threshold = float(DEFAULT_THRESHOLDS[measure]["patch"] if patch_threshold is None
                                     else patch_threshold)
        self.unit_threshold = float(DEFAULT_THRESHOLDS[measure]["unit"] if unit_threshold is None
                                    else unit_threshold)
        self.params = dict(sigma_mm=float(sigma_mm), min_area_mm2=float(min_area_mm2),
                           max_area_mm2=float(max_area_mm2), min_units=int(min_units), grid_mm=float(grid_mm),
                           window_mm=float(window_mm), min_units_per_window=int(min_units_per_window),
                           n_shuffles=int(n_shuffles))
        self.n_resamples = int(n_resamples)
        self.seed = int(seed)
        self.n_images_per_category = int(n_images_per_category)  # for t only
        self._stimuli = stimuli

    def make_ceiling(self) -> PublishedClaims:
        """1: the reference is a set of claims from papers, without a reliability; brain data entered as
        a model cannot be made."""
        return PublishedClaims()

    def make_stimuli(self):
        from topobench.stimuli.floc import floc_stimuli
        return floc_stimuli(include_scrambled=False)

    def _organisation(self, selectivity, positions, extent):
        return organisation(selectivity, positions, extent, self.patch_threshold, self.unit_threshold,
                            **self.params, seed=self.seed)

    def score_selectivity(self, responses, categories, positions, extent, extra_details: dict | None = None):
        """The score from responses (n_images, n_units), image categories and unit positions;
        the part of ``__call__`` after recording, usable on synthetic data."""
        return self.score(self.compare((responses, categories, positions, extent, extra_details)))

    def compare(self, measurement) -> Comparison:
        """(responses, categories, positions, extent, details) against the four claims."""
        responses, categories, positions, extent, extra_details = measurement
        responses = np.asarray(responses)
        categories = np.asarray(categories)
        selectivity = domain_selectivity(responses, categories, self.selectivity_measure, self.n_images_per_category,
                                         seed=self.seed)
        result = self._organisation(selectivity, positions, extent)
        rng = np.random.default_rng(self.seed)
        resampled = {name: [] for name in SUB_SCORES}
        for _ in range(self.n_resamples):
            weights = bootstrap_weights(categories, rng)
            again = self._organisation(domain_selectivity(responses, categories, self.selectivity_measure,
                                                          self.n_images_per_category, seed=self.seed,
                                                          weights=weights), positions, extent)
            for name in SUB_SCORES:
                resampled[name].append(again["sub_scores"][name])
        resampled = {name: np.array(values) for name, values in resampled.items()}
        raw = float(np.mean([result["sub_scores"][name] for name in SUB_SCORES]))
        raw_resampled = np.mean([resampled[name] for name in SUB_SCORES], axis=0) if self.n_resamples else None
        error = float(raw_resampled.std()) if self.n_resamples > 1 else float("nan")
        from topobench.reference_data.grillspector2014 import CLAIMS
        details = {
            "sub_scores": {name: float(result["sub_scores"][name]) for name in SUB_SCORES},
            "sub_score_errors": {name: float(resampled[name].std()) if self.n_resamples > 1 else None
                                 for name in SUB_SCORES},
            "sub_score_resample_means": {name: float(resampled[name].mean()) if self.n_resamples else None
                                         for name in SUB_SCORES},
            "patches": {domain: [p.summary() for p in found] for domain, found in result["patches"].items()},
            "n_patches": {domain: len(found) for domain, found in result["patches"].items()},
            "colocalisations": {pair: {k: _none_if_nan(v) for k, v in values.items()}
                                for pair, values in result["colocalisations"].items()},
            "selective_fractions": result["selective_fractions"],
            "measure": self.selectivity_measure,
            **({"n_images_per_category": self.n_images_per_category} if self.selectivity_measure == "t" else {}),
            "patch_threshold": self.patch_threshold,
            "unit_threshold": self.unit_threshold,
            "threshold_origin": ("TDANN's t > 2 (patches) and t > 10 (selective units) for 288 on / 1,152 off "
                                 "fLoc images, converted to d' by t = 15.18 d'" if self.selectivity_measure == "dprime"
                                 else f"TDANN's t > 2 (patches) and t > 10 (selective units), t on "
                                      f"{self.n_images_per_category} images per category"),
            **self.params,
            "sheet_extent_mm": [float(v) for v in extent],
            "n_units": int(responses.shape[1]),
            "n_images": int(responses.shape[0]),
            "n_resamples": self.n_resamples,
            "seed": self.seed,
            "reference_kind": "claims from papers (no data with a reliability): ceiling 1",
            **self.ceiling_object.describe(),
            "score_scaling": ("raw = mean of four sub-scores in [0, 1]: multiple_face_patches = min(n, 2) / 2; "
                              "bodies_between_faces = max over face-patch pairs (A, B) and body patches C of "
                              "max(0, -cos ACB); characters_near_faces_and_bodies = mean excess co-localisation "
                              "(Spearman over windows, minus its mean over shuffled positions) of characters "
                              "with faces and with bodies, clipped to [0, 1]; places_far_from_faces = minus the "
                              "excess co-localisation of places with faces, clipped to [0, 1]; score = raw / 1"),
            "reference_claims": CLAIMS,
            "domains": {domain: list(members) for domain, members in DOMAINS.items()},
        }
        details.update(extra_details or {})
        return Comparison(raw, error, details)

    def measure(self, recording, model, layer):
        """(responses, categories, unit positions (mm), sheet extent, details); a ``ModelError`` for
        units without positions."""
        assembly = recording
        identifier = getattr(model, "identifier", type(model).__name__)
        if not (_has_coordinate(assembly, "tissue_x") and _has_coordinate(assembly, "tissue_y")):
            raise ModelError(f"{IDENTIFIER} needs cortical positions (tissue_x, tissue_y in mm) of the units of "
                             f"VTC layer {layer}, but model {identifier} gives none; give positions")
        positions = np.stack([assembly["tissue_x"].values, assembly["tissue_y"].values], axis=1).astype(float)
        if not np.all(np.isfinite(positions)):
            raise ModelError(f"{IDENTIFIER}: model {identifier} has units without a position in its VTC layer "
                             f"{layer}; give positions for that layer")
        low, high = positions.min(axis=0), positions.max(axis=0)
        if hasattr(model, "layer_positions"):  # the whole sheet, [0, side] mm, as TDANN lays it out
            side = float(model.layer_positions(REGION).sheet_side_mm)
            low, high = np.minimum(low, 0.0), np.maximum(high, side)
        extent = (float(low[0]), float(high[0]), float(low[1]), float(high[1]))
        extra = {"layer": layer, "stimulus_set": getattr(self.stimuli, "identifier", None)}
        if "positions_by_default" in assembly.attrs:
            extra["positions_by_default"] = bool(assembly.attrs["positions_by_default"])
        return assembly.values, assembly["category"].values, positions, extent, extra
