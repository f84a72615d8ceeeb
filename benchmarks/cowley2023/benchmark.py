"""Held-out neural predictivity of macaque V4 (Cowley, Stan, Pillow & Smith 2023).

**Features.** The model's committed ``V4`` layer is recorded on the session's
112 px images, placed on the model's field at the assumed visual angle
``topobench.reference_data.cowley2023.IMAGE_DEGREES`` (8 degrees: a model
whose input spans 8 degrees sees each image resized to its whole input; one
with a wider field sees it smaller, centred on mid-grey; Brain-Score's
convention). The layer is reduced by a PCA (at most 1,000 components) fitted on
the ``imagenet_sample`` photographs, which no benchmark scores, with a sparse
random sketch first for layers over 8,192 units (``topobench.features``); the
projected features are cached on disk.

**Map and raw score.** ``topobench.metrics.neural_predictivity``: ridge with a
per-neuron penalty chosen by inner grouped 5-fold CV on the training images
(or PLS with 25 components for ``-pls``, report-only: the data set enters the
V4 aggregate once, through ``-ridge``), 10 folds over images grouped by
content (near-duplicates in one fold), fixed ``seed``; each neuron's held-out
Pearson r (mean over folds) between its responses and the predictions. The
targets: for V4-ridge and V4-pls the half-averages of the repeats that the
ceiling uses (below), the r of a neuron being its mean over them; for
V4-ridge_sessions the averages of all repeats.

**Ceiling (V4-ridge, V4-pls): half of the repeats as a model**
(``topobench.ceilings.SplitHalfReliability``; 1 = as close to the neurons as one
more half of the repeats is). Session 210325 (50 neurons, 640 Bashivan et al.
2019 images, 6 to 10 repeats). For each of ``n_splits`` random splits of every
image's repeats into halves (``seed``) and both directions, the repeat averages
of one half of all 50 neurons are entered as a model's features into the same
cross-validated map (same folds, same penalty search or PLS, same Pearson r),
which predicts each neuron's repeat average in the other half; a neuron's
ceiling is the mean of these r. The model's r of a neuron is the mean r of the
same map from its features to the *same* half-averages (not to the average of
all repeats, which a half of the repeats could not be scored against without
sharing its noise). No Spearman-Brown step on either side: both sides predict
targets of half the repeats from one measurement. Score = the mean over neurons
of r / ceiling (per neuron), clipped to [0, 1]; ``raw`` and ``ceiling`` are the
means over the same neurons of r and of the ceiling, ``error`` the standard
error over neurons of r / ceiling. Neurons whose split-half reliability of the
repeat average (Spearman-Brown, ``topobench.metrics.noise_ceiling``, reported
in ``details``) is under ``min_reliability`` would be left out (none is: 0.53 to
0.93). Half of the repeats of a split not used by the ceiling, entered as the
model and scored against the other half (:meth:`Cowley2023V4.score_features`
with ``targets``; test.py) lands at about 1.00; under version 1's ceiling
(sqrt of the Spearman-Brown reliability of the full average) it scored 0.71
(ridge) and 0.67 (PLS), while a noise-free model scored 1.

**Sessions (V4-ridge_sessions, report-only).** The same map in each of the 12
sessions; the value is the mean over sessions of the mean r, unceiled: only two
sessions allow a ceiling (210325's repeats; 190925's 300 images shown twice,
whose two repeat averages give a reliability directly), so there is no
defensible ceiling for the aggregate. ``report_only = True``: the score is kept
out of every aggregate; ``details`` gives each session's r and, for those two
sessions, their ceiled values.
"""
from __future__ import annotations

import math

import numpy as np
from brainscore_core.metrics import Score

from topobench.benchmark_base import RESPONSES_NO_CONTROLS, Comparison, TopoBenchmark
from topobench.ceilings import SplitHalfReliability
from topobench.costs import PROJECTED, Cost, Fit
from topobench.features import ProjectionSpec, fit_projection, projected_features
from topobench.metrics.neural_predictivity import neural_predictivity, pearson_per_column
from topobench.metrics.noise_ceiling import duplicate_reliability, split_half_reliability

REGION = "V4"
#: Version of the ceiled benchmarks (V4-ridge, V4-pls): 2 since the ceiling is half of the repeats as a model.
VERSION = 2
#: Version of the report-only V4-ridge_sessions (raw mean r, no ceiling): unchanged.
SESSIONS_VERSION = 1

