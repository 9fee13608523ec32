"""Building the event table (:class:`~musclepose.signals.rep_events.MotionEvents`) of an analysed motion.

:func:`motion_events` reads the analysis' repetitions, phases and per-side depths and moments
(:mod:`musclepose.signals.sides`, trusted frames only) and measures each fault of the exercise on
each repetition alone: the catalogue's observable on an observation of that one repetition (the
code the form screen measures whole sets with, :mod:`.form_screen`), the per-side peak of its
per-frame signal's range within the repetition, and the phase of that peak. The form screen, run on
each repetition's own measures, says on which repetitions a screened fault shows. What the
recording cannot tell is listed in ``missing`` with the reason: kinetics that were not computed,
limbs whose joints the recording never moves (an OpenSim table without arm coordinates, a
skeleton without them), left and right for the seven channels (each is a mean of both sides).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ..body import FKResult, forward_kinematics
from ..catalogue import EXERCISES, SIDED_FAULTS, Observation, Rep, measure_faults
from ..catalogue import exercise as catalogue_exercise
from ..language.prompts import DetectedFault
from ..motion import Motion
from ..signals.rep_events import FaultEvent, MotionEvents, RepEvents, fault_signal, fixed_phase, peak_phase
from ..signals.sides import unseen_sides
from .form_screen import FormScreen, grf_in_bw, is_video, measure_reps

__all__ = ["CHANNELS_HAVE_NO_SIDES", "FaultSignals", "motion_events", "recording_lacks"]

CHANNELS_HAVE_NO_SIDES = (
    "the seven channels are means of the left and right sides, so this recording cannot tell one side from the other"
)
_LIMB_DOFS = {"arms": ("elbow_flexion_r", "elbow_flexion_l", "shoulder_flexion_r", "shoulder_flexion_l"),
              "legs": ("knee_flexion_r", "knee_flexion_l", "hip_flexion_r", "hip_flexion_l")}  # fmt: skip


def recording_lacks(motion: Any) -> dict[str, str]:
    """Limbs (``"arms"``, ``"legs"``) whose joints the recording does not measure -> why: DoFs an
    OpenSim table leaves unset, or that stay constant over the whole recording (to 0.01 deg)."""
    unset = set(((motion.metadata or {}).get("opensim") or {}).get("unset_dofs") or ())
    q = motion.q.detach().cpu().numpy()
    out = {}
    for limb, dofs in _LIMB_DOFS.items():
        idx = [motion.body.dof_index(d) for d in dofs]
        if all(d in unset for d in dofs):
            out[limb] = f"the recording has no {limb[:-1]} coordinates (its table does not set {', '.join(dofs[:2])})"
        elif np.all(np.ptp(q[:, idx], axis=0) < np.radians(0.01)):
            out[limb] = f"the {limb} never move in the recording (their joints stay fixed: not measured)"
    return out


def _phases(rep: Any) -> list[tuple[str, int, int]]:
    return [(p.name, int(p.start), int(max(p.start, p.end - 1))) for p in rep.phases]


def _rep_observation(motion: Any, fk: FKResult, rep: dict[str, Any], grf, trusted, pad_s: float = 0.25) -> Observation:
    """An observation of one repetition, cropped to it (``pad_s`` either side): each observable then
    costs the repetition's frames, not the recording's, for every repetition."""
    fps = float(motion.fps)
    a = max(0, int(round((rep["start_s"] - pad_s) * fps)))
    b = min(motion.n_frames, int(round((rep["end_s"] + pad_s) * fps)) + 1)
    shift = a / fps
    moved = {**rep, "start_s": rep["start_s"] - shift, "extreme_s": rep["extreme_s"] - shift,
             "end_s": rep["end_s"] - shift,
             "phases": [{**p, "start_s": p["start_s"] - shift, "end_s": p["end_s"] - shift}
                        for p in rep["phases"]]}  # fmt: skip
    crop = Motion(motion.q[a:b], fps, motion.body, motion.metadata)
    fk_crop = FKResult(fk.rotations[a:b], fk.origins[a:b], fk.landmarks[a:b])
    return Observation(crop, [Rep.from_dict(moved)], _fk=fk_crop,
                       grf_bw=None if grf is None else {k: v[a:b] for k, v in grf.items()},
                       trusted=None if trusted is None else trusted[a:b])  # fmt: skip


class FaultSignals:
    """The exercise's faults measured per repetition of one motion: each fault's catalogue observable
    on the repetition alone and its per-frame signal (:func:`~musclepose.signals.rep_events.fault_signal`,
    computed once for the whole motion) peaked within the repetition (trusted frames only)."""

    def __init__(self, motion: Any, exercise: str | None, fk: FKResult, grf=None, trusted=None) -> None:
        self.motion, self.exercise, self.fk, self.grf, self.trusted = motion, exercise, fk, grf, trusted
        ex = catalogue_exercise(exercise) if exercise else None
        self.names = list(ex.faults) if ex is not None and exercise in EXERCISES else []
        whole = Observation(motion, [], _fk=fk, grf_bw=grf, trusted=trusted)
        self.signals = {}
        for name in self.names:
            try:
                self.signals[name] = fault_signal(whole, name, exercise)
            except (IndexError, KeyError, ValueError):
                self.signals[name] = None

    def rep_events(
        self, rep: dict[str, Any], start: int, end: int, phases: list[tuple[str, int, int]]
    ) -> tuple[dict[str, float], dict[str, FaultEvent]]:
        """``(measures, events)`` of one repetition: ``rep`` in :func:`.form_screen.measure_reps`' layout,
        ``start``/``end`` its frames, ``phases`` ``(name, first, last)`` frames."""
        fps, trusted = float(self.motion.fps), self.trusted
        measured = (
            measure_faults(_rep_observation(self.motion, self.fk, rep, self.grf, trusted), self.exercise)
            if self.names
            else {}
        )
        events = {}
        for name in self.names:
            sig = self.signals.get(name)
            by_side, phase, peak = None, fixed_phase(self.exercise, name), None
            if sig is not None:
                sided = isinstance(sig, dict)
                best = None
                for s, v in (sig if sided else {"": sig}).items():
                    v = np.where(trusted, v, np.nan) if trusted is not None and len(trusted) == len(v) else v
                    ph, frame = peak_phase(v, start, end, phases, fps)
                    seg = np.asarray(v, dtype=np.float64)[start : end + 1]
                    ok = seg[np.isfinite(seg)]
                    # The range within the repetition: its start is the rest posture of a squat but the
                    # fault's own posture for a lift that starts at the bottom (a deadlift from the floor).
                    rise = float(np.max(ok) - np.min(ok)) if len(ok) else None
                    if sided:
                        by_side = {**(by_side or {}), s: rise}
                    if rise is not None and (best is None or rise > best[0]):
                        best = (rise, ph, frame)
                if best is not None and phase is None:
                    phase, peak = best[1], None if best[2] is None else best[2] / fps
            events[name] = FaultEvent(measured.get(name), by_side, phase, peak)
        return measured, events


def _phase_words(rep: Any, fps: float) -> dict[str, float | None]:
    t = rep.tempo
    return {"lowering": t.eccentric, "bottom": t.bottom, "rising": t.concentric, "top": t.lockout}


def motion_events(
    motion: Any,
    analysis: Any,
    exercise: str | None,
    faults: Sequence[DetectedFault] = (),
    kinetics: Any = None,
    screen: FormScreen | None = None,
    source: str = "motion",
) -> MotionEvents:
    """The event table of ``motion`` from its ``analysis`` (:func:`musclepose.signals.analyze_motion`
    of the same motion, with ``kinetics`` if any), ``faults`` the form screen found on the whole set
    and ``screen`` to say on which repetitions each shows (module docstring)."""
    ex = catalogue_exercise(exercise) if exercise else None
    limb = "arm" if ex is not None and ex.upper_body else "leg"
    fps = float(motion.fps)
    a = analysis.to_dict()
    rel = analysis.reliability
    trusted = None if rel is None else np.asarray(rel.trusted, dtype=bool)
    grf = grf_in_bw(kinetics)
    with torch.no_grad():
        fk = forward_kinematics(motion.body, motion.q.detach().to(torch.float64).cpu())
    sets = FaultSignals(motion, exercise, fk, grf, trusted)
    sides = analysis.sides or []
    rep_dicts = measure_reps(motion, a)
    reps = []
    for k, rep in enumerate(analysis.reps):
        measured, events = sets.rep_events(rep_dicts[k], rep.start, rep.end, _phases(rep))
        flagged = (
            tuple(f.name for f in screen.screen(exercise, measured, video=is_video(motion)))
            if screen is not None and measured
            else ()
        )
        window = trusted[rep.start : rep.end + 1] if trusted is not None else None
        side = sides[k] if k < len(sides) else None
        reps.append(
            RepEvents(
                index=k, start_s=rep.start / fps, extreme_s=rep.extreme / fps, end_s=rep.end / fps,
                phases_s=_phase_words(rep, fps),
                depth_deg=dict(side.depth_deg) if side is not None else {"r": None, "l": None},
                moments={j: dict(v) for j, v in side.moments.items()} if side is not None else {},
                faults=events, trusted_share=float(window.mean()) if window is not None and len(window) else 1.0,
                flagged=flagged,
            )
        )  # fmt: skip
    missing = recording_lacks(motion)
    if kinetics is None:
        missing["kinetics"] = "no joint moments were computed for this recording"
    hidden = unseen_sides(motion, limb)
    if hidden:  # the fit's prior on a limb the camera did not see is not a measurement: no side-to-side
        which = " and ".join(f"the {'right' if s == 'r' else 'left'} {limb}" for s in hidden)
        missing["sides"] = f"the camera does not see {which}, so the sides cannot be compared"
    fault_sides = {}
    for f in faults:
        side = f.side
        if side is None and f.name in SIDED_FAULTS:
            total = {s: sum((r.faults[f.name].by_side or {}).get(s) or 0.0 for r in reps if f.name in r.faults)
                     for s in ("r", "l")}  # fmt: skip
            side = FaultEvent(None, total).side()
        fault_sides[f.name] = side
    return MotionEvents(
        exercise=exercise, limb=limb, fps=fps, reps=tuple(reps), source=source, has_kinetics=kinetics is not None,
        screened=tuple(f.name for f in faults), fault_sides=fault_sides, missing=missing,
        notes=tuple((rel.issues if rel is not None else [])[:3]), grade=analysis.grade,
        ground_reactions=getattr(kinetics, "source", None) if kinetics is not None else None,
    )  # fmt: skip
