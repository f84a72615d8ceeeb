"""Ceilings with one meaning: what one more individual gets.

**What 1 means** (README, "What 1 means"; DESIGN.md, "Score semantics"). A
ceiled score of 1 means that the model is as close to the reference as one
more individual is: one more animal (half of the animals), subject, imaging
site or half of the repeats. Every ceiling is therefore the agreement of a
real individual, held out from its target, with that target, computed by the
*same* metric, against the *same* targets and with the *same* amount of data
as the model's raw score. Each class below computes both sides, the ceiling
(the individuals' agreements) and the model's agreement with the very same
targets, so that the two cannot drift apart; brain data entered as a model
(one held-out individual) lands at raw / ceiling of about 1, and a model cannot
outrank a real individual by the ceiling's construction.

The ceilings (one individual -> its target; used by):

- :class:`SplitByAnimal`: the cells of half of the animals -> the cells of the
  other half (Ringach2002).
- :class:`HeldOutSubject`: one subject -> the mean of the other subjects
  (Nordt2023).
- :class:`SplitHalfReliability`: the repeat averages of half of the repeats, all
  neurons entered as a model -> each neuron's repeat average in the other half
  (Cowley2023 V4-ridge, V4-pls).
- :class:`SiteAgainstSite`: one imaging plane of one site -> the other imaging
  site (the rule of Nauhaus2012, ready to adopt: it gives its ceiling exactly).
- :class:`PublishedClaims`: no individual; the reference is claims from papers
  without a reliability, ceiling 1 (GrillSpector2014, Stigliani2015,
  DeValois1982).

``compute()`` (also ``__call__``) returns a ``brainscore_core.metrics.Score``
whose value is the ceiling and whose attrs are ``error`` (the standard
deviation of the individuals' agreements: how far one more individual may
land from the ceiling), ``per_individual`` (those agreements, for ``details``),
``n_individuals``, ``rule`` (one line: the formula) and ``method`` (the class
name). :meth:`Ceiling.describe` gives the same as a JSON-ready dict.
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np
from brainscore_core.metrics import Score


class Ceiling:
    """A ceiling: the mean agreement of held-out individuals with their targets.

    Subclasses set ``rule`` and implement :meth:`individual_agreements`; the
    result is cached (a ceiling never depends on the model).
    """

    rule: str = ""

    def __init__(self):
        self._score = None

    def individual_agreements(self) -> np.ndarray:
        """One agreement per individual (or per split / direction), in the raw score's units."""
        raise NotImplementedError

    def _value(self, agreements: np.ndarray) -> float:
        return float(np.mean(agreements))

    def compute(self) -> Score:
        if self._score is None:
            agreements = np.asarray(self.individual_agreements(), dtype=np.float64)
            score = Score(np.float64(self._value(agreements)))
            per_individual = agreements if agreements.ndim == 1 else \
                np.nanmean(agreements.reshape(agreements.shape[0], -1), axis=1)
            score.attrs["error"] = float(np.std(per_individual)) if per_individual.size > 1 else float("nan")
            score.attrs["per_individual"] = [float(v) for v in per_individual]
            score.attrs["n_individuals"] = int(per_individual.size)
            score.attrs["rule"] = self.rule
            score.attrs["method"] = type(self).__name__
            self._score = score
        return self._score

    def __call__(self) -> Score:
        return self.compute()

    def describe(self) -> dict:
        """JSON-ready summary for a score's ``details``."""
        score = self.compute()
        return {"ceiling_method": score.attrs["method"], "ceiling_rule": score.attrs["rule"],
                "ceiling_error_rule": "standard deviation over the individuals (or splits) of their agreement",
                "ceiling_n_individuals": score.attrs["n_individuals"]}


