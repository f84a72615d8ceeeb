"""Full-field sine gratings, TDANN's set (Margalit et al. 2024) in physical units.

8 orientations x 8 spatial frequencies x 5 phases x 2 colour sets = 640 images.
Spatial frequency is in cycles per degree (cpd) of visual angle: an image spans
``degrees`` (default 8, TDANN's field) and is rendered at ``size_px``. The
frequencies (0.5 to 3 cpd, log-spaced) lie below the Nyquist limit of a 64 px
input over 8 degrees (4 cpd); a model whose input resolves less is refused (see
``check_resolvable``).

Colour sets: 'bw' (black/white, luminance gratings, Michelson contrast 1) and
'red_cyan', isoluminant: the modulation is along the red-cyan direction of
linear RGB whose Rec. 709 luminance (0.2126 R + 0.7152 G + 0.0722 B) is zero, so
luminance is constant across the grating and a unit's colour preference is not
luminance contrast. Images are rendered in linear light around mid-grey and
encoded to sRGB.

``orientation_deg``: orientation of the bars, counterclockwise from horizontal
(0 = horizontal bars, 90 = vertical bars); ``phase_deg``: spatial phase.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from PIL import Image

from topobench.errors import StimulusError
from topobench.stimuli.base import TopoStimulusSet, make_stimulus_set

ORIENTATIONS_DEG = tuple(np.arange(8) * 22.5)
SPATIAL_FREQUENCIES_CPD = tuple(np.round(np.geomspace(0.5, 3.0, 8), 4))
PHASES_DEG = tuple(np.arange(5) * 72.0)
COLORS = ("bw", "red_cyan")
LUMINANCE_WEIGHTS = np.array([0.2126, 0.7152, 0.0722])  # Rec. 709, linear RGB
# Red-cyan direction with zero luminance: (+1, -k, -k), k = 0.2126 / (0.7152 + 0.0722).
RED_CYAN_DIRECTION = np.array([1.0, -0.2126 / 0.7874, -0.2126 / 0.7874])


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * np.power(linear, 1 / 2.4) - 0.055)


def srgb_to_linear(encoded: np.ndarray) -> np.ndarray:
    return np.where(encoded <= 0.04045, encoded / 12.92, np.power((encoded + 0.055) / 1.055, 2.4))


def grating_image(orientation_deg: float, sf_cpd: float, phase_deg: float, color: str,
                  degrees: float = 8.0, size_px: int = 224) -> np.ndarray:
    """One grating as an (size_px, size_px, 3) float array of sRGB values in [0, 1]."""
    coordinates = (np.arange(size_px) + 0.5) / size_px * degrees - degrees / 2  # degrees from centre
    x, y = np.meshgrid(coordinates, -coordinates)  # y up
    theta = np.deg2rad(orientation_deg)
    # bars at orientation theta vary along the direction perpendicular to them
    along = -x * np.sin(theta) + y * np.cos(theta)
    wave = np.sin(2 * np.pi * sf_cpd * along + np.deg2rad(phase_deg))
    mean = 0.5  # linear mid-grey
    if color == "bw":
        linear = mean * (1 + wave)[..., None] * np.ones(3)
    elif color == "red_cyan":
        # largest amplitude that keeps every channel in [0, 1]
        amplitude = mean / np.abs(RED_CYAN_DIRECTION).max()
        linear = mean + amplitude * wave[..., None] * RED_CYAN_DIRECTION
    else:
        raise StimulusError(f"unknown grating colour '{color}'; use one of {COLORS}")
    return linear_to_srgb(linear)


def check_resolvable(max_sf_cpd: float, image_size_px: int, visual_degrees: float, what: str) -> None:
    """Refuse gratings at or above the Nyquist limit of a model's input (aliasing)."""
    nyquist = image_size_px / (2.0 * visual_degrees)
    if max_sf_cpd >= nyquist:
        raise StimulusError(
            f"{what}: its input of {image_size_px} px over {visual_degrees} degrees resolves at most "
            f"{nyquist:.2f} cycles/degree, but the gratings go up to {max_sf_cpd} cycles/degree and would "
            f"alias; declare a smaller visual field (visual_degrees <= {image_size_px / (2 * max_sf_cpd * 1.0001):.2f}) "
            f"or a larger input")


def sine_gratings(degrees: float = 8.0, size_px: int = 224) -> TopoStimulusSet:
    """The 640-image grating set, rendered once into the cache as PNG files."""
    from topobench.data_client import topobench_home

    rows = []
    for color in COLORS:
        for orientation in ORIENTATIONS_DEG:
            for sf in SPATIAL_FREQUENCIES_CPD:
                for phase in PHASES_DEG:
                    rows.append({"stimulus_id": f"grating-{color}-o{orientation:05.1f}-sf{sf:.4f}-p{phase:03.0f}",
                                 "orientation_deg": float(orientation), "sf_cpd": float(sf),
                                 "phase_deg": float(phase), "color": color, "degrees": float(degrees)})
    table = pd.DataFrame(rows)
    identifier = f"topobench.sine_gratings-{degrees:g}deg-{size_px}px"
    folder = topobench_home() / "stimuli" / identifier
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for row in rows:
        path = folder / f"{row['stimulus_id']}.png"
        if not path.is_file():
            image = grating_image(row["orientation_deg"], row["sf_cpd"], row["phase_deg"], row["color"],
                                  degrees, size_px)
            temporary = path.with_suffix(".tmp.png")
            Image.fromarray(np.round(image * 255).astype(np.uint8)).save(temporary)
            temporary.replace(path)
        paths[row["stimulus_id"]] = path
    return make_stimulus_set(table, paths, identifier)
