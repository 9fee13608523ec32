"""Phases of each repetition and its tempo, from the velocity of the primary signal.

Phase names (:data:`PHASES`): ``setup`` (before the first repetition), ``eccentric``
(the working muscles lengthen: the load or body is lowered), ``bottom`` (pause at the low
turning point), ``concentric`` (the load or body is raised), ``lockout`` (pause at the top),
``rest`` (after the last repetition, or a pause between repetitions longer than
``max_pause_s``).

Each repetition ``(start, extreme, end)`` from :class:`~.reps.RepSegmenter` is split by the
speed of the low-passed primary signal, with thresholds relative to the repetition itself:

- a frame is *still* when its speed is below ``speed_threshold`` (default 5 %) of the
  repetition's peak speed: the usual way to find movement onset and offset in kinematic
  records, with thresholds of 5-10 % of peak velocity (Teasdale et al. 1993, *J Mot Behav*
  25:97-106, compare such criteria);
- the pause at the extreme runs from the first still frame within ``extreme_band`` (15 %) of
  the repetition's amplitude from the extreme to the last such frame after it; a stop
  half-way (a sticking point) is therefore not a pause;
- the movement away from the resting level is eccentric when ``eccentric_first`` (squat,
  push-up, bench press: the resting level is the top), concentric otherwise (overhead
  press, curl, deadlift, pull-up: the resting level is the bottom), and the return is the
  other one. The pause at the extreme is then ``bottom`` or ``lockout`` and the pause at the
  resting level between repetitions is ``lockout`` or ``bottom``.

Tempo follows the strength-training notation eccentric - bottom pause - concentric - top
pause in seconds ("3-1-2-0"); the pause at the resting level belongs to the repetition
before it, so the last repetition's is unknown (``None``).

Upstream normalised the velocity by its standard deviation and used a fixed threshold of 0.5
with a fixed order setup -> concentric -> lockout -> eccentric -> rest
(IMPLEMENTATION_NOTES, "Wave features as produced upstream"); relative-to-peak thresholds
per repetition do not depend on how many repetitions or pauses the clip contains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .smoothing import derivative, lowpass

__all__ = ["PHASES", "PhaseSegmenter", "PhaseSpan", "Tempo"]

PHASES: tuple[str, ...] = ("setup", "eccentric", "bottom", "concentric", "lockout", "rest")


@dataclass(frozen=True)
class PhaseSpan:
    """One phase: frames ``start`` (inclusive) to ``end`` (exclusive) of repetition ``rep``."""

    name: str
    start: int
    end: int
    rep: int | None

    def duration(self, fps: float) -> float:
        """Seconds."""
        return (self.end - self.start) / fps


@dataclass(frozen=True)
class Tempo:
    """Durations (s) of one repetition's phases in tempo order; ``None`` when unknown."""

    eccentric: float
    bottom: float | None
    concentric: float
    lockout: float | None

    @property
    def notation(self) -> str:
        """Whole seconds as in strength-training programmes, e.g. ``"3-1-2-0"`` (``x`` = unknown)."""
        return "-".join("x" if v is None else f"{v:.0f}" for v in self._values())

    @property
    def notation_precise(self) -> str:
        """Tenths of a second, e.g. ``"2.6-0.4-1.3-0.9"``."""
        return "-".join("x" if v is None else f"{v:.1f}" for v in self._values())

    def _values(self) -> tuple[float | None, ...]:
        return (self.eccentric, self.bottom, self.concentric, self.lockout)

    def to_dict(self) -> dict[str, float | str | None]:
        return {
            "eccentric_s": self.eccentric,
            "bottom_s": self.bottom,
            "concentric_s": self.concentric,
            "lockout_s": self.lockout,
            "notation": self.notation,
        }

    @staticmethod
    def median(tempos: Sequence[Tempo]) -> Tempo | None:
        """Component-wise median over repetitions (ignoring unknowns); ``None`` if empty."""
        if not tempos:
            return None

        def med(vals: list[float | None]) -> float | None:
            known = [v for v in vals if v is not None]
            return float(np.median(known)) if known else None

        cols = list(zip(*(t._values() for t in tempos), strict=True))
        ecc, bottom, con, lock = (med(list(c)) for c in cols)
        return Tempo(ecc or 0.0, bottom, con or 0.0, lock)