# ----------------------------------------------------------------------------- Ringach 2002
class SplitByAnimal(Ceiling):
    """Cells of half of the animals against the cells of the other half.

    For each of ``n_splits`` random splits of the animals into halves A and B
    (``seed``; ``topobench.metrics.distribution_similarity.animal_splits``)::

        ceiling_s = 1 - KS(cells of A, cells of B)
        raw_s     = 1 - KS(|A| model values drawn with replacement, cells of B)

    ceiling = mean_s ceiling_s, raw = mean_s raw_s: the model and the
    individual (half A) are compared with the same target (half B) by the same
    metric with samples of the same size. One more individual = the cells of
    animals not in the reference. Data: Ringach, Shapley & Hawken (2002), J
    Neurosci 22:5639 (308 cells, 26 animals); rule: DESIGN.md, "Ringach 2002
    comparison". Brain data as a model (the cells of a random half of the
    animals, against a reference of the other half): 0.996 +- 0.038 (0.92 to
    1.05).
    """

    rule = ("mean over random splits of the animals into halves A and B of 1 - KS(cells of A, cells of B); "
            "the model: 1 - KS(|A| of its values drawn with replacement, cells of B) on the same splits")

    def __init__(self, values, animals, n_splits: int = 100, seed: int = 0):
        super().__init__()
        self.values = np.asarray(values, dtype=float)
        self.animals = np.asarray(animals)
        self.n_splits = int(n_splits)
        self.seed = int(seed)

    def individual_agreements(self) -> np.ndarray:
        from topobench.metrics.distribution_similarity import split_half_ceiling
        return split_half_ceiling(self.values, self.animals, self.n_splits, self.seed)

    def compare(self, model_values):
        """The model's side on the same splits: a ``SplitHalfResult`` (raw, ceiling, error per split)."""
        from topobench.metrics.distribution_similarity import split_half_by_animal
        return split_half_by_animal(self.values, self.animals, model_values, n_splits=self.n_splits,
                                    seed=self.seed)


# ----------------------------------------------------------------------------- Nordt 2023
class HeldOutSubject(Ceiling):
    """One subject against the mean of the other subjects.

    With ``T_s`` the mean of the measurements of every subject but s::

        ceiling = mean_s agreement(subject s, T_s)
        raw     = mean_s agreement(model, T_s)

    The model meets exactly the targets the subjects met (each a mean of N - 1
    subjects), by the same metric, so a subject held out of the reference and
    entered as a model (its targets: means of N - 2 of the remaining N - 1
    subjects, as each of those met) lands at raw / ceiling of about 1. Why not
    the model against each single subject (as before): a single subject is a
    noisier target than a group mean, so the model would meet noisier targets
    than the subjects did and one held-out subject scored 0.88. Why not the
    model against the mean of all N: that target holds one subject more than
    any subject's target; the difference is small (about 0.0005 here) and the
    leave-one-out targets make the two sides identical. The ceiling is the
    lower bound of the noise ceiling of Nili et al. (2014), PLoS Comput Biol
    10:e1003553 ("A toolbox for representational similarity analysis").

    ``measurements``: (n_subjects, ...) arrays, e.g. the 45 off-diagonal cells
    of each subject's matrix; ``agreement(candidate, target) -> float``.
    """

    rule = ("mean over subjects s of agreement(subject s, mean of the subjects other than s); the model: "
            "mean over s of agreement(model, mean of the subjects other than s)")

    def __init__(self, measurements, agreement: Callable, subjects: Sequence | None = None):
        super().__init__()
        self.measurements = np.asarray(measurements, dtype=np.float64)
        if self.measurements.shape[0] < 2:
            raise ValueError("a held-out-subject ceiling needs 2 or more subjects")
        self.agreement = agreement
        self.subjects = tuple(subjects) if subjects is not None else tuple(range(self.measurements.shape[0]))

    def targets(self) -> np.ndarray:
        """(n_subjects, ...) the mean of the other subjects, per subject."""
        n = self.measurements.shape[0]
        return (self.measurements.sum(axis=0)[None] - self.measurements) / (n - 1)

    def individual_agreements(self) -> np.ndarray:
        return np.array([self.agreement(own, target) for own, target in zip(self.measurements, self.targets())])

    def model_agreements(self, model_measurement) -> np.ndarray:
        """(n_subjects,) agreement of the model with the same targets."""
        return np.array([self.agreement(model_measurement, target) for target in self.targets()])

    def jackknife_error(self, agreements) -> float:
        """Jackknife standard error of a mean of agreements with leave-one-subject-out targets
        (they are the jackknife replicates of the agreement with the mean of all subjects)."""
        agreements = np.asarray(agreements, dtype=np.float64)
        n = agreements.size
        return float(np.sqrt((n - 1) / n * np.sum((agreements - agreements.mean()) ** 2))) if n > 1 else float("nan")


