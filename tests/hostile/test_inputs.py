"""Hostile inputs to ``topobench score --checkpoint``: every input that could make a score wrong
is refused before any benchmark work, with one line naming it, and no stored result changes.

"Before any work" is checked by what a benchmark would leave behind: no reference data
fetched, no stimuli rendered, no activations cached, no row stored.
"""
from __future__ import annotations

import datetime
import json
import pathlib

import numpy as np
import pytest
import torch

from topobench.nets import resnet18
from topobench.positions import retinotopic_positions
from topobench.results import ResultsStore
from topobench.scores import ceiled_score

BENCHMARK = "Ringach2002.V1-orientation_selectivity"
#: layer2.0 of ResNet-18 at 64 px: 128 channels on an 8 x 8 grid.
LAYER, DIMS = "layer2.0", (128, 8, 8)
N_UNITS = int(np.prod(DIMS))


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A ResNet-18 with its 1,000-unit classifier, saved as a submitter would (half precision, small)."""
    path = tmp_path_factory.mktemp("checkpoint") / "submitted.pt"
    state = {k: (v.half() if v.is_floating_point() else v)
             for k, v in resnet18(num_classes=1000, seed=3).state_dict().items()}
    torch.save(state, path)
    return path


def _seed_store(sandbox) -> list:
    """A finished result the user already has, which no refused command may lose or change."""
    sandbox.home.mkdir(parents=True, exist_ok=True)
    store = ResultsStore(f"sqlite:///{sandbox.home / 'results.sqlite'}")
    try:
        store.record_result("earlier-model", None, BENCHMARK, "1", ceiled_score(0.5, 0.9, 0.01),
                            started_at=datetime.datetime.now(datetime.timezone.utc))
    finally:
        store.close()
    rows = sandbox.rows()
    assert len(rows) == 1
    return rows


def _refused(sandbox, checkpoint, *args, words=()):
    """Run ``score --checkpoint`` with ``args``; assert exit 2, one line with ``words``, no work done."""
    before = _seed_store(sandbox)
    result = sandbox.cli("score", "--checkpoint", checkpoint, "--arch", "resnet18", *args, BENCHMARK)
    line = result.assert_one_line(*words, code=2)
    assert sandbox.rows() == before, "a stored result was lost or changed"
    for made_by_work in ("activations", "stimuli", "data", "projections"):
        assert not (sandbox.home / made_by_work).exists(), f"{made_by_work} made: the check came after work began"
    return line


# ----------------------------------------------------------------------------- numbers
@pytest.mark.parametrize("degrees", ["-8", "0", "nan", "inf", "-inf", "abc"])
def test_visual_degrees_must_be_finite_and_positive(sandbox, checkpoint, degrees):
    _refused(sandbox, checkpoint, "--image-size", "64", f"--visual-degrees={degrees}",  # '=': -inf is no option
             words=("visual degrees", degrees, "greater than 0"))


@pytest.mark.parametrize("size", ["0", "-1", "abc", "64.5"])
def test_image_size_must_be_a_positive_whole_number(sandbox, checkpoint, size):
    _refused(sandbox, checkpoint, "--image-size", size, words=("image size", size))


@pytest.mark.parametrize("threads", ["-1", "0"])
def test_threads_must_be_positive(sandbox, checkpoint, threads):
    _refused(sandbox, checkpoint, "--image-size", "64", "--threads", threads, words=("--threads", threads))


# ----------------------------------------------------------------------------- layers
@pytest.mark.parametrize("layers,words", [
    ("V1=fc", ("V1", "fc", "(1000,)", "convolutional")),  # the classifier is no V1 map
    ("V1=avgpool", ("V1", "avgpool", "(512, 1, 1)", "convolutional")),  # one location: no map
    ("V1=nosuchlayer", ("V1", "nosuchlayer", "does not exist", "closest layer names")),
    ("V1:layer2.0", ("V1:layer2.0", "REGION=LAYER")),
    ("V1=layer2.0=layer3.1", ("REGION=LAYER",)),
    ("V1=layer2.0,V1=layer3.1", ("V1", "twice")),
    (",", ("--layers", "names no layer")),
])
def test_layers_must_be_spatial_maps_that_exist(sandbox, checkpoint, layers, words):
    _refused(sandbox, checkpoint, "--image-size", "64", "--layers", layers, words=words)


# ----------------------------------------------------------------------------- device
def _unavailable_cuda() -> str:
    """'cuda' where the machine has none, else a CUDA index it does not have: refused either way."""
    return f"cuda:{torch.cuda.device_count()}" if torch.cuda.is_available() else "cuda"


@pytest.mark.parametrize("device,words", [
    ("banana", ("device 'banana'", "is not a device", "--device cpu")),
    (None, ("is not available on this machine", "--device cpu")),
], ids=["unknown", "unavailable-cuda"])
def test_device_must_be_one_this_machine_has(sandbox, checkpoint, device, words):
    device = device or _unavailable_cuda()
    _refused(sandbox, checkpoint, "--image-size", "64", "--device", device, words=(f"device '{device}'", *words))


# ----------------------------------------------------------------------------- positions
def _write_positions(folder, **fields):
    """A positions .npz as LayerPositions.save writes it, with ``fields`` replaced (None: left out)."""
    good = retinotopic_positions(LAYER, DIMS, seed=1)
    content = {"name": LAYER, "dims": np.array(DIMS), "coordinates": good.coordinates,
               "sheet_side_mm": good.sheet_side_mm, "provenance": json.dumps(good.provenance)}
    content.update(fields)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{LAYER}.npz"
    np.savez(path, **{k: v for k, v in content.items() if v is not None})
    return path


def _coordinates(change):
    coordinates = retinotopic_positions(LAYER, DIMS, seed=1).coordinates.copy()
    change(coordinates)
    return coordinates


def _some_nan(c):
    c[::1000, 0] = np.nan  # 0.1% of the units: used to give a score


def _many_nan(c):
    c[::10, 1] = np.nan  # 10%: used to end in an OverflowError after all the work


def _one_inf(c):
    c[17, 0] = np.inf


def _all_same(c):
    c[:] = (1.0, 2.0)


def _many_duplicates(c):
    c[: N_UNITS // 10] = c[0]  # 10% of the units at one point


@pytest.mark.parametrize("change,words", [
    (_some_nan, ("layer2.0", "not finite")),
    (_many_nan, ("layer2.0", "not finite")),
    (_one_inf, ("layer2.0", "not finite", "unit 17")),
    (_all_same, ("layer2.0", "same point")),
    (_many_duplicates, ("layer2.0", "share a position")),
])
def test_positions_must_be_finite_and_distinct(sandbox, checkpoint, tmp_path, change, words):
    path = _write_positions(tmp_path / "positions", coordinates=_coordinates(change))
    _refused(sandbox, checkpoint, "--image-size", "64", "--positions", path.parent, words=(str(path), *words))


def test_positions_of_the_wrong_count_for_the_file(sandbox, checkpoint, tmp_path):
    coordinates = retinotopic_positions(LAYER, DIMS, seed=1).coordinates[:-5]
    path = _write_positions(tmp_path / "positions", coordinates=coordinates)
    _refused(sandbox, checkpoint, "--image-size", "64", "--positions", path.parent,
             words=(str(path), f"({N_UNITS - 5}, 2)", f"{N_UNITS} units"))


def test_positions_of_the_wrong_count_for_the_layer(sandbox, checkpoint, tmp_path):
    folder = tmp_path / "positions"
    retinotopic_positions(LAYER, (128, 28, 28), seed=1).save(folder / f"{LAYER}.npz")  # made for 224 px
    _refused(sandbox, checkpoint, "--image-size", "64", "--positions", folder,
             words=("layer2.0", "100352 units", f"({N_UNITS} units) at 64 px"))


def _garbage(path, _marker):
    path.write_bytes(b"this is not a zip archive\n" * 10)


def _truncated(path, _marker):
    _write_positions(path.parent)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _without_coordinates(path, _marker):
    _write_positions(path.parent, coordinates=None)


class _Payload:
    """Unpickling it would create the sandbox's marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return pathlib.Path.touch, (pathlib.Path(self.marker),)


