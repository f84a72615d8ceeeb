"""The static leaderboard site: plain HTML, one stylesheet, a little vanilla JS.

``build_site(leaderboard, out)`` writes::

    index.html                 the table: rank, model, aggregates, every benchmark (sortable); then the
                               controls (maps with known answers), never ranked or aggregated
    models/<model>.html        one model (or control): aggregates, every benchmark with provenance, figures
    benchmarks/<id>.html       one benchmark: description, bibtex, every model, figures
    figures/<id>/<model>/...   the benchmarks' pictures (see below)
    scores.csv, scores.json    every number, 4 decimals, stable order (controls too, rank empty)
    validity.html, validity.json  the validity table of ``topobench validity`` (when its JSON exists:
                               ``leaderboard/validity.json`` beside the configuration, or ``validity=``)
    style.css, sort.js

Nothing in it depends on when or where it was built: two builds from the same
store are byte-identical. No server is needed (open ``index.html``).

**Pictures.** For each (model, benchmark) cell with a stored row, pictures come
from (1) the benchmark object's optional method ``figures(details, folder)``,
which writes image files (PNG, SVG...) into ``folder`` and returns their paths,
or ``(path, caption)`` pairs; and (2) ``details['figures']`` of the stored row:
a list of paths (absolute, or relative to ``TOPOBENCH_HOME``) or of
``{"path": ..., "caption": ...}``, copied into the site. A picture that cannot
be made or found is named on the page, never silently dropped.
"""
from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from topobench.leaderboard.aggregate import (STATUS_FAILED, STATUS_MISSING, Cell, Leaderboard,
                                             LeaderboardError, fmt4, round4)
from topobench.results import STATUS_OK

MARKER = ".topobench-site"
IMAGE_SUFFIXES = {".png", ".svg", ".jpg", ".jpeg", ".gif", ".webp"}
MAX_DETAILS_CHARS = 20_000
CSV_COLUMNS = ("model", "rank", "item", "kind", "region", "family", "report_only", "benchmark_version",
               "status", "score", "raw", "ceiling", "error", "n_failed", "n_missing", "weights_sha256",
               "topobench_version", "message", "model_family")

STYLE = """\
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; font-size: 0.85rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: right; vertical-align: top; }
th { background: #f3f3f3; }
td.text, th.text { text-align: left; }
th button.sort { font: inherit; font-weight: bold; background: none; border: none; cursor: pointer; padding: 0; }
th[aria-sort=ascending] button.sort::after { content: " \\25B2"; }
th[aria-sort=descending] button.sort::after { content: " \\25BC"; }
td.failed { background: #fbe3e3; color: #a00; }
td.missing { color: #999; }
td.aggregate, th.aggregate { background: #eef4fb; }
td.report-only, th.report-only { color: #666; font-style: italic; }
.incomplete::after { content: "*"; color: #a00; }
.note { color: #555; font-size: 0.85rem; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.15rem 1rem; } dt { color: #555; }
dd { margin: 0; }
pre { background: #f7f7f7; padding: 0.5rem; overflow-x: auto; font-size: 0.8rem; }
figure { display: inline-block; margin: 0.5rem; } figure img { max-width: 480px; border: 1px solid #ddd; }
.level-family td:first-child { padding-left: 1.5rem; } .level-region td:first-child { padding-left: 3rem; }
td.meets { background: #e3f4e3; } td.misses { background: #fbe3e3; color: #a00; font-weight: bold; }
td.unavailable { color: #999; font-size: 0.8rem; text-align: left; }
"""

