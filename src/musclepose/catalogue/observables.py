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
from ..body.kinematics import centre_of_mass
from .types import Observation

__all__ = [
    "asymmetry",
    "at_extremes",
    "back_bar_drift_cm",
    "dof_deg",
    "elbow_out_by_side_cm",
    "elbow_out_cm",
    "excursion",
    "heel_height_cm",
    "heel_lift_cm",
    "heel_rise_by_side_cm",
    "heel_rise_cm",
    "hips_first",
    "knee_fppa_deg",
    "knee_medial_by_side_cm",
    "knee_medial_cm",
    "lead_at_extremes",
    "lead_heel_height_cm",
    "load_drift_cm",
    "mean_sides",
    "phase_duration",
    "rep_max",
    "rep_min",
    "shank_inclination_deg",
    "spine_flexion_deg",
    "stance_width_cm",
    "trunk_inclination_deg",
    "trunk_lean_beyond_shins_deg",
    "weight_shift",
    "weight_shift_pct",
]


# ----------------------------------------------------------------------------- reducers
def _frame(o: Observation, t: float) -> int:
    return int(round(t * o.fps))


def _trusted(o: Observation, values: np.ndarray) -> np.ndarray:
    """``values`` with the frames a finding may not come from (``o.trusted`` False) set to NaN."""
    v = np.asarray(values, dtype=np.float64)
    if o.trusted is None:
        return v
    return np.where(np.asarray(o.trusted, dtype=bool), v, np.nan)


def _rep_mean(per_rep: list[float], what: str) -> float:
    vals = [x for x in per_rep if np.isfinite(x)]
    if not vals:
        raise ValueError(f"no trusted frame for {what}")
    return float(np.mean(vals))


def _nanmax(x: np.ndarray) -> float:
    return float(np.nanmax(x)) if np.isfinite(x).any() else float("nan")


def at_extremes(o: Observation, values: np.ndarray) -> float:
    """Mean of ``values (T,)`` at the repetitions' extreme frames (trusted frames only)."""
    v = _trusted(o, values)
    return _rep_mean([v[min(_frame(o, r.extreme_s), len(v) - 1)] for r in o.reps], "the extremes")


def rep_max(o: Observation, values: np.ndarray) -> float:
    """Mean over repetitions of the maximum of ``values`` between each repetition's start and end
    (trusted frames only)."""
    v = _trusted(o, values)
    return _rep_mean([_nanmax(v[_frame(o, r.start_s) : _frame(o, r.end_s) + 1]) for r in o.reps], "the repetitions")


def rep_min(o: Observation, values: np.ndarray) -> float:
    """Mean over repetitions of the minimum of ``values`` between each repetition's start and end."""
    return -rep_max(o, -np.asarray(values))


def excursion(o: Observation, values: np.ndarray) -> float:
    """Mean over repetitions of the largest rise of ``values`` above its value at the repetition's start."""
    v = _trusted(o, values)
    out = []
    for r in o.reps:
        a, b = _frame(o, r.start_s), _frame(o, r.end_s) + 1
        out.append(_nanmax(v[a:b]) - v[min(a, len(v) - 1)])
    return _rep_mean(out, "the repetitions")


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


def spine_flexion_deg(o: Observation) -> np.ndarray:
    """Flexion of the thorax on the pelvis (deg): the lumbar and thoracic joints' flexion together."""
    return dof_deg(o, "lumbar_flexion") + dof_deg(o, "thoracic_flexion")


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


# How far (m) the centre of mass may sit beyond the heels or the balls of the feet and still count as
# standing on them: the soles reach a few cm past the contact points used here.
SUPPORT_MARGIN_M = 0.05


