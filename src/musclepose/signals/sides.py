"""Left and right: each repetition's depth, peak extensor moments and load share per side, and the
asymmetry line (its size and the normal range).

Legs for lower-body exercises (depth: peak knee flexion; moments: hip and knee extensors, ankle
plantarflexors; load: each foot's share of the vertical impulse), arms for upper-body ones (depth:
peak elbow flexion; moments: elbow extensors and shoulder flexion, largest magnitude). Only
trusted frames count (:mod:`.plausibility`). Differences are right minus left: degrees for depth,
per cent of the two sides' mean for moments; the load share is the right side's, in %. Normal
ranges are the exercise's :class:`~musclepose.catalogue.SymmetryNorms`. A side whose limb a camera
did not see (a motion fitted from a video whose ``video_fit`` metadata lists the elbow or wrist, knee
or ankle among ``unseen_points``) is the fit's prior, not a measurement: it is not compared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..catalogue import SymmetryNorms
from ..catalogue import exercise as catalogue_exercise

__all__ = ["Asymmetry", "RepSides", "side_reports", "unseen_sides"]

# (joint label, DoF stem, sign that makes the extensor moment positive) per limb.
_LEG_MOMENTS = (("hip", "hip_flexion", -1.0), ("knee", "knee_flexion", -1.0), ("ankle", "ankle_dorsiflexion", -1.0))
_ARM_MOMENTS = (("elbow", "elbow_flexion", -1.0), ("shoulder", "shoulder_flexion", 0.0))  # 0: magnitude


_LIMB_POINTS = {"arm": ("elbow", "wrist"), "leg": ("knee", "ankle")}
_SIDE_WORD = {"r": "right", "l": "left"}


def unseen_sides(motion: Any, limb: str) -> tuple[str, ...]:
    """The sides (``"r"``, ``"l"``) whose ``limb`` ("arm" or "leg") the camera behind ``motion`` did not see."""
    meta = getattr(motion, "metadata", None)
    fit = meta.get("video_fit") if isinstance(meta, dict) else None
    unseen = set((fit or {}).get("unseen_points") or ()) if isinstance(fit, dict) else set()
    return tuple(s for s in "rl" if any(f"{_SIDE_WORD[s]}_{p}" in unseen for p in _LIMB_POINTS[limb]))


def _num(v: float) -> float | None:
    return float(v) if v is not None and np.isfinite(v) else None


@dataclass(frozen=True)
class RepSides:
    """One repetition, per side (``"r"``, ``"l"``): ``depth_deg``, peak extensor ``moments``
    (joint -> side -> N m/kg) and the right side's ``load_share_pct``; None where not measured."""

    index: int
    depth_deg: dict[str, float | None]
    moments: dict[str, dict[str, float | None]] = field(default_factory=dict)
    load_share_pct: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "depth_deg": self.depth_deg, "peak_extensor_moment_nm_per_kg": self.moments,
                "load_share_right_pct": self.load_share_pct}  # fmt: skip


@dataclass(frozen=True)
class Asymmetry:
    """Mean side differences over the repetitions, with the normal ranges (module docstring)."""

    limb: str
    depth_deg: float | None
    moment_pct: dict[str, float]
    load_share_pct: float | None
    norms: SymmetryNorms
    unseen: tuple[str, ...] = ()  # sides the camera did not see: not compared

    def outside(self) -> list[str]:
        """The measures outside their normal range, in words."""
        out = []
        if self.load_share_pct is not None and abs(self.load_share_pct - 50.0) > self.norms.load_share_pct:
            out.append("load share")
        if self.depth_deg is not None and abs(self.depth_deg) > self.norms.depth_deg:
            out.append("depth")
        out += [f"{j} moment" for j, v in self.moment_pct.items() if abs(v) > self.norms.moment_pct]
        return out

    def line(self) -> str:
        """One line: sizes, normal ranges and the verdict."""
        n = self.norms
        parts = []
        if self.load_share_pct is not None:
            lo, hi = 50.0 - n.load_share_pct, 50.0 + n.load_share_pct
            parts.append(f"load R {self.load_share_pct:.0f} % / L {100 - self.load_share_pct:.0f} % "
                         f"(normal {lo:.0f}-{hi:.0f} %)")  # fmt: skip
        if self.depth_deg is not None:
            parts.append(f"depth R-L {self.depth_deg:+.1f} deg (normal within {n.depth_deg:g})")
        if self.moment_pct:
            ms = ", ".join(f"{j} {v:+.0f} %" for j, v in self.moment_pct.items())
            parts.append(f"extensor moments R-L {ms} (normal within {n.moment_pct:g} %)")
        if not parts:
            why = " and ".join(f"the {_SIDE_WORD[s]} {self.limb}" for s in self.unseen)
            return f"{self.limb} asymmetry: not measured" + (f" (the camera does not see {why})" if why else "")
        bad = self.outside()
        verdict = "outside the normal range: " + ", ".join(bad) if bad else "within the normal range"
        return f"{self.limb} asymmetry: " + "; ".join(parts) + f" -- {verdict}"

    def to_dict(self) -> dict[str, Any]:
        n = self.norms
        return {
            "limb": self.limb,
            "depth_difference_deg": self.depth_deg,
            "moment_difference_pct": self.moment_pct,
            "load_share_right_pct": self.load_share_pct,
            "normal": {"depth_difference_deg": n.depth_deg, "moment_difference_pct": n.moment_pct,
                       "load_share_right_pct": [50.0 - n.load_share_pct, 50.0 + n.load_share_pct]},
            "outside_normal": self.outside(),
            "unseen_sides": list(self.unseen),
            "text": self.line(),
        }  # fmt: skip


