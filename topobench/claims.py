"""The seed's eight claims of TDANN, measured on a model against its control.

``topobench claims MODEL CONTROL [--out leaderboard/claims/<MODEL>.json]`` writes a JSON file
and a figure (the PNG beside it, one row per claim). TDANN (Margalit et al. 2024, Neuron) claims
that the spatial loss, during representation learning, produces the maps of the ventral stream:
(1) smooth orientation maps, (2) spatial-frequency clustering, (3) colour blobs and (4) a
cardinal bias in V1; (5) several face patches, (6) body patches between face patches,
(7) character (word) patches near faces and bodies and (8) place selectivity far from faces in
VTC. For each claim the file holds a number with a 95 % interval for the model and for its
control (the same network trained without the spatial loss), the test that decides it, and
whether it holds. A claim that cannot be measured on a model (a region the model does not
commit to, too few responsive units, no selective unit of a domain) gets the reason instead
of a number, and is not decided.

**Recordings.** Each model is recorded once on the 640 gratings (its V1 layer;
``topobench.metrics.v1_maps``, responsive units as every V1 benchmark keeps them) and once on
the fLoc images without "scrambled" (its VTC layer; as ``GrillSpector2014.VTC-patch_organization``
records it); the activations come from the activation cache when present. All eight claims
are computed from these two recordings.

**Measures** (each reuses the suite's own measurement):

1. ``compare-tdann``'s orientation smoothness (:mod:`topobench.tdann.compare`): mean |difference
   in preferred orientation| of pairs of responsive units of *different channels* at 0-0.5 mm,
   divided by the same for random pairs (shuffled positions). 1: no map; lower: smoother.
2. The same for log2 preferred spatial frequency (the measure of ``Nauhaus2012.V1-sf_smoothness``,
   in mm as ``compare-tdann``).
3. The colour clustering index of ``LivingstoneHubel1984.V1-color_clustering``
   (:mod:`topobench.metrics.color_clustering`: 1 - mean shuffle-normalised |difference| of the
   colour preference index over pairs of different channels closer than 0.2 column widths,
   the column width from :mod:`topobench.metrics.map_scale`) minus its mean at shuffled
   positions (its shuffled null, ``n_shuffles`` permutations of the full map).
4. ``DeValois1982.V1-cardinal_bias``'s statistic: responsive units preferring cardinal
   orientations (within 22.5 deg of 0 or 90) over those preferring oblique ones.
5. ``GrillSpector2014.VTC-patch_organization``'s face patches (d' per unit, smoothed on the
   sheet at 2.4 mm, above d' 0.132, 100-4,500 mm^2, >= 10 units): their number.
6. Its ``bodies_between_faces``: the largest, over pairs of face patches (A, B) and body
   patches C, of max(0, -cos ACB) (1: C on the segment AB; 0: C outside the circle of
   diameter AB, or fewer than two face patches, or no body patch).
7. Its excess co-localisation (Spearman over 10 mm windows of the fractions of units with
   d' > 0.659, minus the mean over 50 shufflings of the positions) of characters with faces
   and with bodies, averaged (not clipped).
8. Minus its excess co-localisation of places with faces (not clipped): positive when place
   selectivity avoids face selectivity.

**Intervals.** V1 (claims 1-4): 2.5 and 97.5 percentiles of the measure over ``n_resamples``
half-samples of the responsive units (random halves without replacement, seeded; the same
halves for the four claims; half-sampling reproduces the bootstrap variance of the full-sample
statistic, Efron 1982, ch. 8), as ``compare-tdann``. VTC (claims 5-8): percentiles over
``n_resamples`` bootstrap resamples of the fLoc images (within each category, with replacement,
seeded), each re-running selectivity, patches and co-localisation, as the GrillSpector
benchmark's error; units are not resampled there, since patch counts and areas depend on
unit density. Percentile intervals need not contain the full-sample value where resampling
shifts the statistic (a bootstrap resample of the images adds noise to every d', which weakens
co-localisation); the JSON keeps both, and the figure draws them apart.

**Tests.** Each claim declares two parts (``test_rule``), and holds when both do:
``shows_property`` (the model shows it, against a fixed reference) and ``beats_control``
(more than its control, in the claim's direction). Claims 1-4, 7 and 8 are decided on the
intervals (the model's interval beyond the reference, and not overlapping the control's);
claims 5 and 6, whose measures are patch geometry found in the full data, on the point values
(intervals reported). A part that cannot be evaluated (a value missing) is None, and so is
``holds`` unless the other part is False.
"""
from __future__ import annotations

