"""The command line as a user meets it: one clear line and a non-zero exit on bad input."""
import os
import subprocess
import sys
import tempfile

import pytest


def run(*args, env=None):
    """Run the installed command as a user would, outside the source checkout."""
    environment = {**os.environ, **(env or {})}
    result = subprocess.run([sys.executable, "-m", "topobench", *args], capture_output=True, text=True,
                            env=environment, timeout=300, cwd=tempfile.gettempdir())
    return result.returncode, result.stdout, result.stderr


def assert_one_clear_error(code, stderr, *words, status=2):
    assert code == status
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("topobench: error:"), stderr
    for word in words:
        assert word in lines[0]


def test_lists():
    code, out, _ = run("list", "models")
    assert code == 0 and "resnet18-untrained" in out.split()
    code, out, _ = run("list", "datasets")
    assert code == 0 and {"ringach2002_v1", "floc", "cowley2023_v4"} <= set(out.split())


def test_unknown_model_and_benchmark():
    code, _, err = run("score", "resnet18-untraind", "Ringach2002.V1-orientation_selectivity")
    assert_one_clear_error(code, err, "unknown model 'resnet18-untraind'", "did you mean resnet18-untrained")
    code, _, err = run("score", "resnet18-untrained", "NoSuch.V1-benchmark")
    assert_one_clear_error(code, err, "unknown benchmark 'NoSuch.V1-benchmark'")


def test_corrupted_data_file(corrupted_host, tmp_path):
    env = {"TOPOBENCH_DATA_URL": str(corrupted_host), "TOPOBENCH_HOME": str(tmp_path / "home")}
    code, _, err = run("data", "fetch", "ringach2002_v1", env=env)
    assert_one_clear_error(code, err, "ringach2002_v1/ringach_2002_db.mat", "expected")


def test_unreachable_host(tmp_path):
    env = {"TOPOBENCH_DATA_URL": "https://127.0.0.1:9/", "TOPOBENCH_HOME": str(tmp_path / "home")}
    code, _, err = run("data", "fetch", "ringach2002_v1", env=env)
    assert_one_clear_error(code, err, "unreachable", "TOPOBENCH_DATA_URL", status=3)  # a fault of the machine


def test_data_fetch_and_verify(tmp_path, data_host):
    env = {"TOPOBENCH_HOME": str(tmp_path / "home")}
    code, out, _ = run("data", "fetch", "ringach2002_v1", env=env)
    assert code == 0 and "sha256-checked" in out
    code, out, _ = run("data", "verify", "ringach2002_v1", env=env)
    assert code == 0 and "ringach2002_v1: ok" in out
