"""V1 controls: a bank of Gabor-like filters whose tunings follow known maps.

Every unit is a **phase-invariant filter applied to the stimulus image**, as a
complex cell: the modulus of a complex log-Gabor filter (Field 1987; a Gabor
with no response to the mean luminance) centred on the unit's receptive field.
A unit has

- a **receptive field** at its grid location (row, col) of a ResNet-18
  ``layer2.0``-shaped layer: 128 channels on a 28 x 28 grid at 224 px (100,352
  units), or on an 8 x 8 grid at 64 px (8,192 units); the grid spans the
  8-degree visual field, as the layer's output stride of 8 px does;
- a **cortical position**: TDANN's default retinotopic placement of that layer
  on the 36.75 mm V1 sheet (``topobench.positions.retinotopic_positions``,
  seed 0; ``topobench.positions.SHEET_SIDE_MM['layer2.0']``): the unit density
  of a 224 px (74 units per mm^2, 910 per squared 3.5 mm column) or 64 px
  (6.1 per mm^2, 74 per squared column) ResNet-18, every unit of the layer
  (no subsampling);
- a **preferred orientation, spatial frequency and colour**, read from maps of
  cortical position.

The maps of the positive control (``bandlimited``) are band-limited random
fields of one wavelength, 3.5 mm (TDANN's hypercolumn on this sheet): the
orientation map is ``angle(z) / 2`` of a sum of 40 plane waves
(``topobench.metrics.synthetic_maps.band_limited_field``; its pinwheel density
tends to pi per squared spacing, Wolf & Geisel 1998; :func:`true_pinwheel_density`
counts this one's: 363 on the sheet, 3.29 per squared spacing), then warped
monotonically towards the cardinal orientations (``theta - (beta / 4)
sin(4 theta)``, ``beta`` 0.3: 61 % of measured preferences within 22.5 deg of
0 or 90 deg, the direction De Valois et al. 1982 report; a warp of the circle
moves no pinwheel); log2
preferred spatial frequency is 0.3 + 0.6 x a band-limited field (s.d. 1),
clipped to 0.5 to 3 cyc/deg; the colour index is 0.8 tanh of another.

A unit's response to an image is ``|c_L + g c_RC|`` where ``c_L`` and ``c_RC``
are its complex filter outputs on the luminance (Rec. 709, linear light) and
the red-cyan opponent channel (R - (G + B) / 2, scaled so that the isoluminant
red/cyan gratings have the same amplitude there as the black/white gratings in
luminance), with ``g = (1 + c) / (1 - c)``: its colour preference index
(red/cyan - b/w) / (red/cyan + b/w) on the grating set is then ``c``. The
filters' radial profile is a Gaussian in log frequency (s.d. 0.55 octave), their
angular profile a Gaussian of s.d. 20 deg (orientation tuning width as in
macaque V1). For speed the unit's filter is interpolated from a bank of 16
orientations x 8 frequencies (0.5 to 3 cyc/deg, those of the grating set): it
is the bilinear interpolation, in orientation and log frequency, of the four
bank filters around its preferences (a linear filter, so its complex output is
the same interpolation of theirs); the response is the modulus of that output.
Measured on the grating set (64 px control): preferred orientation within
0.1 deg of the map's (median; 90 % within 1.7 deg), the colour index within
0.002, log2 preferred SF correlating 0.98 with the map's (the grating set has
8 frequencies), median circular variance 0.23.

The image is placed on the model's 8-degree field at its ``image_size`` (the
Brain-Score convention of every model here), converted to linear light, its
mean removed, zero-padded to twice its size and Fourier-transformed once; the
filter outputs are read at the grid locations (the spectrum is cropped to the
frequencies the bank uses, at most the input's Nyquist limit, and folded onto
the grid, which is exact sampling).

Twins: ``shuffled`` has the same units (filters, receptive fields,
preferences) at permuted cortical positions (seed 1); ``salt-and-pepper`` has
preferences drawn independently of position with the same marginals (no
cardinal warp); ``constant`` has every unit at 45 deg, 1.0776 cyc/deg (the
grating set's frequency nearest 1), colour index 0.
"""
from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field