class PhaseSegmenter:
    """Split repetitions into phases and measure their tempo.

    Parameters
    ----------
    speed_threshold
        Still = speed below this fraction of the repetition's peak speed.
    extreme_band
        A pause at the extreme must lie within this fraction of the repetition's amplitude
        of the extreme.
    max_pause_s
        A pause at the resting level longer than this between two repetitions is ``rest``
        (and the repetition's top/bottom pause is unknown) rather than part of the tempo.
    eccentric_first
        ``True`` when the movement away from the resting level is eccentric (see the module
        docstring).
    cutoff_hz
        Low-pass cut-off applied to the signal before differentiating (``None``: none); 6 Hz
        is the usual cut-off for whole-body kinematics (Winter 2009, section 3.4), enough
        bandwidth for a half-second movement.

    Attributes
    ----------
    labels_ : np.ndarray of str, (T,)
        Phase name of every frame.
    spans_ : list of PhaseSpan
        Contiguous phases in time order (empty phases omitted).
    rep_spans_ : list of list of PhaseSpan
        The phases of each repetition (its movement and pauses, and the pause after it).
    tempo_ : list of Tempo
        One per repetition.
    velocity_ : np.ndarray, (T,)
        Velocity of the low-passed signal, its unit per second.
    """

    def __init__(
        self,
        speed_threshold: float = 0.05,
        extreme_band: float = 0.15,
        max_pause_s: float = 3.0,
        eccentric_first: bool = True,
        cutoff_hz: float | None = 6.0,
    ) -> None:
        self.speed_threshold = speed_threshold
        self.extreme_band = extreme_band
        self.max_pause_s = max_pause_s
        self.eccentric_first = eccentric_first
        self.cutoff_hz = cutoff_hz

    def segment(
        self,
        signal: np.ndarray,
        fps: float,
        reps: Sequence[tuple[int, int, int]],
        polarity: int = 1,
    ) -> PhaseSegmenter:
        """Phases of ``reps`` (from :class:`~.reps.RepSegmenter`) in ``signal (T,)``; returns ``self``.

        ``polarity`` is ``+1`` when the extremes are maxima of ``signal`` and ``-1`` when
        minima (``RepSegmenter.polarity_``).
        """
        x = lowpass(np.asarray(signal, dtype=np.float64), fps, self.cutoff_hz)
        n = x.size
        self.velocity_ = derivative(x, fps)
        y = polarity * x
        v = polarity * self.velocity_
        away, extreme, back, rest_pause = (
            ("eccentric", "bottom", "concentric", "lockout")
            if self.eccentric_first
            else ("concentric", "lockout", "eccentric", "bottom")
        )
        labels = np.full(n, "rest", dtype=object)
        if reps:
            labels[: reps[0][0]] = "setup"
        self.rep_spans_, self.tempo_ = [], []
        for k, (s, p, e) in enumerate(reps):
            b0, b1 = self._pause_at_extreme(y, v, s, p, e)
            spans = [PhaseSpan(away, s, b0, k), PhaseSpan(extreme, b0, b1, k), PhaseSpan(back, b1, e, k)]
            nxt = reps[k + 1][0] if k + 1 < len(reps) else None
            pause: float | None = None
            if nxt is not None and nxt > e:
                name = rest_pause if (nxt - e) / fps <= self.max_pause_s else "rest"
                spans.append(PhaseSpan(name, e, nxt, k))
                pause = (nxt - e) / fps if name == rest_pause else None
            elif nxt is not None:
                pause = 0.0
            for sp in spans:
                labels[sp.start : sp.end] = sp.name
            self.rep_spans_.append([sp for sp in spans if sp.end > sp.start])
            d = {sp.name: sp.duration(fps) for sp in spans[:3]}
            if self.eccentric_first:
                self.tempo_.append(Tempo(d[away], d[extreme], d[back], pause))
            else:
                self.tempo_.append(Tempo(d[back], pause, d[away], d[extreme]))
        self.labels_ = labels.astype(str)
        self.spans_ = _runs(self.labels_, reps)
        return self

    def _pause_at_extreme(self, y: np.ndarray, v: np.ndarray, s: int, p: int, e: int) -> tuple[int, int]:
        """Frames ``[b0, b1)`` of the pause at the extreme ``p`` of the repetition ``s .. e``."""
        seg = slice(s, e + 1)
        vmax = float(np.max(np.abs(v[seg]))) if e >= s else 0.0
        still = np.abs(v) <= self.speed_threshold * vmax
        left = np.arange(s, p + 1)
        near_l = y[left] >= y[p] - self.extreme_band * (y[p] - y[s])
        ok = np.flatnonzero(still[left] & near_l)
        b0 = int(left[ok[0]]) if ok.size else p
        right = np.arange(p, e + 1)
        near_r = y[right] >= y[p] - self.extreme_band * (y[p] - y[e])
        ok = np.flatnonzero(still[right] & near_r)
        b1 = int(right[ok[-1]]) + 1 if ok.size else p + 1
        return b0, max(b1, b0)


def _runs(labels: np.ndarray, reps: Sequence[tuple[int, int, int]]) -> list[PhaseSpan]:
    """Contiguous runs of equal labels, each tagged with the repetition it falls in (or None)."""
    if labels.size == 0:
        return []
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [labels.size]])
    rep_of = np.full(labels.size, -1)
    for k, (s, _, e) in enumerate(reps):
        nxt = reps[k + 1][0] if k + 1 < len(reps) else e
        rep_of[s : max(e, nxt)] = k
    out = []
    for a, b in zip(starts, ends, strict=True):
        r = int(rep_of[a])
        out.append(PhaseSpan(str(labels[a]), int(a), int(b), None if r < 0 else r))
    return out