BIBTEX = """@article{cowley2023compact,
  title={Compact deep neural network models of visual cortex},
  author={Cowley, Benjamin R. and Stan, Patricia L. and Pillow, Jonathan W. and Smith, Matthew A.},
  journal={bioRxiv},
  pages={2023.11.22.568315},
  year={2023},
  doi={10.1101/2023.11.22.568315},
  url={https://doi.org/10.1101/2023.11.22.568315}
}"""

PLACEMENT = ("each 112 px image spans {degrees:g} degrees (assumed; not given by the data) and is placed on the "
             "model's field by that angle: resized to image_size * {degrees:g} / visual_degrees px, centred on "
             "mid-grey (or centre-cropped when larger)")


def _session_data(session: str, n_images: int | None, degrees: float):
    from topobench.reference_data.cowley2023 import cowley2023_assembly, cowley2023_stimuli
    from topobench.stimuli.base import subset

    stimuli = cowley2023_stimuli(session, degrees=degrees)
    assembly = cowley2023_assembly(session, stimuli)
    if n_images is not None and n_images < len(stimuli):
        mask = np.arange(len(stimuli)) < n_images
        stimuli = subset(stimuli, mask)
        assembly = assembly.isel(presentation=np.flatnonzero(mask))
    return stimuli, assembly


def _finite_mean(values) -> float:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else float("nan")


class _Cowley2023Benchmark(TopoBenchmark):
    region = REGION
    bibtex = BIBTEX
    datasets = ("cowley2023_v4", "imagenet_sample")
    family = "responses"
    report_only = False
    no_controls_reason = RESPONSES_NO_CONTROLS

    def __init__(self, identifier: str, method: str = "ridge", seed: int = 0, n_folds: int = 10,
                 inner_folds: int = 5, n_components: int = 25, n_images: int | None = None,
                 degrees: float | None = None, projection: ProjectionSpec | None = None, version: int = VERSION):
        super().__init__(identifier=identifier, version=version)
        from topobench.reference_data.cowley2023 import IMAGE_DEGREES
        self.method = method
        self.seed = int(seed)
        self.n_folds = int(n_folds)
        self.inner_folds = int(inner_folds)
        self.n_components = int(n_components)
        self.n_images = None if n_images is None else int(n_images)
        self.degrees = float(IMAGE_DEGREES if degrees is None else degrees)
        self.projection = projection or ProjectionSpec()

    def _fit(self, features, targets, groups):
        """The cross-validated map of this benchmark from ``features`` to ``targets`` (images x neurons)."""
        return neural_predictivity(features, targets, groups, method=self.method, n_folds=self.n_folds,
                                   seed=self.seed, inner_folds=self.inner_folds, n_components=self.n_components)

    def predict_r(self, features, targets_list, groups) -> list:
        """Held-out r per neuron of the map from ``features`` to each target of ``targets_list``,
        each fitted as its own (images x neurons) target, exactly as one target alone would be.
        Ridge is fitted neuron by neuron (per-neuron penalty), so the targets are fitted in one
        stacked call; PLS fits one model to all neurons of a target, so one call per target."""
        targets_list = [np.asarray(t, dtype=np.float64) for t in targets_list]
        if self.method == "ridge" and len(targets_list) > 1:
            widths = [t.shape[1] for t in targets_list]
            r = self._fit(features, np.concatenate(targets_list, axis=1), groups).r
            return np.split(r, np.cumsum(widths)[:-1])
        return [self._fit(features, t, groups).r for t in targets_list]

    def _predictivity(self, model, session: str, projection):
        stimuli, assembly = _session_data(session, self.n_images, self.degrees)
        features, projection = projected_features(model, stimuli, REGION, self.projection, projection=projection)
        result = neural_predictivity(features, assembly.values, stimuli["image_group"].to_numpy(),
                                     method=self.method, n_folds=self.n_folds, seed=self.seed,
                                     inner_folds=self.inner_folds, n_components=self.n_components)
        return stimuli, assembly, result, projection

    def _common_details(self, model, layer: str, projection) -> dict:
        details = {
            "layer": layer,
            "method": self.method,
            "seed": self.seed,
            "n_folds": self.n_folds,
            "image_degrees": self.degrees,
            "model_visual_degrees": float(getattr(model, "visual_degrees", float("nan"))),
            "placement": PLACEMENT.format(degrees=self.degrees),
            "folds_grouped_by": "image_group (byte-identical images and near-duplicates, pixel r >= 0.9 at 56 px)",
            **projection.summary(),
        }
        if self.method == "ridge":
            details["inner_folds"] = self.inner_folds
        else:
            details["pls_components"] = self.n_components
        return details