import json
import operator
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from topobench.errors import ModelError, TopobenchError
from topobench.results import rounded_jsonable

#: The distance bins (mm) of ``compare-tdann``; claims 1 and 2 read the first.
BIN_EDGES_MM = (0.0, 0.5, 1.0, 2.0)
#: At least this many responsive V1 units for a map (as ``V1MapBenchmark.min_responsive``).
MIN_RESPONSIVE = 10
#: A colour map whose indices vary less than this (s.d.) is constant (as LivingstoneHubel1984).
CONSTANT_SPREAD = 1e-6
DEFAULT_OUT_FOLDER = Path("leaderboard") / "claims"

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


@dataclass(frozen=True)
class Claim:
    """One claim, its measure and the test that decides it.

    ``shows``: (statistic of the model: 'value', 'lower' or 'upper' of its interval; operator;
    reference); ``beats``: (statistic of the model; operator; statistic of the control)."""

    number: int
    key: str
    claim: str
    region: str
    measure: str
    unit: str
    shows: tuple
    beats: tuple
    source: str

    @property
    def decided_on(self) -> str:
        return "point values" if self.shows[0] == "value" else "95 % intervals"

    def test_text(self) -> str:
        names = {"value": "value", "lower": "interval's lower bound", "upper": "interval's upper bound"}
        (stat, op, reference), (mine, op2, theirs) = self.shows, self.beats
        return (f"holds if the model's {names[stat]} {op} {reference:g} (shows the property) and the model's "
                f"{names[mine]} {op2} the control's {names[theirs]} (more than its control)")

    def rule(self) -> dict:
        return {"shows_property": {"model": self.shows[0], "op": self.shows[1], "reference": self.shows[2]},
                "beats_control": {"model": self.beats[0], "op": self.beats[1], "control": self.beats[2]},
                "decided_on": self.decided_on}


V1_INTERVAL = ("2.5 and 97.5 percentiles over half-samples of the responsive V1 units (random halves without "
               "replacement, seeded; the same halves for claims 1-4)")
VTC_INTERVAL = ("2.5 and 97.5 percentiles over bootstrap resamples of the fLoc images (within each category, "
                "with replacement, seeded), each re-running selectivity, patches and co-localisation")

CLAIMS = (
    Claim(1, "v1_orientation_smoothness", "smooth orientation maps in V1", "V1",
          "mean |difference in preferred orientation| of responsive units of different channels 0-0.5 mm apart, "
          "divided by that of random pairs (compare-tdann's first-bin ratio; 1: no map, lower: smoother)",
          "ratio to shuffled positions", ("upper", "<", 1.0), ("upper", "<", "lower"),
          "topobench.tdann.compare (compare-tdann); topobench.metrics.smoothness.difference_curve"),
    Claim(2, "v1_sf_clustering", "spatial-frequency clustering in V1", "V1",
          "mean |difference in log2 preferred spatial frequency| of responsive units of different channels "
          "0-0.5 mm apart, divided by that of random pairs (1: no clustering, lower: clustered)",
          "ratio to shuffled positions", ("upper", "<", 1.0), ("upper", "<", "lower"),
          "Nauhaus2012.V1-sf_smoothness's measure, in compare-tdann's mm bins"),
    Claim(3, "v1_colour_blobs", "colour blobs in V1", "V1",
          "colour clustering index (1 - mean shuffle-normalised |difference| of the colour preference index over "
          "pairs of different channels closer than 0.2 column widths) minus its mean at shuffled positions",
          "clustering index above the shuffled null", (("lower", ">=", 0.1)), ("lower", ">", "upper"),
          "LivingstoneHubel1984.V1-color_clustering's clustering gate (min_clustering 0.1); "
          "topobench.metrics.color_clustering"),
    Claim(4, "v1_cardinal_bias", "cardinal bias in V1", "V1",
          "responsive V1 units preferring cardinal orientations (within 22.5 deg of 0 or 90 deg) over those "
          "preferring oblique ones (within 22.5 deg of 45 or 135 deg)",
          "cardinal / oblique", ("lower", ">=", 1.1), ("lower", ">", "upper"),
          "DeValois1982.V1-cardinal_bias (min_ratio 1.1); topobench.metrics.orientation_histogram"),
    Claim(5, "vtc_face_patches", "several face patches in VTC", "VTC",
          "number of face patches (face d' smoothed at 2.4 mm above 0.132, 100-4,500 mm^2, >= 10 units)",
          "patches", ("value", ">=", 2.0), ("value", ">", "value"),
          "GrillSpector2014.VTC-patch_organization (multiple_face_patches); topobench.metrics.patches"),
    Claim(6, "vtc_bodies_between_faces", "body patches between face patches", "VTC",
          "max over pairs of face patches (A, B) and body patches C of max(0, -cos ACB): 1 when C lies on the "
          "segment AB, 0 outside the circle of diameter AB or without two face patches and a body patch",
          "-cos ACB", ("value", ">=", 0.5), ("value", ">", "value"),
          "GrillSpector2014.VTC-patch_organization (bodies_between_faces); 0.5: angle ACB >= 120 deg"),
    Claim(7, "vtc_characters_near_faces_and_bodies", "word (character) patches near faces and bodies", "VTC",
          "mean of the excess co-localisation (Spearman over 10 mm windows of the fractions of units with "
          "d' > 0.659, minus its mean over 50 shuffled positions) of characters with faces and with bodies",
          "excess Spearman r", ("lower", ">", 0.0), ("lower", ">", "upper"),
          "GrillSpector2014.VTC-patch_organization (characters_near_faces_and_bodies, unclipped)"),
    Claim(8, "vtc_places_far_from_faces", "place selectivity far from faces", "VTC",
          "minus the excess co-localisation of place- and face-selective units (units with d' > 0.659; Spearman "
          "over 10 mm windows minus its mean over 50 shuffled positions)",
          "- excess Spearman r", ("lower", ">", 0.0), ("lower", ">", "upper"),
          "GrillSpector2014.VTC-patch_organization (places_far_from_faces, unclipped)"),
)
CLAIM_KEYS = tuple(c.key for c in CLAIMS)
#: The fields every claim's entry in the JSON has.
CLAIM_FIELDS = ("number", "key", "claim", "region", "measure", "unit", "interval_method", "test", "test_rule",
                "source", "model", "control", "shows_property", "beats_control", "holds", "verdict")
