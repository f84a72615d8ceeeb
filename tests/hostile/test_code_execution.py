"""Nothing topobench reads from a user runs code: real malicious pickles, none of which may run.

Each payload below would create the sandbox's marker file when unpickled by ``pickle.load`` or
``torch.load(weights_only=False)`` (``test_the_payloads_are_real`` proves it, with another
marker). Given to ``topobench import-tdann`` as a positions pickle or as the VISSL checkpoint,
each must be refused with exit 2 and one line naming the file, and the marker must not exist.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import pickle
import shlex
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest
import torch

NAME = "hostile-import"


def _code(marker: Path) -> str:
    return f"open({str(marker)!r}, 'w').write('x')"


class _Reduce:
    """An object whose unpickling calls ``func(*args)``."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _text(value: str) -> bytes:
    """A protocol-0 unicode argument (``V`` opcode)."""
    return b"V" + value.encode("raw_unicode_escape") + b"\n"


def _spacetorch_class():
    """``spacetorch.models.positions.LayerPositions`` as the TDANN release pickled it."""
    module = types.ModuleType("spacetorch.models.positions")

    @dataclasses.dataclass
    class LayerPositions:
        name: str
        dims: tuple
        coordinates: object
        neighborhood_indices: object
        neighborhood_width: float

    LayerPositions.__module__, LayerPositions.__qualname__ = module.__name__, "LayerPositions"
    module.LayerPositions = LayerPositions
    return module, LayerPositions


@contextlib.contextmanager
def _spacetorch_installed():
    """``spacetorch`` importable for a moment (the user's machine that made the pickle)."""
    module, cls = _spacetorch_class()
    names = ("spacetorch", "spacetorch.models", "spacetorch.models.positions")
    saved = {name: sys.modules.get(name) for name in names}
    try:
        for name in names:
            sys.modules[name] = module
        yield cls
    finally:
        for name, value in saved.items():
            if value is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = value


def _pickle_spacetorch(obj_args, protocol=pickle.DEFAULT_PROTOCOL) -> bytes:
    with _spacetorch_installed() as cls:
        return pickle.dumps(cls(*obj_args), protocol=protocol)


#: name -> function of the marker path giving the bytes of a positions pickle that would create it.
POSITIONS_PAYLOADS = {
    "builtins.exec": lambda m: pickle.dumps(_Reduce(exec, (_code(m),))),
    "builtins.eval": lambda m: pickle.dumps(_Reduce(eval, (_code(m),)), protocol=2),
    "os.system": lambda m: pickle.dumps(_Reduce(os.system, (f"touch {shlex.quote(str(m))}",))),
    "subprocess.call": lambda m: pickle.dumps(_Reduce(subprocess.call, (["touch", str(m)],)), protocol=5),
    # getattr(__import__('os'), 'system')('touch MARKER'), hand-written (protocol 0)
    "builtins.getattr": lambda m: (b"cbuiltins\ngetattr\n(cbuiltins\n__import__\n(" + _text("os") + b"tR"
                                   + _text("system") + b"tR(" + _text(f"touch {shlex.quote(str(m))}") + b"tR."),
    # copyreg._reconstructor(Popen, Popen, ['touch', MARKER]) runs Popen.__init__(obj, [...])
    "copyreg._reconstructor": lambda m: (b"ccopyreg\n_reconstructor\n(csubprocess\nPopen\ncsubprocess\nPopen\n"
                                         b"(l" + _text("touch") + b"a" + _text(str(m)) + b"atR."),
    # the Python 2 spellings that pickle's own find_class maps to builtins
    "__builtin__.eval": lambda m: b"c__builtin__\neval\n(" + _text(_code(m)) + b"tR.",
    # a numpy function that execs its argument (numpy names beyond array reconstruction)
    "numpy runstring": lambda m: (b"cnumpy.testing._private.utils\nrunstring\n(" + _text(_code(m))
                                  + b"(dtR."),
    # the payload hidden inside a real-looking LayerPositions
    "inside a LayerPositions": lambda m: _pickle_spacetorch(
        ("layer2.0", (128, 28, 28), _Reduce(exec, (_code(m),)), np.zeros((2, 2), int), 1.6)),
    "LayerPositions, protocol 0": lambda m: _pickle_spacetorch(
        ("layer2.0", (128, 28, 28), np.zeros((4, 2)), _Reduce(os.system, (f"touch {shlex.quote(str(m))}",)),
         1.6), protocol=0),
}


def _vissl(extra: dict) -> dict:
    return {"classy_state_dict": {"base_model": {"model": {"trunk": {"conv1.weight": torch.zeros(2)}}}},
            "phase_idx": 199, **extra}


