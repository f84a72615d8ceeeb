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
content (near-duplicates in one fold), fixed ``seed``; each neuron's Pearson r
between its repeat-averaged responses and the held-out predictions over all
images.

**Ceiling (V4-ridge, V4-pls).** Session 210325 (50 neurons, 640 Bashivan et al.
2019 images, 6 to 10 repeats): per neuron, split-half reliability of the repeat
average with Spearman-Brown correction, averaged over ``n_splits`` random
splits; the ceiling of r is its square root (``topobench.metrics.noise_ceiling``).
The score is the mean over neurons of r / ceiling (ceiled per neuron), clipped to
[0, 1]; ``raw`` and ``ceiling`` are the means over the same neurons of r and of
the ceiling, ``error`` the standard error over neurons of r / ceiling. Neurons
with a reliability under ``min_reliability`` would be left out (none is: 0.53 to
0.93). A simulated neuron population that is a linear function of features, with
Poisson spike counts at the data's repeat counts, scores near 1
(tests/test_neural_predictivity.py).

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
from brainscore_core.benchmarks import BenchmarkBase
from brainscore_core.metrics import Score

from topobench.model_interface import require_region
from topobench.features import ProjectionSpec, fit_projection, projected_features
from topobench.metrics.neural_predictivity import neural_predictivity, pearson_per_column
from topobench.metrics.noise_ceiling import duplicate_reliability, split_half_reliability

REGION = "V4"
VERSION = 1

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


def _require_region(identifier: str, model) -> str:
    return require_region(model, REGION, identifier)


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


class _Cowley2023Benchmark(BenchmarkBase):
    datasets = ("cowley2023_v4", "imagenet_sample")
    report_only = False

    def __init__(self, identifier: str, method: str = "ridge", seed: int = 0, n_folds: int = 10,
                 inner_folds: int = 5, n_components: int = 25, n_images: int | None = None,
                 degrees: float | None = None, projection: ProjectionSpec | None = None):
        super().__init__(identifier=identifier, ceiling=None, version=VERSION, parent=REGION, bibtex=BIBTEX)
        from topobench.reference_data.cowley2023 import IMAGE_DEGREES
        self.method = method
        self.seed = int(seed)
        self.n_folds = int(n_folds)
        self.inner_folds = int(inner_folds)
        self.n_components = int(n_components)
        self.n_images = None if n_images is None else int(n_images)
        self.degrees = float(IMAGE_DEGREES if degrees is None else degrees)
        self.projection = projection or ProjectionSpec()

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
    """Session 210325: held-out r per neuron, ceiled per neuron by split-half reliability."""

    def __init__(self, method: str = "ridge", n_splits: int = 100, min_reliability: float = 0.1, **kwargs):
        from topobench.reference_data.cowley2023 import REPEATED_SESSION
        super().__init__(f"Cowley2023.V4-{method}", method=method, **kwargs)
        self.session = REPEATED_SESSION
        self.n_splits = int(n_splits)
        self.min_reliability = float(min_reliability)
        self._reliability = None

    def reliability(self) -> dict:
        """Split-half reliability and ceiling per neuron (on the benchmark's images)."""
        if self._reliability is None:
            from topobench.reference_data.cowley2023 import cowley2023_repeats
            repeats = cowley2023_repeats(self.session)
            values = repeats.values if self.n_images is None else repeats.values[:self.n_images]
            self._reliability = split_half_reliability(values, n_splits=self.n_splits, seed=self.seed)
        return self._reliability

    @property
    def ceiling(self) -> Score:
        reliability = self.reliability()
        kept = reliability["reliability"] >= self.min_reliability
        ceiling = Score(np.float64(reliability["ceiling"][kept].mean()))
        ceiling.attrs["error"] = float(reliability["ceiling"][kept].std() / math.sqrt(kept.sum()))
        return ceiling

    def __call__(self, model) -> Score:
        layer = _require_region(self.identifier, model)
        stimuli, assembly, result, projection = self._predictivity(model, self.session, None)
        reliability = self.reliability()
        kept = reliability["reliability"] >= self.min_reliability
        r = result.r
        ceiling = reliability["ceiling"]
        ceiled = np.full_like(r, np.nan)
        ceiled[kept] = r[kept] / ceiling[kept]
        finite = kept & np.isfinite(ceiled)
        value = float(np.mean(ceiled[finite]))
        raw = float(np.mean(r[finite]))
        mean_ceiling = float(np.mean(ceiling[finite]))
        error = float(np.std(ceiled[finite], ddof=1) / math.sqrt(finite.sum())) if finite.sum() > 1 else float("nan")
        details = {
            **self._common_details(model, layer, projection),
            "session": self.session,
            "n_images": int(len(stimuli)),
            "n_image_groups": int(stimuli["image_group"].nunique()),
            "n_neurons": int(r.size),
            "n_neurons_scored": int(finite.sum()),
            "min_reliability": self.min_reliability,
            "ceiling_method": "split-half of repeats per image, Spearman-Brown, sqrt; mean over splits",
            "ceiling_splits": self.n_splits,
            "score_rule": "mean over neurons of r / ceiling (per neuron), clipped to [0, 1]",
            "report_only": bool(self.report_only),
            "ratio_of_means": raw / mean_ceiling,
            "neuroid_id": [str(v) for v in assembly["neuroid_id"].values],
            "r_per_neuron": [float(v) for v in r],
            "ceiling_per_neuron": [float(v) for v in ceiling],
            "reliability_per_neuron": [float(v) for v in reliability["reliability"]],
            "ceiled_per_neuron": [float(v) for v in ceiled],
            "median_r": float(np.median(r[finite])),
            "regression": result.details,
        }
        score = Score(np.float64(min(max(value, 0.0), 1.0)))
        if value > 1.0 or value < 0.0:
            details["clipped_from"] = value
        score.attrs["raw"] = raw
        score.attrs["ceiling"] = mean_ceiling
        score.attrs["error"] = error
        score.attrs["details"] = details
        return score


class Cowley2023V4Sessions(_Cowley2023Benchmark):
    """All 12 sessions, raw mean r; report-only (no defensible ceiling for most sessions)."""

    report_only = True

    def __init__(self, method: str = "ridge", sessions=None, n_splits: int = 100, **kwargs):
        from topobench.reference_data.cowley2023 import SESSION_IDS
        super().__init__(f"Cowley2023.V4-{method}_sessions", method=method, **kwargs)
        self.sessions = tuple(sessions or SESSION_IDS)
        self.n_splits = int(n_splits)

    @property
    def ceiling(self):
        return None

    def __call__(self, model) -> Score:
        from topobench.reference_data.cowley2023 import (REPEATED_SESSION, SESSIONS, VALIDATION_SESSION,
                                                         cowley2023_repeats, duplicate_pairs)
        layer = _require_region(self.identifier, model)
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

    def __init__(self, **kwargs):
        super().__init__(method="ridge", **kwargs)


class Cowley2023V4PLS(Cowley2023V4):
    """``Cowley2023.V4-pls``: PLS with 25 components, for comparison with Brain-Score.

    Report-only: it scores the same neurons and images as ``Cowley2023.V4-ridge``,
    which alone enters the V4 aggregate (two maps of one data set would count it twice).
    """

    report_only = True

    def __init__(self, **kwargs):
        super().__init__(method="pls", **kwargs)


class Cowley2023V4RidgeSessions(Cowley2023V4Sessions):
    """``Cowley2023.V4-ridge_sessions`` (report-only)."""

    report_only = True

    def __init__(self, **kwargs):
        super().__init__(method="ridge", **kwargs)
