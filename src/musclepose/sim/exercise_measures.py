"""What a coach looks at, measured on a generated Motion: the observables of the form faults.

Each function takes a :class:`~musclepose.motion.core.Motion` made by
:func:`musclepose.sim.exercises.generate` (it reads the repetition times from its metadata)
and returns one number, averaged over the repetitions: joint angles in degrees at the
repetition's extreme (the bottom of a squat, the top of a press), heights and distances in
cm, durations in s. The fault tests compare them between a clip with and without a fault.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..body import forward_kinematics
from .exercise_ik import contact_point_local

__all__ = [
    "asymmetry",
    "at_extremes",
    "back_bar_drift_cm",
    "dof_deg",
    "elbow_out_cm",
    "excursion",
    "heel_height_cm",
    "hips_first",
    "knee_medial_cm",
    "lead_at_extremes",
    "lead_heel_height_cm",
    "mean_sides",
    "load_drift_cm",
    "phase_duration",
    "rep_max",
    "rep_min",
    "shank_inclination_deg",
    "stance_width_cm",
    "trunk_inclination_deg",
]


_LAST_FK: list = []  # (q, fk) of the last Motion measured: several measures share one FK pass


def share_fk(motion: Any, fk: Any) -> None:
    """Let the measures use ``fk``, the caller's ``forward_kinematics`` of ``motion.q`` (float64, CPU)."""
    _LAST_FK[:] = [(motion.q, fk)]


def _fk(motion: Any):
    if _LAST_FK and _LAST_FK[0][0] is motion.q:
        return _LAST_FK[0][1]
    with torch.no_grad():
        fk = forward_kinematics(motion.body, motion.q.detach().to(torch.float64).cpu())
    _LAST_FK[:] = [(motion.q, fk)]
    return fk


def dof_deg(motion: Any, name: str) -> np.ndarray:
    return np.degrees(motion.q[:, motion.body.dof_index(name)].detach().cpu().numpy())


def extreme_frames(motion: Any) -> np.ndarray:
    fps = float(motion.fps)
    return np.array([int(round(r["extreme_s"] * fps)) for r in motion.metadata["reps"]])


def at_extremes(motion: Any, values: np.ndarray) -> float:
    """Mean of ``values (T,)`` at the repetitions' extreme frames."""
    return float(np.mean(np.asarray(values)[extreme_frames(motion)]))


def rep_max(motion: Any, values: np.ndarray) -> float:
    """Mean over repetitions of the maximum of ``values`` between each repetition's start and end."""
    fps = float(motion.fps)
    out = []
    for r in motion.metadata["reps"]:
        a, b = int(round(r["start_s"] * fps)), int(round(r["end_s"] * fps)) + 1
        out.append(np.max(np.asarray(values)[a:b]))
    return float(np.mean(out))


def trunk_inclination_deg(motion: Any) -> np.ndarray:
    """Angle of the thorax's long axis from vertical (deg), whichever way it leans."""
    fk = _fk(motion)
    y = fk.rotations[:, motion.body.segment_index("thorax"), :, 1].numpy()
    return np.degrees(np.arccos(np.clip(y[:, 1], -1.0, 1.0)))


def shank_inclination_deg(motion: Any) -> np.ndarray:
    """Mean angle of the two shanks' long axes from vertical (deg)."""
    fk = _fk(motion)
    b = motion.body
    y = fk.rotations[:, [b.segment_index("shank_r"), b.segment_index("shank_l")], :, 1].numpy()
    return np.degrees(np.arccos(np.clip(y[..., 1], -1.0, 1.0))).mean(axis=1)


def _heels_cm(motion: Any) -> dict[str, np.ndarray]:
    fk = _fk(motion)
    heel = torch.as_tensor(contact_point_local(motion.body, "heel"))
    out = {}
    for s in ("r", "l"):
        i = motion.body.segment_index(f"foot_{s}")
        out[s] = 100.0 * (fk.origins[:, i, 1] + (fk.rotations[:, i] @ heel)[:, 1]).numpy()
    return out