class Cowley2023V4(_Cowley2023Benchmark):
    """Session 210325: held-out r per neuron against half-averages of the repeats, ceiled per
    neuron by half of the repeats predicting the other half through the same map."""

    def __init__(self, method: str = "ridge", n_splits: int = 5, min_reliability: float = 0.1,
                 reliability_splits: int = 100, **kwargs):
        from topobench.reference_data.cowley2023 import REPEATED_SESSION
        super().__init__(f"Cowley2023.V4-{method}", method=method, **kwargs)
        self.session = REPEATED_SESSION
        self.n_splits = int(n_splits)
        self.min_reliability = float(min_reliability)
        self.reliability_splits = int(reliability_splits)
        self._reliability = None
        self._data = None

    def session_data(self):
        """(stimuli, repeat-averaged assembly, repeats (images, neurons, repetitions)) of the
        benchmark's images."""
        if self._data is None:
            from topobench.reference_data.cowley2023 import cowley2023_repeats
            stimuli, assembly = _session_data(self.session, self.n_images, self.degrees)
            repeats = cowley2023_repeats(self.session).values[:len(stimuli)]
            self._data = stimuli, assembly, repeats
        return self._data

    def reliability(self) -> dict:
        """Split-half reliability of each neuron's repeat average (Spearman-Brown; the inclusion
        criterion ``min_reliability``, and for comparison with Brain-Score's ceiling)."""
        if self._reliability is None:
            repeats = self.session_data()[2]
            self._reliability = split_half_reliability(repeats, n_splits=self.reliability_splits, seed=self.seed)
        return self._reliability

    def make_ceiling(self) -> SplitHalfReliability:
        """Halves of the repeats through this benchmark's own map."""
        stimuli, _, repeats = self.session_data()
        groups = stimuli["image_group"].to_numpy()
        return SplitHalfReliability(repeats, lambda features, targets: self.predict_r(features, targets, groups),
                                    n_splits=self.n_splits, seed=self.seed)

    @property
    def split_half(self) -> SplitHalfReliability:
        """The ceiling object (:attr:`ceiling_object`)."""
        return self.ceiling_object

    def _kept(self, ceiling_per_neuron) -> np.ndarray:
        return (self.reliability()["reliability"] >= self.min_reliability) & np.isfinite(ceiling_per_neuron) \
            & (ceiling_per_neuron > 0)

    @property
    def ceiling(self) -> Score:
        """Mean over the scored neurons of each neuron's ceiling (see the module docstring)."""
        per_neuron = self.split_half.per_neuron()
        kept = self._kept(per_neuron)
        base = self.split_half.compute()
        ceiling = Score(np.float64(per_neuron[kept].mean()))
        ceiling.attrs.update({key: value for key, value in base.attrs.items()})
        return ceiling

    def score_features(self, features, targets=None, details: dict | None = None) -> Score:
        """The score of ``features`` (images x units) of the benchmark's images: the part of
        ``__call__`` after recording. ``targets``: None for a model (the ceiling's own half-averages
        of the repeats); for brain data entered as a model (a half of the repeats), the list of
        half-averages it does not contain, e.g. the complementary half of its split."""
        return self.score(self.compare((features, targets, details)))

    def make_stimuli(self):
        return self.session_data()[0]

    def record(self, model, stimuli):
        """(features projected by a PCA fitted on images no benchmark scores, the projection)."""
        return projected_features(model, stimuli, REGION, self.projection, projection=None)

    def measure(self, recording, model, layer):
        """(features, None: the ceiling's targets, details)."""
        features, projection = recording
        stimuli, assembly, _ = self.session_data()
        # the map to the average of all repeats, as version 1 scored it: reported, not scored
        full = self._fit(features, assembly.values, stimuli["image_group"].to_numpy())
        details = {**self._common_details(model, layer, projection),
                   "r_all_repeats_per_neuron": [float(v) for v in full.r],
                   "r_all_repeats_mean": _finite_mean(full.r),
                   "r_all_repeats_note": "r against the average of all repeats (version 1's raw): reported only",
                   "regression": full.details}
        return features, None, details

    def compare(self, measurement) -> Comparison:
        """Each neuron's r against its ceiling; the value is the mean over neurons of r / ceiling."""
        features, targets, details = measurement
        stimuli, assembly, _ = self.session_data()
        groups = stimuli["image_group"].to_numpy()
        features = np.asarray(features, dtype=np.float64)
        if targets is None:
            r_per_target = self.split_half.model_r(features)
            target_rule = (f"the {2 * self.n_splits} half-averages of the ceiling's {self.n_splits} splits of "
                           f"the repeats")
        else:
            r_per_target = np.stack(self.predict_r(features, list(targets), groups))
            target_rule = f"{len(targets)} half-average(s) of the repeats given as targets"
        with np.errstate(invalid="ignore"):
            r = np.nanmean(r_per_target, axis=0)
        ceiling = self.split_half.per_neuron()
        kept = self._kept(ceiling)
        ceiled = np.full_like(r, np.nan)
        ceiled[kept] = r[kept] / ceiling[kept]
        finite = kept & np.isfinite(ceiled)
        value = float(np.mean(ceiled[finite]))
        raw = float(np.mean(r[finite]))
        mean_ceiling = float(np.mean(ceiling[finite]))
        error = float(np.std(ceiled[finite], ddof=1) / math.sqrt(finite.sum())) if finite.sum() > 1 else float("nan")
        reliability = self.reliability()
        details = dict(details or {})
        details.update({
            "session": self.session,
            "n_images": int(len(stimuli)),
            "n_image_groups": int(stimuli["image_group"].nunique()),
            "n_neurons": int(r.size),
            "n_neurons_scored": int(finite.sum()),
            "min_reliability": self.min_reliability,
            **self.split_half.describe(),
            "ceiling_splits": self.n_splits,
            "ceiling_per_split_direction": [round(float(v), 6)
                                            for v in self.split_half.compute().attrs["per_individual"]],
            "targets": target_rule,
            "raw_rule": "per neuron: mean over the targets of the held-out r of the map from the features",
            "score_rule": "mean over neurons of r / ceiling (per neuron), clipped to [0, 1]",
            "report_only": bool(self.report_only),
            "ratio_of_means": raw / mean_ceiling,
            "neuroid_id": [str(v) for v in assembly["neuroid_id"].values],
            "r_per_neuron": [float(v) for v in r],
            "ceiling_per_neuron": [float(v) for v in ceiling],
            "reliability_per_neuron": [float(v) for v in reliability["reliability"]],
            "reliability_rule": (f"split-half reliability of the repeat average, Spearman-Brown, mean over "
                                 f"{self.reliability_splits} splits: the inclusion criterion only"),
            "ceiled_per_neuron": [float(v) for v in ceiled],
            "median_r": float(np.median(r[finite])),
        })
        return Comparison(raw, error, details, ceiling=mean_ceiling, value=value)


