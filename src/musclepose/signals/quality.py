"""Movement-quality scores in [0, 1], their mean and a letter grade.

Four scores, as upstream (IMPLEMENTATION_NOTES, "Wave features as produced upstream"), with the
upstream grade bands A >= .80, B >= .70, C >= .55, D >= .40, else F. The upstream formulas
were examined one by one and replaced where they do not measure what their name says; they
are still computed (:func:`upstream_scores`) and reported under ``"upstream"`` so old clips can
be compared:

===============  ========================================  ===========================================
score            upstream formula and its problem           here
===============  ========================================  ===========================================
smoothness       ``exp(-0.001 mean(j^2) / max|v|^2)`` has   dimensionless jerk of each movement (start
                 units of s^-4: a perfectly smooth          to extreme, extreme to end, each cut to the
                 movement scores 0.95 at 0.5 Hz and 0.46    frames faster than 5 % of its peak speed),
                 at 1 Hz; it penalises speed, not jerk      ``DLJ = D^3 / v_peak^2 int j^2 dt`` (Hogan &
                                                            Sternad 2009, *J Mot Behav* 41:529), scored
                                                            on the log scale that Balasubramanian et al.
                                                            2012 (*IEEE TBME* 59:2126) recommend:
                                                            ``min(1, ln DLJ_mj / ln DLJ)`` against a
                                                            minimum-jerk move cut the same way (uncut:
                                                            ``720 / 1.875^2 = 204.8``; Flash & Hogan
                                                            1985, *J Neurosci* 5:1688); mean over moves;
                                                            6x the reference (two sub-movements) scores
                                                            about 0.71
control          ``1 - std(a) / max|a|`` rises with a       eccentric control: ``min(1, T_ecc / T_con)``
                 single acceleration spike (a jerk or a     per repetition (phase durations from
                 drop scores well) and is 0.29 for any      :mod:`.phases`), averaged. A lowering phase
                 sinusoid                                   at least as long as the lifting phase
                                                            scores 1; dropping into the bottom in a
                                                            third of the lifting time scores 0.33
                                                            (strength guidelines prescribe a controlled
                                                            eccentric, e.g. ACSM 2009 position stand,
                                                            *Med Sci Sports Exerc* 41:687)
efficiency       share of ``1/2 sum v^2`` with ``v > 0``:   path efficiency: the repetitions' net
                 0.5 for any symmetric repetition           excursions (extreme minus start, plus
                                                            extreme minus end) over the distance the
                                                            signal actually travels from the first
                                                            start to the last end, ``int |v| dt``;
                                                            1 for clean back-and-forth movements, lower
                                                            with tremor, hitches and aborted moves
consistency      ``1 - std(v) / max|v|`` describes one      repetition-to-repetition consistency:
                 velocity profile's shape (0.29 for a       ``1 - mean(CV(amplitude), CV(duration))``
                 sinusoid), not consistency                 over repetitions (needs two or more)
===============  ========================================  ===========================================

``overall`` is the mean of the scores that could be computed (NaN ones are skipped). Scores
are computed on the low-passed primary signal (its units cancel in every ratio).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.signal import savgol_filter

from .smoothing import derivative

__all__ = [
    "GRADE_BANDS",
    "MIN_JERK_DLJ",
    "QualityScores",
    "dimensionless_jerk",
    "grade",
    "quality_scores",
    "upstream_scores",
]

GRADE_BANDS: tuple[tuple[float, str], ...] = ((0.80, "A"), (0.70, "B"), (0.55, "C"), (0.40, "D"))
#: Dimensionless jerk of the minimum-jerk point-to-point movement: 720 / 1.875^2.
MIN_JERK_DLJ = 720.0 / 1.875**2


def grade(score: float) -> str:
    """Letter grade of a [0, 1] score: A >= .80, B >= .70, C >= .55, D >= .40, else F (NaN -> F)."""
    for threshold, letter in GRADE_BANDS:
        if score >= threshold:
            return letter
    return "F"


@dataclass(frozen=True)
class QualityScores:
    """Quality scores in [0, 1] (NaN when not computable), their mean and grade."""

    smoothness: float
    control: float
    efficiency: float
    consistency: float

    @property
    def overall(self) -> float:
        vals = [v for v in (self.smoothness, self.control, self.efficiency, self.consistency) if np.isfinite(v)]
        return float(np.mean(vals)) if vals else float("nan")

    @property
    def grade(self) -> str:
        return grade(self.overall)

    def to_dict(self) -> dict[str, float | str]:
        return {
            "smoothness": self.smoothness,
            "control": self.control,
            "efficiency": self.efficiency,
            "consistency": self.consistency,
            "overall": self.overall,
            "grade": self.grade,
        }


def _min_jerk_dlj(speed_fraction: float) -> float:
    """DLJ of a minimum-jerk move truncated where its speed is below ``speed_fraction`` of the peak."""
    lo = 0.0
    if speed_fraction > 0:
        p = np.sqrt(speed_fraction / 16.0)  # 16 tau^2 (1 - tau)^2 = fraction
        lo = (1 - np.sqrt(1 - 4 * p)) / 2
    tau = np.linspace(lo, 1 - lo, 20001)
    jerk = 60 - 360 * tau + 360 * tau**2
    return float((1 - 2 * lo) ** 3 / 1.875**2 * np.trapezoid(jerk**2, tau))


#: Fraction of a move's peak speed below which its ends are cut before measuring jerk.
MOVE_SPEED_FRACTION = 0.05
_MIN_JERK_DLJ_CUT = _min_jerk_dlj(MOVE_SPEED_FRACTION)


def dimensionless_jerk(x: np.ndarray, fps: float, start: int = 0, end: int | None = None) -> float:
    """``D^3 / v_peak^2 * int j^2 dt`` of the movement in frames ``start .. end`` (inclusive) of ``x``.

    Derivatives are taken over the whole of ``x`` (central differences are accurate away
    from the record's ends), then integrated over the window. NaN if it does not move.
    """
    x = np.asarray(x, dtype=np.float64)
    end = x.size - 1 if end is None else end
    if x.size < 5 or end - start < 4:
        return float("nan")
    v = derivative(x, fps)
    j = derivative(v, fps, n=2)[start : end + 1]
    vpeak = np.max(np.abs(v[start : end + 1]))
    if vpeak <= 0:
        return float("nan")
    duration = (end - start) / fps
    return float(duration**3 / vpeak**2 * np.trapezoid(j**2, dx=1.0 / fps))


def _moving_window(speed: np.ndarray, a: int, b: int) -> tuple[int, int]:
    """First and last frame in ``a .. b`` faster than :data:`MOVE_SPEED_FRACTION` of the window's peak."""
    seg = speed[a : b + 1]
    fast = np.flatnonzero(seg >= MOVE_SPEED_FRACTION * seg.max()) if seg.size and seg.max() > 0 else []
    if len(fast) == 0:
        return a, a
    return a + int(fast[0]), a + int(fast[-1])


def quality_scores(
    x: np.ndarray,
    fps: float,
    reps: Sequence[tuple[int, int, int]],
    eccentric_first: bool = True,
    tempos: Sequence[Any] | None = None,
) -> QualityScores:
    """Scores of the low-passed primary signal ``x (T,)`` with repetitions ``(start, extreme, end)``.

    Each repetition has two movements, start to extreme and extreme to end; each is cut to
    the frames faster than 5 % of its peak speed (so pauses do not count as movement) and
    its log dimensionless jerk compared with a minimum-jerk move cut the same way. ``tempos``
    (:class:`~.phases.Tempo` per repetition) give the eccentric and concentric times for
    ``control``; without them the two movements' cut durations are used.
    """
    x = np.asarray(x, dtype=np.float64)
    if not reps:
        return QualityScores(*(float("nan"),) * 4)
    speed = np.abs(derivative(x, fps))
    dlj, ratios = [], []
    amplitudes, durations = [], []
    for k, (s, p, e) in enumerate(reps):
        moves = [_moving_window(speed, s, p), _moving_window(speed, p, e)]
        for a, b in moves:
            d = dimensionless_jerk(x, fps, a, b)
            if np.isfinite(d) and d > 0:
                dlj.append(min(1.0, np.log(_MIN_JERK_DLJ_CUT) / np.log(max(d, _MIN_JERK_DLJ_CUT))))
        if tempos is not None:
            t_ecc, t_con = tempos[k].eccentric, tempos[k].concentric
        else:
            t_away, t_back = ((b - a) / fps for a, b in moves)
            t_ecc, t_con = (t_away, t_back) if eccentric_first else (t_back, t_away)
        if t_con > 0:
            ratios.append(min(1.0, t_ecc / t_con))
        amplitudes.append(abs(x[p] - x[s]) + abs(x[p] - x[e]))
        durations.append((e - s) / fps)
    first, last = reps[0][0], reps[-1][2]
    path = float(np.sum(np.abs(np.diff(x[first : last + 1]))))
    efficiency = min(1.0, float(np.sum(amplitudes)) / path) if path > 0 else float("nan")
    consistency = float("nan")
    if len(reps) >= 2:
        cv = [np.std(v) / np.mean(v) if np.mean(v) > 0 else np.nan for v in (amplitudes, durations)]
        consistency = float(np.clip(1.0 - np.nanmean(cv), 0.0, 1.0))
    return QualityScores(
        smoothness=float(np.mean(dlj)) if dlj else float("nan"),
        control=float(np.mean(ratios)) if ratios else float("nan"),
        efficiency=efficiency,
        consistency=consistency,
    )


def upstream_scores(x: np.ndarray, fps: float) -> dict[str, float | str]:
    """The upstream formulas on ``x (T,)``, kept for comparison (see the module docstring).

    Savitzky-Golay smoothing (window 7, order 3), derivatives by ``np.gradient`` per second,
    ``damping = min(1, std(a) / std(v))``, ``efficiency = up share of 1/2 sum v^2``.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.size < 7:
        return {}
    xs = savgol_filter(x, 7, 3)
    v = np.gradient(xs, 1.0 / fps)
    a = np.gradient(v, 1.0 / fps)
    j = np.gradient(a, 1.0 / fps)
    vmax, amax = np.max(np.abs(v)), np.max(np.abs(a))
    e = 0.5 * v**2
    total = e.sum()
    s: dict[str, float | str] = {
        "smoothness": float(np.exp(-0.001 * np.mean(j**2) / vmax**2)) if vmax > 0 else float("nan"),
        "control": float(1 - np.std(a) / amax) if amax > 0 else float("nan"),
        "efficiency": float(e[v > 0].sum() / total) if total > 0 else float("nan"),
        "consistency": float(1 - np.std(v) / vmax) if vmax > 0 else float("nan"),
        "damping": float(min(1.0, np.std(a) / np.std(v))) if np.std(v) > 0 else float("nan"),
    }
    vals = [s[k] for k in ("smoothness", "control", "efficiency", "consistency") if np.isfinite(s[k])]
    s["overall"] = float(np.mean(vals)) if vals else float("nan")
    s["grade"] = grade(s["overall"])
    return s
