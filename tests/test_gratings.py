import numpy as np
import pytest

from topobench.errors import StimulusError
from topobench.stimuli.gratings import (LUMINANCE_WEIGHTS, ORIENTATIONS_DEG, SPATIAL_FREQUENCIES_CPD,
                                        check_resolvable, grating_image, sine_gratings, srgb_to_linear)


def spectrum_peak(image_rgb, degrees):
    """Orientation of the bars (deg) and spatial frequency (cpd) of the spectral peak."""
    luminance = srgb_to_linear(image_rgb) @ LUMINANCE_WEIGHTS
    size = luminance.shape[0]
    power = np.abs(np.fft.fftshift(np.fft.fft2(luminance - luminance.mean()))) ** 2
    row, col = np.unravel_index(np.argmax(power), power.shape)
    fy, fx = -(row - size // 2) / degrees, (col - size // 2) / degrees  # cycles/degree, y up
    frequency = np.hypot(fx, fy)
    # the wave vector is perpendicular to the bars
    bars = (np.degrees(np.arctan2(fy, fx)) - 90) % 180
    return bars, frequency


@pytest.mark.parametrize("orientation", ORIENTATIONS_DEG)
@pytest.mark.parametrize("sf", [SPATIAL_FREQUENCIES_CPD[0], 1.0, SPATIAL_FREQUENCIES_CPD[-1]])
def test_orientation_and_frequency_recovered_from_spectrum(orientation, sf):
    degrees, size = 8.0, 256
    bars, frequency = spectrum_peak(grating_image(orientation, sf, 0.0, "bw", degrees, size), degrees)
    difference = abs((bars - orientation + 90) % 180 - 90)
    assert difference < 8.0  # one FFT bin at 0.5 cpd over 8 degrees is ~14 deg of angle
    assert abs(frequency - sf) <= 1.0 / degrees  # one frequency bin


def test_red_cyan_is_isoluminant_and_bw_is_not():
    colour = srgb_to_linear(grating_image(45.0, 1.0, 0.0, "red_cyan")) @ LUMINANCE_WEIGHTS
    luminance = srgb_to_linear(grating_image(45.0, 1.0, 0.0, "bw")) @ LUMINANCE_WEIGHTS
    assert np.ptp(colour) < 1e-9 and np.ptp(luminance) > 0.9
    red = grating_image(45.0, 1.0, 0.0, "red_cyan")[..., 0]
    assert np.ptp(red) > 0.5  # but the colour does vary


def test_set_has_640_deterministic_images():
    first, second = sine_gratings(), sine_gratings()
    assert len(first) == 640 and first.content_hash == second.content_hash
    assert set(first["color"]) == {"bw", "red_cyan"} and first["sf_cpd"].nunique() == 8
    assert first["orientation_deg"].nunique() == 8 and first["phase_deg"].nunique() == 5


def test_aliasing_is_refused_with_the_fix():
    check_resolvable(3.0, 64, 8.0, "model m")  # 4 cpd Nyquist: fine
    with pytest.raises(StimulusError, match="resolves at most 2.00 cycles/degree.*visual_degrees <="):
        check_resolvable(3.0, 32, 8.0, "model m")
