"""The validity table: does each topography benchmark recognise maps with known answers?

``topobench validity [--out leaderboard/validity.json] [--db URL]`` scores every
topography benchmark (``BENCHMARKS``) on

- **brain data entered as a model**, where the benchmark can make it: each
  macaque plane of Nauhaus et al. 2012 (decoded from the figure), at the cited
  0.75 mm column width, against the *other* imaging site
  (``NauhausSmoothness.score_map``); expected to land in [0.9, 1.05] (the
  unclipped ceiled score, mean over the four planes). Where the data host has no
  such data, the cell says so (no larger macaque orientation map for pinwheels,
  no macaque colour map, no preferred orientations of single cells, no human VTC
  map);
- each **positive control** of ``topobench.models.controls`` (expected >= 0.8),
  its **shuffled twin**, the **salt-and-pepper** and the **constant** map
  (expected <= 0.1).

Each (control, benchmark) pair goes through the normal scoring path
(``topobench.scoring.score_model``), committed to the results store given by
``--db`` (default: a temporary one, discarded). The numbers go to a JSON file
(sorted keys, 4 decimals, no time stamps: the same inputs give the same bytes),
from which ``topobench leaderboard build`` writes the site's ``validity.html``.
Expectations are checked cell by cell (``meets``); a missed one is a finding
about the benchmark, kept in the table, never hidden.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from topobench.errors import TopobenchError
from topobench.results import rounded_jsonable

#: the topography benchmarks the table covers, in its column order
BENCHMARKS = (
    "Nauhaus2012.V1-orientation_smoothness",
    "Nauhaus2012.V1-sf_smoothness",
    "Kaschube2010.V1-pinwheel_density",
    "LivingstoneHubel1984.V1-color_clustering",
    "DeValois1982.V1-cardinal_bias",
    "GrillSpector2014.VTC-patch_organization",
)
BRAIN = "brain-data"
EXPECTED = {
    "brain": {"low": 0.9, "high": 1.05, "text": "in [0.9, 1.05]"},
    "positive": {"low": 0.8, "high": None, "text": ">= 0.8"},
    "shuffled": {"low": None, "high": 0.1, "text": "<= 0.1"},
    "salt-and-pepper": {"low": None, "high": 0.1, "text": "<= 0.1"},
    "constant": {"low": None, "high": 0.1, "text": "<= 0.1"},
}
#: benchmarks that measure the distribution of preferences, not their layout: a shuffled twin keeps it
DISTRIBUTION_ONLY = {"DeValois1982.V1-cardinal_bias":
                     "measures the distribution of preferred orientations, not their layout: a shuffled twin "
                     "keeps its distribution and its score"}
#: why brain data cannot be entered as a model, per benchmark without it
NO_BRAIN_DATA = {
    "Kaschube2010.V1-pinwheel_density": "each Nauhaus 2012 macaque panel is about 0.77 mm wide, about one "
                                        "hypercolumn: too small to count pinwheels per squared column spacing; "
                                        "the data host has no larger macaque orientation map",
    "LivingstoneHubel1984.V1-color_clustering": "the data host has no macaque colour-preference map",
    "DeValois1982.V1-cardinal_bias": "the data host has no preferred orientations of single macaque cells "
                                     "(Ringach 2002's 'po' is the orthogonal-to-preferred ratio)",
    "GrillSpector2014.VTC-patch_organization": "the data host has no human VTC selectivity map (only Nordt 2023's "
                                               "representational similarity matrices)",
}
#: details kept in the table (when a benchmark reports them)
KEPT_DETAILS = ("scale", "model_column_spacing_mm", "pinwheel_density", "gates", "scored_zero_because",
                "clustering_index", "n_responsive", "n_units", "sub_scores", "n_patches", "n_cardinal",
                "n_oblique", "p_value", "model_smoothness_index_tdann", "agreement_per_site", "clipped")
MACAQUE_COLUMN_WIDTH_MM = 0.75


# ----------------------------------------------------------------------------- subjects

def control_subjects(names=None) -> list[dict]:
    """The registered controls: identifier, kind, region, twin_of (``names`` narrows them)."""
    from topobench.models.controls import CONTROLS
    from topobench.registry import discover
    discover("model")
    rows = [{"identifier": identifier, **info} for identifier, info in CONTROLS.items()]
    if names:
        unknown = sorted(set(names) - {row["identifier"] for row in rows} - {BRAIN})
        if unknown:
            raise TopobenchError(f"unknown control(s) {', '.join(unknown)}; the controls are "
                                 f"{', '.join(row['identifier'] for row in rows)} (and {BRAIN})")
        rows = [row for row in rows if row["identifier"] in names]
    return rows


class _BrainAsModel:
    """Brain data standing in for a model in the results store (no weights, no recording)."""

    family = "brain data"
    positions_by_default = None

    def __init__(self, identifier: str):
        self.identifier = identifier
        self.weights_sha256 = None
        self.regions = {}


class _HeldOutPlane:
    """``score_model``'s benchmark for one macaque plane: the benchmark's ``score_map`` on the decoded plane
    at the cited column width, against the other imaging site only."""

    def __init__(self, benchmark, letter: str):
        self.benchmark = benchmark
        self.letter = letter
        self.identifier = benchmark.identifier
        self.version = benchmark.version
        self.datasets = getattr(benchmark, "datasets", ())
        self.seed = getattr(benchmark, "seed", None)

    def __call__(self, _model):
        from topobench.reference_data.nauhaus2012 import load_nauhaus2012
        decoded = load_nauhaus2012()[self.letter]
        other = 3 - decoded.site
        return self.benchmark.score_map(decoded.positions_mm(), decoded.masked_values(), MACAQUE_COLUMN_WIDTH_MM,
                                        sites=(other,), details={"brain_data": f"Nauhaus 2012 panel {self.letter} "
                                                                 f"(site {decoded.site}) against site {other}"})


def _brain_planes(identifier: str) -> tuple[str, ...]:
    if identifier == "Nauhaus2012.V1-orientation_smoothness":
        return tuple("abef")
    if identifier == "Nauhaus2012.V1-sf_smoothness":
        return tuple("cdgh")
    return ()


# ----------------------------------------------------------------------------- cells

def _number(value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return round(value, 4) if np.isfinite(value) else None


def _meets(kind: str, value, benchmark: str):
    expected = EXPECTED.get(kind)
    if value is None or expected is None:
        return None
    if kind == "shuffled" and benchmark in DISTRIBUTION_ONLY:
        return None   # not a claim about layout: no expectation for a shuffled twin
    low, high = expected["low"], expected["high"]
    return bool((low is None or value >= low) and (high is None or value <= high))


def _score_cell(score, kind: str, benchmark: str) -> dict:
    details = score.attrs.get("details", {}) or {}
    cell = {"status": "ok", "score": _number(score), "raw": _number(score.attrs.get("raw")),
            "ceiling": _number(score.attrs.get("ceiling")), "error": _number(score.attrs.get("error")),
            "details": {key: rounded_jsonable(details[key]) for key in KEPT_DETAILS if key in details}}
    cell["expected"] = EXPECTED[kind]["text"]
    cell["meets"] = _meets(kind, cell["score"], benchmark)
    return cell


def score_subject(model, benchmark, kind: str, store) -> dict:
    """One (control, benchmark) cell through ``score_model``; a failure is a cell with its message."""
    from topobench.scoring import BenchmarkFailed, score_model
    try:
        score = score_model(model, benchmark, store)
    except BenchmarkFailed as failure:
        row = store.latest(model.identifier, benchmark.identifier, benchmark.version)
        message = ((row or {}).get("message") or str(failure)).strip().splitlines()[0]
        if isinstance(failure.__cause__, TopobenchError):
            # the benchmark refused the map with a message: no score, which is what a control without a map
            # should get, and not what a positive control should
            return {"status": "refused", "message": message, "expected": EXPECTED[kind]["text"],
                    "meets": kind != "positive"}
        return {"status": "failed", "message": message, "expected": EXPECTED[kind]["text"], "meets": False}
    return _score_cell(score, kind, benchmark.identifier)


def control_cells(benchmark_identifier: str, controls=None, store=None) -> dict:
    """identifier -> cell (score, expectation, whether it is met) of a benchmark's declared controls
    (or of ``controls``, a subset of them), each scored through ``score_model``: the check each
    topography benchmark's own ``test.py`` runs."""
    from topobench.models.controls import CONTROLS
    from topobench.registry import load_benchmark, load_model
    from topobench.results import ResultsStore
    benchmark = load_benchmark(benchmark_identifier)
    declared = tuple(benchmark.controls)
    chosen = tuple(controls) if controls is not None else declared
    undeclared = sorted(set(chosen) - set(declared))
    if undeclared:
        raise ValueError(f"{benchmark_identifier} does not declare the control(s) {', '.join(undeclared)}")
    store = store if store is not None else ResultsStore()
    return {identifier: score_subject(load_model(identifier), benchmark, CONTROLS[identifier]["kind"], store)
            for identifier in chosen}