import numpy as np
import torch

from topobench.errors import ModelError
from topobench.metrics.synthetic_maps import band_limited_field
from topobench.model_interface import TopoModel
from topobench.positions import SHEET_SIDE_MM, LayerPositions, retinotopic_positions

FAMILY = "controls"
REGION = "V1"
LAYER = "gabor_bank"
GEOMETRY_LAYER = "layer2.0"            # the ResNet-18 block whose shape and sheet the controls take
SHEET_MM = SHEET_SIDE_MM[GEOMETRY_LAYER]   # 36.75 mm
SPACING_MM = 3.5                       # TDANN's hypercolumn on the 36.75 mm sheet
N_CHANNELS = 128
OUTPUT_STRIDE_PX = 8                   # layer2.0 of a ResNet-18
VISUAL_DEGREES = 8.0
N_WAVES = 40
CARDINAL_BETA = 0.3
LOG2_SF_MEAN, LOG2_SF_SD = 0.3, 0.6
SF_RANGE_CPD = (0.5, 3.0)
COLOR_SCALE = 0.8
#: the constant map's preferences: one of the grating set's orientations and frequencies each (1.0776 cyc/deg,
#: the one nearest 1), so that no unit's preference is a near tie between two sampled frequencies, which the
#: stimulus field's border tips (at 1.0 cyc/deg, units whose receptive field crosses the top and left borders
#: measured 0.83 cyc/deg)
CONSTANT = {"orientation_deg": 45.0, "sf_cpd": float(np.round(np.geomspace(0.5, 3.0, 8), 4)[3]), "color_index": 0.0}
BANK_ORIENTATIONS = 16
BANK_SF_CPD = tuple(np.geomspace(0.5, 3.0, 8))
SIGMA_OCTAVES = 0.55
SIGMA_ANGLE_DEG = 20.0
BANK_CUTOFF = 1e-2                     # filter bins below this fraction of the peak are dropped
MAX_FILTER_CPD = 5.0                   # the spectrum is kept up to here (or the input's Nyquist limit)
LUMINANCE = np.array([0.2126, 0.7152, 0.0722])
RED_CYAN_K = 0.2126 / 0.7874
KINDS = ("bandlimited", "shuffled", "salt-and-pepper", "constant")
SEEDS = {"positions": 0, "orientation": 1, "sf": 2, "color": 3, "shuffle": 1, "salt": 4}


def identifier_for(kind: str, image_size: int = 224) -> str:
    """``control-v1-bandlimited-224px``, ``...-shuffled``, ``control-v1-salt-and-pepper``, ``control-v1-constant``."""
    if kind == "bandlimited":
        return f"control-v1-bandlimited-{image_size}px"
    if kind == "shuffled":
        return f"control-v1-bandlimited-{image_size}px-shuffled"
    suffix = "" if image_size == 224 else f"-{image_size}px"
    return f"control-v1-{kind}{suffix}"


def cardinal_warp(orientation_deg, beta: float = CARDINAL_BETA) -> np.ndarray:
    """theta - (beta / 4) sin(4 theta) (radians; monotonic for beta < 1): more preferences near 0 and 90 deg."""
    theta = np.deg2rad(np.asarray(orientation_deg, dtype=np.float64))
    return np.mod(np.rad2deg(theta - beta / 4.0 * np.sin(4.0 * theta)), 180.0)


def _unit_field(positions, seed: int) -> np.ndarray:
    field_ = np.real(band_limited_field(positions, SPACING_MM, N_WAVES, seed=seed))
    return field_ / field_.std()


