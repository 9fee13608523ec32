"""Frequency content of a movement signal: dominant frequency, band powers, entropy, harmonics.

The upstream wave features (IMPLEMENTATION_NOTES, "Wave features as produced upstream")
took the ``rfft`` bin of largest magnitude as the dominant frequency, the power fractions in
the bands 0-1, 1-3, 3-8 and 8 Hz-Nyquist, and the spectral entropy. The band split is kept;
the estimates are made more careful:

- the linear trend is removed and a Hann window applied before transforming (leakage from a
  trend or from the record's ends otherwise lands in the lowest band);
- the dominant frequency is refined between bins: the spectrum is zero-padded to at least 8x
  the record and the peak located by a parabola through the log magnitudes of the three
  highest bins (Gaussian interpolation; Gasior & Gonzalez 2004, CERN-AB-2004-023), which
  brings the error well below the raw bin width ``fps / T``;
- band powers are fractions of the total power excluding the DC bin, so they sum to 1;
- spectral entropy is Shannon's entropy of the normalised power spectrum divided by the log
  of the number of bins (0 = a pure tone, 1 = white noise; Inouye et al. 1991,
  *Electroencephalogr Clin Neurophysiol* 79:204).

Harmonics: amplitudes at integer multiples of the dominant frequency, relative to it, and
the total harmonic distortion ``sqrt(sum_k>=2 A_k^2) / A_1``.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import detrend

__all__ = ["BANDS_HZ", "band_powers", "dominant_frequency", "harmonics", "spectral_entropy"]

#: Upstream's bands, Hz; ``None`` = Nyquist.
BANDS_HZ: tuple[tuple[float, float | None], ...] = ((0.0, 1.0), (1.0, 3.0), (3.0, 8.0), (8.0, None))


def _prepared(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64).ravel()
    if x.size < 4:
        return np.zeros(x.size)
    return detrend(x, type="linear") * np.hanning(x.size)


def _power(x: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """One-sided periodogram (Hann, detrended) without the DC bin: ``(freqs, power)``."""
    xw = _prepared(x)
    p = np.abs(np.fft.rfft(xw)) ** 2
    f = np.fft.rfftfreq(xw.size, 1.0 / fps)
    return f[1:], p[1:]


def _padded_magnitude(x: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray]:
    xw = _prepared(x)
    nfft = int(2 ** np.ceil(np.log2(max(8 * xw.size, 16))))
    return np.fft.rfftfreq(nfft, 1.0 / fps), np.abs(np.fft.rfft(xw, nfft))


def _interpolated_peak(f: np.ndarray, mag: np.ndarray, i: int) -> tuple[float, float]:
    if 0 < i < mag.size - 1 and np.all(mag[i - 1 : i + 2] > 0):
        a, b, c = np.log(mag[i - 1 : i + 2])
        denom = a - 2 * b + c
        # The vertex of the parabola through the three log magnitudes; clamped to the half-bins
        # either side (i need not be a local maximum when the band edge cuts a rising slope).
        delta = float(np.clip(0.5 * (a - c) / denom, -0.5, 0.5)) if denom < 0 else 0.0
        df = f[1] - f[0]
        return float(f[i] + delta * df), float(np.exp(b - 0.25 * (a - c) * delta))
    return float(f[i]), float(mag[i])


def dominant_frequency(x: np.ndarray, fps: float, min_hz: float | None = None) -> float:
    """Frequency (Hz) of the largest spectral peak above ``min_hz`` (default: 1 / duration).

    Returns 0 for a constant or too short signal.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    if x.size < 4 or np.ptp(x) == 0:
        return 0.0
    f, mag = _padded_magnitude(x, fps)
    lo = (fps / x.size) if min_hz is None else min_hz
    valid = f >= lo
    if not np.any(valid) or not np.any(mag[valid] > 0):
        return 0.0
    i = int(np.flatnonzero(valid)[np.argmax(mag[valid])])
    return _interpolated_peak(f, mag, i)[0]


def band_powers(
    x: np.ndarray, fps: float, bands: tuple[tuple[float, float | None], ...] = BANDS_HZ
) -> dict[str, float]:
    """Fraction of the (non-DC) power in each band, keyed ``"0-1"``, ``"1-3"``, ``"3-8"``, ``"8-nyquist"``.

    A band is ``[lo, hi)``; the last one includes Nyquist. Zeros for a constant signal.
    """
    f, p = _power(x, fps)
    total = float(p.sum())
    out = {}
    for lo, hi in bands:
        key = f"{lo:g}-{'nyquist' if hi is None else f'{hi:g}'}"
        sel = (f >= lo) & ((f < hi) if hi is not None else np.ones_like(f, dtype=bool))
        out[key] = float(p[sel].sum() / total) if total > 0 else 0.0
    return out


def spectral_entropy(x: np.ndarray, fps: float) -> float:
    """Normalised Shannon entropy of the power spectrum in [0, 1] (0 for a constant signal)."""
    _, p = _power(x, fps)
    total = p.sum()
    if total <= 0 or p.size < 2:
        return 0.0
    q = p / total
    q = q[q > 0]
    return float(-(q * np.log(q)).sum() / np.log(p.size))


def harmonics(x: np.ndarray, fps: float, f0: float | None = None, n: int = 5) -> dict[str, object]:
    """Amplitudes of the first ``n`` harmonics of ``f0`` (default: the dominant frequency).

    Returns
    -------
    dict
        ``fundamental`` (Hz), ``relative_amplitudes`` (``A_k / A_1``, k = 1..n, harmonics
        above Nyquist omitted), ``thd`` (total harmonic distortion) and ``harmonic_power_fraction``
        (power within the Hann main lobe, +-2 bins, of each harmonic / total power).
    """
    if f0 is None:
        f0 = dominant_frequency(x, fps)
    empty = {"fundamental": float(f0), "relative_amplitudes": [], "thd": 0.0, "harmonic_power_fraction": 0.0}
    if f0 <= 0:
        return empty
    f, mag = _padded_magnitude(x, fps)
    df = f[1] - f[0]
    half = max(1, int(round(0.25 * f0 / df)))
    amps = []
    for k in range(1, n + 1):
        fk = k * f0
        if fk > f[-1]:
            break
        i = int(round(fk / df))
        lo, hi = max(0, i - half), min(mag.size, i + half + 1)
        j = lo + int(np.argmax(mag[lo:hi]))
        amps.append(_interpolated_peak(f, mag, j)[1])
    if not amps or amps[0] <= 0:
        return empty
    a = np.asarray(amps)
    fp, p = _power(x, fps)
    bin_w = fp[1] - fp[0] if fp.size > 1 else fps
    near = np.zeros(fp.size, dtype=bool)
    for k in range(1, a.size + 1):
        near |= np.abs(fp - k * f0) <= 2.0 * bin_w  # the Hann window's main lobe
    total = p.sum()
    return {
        "fundamental": float(f0),
        "relative_amplitudes": [float(v) for v in a / a[0]],
        "thd": float(np.sqrt(np.sum(a[1:] ** 2)) / a[0]),
        "harmonic_power_fraction": float(p[near].sum() / total) if total > 0 else 0.0,
    }
