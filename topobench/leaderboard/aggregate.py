"""What the leaderboard shows: per model, one cell per benchmark and the aggregates.

DESIGN.md, "Score semantics": aggregates are means over children, built in
three levels: region (V1, V4, VTC) within a family, then family (topography
versus responses), then overall::

    overall = mean(topography, responses)
    topography = mean(topography.V1, topography.V4, topography.VTC)
    topography.V1 = mean(score of each topography benchmark of V1)

A level has only the children that exist in the benchmark set (no V4
topography benchmark: ``topography`` is the mean of V1 and VTC); the tree
depends on the benchmarks alone, so every model is scored on the same tree.
A **failed** child (stored as failed, or stored without a number) counts 0 and
is shown as failed; a **missing** child (never scored at the current version)
also counts 0, so that skipping a benchmark never helps, and the aggregate is
marked incomplete. **Report-only** benchmarks and benchmarks of other families
(``engineering``) are shown but are part of no aggregate.

A benchmark's family and report-only flag come from its attributes ``family``
and ``report_only`` when it has them, else from the ``benchmarks`` table of the
leaderboard configuration (``leaderboard/config.json``), else they are guessed
from the identifier (a word of the metric among ``ridge``, ``pls``, ``rsa``,
``cka``, ``predictivity``, ``selectivity``: responses; ``engineering`` parent: engineering; anything else: topography) and
the site says the family was guessed.

**Controls.** A model whose registered factory (or whose object) declares a
``family`` listed in the configuration's ``model_families`` with ``"ranked":
false`` (the ``controls`` of ``topobench.models.controls``: maps with known
answers) is shown beside the models, in a table of its own, with its scores,
but is never ranked and has no aggregates (``Leaderboard.controls``).
"""
from __future__ import annotations

import copy
import inspect
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from topobench.errors import TopobenchError
from topobench.results import STATUS_OK

CONFIG_VARIABLE = "TOPOBENCH_LEADERBOARD_CONFIG"
ENGINEERING = "engineering"
RESPONSE_HINTS = ("ridge", "pls", "rsa", "cka", "predictivity", "selectivity")
DEFAULT_CONFIG = {
    "title": "topobench leaderboard",
    "description": "",
    "regions": ["V1", "V4", "VTC"],
    "families": ["topography", "responses"],
    "benchmarks": {},
    "model_families": {
        "controls": {"label": "Controls", "ranked": False,
                     "description": "maps with known answers (topobench.models.controls): shown beside the "
                                    "models, never ranked or aggregated"},
    },
}
STATUS_FAILED = "failed"
STATUS_MISSING = "missing"


class LeaderboardError(TopobenchError):
    """The leaderboard cannot be made as asked (bad configuration, broken plugin...)."""


# ----------------------------------------------------------------------------- numbers

def fmt4(value) -> str:
    """A number at the leaderboard's precision: 4 decimals; '' for no number; never '-0.0000'."""
    if value is None:
        return ""
    value = float(value)
    if not math.isfinite(value):
        return ""
    text = f"{value:.4f}"
    return "0.0000" if text == "-0.0000" else text


def round4(value):
    """``value`` rounded to 4 decimals (None for no number), for JSON."""
    text = fmt4(value)
    return float(text) if text else None


# ----------------------------------------------------------------------------- configuration

def default_config_path() -> Path | None:
    """``$TOPOBENCH_LEADERBOARD_CONFIG``, else ``leaderboard/config.json`` of the current folder
    (a maintainer's checkout, where tox runs too), else of the checkout this module sits in
    (an editable install), else None."""
    variable = os.environ.get(CONFIG_VARIABLE)
    if variable:
        return Path(variable)
    for root in (Path.cwd(), Path(__file__).resolve().parents[2]):
        candidate = root / "leaderboard" / "config.json"
        if candidate.is_file():
            return candidate
    return None


