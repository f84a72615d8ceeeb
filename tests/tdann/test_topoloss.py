"""TopoLoss (Deb et al. 2025, TopoNets) beside the spatial loss: the formula against a hand
computation, and the dense recipe's third run ``tdann-dense-topoloss``, which differs from
``tdann-dense`` only in the constraint fields and trains at a tiny size."""
import csv
import json

import numpy as np
import pytest
import torch
from torch import nn

from topobench.errors import ModelError
from topobench.tdann import dense
from topobench.tdann.topoloss import TopoLossConstraint, topoloss_of_weight
from topobench.tdann.training_data import TrainingImages


# ----------------------------------------------------------------------------- the formula
def _cosine_loss(sheet: np.ndarray, blurred: np.ndarray) -> float:
    a, b = sheet.reshape(-1, sheet.shape[-1]), blurred.reshape(-1, sheet.shape[-1])
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return float(1.0 - cos.mean())


def test_topoloss_of_a_2_by_2_sheet_is_one_minus_the_cosine_to_the_mean():
    # 4 channels -> a 2 x 2 sheet; factor 2 shrinks it to one cell (the mean of the four) and
    # bilinear up-sampling copies that cell back to all four
    weight = torch.tensor([[1.0, 0.0, 2.0], [0.0, 1.0, 1.0], [3.0, 1.0, 0.0], [1.0, 1.0, 1.0]], dtype=torch.float64)
    w = weight.numpy()
    expected = _cosine_loss(w, np.broadcast_to(w.mean(0), w.shape))
    assert float(topoloss_of_weight(weight.reshape(4, 3, 1, 1), factor=2.0)) == pytest.approx(expected, abs=1e-12)
    assert float(topoloss_of_weight(torch.ones(4, 3, 1, 1), factor=2.0)) == pytest.approx(0.0, abs=1e-7)


def test_topoloss_of_a_2_by_4_sheet_against_a_hand_computation():
    # 8 channels -> a 2 x 4 sheet, channel c in cell (c // 4, c % 4). Factor 2, bilinear, align_corners
    # False: down-sampled cell j (of 2) is the mean of the 2 x 2 block of columns 2j, 2j+1; up-sampling
    # 1 x 2 -> 2 x 4 reads source column (x + 0.5) / 2 - 0.5, clamped: columns 0..3 get
    # d0, 3/4 d0 + 1/4 d1, 1/4 d0 + 3/4 d1, d1 (both rows alike).
    rng = np.random.default_rng(0)
    w = rng.normal(size=(8, 5))
    sheet = w.reshape(2, 4, 5)
    d0, d1 = sheet[:, 0:2].mean(axis=(0, 1)), sheet[:, 2:4].mean(axis=(0, 1))
    row = np.stack([d0, 0.75 * d0 + 0.25 * d1, 0.25 * d0 + 0.75 * d1, d1])
    blurred = np.stack([row, row])
    expected = _cosine_loss(sheet, blurred)
    weight = torch.tensor(w).reshape(8, 5, 1, 1)
    assert float(topoloss_of_weight(weight, factor=2.0)) == pytest.approx(expected, abs=1e-12)
    # the constraint: mean over layers of scale x loss (the package's TopoLoss.compute)
    net = nn.Sequential(nn.Conv2d(5, 8, 1, bias=False), nn.Conv2d(8, 4, 1, bias=False)).double()
    with torch.no_grad():
        net[0].weight.copy_(weight)
        net[1].weight.copy_(torch.tensor(rng.normal(size=(4, 8))).reshape(4, 8, 1, 1))
    second = float(topoloss_of_weight(net[1].weight.detach(), factor=2.0))
    constraint = TopoLossConstraint(net, {"a": "0", "b": "1"}, factor=2.0, scale=2.5)
    total, per_layer = constraint(net)
    assert float(per_layer["a"]) == pytest.approx(expected, abs=1e-12)
    assert float(per_layer["b"]) == pytest.approx(second, abs=1e-12)
    assert float(total.detach()) == pytest.approx(2.5 * (expected + second) / 2, abs=1e-12)
    total.backward()
    assert torch.isfinite(net[0].weight.grad).all() and net[0].weight.grad.abs().sum() > 0


def test_topoloss_refuses_a_factor_larger_than_the_sheet():
    net = nn.Sequential(nn.Conv2d(3, 40, 1))  # 40 channels: a 5 x 8 sheet
    TopoLossConstraint(net, {"layer": "0"}, factor=5.0)
    with pytest.raises(ModelError, match="exceeds the 5 x 8 sheet"):
        TopoLossConstraint(net, {"layer": "0"}, factor=6.0)
    with pytest.raises(ModelError, match="not a convolution"):
        TopoLossConstraint(net, {"layer": "1"})