#: the controls every map benchmark's test.py scores on the fast path (the 64 px density)
FAST_V1_CONTROLS = ("control-v1-bandlimited-64px", "control-v1-bandlimited-64px-shuffled")


def missed_controls(benchmark_identifier: str, controls=None, store=None) -> dict:
    """identifier -> cell of each control that misses its expectation (empty when all meet it; a
    benchmark of the distribution, not the layout, has no expectation for a shuffled twin)."""
    cells = control_cells(benchmark_identifier, controls, store)
    return {identifier: cell for identifier, cell in cells.items() if cell.get("meets") is False}


def brain_cell(benchmark, store) -> dict:
    """Brain data entered as a model on one benchmark (the mean over its held-out planes), or why not."""
    from topobench.scoring import score_model
    letters = _brain_planes(benchmark.identifier)
    if not letters:
        return {"status": "not available", "message": NO_BRAIN_DATA.get(
            benchmark.identifier, "this benchmark cannot enter brain data as a model")}
    parts = {}
    for letter in letters:
        stand_in = _BrainAsModel(f"{BRAIN}-nauhaus2012-panel-{letter}")
        score = score_model(stand_in, _HeldOutPlane(benchmark, letter), store, raise_errors=False)
        if score is None:
            row = store.latest(stand_in.identifier, benchmark.identifier, benchmark.version)
            return {"status": "failed", "message": ((row or {}).get("message") or "failed").splitlines()[0]}
        raw, ceiling = float(score.attrs["raw"]), float(score.attrs["ceiling"])
        parts[letter] = {"score": _number(score), "raw": _number(raw), "ceiling": _number(ceiling),
                         "unclipped": _number(raw / ceiling) if ceiling > 0 else None}
    unclipped = [p["unclipped"] for p in parts.values() if p["unclipped"] is not None]
    value = float(np.mean(unclipped)) if unclipped else None
    return {"status": "ok", "score": _number(np.mean([p["score"] for p in parts.values()])),
            "unclipped": _number(value), "raw": _number(np.mean([p["raw"] for p in parts.values()])),
            "ceiling": parts[letters[0]]["ceiling"],
            "error": _number(np.std(unclipped, ddof=1)) if len(unclipped) > 1 else None,
            "parts": parts, "expected": EXPECTED["brain"]["text"], "meets": _meets("brain", _number(value),
                                                                                  benchmark.identifier),
            "note": "each macaque plane at the cited 0.75 mm column width against the other imaging site; "
                    "'unclipped' = mean over planes of raw / ceiling (the score before clipping at 1)"}


