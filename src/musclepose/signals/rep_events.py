"""The event table of a set: per repetition and per side, what the coach answers questions from.

:class:`MotionEvents` holds one :class:`RepEvents` per repetition: its phase durations, its depth
per side (peak knee flexion for the legs, elbow flexion for the arms), its peak extensor moments
per side (trusted frames only), and per fault of the exercise a :class:`FaultEvent`: the fault's
observable on that repetition alone (signed: larger = more of the fault), per side where the
observable has sides, and the phase in which it peaks. :func:`fault_signal` and
:func:`peak_phase` are the per-frame views those events are measured with. The table is built by
:func:`musclepose.pipelines.motion_events.motion_events`; the answerer
(:mod:`musclepose.language.answers`), the PhysicsBridge's event tokens and the report read it.

Conventions: repetitions 0-based here, 1-based in words; sides ``"r"``/``"l"``; times in s from the
recording's start; phases in words: ``lowering`` (eccentric), ``bottom``, ``rising`` (concentric),
``top`` (lockout); degrees, cm, N·m/kg.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..catalogue import exercise as catalogue_exercise
from ..catalogue import observables as ob
from ..catalogue.types import Observation

__all__ = [
    "FIXED_PHASE",
    "N_BASE_FEATURES",
    "PHASE_WORDS",
    "FaultEvent",
    "MotionEvents",
    "RepEvents",
    "fault_signal",
    "fixed_phase",
    "peak_phase",
]

#: Features of an event token before the per-fault ones (:meth:`MotionEvents.token_features`).
N_BASE_FEATURES = 13
#: The analysis' phase names in words.
PHASE_WORDS = {"eccentric": "lowering", "bottom": "bottom", "concentric": "rising", "lockout": "top"}
#: Faults that belong to one phase by what they are (no per-frame signal decides it).
FIXED_PHASE = {"rushed_eccentric": "lowering", "shallow_depth": "bottom", "partial_range": "bottom",
               "incomplete_lockout": "top"}  # fmt: skip
#: The same per exercise where the fault's observable says so (a deadlift's "forward lean" is the
#: hips rising before the bar: the pull).
_FIXED_BY_EXERCISE = {("deadlift", "forward_lean"): "rising"}


def fixed_phase(exercise: str | None, fault: str) -> str | None:
    """The phase ``fault`` belongs to by definition in ``exercise`` (None: its signal decides)."""
    return _FIXED_BY_EXERCISE.get((exercise or "", fault), FIXED_PHASE.get(fault))


def _sided(by_side: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {s: np.asarray(by_side[s], dtype=np.float64) for s in ("r", "l")}


def fault_signal(o: Observation, fault: str, exercise: str | None = None) -> dict[str, np.ndarray] | np.ndarray | None:
    """The per-frame quantity a coach watches for ``fault`` on ``o``: a dict of the two sides
    (``"r"``/``"l"`` -> ``(T,)``) for sided observables, one ``(T,)`` array otherwise, None for a
    fault that has no per-frame view (its phase is :data:`FIXED_PHASE`'s). Larger = more fault."""
    if fault == "knee_valgus":
        return _sided(ob.knee_medial_by_side_cm(o))
    if fault == "elbow_flare":
        return _sided(ob.elbow_out_by_side_cm(o))
    if fault == "heel_lift":
        return _sided(ob.heel_rise_by_side_cm(o))
    if fault == "asymmetric_drive":
        if exercise is not None and _upper(exercise):
            return None
        shift = np.nan_to_num(ob.weight_shift_pct(o))  # + : more load on the right; NaN: not on the feet
        return {"r": np.maximum(shift, 0.0), "l": np.maximum(-shift, 0.0)}
    if fault == "forward_lean":
        return ob.trunk_inclination_deg(o)
    if fault == "lumbar_flexion":
        return ob.dof_deg(o, "lumbar_flexion")
    if fault == "lumbar_hyperextension":
        return -ob.dof_deg(o, "lumbar_flexion")
    if fault == "hip_sag":
        return -ob.mean_sides(o, "hip_flexion") - ob.dof_deg(o, "lumbar_flexion")
    if fault == "hip_pike":
        return ob.mean_sides(o, "hip_flexion")
    if fault == "bar_path_drift":
        return ob.back_bar_drift_cm(o) if exercise == "squat" else ob.load_drift_cm(o)
    return None


def _upper(exercise: str) -> bool:
    ex = catalogue_exercise(exercise)
    return bool(ex is not None and ex.upper_body)


def peak_phase(values: np.ndarray, start: int, end: int, phases: list[tuple[str, int, int]], fps: float,
               tolerance_s: float = 0.15) -> tuple[str | None, int | None]:  # fmt: skip
    """The phase (in words) in which ``values`` rises most above its value at the repetition's start
    frame ``start`` within ``[start, end]``, and that frame; ``phases``: ``(name, first, last)`` frames
    of the repetition's phases (analysis names). A peak within ``tolerance_s`` of the bottom phase
    counts as the bottom (a turning point held for a few frames, noise moves the exact maximum)."""
    v = np.asarray(values, dtype=np.float64)[start : end + 1]
    if not np.isfinite(v).any():
        return None, None
    base = v[np.isfinite(v)][0]
    k = start + int(np.nanargmax(v - base))
    for name, a, b in phases:
        if name == "bottom" and a - tolerance_s * fps <= k <= b + tolerance_s * fps:
            return "bottom", k
    for name, a, b in phases:
        if a <= k <= b:
            return PHASE_WORDS.get(name, name), k
    return None, k


@dataclass(frozen=True)
class FaultEvent:
    """One fault on one repetition: ``value`` its signed observable on that repetition (the
    catalogue's measure; larger = more fault), ``by_side`` the per-side range of its per-frame
    signal within the repetition (sided observables), ``phase`` where it peaks (in words),
    ``peak_s`` when."""

    value: float | None
    by_side: Mapping[str, float | None] | None = None  # per side: the signal's range within the repetition
    phase: str | None = None
    peak_s: float | None = None

    def side(self, ratio: float = 1.25) -> str | None:
        """``"r"``/``"l"`` if one side's value is at least ``ratio`` times the other's, ``"both"``
        if they are close, None without sides."""
        if not self.by_side:
            return None
        r, l = (max(self.by_side.get(s) or 0.0, 0.0) for s in ("r", "l"))
        if max(r, l) <= 0:
            return None
        if r >= ratio * l and r > l:
            return "r"
        if l >= ratio * r and l > r:
            return "l"
        return "both"

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "by_side": None if self.by_side is None else dict(self.by_side),
                "phase": self.phase, "peak_s": self.peak_s}  # fmt: skip


