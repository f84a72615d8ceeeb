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
reliability, not similarity), by Spearman rank correlation.
raw = mean over subjects of corr(model, subject);
ceiling = mean over subjects of corr(subject, mean of the other subjects).
Score = raw / ceiling, clipped to [0, 1]. Error = the standard error over
subjects of corr(model, subject) / ceiling.

Measured (tests/test_rsa.py): ceiling 0.859; the mean of a random half of the
subjects entered as the model, scored against the other half, about 1.00
(0.985 to 1.017 over 50 halvings); a single held-out subject about 0.88 (0.76 to
0.96; a single subject carries its own measurement noise, which the ceiling's
group mean does not); a random matrix and Gaussian-noise features about 0.
"""
from __future__ import annotations

import numpy as np
from brainscore_core.benchmarks import BenchmarkBase

from topobench.errors import ModelError
from topobench.model_interface import require_region
from topobench.metrics.rsa import (leave_one_out_correlations, spearman, split_half_rsm, subject_correlations,
                                   upper_cells)
from topobench.scores import ceiled_score

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


class Nordt2023VtcRsa(BenchmarkBase):
    """Rank correlation of the model's split-half category RSM with each child's VTC RSM."""

    datasets = ("floc", "nordt2023_vtc_rsm")

    def __init__(self, n_splits: int = 10, seed: int = 0, rois=None, min_age_years: float | None = None,
                 subjects=None, stimuli=None, reference=None):
        super().__init__(identifier=IDENTIFIER, ceiling=None, version=1, parent=REGION, bibtex=BIBTEX)
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

    @property
    def ceiling(self) -> float:
        """Mean over subjects of corr(subject, mean of the others) on the 45 off-diagonal cells."""
        return float(np.mean(leave_one_out_correlations(self.reference.matrices)))

    @property
    def stimuli(self):
        if self._stimuli is None:
            from topobench.stimuli.floc import floc_stimuli
            self._stimuli = floc_stimuli(include_scrambled=False)
        return self._stimuli

    def score_matrix(self, model_matrix, extra_details: dict | None = None):
        """The score of a 10 x 10 matrix in the reference's category order."""
        reference = self.reference
        model_matrix = np.asarray(model_matrix, dtype=float)
        if model_matrix.shape != (len(reference.categories),) * 2:
            raise ValueError(f"a model matrix must be {len(reference.categories)} x {len(reference.categories)} "
                             f"in the order {reference.categories}, got shape {model_matrix.shape}")
        per_subject = subject_correlations(model_matrix, reference.matrices)
        if not np.all(np.isfinite(per_subject)):
            raise ModelError(f"{IDENTIFIER}: the model's matrix has constant off-diagonal cells; its units "
                             f"do not tell the categories apart")
        loo = leave_one_out_correlations(reference.matrices)
        ceiling = float(loo.mean())
        raw = float(per_subject.mean())
        error = float(per_subject.std(ddof=1) / np.sqrt(per_subject.size) / ceiling) if per_subject.size > 1 \
            else float("nan")
        details = {
            "categories": list(reference.categories),
            "model_rsm": _rounded(model_matrix),
            "human_mean_rsm": _rounded(reference.matrices.mean(axis=0)),
            "comparison": "Spearman correlation of the 45 cells above the diagonal",
            "per_subject_correlation": {s: round(float(r), 4) for s, r in zip(reference.subjects, per_subject)},
            "per_subject_ceiling": {s: round(float(r), 4) for s, r in zip(reference.subjects, loo)},
            "model_vs_human_mean": round(spearman(upper_cells(model_matrix),
                                                  upper_cells(reference.matrices.mean(axis=0))), 4),
            "n_subjects": len(reference.subjects),
            "subject_mean_ages_years": {s: round(float(a), 2) for s, a in zip(reference.subjects,
                                                                              reference.mean_age_years)},
            "subject_n_sessions": {s: int(n) for s, n in zip(reference.subjects, reference.n_sessions)},
            "rois": list(reference.rois),
            "min_age_years": reference.min_age_years,
            "ceiling_rule": "mean over subjects of Spearman(subject, mean of the other subjects)",
            "raw_rule": "mean over subjects of Spearman(model, subject)",
            "error_rule": "standard error over subjects of Spearman(model, subject), divided by the ceiling",
            "n_splits": self.n_splits,
            "seed": self.seed,
        }
        details.update(extra_details or {})
        return ceiled_score(raw, ceiling, error, details)

    def __call__(self, model):
        layer = require_region(model, REGION, IDENTIFIER)
        identifier = getattr(model, "identifier", type(model).__name__)
        assembly = model.record(self.stimuli, REGION)
        categories = assembly["category"].values
        try:
            matrix, splits, n_units = split_half_rsm(assembly.values, categories, self.reference.categories,
                                                     self.n_splits, self.seed, return_splits=True)
        except ValueError as error:
            raise ModelError(f"{IDENTIFIER}: cannot build the VTC matrix of model {identifier} "
                             f"(layer {layer}): {error}") from None
        per_split = [float(np.mean(subject_correlations(m, self.reference.matrices))) for m in splits]
        extra = {"layer": layer, "n_units": int(assembly.shape[1]),
                 "n_units_used_per_split": n_units, "n_images": int(assembly.shape[0]),
                 "raw_per_split": [round(v, 4) for v in per_split],
                 "model_rsm_diagonal_mean": round(float(np.mean(np.diag(matrix))), 4),
                 "stimulus_set": getattr(self.stimuli, "identifier", None)}
        if "positions_by_default" in assembly.attrs:
            extra["positions_by_default"] = bool(assembly.attrs["positions_by_default"])
        return self.score_matrix(matrix, extra)
