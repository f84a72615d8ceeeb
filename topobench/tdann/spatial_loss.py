"""TDANN's spatial loss (differentiable, vectorised torch).

Margalit et al. 2024 (Neuron; code: neuroailab/TDANN, ``spacetorch.losses.
losses_torch``). For the k units of one neighbourhood, with features ``(B, k)``
(responses to the B images of a batch) and coordinates ``(k, 2)`` in mm:

* response similarity ``r_ij``: Pearson correlation of units i and j across the B images;
* spatial similarity ``D_ij = 1 / (d_ij + 1)``, ``d_ij`` the Euclidean distance in mm;
* **relative** SL (Margalit et al. 2024, the default):
  ``(1 - corr(lower triangle of r, lower triangle of D)) / 2``, in [0, 1];
* **absolute** SL (Lee et al. 2020, "Topographic deep artificial neural networks
  reproduce the hallmarks of the primate inferior temporal cortex face processing
  network", bioRxiv; TDANN's ``old_spatial_correlation_loss``):
  ``mean |r_ij - D_ij|`` over the lower triangle.

**Units that do not vary over the batch** (dead ReLUs, constant channels) have no
defined correlation. TDANN's ``corrcoef`` sets their std to 1 (r = 0 with every
unit) and its backward pass gives NaN at a zero std. Here such a unit is
**excluded**: its pairs get weight 0 in the lower-triangle mean (absolute) and in the
lower-triangle Pearson correlation (relative), so the loss is that of the remaining
units. A unit counts as constant when its std over the batch is at most
``REL_TOL`` (1e-5) times its largest absolute value in the batch (which also catches
constants that float rounding leaves with a tiny nonzero variance); the std of every
other unit is ``sqrt(var + EPS)`` (EPS = 1e-12), and a "double where" keeps the
gradient finite (zero for the excluded units). If fewer than two pairs remain, or r is
constant over the pairs, the correlation is taken as 0 (relative SL 0.5, zero
gradient): the denominator of the Pearson correlation carries ``EPS`` too.

Both versions are computed on full symmetric k x k matrices with the diagonal
masked out: a weighted mean (or Pearson correlation) over the off-diagonal entries
of symmetric matrices equals the one over the lower triangle, and this avoids a
gather of k(k-1)/2 entries.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import nn

from topobench.errors import ModelError
from topobench.positions import LayerPositions

#: A unit whose std over the batch is <= REL_TOL x max |value| is treated as constant.
REL_TOL = 1e-5
#: Added under every square root (variance of a unit; product of variances in the Pearson).
EPS = 1e-12
KINDS = ("relative", "absolute")


def _compute_dtype(tensor: torch.Tensor) -> torch.dtype:
    return tensor.dtype if tensor.dtype in (torch.float32, torch.float64) else torch.float32


def distance_similarity(coordinates: torch.Tensor) -> torch.Tensor:
    """``D_ij = 1 / (d_ij + 1)`` for coordinates ``(..., k, 2)`` in mm; returns ``(..., k, k)``.

    Distances by explicit differences (not the |a|^2 + |b|^2 - 2ab expansion that
    ``torch.cdist`` uses for large inputs, which loses near pairs in float32).
    """
    diff = coordinates.unsqueeze(-2) - coordinates.unsqueeze(-3)
    return 1.0 / (torch.sqrt((diff * diff).sum(-1)) + 1.0)


def response_correlation(features: torch.Tensor, rel_tol: float = REL_TOL, eps: float = EPS):
    """Pearson correlation across the batch of features ``(..., B, k)``.

    Returns ``(r, valid)``: ``r`` ``(..., k, k)`` (rows and columns of constant units are 0)
    and ``valid`` ``(..., k)`` bool, False for units constant over the batch.
    """
    x = features.to(_compute_dtype(features))
    batch = x.shape[-2]
    centred = x - x.mean(dim=-2, keepdim=True)
    var = (centred * centred).mean(dim=-2)
    scale = x.detach().abs().amax(dim=-2)
    valid = var.detach() > (rel_tol * scale) ** 2
    safe_var = torch.where(valid, var, torch.ones_like(var))
    inv_std = torch.where(valid, torch.rsqrt(safe_var + eps), torch.zeros_like(var))
    z = centred * inv_std.unsqueeze(-2)
    r = torch.matmul(z.transpose(-1, -2), z) / batch
    return r, valid


def _pair_weights(valid: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Weights (..., k, k): 1 for off-diagonal pairs of valid units, else 0."""
    k = valid.shape[-1]
    pairs = valid.unsqueeze(-1) & valid.unsqueeze(-2)
    pairs = pairs & ~torch.eye(k, dtype=torch.bool, device=valid.device)
    return pairs.to(dtype)


