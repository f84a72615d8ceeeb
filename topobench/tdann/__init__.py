"""TDANN (Margalit et al. 2024, Neuron; code neuroailab/TDANN ``spacetorch``): the
topographic ResNet-18's neighbourhoods, spatial loss and swap optimisation.

Positions themselves live in :mod:`topobench.positions` (retinotopic placement,
sheet sizes and neighbourhood widths in mm).

* :func:`make_neighborhoods`: random square windows (mm) trimmed to a common size.
* :func:`spatial_loss`, :func:`spatial_loss_batched`, :class:`SpatialLoss`: the relative
  (Margalit et al. 2024) and absolute (Lee et al. 2020) spatial losses.
* :func:`swap_optimize`: TDANN's swap optimisation of positions before training;
  :func:`random_swaps` is its control; :func:`evaluate_spatial_loss` scores responses.
"""
from topobench.tdann.neighborhoods import make_neighborhoods, neighborhood_width, tdann_width_scale
from topobench.tdann.spatial_loss import (SpatialLoss, absolute_sl_from_matrices, distance_similarity,
                                          relative_sl_from_matrices, response_correlation, spatial_loss,
                                          spatial_loss_batched)
from topobench.tdann.swap import evaluate_spatial_loss, random_swaps, swap_optimize

__all__ = [
    "make_neighborhoods", "neighborhood_width", "tdann_width_scale",
    "SpatialLoss", "spatial_loss", "spatial_loss_batched", "response_correlation", "distance_similarity",
    "relative_sl_from_matrices", "absolute_sl_from_matrices",
    "swap_optimize", "random_swaps", "evaluate_spatial_loss",
]
