"""Repetition segmentation of exercise signals (gaitmap/tpcp-style algorithm object).

A repetition is one excursion of a *primary* signal away from its resting level and back:
the hip going down and up in a squat, the knee flexing and extending, the hands going up
and down in a press or a jumping jack. :class:`RepSegmenter` finds them in any 1-D signal
sampled at ``fps`` (a channel of :mod:`.channels`, a joint angle of another dataset) or
picks the primary channel itself among several.

Algorithm (all thresholds relative, so it works in metres, degrees or arbitrary units):

1. Low-pass the signal (zero-phase Butterworth, :func:`.smoothing.lowpass`, default 3 Hz:
   exercise repetitions are below ~2 Hz, Winter 2009 section 3.4 for the method).
2. Normalise: subtract the median and divide by the robust range (1st to 99th percentile).
3. Polarity: repetitions go the way the signal leaves its resting level (hip height: down,
   knee flexion: up). A set starts and ends at rest, so the resting level is first taken
   from the first and last 5 % of the record: in the lower 35 % of the range, repetitions
   are maxima; in the upper 35 %, minima. When the record starts and ends mid-range (cut
   out of a longer one), the resting level is where the signal dwells: the excursion is the
   side farther from the median (minima only if more than 1.1 x farther). ``polarity``
   can force it.
4. Peaks of the excursion with ``scipy.signal.find_peaks``: prominence at least
   ``min_prominence`` of the range (prominence, the height above the higher of the two
   bases, is the standard topographic measure used by scipy) and at least
   ``min_period_s`` apart.
5. Boundaries: a rep starts at the last frame before its peak that is *at rest*
   (speed below ``speed_threshold``, 5 %, of the rep's peak speed and within ``rest_band``,
   15 %, of the rep's amplitude from the trough before it) and ends at the first such frame
   after the peak. A continuous oscillation with no pause starts and ends at the troughs.

Merging and splitting rules (what counts as one repetition):

- Two extremes closer than ``min_period_s`` are one repetition (the larger is kept).
- A bounce at the bottom (a dip between two extremes that rises less than
  ``min_prominence`` of the range) does not split a repetition: the dip is not prominent.
- A partial movement shallower than ``min_prominence`` of the range is not a repetition;
  nor is a half cycle cut off at either end of the record (its prominence is only the part
  that was recorded).
- A long pause at the bottom stays inside its repetition; a pause at the resting level is
  between repetitions.

Automatic choice of the primary channel (``primary=None`` with several channels): the
channel with the largest *normalised, periodic* excursion,
``score = (p95 - p5) / scale x max(0, periodicity)``, where ``scale`` is a typical
full-scale excursion (heights: half the stature, 0.875 m by default; angles: 90 deg;
other channels: 1 in their own unit) and periodicity is the highest normalised
autocorrelation at lags of ``min_period_s`` up to half the record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.signal import find_peaks

from .channels import CHANNEL_NAMES, CHANNEL_UNITS, HEIGHT_CHANNELS, compute_channels
from .smoothing import derivative, lowpass

__all__ = ["RepSegmenter", "channel_scores", "periodicity"]

DEFAULT_HEIGHT_SCALE_M = 0.875  # half of a 1.75 m stature: a full-depth squat's hip travel order


def periodicity(x: np.ndarray, min_lag: int) -> float:
    """Highest normalised (biased) autocorrelation of ``x`` at lags ``min_lag .. T/2``; 0 if none."""
    x = np.asarray(x, dtype=np.float64)
    x = x - x.mean()
    n = x.size
    if n < 4 or not np.any(x):
        return 0.0
    f = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(f * np.conj(f))[:n]
    acf = acf / acf[0]
    lo, hi = max(1, int(min_lag)), n // 2
    if hi <= lo:
        return 0.0
    return float(np.max(acf[lo : hi + 1]))


def channel_scores(
    channels: np.ndarray,
    fps: float,
    names: Sequence[str] | None = None,
    scales: Sequence[float] | None = None,
    cutoff_hz: float | None = 3.0,
    min_period_s: float = 0.6,
    height_scale_m: float = DEFAULT_HEIGHT_SCALE_M,
) -> np.ndarray:
    """Primary-channel score of each column of ``channels (T, C)`` (see the module docstring)."""
    x = lowpass(np.asarray(channels, dtype=np.float64), fps, cutoff_hz)
    if scales is None:
        scales = [_default_scale(n, height_scale_m) for n in (names or [""] * x.shape[1])]
    lag = int(round(min_period_s * fps))
    out = np.zeros(x.shape[1])
    for c in range(x.shape[1]):
        col = x[:, c]
        if not np.all(np.isfinite(col)):
            continue
        excursion = (np.percentile(col, 95) - np.percentile(col, 5)) / scales[c]
        out[c] = excursion * max(0.0, periodicity(col, lag))
    return out


def _default_scale(name: str, height_scale_m: float) -> float:
    if name in HEIGHT_CHANNELS:
        return height_scale_m
    if CHANNEL_UNITS.get(name) == "deg":
        return 90.0
    return 1.0


class RepSegmenter:
    """Find repetitions in an exercise signal.

    Parameters
    ----------
    primary
        Which channel to segment when several are given: a name (``"legs_trajectory"``) or a
        column index; ``None`` chooses automatically (see the module docstring).
    min_prominence
        Minimum prominence of a repetition's extreme, as a fraction of the signal's robust
        range (1st-99th percentile).
    min_period_s
        Minimum time between two repetitions' extremes (s).
    cutoff_hz
        Low-pass cut-off (Hz) applied before detection; ``None`` disables it.
    polarity
        ``"auto"``, ``"peaks"`` (repetitions are maxima) or ``"valleys"`` (minima).
    speed_threshold
        A frame is still when its speed is below this fraction of the rep's peak speed.
    rest_band
        A still frame is at rest when it lies within this fraction of the rep's amplitude
        of the trough before (start) or after (end) the extreme.
    height_scale_m
        Typical height excursion used to normalise height channels for the automatic choice
        (half the stature).

    Attributes
    ----------
    primary_ : str or int
        The channel segmented (its name when names are known).
    signal_ : np.ndarray, (T,)
        The low-passed primary signal, in its own units.
    polarity_ : int
        ``+1`` when repetitions are maxima of ``signal_``, ``-1`` when minima.
    reps_ : list of (int, int, int)
        ``(start, extreme, end)`` frame indices of each repetition; the extreme is the bottom
        of a squat on hip height or knee flexion.
    n_reps_ : int
    prominences_ : np.ndarray
        Prominence of each repetition relative to the range.
    scores_ : dict of str to float
        Primary-channel scores when the choice was automatic (else empty).
    fps_ : float

    Examples
    --------
    >>> t = np.arange(0, 10, 0.01)
    >>> RepSegmenter().segment(np.sin(2 * np.pi * 0.5 * t), fps=100).n_reps_
    5
    """

    def __init__(
        self,
        primary: str | int | None = None,
        min_prominence: float = 0.3,
        min_period_s: float = 0.6,
        cutoff_hz: float | None = 3.0,
        polarity: str = "auto",
        speed_threshold: float = 0.05,
        rest_band: float = 0.15,
        height_scale_m: float = DEFAULT_HEIGHT_SCALE_M,
    ) -> None:
        self.primary = primary
        self.min_prominence = min_prominence
        self.min_period_s = min_period_s
        self.cutoff_hz = cutoff_hz
        self.polarity = polarity
        self.speed_threshold = speed_threshold
        self.rest_band = rest_band
        self.height_scale_m = height_scale_m

    # ------------------------------------------------------------------ input
    def _select(self, signal: Any, fps: float, names: Sequence[str] | None) -> tuple[np.ndarray, str | int]:
        if hasattr(signal, "q") and hasattr(signal, "body"):  # a Motion
            signal = compute_channels(signal)
        if isinstance(signal, Mapping):
            names = list(signal)
            signal = np.stack([np.asarray(signal[n], dtype=np.float64) for n in names], axis=1)
        x = np.asarray(signal, dtype=np.float64)
        if x.ndim == 1:
            return x, names[0] if names else 0
        if x.ndim != 2:
            raise ValueError(f"signal must be (T,) or (T, C); got shape {x.shape}")
        if names is None and x.shape[1] == len(CHANNEL_NAMES):
            names = list(CHANNEL_NAMES)
        self.scores_ = {}
        primary = self.primary
        if primary is None:
            scores = channel_scores(
                x, fps, names, cutoff_hz=self.cutoff_hz, min_period_s=self.min_period_s,
                height_scale_m=self.height_scale_m,
            )  # fmt: skip
            labels = list(names) if names else list(range(x.shape[1]))
            self.scores_ = {str(k): float(s) for k, s in zip(labels, scores, strict=True)}
            col = int(np.argmax(scores))
        elif isinstance(primary, str):
            if not names or primary not in names:
                raise KeyError(f"primary channel {primary!r} not among {list(names or [])}")
            col = list(names).index(primary)
        else:
            col = int(primary)
        return x[:, col], (names[col] if names else col)

    # ------------------------------------------------------------------ action
    def segment(self, signal: Any, fps: float, names: Sequence[str] | None = None) -> RepSegmenter:
        """Segment ``signal`` sampled at ``fps`` Hz; returns ``self``.

        ``signal`` is a ``(T,)`` array, a ``(T, C)`` array (``names`` label the columns; a
        7-column array is taken to be the schema channels), a ``name -> (T,)`` mapping or a
        :class:`~musclepose.motion.core.Motion` (its seven channels).
        """
        if not (np.isfinite(fps) and fps > 0):
            raise ValueError(f"fps must be positive; got {fps!r}")
        self.fps_ = float(fps)
        self.scores_ = {}
        raw, self.primary_ = self._select(signal, fps, names)
        if not np.all(np.isfinite(raw)):
            raise ValueError("signal contains NaN or inf; interpolate gaps first")
        x = lowpass(raw, fps, self.cutoff_hz)
        self.signal_ = x
        self.reps_, self.prominences_ = [], np.zeros(0)
        self.polarity_ = 1
        lo, hi, med = np.percentile(x, 1), np.percentile(x, 99), float(np.median(x))
        rng = hi - lo
        if x.size < 3 or rng <= 1e-12 * max(1.0, abs(med)):
            self.n_reps_ = 0
            return self
        k = max(1, int(round(0.05 * x.size)))
        rest = float(np.median(np.concatenate([x[:k], x[-k:]])))
        self.polarity_ = self._polarity((rest - lo) / rng, hi - med, med - lo)
        y = self.polarity_ * (x - med) / rng
        distance = max(1, int(round(self.min_period_s * fps)))
        peaks, props = find_peaks(y, prominence=self.min_prominence, distance=distance)
        v = derivative(y, fps)
        bounds = np.concatenate([[0], peaks, [y.size - 1]])
        for k, p in enumerate(peaks):
            start = self._rest_frame(y, v, bounds[k], p, side=-1)
            end = self._rest_frame(y, v, p, bounds[k + 2], side=+1)
            self.reps_.append((int(start), int(p), int(end)))
        self.prominences_ = props["prominences"]
        self.n_reps_ = len(self.reps_)
        return self

    def _polarity(self, rest_position: float, up: float, down: float) -> int:
        if self.polarity == "peaks":
            return 1
        if self.polarity == "valleys":
            return -1
        if self.polarity != "auto":
            raise ValueError(f"polarity must be 'auto', 'peaks' or 'valleys'; got {self.polarity!r}")
        if rest_position < 0.35:
            return 1
        if rest_position > 0.65:
            return -1
        return -1 if down > 1.1 * up else 1

    def _rest_frame(self, y: np.ndarray, v: np.ndarray, a: int, b: int, side: int) -> int:
        """The at-rest frame bounding the rep whose extreme is at ``b`` (side -1) or ``a`` (+1)."""
        seg = slice(a, b + 1)
        if side < 0:
            trough = a + int(np.argmin(y[seg]))
            peak = b
            window = np.arange(trough, peak + 1)
        else:
            trough = a + int(np.argmin(y[seg]))
            peak = a
            window = np.arange(peak, trough + 1)
        vmax = np.max(np.abs(v[window])) if window.size else 0.0
        still = np.abs(v[window]) <= self.speed_threshold * vmax
        near = y[window] <= y[trough] + self.rest_band * (y[peak] - y[trough])
        ok = np.flatnonzero(still & near)
        if ok.size == 0:
            return trough
        return int(window[ok[-1]] if side < 0 else window[ok[0]])