def relative_sl_from_matrices(r: torch.Tensor, similarity: torch.Tensor,
                              weights: torch.Tensor | None = None, eps: float = EPS) -> torch.Tensor:
    """Relative SL from a correlation matrix ``r`` and ``D`` (both ``(..., k, k)``, symmetric).

    ``(1 - corr(r, D)) / 2`` with the Pearson correlation taken over the off-diagonal
    pairs (= the lower triangle) weighted by ``weights`` (default: all off-diagonal pairs).
    Margalit et al. 2024.
    """
    if weights is None:
        k = r.shape[-1]
        weights = (~torch.eye(k, dtype=torch.bool, device=r.device)).to(r.dtype)
    similarity = similarity.to(r.dtype)
    count = weights.sum(dim=(-1, -2)).clamp_min(1.0)
    mean_r = (weights * r).sum(dim=(-1, -2)) / count
    mean_d = (weights * similarity).sum(dim=(-1, -2)) / count
    rc = (r - mean_r[..., None, None]) * weights
    dc = (similarity - mean_d[..., None, None]) * weights
    cov = (rc * dc).sum(dim=(-1, -2))
    denominator = torch.sqrt((rc * rc).sum(dim=(-1, -2)) * (dc * dc).sum(dim=(-1, -2)) + eps)
    return (1.0 - cov / denominator) / 2.0


def absolute_sl_from_matrices(r: torch.Tensor, similarity: torch.Tensor,
                              weights: torch.Tensor | None = None) -> torch.Tensor:
    """Absolute SL: weighted mean of ``|r_ij - D_ij|`` over the off-diagonal pairs (Lee et al. 2020)."""
    if weights is None:
        k = r.shape[-1]
        weights = (~torch.eye(k, dtype=torch.bool, device=r.device)).to(r.dtype)
    count = weights.sum(dim=(-1, -2)).clamp_min(1.0)
    return (weights * (r - similarity.to(r.dtype)).abs()).sum(dim=(-1, -2)) / count


def spatial_loss_batched(features: torch.Tensor, coordinates: torch.Tensor,
                         kind: str = "relative") -> torch.Tensor:
    """Spatial loss of several neighbourhoods at once.

    ``features`` ``(n, B, k)``: responses of each neighbourhood's k units to B images;
    ``coordinates`` ``(n, k, 2)`` mm (or ``(k, 2)``, shared). Returns ``(n,)`` losses.
    """
    if kind not in KINDS:
        raise ValueError(f"spatial loss kind must be one of {KINDS}, got '{kind}'")
    if features.shape[-2] < 2:
        raise ValueError("the spatial loss needs at least 2 images in the batch to correlate units")
    r, valid = response_correlation(features)
    similarity = distance_similarity(coordinates.to(device=r.device, dtype=r.dtype))
    weights = _pair_weights(valid, r.dtype)
    if kind == "relative":
        return relative_sl_from_matrices(r, similarity, weights)
    return absolute_sl_from_matrices(r, similarity, weights)


def spatial_loss(features: torch.Tensor, coordinates: torch.Tensor, kind: str = "relative") -> torch.Tensor:
    """Spatial loss of one neighbourhood: features ``(B, k)``, coordinates ``(k, 2)`` mm; a scalar."""
    return spatial_loss_batched(features.unsqueeze(0), coordinates.unsqueeze(0), kind)[0]


def _buffer_name(layer: str) -> str:
    return layer.replace(".", "_")


