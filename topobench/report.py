"""``topobench report MODEL``: one HTML page on why a model scored as it did.

The page (``index.html``, with its PNGs beside it, matplotlib's Agg backend)
shows:

1. **Scores**: every benchmark's latest stored row for the model (from the
   results store): ceiled score, raw, ceiling, error, version, when; a failed
   run with its message; registered benchmarks with no stored result are listed
   as "not scored". The measured details of each run follow, folded.
2. **Orientation map**: the model's V1 preferred-orientation map on its cortical
   sheet beside the macaque map (Nauhaus et al. 2012, Fig. 2a, decoded by
   ``topobench.reference_data.nauhaus2012``), in the same colours. The model's
   map comes from a benchmark's stored details when one stored a gridded map,
   else from recording the model on the grating set
   (``topobench.metrics.v1_maps.measure_v1_maps``).
3. **VTC selectivity map**: d' of every VTC unit for each fLoc domain (faces,
   bodies, characters, places, objects) at its cortical position, and each
   unit's preferred domain where its d' exceeds ``SELECTIVE_DPRIME``
   (recorded on the fLoc images without scrambled, as the VTC benchmarks do).
4. **V4 predictivity**: the distribution of held-out Pearson r over the
   neurons, from a V4 benchmark's stored details (``per_neuron`` lists).

Recording uses the activation cache, so after ``topobench score`` the maps need
no new forward pass. A part whose inputs are missing (the model is not
registered on this machine, a reference module or metric is not installed, no
V4 result is stored) is replaced by a note saying what would produce it; the
page is always written. Every ``<img>`` on the page is a PNG written beside it.
"""
from __future__ import annotations

import datetime as dt
import html
import json
import math
from pathlib import Path

import numpy as np

#: d' above which a VTC unit counts as selective for its preferred domain (map colouring only).
SELECTIVE_DPRIME = 1.0
#: keys under which a benchmark may store per-neuron Pearson r (first found wins).
PER_NEURON_R_KEYS = ("per_neuron_r", "r_per_neuron", "neuron_r", "r_neurons", "per_neuron", "r")
MAX_DETAIL_ITEMS = 12


# ----------------------------------------------------------------------------- store
def latest_rows(store, model_identifier: str) -> list[dict]:
    """Newest row per benchmark for the model (``store.rows`` is oldest first), sorted by benchmark."""
    newest = {row["benchmark_identifier"]: row for row in store.rows(model=model_identifier)}
    return [newest[key] for key in sorted(newest)]


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "&ndash;"
    return f"{value:.4f}"