@functools.lru_cache(maxsize=4)
def true_pinwheel_density(seed: int = SEEDS["orientation"], cell_mm: float = 0.05) -> dict:
    """Pinwheels of the orientation map's field counted on a fine grid over the sheet (winding numbers of
    the complex field around each grid plaquette), per squared spacing: the map's own answer."""
    axis = np.arange(0.0, SHEET_MM + cell_mm / 2, cell_mm)
    count = 0
    previous = None
    for start in range(0, len(axis), 128):  # rows in blocks: the field at every grid point costs memory
        rows = axis[max(0, start - 1):start + 128] if previous is None else axis[start:start + 128]
        x, y = np.meshgrid(axis, rows)
        phase = np.angle(band_limited_field(np.stack([x.ravel(), y.ravel()], 1), SPACING_MM, N_WAVES, seed))
        phase = phase.reshape(x.shape)
        if previous is not None:
            phase = np.vstack([previous[None], phase])
        previous = phase[-1]

        def wrap(a):
            return (a + np.pi) % (2 * np.pi) - np.pi
        winding = (wrap(phase[:-1, 1:] - phase[:-1, :-1]) + wrap(phase[1:, 1:] - phase[:-1, 1:])
                   + wrap(phase[1:, :-1] - phase[1:, 1:]) + wrap(phase[:-1, :-1] - phase[1:, :-1]))
        count += int((np.abs(winding) > np.pi).sum())
    area = (axis[-1] - axis[0]) ** 2
    return {"n_pinwheels": count, "area_mm2": float(area),
            "density_per_spacing2": float(count * SPACING_MM ** 2 / area)}  # seed 1: 363, 3.29


@dataclass
class UnitMaps:
    """Per-unit receptive field, cortical position and preferences of a control layer."""

    dims: tuple
    positions: np.ndarray       # (n, 2) mm
    orientation_deg: np.ndarray
    sf_cpd: np.ndarray
    color_index: np.ndarray
    provenance: dict = field(default_factory=dict)

    @property
    def n_units(self) -> int:
        return int(np.prod(self.dims))