class SpatialLoss(nn.Module):
    """Sum over layers of ``alpha_l x SL_l``, one random neighbourhood per layer per batch (TDANN).

    Parameters
    ----------
    layer_positions : layer name -> :class:`LayerPositions` (mm).
    neighborhoods : layer name -> (n, k) unit indices (:func:`make_neighborhoods`).
    alpha : one weight for every layer or a dict per layer (TDANN: 0.25); a layer
        with alpha 0 is still evaluated (for logging) but without a graph.
    kind : 'relative' (default, Margalit et al. 2024) or 'absolute' (Lee et al. 2020).
    neighborhoods_per_batch : neighbourhoods drawn per layer per batch, losses averaged
        (TDANN's ``neighborhoods_per_batch``; 1 in the published runs).
    seed : with ``step`` given to :meth:`forward`, the choice of neighbourhood is a
        function of (seed, step, layer) only, so that a resumed run draws the same ones.

    ``forward(features, step=None)`` takes ``features``: layer -> (B, C, H, W) (or (B, N))
    activations whose flatten order is that of the positions, and returns
    ``(total, per_layer)``: the weighted sum (a scalar tensor) and a dict layer -> SL_l
    (unweighted, detached). Only the k units of the chosen neighbourhood are gathered.
    Without ``step`` the choice uses torch's global generator (as TDANN does).
    """

    def __init__(self, layer_positions: Mapping[str, LayerPositions], neighborhoods: Mapping[str, np.ndarray],
                 alpha: Mapping[str, float] | float = 0.25, kind: str = "relative",
                 neighborhoods_per_batch: int = 1, seed: int = 0):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"spatial loss kind must be one of {KINDS}, got '{kind}'")
        missing = [name for name in layer_positions if name not in neighborhoods]
        if missing:
            raise ModelError(f"no neighbourhoods for layer(s) {', '.join(missing)}; make them with "
                             f"topobench.tdann.make_neighborhoods")
        self.layers = list(layer_positions)
        if isinstance(alpha, Mapping):
            unknown = [name for name in alpha if name not in layer_positions]
            if unknown:
                raise ModelError(f"alpha given for layer(s) {', '.join(unknown)} that have no positions")
            self.alpha = {name: float(alpha.get(name, 0.0)) for name in self.layers}
        else:
            self.alpha = {name: float(alpha) for name in self.layers}
        self.kind = kind
        self.neighborhoods_per_batch = int(neighborhoods_per_batch)
        self.seed = int(seed)
        self.n_units = {}
        for name, positions in layer_positions.items():
            indices = np.asarray(neighborhoods[name], dtype=np.int64)
            if indices.ndim != 2 or indices.size == 0:
                raise ModelError(f"neighbourhoods of layer {name} must be a non-empty (n, k) array")
            if indices.min() < 0 or indices.max() >= positions.n_units:
                raise ModelError(f"neighbourhoods of layer {name} index units outside its "
                                 f"{positions.n_units} units")
            self.n_units[name] = positions.n_units
            self.register_buffer(f"coords_{_buffer_name(name)}",
                                 torch.as_tensor(positions.coordinates, dtype=torch.float32), persistent=False)
            self.register_buffer(f"nbhd_{_buffer_name(name)}", torch.as_tensor(indices), persistent=False)

    def coordinates(self, layer: str) -> torch.Tensor:
        return getattr(self, f"coords_{_buffer_name(layer)}")

    def neighborhoods(self, layer: str) -> torch.Tensor:
        return getattr(self, f"nbhd_{_buffer_name(layer)}")

    def choose(self, layer: str, step: int | None = None) -> torch.Tensor:
        """Indices of the neighbourhood(s) used for ``layer`` at ``step``: (neighborhoods_per_batch,)."""
        n = self.neighborhoods(layer).shape[0]
        if step is None:
            return torch.randint(n, (self.neighborhoods_per_batch,))
        layer_index = self.layers.index(layer)
        rng = np.random.default_rng([self.seed, int(step), layer_index])
        return torch.as_tensor(rng.integers(0, n, size=self.neighborhoods_per_batch))

    def layer_loss(self, layer: str, activations: torch.Tensor, step: int | None = None) -> torch.Tensor:
        """SL of one layer for one batch (averaged over ``neighborhoods_per_batch`` windows)."""
        flat = activations.flatten(1)
        if flat.shape[1] != self.n_units[layer]:
            raise ModelError(f"layer {layer} gives {flat.shape[1]} units per image but its positions "
                             f"have {self.n_units[layer]}")
        chosen = self.neighborhoods(layer)[self.choose(layer, step).to(self.neighborhoods(layer).device)]
        # (m, k) -> gather (B, m*k) -> (m, B, k)
        gathered = flat.index_select(1, chosen.reshape(-1).to(flat.device))
        gathered = gathered.reshape(flat.shape[0], *chosen.shape).permute(1, 0, 2)
        coords = self.coordinates(layer)[chosen].to(flat.device)
        return spatial_loss_batched(gathered, coords, self.kind).mean()

    def forward(self, features: Mapping[str, torch.Tensor], step: int | None = None):
        missing = [name for name in self.layers if name not in features]
        if missing:
            raise ModelError(f"spatial loss: no features for layer(s) {', '.join(missing)}")
        total = None
        per_layer = {}
        for name in self.layers:
            alpha = self.alpha[name]
            if alpha == 0.0:
                with torch.no_grad():
                    value = self.layer_loss(name, features[name], step)
            else:
                value = self.layer_loss(name, features[name], step)
                total = alpha * value if total is None else total + alpha * value
            per_layer[name] = value.detach()
        if total is None:
            reference = next(iter(features.values()))
            total = reference.new_zeros((), dtype=torch.float32)
        return total, per_layer
