"""TopoNets' layout (Deb et al. 2025): channel c at the cell of TopoNets' sheet that the
``topoloss`` package assigns to it, repeated at each retinotopic location; ``topobench score
--checkpoint ... --layout toponets``; the BlurPool ResNet-18 of the published checkpoints."""
import inspect

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from topobench import cli
from topobench.errors import InputError, ModelError
from topobench.nets import resnet18
from topobench.results import ResultsStore
from topobench.scores import ceiled_score
from topobench.submit import model_from_checkpoint
from topobench.toponets import (BlurPoolConv2d, channel_cells, resnet18_blurpool, sheet_shape,
                                toponets_positions)

TINY = "TinyLayout2025.V1-positive_fraction"


def _package_sheet(channels: int) -> np.ndarray:
    """TopoNets' own sheet of a conv whose output channel c has the weight c: (rows, cols) -> c."""
    from topoloss.cortical_sheet.output import get_cortical_sheet_conv
    conv = nn.Conv2d(1, channels, 1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.arange(channels, dtype=torch.float32).reshape(channels, 1, 1, 1))
    kwargs = {"strict_layer_type": True} if "strict_layer_type" in inspect.signature(
        get_cortical_sheet_conv).parameters else {}
    return get_cortical_sheet_conv(layer=conv, **kwargs)[..., 0].detach().numpy().astype(int)


def test_sheet_shape_is_the_packages():
    from topoloss.cortical_sheet.common import find_cortical_sheet_size
    for channels in range(1, 1030):
        size = find_cortical_sheet_size(channels)
        assert sheet_shape(channels) == (size.height, size.width), channels
    assert [sheet_shape(c) for c in (40, 64, 80, 128, 320, 512)] == [(5, 8), (8, 8), (8, 10), (8, 16), (16, 20),
                                                                      (16, 32)]


@pytest.mark.parametrize("shape", [(128, 3, 2), (40, 2, 3), (64, 1, 1), (7, 2, 2), (320, 7, 7)])
def test_channel_c_sits_in_the_cell_topoloss_assigns(shape):
    channels, height, width = shape
    side = 36.75
    positions = toponets_positions(shape, side, name="layer2.0")
    assert positions.dims == shape and positions.sheet_side_mm == side
    package = _package_sheet(channels)
    rows, cols = package.shape
    tile_x, tile_y = side / width, side / height
    x, y = positions.coordinates[:, 0], positions.coordinates[:, 1]
    c, row, col = np.unravel_index(np.arange(positions.n_units), shape)  # topobench's (C, H, W) order
    # each unit lies in the tile of its own retinotopic location ...
    assert np.array_equal(np.floor(x / tile_x).astype(int), col)
    assert np.array_equal(np.floor(y / tile_y).astype(int), row)
    # ... at the cell of TopoNets' sheet that holds its channel
    cell_row = np.floor((y / tile_y - row) * rows).astype(int)
    cell_col = np.floor((x / tile_x - col) * cols).astype(int)
    assert np.array_equal(package[cell_row, cell_col], c)
    cell_rows, cell_cols = channel_cells(channels)
    assert np.array_equal(package[cell_rows, cell_cols], np.arange(channels))


def test_layout_geometry_in_mm():
    positions = toponets_positions((128, 4, 4), 8.0)  # 8 x 16 cells in tiles of 2 mm
    coords = positions.coordinates.reshape(128, 4, 4, 2)
    assert coords.min() > 0 and coords.max() < 8.0
    assert np.allclose(coords[1, 0, 0] - coords[0, 0, 0], [2.0 / 16, 0.0])  # next column of the sheet
    assert np.allclose(coords[16, 0, 0] - coords[0, 0, 0], [0.0, 2.0 / 8])  # next row of the sheet
    assert np.allclose(coords[5, 2, 3] - coords[5, 1, 1], [2 * 2.0, 1 * 2.0])  # same channel, other tile
    assert len(np.unique(positions.coordinates, axis=0)) == positions.n_units
    with pytest.raises(ModelError):
        toponets_positions((128, 4, 4), 0.0)


