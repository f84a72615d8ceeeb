"""Representational similarity of the model's VTC with human VTC (Nordt et al. 2023).

The model's VTC layer is recorded on the fLoc images without "scrambled"
(1,440 images: the 10 categories of the human experiment; fLoc's 144 images
per category). Its 10 x 10 matrix is built the way the human ones were
(``topobench.metrics.rsa.split_half_rsm``; DESIGN.md, "Human VTC RSA"): each
category's images split into two halves, the mean response of each unit per
category and half, units z-scored across the 10 categories within each half,
the Pearson correlation of the z-patterns across units between halves,
symmetrised; the mean over ``n_splits`` random splits (``seed``).

Reference (``topobench.reference_data.nordt2023``): the session-averaged
matrices of the 29 children (5.7 to 17.4 years), each the mean of the four VTC
rois (left/right x lateral/medial): the model's sheet stands for the whole of
VTC; see that module for why all rois and all ages.

Comparison: the 45 cells above the diagonal only (the diagonal is split-half
reliability, not similarity), by Spearman rank correlation, against the same
targets on both sides (``topobench.ceilings.HeldOutSubject``; 1 = as close to
the children's VTC as one more child is). With T_s the mean matrix of the
subjects other than s:
ceiling = mean over subjects s of corr(subject s, T_s);
raw = mean over subjects s of corr(model, T_s).
Score = raw / ceiling, clipped to [0, 1]. Error = the jackknife standard error
over subjects of corr(model, T_s) (the T_s are the jackknife replicates of the
mean of all subjects), divided by the ceiling. The model meets the very targets
the subjects met: a subject held out of the reference and entered as the model
meets means of N - 2 subjects, as each remaining subject did in the ceiling.
(Version 1 compared the model with each single subject, a noisier target than
the ceiling's group means: one held-out subject scored 0.878, 0.76 to 0.96.)

Measured: ceiling 0.859; one held-out subject entered as the model, the other
28 as the reference (``score_matrix``; test.py), 1.000 on average over the 29
subjects (0.85 to 1.11; 5th to 95th percentile 0.89 to 1.08: subjects differ in
their own measurement noise); a random matrix and Gaussian-noise features about 0.
"""
from __future__ import annotations

import numpy as np
from brainscore_core.metrics import Score

from topobench.benchmark_base import FLOC_IMAGES, FLOC_STIMULI, RESPONSES_NO_CONTROLS, Comparison, TopoBenchmark
from topobench.costs import FULL, Cost, Fit
from topobench.ceilings import HeldOutSubject
from topobench.errors import ModelError
from topobench.metrics.rsa import spearman, split_half_rsm, subject_correlations, upper_cells

IDENTIFIER = "Nordt2023.VTC-rsa"
REGION = "VTC"

BIBTEX = """@article{nordt2023longitudinal,
  title={Longitudinal development of category representations in ventral temporal cortex predicts word and face recognition},
  author={Nordt, Marisa and Gomez, Jesse and Natu, Vaidehi S. and Rezai, Alex A. and Finzi, Dawn and Kular, Holly and Grill-Spector, Kalanit},
  journal={Nature Communications},
  volume={14},
  pages={8010},
  year={2023},
  doi={10.1038/s41467-023-43146-w},
  url={https://doi.org/10.1038/s41467-023-43146-w}
}"""


def _rounded(matrix) -> list:
    return np.round(np.asarray(matrix, dtype=float), 4).tolist()


