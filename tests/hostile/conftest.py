"""Harness of the hostile-input and fault cases (issue "Safety and no lost results").

Every case runs the installed command as a user would (a subprocess, outside the
checkout) and asserts four things a hostile or unlucky user cares about:

- the exit status (2 for a user error, 0 when the input is fine);
- that the answer is one line ``topobench: error: ...`` naming the thing (no traceback);
- that no file outside topobench's own folders changed (``outside`` is a watched folder
  that holds the user's other files, next to a fresh ``TOPOBENCH_HOME``);
- that no finished result was lost or changed (``home.rows()`` before and after).
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

#: the cases whose answer was checked to be one clear line (counted in the run's summary)
ONE_LINE_CASES: set = set()
_OUTCOMES: dict = {}


def tree_digest(folder: Path) -> dict:
    """relative path -> sha256 (or 'dir') of everything under ``folder``."""
    digest = {}
    if not folder.exists():
        return digest
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        digest[key] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return digest


class Result:
    def __init__(self, completed: subprocess.CompletedProcess):
        self.code = completed.returncode
        self.out = completed.stdout
        self.err = completed.stderr

    def error_lines(self) -> list[str]:
        return [line for line in self.err.strip().splitlines() if line.strip()]

    def assert_one_line(self, *words, code: int = 2) -> str:
        """Exit ``code`` and one line ``topobench: error: ...`` containing every word."""
        ONE_LINE_CASES.add(os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0])
        lines = self.error_lines()
        assert self.code == code, f"exit {self.code}, stderr:\n{self.err}\nstdout:\n{self.out}"
        assert len(lines) == 1 and lines[0].startswith("topobench: error:"), self.err
        assert "Traceback" not in self.err
        for word in words:
            assert word in lines[0], f"{word!r} not in {lines[0]!r}"
        return lines[0]


class Sandbox:
    """A fresh TOPOBENCH_HOME, a watched folder of the user's other files, a marker for payloads."""

    def __init__(self, root: Path):
        self.root = root
        self.home = root / "home"
        self.outside = root / "outside"
        self.outside.mkdir(parents=True)
        (self.outside / "keep.png").write_bytes(b"\x89PNG a user's own picture")
        (self.outside / "notes.txt").write_text("the user's notes\n")
        self.marker = root / "PWNED"
        self._outside_before = tree_digest(self.outside)

    def env(self, **extra) -> dict:
        environment = {**os.environ, "TOPOBENCH_HOME": str(self.home)}
        environment.pop("TOPOBENCH_DB_URL", None)
        environment.update({key: str(value) for key, value in extra.items()})
        return environment

    def cli(self, *args, env: dict | None = None, cwd: Path | None = None, timeout: int = 600) -> Result:
        completed = subprocess.run([sys.executable, "-m", "topobench", *map(str, args)], capture_output=True,
                                   text=True, env=env or self.env(), cwd=cwd or self.root, timeout=timeout)
        return Result(completed)

    def rows(self, url: str | None = None) -> list[tuple]:
        """Every stored row as (model, benchmark, status, score) — to show none was lost or changed."""
        from topobench.results import ResultsStore
        database = self.home / "results.sqlite"
        if url is None and not database.exists():
            return []
        store = ResultsStore(url or f"sqlite:///{database}")
        try:
            return sorted((r["model_identifier"], r["benchmark_identifier"], r["status"], r["score"])
                          for r in store.rows())
        finally:
            store.close()

    def assert_outside_unchanged(self):
        assert tree_digest(self.outside) == self._outside_before, "a file outside topobench's folders changed"
        assert not self.marker.exists(), "a payload ran: the marker file exists"


@pytest.fixture
def sandbox(tmp_path) -> Sandbox:
    box = Sandbox(tmp_path)
    yield box
    box.assert_outside_unchanged()


def pytest_runtest_logreport(report):
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _OUTCOMES[report.nodeid] = report.outcome


def pytest_terminal_summary(terminalreporter):
    if not _OUTCOMES:
        return
    passed = sum(outcome == "passed" for outcome in _OUTCOMES.values())
    one_line = sum(nodeid in ONE_LINE_CASES and _OUTCOMES.get(nodeid) == "passed" for nodeid in _OUTCOMES)
    terminalreporter.write_line(f"hostile cases: {len(_OUTCOMES)} run, {passed} passed, {one_line} answered with one "
                                f"clear line (the others are inputs that must be accepted or faults absorbed)")