#: The fields of each side (model, control) of a claim.
SIDE_FIELDS = ("identifier", "value", "interval_95", "n_resamples", "reason", "details")


# ----------------------------------------------------------------------------- measurements

@dataclass
class Measured:
    """One measure of one model: a value with its 95 % interval, or the reason it has none."""

    value: float | None = None
    interval: list | None = None
    n_resamples: int = 0           # resamples with a finite value
    reason: str | None = None
    details: dict = field(default_factory=dict)

    @classmethod
    def refused(cls, reason: str, details: dict | None = None) -> "Measured":
        return cls(None, None, 0, reason, details or {})

    def stat(self, name: str):
        if self.value is None:
            return None
        if name == "value":
            return self.value
        if self.interval is None:
            return None
        return self.interval[0] if name == "lower" else self.interval[1]

    def summary(self, identifier: str) -> dict:
        return {"identifier": identifier, "value": _round(self.value),
                "interval_95": None if self.interval is None else [_round(v) for v in self.interval],
                "n_resamples": int(self.n_resamples), "reason": self.reason, "details": rounded_jsonable(self.details)}


def _round(value, digits: int = 4):
    if value is None:
        return None
    value = float(value)
    return round(value, digits) if np.isfinite(value) else None


def measured(value, resampled, details=None, reason_if_nan: str | None = None) -> Measured:
    """A :class:`Measured` from a full-sample value and its resampled values (percentile interval)."""
    resampled = np.asarray(resampled, dtype=np.float64)
    finite = resampled[np.isfinite(resampled)]
    if value is None or not np.isfinite(value):
        return Measured.refused(reason_if_nan or "the measure is undefined on this model", details)
    interval = np.percentile(finite, [2.5, 97.5]).tolist() if finite.size >= 2 else None
    return Measured(float(value), interval, int(finite.size), None, details or {})


@dataclass
class VTCData:
    """fLoc responses of a VTC layer (n_images, n_units), image categories, unit positions (mm), sheet extent."""

    responses: np.ndarray
    categories: np.ndarray
    positions: np.ndarray
    extent: tuple
    details: dict = field(default_factory=dict)


@dataclass
class Recordings:
    """What the claims need of one model: its V1 maps and its VTC responses, or why not."""

    identifier: str
    v1: object = None              # topobench.metrics.v1_maps.V1Maps
    v1_reason: str | None = None
    vtc: VTCData | None = None
    vtc_reason: str | None = None
    stimuli: dict = field(default_factory=dict)


