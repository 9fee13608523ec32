"""Keypoint inverse kinematics: joint-centre (or landmark) trajectories onto our body.

:func:`keypoint_ik` fits segment lengths to the data (:func:`~musclepose.motion.scaling.scale_to_static`
with ``register=False`` on a few frames where the legs are straightest, moved to the origin and
turned to face +X so that the fit starts near its answer), solves every frame with the root
pose initialised from the hips and the neck (:func:`~musclepose.motion.ik.solve_ik`), then puts
the floor (``y = 0``) under the feet: the 2nd percentile over frames of the lowest foot point,
because camera and BVH origins are arbitrary. Points are named as in :mod:`.retarget`. Frames:
world Y-up, X anterior, Z to the right, metres.
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
from .ik import solve_ik
from .marker_set import SCALE_GROUPS, MarkerSet
from .scaling import scale_to_static

__all__ = ["joint_marker_set", "keypoint_ik"]

# Points that are not landmarks of the body: (segment, local point as a function of lengths).
_EXTRA_POINTS = {
    "neck": ("head", lambda L: (0.0, 0.0, 0.0)),
    "right_toe": ("foot_r", lambda L: (L["foot"], -0.75 * L["ankle_height"], 0.0)),
    "left_toe": ("foot_l", lambda L: (L["foot"], -0.75 * L["ankle_height"], 0.0)),
}
#: Keypoint RMS (m) above which a frame is a poor fit: joint centres from a pose estimator or a depth
#: camera are ~3-5 cm off (Kinect v2 against mocap, Otte et al. 2016, PLoS One 11:e0166532), and a
#: foreign skeleton's joints sit a few cm from ours.
KEYPOINT_POOR_FIT_M = 0.08
# The toe joint of a foreign skeleton is placed less consistently than the big joints.
_WEIGHTS = {"right_toe": 0.5, "left_toe": 0.5}
_FLOOR_POINTS = ("right_heel", "left_heel", "right_foot_index", "left_foot_index")


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
    locked: dict[str, float] | None = None,
    prior_weight: float = 1e-2,
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
    locked
        DoF name -> value held fixed (:func:`~musclepose.motion.ik.solve_ik`), e.g. the spine when
        nothing below the hips is seen and the pelvis' tilt cannot be told from the spine's.
    prior_weight
        Pull toward zero of the DoF no point observes and (x 0.01) of the spine
        (:func:`~musclepose.motion.ik.solve_ik`).

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
    res = solve_ik(body, ms, names, y, fps, q0=q0, metadata=info, locked=locked, poor_fit_m=KEYPOINT_POOR_FIT_M,
                   prior_weight=prior_weight)  # fmt: skip
    q = res.motion.q.clone()
    shift = 0.0
    if floor:
        with torch.no_grad():
            fk = forward_kinematics(body, q)
        low = fk.landmarks[:, body.landmark_indices(list(_FLOOR_POINTS)), 1].min(-1).values.numpy()
        shift = float(np.percentile(low, 2))
        q[:, 1] -= shift
    meta = {**res.motion.metadata, "marker_rms_m": float(np.nanmedian(res.rms_m)), "floor_shift_m": -shift}
    return Motion(q, float(fps), body, meta, res.motion.quality)