def load_config(path=None) -> dict:
    """The leaderboard configuration: :data:`DEFAULT_CONFIG` updated from ``path``.

    ``path`` defaults to :func:`default_config_path`; with none found the defaults
    are used (an installed topobench has no checkout beside it).
    """
    config = copy.deepcopy(DEFAULT_CONFIG)
    path = Path(path) if path is not None else default_config_path()
    if path is None:
        return config
    try:
        loaded = json.loads(path.read_text())
    except FileNotFoundError:
        raise LeaderboardError(f"leaderboard configuration {path} does not exist; give an existing file "
                               f"with --config (or unset {CONFIG_VARIABLE})") from None
    except json.JSONDecodeError as error:
        raise LeaderboardError(f"leaderboard configuration {path} is not valid JSON: {error}") from None
    if not isinstance(loaded, dict) or not isinstance(loaded.get("benchmarks", {}), dict):
        raise LeaderboardError(f"leaderboard configuration {path} must be a JSON object whose "
                               f"'benchmarks' maps identifiers to {{\"family\": ..., \"report_only\": ...}}")
    config.update(loaded)
    return config


# ----------------------------------------------------------------------------- benchmarks

@dataclass(frozen=True)
class BenchmarkInfo:
    """What the leaderboard needs to know about one benchmark."""

    identifier: str
    version: str
    region: str
    family: str
    report_only: bool
    family_source: str  # 'benchmark' (its attribute) | 'config' | 'guessed'
    aggregated: bool    # part of the aggregates (a scored family, not report-only)
    bibtex: str = ""
    description: str = ""


def guess_family(identifier: str, region: str) -> str:
    """The family from the identifier alone (see the module docstring)."""
    if region == ENGINEERING:
        return ENGINEERING
    metric = identifier.split("-", 1)[1] if "-" in identifier else identifier
    if set(re.split(r"[-_]", metric.lower())) & set(RESPONSE_HINTS):
        return "responses"
    return "topography"


def describe_benchmark(benchmark, config: dict | None = None) -> BenchmarkInfo:
    """A :class:`BenchmarkInfo` of a benchmark object (see the module docstring for the family)."""
    config = config if config is not None else load_config()
    identifier = str(benchmark.identifier)
    region = str(getattr(benchmark, "parent", None) or "")
    table = config.get("benchmarks", {}).get(identifier, {})
    family = getattr(benchmark, "family", None)
    if family:
        source = "benchmark"
    elif table.get("family"):
        family, source = table["family"], "config"
    else:
        family, source = guess_family(identifier, region), "guessed"
    report_only = getattr(benchmark, "report_only", None)
    if report_only is None:
        report_only = table.get("report_only", False)
    report_only = bool(report_only)
    doc = inspect.getdoc(type(benchmark)) or ""
    return BenchmarkInfo(
        identifier=identifier, version=str(benchmark.version), region=region, family=str(family),
        report_only=report_only, family_source=source,
        aggregated=(str(family) in config.get("families", ()) and not report_only),
        bibtex=str(getattr(benchmark, "bibtex", "") or ""),
        description=doc.split("\n\n")[0].replace("\n", " ").strip())


def sort_benchmarks(infos, config: dict) -> list[BenchmarkInfo]:
    """Aggregated first, by family, region (config order), then identifier; others after."""
    families = list(config.get("families", ()))
    regions = list(config.get("regions", ()))

    def key(info):
        return (not info.aggregated, info.report_only,
                families.index(info.family) if info.family in families else len(families), info.family,
                regions.index(info.region) if info.region in regions else len(regions), info.region,
                info.identifier)
    return sorted(infos, key=key)


def load_infos(benchmarks=None, config: dict | None = None) -> list[BenchmarkInfo]:
    """:class:`BenchmarkInfo` of ``benchmarks`` (identifiers; default every registered one)."""
    from topobench.registry import load_benchmark, names
    config = config if config is not None else load_config()
    identifiers = _unique(benchmarks) if benchmarks else names("benchmark")
    infos = []
    for identifier in identifiers:
        try:
            benchmark = load_benchmark(identifier)
        except TopobenchError:
            raise
        except Exception as error:  # a broken plugin: name it
            raise LeaderboardError(f"benchmark {identifier} cannot be constructed: {type(error).__name__}: "
                                   f"{error}; fix its plugin or leave it out with --benchmarks") from error
        infos.append(describe_benchmark(benchmark, config))
    return sort_benchmarks(infos, config)