#: name -> function of the marker path giving an object for torch.save that would create it.
CHECKPOINT_PAYLOADS = {
    "exec in the checkpoint": lambda m: _vissl({"loss": _Reduce(exec, (_code(m),))}),
    "os.system in the trunk": lambda m: {"classy_state_dict": {"base_model": {"model": {"trunk": {
        "conv1.weight": _Reduce(os.system, (f"touch {shlex.quote(str(m))}",))}}}}},
    "eval at the top": lambda m: _Reduce(eval, (_code(m),)),
}


def _wait_for(path: Path, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists():
            return True
        time.sleep(0.05)
    return path.exists()


@pytest.fixture
def valid_positions(tmp_path) -> Path:
    folder = tmp_path / "valid-positions"
    folder.mkdir()
    (folder / "layer2.0.pkl").write_bytes(
        _pickle_spacetorch(("layer2.0", (128, 28, 28), np.random.default_rng(0).uniform(0, 10, (128 * 28 * 28, 2)),
                            np.zeros((3, 10), int), 1.6)))
    return folder


@pytest.mark.parametrize("kind", [*POSITIONS_PAYLOADS, *CHECKPOINT_PAYLOADS])
def test_the_payloads_are_real(kind, tmp_path):
    """Unpickled the unsafe way, each payload creates its marker: the refusals below are real."""
    marker = tmp_path / "sanity-marker"
    if kind in POSITIONS_PAYLOADS:
        try:
            with _spacetorch_installed():
                pickle.loads(POSITIONS_PAYLOADS[kind](marker))
        except Exception:  # noqa: BLE001 - the code ran before the object failed to rebuild
            pass
    else:
        torch.save(CHECKPOINT_PAYLOADS[kind](marker), tmp_path / "evil.torch")
        torch.load(tmp_path / "evil.torch", weights_only=False)
    assert _wait_for(marker), f"the {kind} payload did not run: the test would prove nothing"


@pytest.mark.parametrize("kind", list(POSITIONS_PAYLOADS))
def test_a_malicious_positions_pickle_runs_nothing(sandbox, kind, tmp_path):
    folder = tmp_path / "positions"
    folder.mkdir()
    (folder / "layer2.0.pkl").write_bytes(POSITIONS_PAYLOADS[kind](sandbox.marker))
    result = sandbox.cli("import-tdann", "--checkpoint", tmp_path / "model_final_checkpoint_phase199.torch",
                         "--positions", folder, "--name", NAME)
    result.assert_one_line("layer2.0.pkl", "not a TDANN positions file", code=2)
    time.sleep(0.2)  # a spawned process would have had time to write
    assert not sandbox.marker.exists(), f"the {kind} payload ran"
    assert not (sandbox.home / "models").exists() or not any((sandbox.home / "models").iterdir())


@pytest.mark.parametrize("kind", list(CHECKPOINT_PAYLOADS))
def test_a_malicious_vissl_checkpoint_runs_nothing(sandbox, kind, tmp_path, valid_positions):
    checkpoint = tmp_path / "model_final_checkpoint_phase199.torch"
    torch.save(CHECKPOINT_PAYLOADS[kind](sandbox.marker), checkpoint)
    result = sandbox.cli("import-tdann", "--checkpoint", checkpoint, "--positions", valid_positions,
                         "--name", NAME)
    result.assert_one_line(str(checkpoint), "tensors", "weights_only=True", code=2)
    time.sleep(0.2)
    assert not sandbox.marker.exists(), f"the {kind} payload ran"
    assert not (sandbox.home / "models" / NAME).exists()


def test_the_positions_reader_still_reads_the_release_format(tmp_path):
    """The allow-list is exactly enough: protocol 0, 2 and 5 pickles of a LayerPositions load."""
    from topobench.tdann.import_vissl import read_tdann_positions
    coordinates = np.random.default_rng(0).uniform(0, 10, (64, 2))
    for protocol in (0, 2, 5):
        folder = tmp_path / f"p{protocol}"
        folder.mkdir()
        (folder / "layer3.1.pkl").write_bytes(_pickle_spacetorch(
            ("base_model.layer3.1", (4, 4, 4), coordinates, np.zeros((3, 10), int), 1.6), protocol=protocol))
        positions = read_tdann_positions(folder)
        assert positions["layer3.1"].dims == (4, 4, 4)
        assert np.array_equal(positions["layer3.1"].coordinates, coordinates)


def test_training_checkpoints_load_weights_only(tmp_path):
    """topobench's own training checkpoints hold no pickled objects: a payload in one is refused."""
    from topobench.errors import ModelError
    from topobench.tdann.train import load_checkpoint
    marker = tmp_path / "marker"
    torch.save({"format": "topobench-tdann-checkpoint/1", "rng": _Reduce(exec, (_code(marker),))},
               tmp_path / "checkpoint.pt")
    with pytest.raises(ModelError, match="other than tensors"):
        load_checkpoint(tmp_path / "checkpoint.pt")
    assert not marker.exists()