def record(model, progress=None) -> Recordings:
    """Record ``model`` once on the gratings (V1) and once on fLoc (VTC); a ``ModelError`` (no such
    region, no positions, too few responsive units) becomes the reason of that region's claims."""
    from topobench.metrics.v1_maps import v1_maps_from_assembly
    from topobench.model_interface import require_region
    from topobench.stimuli.gratings import sine_gratings
    say = progress or (lambda message: None)
    identifier = getattr(model, "identifier", type(model).__name__)
    recordings = Recordings(identifier)
    try:
        require_region(model, "V1", "topobench claims 1-4")
        gratings = sine_gratings()
        recordings.stimuli["V1"] = gratings.identifier
        say(f"{identifier}: recording V1 on {len(gratings)} gratings")
        maps = v1_maps_from_assembly(model.record(gratings, "V1"), identifier, 0.1, "topobench claims 1-4")
        if maps.n_responsive < MIN_RESPONSIVE:
            raise ModelError(f"only {maps.n_responsive} responsive V1 units in model {identifier}; a map needs "
                             f"at least {MIN_RESPONSIVE}")
        recordings.v1 = maps
    except ModelError as error:
        recordings.v1_reason = str(error)
    try:
        from topobench.benchmarks.grillspector2014.benchmark import GrillSpector2014PatchOrganization
        from topobench.stimuli.floc import floc_stimuli
        layer = require_region(model, "VTC", "topobench claims 5-8")
        floc = floc_stimuli(include_scrambled=False)
        recordings.stimuli["VTC"] = floc.identifier
        say(f"{identifier}: recording VTC on {len(floc)} fLoc images")
        benchmark = GrillSpector2014PatchOrganization(stimuli=floc)
        responses, categories, positions, extent, extra = benchmark.measure(model.record(floc, "VTC"), model,
                                                                            layer)
        recordings.vtc = VTCData(np.asarray(responses), np.asarray(categories), np.asarray(positions, dtype=float),
                                 tuple(float(v) for v in extent), extra)
    except ModelError as error:
        recordings.vtc_reason = str(error)
    return recordings