SORT_JS = """\
// Sortable tables: click a column's button; numbers sort high to low first, text A to Z.
(function () {
  "use strict";
  function valueOf(row, index, type) {
    var cell = row.cells[index];
    var text = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent.trim();
    if (type === "number") {
      var number = parseFloat(text);
      return isNaN(number) ? -Infinity : number;
    }
    return text.toLowerCase();
  }
  function sortBy(table, header, index, direction) {
    var type = header.getAttribute("data-type") || "text";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.forEach(function (row, position) { row.setAttribute("data-position", position); });
    rows.sort(function (a, b) {
      var x = valueOf(a, index, type), y = valueOf(b, index, type);
      var order = x < y ? -1 : (x > y ? 1 : 0);
      if (direction === "descending") { order = -order; }
      return order || (a.getAttribute("data-position") - b.getAttribute("data-position"));
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(header.parentNode.cells, function (cell) { cell.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", direction);
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    var headers = table.tHead.rows[table.tHead.rows.length - 1].cells;
    Array.prototype.forEach.call(headers, function (header, index) {
      var button = header.querySelector("button.sort");
      if (!button) { return; }
      button.addEventListener("click", function () {
        var current = header.getAttribute("aria-sort");
        var first = header.getAttribute("data-first") ||
          (header.getAttribute("data-type") === "number" ? "descending" : "ascending");
        var direction = current ? (current === "ascending" ? "descending" : "ascending") : first;
        sortBy(table, header, index, direction);
      });
    });
  });
}());
"""


class SiteError(LeaderboardError):
    """The site cannot be written where asked."""


# ----------------------------------------------------------------------------- helpers

def slug(identifier: str) -> str:
    """A file name for an identifier: letters, digits, '.', '_', '-' kept, others '_'."""
    text = re.sub(r"[^A-Za-z0-9._-]+", "_", identifier).strip("._") or "_"
    return text


def _slugs(identifiers) -> dict[str, str]:
    """Unique file names (a clash gets a numbered suffix, in sorted order: stable)."""
    result, used = {}, set()
    for identifier in sorted(identifiers):
        base = candidate = slug(identifier)
        number = 2
        while candidate.lower() in used:
            candidate, number = f"{base}-{number}", number + 1
        used.add(candidate.lower())
        result[identifier] = candidate
    return result


def e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _first_line(text) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0] if lines else ""


def _page(title: str, body: str, depth: int) -> str:
    up = "../" * depth
    return (f"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{e(title)}</title>\n<link rel=\"stylesheet\" href=\"{up}style.css\">\n</head>\n<body>\n"
            f"{body}\n<script src=\"{up}sort.js\"></script>\n</body>\n</html>\n")


def _score_cell(cell: Cell, report_only: bool = False) -> str:
    extra = " report-only" if report_only else ""
    if cell.status == STATUS_OK:
        return f"<td class=\"ok{extra}\" data-value=\"{fmt4(cell.score)}\">{fmt4(cell.score)}</td>"
    if cell.status == STATUS_FAILED:
        return (f"<td class=\"failed{extra}\" data-value=\"-1\" title=\"{e(_first_line(cell.message))}\">"
                f"failed</td>")
    return f"<td class=\"missing{extra}\" data-value=\"-2\" title=\"not scored\">&ndash;</td>"


def _aggregate_cell(value) -> str:
    if value is None:
        return "<td class=\"aggregate missing\" data-value=\"-2\">&ndash;</td>"
    note = []
    if value.n_failed:
        note.append(f"{value.n_failed} failed")
    if value.n_missing:
        note.append(f"{value.n_missing} not scored")
    if note:
        title = ", ".join(note) + ": counted as 0"
        return (f"<td class=\"aggregate\" data-value=\"{fmt4(value.score)}\" title=\"{e(title)}\">"
                f"<span class=\"incomplete\">{fmt4(value.score)}</span></td>")
    return f"<td class=\"aggregate\" data-value=\"{fmt4(value.score)}\">{fmt4(value.score)}</td>"


def _header(label: str, kind: str = "number", css: str = "", title: str = "", first: str = "") -> str:
    classes = f" class=\"{css}\"" if css else ""
    titled = f" title=\"{e(title)}\"" if title else ""
    first_attr = f" data-first=\"{first}\"" if first else ""
    return (f"<th{classes} data-type=\"{kind}\"{first_attr}{titled}><button type=\"button\" class=\"sort\">"
            f"{e(label)}</button></th>")


# ----------------------------------------------------------------------------- figures