def heel_height_cm(motion: Any) -> np.ndarray:
    """Height of the higher heel point above the floor (cm)."""
    h = _heels_cm(motion)
    return np.maximum(h["r"], h["l"])


def lead_heel_height_cm(motion: Any) -> float:
    """Height of the lead (front) foot's heel at each repetition's extreme, averaged (lunges; cm)."""
    h = _heels_cm(motion)
    fps = float(motion.fps)
    return float(np.mean([h[r["lead"]][int(round(r["extreme_s"] * fps))] for r in motion.metadata["reps"]]))


def back_bar_drift_cm(motion: Any) -> np.ndarray:
    """Horizontal distance (cm) in front of the mid-foot of the bar seat on the upper back (see ``load_spec``)."""
    from .exercise_base import load_spec

    spec = load_spec(motion.body, 1.0, "back")
    fk = _fk(motion)
    th = motion.body.segment_index("thorax")
    p = fk.origins[:, th] + fk.rotations[:, th] @ torch.as_tensor(np.asarray(spec["points_local"][0]))
    return 100.0 * p[:, 0].numpy() - _midfoot_x_cm(motion)


def _midfoot_x_cm(motion: Any) -> np.ndarray:
    fk = _fk(motion)
    body = motion.body
    mid = 0.5 * (
        torch.as_tensor(contact_point_local(body, "ball")) + torch.as_tensor(contact_point_local(body, "heel"))
    )
    xs = [
        (fk.origins[:, i] + fk.rotations[:, i] @ mid)[:, 0]
        for i in (body.segment_index("foot_r"), body.segment_index("foot_l"))
    ]
    return 100.0 * (0.5 * (xs[0] + xs[1])).numpy()


def load_drift_cm(motion: Any) -> np.ndarray:
    """Horizontal (x) distance of the load (or the hands) in front of the mid-foot (cm)."""
    from .exercises import load_position

    return 100.0 * load_position(motion)[:, 0] - _midfoot_x_cm(motion)


def rep_min(motion: Any, values: np.ndarray) -> float:
    """Mean over repetitions of the minimum of ``values`` between each repetition's start and end."""
    return -rep_max(motion, -np.asarray(values))


def mean_sides(m, name: str) -> np.ndarray:
    return 0.5 * (dof_deg(m, f"{name}_r") + dof_deg(m, f"{name}_l"))


def lead_at_extremes(m, name: str) -> float:
    """``name`` of the lunge's lead (front) leg at each repetition's extreme, averaged."""
    fps = float(m.fps)
    out = [dof_deg(m, f"{name}_{r['lead']}")[int(round(r["extreme_s"] * fps))] for r in m.metadata["reps"]]
    return float(np.mean(out))


def asymmetry(m) -> float:
    pairs = ("hip_adduction", "knee_flexion", "elbow_flexion", "shoulder_abduction")
    diff = np.max([np.abs(dof_deg(m, f"{p}_r") - dof_deg(m, f"{p}_l")) for p in pairs], axis=0)
    return rep_max(m, diff)


def stance_width_cm(m) -> np.ndarray:
    fk = _fk(m)
    b = m.body
    z = fk.origins[:, [b.segment_index("foot_r"), b.segment_index("foot_l")], 2].numpy()
    return 100.0 * (z[:, 0] - z[:, 1])


def excursion(m, values: np.ndarray) -> float:
    """Mean over repetitions of the largest rise of ``values`` above its value at the repetition's start."""
    fps = float(m.fps)
    v = np.asarray(values)
    out = []
    for r in m.metadata["reps"]:
        a, b = int(round(r["start_s"] * fps)), int(round(r["end_s"] * fps)) + 1
        out.append(np.max(v[a:b]) - v[min(a, len(v) - 1)])
    return float(np.mean(out))


