"""A foreign skeleton's joints as our points: joint names, length unit and up axis.

A BVH skeleton, a Kinect skeleton or a 3D pose estimator gives joint *centres*; ours are the
body's joint landmarks (``right_hip`` = origin of ``thigh_r``, ...), so a foreign joint maps
onto the point at the same anatomical joint (:data:`BVH_JOINT_TABLE`, :func:`map_joint_names`).
The BVH format declares no unit: :func:`guess_unit` takes the first of m, cm, mm, inch and the
CMU/ASF unit (``1/0.45`` inch) that puts the hip-to-ankle length within 0.60-1.10 m, else
scales it to an adult's 0.86 m (0.491 of a 1.75 m stature, Dumas 2007 proportions).
:func:`up_rotation` turns the dominant axis of the mean feet-to-neck vector onto +Y.
:mod:`.keypoint_ik` then solves the pose. Frames: world Y-up, X anterior, Z to the right, metres.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

__all__ = [
    "ADULT_LEG_M",
    "BVH_JOINT_TABLE",
    "UNIT_CANDIDATES",
    "guess_unit",
    "map_joint_names",
    "rest_root_point",
    "up_rotation",
]

ADULT_LEG_M = 0.86  # hip-to-ankle length of a 1.75 m adult (thigh + shank = 0.491 stature)
LEG_RANGE_M = (0.60, 1.10)  # accepted hip-to-ankle lengths when snapping to a named unit
UNIT_CANDIDATES: dict[str, float] = {"m": 1.0, "cm": 0.01, "mm": 0.001, "inch": 0.0254, "cmu": 0.0254 / 0.45}

_SIDE = {"right": ("Right", "R"), "left": ("Left", "L")}
_PER_SIDE: dict[str, tuple[str, ...]] = {
    "hip": ("{S}UpLeg", "{S}Hip", "{S}Thigh", "{S}UpperLeg", "{s}Hip"),
    "knee": ("{S}Leg", "{S}Knee", "{S}Shin", "{S}LowerLeg", "{s}Knee"),
    "ankle": ("{S}Foot", "{S}Ankle", "{s}Ankle"),
    "toe": ("{S}ToeBase", "{S}Toe", "{S}Toes", "{S}LegToes", "{s}Toe"),
    "shoulder": ("{S}Arm", "{S}UpperArm", "{S}Shoulder", "{s}Shoulder"),
    "elbow": ("{S}ForeArm", "{S}Elbow", "{S}LowerArm", "{s}Elbow"),
    "wrist": ("{S}Wrist", "{S}Hand", "{s}Wrist"),
}
# Matching is case-insensitive and the first candidate present wins, which resolves the one clash
# between conventions: Mixamo's LeftShoulder is the clavicle and LeftArm the humerus, CMU's
# LeftShoulder is the humerus (LeftCollar the clavicle), so LeftArm is tried first. The root
# (Hips) and spine joints are not used: their origins sit at skeleton-specific places between
# our joints, whereas the hips, shoulders and neck fix the pelvis and the trunk. The head's own
# rotation is left to the IK prior: no foreign joint reliably marks a point on it.
#: Our point -> foreign joint names whose origin it is, in order of preference (case-insensitive).
BVH_JOINT_TABLE: dict[str, tuple[str, ...]] = {
    f"{side}_{part}": tuple(c.format(S=long, s=short) for c in cands)
    for side, (long, short) in _SIDE.items()
    for part, cands in _PER_SIDE.items()
}
BVH_JOINT_TABLE["neck"] = ("lowerneck", "Neck", "Neck1")

_FEET = ("right_ankle", "left_ankle", "right_toe", "left_toe", "right_heel", "left_heel", "RANK", "LANK")
_TOP = ("neck", "right_shoulder", "left_shoulder", "nose", "C7", "CLAV")


def map_joint_names(joint_names: Sequence[str]) -> dict[str, str]:
    """Our point name -> the foreign joint that marks it, per :data:`BVH_JOINT_TABLE`.

    Case-insensitive; points without a matching joint are left out.
    """
    lower = {n.lower(): n for n in joint_names}
    # Rig prefixes (MotionBuilder's "Character1_", Mixamo's "mixamorig:") name the same joints.
    for n in joint_names:
        lower.setdefault(re.sub(r"^(?:.*:|character\d*_)", "", n.lower()), n)
    out = {}
    for ours, cands in BVH_JOINT_TABLE.items():
        hit = next((lower[c.lower()] for c in cands if c.lower() in lower), None)
        if hit is not None:
            out[ours] = hit
    return out


def guess_unit(leg_length: float, unit_m: float | None = None) -> tuple[float, str]:
    """Metres per file unit from the skeleton's hip-to-ankle length (see the module docstring).

    Parameters
    ----------
    leg_length
        Thigh + shank length in file units.
    unit_m
        An explicit unit (metres per file unit), returned as is.

    Returns
    -------
    (metres per unit, how it was chosen)
    """
    if unit_m is not None:
        return float(unit_m), "given"
    if not (np.isfinite(leg_length) and leg_length > 0):
        raise ValueError(f"cannot guess units from a leg length of {leg_length}")
    lo, hi = LEG_RANGE_M
    for name, u in UNIT_CANDIDATES.items():
        if lo <= leg_length * u <= hi:
            return u, name
    return ADULT_LEG_M / leg_length, "scaled to an adult leg"


def _rotation_onto_y(u: np.ndarray) -> np.ndarray:
    """A proper rotation taking the unit vector ``u`` onto ``+Y``."""
    y = np.array([0.0, 1.0, 0.0])
    c = float(u @ y)
    if c > 1 - 1e-12:
        return np.eye(3)
    if c < -1 + 1e-12:
        return np.diag([1.0, -1.0, -1.0])  # half turn about X
    k = np.cross(u, y)
    s = np.linalg.norm(k)
    k = k / s
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + s * kx + (1 - c) * (kx @ kx)


def up_rotation(names: Sequence[str], positions: np.ndarray) -> tuple[np.ndarray, str]:
    """Rotation ``R`` (apply as ``p @ R.T``) that makes the data Y-up, and the axis found.

    The up direction is the mean vector from the feet to the neck and shoulders (see the
    module docstring); returns the identity and ``"y (assumed)"`` when no axis dominates or
    those points are missing.
    """
    idx = {n: i for i, n in enumerate(names)}
    top = [idx[n] for n in _TOP if n in idx]
    feet = [idx[n] for n in _FEET if n in idx]
    if not top or not feet:
        return np.eye(3), "y (assumed)"
    with np.errstate(invalid="ignore"):
        v = np.nanmean(np.nanmean(positions[:, top], axis=1) - np.nanmean(positions[:, feet], axis=1), axis=0)
    if not np.isfinite(v).all() or np.linalg.norm(v) == 0:
        return np.eye(3), "y (assumed)"
    k = int(np.argmax(np.abs(v)))
    if abs(v[k]) < 0.7 * np.linalg.norm(v):
        return np.eye(3), "y (assumed)"
    u = np.zeros(3)
    u[k] = np.sign(v[k])
    return _rotation_onto_y(u), ("+" if v[k] > 0 else "-") + "xyz"[k]


def rest_root_point(rest: dict[str, np.ndarray]) -> np.ndarray | None:
    """A foreign root joint's position in our pelvis frame (m), from a rest pose.

    ``rest`` holds rest-pose positions (metres, Y-up) of ``root``, ``right_hip``,
    ``left_hip`` and, for the forward direction, ``right_toe``/``left_toe`` and the ankles.
    Hip centres alone leave the pelvis free to tilt about the line through them (and hip
    flexion with it); the root joint of a BVH or Kinect skeleton sits above and behind
    that line, so tracking it fixes the tilt. Returns ``None`` without the points needed.
    """
    need = ("root", "right_hip", "left_hip")
    if not all(k in rest for k in need):
        return None
    z = rest["right_hip"] - rest["left_hip"]
    z = z / np.linalg.norm(z)
    fwd = [
        rest[f"{s}_toe"] - rest[f"{s}_ankle"] for s in ("right", "left") if f"{s}_toe" in rest and f"{s}_ankle" in rest
    ]
    up = np.array([0.0, 1.0, 0.0])
    if fwd:
        x = np.mean(fwd, axis=0)
        x = x - (x @ z) * z - (x @ up) * up
    else:  # no feet: anterior from the right-handed frame (Y up, Z right)
        x = np.cross(up, z)
    if not (np.isfinite(x).all() and np.isfinite(z).all()) or np.linalg.norm(x) < 1e-9:
        return None
    x = x / np.linalg.norm(x)
    y = np.cross(z, x)
    d = rest["root"] - 0.5 * (rest["right_hip"] + rest["left_hip"])
    return np.array([d @ x, d @ y, d @ z])