def _figures(benchmark, cell: Cell, folder: Path, site: Path) -> list[tuple[str, str]]:
    """(path relative to the site, caption) of each picture of one cell; problems as ('', message)."""
    if cell.row is None or cell.status != STATUS_OK:
        return []
    details = cell.row.get("details") or {}
    results = []
    made = []
    hook = getattr(benchmark, "figures", None)
    if callable(hook):
        folder.mkdir(parents=True, exist_ok=True)
        try:
            made = list(hook(details, folder) or [])
        except Exception as error:  # noqa: BLE001 - named on the page
            results.append(("", f"the benchmark's figures() failed: {type(error).__name__}: {error}"))
    stored = details.get("figures") or []
    if isinstance(stored, (str, dict)):
        stored = [stored]
    from topobench.data_client import topobench_home
    home = topobench_home()
    for item, base in [(item, folder) for item in made] + [(item, home) for item in stored]:
        if isinstance(item, dict):
            path, caption = item.get("path"), item.get("caption", "")
        elif isinstance(item, (tuple, list)):
            path, caption = item[0], item[1] if len(item) > 1 else ""
        else:
            path, caption = item, ""
        path = Path(str(path))
        if not path.is_absolute():
            path = base / path
        if not path.is_file():
            results.append(("", f"figure {path} not found"))
            continue
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            results.append(("", f"figure {path.name} is not an image ({', '.join(sorted(IMAGE_SUFFIXES))})"))
            continue
        target = folder / path.name
        if path.resolve() != target.resolve():
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        results.append((target.relative_to(site).as_posix(), str(caption or path.stem)))
    return results


def _figure_html(figures, depth: int) -> str:
    up = "../" * depth
    parts = []
    for path, caption in figures:
        if not path:
            parts.append(f"<p class=\"note\">{e(caption)}</p>")
        else:
            parts.append(f"<figure><img src=\"{e(up + path)}\" alt=\"{e(caption)}\">"
                         f"<figcaption>{e(caption)}</figcaption></figure>")
    return "\n".join(parts)


# ----------------------------------------------------------------------------- exports

def _cell_record(cell: Cell) -> dict:
    row = cell.row or {}
    return {
        "status": cell.status, "score": round4(cell.score), "raw": round4(cell.raw),
        "ceiling": round4(cell.ceiling), "error": round4(cell.error), "message": cell.message,
        "benchmark_version": row.get("benchmark_version"), "weights_sha256": row.get("model_weights_sha256"),
        "topobench_version": row.get("topobench_version"), "provenance": row.get("provenance"),
        "finished_at": row["finished_at"].isoformat() if row.get("finished_at") else None,
    }


def scores_json(board: Leaderboard) -> str:
    data = {
        "title": board.title, "description": board.description,
        "benchmarks": [{"identifier": info.identifier, "version": info.version, "region": info.region,
                        "family": info.family, "family_source": info.family_source,
                        "report_only": info.report_only, "aggregated": info.aggregated}
                       for info in board.benchmarks],
        "aggregates": [{"key": node.key, "label": node.label, "level": node.level,
                        "children": list(node.children)} for node in board.tree],
        "models": [{"identifier": entry.identifier, "rank": entry.rank,
                    "aggregates": {key: {"score": round4(value.score), "n_failed": value.n_failed,
                                         "n_missing": value.n_missing}
                                   for key, value in entry.aggregates.items()},
                    "benchmarks": {identifier: _cell_record(cell) for identifier, cell in entry.cells.items()}}
                   for entry in board.entries],
        "controls": [{"identifier": entry.identifier, "rank": None, "family": "controls",
                      "benchmarks": {identifier: _cell_record(cell) for identifier, cell in entry.cells.items()}}
                     for entry in board.controls],
    }
    from topobench.results import to_jsonable
    return json.dumps(to_jsonable(data), indent=1, sort_keys=True, allow_nan=False) + "\n"


def scores_csv(board: Leaderboard) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for entry in board.entries + board.controls:
        model_family = "controls" if entry.rank is None else "models"
        for node in board.tree if entry.rank is not None else ():
            value = entry.aggregates[node.key]
            region = node.key.split(".", 1)[1] if node.level == "region" else ""
            family = node.key.split(".", 1)[0] if node.level != "overall" else ""
            writer.writerow([entry.identifier, entry.rank, node.key, "aggregate", region, family, "", "",
                             "ok" if value.complete else "incomplete", fmt4(value.score), "", "", "",
                             value.n_failed, value.n_missing, "", "", "", model_family])
        for info in board.benchmarks:
            cell = entry.cells[info.identifier]
            row = cell.row or {}
            writer.writerow([entry.identifier, entry.rank, info.identifier, "benchmark", info.region, info.family,
                             str(info.report_only).lower(), info.version, cell.status, fmt4(cell.score),
                             fmt4(cell.raw), fmt4(cell.ceiling), fmt4(cell.error), "", "",
                             row.get("model_weights_sha256") or "", row.get("topobench_version") or "",
                             _first_line(cell.message) if cell.status != STATUS_OK else "", model_family])
    return out.getvalue()