@dataclass(frozen=True)
class RepEvents:
    """One repetition (module docstring); None where a value was not measured or not trusted."""

    index: int
    start_s: float
    extreme_s: float
    end_s: float
    phases_s: Mapping[str, float | None]  # lowering, bottom, rising, top -> duration
    depth_deg: Mapping[str, float | None]  # r, l
    moments: Mapping[str, Mapping[str, float | None]] = field(default_factory=dict)  # joint -> r/l -> N m/kg
    faults: Mapping[str, FaultEvent] = field(default_factory=dict)
    trusted_share: float = 1.0
    flagged: tuple[str, ...] = ()  # the faults the form screen finds on this repetition's own measures

    @property
    def depth(self) -> float | None:
        """Mean of the two sides' depth (deg), or the one side measured."""
        v = [x for x in self.depth_deg.values() if x is not None]
        return float(np.mean(v)) if v else None

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def moment(self, joint: str) -> float | None:
        """The larger side's peak extensor moment of ``joint`` (N·m/kg)."""
        v = [x for x in (self.moments.get(joint) or {}).values() if x is not None]
        return max(v) if v else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "repetition": self.index + 1, "start_s": self.start_s, "extreme_s": self.extreme_s, "end_s": self.end_s,
            "phases_s": dict(self.phases_s), "depth_deg": dict(self.depth_deg),
            "peak_extensor_moment_nm_per_kg": {j: dict(v) for j, v in self.moments.items()},
            "faults": {k: v.to_dict() for k, v in self.faults.items()}, "trusted_share": self.trusted_share,
            "flagged_faults": list(self.flagged),
        }  # fmt: skip


