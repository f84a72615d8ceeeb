"""Macaque V1 maps of preferred orientation and spatial frequency, decoded from
Fig. 2 of Nauhaus, Nielsen, Disney & Callaway (2012).

Nauhaus, I., Nielsen, K. J., Disney, A. A. & Callaway, E. M. (2012). Orthogonal
micro-organization of orientation and spatial frequency in primate primary
visual cortex. Nat Neurosci 15:1683-1690. https://doi.org/10.1038/nn.3255

The file is ``nauhaus2012_v1/nauhaus2012_fig2.jpg`` from the data host (1050 x
1996 px, as shipped in neuroailab/TDANN ``notebooks/assets/F02``). Two-photon
maps of two imaging sites, each at two depths ("top plane", "bottom plane"):

======  ======  =====  ========================
panel   site    plane  map
======  ======  =====  ========================
a       1       top    preferred orientation
b       1       bottom preferred orientation
c       1       top    preferred spatial frequency
d       1       bottom preferred spatial frequency
e       2       top    preferred orientation
f       2       bottom preferred orientation
g       2       top    preferred spatial frequency
h       2       bottom preferred spatial frequency
======  ======  =====  ========================

Decoding (every number below is a constant of this module, measured on the
full-resolution figure; pixel boxes are ``(left, top, right, bottom)``,
right/bottom exclusive, in figure pixels):

- **Crop**: ``PANEL_BOXES``, each panel's bounding box inset by 2 px to drop the
  JPEG blend with the white page.
- **Mask**: black (a-d) or dark, noisy (e-h) pixels lie outside the imaged
  field. A pixel is kept when its brightness (max of R, G, B), Gaussian-smoothed
  with sigma ``MASK_SMOOTHING_PX``, exceeds ``MASK_BRIGHTNESS``, and the mask
  is eroded by ``MASK_EROSION_PX`` (blend at the border). The brightness
  histogram is bimodal (background below 80, map above 140 of 255).
- **Orientation** (a, b, e, f): through the legend of oriented bars right of
  row 1 (``ORIENTATION_LEGEND_BOX``). Each of its 7 bars is found as a saturated
  blob; its hue is the mean hue of its eroded core and its orientation the
  long axis of its pixel cloud (second moments). The measured axes are 90.0,
  59.2, 29.4, 0.0, 150.7, 120.3, 90.0 deg (red, yellow, green, cyan, blue,
  magenta, red): 30 deg steps, which are used (``LEGEND_ORIENTATIONS_DEG``; a
  test checks the measured axes agree within 3 deg). A map pixel's orientation
  is its hue interpolated linearly between the bars' hues, around the hue
  circle. Orientation is in degrees counterclockwise from horizontal, [0, 180),
  as the legend's bars are drawn (the convention of
  ``topobench.stimuli.gratings``). Pixels with saturation below
  ``MIN_SATURATION`` are masked (no hue).
- **Spatial frequency** (c, d, g, h): through the colour bar beside d
  (``SF_COLORBAR_BOX``), labelled 8 (top) and 0.5 cyc/deg (bottom), log scale,
  with tick marks at ``SF_COLORBAR_TICKS`` (rows 537, 637, 731, 831 for 8, 4, 2,
  1 cyc/deg: one octave per ~98 px). log2(SF) is fitted linear in the row
  through the ticks; each bar row's colour is the mean over the bar's central
  columns. A map pixel takes the value of the nearest bar colour (Euclidean,
  RGB); pixels farther than ``MAX_COLORBAR_DISTANCE`` from every bar colour are
  masked.
- **Scale**: the black bar under d (``SCALE_BAR_BOX``) is 0.5 mm. Its length,
  with partial coverage of its end columns, is 243.5 px, so
  ``MM_PER_PX`` = 0.5 / 243.5 = 2.05 um per pixel: a panel of a-d (372 px) is
  0.76 mm wide, of e-h (443 to 461 px) 0.91 to 0.95 mm. The figure has one
  scale bar; it is taken to hold for all panels.

Each panel covers about one hypercolumn (0.75 mm), too little to measure a
column spacing from: benchmarks use the cited 0.75 mm (DESIGN.md, "Smoothness").
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

DATASET = "nauhaus2012_v1"
FILENAME = "nauhaus2012_fig2.jpg"

#: Panel letter -> (left, top, right, bottom) crop in figure pixels (bounding box inset by 2 px).
PANEL_BOXES = {
    "a": (52, 53, 424, 416), "b": (567, 53, 939, 416),
    "c": (52, 549, 424, 913), "d": (569, 549, 937, 914),
    "e": (52, 1049, 499, 1505), "f": (586, 1049, 1047, 1505),
    "g": (52, 1537, 500, 1994), "h": (596, 1537, 1037, 1994),
}
#: Panel letter -> (map kind, imaging site, plane).
PANELS = {
    "a": ("orientation", 1, "top"), "b": ("orientation", 1, "bottom"),
    "c": ("sf", 1, "top"), "d": ("sf", 1, "bottom"),
    "e": ("orientation", 2, "top"), "f": ("orientation", 2, "bottom"),
    "g": ("sf", 2, "top"), "h": ("sf", 2, "bottom"),
}
#: The orientation legend (7 bars, red at top and bottom), right of row 1.
ORIENTATION_LEGEND_BOX = (945, 30, 1050, 470)
#: Orientation (deg, counterclockwise from horizontal) of the legend's bars, top to bottom.
LEGEND_ORIENTATIONS_DEG = (90.0, 60.0, 30.0, 0.0, 150.0, 120.0, 90.0)
#: The spatial-frequency colour bar beside d: outer box, and the central columns sampled.
SF_COLORBAR_BOX = (959, 536, 1000, 933)
SF_COLORBAR_SAMPLE_COLUMNS = (965, 991)
#: Tick rows of the colour bar (right edge) -> cyc/deg. Labels: 8 at the top, 2, 0.5 at the bottom.
SF_COLORBAR_TICKS = {537: 8.0, 637: 4.0, 731: 2.0, 831: 1.0}
SF_RANGE_CPD = (0.5, 8.0)
#: The 0.5 mm scale bar under d, and its measured length.
SCALE_BAR_BOX = (564, 954, 810, 963)
SCALE_BAR_MM = 0.5
SCALE_BAR_PX = 243.5
MM_PER_PX = SCALE_BAR_MM / SCALE_BAR_PX
#: Masking of the black background.
MASK_SMOOTHING_PX = 3.0
MASK_BRIGHTNESS = 110.0
MASK_EROSION_PX = 3
MIN_SATURATION = 0.2
MAX_COLORBAR_DISTANCE = 90.0


@dataclass(frozen=True)
class DecodedMap:
    """One decoded panel.

    ``values``: (rows, cols) float, preferred orientation (deg, [0, 180)) or
    preferred spatial frequency (cyc/deg), NaN outside ``mask``.
    ``mask``: (rows, cols) bool, True inside the imaged field.
    ``mm_per_px``: pixel size; ``box``: crop in figure pixels.
    """

    panel: str
    kind: str
    site: int
    plane: str
    values: np.ndarray
    mask: np.ndarray
    mm_per_px: float
    box: tuple

    @property
    def width_mm(self) -> float:
        return self.values.shape[1] * self.mm_per_px

    @property
    def height_mm(self) -> float:
        return self.values.shape[0] * self.mm_per_px

    def positions_mm(self) -> np.ndarray:
        """(N, 2) x, y (mm) of the pixels inside the mask: x along columns, y along rows."""
        rows, cols = np.nonzero(self.mask)
        return np.stack([(cols + 0.5) * self.mm_per_px, (rows + 0.5) * self.mm_per_px], axis=1)

    def masked_values(self) -> np.ndarray:
        """Values of the pixels inside the mask, in the order of :meth:`positions_mm`."""
        return self.values[self.mask]

    def provenance(self) -> dict:
        return {"figure": f"{DATASET}/{FILENAME}", "panel": self.panel, "kind": self.kind, "site": self.site,
                "plane": self.plane, "crop_box_px": list(self.box), "mm_per_px": self.mm_per_px,
                "scale": f"{SCALE_BAR_MM} mm bar = {SCALE_BAR_PX} px"}


@functools.lru_cache(maxsize=1)
def load_figure() -> np.ndarray:
    """The figure as a (1996, 1050, 3) float array of 0..255 RGB (fetched and sha256-checked)."""
    from PIL import Image

    from topobench.data_client import fetch
    with Image.open(fetch(DATASET, FILENAME)) as image:
        return np.asarray(image.convert("RGB"), dtype=np.float64)


def _crop(figure: np.ndarray, box) -> np.ndarray:
    left, top, right, bottom = box
    return figure[top:bottom, left:right]


def rgb_to_hsv(rgb: np.ndarray):
    """Hue (deg, [0, 360)), saturation and value ([0, 1]) of 0..255 RGB arrays (..., 3)."""
    rgb = np.asarray(rgb, dtype=np.float64) / 255.0
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    high, low = rgb.max(axis=-1), rgb.min(axis=-1)
    chroma = high - low
    safe = np.where(chroma > 0, chroma, 1.0)
    hue = np.where(high == r, ((g - b) / safe) % 6.0,
                   np.where(high == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0)) * 60.0
    hue = np.where(chroma > 0, hue % 360.0, 0.0)
    saturation = np.where(high > 0, chroma / np.where(high > 0, high, 1.0), 0.0)
    return hue, saturation, high


def orientation_legend(figure: np.ndarray | None = None) -> list[dict]:
    """The legend's bars, top to bottom: ``hue_deg``, ``measured_axis_deg``,
    ``orientation_deg`` (the 30 deg step it stands for), ``rgb``, ``centre_px``."""
    from scipy import ndimage
    figure = load_figure() if figure is None else figure
    left, top, _right, _bottom = ORIENTATION_LEGEND_BOX
    legend = _crop(figure, ORIENTATION_LEGEND_BOX)
    hue, saturation, value = rgb_to_hsv(legend)
    labels, count = ndimage.label((saturation > 0.4) & (value > 0.3))
    bars = []
    for label in range(1, count + 1):
        blob = labels == label
        if blob.sum() < 100:
            continue
        rows, cols = np.nonzero(blob)
        core = ndimage.binary_erosion(blob, iterations=2)
        core = core if core.any() else blob
        mean_rgb = legend[core].mean(axis=0)
        bar_hue = float(rgb_to_hsv(mean_rgb)[0])
        x, y = cols - cols.mean(), -(rows - rows.mean())  # y up, as the bars are drawn
        _eigenvalues, vectors = np.linalg.eigh(np.cov(np.stack([x, y])))
        axis = float(np.degrees(np.arctan2(vectors[1, 1], vectors[0, 1])) % 180.0)
        bars.append({"centre_px": (float(rows.mean() + top), float(cols.mean() + left)), "hue_deg": bar_hue,
                     "rgb": mean_rgb.round(1).tolist(), "measured_axis_deg": axis})
    bars.sort(key=lambda bar: bar["centre_px"][0])
    if len(bars) != len(LEGEND_ORIENTATIONS_DEG):
        raise ValueError(f"{FILENAME}: found {len(bars)} legend bars in {ORIENTATION_LEGEND_BOX}, "
                         f"expected {len(LEGEND_ORIENTATIONS_DEG)}")
    for bar, orientation in zip(bars, LEGEND_ORIENTATIONS_DEG):
        bar["orientation_deg"] = orientation
    return bars


def hue_to_orientation(hue_deg, bars: list[dict]) -> np.ndarray:
    """Orientation (deg, [0, 180)) of hues, interpolated linearly between the legend bars' hues.

    Going down the legend, hue increases (red, yellow, green, cyan, blue,
    magenta, red) while orientation decreases by 30 deg per bar, through 180
    deg in all; the interpolation runs around the hue circle.
    """
    hues = [bar["hue_deg"] for bar in bars[:-1]]          # the last bar repeats the first (red)
    # unwrap the anchors: hue increasing from the first bar's hue, orientation decreasing
    start = hues[0]
    anchor_hue = np.array([(h - start) % 360.0 for h in hues] + [360.0])
    anchor_orientation = LEGEND_ORIENTATIONS_DEG[0] - 180.0 * np.arange(len(anchor_hue)) / (len(anchor_hue) - 1)
    if np.any(np.diff(anchor_hue) <= 0):
        raise ValueError(f"legend hues are not in hue-circle order: {hues}")
    relative = (np.asarray(hue_deg, dtype=np.float64) - start) % 360.0
    return np.mod(np.interp(relative, anchor_hue, anchor_orientation), 180.0)


def sf_colorbar(figure: np.ndarray | None = None):
    """(rgb (n, 3), sf_cpd (n,)) of the colour bar's rows, top (8 cyc/deg) to bottom (0.5)."""
    figure = load_figure() if figure is None else figure
    left, top, right, bottom = SF_COLORBAR_BOX
    first, last = SF_COLORBAR_SAMPLE_COLUMNS
    rows = np.arange(top + 1, bottom - 1)
    colors = figure[rows, first:last].mean(axis=1)
    tick_rows = np.array(list(SF_COLORBAR_TICKS), dtype=float)
    tick_log2 = np.log2(list(SF_COLORBAR_TICKS.values()))
    slope, intercept = np.polyfit(tick_rows, tick_log2, 1)
    log2_sf = np.clip(intercept + slope * rows, *np.log2(SF_RANGE_CPD))
    return colors, 2.0 ** log2_sf