class Cowley2023V4Sessions(_Cowley2023Benchmark):
    """All 12 sessions, raw mean r; report-only (no defensible ceiling for most sessions).

    Its flow is not the base's sequence (one projection, then each session's own stimuli and
    map), so it keeps its own ``__call__`` and inherits the declarations."""

    report_only = True

    def __init__(self, method: str = "ridge", sessions=None, n_splits: int = 100, **kwargs):
        from topobench.reference_data.cowley2023 import SESSION_IDS
        super().__init__(f"Cowley2023.V4-{method}_sessions", method=method, version=SESSIONS_VERSION, **kwargs)
        self.sessions = tuple(sessions or SESSION_IDS)
        self.n_splits = int(n_splits)

    @property
    def ceiling(self):
        return None

    def __call__(self, model) -> Score:
        from topobench.reference_data.cowley2023 import (REPEATED_SESSION, SESSIONS, VALIDATION_SESSION,
                                                         cowley2023_repeats, duplicate_pairs)
        layer = self.check_region(model)
        projection = fit_projection(model, layer, self.projection, cache=getattr(model, "cache", True))
        per_session = {}
        for session in self.sessions:
            stimuli, assembly, result, projection = self._predictivity(model, session, projection)
            r = result.r
            entry = {"animal": SESSIONS[session].animal, "role": SESSIONS[session].role,
                     "n_neurons": int(r.size), "n_images": int(len(stimuli)),
                     "n_image_groups": int(stimuli["image_group"].nunique()),
                     "mean_r": _finite_mean(r), "median_r": float(np.nanmedian(r)),
                     "r_per_neuron": [float(v) for v in r]}
            if session == REPEATED_SESSION:
                repeats = cowley2023_repeats(session).values
                if self.n_images is not None:
                    repeats = repeats[:self.n_images]
                ceiling = split_half_reliability(repeats, self.n_splits, self.seed)["ceiling"]
                entry.update({"ceiling_method": "split-half of repeats, Spearman-Brown, sqrt",
                              "mean_ceiling": float(ceiling.mean()),
                              "ceiled_mean": _finite_mean(r / ceiling)})
            pairs = duplicate_pairs(stimuli)
            if len(pairs) >= 3:
                duplicated = np.unique(pairs)
                reliability = duplicate_reliability(assembly.values, pairs)
                r_dup = pearson_per_column(assembly.values[duplicated], result.predictions[duplicated])
                ceiling = reliability["ceiling"]
                with np.errstate(divide="ignore", invalid="ignore"):
                    ceiled = np.where(ceiling > 0, r_dup / ceiling, np.nan)
                entry.update({"n_duplicated_images": int(len(pairs)),
                              "duplicate_ceiling_method": ("r between the two repeat averages of each image shown "
                                                           "twice (no Spearman-Brown), sqrt; raw r over the "
                                                           "presentations of those images"),
                              "duplicate_reliability_per_neuron": [float(v) for v in reliability["reliability"]],
                              "mean_r_duplicated": _finite_mean(r_dup),
                              "mean_duplicate_ceiling": _finite_mean(ceiling),
                              "duplicate_ceiled_mean": _finite_mean(ceiled)})
            per_session[session] = entry
        means = np.array([per_session[s]["mean_r"] for s in self.sessions])
        raw = float(np.mean(means))
        error = float(np.std(means, ddof=1) / math.sqrt(len(means))) if len(means) > 1 else float("nan")
        without_validation = [per_session[s]["mean_r"] for s in self.sessions if s != VALIDATION_SESSION]
        details = {
            **self._common_details(model, layer, projection),
            "report_only": True,
            "report_only_reason": ("no repeats for most sessions: only 210325 (split-half of repeats) and 190925 "
                                   "(300 images shown twice) allow a noise ceiling, so the mean over sessions is "
                                   "reported raw and kept out of every aggregate"),
            "score_rule": "mean over sessions of the mean held-out r over the session's neurons (unceiled)",
            "sessions": list(self.sessions),
            "per_session": per_session,
            "mean_r_without_validation_session": float(np.mean(without_validation)) if without_validation
            else float("nan"),
            "validation_session": VALIDATION_SESSION,
            "n_neurons": int(sum(per_session[s]["n_neurons"] for s in self.sessions)),
        }
        score = Score(np.float64(raw))
        score.attrs["raw"] = raw
        score.attrs["ceiling"] = float("nan")
        score.attrs["error"] = error
        score.attrs["details"] = details
        return score


