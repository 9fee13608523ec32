"""Damping ratio of an oscillating movement signal, from the decay of its swings.

Upstream reported ``damping = min(1, std(a) / std(v))`` (IMPLEMENTATION_NOTES, "Wave features
as produced upstream"). That ratio has units of 1/s and, for any sinusoid, equals its angular
frequency (clipped to 1): it measures how fast the movement is, not how it decays. Here the
damping ratio ``zeta`` of a second-order oscillator is estimated from the signal's decay:

1. **Logarithmic decrement** (e.g. Rao, *Mechanical Vibrations*, 6th ed., section 2.6.4): the
   alternating extremes of the signal are located (peaks and troughs at least 0.3 of a
   period apart and 5 % of the range prominent) and their values taken from a least-squares
   parabola over +-1/8 period (a sampled maximum of a noisy signal is biased upwards by about
   two noise standard deviations); the half-cycle swings
   ``h_i = |x(ext_i) - x(ext_i+1)|`` decay by ``exp(-delta / 2)`` per half cycle, so
   ``delta = -2 x slope of ln h_i`` (least squares over the swings down to 10 % of the largest,
   below which noise inflates the extremes; it needs no equilibrium level) and
   ``zeta = delta / sqrt(4 pi^2 + delta^2)``.
2. **Damped-oscillator fit** (``scipy.optimize.curve_fit``) of
   ``x(t) = A exp(-zeta w_n t) cos(w_n sqrt(1 - zeta^2) t + phi) + c``, started from the
   decrement and the dominant frequency. The fit is reported when it explains at least
   ``min_r2`` of the variance; otherwise the decrement is.

For exercise repetitions ``zeta`` near 0 means every repetition is as large as the last
(sustained), positive means the repetitions fade (e.g. fatigue, a settling oscillation),
negative means they grow.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit
from scipy.signal import find_peaks

from .spectrum import dominant_frequency

__all__ = ["DampingEstimate", "alternating_extremes", "estimate_damping", "zeta_from_log_decrement"]


@dataclass(frozen=True)
class DampingEstimate:
    """A damping estimate.

    Attributes
    ----------
    ratio
        Damping ratio ``zeta`` (dimensionless); NaN when fewer than three extremes exist.
    natural_frequency_hz, damped_frequency_hz
        ``w_n / 2 pi`` and ``w_n sqrt(1 - zeta^2) / 2 pi``.
    log_decrement
        ``delta`` per full cycle from the swings (NaN if not estimable).
    method
        ``"curve_fit"``, ``"log_decrement"`` or ``"none"``.
    n_extremes
        Number of alternating extremes used by the decrement.
    fit_r2
        Coefficient of determination of the oscillator fit (NaN if it failed).
    """

    ratio: float
    natural_frequency_hz: float
    damped_frequency_hz: float
    log_decrement: float
    method: str
    n_extremes: int
    fit_r2: float

    def to_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


def zeta_from_log_decrement(delta: float) -> float:
    """``zeta = delta / sqrt(4 pi^2 + delta^2)`` for a logarithmic decrement per cycle."""
    return float(delta / np.sqrt(4 * np.pi**2 + delta**2))


def alternating_extremes(x: np.ndarray, min_distance: int, min_prominence: float) -> np.ndarray:
    """Indices of alternating maxima and minima (the larger kept when two of a kind follow)."""
    pk, _ = find_peaks(x, distance=min_distance, prominence=min_prominence)
    tr, _ = find_peaks(-x, distance=min_distance, prominence=min_prominence)
    idx = np.concatenate([pk, tr])
    kind = np.concatenate([np.ones(pk.size), -np.ones(tr.size)])
    order = np.argsort(idx)
    idx, kind = idx[order], kind[order]
    keep: list[int] = []
    kinds: list[float] = []
    for i, k in zip(idx, kind, strict=True):
        if kinds and kinds[-1] == k:
            if k * x[i] > k * x[keep[-1]]:
                keep[-1] = int(i)
            continue
        keep.append(int(i))
        kinds.append(k)
    return np.asarray(keep, dtype=int)


def _vertex_values(x: np.ndarray, idx: np.ndarray, half: int) -> np.ndarray:
    """Value at each extreme of a least-squares parabola over +-``half`` samples (averages noise)."""
    out = np.empty(idx.size)
    for k, i in enumerate(idx):
        a, b = max(0, i - half), min(x.size, i + half + 1)
        u = np.arange(a, b) - i
        c2, c1, c0 = np.polyfit(u, x[a:b], 2) if b - a >= 3 else (0.0, 0.0, x[i])
        out[k] = c0 - c1**2 / (4 * c2) if c2 != 0 and abs(c1 / (2 * c2)) <= half else x[i]
    return out


def _oscillator(t, amp, zeta, fn, phi, c):
    wn = 2 * np.pi * fn
    wd = wn * np.sqrt(np.clip(1 - zeta**2, 1e-9, None))
    return amp * np.exp(-zeta * wn * t) * np.cos(wd * t + phi) + c


def _oscillator_jac(t, amp, zeta, fn, phi, c):
    """Analytic Jacobian of :func:`_oscillator` ``(T, 5)`` (curve_fit's finite differences cost
    6 model evaluations per iteration; this one costs about one)."""
    wn = 2 * np.pi * fn
    one = 1 - zeta**2
    root = np.sqrt(max(one, 1e-9))
    env = np.exp(-zeta * wn * t)
    arg = root * wn * t + phi
    ec, es = env * np.cos(arg), env * np.sin(arg)
    droot = -zeta / root if one > 1e-9 else 0.0
    return np.stack(
        [
            ec,
            amp * (-wn * t * ec - es * wn * t * droot),
            amp * 2 * np.pi * t * (-zeta * ec - root * es),
            -amp * es,
            np.ones_like(t),
        ],
        axis=1,
    )


def _fit(t: np.ndarray, x: np.ndarray, p0: list[float], bounds) -> np.ndarray | None:
    """Least-squares oscillator parameters from ``p0``: MINPACK's Levenberg-Marquardt first
    (compiled iterations, ~4x less time than the bounded trust-region method for these five
    parameters); a negative amplitude is the same curve with the phase turned by pi. Only if
    that lands outside ``bounds`` does the bounded trust-region fit run."""
    try:
        p, _ = curve_fit(_oscillator, t, x, p0=p0, method="lm", maxfev=4000, jac=_oscillator_jac)
        if p[0] < 0:
            p = np.array([-p[0], p[1], p[2], p[3] + np.pi, p[4]])
        if np.all(p >= bounds[0]) and np.all(p <= bounds[1]):
            return p
    except (RuntimeError, ValueError):
        pass
    try:
        return curve_fit(_oscillator, t, x, p0=p0, bounds=bounds, maxfev=4000, jac=_oscillator_jac)[0]
    except (RuntimeError, ValueError):
        return None


def estimate_damping(x: np.ndarray, fps: float, min_r2: float = 0.8) -> DampingEstimate:
    """Damping ratio of ``x (T,)`` sampled at ``fps`` Hz (see the module docstring)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    none = DampingEstimate(np.nan, np.nan, np.nan, np.nan, "none", 0, np.nan)
    if x.size < 8 or np.ptp(x) == 0:
        return none
    fd = dominant_frequency(x, fps)
    if fd <= 0:
        return none
    ext = alternating_extremes(x, max(1, int(0.3 * fps / fd)), 0.05 * np.ptp(x))
    swings = np.abs(np.diff(_vertex_values(x, ext, max(2, int(fps / fd / 8)))))
    if swings.size:
        # Swings near the noise floor are biased upwards by the noise: stop below 10 % of the largest.
        small = np.flatnonzero(swings < 0.1 * swings.max())
        swings = swings[: small[small > np.argmax(swings)][0]] if np.any(small > np.argmax(swings)) else swings
    delta = np.nan
    if swings.size >= 2 and np.all(swings > 0):
        slope = np.polyfit(np.arange(swings.size), np.log(swings), 1)[0]
        delta = -2.0 * slope
    zeta_dec = zeta_from_log_decrement(delta) if np.isfinite(delta) else np.nan

    t = np.arange(x.size) / fps
    z0 = float(np.clip(zeta_dec, -0.3, 0.9)) if np.isfinite(zeta_dec) else 0.05
    a0 = 0.5 * (swings[0] if swings.size else np.ptp(x))
    lead = (ext[0] / fps) if ext.size else 0.0
    amp0 = a0 * np.exp(z0 * 2 * np.pi * fd * lead)  # amplitude back-extrapolated to t = 0
    bounds = ([0, -0.5, 0.2 * fd, -np.inf, -np.inf], [np.inf, 0.99, 5 * fd, np.inf, np.inf])
    best = (np.nan, None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        for phi0 in np.linspace(0, 2 * np.pi, 4, endpoint=False):
            p0 = [amp0, z0, fd / np.sqrt(max(1 - z0**2, 1e-6)), phi0, float(np.mean(x))]
            p = _fit(t, x, p0, bounds)
            if p is None:
                continue
            ss_res = float(np.sum((x - _oscillator(t, *p)) ** 2))
            r2 = 1.0 - ss_res / float(np.sum((x - x.mean()) ** 2))
            if not np.isfinite(best[0]) or r2 > best[0]:
                best = (r2, p)
    r2, p = best
    if p is not None and r2 >= min_r2:
        zeta, fn = float(p[1]), float(p[2])
        return DampingEstimate(
            zeta, fn, fn * np.sqrt(max(1 - zeta**2, 0.0)), delta, "curve_fit", int(ext.size), float(r2)
        )
    if np.isfinite(zeta_dec):
        fn = fd / np.sqrt(max(1 - zeta_dec**2, 1e-12))
        r2v = float(r2) if np.isfinite(r2) else np.nan
        return DampingEstimate(float(zeta_dec), float(fn), fd, float(delta), "log_decrement", int(ext.size), r2v)
    return DampingEstimate(np.nan, np.nan, fd, np.nan, "none", int(ext.size), np.nan)
