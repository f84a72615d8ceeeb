"""TopoLoss (Deb, Deb & Murty 2025, "TopoNets: High performing vision and language models with
brain-like topography", ICLR 2025), computed by the authors' PyPI package ``topoloss``
(GitHub toponets/topoloss), as a constraint for topobench's training recipes.

For one convolution with weight ``(C_out, C_in, k, k)``:

1. **cortical sheet**: the C_out output channels on TopoNets' ``rows x cols`` grid (row-major,
   :func:`topobench.toponets.sheet_shape`; 40 channels -> 5 x 8), each cell holding its
   channel's flattened weights (``C_in * k * k`` values): a ``(rows, cols, C_in k k)`` tensor;
2. **blur**: bilinear down-sampling of the sheet by ``factor`` along both axes
   (``F.interpolate(scale_factor=1 / factor)``), then bilinear up-sampling back to
   ``rows x cols``;
3. **loss**: ``1 - mean over cells of cos(w_cell, blurred_cell)``, in [0, 2]; 0 when every
   cell equals its blurred neighbourhood.

The constraint is ``mean over layers of (scale x loss_l)`` (the package's
``TopoLoss.compute(model, reduce_mean=True)``); the paper calls ``scale`` tau (its ResNet-18s:
tau 0.5 to 50, all convolutions). It acts on weights only: no activations, no positions, no
batch statistics. The layout of the units that it organises is TopoNets' sheet, tiled at
every retinotopic location (:func:`topobench.toponets.toponets_positions`).

Defaults: ``factor`` 3 (the package's own conv tests and its first README use
``factor_h = factor_w = 3``; the factor must not exceed the sheet's rows, 5 for 40 channels),
``scale`` 1.0 (the package's default), bilinear interpolation (the package's default).
"""
from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from topobench.errors import ModelError

DEFAULT_FACTOR = 3.0
DEFAULT_SCALE = 1.0
DEFAULT_INTERPOLATION = "bilinear"


def _package():
    try:
        import topoloss
    except ImportError as error:  # pragma: no cover - a dependency of topobench
        raise ModelError(f"the TopoLoss constraint needs the package 'topoloss' ({error}); "
                         f"pip install topoloss") from None
    return topoloss


class TopoLossConstraint:
    """TopoLoss on the output channels of some convolutions of ``module``.

    ``convolutions``: layer name (e.g. the block ``_blocks.3`` whose units are scored) -> the
    ``nn.Conv2d`` that makes that layer's output channels (e.g. ``_blocks.3._project_conv``).
    Calling it with the module returns ``(total, per_layer)``: ``total`` the differentiable
    ``mean_l(scale x loss_l)`` (the package's ``compute``), ``per_layer`` layer -> unscaled
    ``loss_l`` (detached), for logging.
    """

    def __init__(self, module: nn.Module, convolutions: Mapping[str, str], factor: float = DEFAULT_FACTOR,
                 scale: float = DEFAULT_SCALE, interpolation: str = DEFAULT_INTERPOLATION):
        from topobench.toponets import sheet_shape
        package = _package()
        if not convolutions:
            raise ModelError("TopoLoss needs at least one convolution")
        self.factor, self.scale, self.interpolation = float(factor), float(scale), str(interpolation)
        if not self.factor >= 1.0:
            raise ModelError(f"TopoLoss factor must be >= 1, not {factor}")
        modules = dict(module.named_modules())
        self.convolutions = dict(convolutions)
        for layer, conv in self.convolutions.items():
            if not isinstance(modules.get(conv), nn.Conv2d):
                raise ModelError(f"TopoLoss for layer {layer}: {conv} is not a convolution of the network")
            rows, cols = sheet_shape(modules[conv].out_channels)
            if self.factor > min(rows, cols):
                raise ModelError(f"TopoLoss factor {self.factor:g} exceeds the {rows} x {cols} sheet of {conv} "
                                 f"({modules[conv].out_channels} channels); use a factor <= {min(rows, cols)}")
        self.loss = package.TopoLoss(losses=[
            package.LaplacianPyramid(layer_name=conv, factor_h=self.factor, factor_w=self.factor,
                                     scale=self.scale, interpolation=self.interpolation)
            for conv in self.convolutions.values()])

    def __call__(self, module: nn.Module):
        total = self.loss.compute(model=module, reduce_mean=True)
        with torch.no_grad():
            unscaled = self.loss.get_layerwise_topo_losses(model=module, do_scaling=False)
        per_layer = {layer: unscaled[conv].detach() for layer, conv in self.convolutions.items()}
        return total, per_layer


def topoloss_of_weight(weight: torch.Tensor, factor: float = DEFAULT_FACTOR,
                       interpolation: str = DEFAULT_INTERPOLATION) -> torch.Tensor:
    """Unscaled TopoLoss of one convolution's weight ``(C_out, C_in, k, k)`` (or a linear layer's
    ``(C_out, C_in)``), by the package's functions."""
    _package()
    from topoloss.cortical_sheet.output import find_cortical_sheet_size
    from topoloss.losses.laplacian_pyramid import laplacian_pyramid_loss
    size = find_cortical_sheet_size(weight.shape[0])
    sheet = weight.reshape(size.height, size.width, -1)  # = rearrange("(height width) ... -> height width (...)")
    return laplacian_pyramid_loss(cortical_sheet=sheet, factor_h=float(factor), factor_w=float(factor),
                                  interpolation=interpolation)
