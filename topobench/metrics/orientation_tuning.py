"""Orientation tuning of model units from responses to sine gratings.

Preferred orientation and circular variance come from the closed-form circular
mean of the tuning curve, as Ringach, Shapley & Hawken (2002, J Neurosci
22:5639) define them, not from a curve fit per unit. For responses r_k >= 0 at
orientations theta_k (degrees, period 180):

    R  = sum_k r_k exp(2i theta_k)
    preferred orientation = angle(R) / 2            (degrees in [0, 180))
    circular variance     = 1 - |R| / sum_k r_k      (0: one orientation only,
                                                      1: flat tuning curve)

**Negative responses are clipped to 0** before either statistic is computed:
circular variance is defined for non-negative rates (a firing rate), and a
negative value would let |R| / sum r exceed 1. A unit whose clipped tuning
curve is all zero has no preferred orientation and no circular variance (NaN).

:func:`grating_tuning` applies this to a model's responses to the grating set
(``topobench.stimuli.gratings.sine_gratings``) as Ringach et al. measured
cells (DESIGN.md, "Gratings and tuning (V1)"): black/white gratings only, each
unit's tuning curve at its own preferred spatial frequency, averaged over
phase. (TDANN averaged over all frequencies and colours, which inflates
circular variance.) Everything is vectorised over units: the assembly is
reshaped into an array units x orientation x spatial frequency x phase.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

#: Orientation period of a grating, degrees.
PERIOD_DEG = 180.0


def _resultant(responses: np.ndarray, orientations_deg, axis: int = -1):
    """(sum r exp(2i theta), sum r) along ``axis`` after clipping r to >= 0."""
    responses = np.clip(np.asarray(responses, dtype=float), 0.0, None)
    responses = np.moveaxis(responses, axis, -1)
    orientations = np.asarray(orientations_deg, dtype=float)
    if orientations.shape != (responses.shape[-1],):
        raise ValueError(f"{orientations.size} orientations for tuning curves of length "
                         f"{responses.shape[-1]}")
    phasors = np.exp(2j * np.deg2rad(orientations))
    return responses @ phasors, responses.sum(axis=-1)


def orientation_statistics(responses, orientations_deg, axis: int = -1):
    """Preferred orientation (degrees, [0, 180)) and circular variance of tuning curves.

    ``responses`` holds tuning curves along ``axis`` (any leading/trailing shape,
    e.g. units x orientations); negative responses are clipped to 0. Units whose
    clipped curve sums to 0 get NaN for both.
    """
    resultant, total = _resultant(responses, orientations_deg, axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        circular_variance = 1.0 - np.abs(resultant) / total
    preferred = np.mod(np.rad2deg(np.angle(resultant)) / 2.0, PERIOD_DEG)
    empty = ~(total > 0)
    circular_variance = np.where(empty, np.nan, np.clip(circular_variance, 0.0, 1.0))
    preferred = np.where(empty, np.nan, preferred)
    return preferred, circular_variance


def circular_variance(responses, orientations_deg, axis: int = -1) -> np.ndarray:
    """1 - |sum r exp(2i theta)| / sum r (Ringach 2002); see :func:`orientation_statistics`."""
    return orientation_statistics(responses, orientations_deg, axis)[1]


def preferred_orientation(responses, orientations_deg, axis: int = -1) -> np.ndarray:
    """angle(sum r exp(2i theta)) / 2 in degrees [0, 180); see :func:`orientation_statistics`."""
    return orientation_statistics(responses, orientations_deg, axis)[0]


def _grid(assembly, color: str = "bw"):
    """Responses as an array units x orientation x sf x phase (mean over repeats).

    Returns (array, orientations, sfs, phases, neuroid coordinate table).
    """
    if "presentation" not in assembly.dims or "neuroid" not in assembly.dims:
        raise ValueError(f"expected an assembly with dims (presentation, neuroid), got {assembly.dims}")
    assembly = assembly.transpose("presentation", "neuroid")
    for coord in ("orientation_deg", "sf_cpd", "phase_deg", "color"):
        if coord not in _dim_coords(assembly, "presentation"):
            raise ValueError(f"the assembly has no presentation coordinate '{coord}': "
                             f"record it with the grating set (topobench.stimuli.gratings.sine_gratings)")
    colors = np.asarray(assembly["color"].values).astype(str)
    keep = colors == color
    if not keep.any():
        raise ValueError(f"no gratings of color '{color}' in the assembly (colors: {sorted(set(colors))})")
    values = np.asarray(assembly.values)[keep]
    if values.dtype.kind != "f":
        values = values.astype(float)
    axes, indices = [], []
    for coord in ("orientation_deg", "sf_cpd", "phase_deg"):
        levels, index = np.unique(np.asarray(assembly[coord].values, dtype=float)[keep], return_inverse=True)
        axes.append(levels)
        indices.append(index)
    shape = tuple(len(levels) for levels in axes)
    flat = np.ravel_multi_index(indices, shape)
    n_cells = int(np.prod(shape))
    counts = np.bincount(flat, minlength=n_cells)
    if (counts == 0).any():
        raise ValueError(f"the {color} gratings do not cover every orientation x sf x phase "
                         f"({int((counts == 0).sum())} of {n_cells} combinations missing)")
    if (counts == 1).all():  # the usual case: each grating once; no copy beyond a reorder
        ordered = np.empty_like(values)
        ordered[flat] = values
    else:  # repeats: average them
        ordered = np.zeros((n_cells, values.shape[1]))
        np.add.at(ordered, flat, values)
        ordered /= counts[:, None]
    grid = ordered.T.reshape((values.shape[1],) + shape)
    neuroid_coords = {name: np.asarray(assembly[name].values) for name in _dim_coords(assembly, "neuroid")}
    return grid, axes[0], axes[1], axes[2], pd.DataFrame(neuroid_coords)


def _dim_coords(assembly, dim: str) -> list:
    """Names of the coordinates along ``dim``, MultiIndex levels included (older
    xarray keeps levels out of ``.coords``)."""
    names = []
    index = assembly.indexes.get(dim)
    if isinstance(index, pd.MultiIndex):
        names.extend(index.names)
    for name, coord in assembly.coords.items():
        if coord.dims == (dim,) and name != dim and name not in names:
            names.append(name)
    return names


def tuning_column(orientation_deg: float) -> str:
    """Name of the tuning-curve column of one orientation in :func:`grating_tuning`'s table."""
    return f"tuning_{orientation_deg:g}_deg"


