"""Maps with known answers, and a stand-in V1 model built from any map.

Used to check the V1 map metrics and benchmarks (a map of known pinwheels,
band-limited random maps, salt-and-pepper and constant maps, the decoded
macaque maps entered as a model) and useful to anyone who wants to see what a
benchmark makes of a given layout.

- :func:`pinwheel_lattice`: z = cos(k x) + i cos(k y), k = 2 pi / spacing.
  Its zeros, the pinwheels, sit on a square lattice of side spacing / 2: exactly
  4 per squared column spacing, alternating in sign; its spectrum peaks at
  |k| = 1 / spacing.
- :func:`band_limited_map`: a sum of plane waves of one wavelength in random
  directions with random phases; its pinwheel density tends to pi per squared
  column spacing (Wolf & Geisel 1998; Kaschube et al. 2010).
- :class:`SyntheticV1Model`: units with given positions and preferences respond
  to the grating set with von Mises orientation tuning, log-Gaussian spatial
  frequency tuning and a colour preference; it has the model interface that
  benchmarks use (``identifier``, ``regions``, ``record``).
"""
from __future__ import annotations

import numpy as np


def random_positions(n_units: int, side_mm: float, seed: int = 0) -> np.ndarray:
    """(n, 2) uniform positions on a square sheet of side ``side_mm``."""
    return np.random.default_rng(seed).uniform(0.0, side_mm, size=(n_units, 2))


def orientation_from_field(z) -> np.ndarray:
    """Orientation (deg, [0, 180)) of a complex field: angle(z) / 2."""
    return np.mod(np.rad2deg(np.angle(z)) / 2.0, 180.0)


def pinwheel_lattice(positions, spacing_mm: float, offset_mm: float = 0.0) -> np.ndarray:
    """Orientation map with pinwheels at ((m + 1/2) s/2 + offset, (n + 1/2) s/2 + offset), s = spacing."""
    positions = np.asarray(positions, dtype=np.float64) - offset_mm
    k = 2 * np.pi / spacing_mm
    return orientation_from_field(np.cos(k * positions[:, 0]) + 1j * np.cos(k * positions[:, 1]))


def pinwheel_lattice_count(x_range, y_range, spacing_mm: float, offset_mm: float = 0.0) -> int:
    """Number of pinwheels of :func:`pinwheel_lattice` inside a rectangle."""
    step = spacing_mm / 2

    def along(low, high):
        first = np.ceil((low - offset_mm) / step - 0.5)
        last = np.floor((high - offset_mm) / step - 0.5)
        return max(0, int(last - first + 1))
    return along(*x_range) * along(*y_range)


def band_limited_field(positions, spacing_mm: float, n_waves: int = 40, seed: int = 0) -> np.ndarray:
    """Complex field: sum of ``n_waves`` plane waves of wavelength ``spacing_mm``, random directions and phases."""
    positions = np.asarray(positions, dtype=np.float64)
    rng = np.random.default_rng(seed)
    k = 2 * np.pi / spacing_mm
    directions = rng.uniform(0, 2 * np.pi, n_waves)
    phases = rng.uniform(0, 2 * np.pi, n_waves)
    wavevectors = k * np.stack([np.cos(directions), np.sin(directions)], axis=1)
    return np.exp(1j * (positions @ wavevectors.T + phases)).sum(axis=1)


def band_limited_map(positions, spacing_mm: float, n_waves: int = 40, seed: int = 0) -> np.ndarray:
    """Orientation map (deg) of :func:`band_limited_field`."""
    return orientation_from_field(band_limited_field(positions, spacing_mm, n_waves, seed))


def salt_and_pepper(n_units: int, seed: int = 0, low: float = 0.0, high: float = 180.0) -> np.ndarray:
    """Preferences drawn independently of position."""
    return np.random.default_rng(seed).uniform(low, high, n_units)