class Nordt2023VtcRsa(TopoBenchmark):
    """Rank correlation of the model's split-half category RSM with each child's VTC RSM."""

    identifier = IDENTIFIER
    version = 2
    region = REGION
    bibtex = BIBTEX
    datasets = ("floc", "nordt2023_vtc_rsm")
    family = "responses"
    report_only = False
    no_controls_reason = RESPONSES_NO_CONTROLS
    cost = Cost(images=FLOC_IMAGES, stimuli=FLOC_STIMULI, region=REGION, features=FULL, copies=3.0,
                fixed_seconds=2.5, fit=Fit("split-half category matrices, 10 splits", "linear", repeats=10 * 2))

    def __init__(self, n_splits: int = 10, seed: int = 0, rois=None, min_age_years: float | None = None,
                 subjects=None, stimuli=None, reference=None):
        super().__init__()
        self.n_splits = int(n_splits)
        self.seed = int(seed)
        self.rois = None if rois is None else tuple(rois)
        self.min_age_years = min_age_years
        self.subjects = None if subjects is None else tuple(subjects)
        self._stimuli = stimuli
        self._reference = None
        if reference is not None:
            self._reference = reference.subset(self.subjects) if self.subjects is not None else reference

    @property
    def reference(self):
        """The per-subject matrices (``SubjectRSMs``), loaded on first use (or the
        ``reference`` given, e.g. to hold subjects out in tests)."""
        if self._reference is None:
            from topobench.reference_data.nordt2023 import ROIS, load_nordt2023
            reference = load_nordt2023(rois=self.rois or ROIS, min_age_years=self.min_age_years)
            self._reference = reference.subset(self.subjects) if self.subjects is not None else reference
        return self._reference

    def make_ceiling(self) -> HeldOutSubject:
        """Each subject against the mean of the others, on the 45 off-diagonal cells: the ceiling is the
        mean over subjects of corr(subject, mean of the others)."""
        return HeldOutSubject(upper_cells(self.reference.matrices), spearman, self.reference.subjects)

    @property
    def held_out_subject(self) -> HeldOutSubject:
        """The ceiling object (:attr:`ceiling_object`)."""
        return self.ceiling_object

    def raw_per_target(self, model_matrix) -> np.ndarray:
        """corr(model, mean of the subjects other than s) for every subject s."""
        return self.held_out_subject.model_agreements(upper_cells(np.asarray(model_matrix, dtype=float)))

    def make_stimuli(self):
        from topobench.stimuli.floc import floc_stimuli
        return floc_stimuli(include_scrambled=False)

    def score_matrix(self, model_matrix, extra_details: dict | None = None) -> Score:
        """The score of a 10 x 10 matrix in the reference's category order."""
        return self.score(self.compare((model_matrix, extra_details)))

    def compare(self, measurement) -> Comparison:
        """(10 x 10 matrix, details) against the children's matrices (see the module docstring)."""
        model_matrix, extra_details = measurement
        reference = self.reference
        model_matrix = np.asarray(model_matrix, dtype=float)
        if model_matrix.shape != (len(reference.categories),) * 2:
            raise ValueError(f"a model matrix must be {len(reference.categories)} x {len(reference.categories)} "
                             f"in the order {reference.categories}, got shape {model_matrix.shape}")
        per_target = self.raw_per_target(model_matrix)
        if not np.all(np.isfinite(per_target)):
            raise ModelError(f"{IDENTIFIER}: the model's matrix has constant off-diagonal cells; its units "
                             f"do not tell the categories apart")
        per_subject = subject_correlations(model_matrix, reference.matrices)
        ceiling_score = self.ceiling
        ceiling = float(ceiling_score)
        loo = np.asarray(ceiling_score.attrs["per_individual"])
        raw = float(per_target.mean())
        error = self.held_out_subject.jackknife_error(per_target) / ceiling
        details = {
            "categories": list(reference.categories),
            "model_rsm": _rounded(model_matrix),
            "human_mean_rsm": _rounded(reference.matrices.mean(axis=0)),
            "comparison": "Spearman correlation of the 45 cells above the diagonal",
            "raw_per_target": {s: round(float(r), 4) for s, r in zip(reference.subjects, per_target)},
            "per_subject_ceiling": {s: round(float(r), 4) for s, r in zip(reference.subjects, loo)},
            "per_subject_correlation": {s: round(float(r), 4) for s, r in zip(reference.subjects, per_subject)},
            "per_subject_correlation_note": "Spearman(model, single subject): reported, not scored",
            "model_vs_human_mean": round(spearman(upper_cells(model_matrix),
                                                  upper_cells(reference.matrices.mean(axis=0))), 4),
            "n_subjects": len(reference.subjects),
            "subject_mean_ages_years": {s: round(float(a), 2) for s, a in zip(reference.subjects,
                                                                              reference.mean_age_years)},
            "subject_n_sessions": {s: int(n) for s, n in zip(reference.subjects, reference.n_sessions)},
            "rois": list(reference.rois),
            "min_age_years": reference.min_age_years,
            **self.held_out_subject.describe(),
            "ceiling_rule": "mean over subjects s of Spearman(subject s, mean of the subjects other than s)",
            "raw_rule": "mean over subjects s of Spearman(model, mean of the subjects other than s)",
            "error_rule": ("jackknife standard error over subjects of Spearman(model, mean of the subjects other "
                           "than s), divided by the ceiling"),
            "n_splits": self.n_splits,
            "seed": self.seed,
        }
        details.update(extra_details or {})
        return Comparison(raw, error, details)

    def measure(self, recording, model, layer):
        """(the model's 10 x 10 split-half matrix, details)."""
        assembly = recording
        identifier = getattr(model, "identifier", type(model).__name__)
        categories = assembly["category"].values
        try:
            matrix, splits, n_units = split_half_rsm(assembly.values, categories, self.reference.categories,
                                                     self.n_splits, self.seed, return_splits=True)
        except ValueError as error:
            raise ModelError(f"{IDENTIFIER}: cannot build the VTC matrix of model {identifier} "
                             f"(layer {layer}): {error}") from None
        per_split = [float(np.mean(self.raw_per_target(m))) for m in splits]
        extra = {"layer": layer, "n_units": int(assembly.shape[1]),
                 "n_units_used_per_split": n_units, "n_images": int(assembly.shape[0]),
                 "raw_per_split": [round(v, 4) for v in per_split],
                 "model_rsm_diagonal_mean": round(float(np.mean(np.diag(matrix))), 4),
                 "stimulus_set": getattr(self.stimuli, "identifier", None)}
        if "positions_by_default" in assembly.attrs:
            extra["positions_by_default"] = bool(assembly.attrs["positions_by_default"])
        return matrix, extra