class Cowley2023V4Ridge(Cowley2023V4):
    """``Cowley2023.V4-ridge``."""

    cost = Cost(images=640, stimuli="Cowley session 210325: 640 images, 112 px", region=REGION, features=PROJECTED,
                fixed_seconds=9.5, fit=Fit("ridge, per-neuron penalty by inner 5-fold CV, 10 outer folds, to the "
                                           "repeat average and to the ceiling's half-averages", "ridge", repeats=20))

    def __init__(self, **kwargs):
        super().__init__(method="ridge", **kwargs)


class Cowley2023V4PLS(Cowley2023V4):
    """``Cowley2023.V4-pls``: PLS with 25 components, for comparison with Brain-Score.

    Report-only: it scores the same neurons and images as ``Cowley2023.V4-ridge``,
    which alone enters the V4 aggregate (two maps of one data set would count it twice).
    """

    report_only = True
    cost = Cost(images=640, stimuli="Cowley session 210325: 640 images, 112 px", region=REGION, features=PROJECTED,
                fixed_seconds=33.0, fit=Fit("PLS with 25 components, 10 outer folds, to the repeat average and to "
                                            "the ceiling's half-averages", "linear", repeats=2 * 10 * 25))

    def __init__(self, **kwargs):
        super().__init__(method="pls", **kwargs)


class Cowley2023V4RidgeSessions(Cowley2023V4Sessions):
    """``Cowley2023.V4-ridge_sessions`` (report-only)."""

    report_only = True
    cost = Cost(images=12_640, stimuli="all 12 Cowley sessions: 400 to 1,200 images each, 112 px", region=REGION,
                features=PROJECTED, fixed_seconds=3.0,
                fit=Fit("ridge per session (about 1,100 images each), per-neuron penalty by inner 5-fold CV, "
                        "10 outer folds", "ridge", repeats=10 * 12, samples=1_100))

    def __init__(self, **kwargs):
        super().__init__(method="ridge", **kwargs)