def phase_duration(m, phase: str) -> float:
    """Mean duration (s) of the repetitions' phases called ``phase``."""
    spans = [ph["end_s"] - ph["start_s"] for r in m.metadata["reps"] for ph in r["phases"] if ph["name"] == phase]
    if not spans:
        raise ValueError(f"no {phase} phase")
    return float(np.mean(spans))


def _off_plane(v: torch.Tensor, *axes: torch.Tensor) -> torch.Tensor:
    """``v`` minus its components along the unit ``axes`` (applied in turn)."""
    for a in axes:
        v = v - (v * a).sum(-1, keepdim=True) * a
    return v


def _swivel_cm(base, middle, end, reference, away) -> np.ndarray:
    """Distance (cm) of the ``middle`` joint from the plane through the ``base``-``end`` line that
    contains ``reference``, positive towards ``away``; all (T, 3) world vectors."""
    unit = torch.nn.functional.normalize
    n = unit(end - base, dim=-1)
    r = unit(_off_plane(reference, n), dim=-1)
    md = unit(_off_plane(away, n, r), dim=-1)
    return 100.0 * ((middle - base) * md).sum(-1).numpy()


def elbow_out_cm(m) -> np.ndarray:
    """How far (cm) the elbow sits out to the side of the plane through the shoulder-wrist line
    and the trunk's long axis (the elbow tucked under the bar), the larger side, per frame."""
    fk = _fk(m)
    b = m.body
    th = fk.rotations[:, b.segment_index("thorax")]
    out = []
    for s, z in (("r", 1.0), ("l", -1.0)):
        sh, el, wr = (fk.origins[:, b.segment_index(f"{seg}_{s}")] for seg in ("upperarm", "forearm", "hand"))
        out.append(_swivel_cm(sh, el, wr, -th[:, :, 1], z * th[:, :, 2]))
    return np.maximum(out[0], out[1])


def hips_first(m) -> float:
    """The share of the trunk's inclination still held when the knees are half-way through their
    extension in the concentric phase (0: trunk and knees extend together ... 1: the knees
    straighten first and the hips rise before the bar), averaged over repetitions."""
    fps = float(m.fps)
    knee = mean_sides(m, "knee_flexion")
    incl = trunk_inclination_deg(m)
    out = []
    for r in m.metadata["reps"]:
        for ph in r["phases"]:
            if ph["name"] != "concentric":
                continue
            a, b = int(round(ph["start_s"] * fps)), min(int(round(ph["end_s"] * fps)), len(knee) - 1)
            if b - a < 3 or abs(incl[a] - incl[b]) < 1.0:
                continue
            half = np.flatnonzero((knee[a : b + 1] - knee[b]) <= 0.5 * (knee[a] - knee[b]))
            k = a + int(half[0]) if len(half) else b
            out.append((incl[k] - incl[b]) / (incl[a] - incl[b]))
    if not out:
        raise ValueError("no concentric phase")
    return float(np.mean(out))


def knee_medial_cm(m) -> np.ndarray:
    """How far (cm) the knee sits medial of the plane through the hip-ankle line and the foot's
    long axis (the knee tracking over the toes), the larger of the two sides, per frame. This
    is the frontal-plane knee-over-foot check coaches use; unlike hip adduction it does not
    change with stance width or toe-out."""
    fk = _fk(m)
    b = m.body
    out = []
    for s, z in (("r", 1.0), ("l", -1.0)):
        hip, knee, ankle = (fk.origins[:, b.segment_index(f"{seg}_{s}")] for seg in ("thigh", "shank", "foot"))
        forward = fk.rotations[:, b.segment_index(f"foot_{s}"), :, 0]
        medial = torch.tensor([0.0, 0.0, -z], dtype=hip.dtype).expand_as(hip)
        out.append(_swivel_cm(hip, knee, ankle, forward, medial))
    return np.maximum(out[0], out[1])
