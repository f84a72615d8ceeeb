"""``--device`` (issue 16): the forward passes of scoring and training run where the user says.

On the CPU nothing changes: the same scores bit for bit, the same activation cache keys (so
existing caches and published results stay valid), the same provenance. Another device moves
the network, keys the cache apart and is named in each stored row. A device that is no device,
or one this machine lacks, is refused before any work with one line naming it and the fix.
A real accelerator is exercised by ``tests/performance/gpu_check.py`` on a GPU machine; here
the ``meta`` device (which every torch has) stands in for it where a move is checked.
"""
import os
import subprocess
import sys
import tempfile

import pytest
import torch
from brainscore_core.benchmarks import BenchmarkBase

import topobench.model_interface as model_interface
from topobench.activation_cache import ActivationCache
from topobench.cli import main
from topobench.errors import InputError
from topobench.model_interface import PytorchModel, check_device, to_device
from topobench.nets import resnet18
from topobench.registry import benchmark_registry, model_registry
from topobench.results import ResultsStore
from topobench.scores import ceiled_score

BENCHMARK = "Ringach2002.V1-orientation_selectivity"
#: The preprocessing text (part of every activation cache key) of a 64 px model, as every cache
#: made before ``--device`` keyed it: a CPU model must keep it to the character.
CPU_PREPROCESSING_64PX = ("place-on-field(visual_degrees=8,image_size=64,background=grey128,"
                          "resample=bilinear-antialias)|normalize(mean=(0.485, 0.456, 0.406),"
                          "std=(0.229, 0.224, 0.225))")


def small_model(identifier="device-resnet18-seed0-64px", **kwargs):
    return PytorchModel(resnet18(num_classes=None, seed=0), identifier, {"V1": "layer2.0"}, image_size=64,
                        **kwargs)


def unavailable_cuda() -> str:
    """'cuda' where the machine has none, else a CUDA index it does not have: refused either way."""
    return f"cuda:{torch.cuda.device_count()}" if torch.cuda.is_available() else "cuda"


def one_line(stderr: str, *words) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("topobench: error:"), stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@pytest.fixture
def permissive(monkeypatch):
    """Accept any device name (``meta`` stands in for an accelerator this machine lacks)."""
    monkeypatch.setattr(model_interface, "check_device", lambda value, what="device": str(value))


class Constant(BenchmarkBase):
    """A benchmark that does not run the model: only the device's way to the stored row is checked."""

    def __init__(self):
        super().__init__(identifier="Device2026.V1-constant", ceiling=None, version=1, parent="V1",
                         bibtex="@misc{device2026, title={Device}}")

    def __call__(self, model):
        return ceiled_score(0.3, 0.6, 0.01, {"kind": "constant"})


# ----------------------------------------------------------------------------- the check
def test_cpu_names_are_cpu():
    assert check_device("cpu") == check_device(" CPU ") == check_device("cpu:0") == "cpu"


@pytest.mark.parametrize("value", ["banana", "", "meta", "cuda:x", True, None])
def test_a_name_that_is_no_device_is_refused(value):
    with pytest.raises(InputError, match=f"device '{value}' is not a device .*e.g. --device cpu"):
        check_device(value)


def test_an_accelerator_this_machine_lacks_is_refused():
    device = unavailable_cuda()
    with pytest.raises(InputError, match=f"device '{device}' is not available on this machine .*--device"):
        check_device(device)
    if not torch.backends.mps.is_available():
        with pytest.raises(InputError, match=r"device 'mps' is not available on this machine "
                                             r"\(torch.backends.mps.is_available\(\) is False\); use --device cpu"):
            check_device("mps")
    else:
        assert check_device("mps") == "mps"
    with pytest.raises(InputError, match=f"model m: device '{device}'"):
        PytorchModel(resnet18(num_classes=None, seed=0), "m", {"V1": "layer2.0"}, device=device)


# ----------------------------------------------------------------------------- the CPU is unchanged
def test_cpu_keeps_the_cache_key_and_the_provenance():
    from topobench.scoring import _provenance
    model = small_model()
    assert model.device == "cpu" and model.preprocessing == CPU_PREPROCESSING_64PX
    assert to_device(model, "cpu") is model and model.preprocessing == CPU_PREPROCESSING_64PX
    assert "device" not in _provenance(model, Constant())


def test_cpu_scores_bit_identically_with_and_without_device(fresh_home, monkeypatch, capsys):
    monkeypatch.setitem(model_registry, "device-resnet18-seed0-64px", lambda: small_model(cache=False))
    assert main(["score", "device-resnet18-seed0-64px", BENCHMARK]) == 0
    assert main(["score", "device-resnet18-seed0-64px", BENCHMARK, "--device", "cpu"]) == 0
    printed = [line for line in capsys.readouterr().out.splitlines() if " score " in line]
    assert len(printed) == 2 and printed[0] == printed[1]
    first, second = ResultsStore().rows(model="device-resnet18-seed0-64px")
    for column in ("status", "score", "raw", "ceiling", "error", "details", "model_weights_sha256"):
        assert first[column] == second[column], column
    assert first["status"] == "ok" and "device" not in first["provenance"] and "device" not in second["provenance"]