def smoothed_salt_and_pepper(positions, sigma_mm: float, seed: int = 0) -> np.ndarray:
    """Orientation map: white complex noise on a grid, Gaussian-smoothed (sigma ``sigma_mm``), read at units."""
    from scipy.ndimage import gaussian_filter, map_coordinates
    positions = np.asarray(positions, dtype=np.float64)
    cell = sigma_mm / 3
    low = positions.min(axis=0)
    shape = tuple((np.ptp(positions, axis=0)[::-1] / cell).astype(int) + 2)
    rng = np.random.default_rng(seed)
    noise = [gaussian_filter(rng.normal(size=shape), 3.0, mode="wrap") for _ in range(2)]
    coordinates = ((positions - low) / cell)[:, ::-1].T  # rows (y), cols (x)
    z = map_coordinates(noise[0], coordinates, order=1) + 1j * map_coordinates(noise[1], coordinates, order=1)
    return orientation_from_field(z)


class SyntheticV1Model:
    """A stand-in model whose V1 units have given positions and preferences.

    Responses to a grating (orientation o, spatial frequency f, colour set c):
    ``gain_c * exp(kappa (cos 2(o - theta) - 1)) * exp(-(log2 f - log2 f_pref)^2 / (2 sigma^2))``,
    phase-invariant, with gain 1 - colour_index for 'bw' and 1 + colour_index
    for 'red_cyan'; so each unit's closed-form preferred orientation is theta
    (up to the 8-orientation sampling), and its colour preference index is
    ``colour_index``. ``channel`` defaults to one channel per unit.
    """

    def __init__(self, positions_mm, orientation_deg, sf_cpd=None, color_index=None, channel=None,
                 identifier: str = "synthetic-v1", kappa: float = 2.0, sf_bandwidth_octaves: float = 0.7,
                 layer: str = "synthetic"):
        self.positions = np.asarray(positions_mm, dtype=np.float64)
        n = len(self.positions)
        self.orientation = np.asarray(orientation_deg, dtype=np.float64)
        self.sf = np.full(n, 1.0) if sf_cpd is None else np.asarray(sf_cpd, dtype=np.float64)
        self.color_index = np.zeros(n) if color_index is None else np.asarray(color_index, dtype=np.float64)
        self.channel = np.arange(n) if channel is None else np.asarray(channel)
        self.identifier = identifier
        self.kappa = float(kappa)
        self.sf_bandwidth = float(sf_bandwidth_octaves)
        self.regions = {"V1": layer}
        self.visual_degrees = 8.0
        self.positions_by_default = {"V1": False}

    def record(self, stimuli, region: str):
        from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly
        from topobench.errors import ModelError
        if region not in self.regions:
            raise ModelError(f"model {self.identifier} has no region {region}")
        orientation = np.deg2rad(stimuli["orientation_deg"].to_numpy(dtype=float))[:, None]
        log_sf = np.log2(stimuli["sf_cpd"].to_numpy(dtype=float))[:, None]
        colour = np.asarray(stimuli["color"].values).astype(str)[:, None]
        tuning_o = np.exp(self.kappa * (np.cos(2 * (orientation - np.deg2rad(self.orientation)[None])) - 1))
        tuning_f = np.exp(-(log_sf - np.log2(self.sf)[None]) ** 2 / (2 * self.sf_bandwidth ** 2))
        gain = np.where(colour == "red_cyan", 1 + self.color_index[None], 1 - self.color_index[None])
        values = (gain * tuning_o * tuning_f).astype(np.float32)
        n = len(self.positions)
        layer = self.regions[region]
        presentation = {name: ("presentation", stimuli[name].values) for name in stimuli.columns}
        neuroid = {"neuroid_id": ("neuroid", np.array([f"{layer}.{i}" for i in range(n)])),
                   "region": ("neuroid", np.repeat(region, n)), "layer": ("neuroid", np.repeat(layer, n)),
                   "channel": ("neuroid", self.channel), "row": ("neuroid", np.zeros(n, dtype=int)),
                   "col": ("neuroid", np.zeros(n, dtype=int)),
                   "tissue_x": ("neuroid", self.positions[:, 0]), "tissue_y": ("neuroid", self.positions[:, 1])}
        assembly = NeuroidAssembly(values, coords={**presentation, **neuroid}, dims=["presentation", "neuroid"])
        assembly.attrs["positions_by_default"] = False
        return assembly