def panel_mask(crop: np.ndarray) -> np.ndarray:
    """Inside the imaged field: smoothed brightness above threshold, eroded."""
    from scipy import ndimage
    brightness = ndimage.gaussian_filter(crop.max(axis=-1), MASK_SMOOTHING_PX)
    mask = brightness > MASK_BRIGHTNESS
    return ndimage.binary_erosion(mask, iterations=MASK_EROSION_PX)


def decode_panel(panel: str, figure: np.ndarray | None = None) -> DecodedMap:
    """Decode one panel (a-h) of Fig. 2 into a value map with mask and scale."""
    from scipy.spatial import cKDTree
    if panel not in PANEL_BOXES:
        raise ValueError(f"Nauhaus 2012 Fig. 2 has panels {', '.join(PANEL_BOXES)}, not '{panel}'")
    figure = load_figure() if figure is None else figure
    kind, site, plane = PANELS[panel]
    crop = _crop(figure, PANEL_BOXES[panel])
    mask = panel_mask(crop)
    if kind == "orientation":
        hue, saturation, _value = rgb_to_hsv(crop)
        values = hue_to_orientation(hue, orientation_legend(figure))
        mask &= saturation >= MIN_SATURATION
    else:
        colors, sf = sf_colorbar(figure)
        distance, index = cKDTree(colors).query(crop.reshape(-1, 3))
        values = sf[index].reshape(crop.shape[:2])
        mask &= distance.reshape(crop.shape[:2]) <= MAX_COLORBAR_DISTANCE
    values = np.where(mask, values, np.nan)
    return DecodedMap(panel, kind, site, plane, values, mask, MM_PER_PX, PANEL_BOXES[panel])


@functools.lru_cache(maxsize=1)
def load_nauhaus2012() -> dict:
    """Panel letter -> :class:`DecodedMap`, all eight panels (decoded once per process)."""
    figure = load_figure()
    return {panel: decode_panel(panel, figure) for panel in PANEL_BOXES}


def site_panels(kind: str) -> dict:
    """Imaging site -> the letters of its two planes' panels of ``kind`` ('orientation' or 'sf')."""
    sites: dict = {}
    for panel, (panel_kind, site, _plane) in PANELS.items():
        if panel_kind == kind:
            sites.setdefault(site, []).append(panel)
    return sites