# ----------------------------------------------------------------------------- the table

def _benchmark_info(benchmark) -> dict:
    return {"identifier": benchmark.identifier, "version": str(benchmark.version),
            "region": str(getattr(benchmark, "parent", "") or ""),
            "report_only": bool(getattr(benchmark, "report_only", False)),
            "measures": "distribution" if benchmark.identifier in DISTRIBUTION_ONLY else "topography",
            **({"note": DISTRIBUTION_ONLY[benchmark.identifier]} if benchmark.identifier in DISTRIBUTION_ONLY
               else {})}


def _truth(model) -> dict:
    truth = dict(getattr(model, "truth", {}) or {})
    if truth and getattr(model, "maps", None) is not None and model.maps.provenance.get("kind") == "bandlimited":
        from topobench.models.controls.v1_gabor import true_pinwheel_density
        truth["pinwheel_density"] = true_pinwheel_density()["density_per_spacing2"]
    return rounded_jsonable(truth)


def build_validity(subjects=None, benchmarks=None, store=None, models=None, benchmark_objects=None,
                   progress: bool = True) -> dict:
    """The validity table as a JSON-ready dict.

    ``subjects``: control identifiers and/or ``'brain-data'`` (default: all);
    ``benchmarks``: identifiers (default :data:`BENCHMARKS`); ``store``: a
    ``ResultsStore`` (default: a temporary one); ``models`` / ``benchmark_objects``:
    identifier -> object, used instead of loading (tests pass small ones).
    """
    import tempfile

    from topobench.registry import load_benchmark, load_model
    from topobench.results import ResultsStore
    benchmark_ids = list(benchmarks or BENCHMARKS)
    rows = control_subjects([s for s in subjects if s != BRAIN] if subjects else None) \
        if (not subjects or any(s != BRAIN for s in subjects)) else []
    with_brain = not subjects or BRAIN in subjects
    temporary = None
    if store is None:
        temporary = tempfile.TemporaryDirectory(prefix="topobench-validity-")
        store = ResultsStore(str(Path(temporary.name) / "validity.sqlite"))
    benchmark_objects = dict(benchmark_objects or {})
    loaded = {identifier: benchmark_objects.get(identifier) or load_benchmark(identifier)
              for identifier in benchmark_ids}
    table = {
        "title": "Validity of the topography benchmarks",
        "description": ("Every topography benchmark on brain data entered as a model (where the data host has "
                        "it), on positive controls (maps with known answers), their shuffled twins, a "
                        "salt-and-pepper and a constant map. Made by `topobench validity`."),
        "expectations": {kind: value["text"] for kind, value in EXPECTED.items()},
        "benchmarks": [_benchmark_info(loaded[identifier]) for identifier in benchmark_ids],
        "subjects": [], "cells": {},
    }
    started = time.perf_counter()
    try:
        if with_brain:
            table["subjects"].append({"identifier": BRAIN, "kind": "brain", "region": "",
                                      "description": "macaque or human data entered as a model, held out from "
                                                     "the reference it is compared with"})
            table["cells"][BRAIN] = {}
            for identifier, benchmark in loaded.items():
                table["cells"][BRAIN][identifier] = brain_cell(benchmark, store)
                _say(progress, f"{BRAIN} x {identifier}: {_shown(table['cells'][BRAIN][identifier])}", started)
        for row in rows:
            identifier = row["identifier"]
            model = (models or {}).get(identifier) or load_model(identifier)
            subject = {"identifier": identifier, "kind": row["kind"], "region": row["region"],
                       "twin_of": row.get("twin_of"), "description": getattr(model, "description", "") or ""}
            truth = _truth(model)
            if truth:
                subject["truth"] = truth
            table["subjects"].append(subject)
            cells = table["cells"].setdefault(identifier, {})
            for benchmark_id, benchmark in loaded.items():
                region = str(getattr(benchmark, "parent", "") or "")
                if region and region not in getattr(model, "regions", {}):
                    cells[benchmark_id] = {"status": "not applicable",
                                           "message": f"a {row['region']} control; the benchmark scores {region}"}
                    continue
                cells[benchmark_id] = score_subject(model, benchmark, row["kind"], store)
                _say(progress, f"{identifier} x {benchmark_id}: {_shown(cells[benchmark_id])}", started)
            del model
    finally:
        if temporary is not None:
            store.close()
            temporary.cleanup()
    table["summary"] = summarise(table)
    return table