def _shorten(value, depth: int = 0):
    """Details for display: long lists cut to their first items with a count."""
    if isinstance(value, dict):
        return {k: _shorten(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        if len(value) > MAX_DETAIL_ITEMS:
            return [_shorten(v, depth + 1) for v in value[:MAX_DETAIL_ITEMS]] + [f"... ({len(value)} items)"]
        return [_shorten(v, depth + 1) for v in value]
    return value


def _walk(value, path=()):
    """Yield (path, value) of every dict entry in nested details."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield path + (str(key),), item
            yield from _walk(item, path + (str(key),))
    elif isinstance(value, list):
        for index, item in enumerate(value[:50]):
            if isinstance(item, (dict, list)):
                yield from _walk(item, path + (str(index),))


def stored_orientation_map(rows: list[dict]):
    """(benchmark, gridded map dict) from stored details holding ``orientation_deg`` rows and
    ``extent_mm`` (``topobench.metrics.v1_maps.gridded_orientation_map``), or None."""
    for row in rows:
        for _path, value in _walk(row.get("details") or {}):
            if isinstance(value, dict) and "orientation_deg" in value and "extent_mm" in value and \
                    isinstance(value["orientation_deg"], list) and value["orientation_deg"] and \
                    isinstance(value["orientation_deg"][0], list):
                return row["benchmark_identifier"], value
    return None


def _numbers(value) -> np.ndarray | None:
    if isinstance(value, list) and len(value) >= 3 and all(v is None or isinstance(v, (int, float)) for v in value):
        return np.array([np.nan if v is None else v for v in value], dtype=float)
    return None


def stored_v4_predictivity(rows: list[dict]) -> list:
    """[(benchmark, path, r values, ceiling values or None)] of per-neuron Pearson r lists in the stored
    details of V4 benchmarks (keys ``PER_NEURON_R_KEYS``; a sibling ``ceiling_per_neuron`` is kept)."""
    found = []
    for row in rows:
        if row.get("status") != "ok" or ".V4" not in row["benchmark_identifier"]:
            continue
        details = row.get("details") or {}
        for path, value in [((), details), *_walk(details)]:
            if not isinstance(value, dict):
                continue
            key = next((k for k in PER_NEURON_R_KEYS if _numbers(value.get(k)) is not None), None)
            if key is not None:
                found.append((row["benchmark_identifier"], ".".join(path + (key,)), _numbers(value[key]),
                              _numbers(value.get("ceiling_per_neuron"))))
                break
    return found


# ----------------------------------------------------------------------------- figures
def _figure(*args, **kwargs):
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    kwargs.setdefault("layout", "constrained")
    return plt, plt.figure(*args, **kwargs)


def _save(plt, figure, path: Path) -> Path:
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path


def orientation_figure(out: Path, model_map, macaque=None) -> Path:
    """``model_map``: ('grid', gridded dict) or ('units', positions (n, 2), orientation (n,));
    ``macaque``: a ``DecodedMap`` of a Nauhaus 2012 orientation panel or None."""
    plt, figure = _figure(figsize=(10.5 if macaque is not None else 5.5, 4.8))
    columns = 2 if macaque is not None else 1
    axis = figure.add_subplot(1, columns, 1)
    if model_map[0] == "grid":
        grid = np.array([[np.nan if v is None else v for v in row] for row in model_map[1]["orientation_deg"]],
                        dtype=float)
        image = axis.imshow(grid, cmap="hsv", vmin=0, vmax=180, origin="lower",
                            extent=model_map[1]["extent_mm"], interpolation="nearest")
    else:
        _, positions, orientation = model_map
        image = axis.scatter(positions[:, 0], positions[:, 1], c=orientation, cmap="hsv", vmin=0, vmax=180,
                             s=max(0.5, min(8.0, 4000.0 / max(len(orientation), 1))), linewidths=0)
        axis.set_aspect("equal")
    axis.set_title("model V1: preferred orientation")
    axis.set_xlabel("tissue x (mm)")
    axis.set_ylabel("tissue y (mm)")
    if macaque is not None:
        right = figure.add_subplot(1, 2, 2)
        right.imshow(macaque.values, cmap="hsv", vmin=0, vmax=180, origin="upper",
                     extent=[0, macaque.width_mm, macaque.height_mm, 0], interpolation="nearest")
        right.set_title(f"macaque V1 (Nauhaus et al. 2012, Fig. 2{macaque.panel})")
        right.set_xlabel("mm")
        right.set_ylabel("mm")
    bar = figure.colorbar(image, ax=figure.axes, shrink=0.8)
    bar.set_label("preferred orientation (deg)")
    return _save(plt, figure, out)


def selectivity_figure(out: Path, positions: np.ndarray, selectivity: dict,
                       threshold: float = SELECTIVE_DPRIME) -> Path:
    domains = list(selectivity)
    plt, figure = _figure(figsize=(2.6 * (len(domains) + 1), 3.6))
    size = max(0.5, min(10.0, 6000.0 / max(len(positions), 1)))
    from topobench.metrics.patches import TDANN_SIGMA_MM, smooth_on_grid
    # smoothed on the sheet as the patch detector sees it (TDANN: sigma 2.4 mm), on a grid
    smoothed_maps = {domain: smooth_on_grid(selectivity[domain], positions) for domain in domains}
    finite = np.concatenate([m.values[np.isfinite(m.values)] for m in smoothed_maps.values()] + [np.zeros(1)])
    limit = max(0.1, float(np.percentile(np.abs(finite), 99)))
    for index, domain in enumerate(domains):
        smoothed = smoothed_maps[domain]
        half = np.asarray(smoothed.bin_mm, dtype=float) / 2.0
        axis = figure.add_subplot(1, len(domains) + 1, index + 1)
        image = axis.imshow(smoothed.values, origin="lower", cmap="RdBu_r", vmin=-limit, vmax=limit,
                            extent=[smoothed.x_mm[0] - half[0], smoothed.x_mm[-1] + half[0],
                                    smoothed.y_mm[0] - half[1], smoothed.y_mm[-1] + half[1]])
        axis.set_title(f"{domain} (d', smoothed {TDANN_SIGMA_MM:g} mm)", fontsize=8)
        axis.set_aspect("equal")
        axis.set_xticks([])
        axis.set_yticks([])
    figure.colorbar(image, ax=figure.axes[:len(domains)], location="bottom", shrink=0.5,
                    aspect=40).set_label("d' (this domain against the other four), smoothed on the sheet")
    stacked = np.stack([selectivity[d] for d in domains], axis=1)
    preferred = np.argmax(stacked, axis=1)
    selective = stacked.max(axis=1) > threshold
    axis = figure.add_subplot(1, len(domains) + 1, len(domains) + 1)
    colours = plt.get_cmap("tab10")(np.arange(len(domains)))
    axis.scatter(positions[~selective, 0], positions[~selective, 1], c="0.85", s=size, linewidths=0)
    for index, domain in enumerate(domains):
        chosen = selective & (preferred == index)
        axis.scatter(positions[chosen, 0], positions[chosen, 1], color=colours[index], s=size, linewidths=0,
                     label=f"{domain} ({int(chosen.sum())})")
    axis.set_title(f"preferred domain, d' > {threshold:g}")
    axis.set_aspect("equal")
    axis.set_xticks([])
    axis.set_yticks([])
    axis.legend(fontsize=6, loc="upper right", markerscale=3, framealpha=0.8)
    return _save(plt, figure, out)


def predictivity_figure(out: Path, found: list) -> Path:
    plt, figure = _figure(figsize=(6.0, 3.8))
    axis = figure.add_subplot(1, 1, 1)
    bins = np.linspace(-0.2, 1.0, 31)
    for benchmark, _path, r, ceiling in found:
        finite = r[np.isfinite(r)]
        patches = axis.hist(np.clip(finite, bins[0], bins[-1]), bins=bins, alpha=0.55,
                            label=f"{benchmark}: model r (median {np.median(finite):.3f}, n={finite.size})")[2]
        if ceiling is not None and np.isfinite(ceiling).any():
            axis.hist(np.clip(ceiling[np.isfinite(ceiling)], bins[0], bins[-1]), bins=bins, histtype="step",
                      color=patches[0].get_facecolor()[:3], linewidth=1.5, label=f"{benchmark}: ceiling")
    axis.set_xlabel("held-out Pearson r per neuron")
    axis.set_ylabel("neurons")
    axis.legend(fontsize=7)
    return _save(plt, figure, out)


# ----------------------------------------------------------------------------- maps from a model
def model_orientation_map(model):
    """('units', positions, orientation) of the model's responsive V1 units."""
    from topobench.metrics.v1_maps import measure_v1_maps
    maps = measure_v1_maps(model, "report")
    return "units", maps.positions_mm, maps.orientation_deg


def macaque_orientation_map():
    from topobench.reference_data.nauhaus2012 import decode_panel
    return decode_panel("a")


def model_vtc_selectivity(model):
    """(positions (n, 2), {domain: d' (n,)}) of the model's VTC on fLoc (no scrambled)."""
    from topobench.metrics.selectivity import domain_selectivity
    from topobench.stimuli.floc import floc_stimuli
    stimuli = floc_stimuli(include_scrambled=False)
    assembly = model.record(stimuli, "VTC")
    positions = np.stack([assembly["tissue_x"].values, assembly["tissue_y"].values], axis=1)
    return positions, domain_selectivity(np.asarray(assembly.values), np.asarray(assembly["category"].values))


# ----------------------------------------------------------------------------- page
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1150px; color: #222; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.6em; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.failed td { color: #a40000; }
tr.missing td { color: #888; }
.note { color: #555; background: #f6f6f6; padding: 0.5em 0.8em; border-left: 3px solid #bbb; }
img { max-width: 100%; }
pre { font-size: 0.8em; background: #f8f8f8; padding: 0.6em; overflow-x: auto; }
"""
#: Marks on <body> how many images the browser loaded (read by the headless-browser test).
LOAD_CHECK = """
window.addEventListener('load', function () {
  var images = Array.prototype.slice.call(document.images);
  var loaded = images.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.body.setAttribute('data-images', String(images.length));
  document.body.setAttribute('data-images-loaded', String(loaded));
});
"""


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def _scores_table(rows: list[dict], registered: list[str]) -> str:
    lines = ["<table><tr><th>benchmark</th><th>version</th><th>score</th><th>raw</th><th>ceiling</th>"
             "<th>error</th><th>status</th><th>finished (UTC)</th></tr>"]
    for row in rows:
        failed = row.get("status") != "ok"
        when = row.get("finished_at")
        when = when.strftime("%Y-%m-%d %H:%M") if hasattr(when, "strftime") else (when or "")
        message = (row.get("message") or "").strip()
        status = "ok" if not failed else ("FAILED: " + message.splitlines()[0] if message else "FAILED")
        lines.append(
            f'<tr class="{"failed" if failed else "ok"}"><td>{html.escape(row["benchmark_identifier"])}</td>'
            f'<td>{html.escape(str(row.get("benchmark_version", "")))}</td>'
            f'<td class="num">{_fmt(row.get("score"))}</td><td class="num">{_fmt(row.get("raw"))}</td>'
            f'<td class="num">{_fmt(row.get("ceiling"))}</td><td class="num">{_fmt(row.get("error"))}</td>'
            f'<td>{html.escape(status)}</td><td>{html.escape(str(when))}</td></tr>')
    scored = {row["benchmark_identifier"] for row in rows}
    for name in registered:
        if name not in scored:
            lines.append(f'<tr class="missing"><td>{html.escape(name)}</td><td></td><td class="num">&ndash;</td>'
                         f'<td class="num">&ndash;</td><td class="num">&ndash;</td><td class="num">&ndash;</td>'
                         f'<td>not scored</td><td></td></tr>')
    lines.append("</table>")
    return "\n".join(lines)


def _details(rows: list[dict]) -> str:
    parts = []
    for row in rows:
        details = row.get("details")
        if not details:
            continue
        text = json.dumps(_shorten(details), indent=1, sort_keys=True, default=str)
        parts.append(f"<details><summary>{html.escape(row['benchmark_identifier'])}</summary>"
                     f"<pre>{html.escape(text)}</pre></details>")
    return "\n".join(parts) if parts else _note("no details stored")


def _reason(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


def write_report(model_identifier: str, out=None, model=None, store=None, maps: bool = True) -> Path:
    """Write ``out/index.html`` (default ``TOPOBENCH_HOME/reports/<model>``) and its PNGs; return the page.

    ``model``: the ``TopoModel`` to record for the maps (default: the registered
    model of that identifier, when there is one); ``maps=False`` uses only what
    is stored.
    """
    from topobench import __version__
    from topobench.data_client import topobench_home
    from topobench.errors import TopobenchError
    from topobench.naming import check_model_name
    from topobench.redact import redact_url
    from topobench.registry import load_model, names
    from topobench.results import ResultsStore

    check_model_name(model_identifier)  # before any file is touched: it may name the folder
    store = store or ResultsStore()
    rows = latest_rows(store, model_identifier)
    if not rows and model is None and model_identifier not in names("model"):
        raise TopobenchError(f"no stored results for model '{model_identifier}' and no such registered model; "
                             f"score it first (`topobench score {model_identifier} --all`) or check the name "
                             f"(`topobench results show`)")
    try:
        registered = names("benchmark")
    except Exception:  # noqa: BLE001 - a broken plugin must not stop the report
        registered = []
    out = Path(out) if out else topobench_home() / "reports" / model_identifier
    out.mkdir(parents=True, exist_ok=True)
    _remove_previous_report(out)

    if maps and model is None:
        try:
            model = load_model(model_identifier)
        except TopobenchError as error:
            model_problem = f"the model is not available here ({error}); maps need it: give --checkpoint"
        else:
            model_problem = None
    else:
        model_problem = None if model is not None else "maps were not asked for (--no-maps)"

    sections = []
    # -- orientation map
    body = []
    stored = stored_orientation_map(rows)
    model_map, map_note = None, None
    if stored is not None:
        model_map = ("grid", stored[1])
        map_note = f"model map from the stored details of {stored[0]}"
    elif model is not None:
        try:
            model_map = model_orientation_map(model)
            map_note = f"model map recorded from {getattr(model, 'layer', lambda r: '?')('V1')} on the grating set"
        except Exception as error:  # noqa: BLE001 - shown on the page
            body.append(_note(f"no model orientation map: {_reason(error)}"))
    else:
        body.append(_note(f"no model orientation map: {model_problem}"))
    macaque = None
    try:
        macaque = macaque_orientation_map()
    except ImportError:
        body.append(_note("no macaque map: topobench.reference_data.nauhaus2012 is not installed"))
    except Exception as error:  # noqa: BLE001
        body.append(_note(f"no macaque map: {_reason(error)}"))
    if model_map is not None:
        try:
            orientation_figure(out / "orientation_map.png", model_map, macaque)
            body.insert(0, '<img src="orientation_map.png" alt="model and macaque V1 orientation maps">')
            body.append(_note(map_note))
        except Exception as error:  # noqa: BLE001
            body.append(_note(f"orientation map could not be drawn: {_reason(error)}"))
    sections.append(("V1 orientation map", "\n".join(body)))

    # -- VTC selectivity
    body = []
    if model is None:
        body.append(_note(f"no VTC selectivity map: {model_problem}"))
    else:
        try:
            positions, selectivity = model_vtc_selectivity(model)
            selectivity_figure(out / "vtc_selectivity.png", positions, selectivity)
            body.append('<img src="vtc_selectivity.png" alt="VTC selectivity maps">')
            counts = {d: int((v > SELECTIVE_DPRIME).sum()) for d, v in selectivity.items()}
            body.append(_note(f"fLoc (no scrambled) on {model.layer('VTC')}; units with d' > "
                              f"{SELECTIVE_DPRIME:g}: " + ", ".join(f"{d} {n}" for d, n in counts.items())))
        except Exception as error:  # noqa: BLE001
            body.append(_note(f"no VTC selectivity map: {_reason(error)}"))
    sections.append(("VTC category selectivity", "\n".join(body)))

    # -- V4 predictivity
    body = []
    found = stored_v4_predictivity(rows)
    if found:
        predictivity_figure(out / "v4_predictivity.png", found)
        body.append('<img src="v4_predictivity.png" alt="V4 predictivity distribution">')
        body.append(_note("from the stored details: " + "; ".join(f"{b} ({p})" for b, p, *_ in found)))
    else:
        body.append(_note("no per-neuron V4 predictivity stored for this model: score it on a V4 benchmark "
                          "(`topobench list benchmarks`)"))
    sections.append(("V4 neural predictivity", "\n".join(body)))

    weights = next((row.get("model_weights_sha256") for row in rows if row.get("model_weights_sha256")), None)
    if weights is None and model is not None:
        try:
            weights = model.weights_sha256
        except Exception:  # noqa: BLE001
            weights = None
    generated = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>topobench report: {html.escape(model_identifier)}</title>",
        f"<style>{STYLE}</style><script>{LOAD_CHECK}</script></head><body>",
        f"<h1>{html.escape(model_identifier)}</h1>",
        f"<p>topobench {html.escape(__version__)} &middot; generated {generated} &middot; results store "
        f"{html.escape(redact_url(getattr(store, 'url', '')))}"
        + (f" &middot; weights sha256 <code>{html.escape(weights[:16])}&hellip;</code>" if weights else "") + "</p>",
        "<h2>Scores</h2>", _scores_table(rows, registered),
        "<p>score: ceiled, in [0, 1]; raw: unceiled; ceiling: the brain data's own reliability; error: "
        "uncertainty of the score. Failed runs count 0 in aggregates.</p>",
    ]
    for title, content in sections:
        page += [f"<h2>{html.escape(title)}</h2>", content]
    page += ["<h2>Details</h2>", _details(rows), "</body></html>"]
    index = out / "index.html"
    index.write_text("\n".join(page))
    _write_manifest(out, [INDEX_FILE, *(path.name for path in page_images(index) if path.parent == out)])
    return index


#: Lists the files a report wrote into its folder: the next report removes those, and only those.
MANIFEST_FILE = ".topobench-report.json"
INDEX_FILE = "index.html"


def _write_manifest(out: Path, files: list) -> None:
    (out / MANIFEST_FILE).write_text(json.dumps({"written_by": "topobench report", "files": sorted(set(files))},
                                                indent=1))


def _remove_previous_report(out: Path) -> None:
    """Delete the images a previous report listed in ``out``'s manifest (plain files directly in ``out``
    only); a user's own files there are never touched, and nothing is deleted without a manifest."""
    manifest = out / MANIFEST_FILE
    try:
        listed = json.loads(manifest.read_text()).get("files", []) if manifest.is_file() else []
    except (OSError, ValueError, AttributeError):
        listed = []
    for name in listed if isinstance(listed, list) else []:
        if not isinstance(name, str) or name != Path(name).name or name in ("", ".", "..") or \
                not name.endswith(".png"):
            continue  # the index is overwritten; anything else is not a report's image
        path = out / name
        if path.is_file() and not path.is_symlink():
            path.unlink()


def page_images(index: Path) -> list[Path]:
    """The files that the page's ``<img src>`` attributes name (relative to the page)."""
    import re
    text = Path(index).read_text()
    return [Path(index).parent / html.unescape(src) for src in re.findall(r'<img[^>]*\ssrc="([^"]+)"', text)]
