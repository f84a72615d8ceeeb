"""Category selectivity of model units to the fLoc domains.

fLoc's 10 categories (without "scrambled") pool into five domains of two
categories each: faces (adult, child), bodies (body, limb), characters (word,
number), places (house, corridor), objects (car, instrument). A unit's
selectivity for a domain contrasts its responses to that domain's images
("on") with its responses to every other domain's images ("off"), as TDANN did
(``spacetorch.datasets.floc.fLocResponses.selectivity``):

- ``dprime`` (default): (mean_on - mean_off) / sqrt((var_on + var_off) / 2),
  population variances. It does not grow with the number of images.
- ``t``: Welch's t, (mean_on - mean_off) / sqrt(var_on / n_on + var_off / n_off),
  TDANN's measure. t grows like sqrt(number of images), so it is computed on a
  fixed number of images per category (``n_images_per_category``, default
  144: all of fLoc's, which is TDANN's setting, so t-thresholds from TDANN
  apply as they are). With equal variances, t = d' / sqrt(1 / n_on + 1 / n_off),
  i.e. t = 15.18 d' for 288 against 1,152 images.

A unit whose on and off responses are both constant gets 0.
"""
from __future__ import annotations

import numpy as np

#: Domain -> its two fLoc categories, in the order every result uses.
DOMAINS = {
    "faces": ("adult", "child"),
    "bodies": ("body", "limb"),
    "characters": ("word", "number"),
    "places": ("house", "corridor"),
    "objects": ("car", "instrument"),
}
FLOC_IMAGES_PER_CATEGORY = 144
#: t = d' x T_PER_DPRIME for 288 "on" against 1,152 "off" images with equal variances.
T_PER_DPRIME_FULL_FLOC = 1.0 / np.sqrt(1.0 / 288 + 1.0 / 1152)


def dprime(on, off) -> np.ndarray:
    """d' per column of ``on`` (n_on, n_units) against ``off`` (n_off, n_units)."""
    on, off = np.asarray(on, dtype=np.float64), np.asarray(off, dtype=np.float64)
    denominator = np.sqrt((on.var(axis=0) + off.var(axis=0)) / 2.0)
    difference = on.mean(axis=0) - off.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, difference / np.where(denominator > 0, denominator, 1.0), 0.0)


def tstat(on, off) -> np.ndarray:
    """Welch's t per column of ``on`` against ``off`` (population variances, as TDANN)."""
    on, off = np.asarray(on, dtype=np.float64), np.asarray(off, dtype=np.float64)
    denominator = np.sqrt(on.var(axis=0) / on.shape[0] + off.var(axis=0) / off.shape[0])
    difference = on.mean(axis=0) - off.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, difference / np.where(denominator > 0, denominator, 1.0), 0.0)


def fixed_count_indices(categories, n_per_category: int, seed: int = 0) -> np.ndarray:
    """Indices of ``n_per_category`` images of every category (the first ones of a
    seeded permutation), in image order; an error if a category has fewer."""
    categories = np.asarray(categories)
    rng = np.random.default_rng(seed)
    chosen = []
    for category in sorted(set(categories.tolist())):
        found = np.flatnonzero(categories == category)
        if found.size < n_per_category:
            raise ValueError(f"category '{category}' has {found.size} images; t on a fixed image count "
                             f"needs {n_per_category} per category")
        chosen.append(rng.permutation(found)[:n_per_category] if found.size > n_per_category else found)
    return np.sort(np.concatenate(chosen))


def category_statistics(responses, categories, weights=None) -> dict:
    """{category: (n, mean, population variance)} per unit, from ``responses``
    (n_images, n_units); ``weights`` (n_images,) counts each image that many times
    (a bootstrap resample without copying the responses)."""
    responses = np.asarray(responses)
    categories = np.asarray(categories)
    weights = np.ones(len(categories)) if weights is None else np.asarray(weights, dtype=np.float64)
    stats = {}
    for category in sorted(set(categories.tolist())):
        index = np.flatnonzero((categories == category) & (weights > 0))
        block = responses[index].astype(np.float64)
        w = weights[index]
        n = float(w.sum())
        mean = w @ block / n
        block -= mean
        var = w @ (block * block) / n
        stats[category] = (n, mean, var)
    return stats


def _pooled(stats: dict, members) -> tuple:
    n = sum(stats[c][0] for c in members)
    mean = sum(stats[c][0] * stats[c][1] for c in members) / n
    var = sum(stats[c][0] * (stats[c][2] + (stats[c][1] - mean) ** 2) for c in members) / n
    return n, mean, var


def domain_selectivity(responses, categories, measure: str = "dprime",
                       n_images_per_category: int | None = FLOC_IMAGES_PER_CATEGORY,
                       seed: int = 0, domains: dict = DOMAINS, weights=None) -> dict:
    """Selectivity of every unit for every domain: {domain: (n_units,) array}.

    ``responses``: (n_images, n_units); ``categories``: each image's fLoc
    category (images of categories outside ``domains``, e.g. scrambled, are
    ignored). ``measure``: 'dprime' or 't'; for 't' every category is cut to
    ``n_images_per_category`` images (seeded) first. ``weights``: per-image
    counts of a bootstrap resample (:func:`bootstrap_weights`), or None.
    """
    responses = np.asarray(responses)
    categories = np.asarray(categories)
    weights = np.ones(len(categories)) if weights is None else np.asarray(weights, dtype=np.float64)
    known = [c for pair in domains.values() for c in pair]
    use = np.isin(categories, known)
    missing = sorted(set(known) - set(categories[use].tolist()))
    if missing:
        raise ValueError(f"no images of categor{'y' if len(missing) == 1 else 'ies'} {missing}")
    index = np.flatnonzero(use)
    if measure == "t":
        if n_images_per_category is None:
            raise ValueError("t needs a fixed n_images_per_category (t grows with the image count)")
        index = index[fixed_count_indices(categories[index], n_images_per_category, seed)]
    elif measure != "dprime":
        raise ValueError(f"unknown selectivity measure '{measure}' (use 'dprime' or 't')")
    stats = category_statistics(responses[index] if index.size < len(categories) else responses,
                                categories[index], weights[index])
    result = {}
    for domain, members in domains.items():
        others = [c for c in known if c not in members]
        n_on, mean_on, var_on = _pooled(stats, members)
        n_off, mean_off, var_off = _pooled(stats, others)
        if measure == "t":
            denominator = np.sqrt(var_on / n_on + var_off / n_off)
        else:
            denominator = np.sqrt((var_on + var_off) / 2.0)
        # a unit constant over the images has (up to rounding) zero spread: selectivity 0
        valid = denominator > 1e-9 * (np.abs(mean_on) + np.abs(mean_off)) + 1e-300
        result[domain] = np.where(valid, (mean_on - mean_off) / np.where(valid, denominator, 1.0), 0.0)
    return result


def bootstrap_weights(categories, rng: np.random.Generator) -> np.ndarray:
    """One bootstrap resample of the images as per-image counts: within each category,
    as many draws as it has images, with replacement (every category keeps its count)."""
    categories = np.asarray(categories)
    weights = np.zeros(len(categories))
    for category in sorted(set(categories.tolist())):
        index = np.flatnonzero(categories == category)
        weights[index] = rng.multinomial(index.size, np.full(index.size, 1.0 / index.size))
    return weights


def selective_fractions(selectivity: dict, threshold: float) -> dict:
    """Fraction of units above ``threshold`` for each domain."""
    return {domain: float(np.mean(values > threshold)) for domain, values in selectivity.items()}