def summarise(table: dict) -> dict:
    """Per benchmark: which expectations hold, which are missed, which cannot be checked."""
    summary = {}
    for info in table["benchmarks"]:
        identifier = info["identifier"]
        met, missed, open_ = [], [], []
        for subject in table["subjects"]:
            cell = table["cells"].get(subject["identifier"], {}).get(identifier)
            if not cell or cell["status"] in ("not applicable",):
                continue
            label = subject["identifier"]
            if cell.get("meets") is True:
                met.append(label)
            elif cell.get("meets") is False:
                missed.append(label)
            else:
                open_.append(label)
        summary[identifier] = {"met": met, "missed": missed, "unchecked": open_}
    return summary


def _shown(cell: dict) -> str:
    if cell["status"] != "ok":
        verdict = {True: " (as expected)", False: " MISSES", None: ""}[cell.get("meets")]
        return f"{cell['status']}{verdict}: {cell.get('message', '')}"
    value = cell.get("unclipped", cell.get("score"))
    verdict = {True: "meets", False: "MISSES", None: ""}[cell.get("meets")]
    return f"{value} ({cell.get('expected', '')}) {verdict}".strip()


def _say(progress: bool, text: str, started: float) -> None:
    if progress:
        print(f"[{time.perf_counter() - started:7.1f} s] {text}", flush=True)


def write_validity(table: dict, out) -> Path:
    """Write the table as JSON (sorted keys, stable bytes) via a temporary file."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.tmp")
    temporary.write_text(json.dumps(table, indent=1, sort_keys=True, allow_nan=False) + "\n")
    temporary.replace(out)
    return out


# ----------------------------------------------------------------------------- command line

def cmd_validity(args) -> int:
    from topobench.results import ResultsStore
    started = time.perf_counter()
    store = ResultsStore(args.db) if args.db else None
    table = build_validity(args.controls, args.benchmarks, store, progress=not args.quiet)
    out = write_validity(table, args.out)
    missed = sum(len(entry["missed"]) for entry in table["summary"].values())
    print(f"wrote {out}: {len(table['subjects'])} subject(s) x {len(table['benchmarks'])} benchmark(s), "
          f"{missed} missed expectation(s), in {time.perf_counter() - started:.0f} s")
    return 0


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser("validity", help="score every topography benchmark on brain data, positive "
                                   "controls, shuffled twins, salt-and-pepper and constant maps (JSON)")
    parser.add_argument("--out", default="leaderboard/validity.json",
                        help="the JSON file to write (default leaderboard/validity.json)")
    parser.add_argument("--db", default=None, help="results store for the scores (default: a temporary one)")
    parser.add_argument("--controls", nargs="+", default=None, metavar="CONTROL",
                        help=f"only these controls (and/or {BRAIN}); default: all")
    parser.add_argument("--benchmarks", nargs="+", default=None, metavar="BENCHMARK",
                        help="only these benchmarks (default: every topography benchmark)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.set_defaults(func=cmd_validity)