def weight_shift_pct(o: Observation) -> np.ndarray:
    """How much more of the body weight the right foot carries than the left, ``(R - L) / (R + L)``
    in %, per frame, from where the centre of mass sits between the two mid-feet across the body
    (static equilibrium: the lever rule across the direction the feet point, on the floor). It is the
    load share a force plate under each foot would show while the movement is slow, and it does not
    depend on stance width or on one foot standing ahead of the other.

    NaN where the feet do not hold the body: the centre of mass in front of the balls or behind the
    heels (by more than ``SUPPORT_MARGIN_M``), e.g. seated on a chair, where the seat carries the
    weight; or feet less than 5 cm apart across the body. (Along the line between the feet, a seated
    person's centre of mass 30 cm behind feet 5 cm apart front-to-back read as an 80 % shift.)"""
    fk, body = o.fk, o.motion.body
    pts = {k: torch.as_tensor(contact_point_local(body, k)) for k in ("ball", "heel")}
    feet = {}
    for side in ("r", "l"):
        i = body.segment_index(f"foot_{side}")
        org, rot = fk.origins[:, i], fk.rotations[:, i]
        feet[side] = {k: (org + rot @ p.to(org.dtype)).numpy() for k, p in pts.items()}
    with torch.no_grad():
        com = centre_of_mass(body, o.motion.q.detach().to(torch.float64).cpu()).numpy()
    # Forward is where the feet point (heel to ball, both feet): the pelvis turns against the feet in a
    # lunge or a twist, and a turned axis would read the stance's length as a sideways shift.
    fwd = sum(f["ball"] - f["heel"] for f in feet.values())[:, [0, 2]].astype(np.float64)
    fwd /= np.maximum(np.linalg.norm(fwd, axis=-1, keepdims=True), 1e-9)
    right = np.stack([-fwd[:, 1], fwd[:, 0]], -1)  # x anterior, z right: forward turned 90 deg to the right
    mid = {s: 0.5 * (f["ball"] + f["heel"])[:, [0, 2]] for s, f in feet.items()}
    width = ((mid["r"] - mid["l"]) * right).sum(-1)
    share_r = np.clip(((com[:, [0, 2]] - mid["l"]) * right).sum(-1) / np.where(width > 0.05, width, np.nan), 0.0, 1.0)
    ap = {k: np.stack([(f[k][:, [0, 2]] * fwd).sum(-1) for f in feet.values()]) for k in ("ball", "heel")}
    c = (com[:, [0, 2]] * fwd).sum(-1)
    on_feet = (c >= ap["heel"].min(0) - SUPPORT_MARGIN_M) & (c <= ap["ball"].max(0) + SUPPORT_MARGIN_M)
    return np.where(on_feet, 100.0 * (2.0 * share_r - 1.0), np.nan)


def weight_shift(o: Observation) -> float:
    """The repetitions' mean of the largest weight shift to either side (%, rep max of its magnitude)."""
    return rep_max(o, np.abs(weight_shift_pct(o)))


# ----------------------------------------------------------------------------- segments and points
def trunk_inclination_deg(o: Observation) -> np.ndarray:
    """Angle of the thorax's long axis from vertical (deg), whichever way it leans."""
    y = o.fk.rotations[:, o.motion.body.segment_index("thorax"), :, 1].numpy()
    return np.degrees(np.arccos(np.clip(y[:, 1], -1.0, 1.0)))