def grating_tuning(assembly, color: str = "bw") -> pd.DataFrame:
    """Per-unit tuning from responses to the grating set; one row per neuroid.

    ``assembly``: presentation x neuroid, presentation coordinates
    ``orientation_deg``, ``sf_cpd``, ``phase_deg``, ``color``. Only gratings of
    ``color`` (default black/white, as Ringach 2002 measured) are used.
    Columns: the assembly's neuroid coordinates (``neuroid_id``, ``tissue_x``...),
    then ``preferred_sf_cpd`` (argmax of the response averaged over orientation
    and phase), ``preferred_orientation_deg`` and ``circular_variance`` (closed
    form, of the tuning curve at the preferred frequency averaged over phase,
    negative responses clipped to 0), ``mean_response`` (over all gratings of
    ``color``), and one column per orientation with that tuning curve
    (``tuning_0_deg``, ``tuning_22.5_deg``...; see :func:`tuning_column`).
    """
    grid, orientations, sfs, _phases, table = _grid(assembly, color)
    over_phase = grid.mean(axis=3, dtype=np.float64)      # units x orientation x sf
    best_sf = np.argmax(over_phase.mean(axis=1), axis=1)  # argmax over sf of the mean over orientation, phase
    curves = np.take_along_axis(over_phase, best_sf[:, None, None], axis=2)[:, :, 0]
    preferred, variance = orientation_statistics(curves, orientations)
    table["preferred_sf_cpd"] = sfs[best_sf]
    table["preferred_orientation_deg"] = preferred
    table["circular_variance"] = variance
    table["mean_response"] = over_phase.mean(axis=(1, 2))
    for index, orientation in enumerate(orientations):
        table[tuning_column(orientation)] = curves[:, index]
    return table


def responsive_threshold(mean_response, relative_threshold: float = 0.1) -> float:
    """relative_threshold x the 99th percentile of the layer's unit mean responses."""
    mean_response = np.asarray(mean_response, dtype=float)
    finite = mean_response[np.isfinite(mean_response)]
    if finite.size == 0:
        return float("nan")
    return float(relative_threshold * np.percentile(finite, 99))


def responsive_units(mean_response, relative_threshold: float = 0.1) -> np.ndarray:
    """Boolean mask of units whose mean grating response exceeds the layer's threshold.

    A unit is responsive when its mean response over the b/w gratings exceeds
    ``relative_threshold`` x the 99th percentile of the layer's unit mean
    responses. TDANN used an absolute 1.0, which depends on the network's
    scale; a threshold relative to the layer works for any network. When that
    percentile is not positive, no unit is responsive.
    """
    mean_response = np.asarray(mean_response, dtype=float)
    finite = mean_response[np.isfinite(mean_response)]
    if finite.size == 0 or not np.percentile(finite, 99) > 0:
        return np.zeros(mean_response.shape, dtype=bool)
    threshold = responsive_threshold(mean_response, relative_threshold)
    with np.errstate(invalid="ignore"):
        return mean_response > threshold
