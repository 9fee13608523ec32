"""Zero-phase low-pass filtering and time derivatives of sampled 1-D/2-D signals (numpy).

Conventions: time is axis 0, sampling rate ``fps`` in Hz, derivatives per second. The
analysis layer works on numpy at this edge (channels come out of forward kinematics as
numpy), unlike :mod:`musclepose.motion.differentiate` which is torch and differentiable.

The low-pass is a Butterworth filter run forwards and backwards (``scipy.signal.sosfiltfilt``),
so it has no phase lag and an effective order of twice ``order`` (Winter 2009,
*Biomechanics and Motor Control of Human Movement*, 4th ed., section 3.4). Short signals,
which occur in the 10 fps CMU exercise segments, get the longest padding they allow.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy.signal import butter, sosfiltfilt

__all__ = ["derivative", "lowpass"]


@functools.lru_cache(maxsize=64)
def _butter_sos(order: int, wn: float) -> np.ndarray:
    # Designing the filter costs as much as running it on a 10-s clip's channel; a dataset
    # asks for the same few designs millions of times (callers get a copy: scipy wants it writable).
    return butter(order, wn, output="sos")


def lowpass(x: np.ndarray, fps: float, cutoff_hz: float | None, order: int = 2) -> np.ndarray:
    """Zero-phase Butterworth low-pass of ``x`` along axis 0.

    Parameters
    ----------
    x
        ``(T,)`` or ``(T, C)`` samples.
    fps
        Sampling rate (Hz).
    cutoff_hz
        -3 dB frequency of the single pass; ``None`` or a value at or above 0.9 x Nyquist
        returns a copy unfiltered (there is nothing to remove).
    order
        Butterworth order of one pass.

    Returns
    -------
    np.ndarray
        Filtered float64 array of the same shape.
    """
    x = np.asarray(x, dtype=np.float64)
    if fps <= 0:
        raise ValueError(f"fps must be positive; got {fps!r}")
    nyq = 0.5 * fps
    if cutoff_hz is None or cutoff_hz >= 0.9 * nyq or x.shape[0] < 4:
        return x.copy()
    if cutoff_hz <= 0:
        raise ValueError(f"cutoff_hz must be positive; got {cutoff_hz!r}")
    sos = _butter_sos(order, cutoff_hz / nyq).copy()
    padlen = min(3 * (2 * len(sos) + 1), x.shape[0] - 1)
    return sosfiltfilt(sos, x, axis=0, padlen=padlen)


def derivative(x: np.ndarray, fps: float, n: int = 1) -> np.ndarray:
    """``n``-th time derivative (per second) by repeated second-order central differences.

    ``np.gradient`` with ``dt = 1 / fps`` (one-sided at the ends); applied ``n`` times.
    """
    y = np.asarray(x, dtype=np.float64)
    for _ in range(n):
        if y.shape[0] < 2:
            return np.zeros_like(y)
        y = np.gradient(y, 1.0 / fps, axis=0, edge_order=2 if y.shape[0] > 2 else 1)
    return y
