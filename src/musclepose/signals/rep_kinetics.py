"""Kinetics per repetition: peak joint moments, ground reactions and muscle activations.

:func:`rep_kinetics` cuts a :class:`~musclepose.motion.kinetics.Kinetics` at the repetitions
of an :class:`~musclepose.signals.Analysis` and reports, per repetition and side, the peak
sagittal joint moments (N m/kg, the signed value of largest magnitude: a hip extensor
moment is negative), the peak vertical ground reaction (body weights) and the peak
activation of each torque generator that matters for the exercise. :func:`cycle_curves`
resamples the same quantities over the normalised repetition cycle (0-100 %) for plots.
Without repetitions the whole recording is one cycle. Peaks come from trusted frames only
(``trusted``, :mod:`.plausibility`); a repetition with less than half of its frames trusted
reports none (None).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["KEY_MOMENTS", "RepKinetics", "cycle_curves", "rep_kinetics"]

# Sagittal moments reported per side (and the trunk).
KEY_MOMENTS = ("hip_flexion", "knee_flexion", "ankle_dorsiflexion")
TRUNK_MOMENT = "lumbar_flexion"
G = 9.81


@dataclass(frozen=True)
class RepKinetics:
    """One repetition's kinetics (see the module docstring); ``None`` activations without muscles."""

    index: int
    peak_moment: dict[str, float]
    peak_grf_bw: dict[str, float]
    peak_activation: dict[str, float] | None
    unexplained_nm: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "peak_moment_nm_per_kg": self.peak_moment,
            "peak_vertical_grf_bw": self.peak_grf_bw,
            "peak_activation": self.peak_activation,
            "max_unexplained_moment_nm": self.unexplained_nm,
        }


def _windows(analysis, n_frames: int) -> list[tuple[int, int]]:
    reps = getattr(analysis, "reps", None) or []
    return [(r.start, r.end + 1) for r in reps] or [(0, n_frames)]


def _signed_peak(x: np.ndarray) -> float | None:
    if not len(x) or not np.isfinite(x).any():
        return None
    k = int(np.nanargmax(np.abs(x)))
    return float(x[k])


def _max(x: np.ndarray) -> float | None:
    return float(np.max(x)) if len(x) else None


def _dof_names() -> list[str]:
    names = [f"{m}_{s}" for m in KEY_MOMENTS for s in "rl"]
    return names + [TRUNK_MOMENT]


# The main movers reported per repetition: hip and knee extensors, ankle plantarflexors.
KEY_GENERATORS = tuple(f"{m}_{s}-" for s in "rl" for m in KEY_MOMENTS)


def rep_kinetics(
    kinetics, analysis=None, generators: tuple[str, ...] = KEY_GENERATORS, trusted: np.ndarray | None = None
) -> list[RepKinetics]:
    """Per-repetition summary of ``kinetics`` over the repetitions of ``analysis``.

    ``generators``: the torque generators whose peak activation is reported (names as
    ``MTGParameters.generator_names``; default the hip and knee extensors and the ankle
    plantarflexors of both sides). ``trusted`` ``(T,)`` bool: the frames peaks may come from
    (None: all).
    """
    body = kinetics.motion.body
    weight = body.mass_kg * G
    gens = list(generators) if kinetics.activations is not None else []
    t = kinetics.motion.n_frames
    trusted = np.ones(t, dtype=bool) if trusted is None else np.asarray(trusted, dtype=bool)
    out = []
    columns = {d: kinetics.moment(d) for d in _dof_names()}  # once, not per repetition
    for k, (a, b) in enumerate(_windows(analysis, t)):
        m = trusted[a:b]
        if not len(m) or m.mean() < 0.5:
            m = np.zeros(b - a, dtype=bool)  # too little of it trusted: no peaks
        moments = {d: _signed_peak(x[a:b][m]) for d, x in columns.items()}
        grf = {
            foot: (None if not m.any() else float(np.max(g[a:b, 1][m]) / weight)) for foot, g in kinetics.grf.items()
        }
        act = {g: _max(kinetics.activation(g)[a:b][m]) for g in gens} if gens else None
        unexplained = None
        if kinetics.muscle_residual is not None and m.any():
            unexplained = float(np.abs(kinetics.muscle_residual[a:b][m]).max())
        out.append(RepKinetics(k, moments, grf, act, unexplained))
    return out


def _resample(x: np.ndarray, n: int) -> np.ndarray:
    t = np.linspace(0.0, 1.0, len(x))
    return np.interp(np.linspace(0.0, 1.0, n), t, x)


def cycle_curves(kinetics, analysis=None, n: int = 101) -> dict[str, dict[str, np.ndarray]]:
    """Curves over the normalised repetition cycle, ``{group: {name: (reps, n)}}``.

    Groups: ``"moment"`` (N m/kg, the key sagittal moments per side), ``"grf"`` (vertical,
    body weights, per foot), ``"activation"`` (the extensor and flexor generators of hip,
    knee and ankle per side, when activations exist).
    """
    body = kinetics.motion.body
    weight = body.mass_kg * G
    wins = _windows(analysis, kinetics.motion.n_frames)
    out: dict[str, dict[str, np.ndarray]] = {"moment": {}, "grf": {}, "activation": {}}
    for d in _dof_names():
        x = kinetics.moment(d)
        out["moment"][d] = np.stack([_resample(x[a:b], n) for a, b in wins])
    for foot, g in kinetics.grf.items():
        out["grf"][foot] = np.stack([_resample(g[a:b, 1] / weight, n) for a, b in wins])
    if kinetics.activations is not None:
        for m in KEY_MOMENTS:
            for s in "rl":
                for sign in "+-":
                    x = kinetics.activation(f"{m}_{s}{sign}")
                    out["activation"][f"{m}_{s}{sign}"] = np.stack([_resample(x[a:b], n) for a, b in wins])
    return out