# ----------------------------------------------------------------------------- another device
def test_another_device_moves_the_network_and_keys_the_cache_apart(permissive):
    model = small_model()
    key = ActivationCache.key(model.weights_sha256, "stimuli", model.preprocessing, "layer2.0")
    assert to_device(model, "meta") is model
    assert model.device == "meta" and {p.device.type for p in model.module.parameters()} == {"meta"}
    assert model.preprocessing == CPU_PREPROCESSING_64PX + "|device=meta"
    assert ActivationCache.key(model.weights_sha256, "stimuli", model.preprocessing, "layer2.0") != key
    to_device(model, "cpu")  # 'cpu' leaves a loaded model as it is
    assert model.device == "meta"


def test_a_model_without_a_network_stays_as_it_is():
    class Numpy:
        identifier = "numpy-control"
    control = Numpy()
    assert to_device(control, "cpu") is control and not hasattr(control, "device")


def test_score_device_reaches_the_registered_model_and_its_row(fresh_home, monkeypatch, permissive, capsys):
    monkeypatch.setitem(model_registry, "device-meta", lambda: small_model("device-meta", weights_sha256="ab" * 32))
    monkeypatch.setitem(benchmark_registry, "Device2026.V1-constant", Constant)
    assert main(["score", "device-meta", "Device2026.V1-constant", "--device", "meta"]) == 0
    assert ResultsStore().latest("device-meta", "Device2026.V1-constant")["provenance"]["device"] == "meta"


def test_leaderboard_run_device_reaches_every_pair(tmp_path, monkeypatch, permissive):
    from topobench.leaderboard.run import run_leaderboard
    moved, real = [], model_interface.to_device
    monkeypatch.setattr(model_interface, "to_device", lambda model, device: (
        moved.append((model.identifier, device)), real(model, device))[1])
    for identifier in ("device-lb-a", "device-lb-b"):
        monkeypatch.setitem(model_registry, identifier,
                            lambda identifier=identifier: small_model(identifier, weights_sha256="cd" * 32))
    monkeypatch.setitem(benchmark_registry, "Device2026.V1-constant", Constant)
    store = ResultsStore(f"sqlite:///{tmp_path / 'results.sqlite'}")
    summary = run_leaderboard(["device-lb-a", "device-lb-b"], ["Device2026.V1-constant"], store, progress=False,
                              device="meta")
    assert len(summary.ok) == 2
    assert ("device-lb-a", "meta") in moved and ("device-lb-b", "meta") in moved
    assert {row["provenance"]["device"] for row in store.rows()} == {"meta"}
    store.close()


# ----------------------------------------------------------------------------- refused, one line
def run(*args):
    """The installed command as a user runs it, outside the checkout."""
    result = subprocess.run([sys.executable, "-m", "topobench", *args], capture_output=True, text=True,
                            env={**os.environ}, timeout=300, cwd=tempfile.gettempdir())
    return result.returncode, result.stdout, result.stderr


@pytest.mark.parametrize("device", ["banana", None], ids=["unknown", "unavailable-cuda"])
def test_score_refuses_the_device_in_one_line(fresh_home, device):
    device = device or unavailable_cuda()
    code, out, err = run("score", "resnet18-untrained", BENCHMARK, "--device", device)
    assert code == 2 and " score " not in out
    one_line(err, f"device '{device}'", "--device cpu")
    assert not (fresh_home / "activations").exists()


@pytest.mark.parametrize("device", ["banana", None], ids=["unknown", "unavailable-cuda"])
def test_leaderboard_run_refuses_the_device_in_one_line(tmp_path, device, capsys):
    device = device or unavailable_cuda()
    url = f"sqlite:///{tmp_path / 'results.sqlite'}"
    assert main(["leaderboard", "run", "--db", url, "--quiet", "--device", device]) == 2
    one_line(capsys.readouterr().err, f"device '{device}'", "--device cpu")
    assert not (tmp_path / "results.sqlite").exists()


def test_training_refuses_the_device_before_any_work(tmp_path, capsys):
    from topobench.tdann import dense, train
    from topobench.tdann.config import TrainConfig
    assert dense.main(["--run-dir", str(tmp_path / "dense"), "--alpha", "1", "--until", "1",
                       "--device", "banana"]) == 2
    assert "device 'banana'" in capsys.readouterr().err and not (tmp_path / "dense").exists()
    TrainConfig(steps=1).save(tmp_path / "run" / "config.json")
    device = unavailable_cuda()
    assert train.main(["--run-dir", str(tmp_path / "run"), "--device", device]) == 2
    err = capsys.readouterr().err
    assert f"device '{device}' is not available" in err and "--device cpu" in err
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["config.json"]


def test_dense_training_on_cpu_is_the_default(tmp_path):
    """Two steps of a tiny run with ``device='cpu'`` and without: the same checkpoint, byte for byte."""
    from topobench.tdann import dense
    from topobench.tdann.training_data import TrainingImages
    teacher = dense.load_teacher()
    data = dense.SourceImages({"big": TrainingImages.synthetic(8, 32, seed=0).images})
    config = lambda: dense.DenseConfig(alpha=1.0, input_size=64, batch_size=4, positions="default",  # noqa: E731
                                       sources={"big": 32}, checkpoint_every=2, n_neighborhoods=20)
    dense.train(config(), tmp_path / "default", until=2, data=data, teacher=teacher, log=lambda _: None)
    dense.train(config(), tmp_path / "cpu", until=2, data=data, teacher=teacher, log=lambda _: None, device="cpu")
    default, cpu = ((tmp_path / name / dense.CHECKPOINT_FILE).read_bytes() for name in ("default", "cpu"))
    assert default == cpu
    state = dense.load_checkpoint(tmp_path / "cpu" / dense.CHECKPOINT_FILE)
    assert int(state["step"]) == 2 and "device" not in state and "cuda_rng" not in state
