"""SimCLR's projection head and NT-Xent loss.

Chen, Kornblith, Norouzi & Hinton 2020 (ICML), "A simple framework for
contrastive learning of visual representations". TDANN (Margalit et al. 2024,
Neuron) trains its ResNet-18 with VISSL's SimCLR: a projection MLP
512 -> 512 -> 128 (linear, ReLU, linear) on the pooled trunk output and the
normalised-temperature cross-entropy (NT-Xent) with temperature 0.1.

The hidden layers of the head carry batch normalisation by default, as in the
SimCLR authors' own implementation (google-research/simclr, ``linear_layer(...,
use_bn=True)`` in the projection head): without it, plain SGD at SimCLR's learning
rate sometimes collapsed within the first steps here (every embedding equal, loss
log(2B - 1)).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ProjectionHead(nn.Module):
    """MLP ``dims[0] -> dims[1] -> ... -> dims[-1]``: linear, (batch norm,) ReLU between
    layers, a plain linear output. Default 512-512-128 (TDANN). ``batchnorm``: BN after each
    hidden linear layer (SimCLR's implementation; VISSL's default head has none)."""

    def __init__(self, dims=(512, 512, 128), batchnorm: bool = True):
        super().__init__()
        dims = tuple(int(d) for d in dims)
        if len(dims) < 2:
            raise ValueError(f"a projection head needs at least input and output sizes, got {dims}")
        layers = []
        for index, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
            hidden = index < len(dims) - 2
            layers.append(nn.Linear(a, b, bias=not (hidden and batchnorm)))
            if hidden:
                if batchnorm:
                    layers.append(nn.BatchNorm1d(b))
                layers.append(nn.ReLU(inplace=True))
        self.mlp = nn.Sequential(*layers)
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(x)


def _gather_with_grad(z: torch.Tensor) -> tuple[torch.Tensor, int]:
    """All ranks' rows of ``z`` (gradients flow back to each rank's own rows) and this
    rank's offset; without an initialised process group, ``z`` itself and 0."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return z, 0
    from torch.distributed.nn.functional import all_gather
    parts = all_gather(z.contiguous())
    return torch.cat(parts, dim=0), dist.get_rank() * z.shape[0]


def nt_xent_loss(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """NT-Xent loss of two views, (B, D) each: row ``i`` of ``z1`` and row ``i`` of ``z2`` are
    the positive pair, every other of the 2B - 2 embeddings a negative.

    Embeddings are L2-normalised; similarities are cosine / ``temperature``. The
    loss is the mean over the 2B anchors of the cross-entropy of the positive
    (Chen et al. 2020, eq. 1). Under ``torch.distributed`` the negatives come from
    every rank's batch (gathered with gradient), each rank averages over its own
    anchors, and DDP's gradient averaging then gives the gradient of the global loss.
    """
    if z1.shape != z2.shape or z1.dim() != 2:
        raise ValueError(f"nt_xent_loss needs two (B, D) tensors of one shape, got {tuple(z1.shape)} "
                         f"and {tuple(z2.shape)}")
    local = z1.shape[0]
    z1 = F.normalize(z1, dim=1)
    z2 = F.normalize(z2, dim=1)
    g1, offset = _gather_with_grad(z1)
    g2, _ = _gather_with_grad(z2)
    total = g1.shape[0]
    keys = torch.cat((g1, g2), dim=0)  # (2N, D): all views 1, then all views 2
    anchors = torch.cat((z1, z2), dim=0)  # (2b, D)
    logits = anchors @ keys.t() / temperature
    rows = torch.arange(local, device=z1.device) + offset
    self_index = torch.cat((rows, rows + total))
    positive = torch.cat((rows + total, rows))
    anchor_rows = torch.arange(2 * local, device=z1.device)
    logits[anchor_rows, self_index] = float("-inf")
    return F.cross_entropy(logits, positive)


def nt_xent_accuracy(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """Fraction of the 2B anchors whose most similar other embedding is their positive (a
    training monitor; chance is 1 / (2B - 1)); a scalar tensor, no gradient."""
    with torch.no_grad():
        z = F.normalize(torch.cat((z1, z2)), dim=1)
        similarity = z @ z.t()
        similarity.fill_diagonal_(float("-inf"))
        n = z1.shape[0]
        target = torch.cat((torch.arange(n, 2 * n), torch.arange(n))).to(z.device)
        return (similarity.argmax(dim=1) == target).float().mean()