# ----------------------------------------------------------------------------- pages

def _controls_table(board: Leaderboard, model_slugs, depth: int, validity: bool) -> str:
    """The controls beside the models: their benchmark cells, no rank, no aggregate."""
    if not board.controls:
        return ""
    up = "../" * depth
    heads = [_header("Control", "text", "text")]
    for info in board.benchmarks:
        heads.append(_header(info.identifier, css="report-only" if info.report_only else "",
                             title=f"{info.identifier} v{info.version}"))
    rows = []
    for entry in board.controls:
        cells = [f"<td class=\"text\"><a href=\"{up}models/{model_slugs[entry.identifier]}.html\">"
                 f"{e(entry.identifier)}</a></td>"]
        cells += [_score_cell(entry.cells[info.identifier], info.report_only) for info in board.benchmarks]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    link = (f" The <a href=\"{up}validity.html\">validity table</a> says what each topography benchmark "
            f"makes of them." if validity else "")
    return (f"<h2 id=\"controls\">{e(board.controls_label)}</h2>\n"
            f"<p class=\"note\">{e(board.controls_description or 'maps with known answers')}. Never ranked, "
            f"in no aggregate.{link}</p>\n"
            "<table class=\"sortable\" id=\"controls-table\">\n<thead><tr>" + "".join(heads)
            + "</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>\n")


def _index(board: Leaderboard, model_slugs, benchmark_slugs, validity: bool = False) -> str:
    heads = [_header("Rank", first="ascending"), _header("Model", "text", "text")]
    heads += [_header(node.label, css="aggregate", title=_node_title(node)) for node in board.tree]
    for info in board.benchmarks:
        css = "report-only" if info.report_only else ""
        title = f"{info.identifier} v{info.version}: {info.family}, {info.region}" + (
            ", report only (in no aggregate)" if info.report_only else
            ("" if info.aggregated else ", in no aggregate"))
        heads.append(_header(info.identifier, css=css, title=title))
    rows = []
    for entry in board.entries:
        cells = [f"<td data-value=\"{entry.rank}\">{entry.rank}</td>",
                 f"<td class=\"text\"><a href=\"models/{model_slugs[entry.identifier]}.html\">"
                 f"{e(entry.identifier)}</a></td>"]
        cells += [_aggregate_cell(entry.aggregates.get(node.key)) for node in board.tree]
        cells += [_score_cell(entry.cells[info.identifier], info.report_only) for info in board.benchmarks]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    listing = "\n".join(
        f"<li><a href=\"benchmarks/{benchmark_slugs[info.identifier]}.html\">{e(info.identifier)}</a> "
        f"v{e(info.version)}: {e(info.family)}, {e(info.region)}"
        + (" (report only)" if info.report_only else "")
        + (" (family guessed from the identifier)" if info.family_source == "guessed" else "") + "</li>"
        for info in board.benchmarks)
    body = (f"<h1>{e(board.title)}</h1>\n"
            + (f"<p>{e(board.description)}</p>\n" if board.description else "")
            + "<p class=\"note\">Scores are ceiled: 1 is as brain-like as the brain data's own reliability "
              "allows. Aggregates are means over their children: benchmarks within a region, regions within "
              "topography or responses, then the two. A failed or unscored benchmark counts 0 "
              "(<span class=\"incomplete\"></span> marks such an aggregate); report-only benchmarks are in no "
              "aggregate. <a href=\"scores.csv\">scores.csv</a> &middot; <a href=\"scores.json\">scores.json</a>"
              "</p>\n"
            + ("<p class=\"note\"><a href=\"validity.html\">Validity</a>: every topography benchmark on "
               "brain data, positive controls, shuffled twins, salt-and-pepper and constant maps.</p>\n"
               if validity else "")
            + "<table class=\"sortable\" id=\"leaderboard\">\n<thead><tr>" + "".join(heads)
            + "</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>\n"
            + _controls_table(board, model_slugs, 0, validity)
            + f"<h2>Benchmarks</h2>\n<ul>\n{listing}\n</ul>\n")
    return _page(board.title, body, 0)


