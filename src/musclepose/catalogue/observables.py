"""What a coach looks at: the observables of the form faults, measured on any motion.

Each per-frame function takes an :class:`~.types.Observation` and returns a ``(T,)`` array;
the reducers (:func:`rep_max`, :func:`at_extremes`, ...) turn it into one number averaged
over the repetitions. Units: joint angles in degrees, heights and distances in cm,
durations in s. World Y-up, the subject faces +X, Z to the right, floor at y = 0.
"""

from __future__ import annotations

import numpy as np
import torch

from ..body.contact_points import back_bar_point_local, contact_point_local
from .types import Observation

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
    "load_drift_cm",
    "mean_sides",
    "phase_duration",
    "rep_max",
    "rep_min",
    "shank_inclination_deg",
    "stance_width_cm",
    "trunk_inclination_deg",
]


# ----------------------------------------------------------------------------- reducers
def _frame(o: Observation, t: float) -> int:
    return int(round(t * o.fps))


def at_extremes(o: Observation, values: np.ndarray) -> float:
    """Mean of ``values (T,)`` at the repetitions' extreme frames."""
    return float(np.mean(np.asarray(values)[np.array([_frame(o, r.extreme_s) for r in o.reps])]))


def rep_max(o: Observation, values: np.ndarray) -> float:
    """Mean over repetitions of the maximum of ``values`` between each repetition's start and end."""
    v = np.asarray(values)
    return float(np.mean([np.max(v[_frame(o, r.start_s) : _frame(o, r.end_s) + 1]) for r in o.reps]))


def rep_min(o: Observation, values: np.ndarray) -> float:
    """Mean over repetitions of the minimum of ``values`` between each repetition's start and end."""
    return -rep_max(o, -np.asarray(values))


def excursion(o: Observation, values: np.ndarray) -> float:
    """Mean over repetitions of the largest rise of ``values`` above its value at the repetition's start."""
    v = np.asarray(values)
    out = []
    for r in o.reps:
        a, b = _frame(o, r.start_s), _frame(o, r.end_s) + 1
        out.append(np.max(v[a:b]) - v[min(a, len(v) - 1)])
    return float(np.mean(out))


def phase_duration(o: Observation, phase: str) -> float:
    """Mean duration (s) of the repetitions' phases called ``phase``."""
    spans = [p.end_s - p.start_s for r in o.reps for p in r.phases if p.name == phase]
    if not spans:
        raise ValueError(f"no {phase} phase")
    return float(np.mean(spans))


# ----------------------------------------------------------------------------- joint angles
def dof_deg(o: Observation, name: str) -> np.ndarray:
    m = o.motion
    return np.degrees(m.q[:, m.body.dof_index(name)].detach().cpu().numpy())


def mean_sides(o: Observation, name: str) -> np.ndarray:
    return 0.5 * (dof_deg(o, f"{name}_r") + dof_deg(o, f"{name}_l"))


def lead_at_extremes(o: Observation, name: str) -> float:
    """``name`` of the lunge's lead (front) leg at each repetition's extreme, averaged."""
    return float(np.mean([dof_deg(o, f"{name}_{r.lead}")[_frame(o, r.extreme_s)] for r in o.reps]))


def asymmetry(o: Observation) -> float:
    """Largest left-right difference of hip adduction, knee, elbow or shoulder abduction (deg, rep max)."""
    pairs = ("hip_adduction", "knee_flexion", "elbow_flexion", "shoulder_abduction")
    diff = np.max([np.abs(dof_deg(o, f"{p}_r") - dof_deg(o, f"{p}_l")) for p in pairs], axis=0)
    return rep_max(o, diff)


# ----------------------------------------------------------------------------- segments and points
def trunk_inclination_deg(o: Observation) -> np.ndarray:
    """Angle of the thorax's long axis from vertical (deg), whichever way it leans."""
    y = o.fk.rotations[:, o.motion.body.segment_index("thorax"), :, 1].numpy()
    return np.degrees(np.arccos(np.clip(y[:, 1], -1.0, 1.0)))


def shank_inclination_deg(o: Observation) -> np.ndarray:
    """Mean angle of the two shanks' long axes from vertical (deg)."""
    b = o.motion.body
    y = o.fk.rotations[:, [b.segment_index("shank_r"), b.segment_index("shank_l")], :, 1].numpy()
    return np.degrees(np.arccos(np.clip(y[..., 1], -1.0, 1.0))).mean(axis=1)


def _heels_cm(o: Observation) -> dict[str, np.ndarray]:
    fk, body = o.fk, o.motion.body
    heel = torch.as_tensor(contact_point_local(body, "heel"))
    out = {}
    for s in ("r", "l"):
        i = body.segment_index(f"foot_{s}")
        out[s] = 100.0 * (fk.origins[:, i, 1] + (fk.rotations[:, i] @ heel)[:, 1]).numpy()
    return out