def _pickled_object_array(path, marker):
    payload = np.empty(N_UNITS, dtype=object)
    payload[:] = [_Payload(marker)] * N_UNITS
    _write_positions(path.parent, coordinates=payload)  # np.savez pickles an object array


def _a_single_array(path, _marker):
    with open(path, "wb") as out:  # a .npy under a .npz name
        np.save(out, retinotopic_positions(LAYER, DIMS, seed=1).coordinates)


def _text_coordinates(path, _marker):
    _write_positions(path.parent, coordinates=np.array(["x"] * N_UNITS))


def _bad_dims(path, _marker):
    _write_positions(path.parent, dims=np.array([128, 64]))


@pytest.mark.parametrize("make,words", [
    (_garbage, ("not a .npz archive",)),
    (_truncated, ("not a .npz archive",)),
    (_without_coordinates, ("lacks the field", "'coordinates'")),
    (_pickled_object_array, ("'coordinates'", "pickled")),
    (_a_single_array, ("not a .npz archive",)),
    (_text_coordinates, ("'coordinates'", "not numbers")),
    (_bad_dims, ("'dims'",)),
])
def test_positions_file_that_does_not_read(sandbox, checkpoint, tmp_path, make, words):
    folder = tmp_path / "positions"
    folder.mkdir()
    path = folder / f"{LAYER}.npz"
    make(path, sandbox.marker)
    _refused(sandbox, checkpoint, "--image-size", "64", "--positions", folder, words=(str(path), *words))
    assert not sandbox.marker.exists()


# ----------------------------------------------------------------------------- the Python API
@pytest.mark.parametrize("keyword,value", [("visual_degrees", -8), ("visual_degrees", 0.0),
                                           ("visual_degrees", float("nan")), ("visual_degrees", float("inf")),
                                           ("visual_degrees", "abc"), ("image_size", 0), ("image_size", -1),
                                           ("image_size", 3.5)])
def test_a_model_is_not_built_with_bad_numbers(keyword, value):
    from topobench.errors import InputError
    from topobench.model_interface import PytorchModel
    with pytest.raises(InputError, match=keyword.replace("_", " ")):
        PytorchModel(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3)), "tiny", {"V1": "0"}, **{keyword: value})


def test_a_few_duplicate_positions_are_accepted():
    from topobench.positions import LayerPositions
    good = retinotopic_positions(LAYER, DIMS, seed=1)
    coordinates = good.coordinates.copy()
    coordinates[1:41] = coordinates[0]  # 40 of 8192 units (0.5%) share a point
    assert LayerPositions(LAYER, DIMS, coordinates, good.sheet_side_mm).n_units == N_UNITS
