"""The activation cache never serves wrong values, and a cache that cannot be written does not
stop a score: entries are verified against a recorded sha256 (with shape and dtype) and
recomputed when they differ; a failed write warns once; stale temporary files are removed.
"""
from __future__ import annotations

import errno
import json
import math
import os
import subprocess
import time

import numpy as np
import pytest
import torch

from topobench import activation_cache
from topobench.activation_cache import ActivationCache, CacheWarning, array_checksum, remove_stale_parts
from topobench.nets import resnet18

BENCHMARK = "Ringach2002.V1-orientation_selectivity"
KEY = "0" * 64


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("checkpoint") / "submitted.pt"
    state = {k: (v.half() if v.is_floating_point() else v)
             for k, v in resnet18(num_classes=1000, seed=3).state_dict().items()}
    torch.save(state, path)
    return path


@pytest.fixture
def data_host():
    url = os.environ.get("TOPOBENCH_DATA_URL")
    if not url:
        pytest.fail("no data host: set TOPOBENCH_DATA_URL", pytrace=False)
    return url


def _score(sandbox, checkpoint):
    return sandbox.cli("score", "--checkpoint", checkpoint, "--arch", "resnet18", "--image-size", "64",
                       "--threads", "1", BENCHMARK)


def _ok_scores(sandbox) -> list:
    rows = sandbox.rows()
    assert all(status == "ok" for _, _, status, _ in rows), rows
    return [score for *_, score in rows]


# ----------------------------------------------------------------------------- through the command
def test_overwritten_entry_is_recomputed_bit_identical(sandbox, checkpoint, data_host):
    first = _score(sandbox, checkpoint)
    assert first.code == 0, first.err
    [score] = _ok_scores(sandbox)
    entries = sorted((sandbox.home / "activations").glob("*.npy"))
    assert entries, "the first run cached nothing"
    originals = {path: np.load(path) for path in entries}
    for path, values in originals.items():  # same shape and dtype, different values
        np.save(path, (values * 0.5 + 0.25).astype(values.dtype))

    second = _score(sandbox, checkpoint)
    assert second.code == 0, second.err
    assert "checksum" in second.err and "recomputing" in second.err
    rows = sandbox.rows()
    assert len(rows) == 2 and _ok_scores(sandbox) == [score, score]  # bit-identical, the first row kept
    for path, values in originals.items():  # rewritten with the right values
        assert np.array_equal(np.load(path), values)

    third = _score(sandbox, checkpoint)  # verified entries are served, silently
    assert third.code == 0 and "checksum" not in third.err, third.err
    assert _ok_scores(sandbox) == [score] * 3


def test_read_only_cache_folder_scores_anyway(sandbox, checkpoint, data_host):
    folder = sandbox.home / "activations"
    folder.mkdir(parents=True)
    folder.chmod(0o555)
    immutable = False
    if os.geteuid() == 0:  # root writes through permissions: make the folder immutable instead
        immutable = subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0
        if not immutable:
            folder.chmod(0o755)
            pytest.skip("running as root without chattr: cannot make a read-only folder")
    try:
        result = _score(sandbox, checkpoint)
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)
    assert result.code == 0, result.err
    assert result.err.count("cannot write the activation cache") == 1, result.err  # warned once
    [score] = _ok_scores(sandbox)
    assert score is not None and math.isfinite(score)
    assert list(folder.iterdir()) == []


def test_stale_part_files_are_removed_when_the_cache_opens(sandbox, checkpoint, data_host):
    folder = sandbox.home / "activations"
    folder.mkdir(parents=True)
    two_hours_ago = time.time() - 7200
    stale = [folder / "tmpab12cd34.npy.part", folder / "tmpef56gh78.json.part"]
    kept = [folder / "tmpfresh999.npy.part",  # a write in progress
            folder / "mine.npy.part", folder / "tmp-notes.txt"]  # not the cache's temporary files
    for path in stale + kept:
        path.write_bytes(b"partial")
    for path in stale + kept[1:]:
        os.utime(path, (two_hours_ago, two_hours_ago))
    result = _score(sandbox, checkpoint)
    assert result.code == 0, result.err
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in kept)
    assert len(_ok_scores(sandbox)) == 1


# ----------------------------------------------------------------------------- in the library
def _overwrite_values(cache, values):
    np.save(cache.path(KEY), values[::-1].copy())


