"""Frequency features and damping against analytic signals with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from musclepose.signals.damping import _oscillator, _oscillator_jac, estimate_damping, zeta_from_log_decrement
from musclepose.signals.spectrum import band_powers, dominant_frequency, harmonics, spectral_entropy


def damped(zeta: float, f_d: float, fps: float = 100.0, seconds: float = 12.0, phase: float = 0.3, offset=0.5):
    """Free response of a damped oscillator with damped frequency ``f_d`` (Hz) and ratio ``zeta``."""
    t = np.arange(0, seconds, 1 / fps)
    wn = 2 * np.pi * f_d / np.sqrt(1 - zeta**2)
    return np.exp(-zeta * wn * t) * np.cos(2 * np.pi * f_d * t + phase) + offset


@pytest.mark.parametrize(("zeta", "f"), [(0.02, 2.0), (0.05, 1.0), (0.1, 0.5), (0.2, 1.3)])
def test_damping_ratio_and_frequency_of_a_damped_sinusoid(zeta, f):
    x = damped(zeta, f)
    est = estimate_damping(x, 100.0)
    assert est.method == "curve_fit"
    assert est.ratio == pytest.approx(zeta, rel=0.10)
    assert est.damped_frequency_hz == pytest.approx(f, rel=0.02)
    assert dominant_frequency(x, 100.0) == pytest.approx(f, rel=0.02)


@pytest.mark.parametrize(("zeta", "f"), [(0.03, 1.0), (0.08, 0.7)])
def test_log_decrement_alone_with_noise(zeta, f):
    rng = np.random.default_rng(1)
    x = damped(zeta, f) + 0.01 * rng.standard_normal(1200)
    est = estimate_damping(x, 100.0, min_r2=1.1)  # refuse the fit: decrement only
    assert est.method == "log_decrement"
    assert est.ratio == pytest.approx(zeta, rel=0.10)
    assert zeta_from_log_decrement(2 * np.pi * 0.1 / np.sqrt(1 - 0.1**2)) == pytest.approx(0.1)


def test_sustained_oscillation_has_zero_damping_and_upstream_proxy_did_not():
    t = np.arange(0, 10, 0.01)
    x = np.sin(2 * np.pi * 0.5 * t)
    assert abs(estimate_damping(x, 100.0).ratio) < 0.005
    v, a = np.gradient(x, 0.01), np.gradient(np.gradient(x, 0.01), 0.01)
    assert min(1.0, np.std(a) / np.std(v)) == 1.0  # the upstream proxy saturates at any speed


def test_constant_or_short_signal_has_no_estimate():
    assert estimate_damping(np.ones(100), 100.0).method == "none"
    assert np.isnan(estimate_damping(np.arange(5.0), 100.0).ratio)


@pytest.mark.parametrize(("f", "band"), [(0.5, "0-1"), (2.0, "1-3"), (5.0, "3-8"), (12.0, "8-nyquist")])
def test_band_powers_of_pure_tones(f, band):
    t = np.arange(0, 10, 1 / 50)
    p = band_powers(np.sin(2 * np.pi * f * t + 0.4), 50.0)
    assert set(p) == {"0-1", "1-3", "3-8", "8-nyquist"}
    assert sum(p.values()) == pytest.approx(1.0)
    assert p[band] > 0.99


def test_dominant_frequency_is_refined_below_the_bin_width():
    fps, seconds = 30.0, 8.0  # bin width 0.125 Hz
    t = np.arange(0, seconds, 1 / fps)
    for f in (0.43, 0.91, 1.37, 2.6):
        assert dominant_frequency(np.sin(2 * np.pi * f * t) + 0.1 * t, fps) == pytest.approx(f, rel=0.02)


def test_spectral_entropy_orders_tone_and_noise():
    t = np.arange(0, 20, 0.01)
    tone = spectral_entropy(np.sin(2 * np.pi * t), 100.0)
    noise = spectral_entropy(np.random.default_rng(0).standard_normal(t.size), 100.0)
    assert 0 <= tone < 0.2 and noise > 0.9


def test_harmonics_of_a_square_wave():
    t = np.arange(0, 20, 0.005)
    h = harmonics(np.sign(np.sin(2 * np.pi * 1.0 * t)), 200.0)
    rel = h["relative_amplitudes"]
    assert h["fundamental"] == pytest.approx(1.0, rel=0.01)
    # Fourier series of a square wave: odd harmonics at 1/k, no even ones.
    assert rel[2] == pytest.approx(1 / 3, rel=0.03) and rel[4] == pytest.approx(1 / 5, rel=0.05)
    assert rel[1] < 0.02 and rel[3] < 0.02
    assert h["thd"] == pytest.approx(np.sqrt(1 / 9 + 1 / 25), rel=0.05)


def test_peak_interpolation_stays_between_the_neighbouring_bins():
    """Three log-magnitudes on an almost straight rising line (the band edge cut a slope): the
    parabola's vertex would lie millions of bins away; it is clamped to the half-bin."""
    import warnings

    from musclepose.signals.spectrum import _interpolated_peak

    f = np.array([1.0, 1.1, 1.2])
    mag = np.exp(np.array([0.0, 5.0000005, 10.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        freq, peak = _interpolated_peak(f, mag, 1)
    assert freq == pytest.approx(1.15) and np.isfinite(peak)


@pytest.mark.parametrize("p", [[1.3, 0.12, 0.8, 0.4, 0.2], [0.5, -0.2, 1.5, 2.0, -1.0], [2.0, 0.9, 0.3, 5.0, 0.0]])
def test_oscillator_jacobian_equals_central_differences(p):
    t = np.linspace(0, 5, 300)
    jac = _oscillator_jac(t, *p)
    for k in range(5):
        h = 1e-6 * max(1.0, abs(p[k]))
        hi, lo = list(p), list(p)
        hi[k] += h
        lo[k] -= h
        fd = (_oscillator(t, *hi) - _oscillator(t, *lo)) / (2 * h)
        np.testing.assert_allclose(jac[:, k], fd, rtol=1e-6, atol=1e-6 * max(1.0, np.abs(fd).max()))


@pytest.mark.parametrize("phase_off", [0.0, np.pi])
def test_fit_recovers_an_oscillator_with_a_positive_amplitude(phase_off):
    """The compiled Levenberg-Marquardt fit, started half a turn off in phase (where it may
    return a negative amplitude), gives the true parameters with amplitude > 0, inside the bounds;
    and equals the bounded trust-region fit."""
    from scipy.optimize import curve_fit

    from musclepose.signals.damping import _fit

    t = np.arange(600) / 100.0
    true = np.array([1.3, 0.08, 0.9, 0.4, 0.2])
    x = _oscillator(t, *true) + 0.01 * np.random.default_rng(0).standard_normal(t.size)
    bounds = ([0, -0.5, 0.18, -np.inf, -np.inf], [np.inf, 0.99, 4.5, np.inf, np.inf])
    p0 = [1.0, 0.05, 0.85, 0.4 + phase_off, 0.0]
    p = _fit(t, x, p0, bounds)
    assert p[0] > 0
    assert p[:3] == pytest.approx(true[:3], rel=0.03)
    assert np.cos(p[3] - true[3]) > 0.999
    ref = curve_fit(_oscillator, t, x, p0=p0, bounds=bounds, jac=_oscillator_jac)[0]
    assert np.allclose(_oscillator(t, *p), _oscillator(t, *ref), atol=1e-6)
