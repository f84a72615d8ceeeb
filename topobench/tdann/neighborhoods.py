"""TDANN's neighbourhoods: random square windows of cortical sheet, trimmed to a common size.

After Margalit et al. 2024 (Neuron; code: neuroailab/TDANN, ``spacetorch.utils.
spatial_utils.precompute_neighborhoods`` and ``collapse_and_trim_neighborhoods``):
a neighbourhood is the set of units whose position (mm) falls inside a square
window of side ``width_mm`` placed uniformly at random so that it lies inside the
sheet. Windows are trimmed (random subset) to a common number of units ``k`` so
that the neighbourhoods stack into one (n_neighborhoods, k) index array that the
spatial loss can gather from in one call. TDANN drops the 5 % smallest windows
before trimming (``keep_fraction=0.95``) and caps ``k`` at 500 units; here a
window below the threshold is redrawn instead of dropped, so that exactly
``n_neighborhoods`` come back.

**Reduced input resolution.** Sheet sizes in mm do not change with the input
size, but a layer of a 64 px network has (64 / 224)^2 as many units as at 224 px,
so a window of TDANN's width would hold (64 / 224)^2 as many units. Pass
``width_scale=224 / input_px`` (:func:`tdann_width_scale`) to widen every window
by that factor, which keeps TDANN's unit count per neighbourhood (the count grows
with the window's area, the density falls with the square of the resolution). A
scaled window wider than the sheet is clamped to the sheet (then every window is
the whole sheet, trimmed to ``max_units``).
"""
from __future__ import annotations

import numpy as np

from topobench.errors import ModelError
from topobench.positions import NEIGHBORHOOD_WIDTH_MM, LayerPositions

#: TDANN's input size (px) for which ``NEIGHBORHOOD_WIDTH_MM`` holds.
TDANN_INPUT_PX = 224
#: Default floor on the number of units a window must hold (TDANN's ``min_nb_size``), with the
#: 5th-percentile rule below on top.
MIN_UNITS = 25
#: TDANN keeps the 95 % largest windows: windows below the 5th percentile of counts are redrawn.
KEEP_FRACTION = 0.95
# memory budget (elements) of one chunk of the (windows x candidate units) membership test
_CHUNK_ELEMENTS = 4_000_000
_MAX_REDRAW_ROUNDS = 200


def tdann_width_scale(input_px: int) -> float:
    """Factor that keeps TDANN's units per neighbourhood for an input of ``input_px`` pixels.

    ``224 / input_px``: window widths (mm) scale linearly with it because unit
    density on the sheet scales with the square of the input resolution.
    """
    return TDANN_INPUT_PX / float(input_px)


def neighborhood_width(positions: LayerPositions, width_mm: float | None = None,
                       width_scale: float = 1.0) -> float:
    """Window side (mm) actually used: ``width_mm`` (default TDANN's for the layer) x
    ``width_scale``, clamped to the extent of the layer's positions."""
    if width_mm is None:
        if positions.name not in NEIGHBORHOOD_WIDTH_MM:
            raise ModelError(f"no default neighbourhood width for layer '{positions.name}' (TDANN "
                             f"gives them for {', '.join(NEIGHBORHOOD_WIDTH_MM)}); pass width_mm")
        width_mm = NEIGHBORHOOD_WIDTH_MM[positions.name]
    width = float(width_mm) * float(width_scale)
    if not width > 0:
        raise ModelError(f"neighbourhood width must be positive, got {width} mm")
    extent = np.ptp(positions.coordinates, axis=0)
    return float(min(width, extent.min()))