# ----------------------------------------------------------------------------- scoring
class TinyBenchmark:
    """Records V1 on four noise images; score = fraction of units with a positive mean response."""
    identifier = TINY
    version = "1"
    bibtex = ""

    def __init__(self, folder):
        import pandas as pd
        from PIL import Image

        from topobench.stimuli.base import make_stimulus_set
        rng = np.random.default_rng(0)
        paths = {}
        for i in range(4):
            paths[f"noise{i}"] = folder / f"noise{i}.png"
            Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(paths[f"noise{i}"])
        self.stimuli = make_stimulus_set(pd.DataFrame({"stimulus_id": list(paths), "degrees": 8.0}), paths,
                                         "tiny-layout-noise")
        self.seen = []

    def __call__(self, model):
        assembly = model.record(self.stimuli, "V1")
        self.seen.append(np.stack([assembly["tissue_x"].values, assembly["tissue_y"].values], axis=1))
        return ceiled_score(float((assembly.values.mean(axis=0) > 0).mean()), 1.0, 0.0,
                            {"positions_by_default": assembly.attrs["positions_by_default"]})


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("checkpoint") / "topo_resnet.pt"
    torch.save({k: (v.half() if v.is_floating_point() else v) for k, v in
                resnet18(num_classes=None, seed=3).state_dict().items()}, path)
    return path


def test_a_checkpoint_takes_the_toponets_layout_for_every_committed_layer(checkpoint):
    model = model_from_checkpoint(checkpoint, "resnet18", image_size=64, layout="toponets")
    expected = {"V1": ("layer2.0", (128, 8, 8), 36.75), "V4": ("layer3.1", (256, 4, 4), 22.4),
                "VTC": ("layer4.1", (512, 2, 2), 70.0)}
    for region, (layer, dims, side) in expected.items():
        positions = model.layer_positions(region)
        assert np.array_equal(positions.coordinates, toponets_positions(dims, side).coordinates), region
        assert positions.provenance["placement"].startswith("TopoNets layout")
    assert not any(model.positions_by_default.values())
    with pytest.raises(InputError, match="both place the units"):
        model_from_checkpoint(checkpoint, "resnet18", image_size=64, layout="toponets", positions={})
    with pytest.raises(InputError, match="unknown layout"):
        model_from_checkpoint(checkpoint, "resnet18", image_size=64, layout="grid")


def test_cli_scores_a_checkpoint_with_layout_toponets(checkpoint, tmp_path, monkeypatch, capsys):
    from topobench.registry import benchmark_registry, names
    names("benchmark")
    benchmark = TinyBenchmark(tmp_path)
    monkeypatch.setitem(benchmark_registry, TINY, lambda: benchmark)
    monkeypatch.setenv("TOPOBENCH_DB_URL", str(tmp_path / "results.sqlite"))
    code = cli.main(["score", "--checkpoint", str(checkpoint), "--arch", "resnet18", "--layout", "toponets",
                     "--image-size", "64", "--layers", "V1=layer1.1", "--name", "topo-resnet", TINY])
    assert code == 0, capsys.readouterr()
    assert np.array_equal(benchmark.seen[0], toponets_positions((64, 16, 16), 2.4).coordinates)
    assert ResultsStore(str(tmp_path / "results.sqlite")).latest("topo-resnet", TINY)["status"] == "ok"
    capsys.readouterr()
    assert cli.main(["score", "--checkpoint", str(checkpoint), "--arch", "resnet18", "--layout", "grid", TINY]) == 2
    assert "--layout takes one of tdann, toponets" in capsys.readouterr().err
    assert cli.main(["score", "resnet18-untrained", TINY, "--layout", "toponets"]) == 2
    assert "--layout only go with --checkpoint" in capsys.readouterr().err


def test_the_blurpool_resnet18_of_the_published_checkpoints(tmp_path):
    net = resnet18_blurpool(num_classes=1000)
    wrapped = sorted(name for name, module in net.named_modules() if isinstance(module, BlurPoolConv2d))
    assert wrapped == [f"layer{i}.0.{conv}" for i in (2, 3, 4) for conv in ("conv1", "downsample.0")]
    keys = set(net.state_dict())
    assert {"layer2.0.conv1.conv.weight", "layer2.0.conv1.blur_filter", "layer4.0.downsample.0.conv.weight",
            "conv1.weight", "layer2.0.conv2.weight", "fc.weight"} <= keys
    block = net.layer2[0].conv1
    x = torch.randn(1, 64, 9, 9)
    kernel = torch.tensor([1.0, 2.0, 1.0])
    blur = (torch.outer(kernel, kernel) / 16).expand(64, 1, 3, 3)
    assert torch.allclose(block(x), block.conv(F.conv2d(x, blur, padding=1, groups=64)), atol=1e-6)
    path = tmp_path / "all_topo_tau_1.0.pt"
    torch.save(net.state_dict(), path)
    model = model_from_checkpoint(path, "resnet18-blurpool", image_size=64, layout="toponets")
    assert model.layer_positions("V1").dims == (128, 8, 8)
    with pytest.raises(ModelError, match="--arch resnet18-blurpool"):
        model_from_checkpoint(path, "resnet18", image_size=64)