# ----------------------------------------------------------------------------- Cowley 2023
def repeat_halves(repeats, n_splits: int, seed: int) -> np.ndarray:
    """(n_splits, 2, images, neurons): the two half-means of the repeats of each image.

    ``repeats``: (images, neurons, repetitions), NaN-padded (the same repeats for
    every neuron of an image, at least 2 per image). Each split shuffles each
    image's repeats and gives the first half floor(n / 2) of them, the second
    the rest (an odd count gives the second half one more).
    """
    values = np.asarray(repeats, dtype=np.float64)
    if values.ndim != 3:
        raise ValueError(f"repeats must be (images, neurons, repetitions), got shape {values.shape}")
    present = ~np.isnan(values[:, 0, :])
    counts = present.sum(axis=1)
    if (counts < 2).any():
        raise ValueError(f"{int((counts < 2).sum())} images have fewer than 2 repeats")
    n_images, n_neurons, n_repetitions = values.shape
    filled = np.nan_to_num(values)
    rng = np.random.default_rng(seed)
    out = np.empty((n_splits, 2, n_images, n_neurons))
    for split in range(n_splits):
        keys = rng.random((n_images, n_repetitions))
        keys[~present] = np.inf
        rank = np.argsort(np.argsort(keys, axis=1), axis=1)  # rank among the image's repeats; missing last
        first = present & (rank < (counts // 2)[:, None])
        second = present & ~first
        out[split, 0] = (filled * first[:, None, :]).sum(axis=2) / first.sum(axis=1)[:, None]
        out[split, 1] = (filled * second[:, None, :]).sum(axis=2) / second.sum(axis=1)[:, None]
    return out


class SplitHalfReliability(Ceiling):
    """Half of the repeats, entered as a model, predicting the other half.

    For each of ``n_splits`` random splits of every image's repeats into halves
    (``seed``; :func:`repeat_halves`) and each direction, the repeat averages of
    one half of *all* neurons are the features of the benchmark's own
    cross-validated map (``predict``: same folds, same penalty search, same
    Pearson r), which predicts each neuron's repeat average in the other half::

        ceiling_i = mean over (split, direction) of r_i(other half -> this half)
        r_i       = mean over the same (split, direction) of r_i(model -> this half)

    No Spearman-Brown step on either side: the model and the individual (half
    the repeats) predict the same targets (half the repeats) with the same map,
    so raw and ceiling share their noise and their amount of data. A noise-free
    model, which no half of the repeats is, can score above 1 (clipped). The
    split-half reliability of repeats as a ceiling follows Brain-Score's internal
    consistency (Schrimpf et al. 2018, bioRxiv 407007), here mapped through
    the benchmark's regression instead of corrected by Spearman-Brown.

    ``predict(features, targets_list) -> list of (neurons,) r`` fits
    ``features`` (images, k) to each (images, neurons) target of
    ``targets_list`` and returns each neuron's held-out r per target. The
    ceiling value is the mean over neurons of ``ceiling_i``; the per-neuron
    values are :meth:`per_neuron`.
    """

    rule = ("per neuron: mean over random splits of the repeats into halves, both directions, of the held-out r "
            "of the benchmark's cross-validated map from one half's repeat averages of all neurons to the other "
            "half's (no Spearman-Brown); the model: the same map from its features to the same halves")

    def __init__(self, repeats, predict: Callable, n_splits: int = 5, seed: int = 0):
        super().__init__()
        self.repeats = np.asarray(repeats, dtype=np.float64)
        self.predict = predict
        self.n_splits = int(n_splits)
        self.seed = int(seed)
        self._halves = None
        self._r = None

    def halves(self) -> np.ndarray:
        if self._halves is None:
            self._halves = repeat_halves(self.repeats, self.n_splits, self.seed)
        return self._halves

    def targets(self) -> list:
        """The 2 x n_splits half-averages, in (split, half) order."""
        halves = self.halves()
        return [halves[s, h] for s in range(self.n_splits) for h in (0, 1)]

    def individual_r(self) -> np.ndarray:
        """(2 n_splits, neurons): r of the other half predicting each target half."""
        if self._r is None:
            halves = self.halves()
            rows = []
            for s in range(self.n_splits):
                for h in (0, 1):
                    rows.append(self.predict(halves[s, 1 - h], [halves[s, h]])[0])
            self._r = np.stack(rows)
        return self._r

    def individual_agreements(self) -> np.ndarray:
        return self.individual_r()

    def _value(self, agreements: np.ndarray) -> float:
        return float(np.nanmean(np.nanmean(agreements, axis=0)))

    def per_neuron(self) -> np.ndarray:
        """(neurons,) the ceiling of each neuron's r."""
        return np.nanmean(self.individual_r(), axis=0)

    def model_r(self, features) -> np.ndarray:
        """(2 n_splits, neurons): the model's r against the same target halves."""
        return np.stack(self.predict(features, self.targets()))


# ----------------------------------------------------------------------------- Nauhaus 2012
class SiteAgainstSite(Ceiling):
    """One imaging plane against the other imaging site(s).

    ``plane_sites``: plane -> its site; ``agreement(plane, site) -> float``:
    the benchmark's agreement of that plane's measurement with a site's
    reference (computed without the plane's own site)::

        ceiling = mean over planes p of mean over sites t != site(p) of agreement(p, t)
        raw     = mean over sites t of agreement(model, t)      (:meth:`model_raw`)

    The two planes of one site are the same columns at two depths, not
    independent individuals, so a plane is only compared with another site.
    With two sites and the same number of planes in each, every site is a
    target equally often on both sides. Data: Nauhaus, Nielsen, Disney &
    Callaway (2012), Nat Neurosci 15:1683, Fig. 2 (two sites, two planes each).
    """

    rule = "mean over macaque imaging planes of the agreement of one plane with the other site(s)"

    def __init__(self, plane_sites: Mapping, agreement: Callable):
        super().__init__()
        self.plane_sites = dict(plane_sites)
        self.sites = sorted(set(self.plane_sites.values()))
        if len(self.sites) < 2:
            raise ValueError("a site-against-site ceiling needs 2 or more sites")
        self.agreement = agreement

    def per_plane(self) -> dict:
        return {plane: float(np.mean([self.agreement(plane, other) for other in self.sites if other != site]))
                for plane, site in self.plane_sites.items()}

    def individual_agreements(self) -> np.ndarray:
        return np.array(list(self.per_plane().values()))

    def model_raw(self, agreement_with_site: Callable) -> float:
        """mean over sites t of ``agreement_with_site(t)``."""
        return float(np.mean([agreement_with_site(site) for site in self.sites]))


# ----------------------------------------------------------------------------- claims from papers
class PublishedClaims(Ceiling):
    """No individual to hold out: the reference is a claim from papers (or a number
    quoted from them) without a reliability, so the ceiling is 1 with no error,
    and the benchmark says in ``details`` how its raw score is scaled into [0, 1]
    (DESIGN.md, "Score semantics"). Brain data entered as a model cannot be made.
    """

    rule = "1: the reference is claims from papers without a reliability; the raw score is scaled to [0, 1]"

    def individual_agreements(self) -> np.ndarray:
        return np.array([1.0])

    def compute(self) -> Score:
        score = super().compute()
        score.attrs["error"] = 0.0
        score.attrs["n_individuals"] = 0
        score.attrs["per_individual"] = []
        return score

    def describe(self) -> dict:
        return {"ceiling_method": type(self).__name__, "ceiling_rule": self.rule,
                "ceiling_error_rule": "none: 0", "ceiling_n_individuals": 0}