def _peak(x: np.ndarray, mask: np.ndarray) -> float | None:
    v = x[mask]
    return _num(float(v.max())) if len(v) else None


def side_reports(
    motion: Any, windows: list[tuple[int, int]], kinetics: Any = None, reliability: Any = None,
    exercise: str | None = None,
) -> tuple[list[RepSides], Asymmetry]:  # fmt: skip
    """Per repetition (``windows``: ``(start, end)`` frames, inclusive) the :class:`RepSides`, and
    the :class:`Asymmetry` over them (module docstring)."""
    ex = catalogue_exercise(exercise) if exercise else None
    upper = bool(ex and ex.upper_body)
    norms = ex.symmetry if ex is not None else SymmetryNorms()
    body = motion.body
    q = motion.q.detach().cpu().numpy()  # in degrees per repetition below (not a copy of the whole)
    t = len(q)
    trusted = reliability.trusted if reliability is not None else np.ones(t, dtype=bool)
    trusted_k = reliability.trusted_kinetics if reliability is not None else np.ones(t, dtype=bool)
    depth_dof = "elbow_flexion" if upper else "knee_flexion"
    moments_of = _ARM_MOMENTS if upper else _LEG_MOMENTS
    hidden = unseen_sides(motion, "arm" if upper else "leg")
    has_kin = kinetics is not None and kinetics.motion.n_frames == t
    tau = kinetics.tau.detach().cpu().numpy() if has_kin else None
    mass = kinetics.mass_kg if has_kin else 1.0
    reps = []
    for k, (a, b) in enumerate(windows):
        # Each repetition's own frames (a slice, not a mask over the whole recording: an hour holds
        # over a thousand repetitions).
        win = slice(a, b + 1)
        depth = {s: None if s in hidden else _peak(np.degrees(q[win, body.dof_index(f"{depth_dof}_{s}")]), trusted[win])
                 for s in "rl"}  # fmt: skip
        moments: dict[str, dict[str, float | None]] = {}
        share = None
        if has_kin:
            m = trusted_k[win]
            for label, stem, sign in moments_of:
                moments[label] = {}
                for s in "rl":
                    x = tau[win, body.dof_index(f"{stem}_{s}")] / mass  # kinetics.per_kg's column
                    moments[label][s] = None if s in hidden else _peak(sign * x if sign else np.abs(x), m)
            if not upper and m.any() and not hidden:
                r, l = (np.clip(kinetics.grf[f][win][m, 1], 0.0, None).sum() for f in ("foot_r", "foot_l"))
                share = _num(100.0 * r / (r + l)) if r + l > 0 else None
        reps.append(RepSides(k, depth, moments, share))
    return reps, _asymmetry(reps, "arm" if upper else "leg", norms, hidden)


def _asymmetry(reps: list[RepSides], limb: str, norms: SymmetryNorms, unseen: tuple[str, ...] = ()) -> Asymmetry:
    def mean(vals):
        vals = [v for v in vals if v is not None]
        return float(np.mean(vals)) if vals else None

    depth = mean([r.depth_deg["r"] - r.depth_deg["l"] for r in reps
                  if r.depth_deg["r"] is not None and r.depth_deg["l"] is not None])  # fmt: skip
    moment_pct = {}
    for joint in reps[0].moments if reps else {}:
        diffs = []
        for r in reps:
            a, b = r.moments[joint]["r"], r.moments[joint]["l"]
            if a is not None and b is not None and a + b > 1e-6:
                diffs.append(200.0 * (a - b) / (a + b))
        if diffs:
            moment_pct[joint] = float(np.mean(diffs))
    return Asymmetry(limb, depth, moment_pct, mean([r.load_share_pct for r in reps]), norms, unseen)
