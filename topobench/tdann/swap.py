"""Swap optimisation of unit positions before training (TDANN's "swapopt").

Margalit et al. 2024 (Neuron; code: neuroailab/TDANN, ``spacetorch/swapopt.py``):
before the topographic network is trained, the retinotopic positions of a layer
are permuted within random neighbourhoods so that units that respond alike (on
stimuli the benchmarks never show) sit close together: a pair of units swaps
positions when the swap lowers the spatial loss computed on those responses.
TDANN proposes random pairs one at a time and recomputes the loss for each.

**Formulation used here (exact, closed form).** Inside one window of k units, the
responses fix the correlation matrix ``R`` and a swap of positions only permutes
the rows and columns of ``D_ij = 1 / (d_ij + 1)`` (d in mm). A permutation leaves
the multiset of pairwise distances unchanged, so the mean and variance of
``D`` over the window's pairs are fixed, and so are those of ``R``. Hence

* the relative SL (Margalit et al. 2024), ``(1 - corr(R, D)) / 2``, and
* the squared-error version of the absolute SL (Lee et al. 2020),
  ``sum (R_ij - D_ij)^2 = const - 2 S``,

both fall exactly when ``S = sum_{i<j} R_ij D_ij`` rises (exactly so when no unit of the
window is constant over the responses; a constant unit has R = 0 with every unit, and
the spatial loss leaves it out). With zero diagonals and
``M = R D``, swapping i and j changes S by

    G_ij = M_ij + M_ji - M_ii - M_jj + 2 R_ij D_ij,

so one matrix product gives the gain of all k(k-1)/2 candidate swaps, where TDANN
evaluates one random proposal per O(k^2) loss evaluation. Each step applies every
mutually best pair (i's best partner is j and j's is i; the window's best pair is
always among them), checks exactly that ``S`` rose (else applies only the best swap),
and iterates until no swap has a positive gain (a local optimum under pairwise
swaps) or ``steps_per_iteration`` steps. For the L1 absolute SL
the gain ``S`` is a surrogate (its gains are not available by matrix products); the
report gives the loss of the chosen ``kind`` before and after, and tests check that
both kinds fall.

**Windows.** Each iteration tiles the sheet with square windows of the
neighbourhood width at a random offset (disjoint windows do not interact, so all
of them are optimised at once, in batches of windows of similar size); a window with
more than ``max_units`` units optimises a random subset of them. Over iterations the
offsets change, so unit pairs across a boundary of one tiling meet in the next. Units
move at most about one window width per iteration, so the result is a local optimum
that depends on the start (retinotopic placement), as in TDANN.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from topobench.errors import ModelError
from topobench.positions import LayerPositions
from topobench.tdann.neighborhoods import make_neighborhoods, neighborhood_width
from topobench.tdann.spatial_loss import KINDS, spatial_loss_batched

_EVAL_CHUNK_ELEMENTS = 5_000_000


def _as_responses(responses, n_units: int, name: str) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(responses) if not isinstance(responses, torch.Tensor) else responses)
    x = x.detach().to("cpu")
    if x.ndim > 2:
        x = x.reshape(x.shape[0], -1)
    if x.ndim != 2 or x.shape[1] != n_units:
        raise ModelError(f"responses for layer {name} must be (n_images, {n_units}) (or (n_images, C, H, W)), "
                         f"got {tuple(x.shape)}")
    if x.shape[0] < 3:
        raise ModelError(f"swap optimisation of layer {name} needs responses to at least 3 images, "
                         f"got {x.shape[0]}")
    return x


def _standardise(responses: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Columns with zero mean and unit norm (so that Z^T Z is the Pearson matrix); constant units -> 0."""
    x = responses.to(dtype)
    centred = x - x.mean(dim=0, keepdim=True)
    norm = centred.norm(dim=0)
    scale = x.abs().amax(dim=0)
    valid = norm > 1e-5 * scale * np.sqrt(x.shape[0])
    return centred * torch.where(valid, 1.0 / torch.where(valid, norm, torch.ones_like(norm)),
                                 torch.zeros_like(norm))


