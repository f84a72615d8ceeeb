"""``topobench new-model``: the template installs, is found through its entry point, and passes its
own test."""
import os
import subprocess
import importlib.util
import sys

import pytest

from topobench import cli

NAME = "acme-topo-net"
MODULE = "acme_topo_net"


@pytest.fixture
def zoo_cli(monkeypatch):
    if "topobench.zoo_cli" not in cli.COMMAND_MODULES:
        monkeypatch.setattr(cli, "COMMAND_MODULES", [*cli.COMMAND_MODULES, "topobench.zoo_cli"])


def test_new_model_writes_a_package(zoo_cli, tmp_path, capsys):
    assert cli.main(["new-model", NAME, "--out", str(tmp_path)]) == 0
    assert "pip install -e" in capsys.readouterr().out
    folder = tmp_path / NAME
    assert {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} == {
        "pyproject.toml", "README.md", f"{MODULE}/__init__.py", f"{MODULE}/model.py", f"{MODULE}/test.py"}
    text = (folder / "pyproject.toml").read_text()
    assert f'[project.entry-points."topobench.models"]\n"{NAME}" = "{MODULE}.model:build"' in text
    if sys.version_info >= (3, 11):
        import tomllib
        project = tomllib.loads(text)
        assert project["project"]["entry-points"]["topobench.models"] == {NAME: f"{MODULE}.model:build"}
    assert "${" not in (folder / MODULE / "model.py").read_text() + (folder / MODULE / "test.py").read_text()
    # a second time: the folder exists
    assert cli.main(["new-model", NAME, "--out", str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().err


@pytest.mark.parametrize("bad, words", [("Acme", "not valid"), ("torch", "already taken"),
                                        ("resnet18-untrained", "already registered"), ("9lives", "start the name")])
def test_bad_names(zoo_cli, tmp_path, capsys, bad, words):
    assert cli.main(["new-model", bad, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("topobench: error:") and words in err


def test_template_installs_and_passes_its_own_test(tmp_path):
    """pip-installs the generated package (no dependencies; no build isolation where setuptools is
    installed, so nothing is downloaded) into a target folder, then runs the package's own test.py in a fresh interpreter that sees that
    folder: the model must be found through the installed entry point."""
    from topobench.new_model import new_model
    folder = new_model(NAME, tmp_path)
    site = tmp_path / "site"
    # offline when this environment has setuptools; else pip fetches it for an isolated build
    offline = ["--no-build-isolation", "--no-index"] if importlib.util.find_spec("setuptools") else []
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", *offline,
                              "--target", str(site), str(folder)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stdout + install.stderr
    entry_points = next(site.glob("*.dist-info/entry_points.txt")).read_text()
    assert "[topobench.models]" in entry_points and f"{NAME} = {MODULE}.model:build" in entry_points
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
           "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             str(site / MODULE / "test.py")],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "3 passed" in result.stdout