def control_maps(kind: str, image_size: int = 224) -> UnitMaps:
    """The units of control ``kind`` at the unit density of a ResNet-18 ``layer2.0`` at ``image_size`` px."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not '{kind}'")
    grid = image_size // OUTPUT_STRIDE_PX
    dims = (N_CHANNELS, grid, grid)
    placed = retinotopic_positions(GEOMETRY_LAYER, dims, SHEET_MM, seed=SEEDS["positions"])
    positions = placed.coordinates
    n = len(positions)
    provenance = {"placement": "control", "kind": kind, "geometry": f"ResNet-18 {GEOMETRY_LAYER} at {image_size} px",
                  "positions": f"TDANN default retinotopic placement (seed {SEEDS['positions']}) on the "
                               f"{SHEET_MM} mm sheet", "dims": list(dims)}
    if kind in ("bandlimited", "shuffled"):
        orientation = cardinal_warp(np.mod(np.rad2deg(np.angle(
            band_limited_field(positions, SPACING_MM, N_WAVES, seed=SEEDS["orientation"]))) / 2.0, 180.0))
        log2_sf = LOG2_SF_MEAN + LOG2_SF_SD * _unit_field(positions, SEEDS["sf"])
        color = COLOR_SCALE * np.tanh(_unit_field(positions, SEEDS["color"]))
        provenance.update({"spacing_mm": SPACING_MM, "n_waves": N_WAVES, "cardinal_beta": CARDINAL_BETA,
                           "seeds": {k: SEEDS[k] for k in ("orientation", "sf", "color")}})
        if kind == "shuffled":
            permutation = np.random.default_rng(SEEDS["shuffle"]).permutation(n)
            positions = positions[permutation]
            provenance.update({"shuffle_seed": SEEDS["shuffle"],
                               "note": "the units of the band-limited control; unit i sits where unit "
                                       "permutation[i] sits there"})
    elif kind == "salt-and-pepper":
        rng = np.random.default_rng(SEEDS["salt"])
        orientation = rng.uniform(0.0, 180.0, n)
        log2_sf = LOG2_SF_MEAN + LOG2_SF_SD * rng.normal(size=n)
        color = COLOR_SCALE * np.tanh(rng.normal(size=n))
        provenance["seed"] = SEEDS["salt"]
    else:
        orientation = np.full(n, CONSTANT["orientation_deg"])
        log2_sf = np.full(n, np.log2(CONSTANT["sf_cpd"]))
        color = np.full(n, CONSTANT["color_index"])
        provenance.update(CONSTANT)
    sf = 2.0 ** np.clip(log2_sf, *np.log2(SF_RANGE_CPD))
    return UnitMaps(dims, positions, orientation, sf, color, provenance)


def shuffle_permutation(n_units: int) -> np.ndarray:
    """Unit i of the shuffled twin sits at the position of unit ``permutation[i]`` of the control."""
    return np.random.default_rng(SEEDS["shuffle"]).permutation(n_units)


# ----------------------------------------------------------------------------- the filters

def _log_gabor_bank(freq_x, freq_y, shift_deg) -> torch.Tensor:
    """(K*S, M, M) complex spectra of the bank (orientation-major), with the sampling shift folded in."""
    radius = np.hypot(freq_x, freq_y)
    direction = np.arctan2(freq_y, freq_x)
    with np.errstate(divide="ignore"):
        log_radius = np.log2(radius)
    filters = []
    sigma_angle = np.deg2rad(SIGMA_ANGLE_DEG)
    for k in range(BANK_ORIENTATIONS):
        theta = np.deg2rad(k * 180.0 / BANK_ORIENTATIONS)
        # a grating with bars at theta (counter-clockwise from horizontal, y up) varies along
        # (-sin theta, cos theta); in image axes (x = column, y = row downwards): (sin theta, cos theta) up to sign
        centre = np.arctan2(np.cos(theta), np.sin(theta))
        delta = np.angle(np.exp(1j * (direction - centre)))
        angular = np.exp(-delta ** 2 / (2 * sigma_angle ** 2))
        for sf in BANK_SF_CPD:
            radial = np.where(radius > 0, np.exp(-(log_radius - np.log2(sf)) ** 2 / (2 * SIGMA_OCTAVES ** 2)), 0.0)
            filters.append(radial * angular)
    bank = np.stack(filters) * np.exp(2j * np.pi * (freq_x * shift_deg[0] + freq_y * shift_deg[1]))[None]
    return torch.from_numpy(bank.astype(np.complex64))


_LAST_RECORDING: dict = {}


class GaborV1Control(TopoModel):
    """A V1 control: filter units with given receptive fields, positions and preferences (module docstring)."""

    family = FAMILY

    def __init__(self, identifier: str, maps: UnitMaps, image_size: int = 224,
                 visual_degrees: float = VISUAL_DEGREES, batch_size: int = 16, description: str = ""):
        self.identifier = identifier
        self.maps = maps
        self.image_size = int(image_size)
        self.visual_degrees = float(visual_degrees)
        self.batch_size = int(batch_size)
        self.description = description
        self.regions = {REGION: LAYER}
        self.positions_by_default = {REGION: False}
        self.truth: dict = {}
        channels, height, width = maps.dims
        if height != width or self.image_size % height:
            raise ModelError(f"control {identifier}: a {height} x {width} grid does not tile {image_size} px")
        self._weights_sha256 = None

    # -- identity -------------------------------------------------------------------
    def _digest(self, with_positions: bool) -> str:
        digest = hashlib.sha256(json.dumps({
            "bank": [BANK_ORIENTATIONS, list(BANK_SF_CPD), SIGMA_OCTAVES, SIGMA_ANGLE_DEG, MAX_FILTER_CPD,
                     BANK_CUTOFF], "image_size": self.image_size, "visual_degrees": self.visual_degrees,
            "dims": list(self.maps.dims)}, sort_keys=True).encode())
        arrays = (self.maps.orientation_deg, self.maps.sf_cpd, self.maps.color_index)
        for array in arrays + ((self.maps.positions,) if with_positions else ()):
            digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
        return digest.hexdigest()

    @property
    def weights_sha256(self) -> str:
        """sha256 of everything that makes this model: filters, preferences and positions."""
        if self._weights_sha256 is None:
            self._weights_sha256 = self._digest(with_positions=True)
        return self._weights_sha256

    @property
    def units_sha256(self) -> str:
        """sha256 of the units without their positions: a shuffled twin's equals its control's."""
        return self._digest(with_positions=False)

    def layer_positions(self, region: str) -> LayerPositions:
        self.layer(region)
        return LayerPositions(LAYER, self.maps.dims, self.maps.positions, SHEET_MM,
                              dict(self.maps.provenance, family=FAMILY))

    @property
    def preprocessing(self) -> str:
        return (f"place-on-field(visual_degrees={self.visual_degrees:g},image_size={self.image_size},"
                f"background=grey128)|srgb-to-linear|luminance,red-cyan")

    # -- recording ------------------------------------------------------------------
    def _channels(self, stimuli) -> np.ndarray:
        """(n, 2, size, size) float32: luminance and red-cyan opponent channels in linear light."""
        from topobench.preprocessing import place_on_field
        from topobench.stimuli.gratings import srgb_to_linear
        images = np.stack([place_on_field(stimuli.get_stimulus(sid), degrees, self.visual_degrees, self.image_size)
                           for sid, degrees in zip(stimuli["stimulus_id"], stimuli["degrees"])])
        linear = srgb_to_linear(images.astype(np.float64) / 255.0)
        luminance = linear @ LUMINANCE
        red_cyan = (linear[..., 0] - (linear[..., 1] + linear[..., 2]) / 2.0) / (1.0 + RED_CYAN_K)
        return np.stack([luminance, red_cyan], axis=1).astype(np.float32)

    def _geometry(self):
        """Spectrum crop, fold factor, grid offset and the bank (cached)."""
        if getattr(self, "_bank", None) is not None:
            return self._bank
        size = self.image_size
        grid = self.maps.dims[1]
        padded = 2 * size
        degrees_per_px = self.visual_degrees / size
        field_deg = padded * degrees_per_px
        step_deg = self.visual_degrees / grid              # grid spacing
        samples = 2 * grid                                 # grid points over the padded field
        nyquist_fold = padded // samples                   # the most the full spectrum can be folded
        fold = min(nyquist_fold, int(np.ceil(2 * MAX_FILTER_CPD * field_deg / samples)))
        fold = max(fold, 1)
        kept = samples * fold                              # spectrum bins kept per axis (even)
        frequencies = np.fft.fftfreq(kept, d=field_deg / kept)   # cyc/deg, standard order
        freq_x, freq_y = np.meshgrid(frequencies, frequencies)   # axis 1 = columns (x), axis 0 = rows (y)
        # grid cell i is centred at (i + 0.5) step from the image's edge; the image starts at size / 2 px of the
        # padded frame, and sample p of the FFT sits at p px (pixel centres at p + 0.5): the outputs are read at
        # m * step (m = grid / 2 + i) shifted by this much
        shift = 0.5 * step_deg - 0.5 * degrees_per_px
        bank = _log_gabor_bank(freq_x, freq_y, (shift, shift))
        # the filters are narrow-band: keep the bins where a filter is above BANK_CUTOFF of its peak, and
        # fold each bin onto the grid's samples (bin k goes to k mod samples), filter by filter
        magnitude = bank.abs()
        keep = magnitude > BANK_CUTOFF * magnitude.amax(dim=(1, 2), keepdim=True)
        filter_index, row_bin, col_bin = torch.nonzero(keep, as_tuple=True)
        self._bank = {"padded": padded, "kept": kept, "fold": fold, "samples": samples, "grid": grid,
                      "n_filters": int(bank.shape[0]), "scale": 1.0 / fold ** 2,
                      "source": row_bin * kept + col_bin, "values": bank[keep],
                      "target": filter_index * samples ** 2 + (row_bin % samples) * samples + col_bin % samples}
        return self._bank

    def _unit_indices(self):
        """Per unit: bank indices and weights of the 4 interpolation corners, grid index, colour gain."""
        if getattr(self, "_units", None) is not None:
            return self._units
        maps = self.maps
        channels, height, width = maps.dims
        index = np.arange(maps.n_units)
        _channel, row, col = np.unravel_index(index, maps.dims)
        grid_index = row * width + col
        t = np.mod(maps.orientation_deg, 180.0) / (180.0 / BANK_ORIENTATIONS)
        k0 = np.floor(t).astype(np.int64) % BANK_ORIENTATIONS
        k1 = (k0 + 1) % BANK_ORIENTATIONS
        wk = t - np.floor(t)
        log_bank = np.log2(BANK_SF_CPD)
        u = np.clip(np.interp(np.log2(maps.sf_cpd), log_bank, np.arange(len(log_bank))), 0, len(log_bank) - 1)
        s0 = np.minimum(np.floor(u).astype(np.int64), len(log_bank) - 2)
        s1 = s0 + 1
        ws = u - s0
        n_sf = len(BANK_SF_CPD)
        corners = [(k0 * n_sf + s0, (1 - wk) * (1 - ws)), (k1 * n_sf + s0, wk * (1 - ws)),
                   (k0 * n_sf + s1, (1 - wk) * ws), (k1 * n_sf + s1, wk * ws)]
        gain = (1.0 + maps.color_index) / (1.0 - maps.color_index)
        cells = height * width
        self._units = {"flat": [torch.from_numpy(bank * cells + grid_index) for bank, _ in corners],
                       "weights": [torch.from_numpy(weight.astype(np.float32)) for _, weight in corners],
                       "gain": torch.from_numpy(gain.astype(np.float32))}
        return self._units

    def responses(self, stimuli, progress: bool = True) -> np.ndarray:
        """(n_stimuli, n_units) float32 responses."""
        from tqdm import tqdm
        geometry = self._geometry()
        units = self._unit_indices()
        size, padded, kept = self.image_size, geometry["padded"], geometry["kept"]
        grid, samples, fold = geometry["grid"], geometry["samples"], geometry["fold"]
        n_bank = geometry["n_filters"]
        start_px = (padded - size) // 2
        first = grid // 2                                   # index of grid cell 0 among the samples
        out = np.empty((len(stimuli), self.maps.n_units), dtype=np.float32)
        starts = range(0, len(stimuli), self.batch_size)
        with torch.no_grad():
            for start in tqdm(starts, desc=f"{self.identifier} {LAYER}", disable=None if progress else True,
                              leave=False):
                chunk = stimuli.iloc[start:start + self.batch_size]
                chunk.stimulus_paths = stimuli.stimulus_paths
                images = torch.from_numpy(self._channels(chunk))
                images = images - images.mean(dim=(2, 3), keepdim=True)
                frame = torch.zeros(images.shape[0], 2, padded, padded)
                frame[:, :, start_px:start_px + size, start_px:start_px + size] = images
                spectrum = torch.fft.fft2(frame)
                half = kept // 2                                # the lowest frequencies, standard order
                spectrum = torch.cat([spectrum[..., :half, :], spectrum[..., padded - half:, :]], dim=-2)
                spectrum = torch.cat([spectrum[..., :half], spectrum[..., padded - half:]], dim=-1)
                spectrum = spectrum * (kept / padded) ** 2     # as if transformed at ``kept`` samples
                b = images.shape[0]
                flat = spectrum.reshape(b * 2, kept * kept)
                folded = torch.zeros(b * 2, n_bank * samples * samples, dtype=flat.dtype)
                folded.index_add_(1, geometry["target"], flat[:, geometry["source"]] * geometry["values"])
                sampled = torch.fft.ifft2(folded.reshape(b, 2, n_bank, samples, samples)) * geometry["scale"]
                sampled = sampled[..., first:first + grid, first:first + grid].reshape(b, 2, -1)  # bank x cells
                # (b, bank x cells, channel, re/im): one gather per corner brings both channels
                sampled = torch.view_as_real(sampled.permute(0, 2, 1).contiguous())
                combined = None
                for where, weight in zip(units["flat"], units["weights"]):
                    corner = sampled.index_select(1, where)                            # (b, units, 2, 2)
                    corner = (corner[:, :, 0] + units["gain"][None, :, None] * corner[:, :, 1]) * weight[None, :, None]
                    combined = corner if combined is None else combined + corner
                response = torch.linalg.vector_norm(combined, dim=-1)   # |the unit's own filter's output|
                out[start:start + len(chunk)] = response.numpy()
        return out

    def record(self, stimuli, region: str):
        from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly
        from topobench.stimuli.gratings import check_resolvable
        layer = self.layer(region)
        if "sf_cpd" in stimuli.columns:
            check_resolvable(float(stimuli["sf_cpd"].max()), self.image_size, self.visual_degrees,
                             f"model {self.identifier}")
        content = getattr(stimuli, "content_hash", None)
        key = (self.units_sha256, content)
        values = _LAST_RECORDING.get(key) if content is not None else None
        if values is None:
            values = self.responses(stimuli)
            if content is not None:
                # the last recording only (a 224 px one of the gratings is 257 MB), kept for every model with
                # the same units: a shuffled twin answers as its control does
                _LAST_RECORDING.clear()
                _LAST_RECORDING[key] = values
        n = self.maps.n_units
        channel, row, col = np.unravel_index(np.arange(n), self.maps.dims)
        presentation = {name: ("presentation", stimuli[name].values) for name in stimuli.columns}
        neuroid = {"neuroid_id": ("neuroid", np.array([f"{layer}.{i}" for i in range(n)])),
                   "region": ("neuroid", np.repeat(region, n)), "layer": ("neuroid", np.repeat(layer, n)),
                   "channel": ("neuroid", channel), "row": ("neuroid", row), "col": ("neuroid", col),
                   "tissue_x": ("neuroid", self.maps.positions[:, 0]),
                   "tissue_y": ("neuroid", self.maps.positions[:, 1])}
        assembly = NeuroidAssembly(values, coords={**presentation, **neuroid}, dims=["presentation", "neuroid"])
        assembly.attrs["stimulus_set_identifier"] = getattr(stimuli, "identifier", "")
        assembly.attrs["positions_by_default"] = False
        return assembly


DESCRIPTIONS = {
    "bandlimited": "positive control: Gabor-filter units whose orientation, SF and colour preferences follow "
                   "band-limited maps (spacing 3.5 mm, pinwheel density about pi) on the 36.75 mm V1 sheet",
    "shuffled": "the band-limited control's units at permuted positions",
    "salt-and-pepper": "Gabor-filter units with preferences drawn independently of position",
    "constant": "Gabor-filter units that all prefer 45 deg, 1.08 cyc/deg, colour index 0",
}


def build(kind: str, image_size: int = 224) -> GaborV1Control:
    model = GaborV1Control(identifier_for(kind, image_size), control_maps(kind, image_size), image_size=image_size,
                           description=DESCRIPTIONS[kind] + f" (unit density of ResNet-18 layer2.0 at {image_size} px)")
    if kind == "bandlimited":
        model.truth = {"spacing_mm": SPACING_MM, "pinwheel_density": "about pi (band-limited random map); "
                       "true_pinwheel_density() counts them", "cardinal_beta": CARDINAL_BETA}
    return model