def _node_title(node) -> str:
    return f"{node.label}: mean of {', '.join(node.children)}"


def _provenance_html(cell: Cell) -> str:
    row = cell.row
    if row is None:
        return ""
    provenance = row.get("provenance") or {}
    items = [("benchmark version", row.get("benchmark_version")),
             ("model weights sha256", row.get("model_weights_sha256")),
             ("topobench version", row.get("topobench_version")),
             ("seed", provenance.get("seed")),
             ("torch threads", provenance.get("torch_threads")),
             ("finished", row["finished_at"].isoformat() if row.get("finished_at") else None)]
    if provenance.get("positions_by_default") is not None:
        items.append(("positions by default", json.dumps(provenance["positions_by_default"], sort_keys=True)))
    for name, digest in sorted((provenance.get("reference_data_sha256") or {}).items()):
        items.append((f"reference {name}", digest))
    text = "".join(f"<dt>{e(name)}</dt><dd><code>{e(value)}</code></dd>" for name, value in items
                   if value is not None)
    details = row.get("details")
    if details:
        dumped = json.dumps(details, indent=1, sort_keys=True)
        shown = (f"<pre>{e(dumped)}</pre>" if len(dumped) <= MAX_DETAILS_CHARS else
                 f"<p class=\"note\">{len(details)} entries ({len(dumped)} characters): see the results "
                 f"store</p>")
        text += f"<dt>details</dt><dd><details><summary>show</summary>{shown}</details></dd>"
    return f"<dl>{text}</dl>"


def _model_page(board: Leaderboard, entry, benchmark_slugs, figures) -> str:
    aggregate_rows = []
    for node in board.tree if entry.aggregates else ():
        value = entry.aggregates[node.key]
        aggregate_rows.append(f"<tr class=\"level-{node.level}\"><td class=\"text\">{e(node.label)}</td>"
                              + _aggregate_cell(value) + "</tr>")
    rows, sections = [], []
    for info in board.benchmarks:
        cell = entry.cells[info.identifier]
        link = f"<a href=\"../benchmarks/{benchmark_slugs[info.identifier]}.html\">{e(info.identifier)}</a>"
        rows.append(f"<tr><td class=\"text\">{link}</td><td class=\"text\">{e(info.region)}</td>"
                    f"<td class=\"text\">{e(info.family)}{' (report only)' if info.report_only else ''}</td>"
                    + _score_cell(cell, info.report_only)
                    + f"<td>{fmt4(cell.raw)}</td><td>{fmt4(cell.ceiling)}</td><td>{fmt4(cell.error)}</td>"
                    + f"<td class=\"text\">{e(_first_line(cell.message)) if cell.status != STATUS_OK else ''}"
                      f"</td></tr>")
        body = ""
        if cell.status == STATUS_FAILED:
            body += f"<p><strong>failed</strong></p><pre>{e(cell.message)}</pre>"
        elif cell.status == STATUS_MISSING:
            body += "<p class=\"note\">not scored at this benchmark version</p>"
        body += _provenance_html(cell) + _figure_html(figures.get((entry.identifier, info.identifier), []), 1)
        sections.append(f"<h3 id=\"{e(slug(info.identifier))}\">{e(info.identifier)} v{e(info.version)}</h3>\n"
                        f"{body}")
    rank = (f"rank {entry.rank} of {len(board.entries)}" if entry.rank is not None else
            f"{board.controls_label.lower()}: never ranked, in no aggregate")
    body = (f"<p><a href=\"../index.html\">&larr; {e(board.title)}</a></p>\n<h1>{e(entry.identifier)}</h1>\n"
            f"<p>{rank}</p>\n"
            + ("<h2>Aggregates</h2>\n<table>\n<tbody>\n" + "\n".join(aggregate_rows) + "\n</tbody>\n</table>\n"
               if board.tree and entry.aggregates else "")
            + "<h2>Benchmarks</h2>\n<table class=\"sortable\" id=\"benchmarks\">\n<thead><tr>"
            + _header("Benchmark", "text", "text") + _header("Region", "text", "text")
            + _header("Family", "text", "text") + _header("Score") + _header("Raw") + _header("Ceiling")
            + _header("Error") + _header("Message", "text", "text")
            + "</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>\n"
            + "<h2>Details and provenance</h2>\n" + "\n".join(sections) + "\n")
    return _page(f"{entry.identifier}: {board.title}", body, 1)


