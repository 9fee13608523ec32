"""Keypoint inverse kinematics: joint-centre trajectories from a foreign skeleton onto our body.

A BVH skeleton, a Kinect skeleton or a 3D pose estimator gives joint *centres*, not skin
markers. MusclePose's COCO-style joint landmarks (``right_hip`` = origin of ``thigh_r``,
``right_knee`` = origin of ``shank_r``, ...) are our joint centres, so a foreign joint maps
onto the landmark at the same anatomical joint and inverse kinematics
(:func:`~musclepose.motion.ik.solve_ik`) does the rest. This module holds the shared steps:

1. **Names** (:data:`BVH_JOINT_TABLE`): which foreign joint's *origin* is which of our
   points. Matching is case-insensitive and the first candidate present wins, which
   resolves the one clash between conventions: Mixamo's ``LeftShoulder`` is the clavicle
   and ``LeftArm`` the humerus, CMU's ``LeftShoulder`` is the humerus (and ``LeftCollar``
   the clavicle), so ``LeftArm`` is tried before ``LeftShoulder``.

   ================  =======================================  ==================================
   our point         foreign joint (first present wins)       our segment, local point
   ================  =======================================  ==================================
   right_hip         RightUpLeg, RightHip, RightThigh,         thigh_r origin (hip centre)
                     RightUpperLeg, RHip
   right_knee        RightLeg, RightKnee, RightShin,           shank_r origin
                     RightLowerLeg, RKnee
   right_ankle       RightFoot, RightAnkle, RAnkle             foot_r origin
   right_toe         RightToeBase, RightToe, RightToes,        foot_r (foot, -0.75 ankle_height,
                     RightLegToes, RToe                        0): the ball of the foot (MTP)
   right_shoulder    RightArm, RightUpperArm, RightShoulder,   upperarm_r origin
                     RShoulder
   right_elbow       RightForeArm, RightElbow, RightLowerArm,  forearm_r origin
                     RElbow
   right_wrist       RightWrist, RightHand, RWrist             hand_r origin
   neck              lowerneck, Neck, Neck1                    head origin (cervical joint)
   ================  =======================================  ==================================

   and the same with ``Left``/``L`` for the left side. The root (``Hips``) and the spine
   joints are not used: their origins sit at skeleton-specific places between our joints,
   whereas the hips, shoulders and neck fix the pelvis and the trunk. The head's own
   rotation is left to the prior (no BVH joint reliably marks a point on it).

2. **Units** (:func:`guess_unit`): the BVH format declares none. The hip-to-ankle length
   (thigh + shank) of the skeleton, in file units, is compared with an adult's, 0.86 m
   (0.491 of a 1.75 m stature, Dumas 2007 proportions): the first of metres, centimetres,
   millimetres, inches and the CMU/ASF unit (``1/0.45`` inch) that puts it within
   0.60-1.10 m is chosen; if none does, the data are scaled to exactly 0.86 m and the
   metadata say so. An explicit ``unit_m`` overrides the guess.

3. **Up axis** (:func:`up_rotation`): BVH files are usually Y-up, but not always. The mean
   vector from the feet (ankles, toes) to the neck and shoulders over the whole trial gives
   the up direction (gravity-like cue: the feet are lowest); the dominant axis, with its
   sign, is turned onto ``+Y`` by a proper rotation (handedness kept). When no axis
   dominates (less than 70 % of the vector), Y is kept and the metadata say so.

4. **Scaling and tracking** (:func:`keypoint_ik`): segment lengths come from the data
   (:func:`~musclepose.motion.ik.scale_to_static` with ``register=False`` on the mean of
   a few frames where the legs are straightest, moved to the origin and turned to face
   +X first so that the fit starts near its answer), then every frame is solved with the
   root pose initialised from the hips and the neck. Finally the floor (``y = 0``) is put
   under the feet: the 2nd percentile over frames of the lowest foot point (heels, toes)
   is moved to zero, because camera and BVH origins are arbitrary.

Frames: world Y-up, X anterior, Z to the right, metres (see :mod:`musclepose.body.skeleton`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from ..body import Body, forward_kinematics
from ..body.rotations import matrix_to_euler_zxy
from .core import Motion
from .ik import SCALE_GROUPS, MarkerSet, scale_to_static, solve_ik

__all__ = [
    "ADULT_LEG_M",
    "BVH_JOINT_TABLE",
    "UNIT_CANDIDATES",
    "guess_unit",
    "heel_strikes",
    "joint_marker_set",
    "keypoint_ik",
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
#: Our point -> foreign joint names whose origin it is, in order of preference (case-insensitive).
BVH_JOINT_TABLE: dict[str, tuple[str, ...]] = {
    f"{side}_{part}": tuple(c.format(S=long, s=short) for c in cands)
    for side, (long, short) in _SIDE.items()
    for part, cands in _PER_SIDE.items()
}
BVH_JOINT_TABLE["neck"] = ("lowerneck", "Neck", "Neck1")

# Points that are not landmarks of the body: (segment, local point as a function of lengths).
_EXTRA_POINTS = {
    "neck": ("head", lambda L: (0.0, 0.0, 0.0)),
    "right_toe": ("foot_r", lambda L: (L["foot"], -0.75 * L["ankle_height"], 0.0)),
    "left_toe": ("foot_l", lambda L: (L["foot"], -0.75 * L["ankle_height"], 0.0)),
}
# The toe joint of a foreign skeleton is placed less consistently than the big joints.
_WEIGHTS = {"right_toe": 0.5, "left_toe": 0.5}
_FEET = ("right_ankle", "left_ankle", "right_toe", "left_toe", "right_heel", "left_heel", "RANK", "LANK")
_TOP = ("neck", "right_shoulder", "left_shoulder", "nose", "C7", "CLAV")
_FLOOR_POINTS = ("right_heel", "left_heel", "right_foot_index", "left_foot_index")


def map_joint_names(joint_names: Sequence[str]) -> dict[str, str]:
    """Our point name -> the foreign joint that marks it, per :data:`BVH_JOINT_TABLE`.

    Case-insensitive; points without a matching joint are left out.
    """
    lower = {n.lower(): n for n in joint_names}
    out = {}
    for ours, cands in BVH_JOINT_TABLE.items():
        hit = next((lower[c.lower()] for c in cands if c.lower() in lower), None)
        if hit is not None:
            out[ours] = hit
    return out


def joint_marker_set(
    body: Body, names: Sequence[str], extra: dict[str, tuple[str, Sequence[float]]] | None = None
) -> MarkerSet:
    """A :class:`MarkerSet` of body landmarks and joint points (``neck``, ``*_toe``) by name.

    ``extra`` adds points as ``name -> (segment name, local position in m)``. Raises
    ``KeyError`` naming any point the body does not have.
    """
    segs, local, weights = [], [], []
    for n in names:
        if extra and n in extra:
            segs.append(body.segment_index(extra[n][0]))
            local.append(np.asarray(extra[n][1], dtype=float))
        elif n in _EXTRA_POINTS:
            seg, f = _EXTRA_POINTS[n]
            segs.append(body.segment_index(seg))
            local.append(np.asarray(f(body.lengths), dtype=float))
        elif n in body.landmarks:
            s, p = body.landmarks[n]
            segs.append(int(s))
            local.append(np.asarray(p, dtype=float))
        else:
            raise KeyError(f"the body has no point {n!r}")
        weights.append(_WEIGHTS.get(n, 1.0))
    return MarkerSet(tuple(names), np.array(segs, dtype=int), np.array(local).reshape(-1, 3), np.array(weights))


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


def _root_frames(names: Sequence[str], y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per frame, the pelvis origin (hip midpoint) and an approximate pelvis rotation ``(T, 3, 3)``.

    Z (right) along the left-to-right hip vector, Y toward the neck or shoulders (world up
    when absent), X = Y x Z (anterior). Frames lacking a hip reuse the nearest valid one.
    """
    idx = {n: i for i, n in enumerate(names)}
    rh, lh = y[:, idx["right_hip"]], y[:, idx["left_hip"]]
    mid = 0.5 * (rh + lh)
    top = [idx[n] for n in ("neck", "right_shoulder", "left_shoulder") if n in idx]
    up = np.tile([0.0, 1.0, 0.0], (len(y), 1))
    if top:
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # frames where every top point is missing
            t = np.nanmean(y[:, top], axis=1) - mid
        ok = np.isfinite(t).all(-1) & (np.linalg.norm(np.nan_to_num(t), axis=-1) > 0)
        up[ok] = t[ok]
    z = rh - lh
    z = z / np.linalg.norm(z, axis=-1, keepdims=True)
    yv = up - np.sum(up * z, -1, keepdims=True) * z
    yv = yv / np.linalg.norm(yv, axis=-1, keepdims=True)
    x = np.cross(yv, z)
    rot = np.stack([x, yv, z], axis=-1)
    good = np.isfinite(rot).all((-1, -2)) & np.isfinite(mid).all(-1)
    if not good.any():
        raise ValueError("no frame has both hips: cannot place the pelvis")
    near = np.flatnonzero(good)[np.abs(np.arange(len(y))[:, None] - np.flatnonzero(good)[None]).argmin(1)]
    return mid[near], rot[near]


