"""Pictures of V1 maps from a score's details: the model's map beside the macaque's.

``write_v1_map_figure(details, path)`` draws, from the ``details`` of a
``Nauhaus2012.V1-orientation_smoothness`` (or ``-sf_smoothness``) score, the
model's gridded map (``model_map``) beside the decoded macaque panels
(``macaque_map``, one per imaging site), with the shuffle-normalised curves of
model and macaque below. The details of ``Kaschube2010.V1-pinwheel_density``
(``smoothed_map`` and ``pinwheels_mm``) and
``LivingstoneHubel1984.V1-color_clustering`` (``model_map`` of colour index)
draw too. Only matplotlib's Agg backend is used; nothing is shown on screen.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np


def _array(rows) -> np.ndarray:
    return np.array([[np.nan if value is None else value for value in row] for row in rows], dtype=np.float64)


def _map_entry(entry: dict):
    """(values, key, extent, origin) of a JSON map picture."""
    for key in ("orientation_deg", "log2_sf_cpd", "color_index", "values"):
        if key in entry:
            value_name = entry.get("value", key)
            origin = "upper" if str(entry.get("origin", "lower")).startswith("upper") else "lower"
            return _array(entry[key]), value_name, entry.get("extent_mm"), origin
    raise ValueError(f"no map values in {sorted(entry)}")


def _draw(axis, values, value_name, extent, origin, title):
    if value_name == "orientation_deg":
        image = axis.imshow(values, cmap="hsv", vmin=0, vmax=180, extent=extent, origin=origin,
                            interpolation="nearest")
        label = "preferred orientation (deg)"
    elif value_name == "log2_sf_cpd":
        image = axis.imshow(values, cmap="jet", vmin=-1, vmax=3, extent=extent, origin=origin,
                            interpolation="nearest")
        label = "log2 preferred SF (cyc/deg)"
    else:
        image = axis.imshow(values, cmap="coolwarm", vmin=-1, vmax=1, extent=extent, origin=origin,
                            interpolation="nearest")
        label = "colour preference index"
    axis.set_title(title, fontsize=9)
    axis.set_xlabel("mm")
    axis.set_aspect("equal")
    return image, label


def write_v1_map_figure(details: dict, path, title: str = "") -> Path:
    """Write a PNG of the maps (and curves) in a V1 benchmark's ``details``; return its path."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    panels = []
    if "smoothed_map" in details:
        smoothed = details["smoothed_map"]
        x, y = np.asarray(smoothed["x_mm"]), np.asarray(smoothed["y_mm"])
        extent = [x[0], x[-1], y[0], y[-1]] if len(x) and len(y) else None
        panels.append((_array(smoothed["orientation_deg"]), "orientation_deg", extent, "lower",
                       "model, smoothed, pinwheels"))
    elif "model_map" in details:
        values, name, extent, origin = _map_entry(details["model_map"])
        panels.append((values, name, extent, origin, "model"))
    for site, entry in sorted((details.get("macaque_map") or {}).items()):
        values, name, extent, origin = _map_entry(entry)
        panels.append((values, name, extent, origin, f"macaque site {site} (panel {entry.get('panel', '?')})"))
    curves = "model_curve" in details and "macaque_site_curves" in details
    columns = max(len(panels), 1)
    figure, axes = plt.subplots(2 if curves else 1, columns, figsize=(3.6 * columns, 7.2 if curves else 3.8),
                                squeeze=False)
    for axis, (values, name, extent, origin, panel_title) in zip(axes[0], panels):
        image, label = _draw(axis, values, name, extent, origin, panel_title)
        figure.colorbar(image, ax=axis, fraction=0.046, pad=0.04, label=label)
    if "pinwheels_mm" in details and details["pinwheels_mm"]:
        pinwheels = np.asarray(details["pinwheels_mm"], dtype=float)
        for sign, color in ((0.5, "k"), (-0.5, "w")):
            chosen = pinwheels[pinwheels[:, 2] == sign]
            axes[0][0].scatter(chosen[:, 0], chosen[:, 1], s=8, c=color, edgecolors="k", linewidths=0.3)
    if curves:
        curve_axis = axes[1][0]
        model = details["model_curve"]
        edges = np.asarray(model["bin_edges"], dtype=float)
        centres = 0.5 * (edges[1:] + edges[:-1])
        for key, style, label in (("ratio_other_channel", "k-o", "model, other channels (scored)"),
                                  ("ratio_all_pairs", "k:", "model, all pairs")):
            curve_axis.plot(centres, np.array([np.nan if v is None else v for v in model[key]], dtype=float),
                            style, label=label, markersize=3)
        for site, values in sorted(details["macaque_site_curves"].items()):
            curve_axis.plot(centres, values, "-", label=f"macaque site {site}")
        curve_axis.axhline(1.0, color="grey", linewidth=0.5)
        curve_axis.set_xlabel("distance (column widths)")
        curve_axis.set_ylabel("|difference| / shuffled")
        curve_axis.legend(fontsize=7)
        for axis in axes[1][1:]:
            axis.axis("off")
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


class V1MapFigures:
    """Mixin of the V1 map benchmarks: ``figures(details, folder)``, the hook through which the
    leaderboard site (``topobench.leaderboard.site``) draws a stored result's maps."""

    def figures(self, details: dict, folder) -> list:
        path = Path(folder) / "v1_maps.png"
        write_v1_map_figure(details, path, title=getattr(self, "identifier", ""))
        return [(path, "the model's map (left), the macaque maps where the benchmark compares with them, "
                       "and the shuffle-normalised difference curves")]