def _benchmark_page(board: Leaderboard, info, model_slugs, figures) -> str:
    entries = sorted(board.entries, key=lambda entry: (
        {STATUS_OK: 0, STATUS_FAILED: 1, STATUS_MISSING: 2}[entry.cells[info.identifier].status],
        -(round4(entry.cells[info.identifier].score) or 0.0), entry.identifier))
    sections = []

    def row(entry, heading_suffix: str = "") -> str:
        """The entry's table row; its figures, if any, go to ``sections``."""
        cell = entry.cells[info.identifier]
        pictures = figures.get((entry.identifier, info.identifier), [])
        if pictures:
            sections.append(f"<h3>{e(entry.identifier)}{heading_suffix}</h3>\n{_figure_html(pictures, 1)}")
        return (f"<tr><td class=\"text\"><a href=\"../models/{model_slugs[entry.identifier]}.html\">"
                f"{e(entry.identifier)}</a></td>" + _score_cell(cell)
                + f"<td>{fmt4(cell.raw)}</td><td>{fmt4(cell.ceiling)}</td><td>{fmt4(cell.error)}</td>"
                + f"<td class=\"text\">{e(_first_line(cell.message)) if cell.status != STATUS_OK else ''}"
                  f"</td></tr>")

    rows = [row(entry) for entry in entries]
    control_rows = [row(entry, " (control)") for entry in board.controls]
    controls = ("" if not control_rows else
                f"<h2>{e(board.controls_label)}</h2>\n<p class=\"note\">never ranked, in no aggregate</p>\n"
                "<table class=\"sortable\" id=\"controls\">\n<thead><tr>"
                + _header("Control", "text", "text") + _header("Score") + _header("Raw") + _header("Ceiling")
                + _header("Error") + _header("Message", "text", "text")
                + "</tr></thead>\n<tbody>\n" + "\n".join(control_rows) + "\n</tbody>\n</table>\n")
    family = e(info.family) + (" (guessed from the identifier)" if info.family_source == "guessed" else "")
    role = ("report only: part of no aggregate" if info.report_only else
            "counted in the aggregates" if info.aggregated else "part of no aggregate")
    body = (f"<p><a href=\"../index.html\">&larr; {e(board.title)}</a></p>\n<h1>{e(info.identifier)}</h1>\n"
            + (f"<p>{e(info.description)}</p>\n" if info.description else "")
            + f"<dl><dt>version</dt><dd>{e(info.version)}</dd><dt>region</dt><dd>{e(info.region)}</dd>"
              f"<dt>family</dt><dd>{family}</dd><dt>role</dt><dd>{e(role)}</dd></dl>\n"
            + "<h2>Models</h2>\n<table class=\"sortable\" id=\"models\">\n<thead><tr>"
            + _header("Model", "text", "text") + _header("Score") + _header("Raw") + _header("Ceiling")
            + _header("Error") + _header("Message", "text", "text")
            + "</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>\n"
            + controls
            + ("<h2>Figures</h2>\n" + "\n".join(sections) + "\n" if sections else "")
            + (f"<h2>Reference</h2>\n<pre>{e(info.bibtex)}</pre>\n" if info.bibtex else ""))
    return _page(f"{info.identifier}: {board.title}", body, 1)


# ----------------------------------------------------------------------------- validity

def default_validity_path() -> Path | None:
    """``validity.json`` beside the leaderboard configuration (``leaderboard/validity.json``), if it exists."""
    from topobench.leaderboard.aggregate import default_config_path
    config = default_config_path()
    candidate = config.parent / "validity.json" if config is not None else None
    return candidate if candidate is not None and candidate.is_file() else None