def _unique(items) -> list:
    return list(dict.fromkeys(items))


# ----------------------------------------------------------------------------- tree

@dataclass(frozen=True)
class Node:
    """One aggregate: ``key`` 'overall', a family ('topography') or 'family.region'."""

    key: str
    label: str
    level: str                 # 'overall' | 'family' | 'region'
    children: tuple[str, ...]  # node keys, or benchmark identifiers for a region node


def aggregation_tree(infos, config: dict) -> list[Node]:
    """The aggregates, parents before children: overall, then each family and its regions."""
    infos = [info for info in infos if info.aggregated]
    if not infos:
        return []
    families = [family for family in config.get("families", ()) if any(i.family == family for i in infos)]
    regions = list(config.get("regions", ()))
    regions += sorted({info.region for info in infos} - set(regions))
    nodes, family_nodes = [], []
    for family in families:
        region_nodes = []
        for region in regions:
            members = tuple(i.identifier for i in infos if i.family == family and i.region == region)
            if members:
                region_nodes.append(Node(f"{family}.{region}", f"{family.capitalize()} {region}", "region",
                                         members))
        family_nodes.append(Node(family, family.capitalize(), "family",
                                 tuple(node.key for node in region_nodes)))
        family_nodes.extend(region_nodes)
    nodes.append(Node("overall", "Overall", "overall",
                      tuple(node.key for node in family_nodes if node.level == "family")))
    return nodes + family_nodes


# ----------------------------------------------------------------------------- cells and aggregates

@dataclass
class Cell:
    """One model on one benchmark: the latest stored row at the benchmark's current version."""

    status: str                    # 'ok' | 'failed' | 'missing'
    score: float | None = None
    raw: float | None = None
    ceiling: float | None = None
    error: float | None = None
    message: str | None = None
    row: dict | None = None        # the store row (details, provenance...), None when missing

    @property
    def value(self) -> float:
        """What the cell counts in an aggregate: its score, or 0 when failed or missing."""
        return float(self.score) if self.status == STATUS_OK else 0.0


def cell_from_row(row: dict | None) -> Cell:
    if row is None:
        return Cell(STATUS_MISSING, message="not scored at this benchmark version")
    if row["status"] != STATUS_OK:
        return Cell(STATUS_FAILED, message=row.get("message") or "failed", row=row)
    if row["score"] is None or not math.isfinite(row["score"]):
        problem = (row.get("details") or {}).get("ceiling_problem") or "the benchmark stored no score"
        return Cell(STATUS_FAILED, None, row["raw"], row["ceiling"], row["error"],
                    message=f"no score: {problem}", row=row)
    return Cell(STATUS_OK, row["score"], row["raw"], row["ceiling"], row["error"], row=row)


@dataclass(frozen=True)
class Aggregate:
    score: float
    n_children: int
    n_failed: int   # benchmarks under it that failed
    n_missing: int  # benchmarks under it never scored at their current version

    @property
    def complete(self) -> bool:
        return self.n_failed == 0 and self.n_missing == 0


def aggregate(tree: list[Node], cells: dict[str, Cell]) -> dict[str, Aggregate]:
    """Every node of ``tree`` for one model whose benchmark cells are ``cells``."""
    result: dict[str, Aggregate] = {}
    for node in reversed(tree):  # children before parents
        if node.level == "region":
            members = [cells.get(identifier, Cell(STATUS_MISSING)) for identifier in node.children]
            values = [cell.value for cell in members]
            failed = sum(cell.status == STATUS_FAILED for cell in members)
            missing = sum(cell.status == STATUS_MISSING for cell in members)
        else:
            children = [result[key] for key in node.children]
            values = [child.score for child in children]
            failed = sum(child.n_failed for child in children)
            missing = sum(child.n_missing for child in children)
        result[node.key] = Aggregate(float(sum(values) / len(values)) if values else 0.0, len(values),
                                     failed, missing)
    return result


# ----------------------------------------------------------------------------- leaderboard

@dataclass
class ModelEntry:
    identifier: str
    cells: dict[str, Cell]
    aggregates: dict[str, Aggregate]
    rank: int | None = None

    @property
    def overall(self) -> float | None:
        return self.aggregates["overall"].score if "overall" in self.aggregates else None