def _sagittal_lean_deg(o: Observation, top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """Forward lean (deg) of the ``bottom``-to-``top`` line (``(T, 3)`` points) from vertical in the
    sagittal plane: positive when ``top`` is in front of ``bottom``. Forward is the pelvis's
    anterior axis on the floor, so the subject may face any way."""
    fwd = o.fk.rotations[:, o.motion.body.segment_index("pelvis"), :, 0].numpy().copy()
    fwd[:, 1] = 0.0
    fwd /= np.maximum(np.linalg.norm(fwd, axis=-1, keepdims=True), 1e-9)
    v = top - bottom
    return np.degrees(np.arctan2((v * fwd).sum(-1), v[:, 1]))


def trunk_lean_beyond_shins_deg(o: Observation) -> np.ndarray:
    """How far (deg) the trunk leans forward beyond the shins, in the sagittal plane, per frame: the
    line from the hip joint centres' midpoint to the shoulder joint centres' midpoint against the
    shanks' knee-to-ankle lines (their mean). It is the line a coach draws from the side (and the
    FMS deep squat's "torso parallel to the tibia"); the thorax's own long axis would add the
    upper spine's flexion to the lean (19-24 deg more at the bottoms of the real squats1)."""
    fk, b = o.fk, o.motion.body

    def mid(seg: str) -> np.ndarray:
        return 0.5 * (fk.origins[:, b.segment_index(f"{seg}_r")] + fk.origins[:, b.segment_index(f"{seg}_l")]).numpy()

    trunk = _sagittal_lean_deg(o, mid("upperarm"), mid("thigh"))
    shank = 0.5 * sum(
        _sagittal_lean_deg(o, fk.origins[:, b.segment_index(f"shank_{s}")].numpy(),
                           fk.origins[:, b.segment_index(f"foot_{s}")].numpy())
        for s in ("r", "l")
    )  # fmt: skip
    return trunk - shank


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


def _stance(o: Observation) -> dict[str, np.ndarray]:
    """Per foot, ``(T,)`` True while the foot stands on the floor (contact weight above one half)."""
    w = o.contact
    return {"r": w[:, 0] > 0.5, "l": w[:, 1] > 0.5}


def _heel_over_ball_cm(o: Observation) -> dict[str, np.ndarray]:
    """Per foot, the heel point's height above the metatarsal heads (cm)."""
    fk, body = o.fk, o.motion.body
    rel = torch.as_tensor(contact_point_local(body, "heel") - contact_point_local(body, "ball"))
    out = {}
    for s in ("r", "l"):
        i = body.segment_index(f"foot_{s}")
        out[s] = 100.0 * (fk.rotations[:, i] @ rel)[:, 1].numpy()
    return out


def heel_rise_by_side_cm(o: Observation) -> dict[str, np.ndarray]:
    """Per foot, how far (cm) the heel has risen above its own standing height, in stance only
    (NaN while the foot is off the floor: a step, a flight or a box is not a heel lift).

    In stance the metatarsal heads rest on the floor, so the heel's height above the floor is its
    height above them; its standing height is that height's 10th percentile over the foot's stance
    frames (the heel rests on the floor most of a stance). Measured against the foot's own ball,
    the rise does not include where the model places the whole foot (on a real squat, leg-length
    and soft-tissue errors move the fitted foot up and down by ~2 cm with the knee angle while its
    markers stay on the floor), nor how high the model's heel point sits above the floor."""
    h, stance = _heel_over_ball_cm(o), _stance(o)
    out = {}
    for s in ("r", "l"):
        on = stance[s]
        base = np.percentile(h[s][on], 10) if on.any() else np.nan
        out[s] = np.where(on, h[s] - base, np.nan)
    return out


def heel_lift_cm(o: Observation) -> float:
    """How far (cm) a heel rises during the repetitions above where it stood at their start (the
    top of a squat, the seat of a chair rise), in stance only, the larger side, averaged over the
    repetitions: a heel lift is the heel leaving the floor as the movement goes on. Measured on
    the heel's height above the foot's own ball (:func:`heel_rise_by_side_cm`), and against the
    repetition's start, so that a fitted foot whose pitch drifts with the knee angle by a degree
    or two (a marker fit's leg-length compromise) is not read as a lift."""
    h, stance = _heel_over_ball_cm(o), _stance(o)
    per_rep = []
    for r in o.reps:
        a, b = _frame(o, r.start_s), min(_frame(o, r.end_s) + 1, len(h["r"]))
        best = np.nan
        for s in ("r", "l"):
            v = np.where(stance[s][a:b], _trusted(o, h[s])[a:b], np.nan)
            if np.isfinite(v[0]) and np.isfinite(v).any():
                best = np.nanmax([best, np.nanmax(v) - v[0]])
        per_rep.append(best)
    return _rep_mean(per_rep, "the heels in stance")


def heel_rise_cm(o: Observation) -> np.ndarray:
    """The larger heel rise (cm) of the feet in stance, per frame (:func:`heel_rise_by_side_cm`)."""
    h = heel_rise_by_side_cm(o)
    both = np.stack([h["r"], h["l"]])
    out = np.full(both.shape[1], np.nan)
    some = np.isfinite(both).any(0)
    out[some] = np.nanmax(both[:, some], axis=0)
    return out


def lead_heel_height_cm(o: Observation) -> float:
    """Rise of the lead (front) foot's heel above its standing height at each repetition's extreme,
    averaged (lunges; cm)."""
    h = heel_rise_by_side_cm(o)
    vals = [_trusted(o, h[r.lead])[min(_frame(o, r.extreme_s), len(h[r.lead]) - 1)] for r in o.reps]
    return _rep_mean(vals, "the lead heel")


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


def elbow_out_by_side_cm(o: Observation) -> dict[str, np.ndarray]:
    """Per side (``"r"``, ``"l"``), how far (cm) the elbow sits out to the side of the plane through
    the shoulder-wrist line and the trunk's long axis (the elbow tucked under the bar), per frame."""
    fk, b = o.fk, o.motion.body
    th = fk.rotations[:, b.segment_index("thorax")]
    out = {}
    for s, z in (("r", 1.0), ("l", -1.0)):
        sh, el, wr = (fk.origins[:, b.segment_index(f"{seg}_{s}")] for seg in ("upperarm", "forearm", "hand"))
        out[s] = _swivel_cm(sh, el, wr, -th[:, :, 1], z * th[:, :, 2])
    return out


def elbow_out_cm(o: Observation) -> np.ndarray:
    """:func:`elbow_out_by_side_cm`, the larger side, per frame."""
    out = elbow_out_by_side_cm(o)
    return np.maximum(out["r"], out["l"])


def knee_medial_by_side_cm(o: Observation) -> dict[str, np.ndarray]:
    """Per side (``"r"``, ``"l"``), how far (cm) the knee sits medial of the plane through the
    hip-ankle line and the foot's long axis (the knee tracking over the toes), per frame. This is
    the frontal-plane knee-over-foot check coaches use; unlike hip adduction it does not change
    with stance width or toe-out."""
    fk, b = o.fk, o.motion.body
    out = {}
    for s, z in (("r", 1.0), ("l", -1.0)):
        hip, knee, ankle = (fk.origins[:, b.segment_index(f"{seg}_{s}")] for seg in ("thigh", "shank", "foot"))
        forward = fk.rotations[:, b.segment_index(f"foot_{s}"), :, 0]
        medial = torch.tensor([0.0, 0.0, -z], dtype=hip.dtype).expand_as(hip)
        out[s] = _swivel_cm(hip, knee, ankle, forward, medial)
    return out


def knee_medial_cm(o: Observation) -> np.ndarray:
    """:func:`knee_medial_by_side_cm`, the larger of the two sides, per frame."""
    out = knee_medial_by_side_cm(o)
    return np.maximum(out["r"], out["l"])


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


def knee_fppa_deg(o: Observation) -> np.ndarray:
    """Frontal-plane projection angle of the knee (deg, valgus positive), the larger side per frame:
    the angle between the thigh (hip to knee) and the shank (knee to ankle) seen in the pelvis'
    frontal plane, the 2-D measure physiotherapists take from video in landing and squatting
    screens (Munro, Herrington & Carolan 2012, J Sport Rehabil 21:7)."""
    fk, b = o.fk, o.motion.body
    pel = fk.rotations[:, b.segment_index("pelvis")].numpy()
    # The frontal plane a camera in front of the subject sees: vertical, across the pelvis' heading.
    ant = pel[:, :, 0] * np.array([1.0, 0.0, 1.0])
    ant = ant / np.maximum(np.linalg.norm(ant, axis=-1, keepdims=True), 1e-9)
    right = np.cross(ant, np.array([0.0, 1.0, 0.0]))
    out = []
    for s, z in (("r", 1.0), ("l", -1.0)):
        hip, knee, ankle = (fk.origins[:, b.segment_index(f"{seg}_{s}")].numpy() for seg in ("thigh", "shank", "foot"))
        lateral = z * right

        def flat(v: np.ndarray) -> np.ndarray:
            return v - (v * ant).sum(-1, keepdims=True) * ant

        thigh, shank = flat(knee - hip), flat(ankle - knee)
        cross = np.linalg.norm(np.cross(thigh, shank), axis=-1)
        ang = np.degrees(np.arctan2(cross, (thigh * shank).sum(-1)))
        # Valgus when the knee sits medial of the hip-ankle line (in the frontal plane).
        line = flat(ankle - hip)
        u = line / np.maximum(np.linalg.norm(line, axis=-1, keepdims=True), 1e-9)
        off = thigh - (thigh * u).sum(-1, keepdims=True) * u
        signed = np.where((off * lateral).sum(-1) < 0, ang, -ang)
        # A thigh pointing at the camera (deep flexion) leaves no angle to see.
        seen = np.linalg.norm(thigh, axis=-1) >= 0.3 * np.linalg.norm(knee - hip, axis=-1)
        out.append(np.where(seen, signed, np.nan))
    both = np.stack(out)
    res = np.full(both.shape[1], np.nan)
    some = np.isfinite(both).any(0)
    res[some] = np.nanmax(both[:, some], axis=0)
    return res