def load_validity(validity) -> dict | None:
    """The validity table: a dict, a path to its JSON, or None for :func:`default_validity_path`."""
    if isinstance(validity, dict):
        return validity
    path = Path(validity) if validity is not None else default_validity_path()
    if path is None:
        return None
    try:
        table = json.loads(path.read_text())
    except FileNotFoundError:
        raise SiteError(f"validity table {path} does not exist; make it with `topobench validity --out "
                        f"{path}`") from None
    except json.JSONDecodeError as error:
        raise SiteError(f"validity table {path} is not valid JSON ({error}); make it again with "
                        f"`topobench validity --out {path}`") from None
    if not isinstance(table, dict) or not {"benchmarks", "subjects", "cells"} <= set(table):
        raise SiteError(f"validity table {path} lacks 'benchmarks', 'subjects' or 'cells'; make it again with "
                        f"`topobench validity --out {path}`")
    return table


def _validity_cell(cell: dict | None) -> str:
    if not cell:
        return "<td class=\"missing\" data-value=\"-2\">&ndash;</td>"
    status = cell.get("status")
    if status == "not applicable":
        return f"<td class=\"missing\" data-value=\"-2\" title=\"{e(cell.get('message'))}\">n/a</td>"
    if status == "not available":
        return f"<td class=\"unavailable\" data-value=\"-2\" title=\"{e(cell.get('message'))}\">no data</td>"
    if status == "refused":
        css = "meets" if cell.get("meets") else "misses"
        return (f"<td class=\"{css}\" data-value=\"-1\" title=\"refused: {e(cell.get('message'))}\">refused"
                f"{'' if cell.get('meets') else ' &#x2717;'}</td>")
    if status != "ok":
        return (f"<td class=\"failed\" data-value=\"-1\" title=\"{e(cell.get('message'))}\">failed</td>")
    value = cell.get("unclipped", cell.get("score"))
    css = {True: "meets", False: "misses"}.get(cell.get("meets"), "")
    title = f"expected {cell.get('expected', '')}" + (
        f"; score {fmt4(cell.get('score'))} (clipped at 1)" if "unclipped" in cell else "")
    reason = (cell.get("details") or {}).get("scored_zero_because")
    if reason:
        title += f"; {reason}"
    return (f"<td class=\"{css}\" data-value=\"{fmt4(value)}\" title=\"{e(title)}\">{fmt4(value)}"
            f"{'' if cell.get('meets') is not False else ' &#x2717;'}</td>")


def _validity_page(table: dict, title: str, model_slugs: dict) -> str:
    benchmarks = table["benchmarks"]
    heads = [_header("Subject", "text", "text"), _header("Kind", "text", "text"), _header("Expected", "text", "text")]
    heads += [_header(info["identifier"], css="report-only" if info.get("report_only") else "",
                      title=f"v{info.get('version')}" + (f": {info['note']}" if info.get("note") else ""))
              for info in benchmarks]
    rows = []
    for subject in table["subjects"]:
        identifier = subject["identifier"]
        name = (f"<a href=\"models/{model_slugs[identifier]}.html\">{e(identifier)}</a>"
                if identifier in model_slugs else e(identifier))
        expected = (table.get("expectations") or {}).get(subject.get("kind"), "")
        cells = table["cells"].get(identifier, {})
        rows.append(f"<tr><td class=\"text\" title=\"{e(subject.get('description'))}\">{name}</td>"
                    f"<td class=\"text\">{e(subject.get('kind'))}</td><td class=\"text\">{e(expected)}</td>"
                    + "".join(_validity_cell(cells.get(info["identifier"])) for info in benchmarks) + "</tr>")
    summary = []
    for info in benchmarks:
        entry = (table.get("summary") or {}).get(info["identifier"], {})
        missed = entry.get("missed") or []
        summary.append(f"<li><strong>{e(info['identifier'])}</strong> v{e(info.get('version'))}: "
                       f"{len(entry.get('met') or [])} expectation(s) met, "
                       + (f"<span class=\"incomplete\">missed by {e(', '.join(missed))}</span>" if missed
                          else "none missed")
                       + (f"; {e(info['note'])}" if info.get("note") else "") + "</li>")
    notes = []
    for subject in table["subjects"]:
        if subject.get("truth"):
            notes.append(f"<li>{e(subject['identifier'])}: the map's own answer "
                         f"<code>{e(json.dumps(subject['truth'], sort_keys=True))}</code></li>")
        for identifier, cell in sorted(table["cells"].get(subject["identifier"], {}).items()):
            if cell.get("status") == "not available":
                notes.append(f"<li>{e(subject['identifier'])} on {e(identifier)}: {e(cell.get('message'))}</li>")
            if cell.get("parts"):
                parts = ", ".join(f"{letter} {fmt4(part.get('unclipped'))}"
                                  for letter, part in sorted(cell["parts"].items()))
                notes.append(f"<li>{e(subject['identifier'])} on {e(identifier)}: per held-out plane {e(parts)}; "
                             f"{e(cell.get('note', ''))}</li>")
    body = (f"<p><a href=\"index.html\">&larr; {e(title)}</a></p>\n<h1>{e(table.get('title', 'Validity'))}</h1>\n"
            + (f"<p>{e(table.get('description'))}</p>\n" if table.get("description") else "")
            + "<p class=\"note\">Each cell is the benchmark's ceiled score (brain data: the mean over held-out "
              "planes before clipping at 1). Green: as expected; red with &#x2717;: not as expected; n/a: the "
              "benchmark scores another region; no data: brain data cannot be entered as a model (see the "
              "notes); refused: the benchmark declined the map with a message (hover for it). "
              "<a href=\"validity.json\">validity.json</a></p>\n"
            + "<table class=\"sortable\" id=\"validity\">\n<thead><tr>" + "".join(heads)
            + "</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>\n"
            + "<h2>Per benchmark</h2>\n<ul>\n" + "\n".join(summary) + "\n</ul>\n"
            + ("<h2>Notes</h2>\n<ul>\n" + "\n".join(notes) + "\n</ul>\n" if notes else ""))
    return _page(f"Validity: {title}", body, 0)