def heel_height_cm(o: Observation) -> np.ndarray:
    """Height of the higher heel point above the floor (cm)."""
    h = _heels_cm(o)
    return np.maximum(h["r"], h["l"])


def lead_heel_height_cm(o: Observation) -> float:
    """Height of the lead (front) foot's heel at each repetition's extreme, averaged (lunges; cm)."""
    h = _heels_cm(o)
    return float(np.mean([h[r.lead][_frame(o, r.extreme_s)] for r in o.reps]))


def _midfoot_x_cm(o: Observation) -> np.ndarray:
    fk, body = o.fk, o.motion.body
    mid = 0.5 * (
        torch.as_tensor(contact_point_local(body, "ball")) + torch.as_tensor(contact_point_local(body, "heel"))
    )
    xs = [
        (fk.origins[:, i] + fk.rotations[:, i] @ mid)[:, 0]
        for i in (body.segment_index("foot_r"), body.segment_index("foot_l"))
    ]
    return 100.0 * (0.5 * (xs[0] + xs[1])).numpy()


def back_bar_drift_cm(o: Observation) -> np.ndarray:
    """Horizontal distance (cm) in front of the mid-foot of the bar seat on the upper back."""
    fk, body = o.fk, o.motion.body
    th = body.segment_index("thorax")
    p = fk.origins[:, th] + fk.rotations[:, th] @ torch.as_tensor(back_bar_point_local(body))
    return 100.0 * p[:, 0].numpy() - _midfoot_x_cm(o)


def load_drift_cm(o: Observation) -> np.ndarray:
    """Horizontal (x) distance of the hands' load point (the midpoint of the knuckles) in front of
    the mid-foot (cm)."""
    fk, body = o.fk, o.motion.body
    k = torch.as_tensor(contact_point_local(body, "knuckles"))
    pts = [fk.origins[:, i] + fk.rotations[:, i] @ k for i in (body.segment_index(s) for s in ("hand_r", "hand_l"))]
    return 100.0 * torch.stack(pts, dim=1).mean(dim=1).numpy()[:, 0] - _midfoot_x_cm(o)


def stance_width_cm(o: Observation) -> np.ndarray:
    b = o.motion.body
    z = o.fk.origins[:, [b.segment_index("foot_r"), b.segment_index("foot_l")], 2].numpy()
    return 100.0 * (z[:, 0] - z[:, 1])


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


def elbow_out_cm(o: Observation) -> np.ndarray:
    """How far (cm) the elbow sits out to the side of the plane through the shoulder-wrist line
    and the trunk's long axis (the elbow tucked under the bar), the larger side, per frame."""
    fk, b = o.fk, o.motion.body
    th = fk.rotations[:, b.segment_index("thorax")]
    out = []
    for s, z in (("r", 1.0), ("l", -1.0)):
        sh, el, wr = (fk.origins[:, b.segment_index(f"{seg}_{s}")] for seg in ("upperarm", "forearm", "hand"))
        out.append(_swivel_cm(sh, el, wr, -th[:, :, 1], z * th[:, :, 2]))
    return np.maximum(out[0], out[1])


def knee_medial_cm(o: Observation) -> np.ndarray:
    """How far (cm) the knee sits medial of the plane through the hip-ankle line and the foot's
    long axis (the knee tracking over the toes), the larger of the two sides, per frame. This
    is the frontal-plane knee-over-foot check coaches use; unlike hip adduction it does not
    change with stance width or toe-out."""
    fk, b = o.fk, o.motion.body
    out = []
    for s, z in (("r", 1.0), ("l", -1.0)):
        hip, knee, ankle = (fk.origins[:, b.segment_index(f"{seg}_{s}")] for seg in ("thigh", "shank", "foot"))
        forward = fk.rotations[:, b.segment_index(f"foot_{s}"), :, 0]
        medial = torch.tensor([0.0, 0.0, -z], dtype=hip.dtype).expand_as(hip)
        out.append(_swivel_cm(hip, knee, ankle, forward, medial))
    return np.maximum(out[0], out[1])


def hips_first(o: Observation) -> float:
    """The share of the trunk's inclination still held when the knees are half-way through their
    extension in the concentric phase (0: trunk and knees extend together ... 1: the knees
    straighten first and the hips rise before the bar), averaged over repetitions."""
    knee = mean_sides(o, "knee_flexion")
    incl = trunk_inclination_deg(o)
    out = []
    for r in o.reps:
        for ph in r.phases:
            if ph.name != "concentric":
                continue
            a, b = _frame(o, ph.start_s), min(_frame(o, ph.end_s), len(knee) - 1)
            if b - a < 3 or abs(incl[a] - incl[b]) < 1.0:
                continue
            half = np.flatnonzero((knee[a : b + 1] - knee[b]) <= 0.5 * (knee[a] - knee[b]))
            k = a + int(half[0]) if len(half) else b
            out.append((incl[k] - incl[b]) / (incl[a] - incl[b]))
    if not out:
        raise ValueError("no concentric phase")
    return float(np.mean(out))