# ----------------------------------------------------------------------------- the recipe
def test_the_topoloss_run_differs_from_tdann_dense_only_in_the_constraint_fields():
    family = dense.family_configs()
    spatial, topo = family["tdann-dense"], family[dense.TOPOLOSS_IDENTIFIER]
    differences = spatial.differences(topo)
    assert set(differences) == set(dense.CONSTRAINT_FIELDS) == {"constraint", "positions"}
    assert differences["constraint"] == ("spatial", "topoloss")
    assert differences["positions"] == ("swapopt", "toponets")
    assert set(family["tdann-dense"].differences(family["tdann-dense-task-only"])) == {"alpha"}
    # with overrides (a sweep's alpha, a shorter run, TopoLoss's own scale): still only those fields
    family = dense.family_configs(0.25, steps=10, positions="default", topoloss_scale=5.0)
    assert set(family["tdann-dense"].differences(family[dense.TOPOLOSS_IDENTIFIER])) == {"constraint", "positions"}
    assert family[dense.TOPOLOSS_IDENTIFIER].topoloss_scale == family["tdann-dense"].topoloss_scale == 5.0
    # TopoLoss's defaults: blur factor 3, scale 1, bilinear (the package's)
    assert (topo.topoloss_factor, topo.topoloss_scale, topo.topoloss_interpolation) == (3.0, 1.0, "bilinear")
    with pytest.raises(ModelError, match="constraint"):
        dense.DenseConfig(constraint="wiring")


@pytest.fixture(scope="module")
def teacher():
    return dense.load_teacher()


@pytest.fixture(scope="module")
def data():
    return dense.SourceImages({"big": TrainingImages.synthetic(24, 32, seed=0).images,
                               "small": TrainingImages.synthetic(24, 16, seed=1).images})


def tiny_topoloss():
    return dense.topoloss_config(input_size=64, batch_size=4, sources={"big": 32, "small": 16},
                                 checkpoint_every=1, n_neighborhoods=20)


def _rows(folder):
    with open(folder / dense.LOSSES_FILE, newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_tiny_topoloss_run_is_finite_trains_and_resumes(tmp_path, data, teacher):
    layers = list(dense.SHEET_MM)
    quiet = lambda message: None  # noqa: E731
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    dense.train(tiny_topoloss(), straight, until=3, data=data, teacher=teacher, log=quiet)
    rows = _rows(straight)
    assert [int(row["step"]) for row in rows] == [1, 2, 3]
    for row in rows:
        tl = [float(row[f"tl_{layer}"]) for layer in layers]
        assert all(np.isfinite(v) and 0 < v < 2 for v in tl)
        assert float(row["topoloss_term"]) == pytest.approx(np.mean(tl), abs=1e-5)  # scale 1, mean over layers
        assert float(row["spatial_term"]) == 0.0  # the spatial loss is logged, not trained
        assert all(0 < float(row[f"sl_{layer}"]) <= 1 for layer in layers)
        assert float(row["total_loss"]) == pytest.approx(float(row["task_loss"]) + float(row["topoloss_term"]),
                                                         abs=1e-5)
    # it trains: each row is measured before that step's update, and TopoLoss goes down
    terms = [float(row["topoloss_term"]) for row in rows]
    assert terms[2] < terms[1] < terms[0]
    # its units are laid out as TopoNets lays them out
    positions = dense._run_positions(straight)
    assert set(positions) == set(layers)
    assert positions["_blocks.3"].provenance["channel_sheet_rows"] == 5
    assert positions["_blocks.3"].provenance["placement"].startswith("TopoNets layout")
    # interrupted after step 2 and resumed: the same weights as the straight run
    dense.train(tiny_topoloss(), resumed, until=2, data=data, teacher=teacher, log=quiet)
    dense.train(None, resumed, until=3, data=data, teacher=teacher, log=quiet)
    a = dense.load_checkpoint(straight / dense.CHECKPOINT_FILE)["model"]
    b = dense.load_checkpoint(resumed / dense.CHECKPOINT_FILE)["model"]
    assert all(torch.equal(a[key], b[key]) for key in a)
    # the constraint cannot be changed on a later call
    assert dense.main(["--run-dir", str(straight), "--constraint", "spatial", "--until", "4"]) == 2
    # a bundle records the constraint
    folder = dense.bundle(straight, tmp_path / "bundle", dense.TOPOLOSS_IDENTIFIER)
    record = json.loads((folder / "model.json").read_text())
    assert record["constraint"] == "topoloss" and record["config"]["positions"] == "toponets"
    assert "tl__blocks.3" in _rows(folder)[0]