# ----------------------------------------------------------------------------- build

def _benchmark_objects(board: Leaderboard) -> dict:
    from topobench.registry import benchmark_registry, load_benchmark
    objects = {}
    for info in board.benchmarks:
        try:
            objects[info.identifier] = load_benchmark(info.identifier) if info.identifier in benchmark_registry \
                else None
        except Exception:  # noqa: BLE001 - no figures from it then
            objects[info.identifier] = None
    return objects


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))


def build_site(board: Leaderboard, out, validity=None) -> Path:
    """Write the site for ``board`` into the folder ``out`` (replaced whole); returns it.

    ``validity``: the validity table (a dict or the path of its JSON); by default
    ``validity.json`` beside the leaderboard configuration when it exists. With
    one, the site has ``validity.html`` and a copy of the JSON.

    ``out`` must be missing, empty, or a site written before (it holds the file
    ``.topobench-site``): anything else is refused rather than deleted.
    """
    out = Path(out).resolve()
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).is_file())):
        raise SiteError(f"{out} exists and is not a leaderboard site; give an empty or new folder with --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        table = load_validity(validity)
        model_slugs = _slugs(entry.identifier for entry in board.entries + board.controls)
        benchmark_slugs = _slugs(info.identifier for info in board.benchmarks)
        objects = _benchmark_objects(board)
        figures = {}
        for entry in board.entries + board.controls:
            for info in board.benchmarks:
                folder = staging / "figures" / benchmark_slugs[info.identifier] / model_slugs[entry.identifier]
                found = _figures(objects.get(info.identifier), entry.cells[info.identifier], folder, staging)
                if found:
                    figures[(entry.identifier, info.identifier)] = found
        _write(staging / MARKER, "written by `topobench leaderboard build`; the folder is replaced whole\n")
        _write(staging / "style.css", STYLE)
        _write(staging / "sort.js", SORT_JS)
        _write(staging / "index.html", _index(board, model_slugs, benchmark_slugs, validity=table is not None))
        if table is not None:
            _write(staging / "validity.html", _validity_page(table, board.title, model_slugs))
            _write(staging / "validity.json", json.dumps(table, indent=1, sort_keys=True, allow_nan=False) + "\n")
        for entry in board.entries + board.controls:
            _write(staging / "models" / f"{model_slugs[entry.identifier]}.html",
                   _model_page(board, entry, benchmark_slugs, figures))
        for info in board.benchmarks:
            _write(staging / "benchmarks" / f"{benchmark_slugs[info.identifier]}.html",
                   _benchmark_page(board, info, model_slugs, figures))
        _write(staging / "scores.csv", scores_csv(board))
        _write(staging / "scores.json", scores_json(board))
        for path in sorted(staging.rglob("*")):
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        os.chmod(staging, 0o755)
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
            staging.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out