class _WindowIndex:
    """Units sorted by x, so that a window's candidates are one contiguous x-slice."""

    def __init__(self, coordinates: np.ndarray, width: float):
        self.order = np.argsort(coordinates[:, 0], kind="stable")
        self.xs = coordinates[self.order, 0]
        self.ys = coordinates[self.order, 1]
        self.width = width

    def members(self, corners: np.ndarray):
        """(slots (m, L) into ``order``, inside (m, L) bool) for windows with lower-left ``corners``."""
        start = np.searchsorted(self.xs, corners[:, 0], side="left")
        stop = np.searchsorted(self.xs, corners[:, 0] + self.width, side="right")
        length = int((stop - start).max()) if len(corners) else 0
        slots = start[:, None] + np.arange(max(length, 1))[None, :]
        in_slice = slots < stop[:, None]
        slots = np.minimum(slots, len(self.xs) - 1)
        ys = self.ys[slots]
        inside = in_slice & (ys >= corners[:, 1:2]) & (ys <= corners[:, 1:2] + self.width)
        return slots, inside

    def chunks(self, corners: np.ndarray):
        """Yield (chunk slice, slots, inside) with at most about ``_CHUNK_ELEMENTS`` elements each."""
        if len(corners) == 0:
            return
        start = np.searchsorted(self.xs, corners[:, 0], side="left")
        stop = np.searchsorted(self.xs, corners[:, 0] + self.width, side="right")
        longest = max(int((stop - start).max()), 1)
        step = max(1, _CHUNK_ELEMENTS // longest)
        for begin in range(0, len(corners), step):
            part = slice(begin, begin + step)
            yield (part, *self.members(corners[part]))

    def counts(self, corners: np.ndarray) -> np.ndarray:
        out = np.zeros(len(corners), dtype=np.int64)
        for part, _, inside in self.chunks(corners):
            out[part] = inside.sum(axis=1)
        return out


def make_neighborhoods(positions: LayerPositions, width_mm: float | None = None,
                       n_neighborhoods: int = 1000, max_units: int = 500, seed: int = 0,
                       width_scale: float = 1.0, min_units: int | None = None,
                       return_windows: bool = False):
    """Draw TDANN neighbourhoods of a layer.

    Parameters
    ----------
    positions : the layer's unit positions (mm).
    width_mm : window side in mm; default TDANN's for the layer
        (``topobench.positions.NEIGHBORHOOD_WIDTH_MM``), then multiplied by ``width_scale``
        and clamped to the extent of the positions.
    n_neighborhoods : number of windows returned.
    max_units : cap on the common size ``k`` (TDANN: 500).
    seed : everything (placements, redraws, trimming) is deterministic given the seed.
    width_scale : see the module docstring (``tdann_width_scale(64)`` = 3.5 for 64 px inputs).
    min_units : windows holding fewer units are redrawn. Default: TDANN's rule, the 5th
        percentile of the counts of a first draw (``KEEP_FRACTION``), and at least ``MIN_UNITS``.
    return_windows : also return the lower-left corners (n_neighborhoods, 2) mm and the width.

    Returns
    -------
    (n_neighborhoods, k) int64 array of unit indices (the (C, H, W)-flatten order of
    ``positions``), each row sorted, with ``k = min(max_units, smallest count over the
    kept windows)``; with ``return_windows``, ``(indices, corners, width)``.

    Windows lie inside the bounding box of the positions (``[0, sheet_side_mm]`` for
    :func:`topobench.positions.retinotopic_positions`); a unit belongs to a window when
    ``x0 <= x <= x0 + width`` and ``y0 <= y <= y0 + width`` (TDANN's closed bounds).
    """
    if n_neighborhoods < 1:
        raise ModelError(f"n_neighborhoods must be at least 1, got {n_neighborhoods}")
    coordinates = positions.coordinates
    width = neighborhood_width(positions, width_mm, width_scale)
    low = coordinates.min(axis=0)
    room = np.maximum(np.ptp(coordinates, axis=0) - width, 0.0)
    rng = np.random.default_rng(seed)
    index = _WindowIndex(coordinates, width)

    def draw(count: int) -> np.ndarray:
        return low + rng.uniform(0.0, 1.0, size=(count, 2)) * room

    corners = draw(n_neighborhoods)
    counts = index.counts(corners)
    if min_units is None:
        min_units = max(MIN_UNITS, int(np.floor(np.percentile(counts, 100 * (1 - KEEP_FRACTION)))))
    min_units = max(int(min_units), 2)
    for _ in range(_MAX_REDRAW_ROUNDS):
        failing = np.flatnonzero(counts < min_units)
        if len(failing) == 0:
            break
        corners[failing] = draw(len(failing))
        counts[failing] = index.counts(corners[failing])
    else:
        raise ModelError(
            f"layer {positions.name}: windows of {width:.4g} mm hold fewer than {min_units} units "
            f"(median {int(np.median(counts))}) even after {_MAX_REDRAW_ROUNDS} redraws; widen the "
            f"windows (width_mm or width_scale, e.g. tdann_width_scale(input_px)) or lower min_units")

    k = int(min(max_units, counts.min()))
    out = np.empty((n_neighborhoods, k), dtype=np.int64)
    for part, slots, inside in index.chunks(corners):
        # a random subset of k of the inside units: the k smallest of uniform keys,
        # with outside slots pushed past every inside key
        keys = rng.random(slots.shape)
        keys[~inside] = 2.0
        chosen = np.argpartition(keys, k - 1, axis=1)[:, :k] if k < slots.shape[1] else \
            np.argsort(keys, axis=1)[:, :k]
        picked = index.order[np.take_along_axis(slots, chosen, axis=1)]
        out[part] = np.sort(picked, axis=1)
    if return_windows:
        return out, corners, width
    return out