def _halves(n: int, n_resamples: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    return [rng.choice(n, n // 2, replace=False) for _ in range(int(n_resamples))]


def _first_bin_ratio(positions, values, channels, period, seed: int) -> np.ndarray:
    from topobench.metrics.smoothness import difference_curve
    curve = difference_curve(positions, values, BIN_EDGES_MM, period=period, channels=channels, seed=seed)
    with np.errstate(invalid="ignore", divide="ignore"):
        return curve.mean_difference_other_channel / curve.shuffled_difference_other_channel


def measure_v1(maps, n_resamples: int = 100, seed: int = 0, n_shuffles: int = 5) -> dict:
    """Claims 1-4 of V1 maps (:class:`topobench.metrics.v1_maps.V1Maps`): {key: :class:`Measured`}."""
    from topobench.metrics.color_clustering import NEAR_COLUMN_WIDTHS, clustering_index, clustering_null
    from topobench.metrics.map_scale import map_scale
    from topobench.metrics.orientation_histogram import cardinal_bias
    from topobench.metrics.smoothness import DEFAULT_BIN_EDGES_COLUMN_WIDTHS, difference_curve
    positions = np.asarray(maps.positions_mm, dtype=np.float64)
    orientation = np.asarray(maps.orientation_deg, dtype=np.float64)
    log_sf = np.log2(np.asarray(maps.sf_cpd, dtype=np.float64))
    colour = np.asarray(maps.color_index, dtype=np.float64)
    channels = np.asarray(maps.channel)
    n = len(orientation)
    halves = _halves(n, n_resamples, seed)
    bins = [list(pair) for pair in zip(BIN_EDGES_MM[:-1], BIN_EDGES_MM[1:])]
    common = {"n_responsive": int(n), "n_units": int(maps.n_units), "layer": maps.layer}
    result = {}

    # 1 and 2: compare-tdann's first-bin ratio, orientation and log2 SF
    for key, values, period in (("v1_orientation_smoothness", orientation, 180.0),
                                ("v1_sf_clustering", log_sf, None)):
        if not np.nanstd(values) > 0:
            result[key] = Measured.refused(f"every responsive unit prefers the same "
                                           f"{'orientation' if period else 'spatial frequency'}: no map to measure",
                                           common)
            continue
        curve = _first_bin_ratio(positions, values, channels, period, seed)
        resampled = [_first_bin_ratio(positions[p], values[p], channels[p], period, seed)[0] for p in halves]
        details = {**common, "bins_mm": bins, "ratio_per_bin": curve}
        if period:
            details["median_circular_variance"] = float(np.median(maps.circular_variance))
        else:
            details["preferred_sf_cpd_quartiles"] = np.percentile(np.asarray(maps.sf_cpd), [25, 50, 75])
        result[key] = measured(curve[0], resampled, details,
                               "no pair of responsive units of different channels lies within 0.5 mm")

    # 3: the colour clustering index above its shuffled null
    usable = np.isfinite(colour)
    if usable.sum() < MIN_RESPONSIVE or not np.nanstd(colour) > CONSTANT_SPREAD:
        result["v1_colour_blobs"] = Measured.refused("the colour preference map is constant (or has fewer than "
                                                     f"{MIN_RESPONSIVE} units): it has no colour domains", common)
    else:
        scale = map_scale(positions, orientation)
        if scale.constant_map:
            result["v1_colour_blobs"] = Measured.refused("the orientation map is constant: it has no column "
                                                         "spacing to measure colour clustering in", common)
        else:
            edges = np.asarray(DEFAULT_BIN_EDGES_COLUMN_WIDTHS)
            spacing = scale.spacing_mm

            def index(pick):
                pick = pick[usable[pick]]
                curve = difference_curve(positions[pick], colour[pick], edges * spacing, channels=channels[pick],
                                         max_pairs=1_000_000, seed=seed)
                return clustering_index(curve.ratio_other_channel, edges, NEAR_COLUMN_WIDTHS)

            full = index(np.arange(n))
            null = clustering_null(positions[usable], colour[usable], edges, spacing, NEAR_COLUMN_WIDTHS,
                                   channels[usable], n_shuffles, max_pairs=300_000, seed=seed + 1)
            null_mean = float(np.nanmean(null))
            resampled = [index(p) - null_mean for p in halves]
            details = {**common, "clustering_index": full, "shuffled_clustering_indices": null,
                       "shuffled_mean": null_mean, "near_column_widths": NEAR_COLUMN_WIDTHS,
                       "column_width_mm": spacing, "column_width_source": scale.source,
                       "colour_index_spread": float(np.nanstd(colour))}
            result["v1_colour_blobs"] = measured(full - null_mean, resampled, details,
                                                 "no pair of units of different channels is near enough")

    # 4: cardinal / oblique
    def ratio(pick):
        bias = cardinal_bias(orientation[pick])
        return bias["n_cardinal"] / bias["n_oblique"] if bias["n_oblique"] else float("nan")

    bias = cardinal_bias(orientation)
    result["v1_cardinal_bias"] = measured(ratio(np.arange(n)), [ratio(p) for p in halves],
                                          {**common, "n_cardinal": bias["n_cardinal"], "n_oblique": bias["n_oblique"],
                                           "binomial_p_value": bias["p_value"]},
                                          "no responsive unit prefers an oblique orientation")
    return result


def _vtc_statistics(organisation: dict) -> dict:
    from topobench.benchmarks.grillspector2014.benchmark import between_score
    patches = organisation["patches"]
    coloc = organisation["colocalisations"]
    cf, cb, pf = (coloc[pair]["excess"] for pair in ("characters-faces", "characters-bodies", "places-faces"))
    return {"vtc_face_patches": float(len(patches["faces"])),
            "vtc_bodies_between_faces": between_score([p.centroid_mm for p in patches["faces"]],
                                                      [p.centroid_mm for p in patches["bodies"]]),
            "vtc_characters_near_faces_and_bodies": (cf + cb) / 2.0 if np.isfinite(cf) and np.isfinite(cb)
            else float("nan"),
            "vtc_places_far_from_faces": -pf if np.isfinite(pf) else float("nan")}


def _no_colocalisation_reason(selective: dict, pairs, threshold: float) -> str:
    missing = sorted({d for pair in pairs for d in pair if not selective[d]})
    if missing:
        return (f"no unit is selective for {' or '.join(missing)} (d' > {threshold:g}): the co-localisation "
                f"is undefined")
    return "the fractions of selective units are constant over the windows: the co-localisation is undefined"


def measure_vtc(data: VTCData, n_resamples: int = 100, seed: int = 0) -> dict:
    """Claims 5-8 of fLoc responses of a VTC sheet: {key: :class:`Measured`}."""
    from topobench.benchmarks.grillspector2014.benchmark import GrillSpector2014PatchOrganization, organisation
    from topobench.metrics.selectivity import bootstrap_weights, domain_selectivity
    benchmark = GrillSpector2014PatchOrganization(n_resamples=0, seed=seed)

    def organise(weights=None):
        selectivity = domain_selectivity(data.responses, data.categories, "dprime", seed=seed, weights=weights)
        return organisation(selectivity, data.positions, data.extent, benchmark.patch_threshold,
                            benchmark.unit_threshold, **benchmark.params, seed=seed)

    full = organise()
    values = _vtc_statistics(full)
    rng = np.random.default_rng(seed)
    resampled = {key: [] for key in values}
    for _ in range(int(n_resamples)):
        again = _vtc_statistics(organise(bootstrap_weights(data.categories, rng)))
        for key, value in again.items():
            resampled[key].append(value)
    n_patches = {domain: len(found) for domain, found in full["patches"].items()}
    fractions = full["selective_fractions"]
    selective = {domain: fraction > 0 for domain, fraction in fractions.items()}
    common = {"n_units": int(data.responses.shape[1]), "n_images": int(data.responses.shape[0]),
              "n_patches": n_patches, "selective_fractions": fractions,
              "patch_threshold_dprime": benchmark.patch_threshold, "unit_threshold_dprime": benchmark.unit_threshold,
              "sheet_extent_mm": list(data.extent)}
    patches = {domain: [p.summary() for p in full["patches"][domain]] for domain in ("faces", "bodies")}
    coloc = {pair: {k: v for k, v in entry.items()} for pair, entry in full["colocalisations"].items()}
    return {
        "vtc_face_patches": measured(values["vtc_face_patches"], resampled["vtc_face_patches"],
                                     {**common, "face_patches": patches["faces"]}),
        "vtc_bodies_between_faces": measured(
            values["vtc_bodies_between_faces"], resampled["vtc_bodies_between_faces"],
            {**common, "face_patches": patches["faces"], "body_patches": patches["bodies"],
             **({"note": f"0 by definition: {n_patches['faces']} face patch(es) and {n_patches['bodies']} body "
                         f"patch(es); 'between' needs two face patches and a body patch"}
                if n_patches["faces"] < 2 or n_patches["bodies"] < 1 else {})}),
        "vtc_characters_near_faces_and_bodies": measured(
            values["vtc_characters_near_faces_and_bodies"], resampled["vtc_characters_near_faces_and_bodies"],
            {**common, "colocalisations": {p: coloc[p] for p in ("characters-faces", "characters-bodies")}},
            _no_colocalisation_reason(selective, [("characters", "faces"), ("characters", "bodies")],
                                      benchmark.unit_threshold)),
        "vtc_places_far_from_faces": measured(
            values["vtc_places_far_from_faces"], resampled["vtc_places_far_from_faces"],
            {**common, "colocalisations": {"places-faces": coloc["places-faces"]}},
            _no_colocalisation_reason(selective, [("places", "faces")], benchmark.unit_threshold)),
    }


def measure_all(recordings: Recordings, n_resamples: int = 100, seed: int = 0) -> dict:
    """All eight measures of one model's recordings: {key: :class:`Measured`}."""
    result = {}
    if recordings.v1 is not None:
        result.update(measure_v1(recordings.v1, n_resamples, seed))
    if recordings.vtc is not None:
        result.update(measure_vtc(recordings.vtc, n_resamples, seed))
    for claim in CLAIMS:
        if claim.key not in result:
            reason = recordings.v1_reason if claim.region == "V1" else recordings.vtc_reason
            result[claim.key] = Measured.refused(reason or f"no {claim.region} recording")
    return result


# ----------------------------------------------------------------------------- decisions

def _part(left, op: str, right):
    if left is None or right is None:
        return None
    return bool(_OPS[op](left, right))


def decide(claim: Claim, model: Measured, control: Measured) -> dict:
    """``shows_property``, ``beats_control``, ``holds`` (True, False or None: undecided) and a verdict line."""
    stat, op, reference = claim.shows
    shows = _part(model.stat(stat), op, reference)
    mine, op2, theirs = claim.beats
    beats = _part(model.stat(mine), op2, control.stat(theirs))
    if shows is False or beats is False:
        holds = False
    elif shows is None or beats is None:
        holds = None
    else:
        holds = True
    if model.value is None:
        verdict = f"not decided: not measured on the model ({model.reason})"
    elif holds is True:
        verdict = "holds"
    elif holds is False:
        failed = [text for part, text in ((shows, "the model does not show it"),
                                          (beats, "not more than its control")) if part is False]
        verdict = "does not hold: " + " and ".join(failed)
    else:
        verdict = (f"not decided: the control cannot be measured ({control.reason})" if control.value is None
                   else "not decided: an interval is missing")
    return {"shows_property": shows, "beats_control": beats, "holds": holds, "verdict": verdict}


def claims_table(model: Recordings, control: Recordings, n_resamples: int = 100, seed: int = 0,
                 progress=None) -> dict:
    """The eight claims of ``model`` against ``control`` from their recordings (JSON-ready)."""
    say = progress or (lambda message: None)
    measures = {}
    for recordings in (model, control):
        say(f"{recordings.identifier}: measuring the eight claims ({n_resamples} resamples)")
        measures[recordings.identifier] = measure_all(recordings, n_resamples, seed)
    entries = []
    for claim in CLAIMS:
        mine, theirs = measures[model.identifier][claim.key], measures[control.identifier][claim.key]
        entries.append({
            "number": claim.number, "key": claim.key, "claim": claim.claim, "region": claim.region,
            "measure": claim.measure, "unit": claim.unit,
            "interval_method": V1_INTERVAL if claim.region == "V1" else VTC_INTERVAL,
            "test": claim.test_text(), "test_rule": claim.rule(), "source": claim.source,
            "model": mine.summary(model.identifier), "control": theirs.summary(control.identifier),
            **decide(claim, mine, theirs)})
    holds = [entry["holds"] for entry in entries]
    return {
        "model": model.identifier, "control": control.identifier, "seed": int(seed),
        "n_resamples": int(n_resamples),
        "recordings": {model.identifier: model.stimuli, control.identifier: control.stimuli},
        "summary": {"holds": sum(h is True for h in holds), "does_not_hold": sum(h is False for h in holds),
                    "not_decided": sum(h is None for h in holds), "of": len(CLAIMS),
                    "table": [{"number": e["number"], "claim": e["claim"], "model": e["model"]["value"],
                               "model_interval_95": e["model"]["interval_95"], "control": e["control"]["value"],
                               "control_interval_95": e["control"]["interval_95"], "holds": e["holds"]}
                              for e in entries]},
        "method": __doc__.split("\n\n", 1)[1].strip(),
        "claims": entries,
    }


# ----------------------------------------------------------------------------- output

def write_figure(table: dict, path) -> Path:
    """One row per claim: the model's and the control's value with its 95 % interval, the reference
    of the test (dashed), and the verdict."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    entries = table["claims"]
    fig, axes = plt.subplots(len(entries), 1, figsize=(9.5, 1.25 * len(entries) + 0.8))
    colours = {"model": "#c0392b", "control": "#7f8c8d"}
    for ax, entry in zip(np.atleast_1d(axes), entries):
        shown = []
        for row, side in ((1, "model"), (0, "control")):
            data = entry[side]
            if data["value"] is None:
                ax.text(0.01, row, f"{data['identifier']}: not measured", transform=ax.get_yaxis_transform(),
                        va="center", fontsize=7, color=colours[side])
                continue
            low, high = data["interval_95"] or (data["value"], data["value"])
            # a percentile interval need not contain the full-sample value: drawn apart, not as error bars
            ax.plot([low, high], [row, row], color=colours[side], lw=2, solid_capstyle="butt")
            ax.plot([low, low], [row - 0.18, row + 0.18], color=colours[side], lw=1)
            ax.plot([high, high], [row - 0.18, row + 0.18], color=colours[side], lw=1)
            ax.plot([data["value"]], [row], "o", color=colours[side], ms=5)
            shown += [low, high, data["value"]]
        rule = entry["test_rule"]
        reference = rule["shows_property"]["reference"]
        if not shown:
            ax.set_xlim(reference - 1, reference + 1)
            ax.set_xticks([])
            reason = entry["model"]["reason"] or entry["control"]["reason"] or ""
            ax.text(0.5, 0.5, reason if len(reason) < 110 else reason[:107] + "...", transform=ax.transAxes,
                    ha="center", va="center", fontsize=7, color="#555555", wrap=True)
        else:
            ax.axvline(reference, color="k", ls="--", lw=0.8)
            shown.append(reference)
            span = max(max(shown) - min(shown), 1e-3)
            ax.set_xlim(min(shown) - 0.15 * span, max(shown) + 0.15 * span)
        ax.set_ylim(-0.7, 1.7)
        ax.set_yticks([1, 0])
        ax.set_yticklabels([entry["model"]["identifier"], entry["control"]["identifier"]], fontsize=7)
        ax.tick_params(axis="x", labelsize=7)
        shows, beats = rule["shows_property"], rule["beats_control"]
        test = (f"model {shows['model']} {shows['op']} {reference:g}; model {beats['model']} {beats['op']} "
                f"control {beats['control']}")
        ax.set_title(f"{entry['number']}. {entry['claim']}  [{entry['unit']}]   test: {test}", fontsize=8,
                     loc="left")
        verdict = {True: "holds", False: "does not hold", None: "not decided"}[entry["holds"]]
        ax.text(1.01, 0.5, verdict, transform=ax.transAxes, va="center", fontsize=8, fontweight="bold",
                color={True: "#1e8449", False: "#922b21", None: "#7d6608"}[entry["holds"]])
    fig.suptitle(f"TDANN's eight claims: {table['model']} against {table['control']} (95 % intervals; dashed: "
                 f"the reference of each test)", fontsize=9)
    fig.tight_layout(rect=(0, 0, 0.88, 0.97))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_claims(table: dict, out) -> tuple[Path, Path]:
    """The JSON file ``out`` (claims in order, 4 decimals, no time stamps) and its PNG beside it."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure = out.with_suffix(".png")
    table = {**table, "figure": figure.name}
    out.write_text(json.dumps(table, indent=1) + "\n")
    write_figure(table, figure)
    return out, figure


def run_claims(model, control, out=None, n_resamples: int = 100, seed: int = 0, progress=None) -> dict:
    """The eight claims of ``model`` against ``control`` (registered names or model objects);
    written to ``out`` (and its PNG) when given."""
    from topobench.registry import load_model
    model = load_model(model) if isinstance(model, str) else model
    control = load_model(control) if isinstance(control, str) else control
    table = claims_table(record(model, progress), record(control, progress), n_resamples, seed, progress)
    if out is not None:
        write_claims(table, out)
    return table


def cmd_claims(args) -> int:
    if args.resamples < 2:
        raise TopobenchError(f"--resamples {args.resamples}: an interval needs at least 2 resamples, e.g. 100")
    if args.threads is not None:
        if args.threads < 1:
            raise TopobenchError(f"--threads {args.threads} is not a number of threads; give a whole number "
                                 f"greater than 0")
        import torch
        torch.set_num_threads(args.threads)
    from topobench.registry import load_model
    model, control = load_model(args.model), load_model(args.control)  # unknown names fail before any work
    out = Path(args.out) if args.out else DEFAULT_OUT_FOLDER / f"{args.model}.json"
    start = time.perf_counter()

    def progress(message):
        if not args.quiet:
            print(f"[{time.perf_counter() - start:6.0f} s] {message}", file=sys.stderr, flush=True)

    table = claims_table(record(model, progress), record(control, progress), args.resamples, args.seed, progress)
    json_path, png_path = write_claims(table, out)
    width = max(len(c.claim) for c in CLAIMS)

    def cell(side):
        if side["value"] is None:
            return "not measured"
        low, high = side["interval_95"] or (None, None)
        return f"{side['value']:.4g} [{low:.4g}, {high:.4g}]" if low is not None else f"{side['value']:.4g}"

    print(f"{'claim':<{width + 3}}  {table['model']:<28}  {table['control']:<28}  holds")
    for entry in table["claims"]:
        print(f"{entry['number']}. {entry['claim']:<{width}}  {cell(entry['model']):<28}  "
              f"{cell(entry['control']):<28}  {entry['verdict']}")
    print(f"wrote {json_path} and {png_path} in {time.perf_counter() - start:.0f} s")
    return 0


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser("claims", help="TDANN's eight claims (V1 orientation, SF, colour, cardinal bias; "
                                                  "VTC face patches, bodies, characters, places) on a model against "
                                                  "its control, with 95%% intervals (JSON and PNG)")
    parser.add_argument("model", help="a registered model (`topobench list models`)")
    parser.add_argument("control", help="its control: the same network trained without the spatial loss")
    parser.add_argument("--out", default=None, help="JSON file to write (default leaderboard/claims/<MODEL>.json); "
                                                    "the figure goes beside it as .png")
    parser.add_argument("--resamples", type=int, default=100, help="half-samples (V1) and bootstrap resamples "
                                                                   "(VTC) for the intervals (default 100)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads for the recordings")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.set_defaults(func=cmd_claims)
