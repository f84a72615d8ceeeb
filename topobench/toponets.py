"""TopoNets' layout of a layer's units, and the network of the published TopoNets ResNet-18s.

Deb, Deb & Murty 2025, "TopoNets: High performing vision and language models with brain-like
topography" (ICLR 2025; code: PyPI ``topoloss``, GitHub toponets/topoloss and toponets/toponets).

**The cortical sheet.** TopoLoss reshapes the C output channels of a convolution into a 2-D
sheet of ``rows x cols`` cells, row-major (the package's code, ``topoloss/cortical_sheet``)::

    # common.py, find_cortical_sheet_size(area):
    length = int(math.sqrt(area))   # starting with a square shape
    while area % length != 0:
        length -= 1
    breadth = area // length
    return GridDimensions2D(width=breadth, height=length)

    # output.py, get_cortical_sheet_conv(layer):
    rearrange(weight, "(height width) in_channels kernel_height kernel_width -> height width (...)",
              height=cortical_sheet_size.height, width=cortical_sheet_size.width)

so ``rows`` is the largest divisor of C not above sqrt(C), ``cols = C // rows`` (64 -> 8 x 8,
128 -> 8 x 16, 40 -> 5 x 8, 320 -> 16 x 20, 512 -> 16 x 32), and channel ``c`` sits in cell
(``c // cols``, ``c % cols``). The sheet has no physical size in TopoNets: the loss blurs it
with the same factor along both axes of the cell grid.

**In mm** (:func:`toponets_positions`): a (C, H, W) layer covers a square sheet of side
``sheet_side_mm`` (TDANN's sheet sides, :data:`topobench.positions.SHEET_SIDE_MM`). As in TDANN,
each spatial location (row, col) owns a square tile on an even grid, so the sheet is a
retinotopic map of the visual field; the tile holds one copy of TopoNets' channel sheet, its
``rows x cols`` cells filling the tile, channel c at the centre of its cell:

    x = (col + (c % cols + 0.5) / cols) x sheet_side_mm / W
    y = (row + (c // cols + 0.5) / rows) x sheet_side_mm / H        (mm)

No jitter and no random offsets: the layout is a function of (C, H, W) and the sheet side only.
Where C is not a square the cells are not square in mm (128 channels: 8 x 16 cells, each twice as
tall as wide), because the tile stays square so that the retinotopic map is not stretched.

**The published checkpoints** (toponets/toponets, ``vision/resnet18.py``; Hugging Face
``murtylab/topo-resnet18-imagenet``, ``all_topo_tau_<tau>.pt``) were trained with FFCV's ImageNet
recipe, whose ResNet-18 puts a fixed 3 x 3 binomial blur ([1 2 1] x [1 2 1] / 16, depthwise,
stride 1, padding 1) before every convolution of stride > 1 with at least 16 input channels
(``BlurPoolConv2d``: ``layer2.0.conv1``, ``layer2.0.downsample.0`` and the same in layer3 and
layer4). Their state dicts therefore read ``layer2.0.conv1.conv.weight`` and
``layer2.0.conv1.blur_filter`` where torchvision has ``layer2.0.conv1.weight``:
:func:`resnet18_blurpool` is that network (``topobench score --checkpoint PATH --arch
resnet18-blurpool --layout toponets``); the block outputs keep torchvision's names.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from topobench.errors import ModelError
from topobench.positions import LayerPositions

LAYOUTS = ("tdann", "toponets")
PLACEMENT = "TopoNets layout (Deb et al. 2025): channel sheet tiled at each retinotopic location"


def sheet_shape(channels: int) -> tuple[int, int]:
    """(rows, cols) of TopoNets' cortical sheet for ``channels`` channels
    (``topoloss.cortical_sheet.common.find_cortical_sheet_size``: rows = height, cols = width)."""
    channels = int(channels)
    if channels < 1:
        raise ModelError(f"a cortical sheet needs at least one channel, not {channels}")
    rows = int(math.sqrt(channels))  # as the package computes it (float square root)
    while channels % rows != 0:
        rows -= 1
    return rows, channels // rows


def channel_cells(channels: int) -> tuple[np.ndarray, np.ndarray]:
    """For each channel c, its (row, col) cell on TopoNets' sheet: (c // cols, c % cols), row-major
    as einops' ``"(height width) ... -> height width ..."``."""
    _, cols = sheet_shape(channels)
    index = np.arange(int(channels))
    return index // cols, index % cols