@dataclass(frozen=True)
class MotionEvents:
    """The event table of one recording or clip (module docstring).

    ``limb``: ``"leg"`` or ``"arm"`` (what depth and moments are of); ``source``: ``"motion"`` (a
    recorded or fitted motion) or ``"encoder"`` (the encoder's motion predicted from channels);
    ``screened``: the faults the form screen found, most severe first, with ``fault_sides`` (the
    screen's or the events' side); ``missing``: what the recording cannot tell (``"kinetics"``,
    ``"arms"``, ``"legs"``, ``"sides"`` ...) -> why; ``notes``: the analysis' reliability notes;
    ``ground_reactions``: the source of the moments' ground reactions."""

    exercise: str | None
    limb: str
    fps: float
    reps: tuple[RepEvents, ...]
    source: str = "motion"
    has_kinetics: bool = False
    screened: tuple[str, ...] = ()
    fault_sides: Mapping[str, str | None] = field(default_factory=dict)
    missing: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    grade: str | None = None
    #: Where the moments' ground reactions came from: ``"force plates"``, ``"estimated"`` (from the
    #: motion) or None (no kinetics). Not in :meth:`to_dict` (the prepared QA clips' stored tables,
    #: whose hashes their checkpoint records, predate it).
    ground_reactions: str | None = None

    @property
    def n_reps(self) -> int:
        return len(self.reps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "exercise": self.exercise, "limb": self.limb, "fps": self.fps, "source": self.source,
            "has_kinetics": self.has_kinetics,
            "screened_faults": list(self.screened), "fault_sides": dict(self.fault_sides),
            "missing": dict(self.missing), "notes": list(self.notes), "grade": self.grade,
            "reps": [r.to_dict() for r in self.reps],
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> MotionEvents:
        """The inverse of :meth:`to_dict`."""
        reps = tuple(
            RepEvents(
                index=int(r["repetition"]) - 1, start_s=r["start_s"], extreme_s=r["extreme_s"], end_s=r["end_s"],
                phases_s=r["phases_s"], depth_deg=r["depth_deg"], moments=r["peak_extensor_moment_nm_per_kg"],
                faults={k: FaultEvent(v["value"], v["by_side"], v["phase"], v["peak_s"])
                        for k, v in r["faults"].items()},
                trusted_share=r["trusted_share"], flagged=tuple(r.get("flagged_faults") or ()),
            )
            for r in d["reps"]
        )  # fmt: skip
        return cls(d["exercise"], d["limb"], float(d.get("fps") or 0.0), reps, d["source"], d["has_kinetics"],
                   tuple(d["screened_faults"]), d["fault_sides"], d["missing"], tuple(d["notes"]),
                   d.get("grade"))  # fmt: skip

    def token_features(self, fault_names: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The PhysicsBridge's event tokens: one per repetition and side, ``(features (N, F), rep (N,),
        side (N,))`` with ``side`` 0 right, 1 left. Features (order fixed by ``fault_names``, the
        encoder's fault list): the repetition's place in the set, its duration and phase durations
        (s), this side's and the mean depth (/100 deg), this side's knee and hip (or elbow and
        shoulder) peak extensor moments (N·m/kg), the trusted share, whether kinetics exist; per
        fault its value on this side (sided) or the repetition (/10, clipped), whether the screen
        flags it on this repetition, and the phase of its peak (one-hot). The same facts as
        :meth:`table_lines`, no ranks or answers."""
        joints = ("elbow", "shoulder") if self.limb == "arm" else ("knee", "hip")
        rows, reps, sides = [], [], []
        n = max(len(self.reps), 1)
        for r in self.reps:
            for k, s in enumerate(("r", "l")):
                ph = [r.phases_s.get(p) for p in ("lowering", "bottom", "rising", "top")]
                base = [r.index / 12.0, n / 12.0, r.duration_s, *[0.0 if x is None else x for x in ph],
                        (r.depth_deg.get(s) or 0.0) / 100.0, (r.depth or 0.0) / 100.0,
                        *[((r.moments.get(j) or {}).get(s) or 0.0) for j in joints], r.trusted_share,
                        float(self.has_kinetics)]  # fmt: skip
                per = []
                for f in fault_names:
                    e = r.faults.get(f)
                    v = None if e is None else ((e.by_side or {}).get(s) if e.by_side else e.value)
                    onehot = [float(e is not None and e.phase == p) for p in ("lowering", "bottom", "rising", "top")]
                    per += [float(np.clip((v or 0.0) / 10.0, -10.0, 10.0)), float(f in r.flagged), *onehot]
                rows.append(base + per)
                reps.append(r.index)
                sides.append(k)
        f_dim = N_BASE_FEATURES + 6 * len(fault_names)
        feats = np.asarray(rows, dtype=np.float32).reshape(-1, f_dim)
        return np.nan_to_num(feats), np.asarray(reps, dtype=np.int64), np.asarray(sides, dtype=np.int64)

    def table_lines(self) -> list[str]:
        """A compact per-repetition table (the prompt of the LLM that reads the table instead of
        soft tokens): one header and one line per repetition, values rounded as answers state them."""
        joint = "elbow" if self.limb == "arm" else "knee"
        faults = [f for f in self.screened if any(f in r.faults for r in self.reps)]
        head = ["rep", "depth R/L deg", "down/bottom/up s"]
        if self.has_kinetics:
            head.append(f"{joint} moment R/L N·m/kg")
        sided = {f for f in faults if any((r.faults.get(f) or FaultEvent(None)).by_side for r in self.reps)}
        head += [f"{f.replace('_', ' ')}{' R/L' if f in sided else ''} (phase)" for f in faults]
        lines = [" | ".join(head)]
        for r in self.reps:
            d = r.depth_deg
            row = [str(r.index + 1), f"{_f0(d.get('r'))}/{_f0(d.get('l'))}",
                   "/".join(_f1(r.phases_s.get(p)) for p in ("lowering", "bottom", "rising"))]  # fmt: skip
            if self.has_kinetics:
                m = r.moments.get(joint) or {}
                row.append(f"{_f2(m.get('r'))}/{_f2(m.get('l'))}")
            for f in faults:
                e = r.faults.get(f)
                if e is None:
                    row.append("-")
                elif e.by_side:
                    row.append(f"{_f1(e.by_side.get('r'))}/{_f1(e.by_side.get('l'))} ({e.phase or '-'})")
                else:
                    row.append(f"{_f1(e.value)} ({e.phase or '-'})")
            lines.append(" | ".join(row))
        return lines


def _f0(v: float | None) -> str:
    return "-" if v is None else f"{v:.0f}"


def _f1(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def _f2(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"