def spatial_losses(responses, positions: LayerPositions, neighborhoods: np.ndarray | None = None,
                   kind: str = "relative", width_mm: float | None = None, width_scale: float = 1.0,
                   n_neighborhoods: int = 200, max_units: int = 500, seed: int = 0) -> np.ndarray:
    """Spatial loss of a layer's responses ``(n_images, N)`` in each neighbourhood: ``(n,)``.

    The neighbourhoods are ``neighborhoods`` if given, else
    ``make_neighborhoods(positions, width_mm, n_neighborhoods, max_units, seed, width_scale)``:
    the same seed gives the same windows (placement depends only on the seed and the
    set of coordinates, which a swap leaves unchanged), so losses before and after a
    swap optimisation, or of two networks with the same positions, are paired.
    """
    x = _as_responses(responses, positions.n_units, positions.name)
    if neighborhoods is None:
        neighborhoods = make_neighborhoods(positions, width_mm, n_neighborhoods, max_units, seed,
                                           width_scale=width_scale)
    neighborhoods = torch.as_tensor(np.asarray(neighborhoods, dtype=np.int64))
    coords = torch.as_tensor(positions.coordinates, dtype=torch.float64)
    n, k = neighborhoods.shape
    step = max(1, _EVAL_CHUNK_ELEMENTS // (x.shape[0] * k))
    losses = []
    with torch.no_grad():
        for begin in range(0, n, step):
            chunk = neighborhoods[begin:begin + step]
            feats = x[:, chunk.reshape(-1)].to(torch.float64).reshape(x.shape[0], *chunk.shape).permute(1, 0, 2)
            losses.append(spatial_loss_batched(feats, coords[chunk], kind))
    return torch.cat(losses).numpy()


def evaluate_spatial_loss(responses, positions: LayerPositions, neighborhoods: np.ndarray | None = None,
                          kind: str = "relative", width_mm: float | None = None, width_scale: float = 1.0,
                          n_neighborhoods: int = 200, max_units: int = 500, seed: int = 0) -> float:
    """Mean spatial loss of a layer's responses ``(n_images, N)`` over neighbourhoods
    (:func:`spatial_losses`)."""
    return float(spatial_losses(responses, positions, neighborhoods, kind, width_mm, width_scale,
                                n_neighborhoods, max_units, seed).mean())


def _tiles(coordinates: np.ndarray, width: float, max_units: int, rng: np.random.Generator):
    """Random-offset tiling: (T, K) unit indices (-1 = padding) of windows with >= 2 units."""
    offset = rng.uniform(0.0, width, size=2)
    cell = np.floor((coordinates - coordinates.min(axis=0) + offset) / width).astype(np.int64)
    tile_id = cell[:, 0] * (cell[:, 1].max() + 1) + cell[:, 1]
    shuffled = rng.permutation(len(coordinates))
    order = shuffled[np.argsort(tile_id[shuffled], kind="stable")]
    ids, starts, counts = np.unique(tile_id[order], return_index=True, return_counts=True)
    rank = np.arange(len(order)) - np.repeat(starts, counts)
    keep_tile = counts >= 2
    tile_row = np.cumsum(keep_tile) - 1
    row = np.repeat(tile_row, counts)
    use = np.repeat(keep_tile, counts) & (rank < max_units)
    k = int(min(max_units, counts[keep_tile].max())) if keep_tile.any() else 0
    table = np.full((int(keep_tile.sum()), k), -1, dtype=np.int64)
    table[row[use], rank[use]] = order[use]
    return table


def _swap_gains(r: torch.Tensor, d: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """Change of ``S = sum_{i<j} R_ij D_ij`` if units i and j swap positions, for all pairs.

    ``r``, ``d`` (..., k, k) symmetric with zero diagonals, ``m = r @ d``:
    ``G_ij = M_ij + M_ji - M_ii - M_jj + 2 R_ij D_ij``.
    """
    diag = torch.diagonal(m, dim1=-2, dim2=-1)
    return m + m.transpose(-1, -2) - diag.unsqueeze(-1) - diag.unsqueeze(-2) + 2.0 * r * d


def _permute(matrix: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """``matrix[t, perm[t, a], perm[t, b]]`` for (T, K, K) matrices and (T, K) permutations."""
    t, k, _ = matrix.shape
    rows = matrix.gather(1, perm.unsqueeze(2).expand(t, k, k))
    return rows.gather(2, perm.unsqueeze(1).expand(t, k, k))


#: Steps between full recomputations of ``M = R D`` (between them: exact low-rank updates).
_REFRESH_STEPS = 20
#: Tiles are optimised in groups of similar size holding at most this many (T x K x K) elements.
_GROUP_ELEMENTS = 3_000_000


def _optimise_tiles(z: torch.Tensor, coordinates: np.ndarray, table: np.ndarray, n_steps: int,
                    dtype: torch.dtype) -> tuple[np.ndarray, int]:
    """Greedy swap steps in a group of tiles at once; returns the new coordinates and the swaps made.

    Each step computes the gains of all pairs (:func:`_swap_gains`) and applies, in every
    tile, all *mutually best* pairs (i's best partner is j and j's is i: disjoint by
    construction, and the tile's best pair is always one of them). Disjoint swaps
    interact only through the pairs between them, so the step is checked exactly
    (``S`` after against before) and a tile where it did not raise ``S`` applies only
    its best swap. ``M = R D`` is updated as ``M[:, pi] + R[:, moved] (D' - D P)[moved]``
    (rank = number of moved units) and recomputed every ``_REFRESH_STEPS`` steps; a tile
    with no positive gain left is retired from the batch.
    """
    idx = torch.as_tensor(table)
    mask = idx >= 0
    safe = idx.clamp_min(0)
    n_tiles, k = idx.shape
    zt = z[:, safe.reshape(-1)].reshape(z.shape[0], n_tiles, k).permute(1, 0, 2) * mask[:, None, :]
    r = zt.transpose(1, 2) @ zt
    del zt
    pos = torch.as_tensor(coordinates, dtype=dtype)[safe]
    diff = pos.unsqueeze(2) - pos.unsqueeze(1)
    d = 1.0 / (torch.sqrt((diff * diff).sum(-1)) + 1.0)
    del diff
    pair_ok = mask.unsqueeze(2) & mask.unsqueeze(1)
    pair_ok &= ~torch.eye(k, dtype=torch.bool)
    r = r * pair_ok
    d = d * pair_ok
    forbidden = torch.where(pair_ok, 0.0, float("-inf")).to(dtype)
    del pair_ok
    tol = 10 * torch.finfo(dtype).eps * max(k, 1)  # rounding of gains ~ eps x k
    final_source = torch.arange(k).repeat(n_tiles, 1)
    live = torch.arange(n_tiles)
    source = final_source.clone()
    swaps = 0
    score = (r * d).sum(dim=(1, 2))
    m = r @ d
    since_refresh = 0
    for _ in range(n_steps):
        if since_refresh >= _REFRESH_STEPS:
            m, since_refresh = r @ d, 0
        gain = _swap_gains(r, d, m) + forbidden
        best_gain, partner = gain.max(dim=2)
        useful = best_gain > tol
        tile_useful = useful.any(dim=1)
        if not bool(tile_useful.all()):  # retire converged tiles
            final_source[live[~tile_useful]] = source[~tile_useful]
            if not bool(tile_useful.any()):
                live = live[:0]
                break
            live, r, d, m, forbidden, score, source, gain, useful, partner = (
                t[tile_useful] for t in (live, r, d, m, forbidden, score, source, gain, useful, partner))
        n_live = len(live)
        identity = torch.arange(k).expand(n_live, k)
        mutual = useful & (partner.gather(1, partner) == identity)
        perm = torch.where(mutual, partner, identity)
        new_d = _permute(d, perm)
        new_score = (r * new_d).sum(dim=(1, 2))
        failed = ~(new_score > score + tol)
        if bool(failed.any()):
            # fall back to the single best swap in those tiles
            flat = gain[failed].reshape(int(failed.sum()), -1).argmax(dim=1)
            i, j = torch.div(flat, k, rounding_mode="floor"), flat % k
            single = identity[failed].clone()
            rows = torch.arange(len(single))
            single[rows, i], single[rows, j] = j, i
            perm[failed] = single
            mutual[failed] = single != identity[failed]
            new_d[failed] = _permute(d[failed], single)
            new_score[failed] = (r[failed] * new_d[failed]).sum(dim=(1, 2))
        del gain
        n_moved = mutual.sum(dim=1)
        swaps += int(n_moved.sum()) // 2
        rank = int(n_moved.max())
        if 4 * rank < k and since_refresh + 1 < _REFRESH_STEPS:
            # M' = R P D P = M[:, pi] + R[:, S] ((P - I) D P)[S, :], rows outside S of the last factor are 0
            moved = mutual.to(dtype).topk(rank, dim=1).indices  # (T, rank); extra picks are unmoved: zero rows
            dp_rows = d.gather(1, moved.unsqueeze(2).expand(n_live, rank, k))
            dp_rows = dp_rows.gather(2, perm.unsqueeze(1).expand(n_live, rank, k))
            delta = new_d.gather(1, moved.unsqueeze(2).expand(n_live, rank, k)) - dp_rows
            r_cols = r.gather(2, moved.unsqueeze(1).expand(n_live, k, rank))
            m = m.gather(2, perm.unsqueeze(1).expand(n_live, k, k)).baddbmm_(r_cols, delta)
            since_refresh += 1
        else:
            m, since_refresh = r @ new_d, 0
        d, score = new_d, new_score
        source = source.gather(1, perm)
    if len(live):
        final_source[live] = source
    # unit at slot a now holds the (float64) position that slot source[a] held: an exact permutation
    new = coordinates.copy()
    flat_mask = mask.numpy()
    moved_from = np.take_along_axis(table, final_source.numpy(), axis=1)
    new[table[flat_mask]] = coordinates[moved_from[flat_mask]]
    return new, swaps


def _tile_groups(table: np.ndarray):
    """Split a tile table into groups of similar tile size, each trimmed to its largest tile."""
    sizes = (table >= 0).sum(axis=1)
    order = np.argsort(-sizes, kind="stable")
    begin = 0
    while begin < len(order):
        k = int(sizes[order[begin]])
        count = max(1, _GROUP_ELEMENTS // max(k * k, 1))
        rows = order[begin:begin + count]
        yield table[rows, :k]
        begin += count


def swap_optimize(responses, positions: LayerPositions, stimuli: str, *, width_mm: float | None = None,
                  width_scale: float = 1.0, n_iterations: int = 20, steps_per_iteration: int | None = None,
                  max_units: int = 500, seed: int = 0, kind: str = "relative",
                  n_eval_neighborhoods: int = 200, dtype: torch.dtype = torch.float32) -> LayerPositions:
    """Swap-optimise a layer's positions on its responses (see the module docstring).

    Parameters
    ----------
    responses : (n_images, N) responses (numpy or torch; (n_images, C, H, W) is flattened)
        of the layer to stimuli that no benchmark uses.
    positions : the layer's starting positions (mm), e.g. TDANN's retinotopic placement.
    stimuli : description of those stimuli, recorded in the provenance (required).
    width_mm, width_scale : window side, as for :func:`make_neighborhoods` (default TDANN's
        width for the layer; ``width_scale=tdann_width_scale(input_px)`` at reduced resolution).
    n_iterations : number of random-offset tilings of the sheet.
    steps_per_iteration : cap on the greedy steps per tiling (a step swaps the mutually best
        pairs of every window; a tiling stops earlier at a local optimum, typically after
        about 50 steps for 300-unit windows); default ``max_units``.
    max_units : units optimised per window per iteration (random subset of larger windows).
    seed : tilings and subsets are deterministic given the seed.
    kind : SL reported before and after ('relative' or 'absolute'); the optimised
        objective is the same either way (exact for 'relative').
    n_eval_neighborhoods : TDANN windows (seed ``seed``) over which the reported losses are
        averaged (in float64).
    dtype : precision of the optimisation (float32: about 4x faster than float64 on a CPU;
        every step is checked in the same precision).

    Returns
    -------
    New :class:`LayerPositions` (same coordinates, permuted over units) whose provenance
    records ``placement='swap-optimised'``, ``stimuli``, ``n_iterations``, ``seed``,
    ``loss_before``, ``loss_after`` (on ``responses``), ``n_swaps``, the width and the
    starting placement.
    """
    if kind not in KINDS:
        raise ValueError(f"spatial loss kind must be one of {KINDS}, got '{kind}'")
    if not isinstance(stimuli, str) or not stimuli.strip():
        raise ModelError("swap optimisation must record which stimuli it used: pass stimuli='...'")
    started = time.perf_counter()
    x = _as_responses(responses, positions.n_units, positions.name)
    width = neighborhood_width(positions, width_mm, width_scale)
    if steps_per_iteration is None:
        steps_per_iteration = max_units
    evaluation = make_neighborhoods(positions, width, n_eval_neighborhoods, max_units, seed)
    loss_before = evaluate_spatial_loss(x, positions, evaluation, kind)

    z = _standardise(x, dtype)
    rng = np.random.default_rng(seed)
    coordinates = positions.coordinates.copy()
    n_swaps = 0
    for _ in range(n_iterations):
        table = _tiles(coordinates, width, max_units, rng)
        for group in _tile_groups(table):
            coordinates, made = _optimise_tiles(z, coordinates, group, steps_per_iteration, dtype)
            n_swaps += made

    provenance = {
        "placement": "swap-optimised",
        "stimuli": stimuli,
        "n_iterations": int(n_iterations),
        "steps_per_iteration": int(steps_per_iteration),
        "seed": int(seed),
        "kind": kind,
        "width_mm": width,
        "max_units": int(max_units),
        "n_images": int(x.shape[0]),
        "n_swaps": int(n_swaps),
        "loss_before": loss_before,
        "method": "greedy mutually-best swaps per window, closed-form gains of sum R_ij D_ij "
                  "(topobench.tdann.swap)",
        "start": dict(positions.provenance),
    }
    new = LayerPositions(positions.name, positions.dims, coordinates, positions.sheet_side_mm, provenance)
    new_evaluation = make_neighborhoods(new, width, n_eval_neighborhoods, max_units, seed)
    provenance["loss_after"] = evaluate_spatial_loss(x, new, new_evaluation, kind)
    provenance["seconds"] = round(time.perf_counter() - started, 3)
    return new


def random_swaps(positions: LayerPositions, n_swaps: int, *, width_mm: float | None = None,
                 width_scale: float = 1.0, seed: int = 0) -> LayerPositions:
    """Control for :func:`swap_optimize`: ``n_swaps`` swaps of random unit pairs within windows.

    Each swap picks a random unit and a random partner in the same window of a random-offset
    tiling of width ``width_mm`` (x ``width_scale``); the tiling changes every
    ``n_units // 2`` swaps. The provenance says ``placement='random swaps (control)'``.
    """
    width = neighborhood_width(positions, width_mm, width_scale)
    rng = np.random.default_rng(seed)
    coordinates = positions.coordinates.copy()
    n_units = len(coordinates)
    done = 0
    while done < n_swaps:
        table = _tiles(coordinates, width, n_units, rng)
        sizes = (table >= 0).sum(axis=1)
        batch = int(min(n_swaps - done, max(n_units // 2, 1)))
        # tiles chosen in proportion to their size = a uniformly random first unit
        tiles = rng.choice(len(table), size=batch, p=sizes / sizes.sum())
        first = (rng.random(batch) * sizes[tiles]).astype(np.int64)
        second = (first + 1 + (rng.random(batch) * (sizes[tiles] - 1)).astype(np.int64)) % sizes[tiles]
        a, b = table[tiles, first], table[tiles, second]
        for unit_a, unit_b in zip(a, b):  # sequential: pairs may share units
            coordinates[[unit_a, unit_b]] = coordinates[[unit_b, unit_a]]
        done += batch
    provenance = {"placement": "random swaps (control)", "n_swaps": int(n_swaps), "seed": int(seed),
                  "width_mm": width, "start": dict(positions.provenance)}
    return LayerPositions(positions.name, positions.dims, coordinates, positions.sheet_side_mm, provenance)