@dataclass
class Leaderboard:
    title: str
    description: str
    benchmarks: list[BenchmarkInfo]
    tree: list[Node]
    entries: list[ModelEntry] = field(default_factory=list)
    controls: list[ModelEntry] = field(default_factory=list)   # never ranked, no aggregates
    controls_label: str = "Controls"
    controls_description: str = ""

    def benchmark(self, identifier: str) -> BenchmarkInfo:
        return next(info for info in self.benchmarks if info.identifier == identifier)

    def entry(self, identifier: str) -> ModelEntry:
        return next(entry for entry in self.entries + self.controls if entry.identifier == identifier)


def latest_rows(rows, infos) -> dict[tuple[str, str], dict]:
    """(model, benchmark) -> newest row at the benchmark's current version (rows oldest first)."""
    versions = {info.identifier: info.version for info in infos}
    latest = {}
    for row in rows:
        benchmark = row["benchmark_identifier"]
        if versions.get(benchmark) == row["benchmark_version"]:
            latest[(row["model_identifier"], benchmark)] = row
    return latest


def rank_entries(entries: list[ModelEntry]) -> list[ModelEntry]:
    """Sorted by overall score (4 decimals) descending, then identifier; ties share a rank."""
    def key(entry):
        overall = entry.overall
        return (-(round4(overall) if overall is not None else -math.inf), entry.identifier)
    ordered = sorted(entries, key=key)
    previous = None
    for position, entry in enumerate(ordered, start=1):
        shown = fmt4(entry.overall)
        if previous is not None and shown == previous[0]:
            entry.rank = previous[1]
        else:
            entry.rank = position
        previous = (shown, entry.rank)
    return ordered


def model_family(identifier: str) -> str | None:
    """The family a registered model declares (an attribute ``family`` of its factory), else None."""
    from topobench.registry import discover, model_registry
    discover("model")
    return getattr(model_registry.get(identifier), "family", None)


def unranked_families(config: dict) -> dict:
    """family -> its configuration, for every model family that is shown but never ranked or aggregated."""
    return {name: entry for name, entry in (config.get("model_families") or {}).items()
            if isinstance(entry, dict) and not entry.get("ranked", True)}


def build_leaderboard(store=None, models=None, benchmarks=None, config: dict | None = None,
                      infos: list[BenchmarkInfo] | None = None, include_unregistered: bool = False) -> Leaderboard:
    """The leaderboard from ``store`` (a ``ResultsStore`` or its URL; default ``ResultsStore()``).

    ``benchmarks``: identifiers (default every registered benchmark). ``models``:
    identifiers (default every registered model, scored or not; with
    ``include_unregistered`` also every model with a stored row at a current
    benchmark version, e.g. a checkpoint scored with ``topobench score
    --checkpoint``). Only rows at each benchmark's current version count; of
    those, the newest per pair.
    """
    from topobench.results import ResultsStore
    config = config if config is not None else load_config()
    store = store if isinstance(store, ResultsStore) else ResultsStore(store)
    infos = infos if infos is not None else load_infos(benchmarks, config)
    latest = latest_rows(store.rows(), infos)
    if models:
        model_ids = _unique(models)
    else:
        from topobench.registry import names
        stored = {model for model, _ in latest} if include_unregistered else set()
        model_ids = sorted(set(names("model")) | stored)
    tree = aggregation_tree(infos, config)
    unranked = unranked_families(config)
    entries, controls = [], []
    for model in model_ids:
        cells = {info.identifier: cell_from_row(latest.get((model, info.identifier))) for info in infos}
        if unranked and model_family(model) in unranked:
            controls.append(ModelEntry(model, cells, {}))
        else:
            entries.append(ModelEntry(model, cells, aggregate(tree, cells)))
    first = next(iter(unranked.values()), {})
    return Leaderboard(str(config.get("title", DEFAULT_CONFIG["title"])), str(config.get("description", "")),
                       infos, tree, rank_entries(entries), sorted(controls, key=lambda entry: entry.identifier),
                       str(first.get("label", "Controls")), str(first.get("description", "")))