def _scale_frames(names: Sequence[str], y: np.ndarray, n: int = 3) -> np.ndarray:
    """``n`` consecutive frames around the one with the straightest legs (longest hip-ankle span)."""
    idx = {k: i for i, k in enumerate(names)}
    span = np.zeros(len(y))
    for side in ("right", "left"):
        if f"{side}_hip" in idx and f"{side}_ankle" in idx:
            span += np.linalg.norm(y[:, idx[f"{side}_hip"]] - y[:, idx[f"{side}_ankle"]], axis=-1)
    complete = np.isfinite(y).all((-1, -2))
    score = np.where(complete & np.isfinite(span), span, -np.inf)
    k = int(np.argmax(score)) if np.isfinite(score).any() else 0
    lo = max(0, min(k - n // 2, len(y) - n))
    return np.arange(lo, min(lo + n, len(y)))


def _scaled_body(body: Body, factors: dict[str, float], mass_kg: float) -> Body:
    lengths = dict(body.lengths)
    for g, (_, keys) in SCALE_GROUPS.items():
        for k in keys:
            lengths[k] *= factors[g]
    return Body.from_segment_lengths(lengths, mass_kg, body.sex)


def keypoint_ik(
    names: Sequence[str],
    positions: np.ndarray,
    fps: float,
    *,
    body: Body | None = None,
    mass_kg: float = 70.0,
    sex: str = "male",
    extra_points: dict[str, tuple[str, Sequence[float]]] | None = None,
    scale: bool = True,
    floor: bool = True,
    progress: Callable[[str], None] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Motion:
    """Joint angles on our body from 3D joint-centre (or landmark) trajectories.

    Parameters
    ----------
    names
        Point names: body landmarks (``right_knee``, ``RASI``...) or ``neck`` / ``*_toe``.
        Needs ``right_hip`` and ``left_hip`` to place the pelvis.
    positions
        ``(T, K, 3)`` metres, world Y-up; NaN where missing.
    fps
        Frame rate (Hz).
    body
        The body to scale (default ``Body.standard(1.75, mass_kg, sex)``).
    extra_points
        Points that are neither landmarks nor joint points, ``name -> (segment, local m)``,
        e.g. a foreign skeleton's root on our pelvis (:func:`rest_root_point`); they are
        the subject's own and are not rescaled.
    scale
        Fit segment lengths to the data (``scale_to_static`` with ``register=False``).
    floor
        Move the lowest foot point to ``y = 0`` (2nd percentile over frames).
    progress
        Called with a stage name before each long step.

    Returns
    -------
    Motion
        ``metadata``: ``scale_factors``, ``scale_frames``, ``marker_rms_m`` (median per
        frame), ``floor_shift_m`` plus ``metadata``.
    """
    say = progress or (lambda stage: None)
    names = list(names)
    y = np.asarray(positions, dtype=np.float64)
    if y.ndim != 3 or y.shape[1:] != (len(names), 3):
        raise ValueError(f"positions must be (T, {len(names)}, 3); got {y.shape}")
    if not {"right_hip", "left_hip"} <= set(names):
        raise ValueError(f"keypoint IK needs right_hip and left_hip; got {names}")

    def make(b: Body, n: Sequence[str]) -> MarkerSet:
        return joint_marker_set(b, n, extra_points)

    body = body or Body.standard(1.75, mass_kg, sex)
    info: dict[str, Any] = dict(metadata or {})
    if scale:
        say("scaling the body to the data")
        frames = _scale_frames(names, y)
        mid, rot = _root_frames(names, y[frames])
        # Scale factors do not depend on where the subject stands: bring the frames to the
        # origin facing +X, where scale_to_static's fit (started at the zero pose) begins.
        canon = np.einsum("tji,tkj->tki", rot, y[frames] - mid[:, None])
        _, _, factors, _ = scale_to_static(body, make(body, names), names, canon, mass_kg=mass_kg, register=False)
        body = _scaled_body(body, factors, mass_kg)
        info.update(scale_factors=factors, scale_frames=[int(frames[0]), int(frames[-1])])
    ms = make(body, names)
    mid, rot = _root_frames(names, y)
    q0 = np.zeros((len(y), body.n_dof))
    q0[:, 0:3] = mid
    q0[:, 3:6] = np.unwrap(matrix_to_euler_zxy(torch.tensor(rot)).numpy(), axis=0)
    say("solving inverse kinematics")
    res = solve_ik(body, ms, names, y, fps, q0=q0, metadata=info)
    q = res.motion.q.clone()
    shift = 0.0
    if floor:
        with torch.no_grad():
            fk = forward_kinematics(body, q)
        low = fk.landmarks[:, body.landmark_indices(list(_FLOOR_POINTS)), 1].min(-1).values.numpy()
        shift = float(np.percentile(low, 2))
        q[:, 1] -= shift
    meta = {**res.motion.metadata, "marker_rms_m": float(np.nanmedian(res.rms_m)), "floor_shift_m": -shift}
    return Motion(q, float(fps), body, meta)


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


def heel_strikes(
    motion: Motion,
    speed_threshold: float = 0.5,
    min_swing_s: float = 0.15,
    min_stride_m: float = 0.15,
) -> dict[str, np.ndarray]:
    """Heel-strike frames of each foot by the foot-velocity threshold method.

    The heel landmark's horizontal speed (m/s, 4-frame central difference after a 6 Hz
    moving-average smoothing) splits each foot's trajectory into stance (below
    ``speed_threshold``) and swing. A heel strike is the first stance frame after a swing
    that lasted at least ``min_swing_s`` and carried the heel at least ``min_stride_m``
    horizontally, so that shuffles, weight shifts and crouching do not count (the usual
    velocity-threshold event detection of O'Connor et al. 2007, Gait Posture 25:469, and
    of the foot-velocity algorithm; thresholds from walking at 1-1.5 m/s).

    Returns ``{"right": frames, "left": frames}`` (0-based, ascending).
    """
    with torch.no_grad():
        fk = forward_kinematics(motion.body, motion.q.detach().to(torch.float64).cpu())
    fps = float(motion.fps)
    win = max(1, round(fps / 6.0))
    out = {}
    for side in ("right", "left"):
        p = fk.landmarks[:, motion.body.landmark_indices([f"{side}_heel"])[0]].numpy()[:, [0, 2]]
        ker = np.ones(win) / win
        ps = np.stack([np.convolve(np.pad(p[:, k], win, mode="edge"), ker, "same")[win:-win] for k in range(2)], 1)
        v = np.gradient(ps, axis=0) * fps
        speed = np.linalg.norm(v, axis=-1)
        swing = speed > speed_threshold
        strikes = []
        t = 0
        while t < len(swing):
            if swing[t]:
                s = t
                while t < len(swing) and swing[t]:
                    t += 1
                if t < len(swing) and (t - s) / fps >= min_swing_s and np.linalg.norm(ps[t] - ps[s]) >= min_stride_m:
                    strikes.append(t)
            t += 1
        out[side] = np.array(strikes, dtype=int)
    return out