def toponets_positions(layer_shape, sheet_side_mm: float, name: str = "layer") -> LayerPositions:
    """TopoNets' layout of a (C, H, W) layer on a square sheet of side ``sheet_side_mm`` (mm).

    Each of the H x W locations owns a square tile (side ``sheet_side_mm / W`` by
    ``sheet_side_mm / H``); the tile holds TopoNets' ``rows x cols`` channel sheet
    (:func:`sheet_shape`), channel c at the centre of cell (c // cols, c % cols). Units are in
    topobench's order (unit ``c * H * W + row * W + col``); coordinates are (x along columns,
    y along rows) in mm.
    """
    try:
        channels, height, width = (int(d) for d in layer_shape)
    except (TypeError, ValueError):
        raise ModelError(f"layer shape {layer_shape!r} is not (channels, rows, cols)") from None
    if min(channels, height, width) < 1:
        raise ModelError(f"layer shape {(channels, height, width)} has an empty axis")
    side = float(sheet_side_mm)
    if not (math.isfinite(side) and side > 0):
        raise ModelError(f"sheet side must be a finite number of mm > 0, not {sheet_side_mm!r}")
    rows, cols = sheet_shape(channels)
    cell_row, cell_col = channel_cells(channels)
    tile_x, tile_y = side / width, side / height
    location_row, location_col = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    x = (location_col[None] + (cell_col[:, None, None] + 0.5) / cols) * tile_x
    y = (location_row[None] + (cell_row[:, None, None] + 0.5) / rows) * tile_y
    coordinates = np.stack([x.reshape(-1), y.reshape(-1)], axis=1)
    provenance = {"placement": PLACEMENT, "channel_sheet_rows": rows, "channel_sheet_cols": cols,
                  "rule": "channel c in cell (c // cols, c % cols) of the tile of each location; "
                          "topoloss.cortical_sheet (find_cortical_sheet_size, get_cortical_sheet_conv)",
                  "tile_mm": [tile_x, tile_y], "cell_mm": [tile_x / cols, tile_y / rows]}
    return LayerPositions(name, (channels, height, width), coordinates, side, provenance)


def toponets_layout(model) -> dict:
    """layer -> :func:`toponets_positions` for every committed layer of a ``PytorchModel``, on
    TDANN's sheet of the layer (or of its region: V1 36.75 mm, V4 22.4 mm, VTC 70 mm)."""
    from topobench.model_interface import REGION_SHEET_SIDE_MM
    from topobench.positions import SHEET_SIDE_MM
    layout = {}
    for region, layer in model.regions.items():
        dims = model.check_spatial(region)  # (C, H, W); a flat output is refused here
        side = SHEET_SIDE_MM.get(layer, REGION_SHEET_SIDE_MM.get(region))
        if side is None:
            raise ModelError(f"no sheet size for layer {layer} of region {region} (sheets are known for "
                             f"{', '.join(SHEET_SIDE_MM)} and regions {', '.join(REGION_SHEET_SIDE_MM)}); "
                             f"give positions with --positions instead of --layout toponets")
        layout[layer] = toponets_positions(dims, side, name=layer)
    return layout


# ----------------------------------------------------------------------------------------
# the network of the published TopoNets ResNet-18 checkpoints
# ----------------------------------------------------------------------------------------
class BlurPoolConv2d(nn.Module):
    """A fixed 3 x 3 binomial blur (depthwise, stride 1, padding 1) before ``conv`` (FFCV's
    ImageNet ResNet, used by TopoNets); state-dict keys ``conv.weight`` and ``blur_filter``."""

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        binomial = torch.tensor([[[[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]]]) / 16.0
        self.conv = conv
        self.register_buffer("blur_filter", binomial.repeat(conv.in_channels, 1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        blurred = F.conv2d(x, self.blur_filter.to(x.dtype), stride=1, padding=(1, 1), groups=self.conv.in_channels)
        return self.conv(blurred)


def add_blurpool(module: nn.Module) -> nn.Module:
    """Wrap every ``nn.Conv2d`` of stride > 1 with at least 16 input channels in
    :class:`BlurPoolConv2d`, in place (FFCV's ``apply_blurpool``)."""
    for name, child in module.named_children():
        if isinstance(child, nn.Conv2d) and max(child.stride) > 1 and child.in_channels >= 16:
            setattr(module, name, BlurPoolConv2d(child))
        else:
            add_blurpool(child)
    return module


def resnet18_blurpool(num_classes: int | None = 1000) -> nn.Module:
    """ResNet-18 with FFCV's blur before its strided convolutions: the network of TopoNets'
    published ResNet-18 checkpoints (torchvision's key names elsewhere)."""
    from topobench.nets import resnet18
    return add_blurpool(resnet18(num_classes=num_classes))