def _truncate(cache, values):
    data = cache.path(KEY).read_bytes()
    cache.path(KEY).write_bytes(data[: len(data) // 2])


def _reshape_same_bytes(cache, values):
    np.save(cache.path(KEY), values.reshape(values.shape[1], values.shape[0]))


def _widen_dtype(cache, values):
    np.save(cache.path(KEY), values.astype(np.float64))


def _delete_sidecar(cache, values):
    cache.sidecar(KEY).unlink()


def _garbage_sidecar(cache, values):
    cache.sidecar(KEY).write_text("{not json")


def _sidecar_without_checksum(cache, values):  # as an older topobench wrote it
    cache.sidecar(KEY).write_text(json.dumps({"model": "m", "stimuli": "s", "layer": "l"}))


def _pickled_entry(cache, values):
    np.save(cache.path(KEY), np.array([{"a": 1}], dtype=object), allow_pickle=True)


@pytest.mark.parametrize("tamper", [_overwrite_values, _truncate, _reshape_same_bytes, _widen_dtype,
                                    _delete_sidecar, _garbage_sidecar, _sidecar_without_checksum, _pickled_entry])
def test_an_entry_that_does_not_verify_is_deleted_and_recomputed(tmp_path, tamper):
    cache = ActivationCache(tmp_path / "activations")
    values = np.random.default_rng(0).normal(size=(6, 10)).astype(np.float32)
    assert cache.save(KEY, values, {"model": "m"}) == cache.path(KEY)
    assert json.loads(cache.sidecar(KEY).read_text())["checksum"] == array_checksum(values)
    assert np.array_equal(cache.load(KEY), values)
    tamper(cache, values)
    with pytest.warns(CacheWarning, match="recomputing"):
        assert cache.load(KEY) is None
    assert not cache.path(KEY).exists() and not cache.sidecar(KEY).exists()
    cache.save(KEY, values, {"model": "m"})
    assert np.array_equal(cache.load(KEY), values)


def test_a_failed_write_warns_once_and_goes_on(tmp_path, monkeypatch):
    monkeypatch.setattr(activation_cache, "_write_warned", False)

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(activation_cache.tempfile, "mkstemp", disk_full)
    cache = ActivationCache(tmp_path / "activations")
    values = np.ones((2, 3), dtype=np.float32)
    with pytest.warns(CacheWarning, match="No space left on device") as caught:
        assert cache.save(KEY, values, {}) is None
        assert cache.save("1" * 64, values, {}) is None
    assert len([w for w in caught if issubclass(w.category, CacheWarning)]) == 1
    assert cache.load(KEY) is None and list((tmp_path / "activations").iterdir()) == []


def test_a_write_that_fails_midway_leaves_no_part_file(tmp_path, monkeypatch):
    monkeypatch.setattr(activation_cache, "_write_warned", False)

    def replace_fails(source, target):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(activation_cache.os, "replace", replace_fails)
    cache = ActivationCache(tmp_path / "activations")
    with pytest.warns(CacheWarning, match="Read-only file system"):
        assert cache.save(KEY, np.ones((2, 3), dtype=np.float32), {}) is None
    assert list((tmp_path / "activations").iterdir()) == []


def test_only_the_caches_own_stale_temporary_files_are_removed(tmp_path):
    old = time.time() - 7200
    names = {"tmpa.npy.part": True, "tmpb.json.part": True, "tmpc.npz.part": True,
             "tmpd.npy": False, "x.npy.part": False, "tmpe.part": False, "notes.txt": False}
    for name in names:
        (tmp_path / name).write_bytes(b"x")
        os.utime(tmp_path / name, (old, old))
    (tmp_path / "tmpfresh.npy.part").write_bytes(b"x")
    removed = remove_stale_parts(tmp_path)
    assert sorted(p.name for p in removed) == sorted(n for n, stale in names.items() if stale)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["tmpfresh.npy.part", *(n for n, stale in names.items() if not stale)])


def test_a_projection_that_does_not_verify_is_refitted(tmp_path):
    from topobench.features import FittedProjection, ProjectionSpec
    rng = np.random.default_rng(0)
    projection = FittedProjection(ProjectionSpec(n_components=3, sketch_dim=16), 10, rng.normal(size=10),
                                  rng.normal(size=(3, 10)).astype(np.float32), np.ones(3), 5.0, "fit")
    path = tmp_path / "projections" / "p.npz"
    projection.save(path)
    loaded = FittedProjection.load(path)
    assert np.array_equal(loaded.components, projection.components)
    with np.load(path) as data:  # same fields and meta, other components
        content = {name: data[name] for name in data.files}
    content["components"] = content["components"] * 2
    np.savez(path, **content)
    with pytest.warns(CacheWarning, match="refitting"):
        assert FittedProjection.load(path) is None
    assert not path.exists() and not path.with_suffix(".json").exists()
