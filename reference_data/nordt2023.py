"""Human VTC representational similarity over the 10 fLoc categories (Nordt et al. 2023).

Nordt, M., Gomez, J., Natu, V. S., Rezai, A. A., Finzi, D., Kular, H. &
Grill-Spector, K. (2023). Longitudinal development of category representations
in ventral temporal cortex predicts word and face recognition. Nat Commun
14:8010. https://doi.org/10.1038/s41467-023-43146-w

The file is ``nordt2023_vtc_rsm/rsm_long.csv`` from the data host (a long-format
copy of ``data/RSM_zscore_allChildrenNew_vtc_noSubID.mat`` of
github.com/VPNL/distributedVTCDevelopment): one row per roi, subject and
session, with ``age`` (years), ``tSNR`` and 100 columns ``row|column`` named by
fLoc category. Each matrix correlates voxel patterns of the 10 categories
between two halves of a session's runs, each voxel z-scored across the 10
categories within each half, symmetrised: the diagonal is split-half
reliability (mean about 0.29), not 1 (DESIGN.md, "Human VTC RSA").

Checked here (``tests/test_rsa.py``): 512 rows = 4 rois x 128 sessions of 29
children (2 to 10 sessions each), aged 5.7 to 17.4 years; every matrix is
symmetric; no missing values; age and tSNR are per session (identical across
the four rois of a session).

**What the reference uses, and why** (defaults of :func:`load_nordt2023`):

- *rois*: all four (left and right hemisphere x lateral and medial VTC),
  averaged. A model's VTC sheet stands for the whole of VTC: face, body and
  word selectivity lie laterally and place selectivity medially, so neither
  half alone holds the structure the model is asked for. An RSM over the
  pooled voxels is close to the voxel-weighted mean of the per-roi RSMs, and
  the mean of the four is also the most reliable between subjects: the
  leave-one-subject-out ceiling is 0.859 with the four rois, 0.81 with both
  lateral or both medial rois, 0.75 to 0.78 with a single roi.
- *ages*: every session (5.7 to 17.4 years), each subject's sessions
  averaged first (DESIGN.md). The category structure is largely present at
  school age (Nordt et al. report changes in the distinctiveness of words and
  faces on top of a stable geometry), and restricting to older sessions lowers
  the ceiling and the number of subjects (sessions from 10 years: 24 subjects,
  ceiling 0.842; from 12 years: 17 subjects, 0.820). ``min_age_years`` selects
  older sessions for a benchmark variant that wants them.
- *subjects*: all 29; none is dropped for tSNR (the lowest session tSNR is 35).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DATASET = "nordt2023_vtc_rsm"
FILENAME = "rsm_long.csv"

#: Row and column order of every matrix: fLoc's own order, as in the file and in
#: TDANN's ``spacetorch.datasets.floc.CATEGORIES`` (characters, bodies, faces,
#: objects, places, each domain's two categories side by side).
CATEGORIES = ("number", "word", "limb", "body", "adult", "child", "car", "instrument", "house", "corridor")
ROIS = ("lh_vtc_lateral", "lh_vtc_medial", "rh_vtc_lateral", "rh_vtc_medial")
_COLUMNS = [f"{row}|{column}" for row in CATEGORIES for column in CATEGORIES]


@dataclass(frozen=True)
class SubjectRSMs:
    """Per-subject session-averaged 10 x 10 matrices in :data:`CATEGORIES` order.

    ``matrices``: (n_subjects, 10, 10); ``subjects``: ids in the file's naming
    (``subj1``...), sorted by number; ``mean_age_years`` and ``n_sessions`` per
    subject over the sessions used; ``rois`` and ``min_age_years`` /
    ``max_age_years`` as selected.
    """

    subjects: tuple
    matrices: np.ndarray
    mean_age_years: np.ndarray
    n_sessions: np.ndarray
    rois: tuple
    min_age_years: float | None
    max_age_years: float | None
    categories: tuple = CATEGORIES

    def subset(self, subjects) -> "SubjectRSMs":
        """The same reference restricted to ``subjects`` (ids), in this object's order."""
        wanted = set(subjects)
        unknown = wanted - set(self.subjects)
        if unknown:
            raise KeyError(f"no subject(s) {sorted(unknown)} in the Nordt 2023 reference")
        keep = np.array([s in wanted for s in self.subjects])
        return SubjectRSMs(tuple(np.array(self.subjects)[keep]), self.matrices[keep], self.mean_age_years[keep],
                           self.n_sessions[keep], self.rois, self.min_age_years, self.max_age_years,
                           self.categories)


def load_sessions() -> pd.DataFrame:
    """The raw table: one row per roi/subject/session (``roi, subject, session, age,
    tSNR`` and the 100 ``row|column`` cells), fetched and sha256-checked on first use."""
    from topobench.data_client import fetch

    table = pd.read_csv(fetch(DATASET, FILENAME))
    missing = [c for c in ["roi", "subject", "session", "age", "tSNR"] + _COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"{FILENAME}: missing columns {missing[:5]}{'...' if len(missing) > 5 else ''}")
    return table


def _subject_number(subject: str) -> int:
    digits = "".join(ch for ch in subject if ch.isdigit())
    return int(digits) if digits else 0


def load_nordt2023(rois=ROIS, min_age_years: float | None = None,
                   max_age_years: float | None = None) -> SubjectRSMs:
    """Session-averaged matrices per subject: the mean over ``rois`` of each
    session, then the mean over the subject's sessions with ``min_age_years <=
    age <= max_age_years`` (None: no bound). See the module docstring for why
    the defaults are all four rois and all ages."""
    rois = tuple(rois)
    unknown = set(rois) - set(ROIS)
    if unknown or not rois:
        raise ValueError(f"rois must be a non-empty subset of {ROIS}, got {rois}")
    table = load_sessions()
    table = table[table["roi"].isin(rois)]
    if min_age_years is not None:
        table = table[table["age"] >= min_age_years]
    if max_age_years is not None:
        table = table[table["age"] <= max_age_years]
    if table.empty:
        raise ValueError(f"no session of Nordt 2023 within ages [{min_age_years}, {max_age_years}]")
    per_session = table.groupby(["subject", "session"])[_COLUMNS + ["age"]].mean()
    per_subject = per_session.groupby(level="subject")
    means = per_subject.mean()
    counts = per_subject.size()
    order = sorted(means.index, key=_subject_number)
    matrices = means.loc[order, _COLUMNS].to_numpy(dtype=float).reshape(-1, len(CATEGORIES), len(CATEGORIES))
    return SubjectRSMs(tuple(order), matrices, means.loc[order, "age"].to_numpy(dtype=float),
                       counts.loc[order].to_numpy(dtype=int), rois, min_age_years, max_age_years)
