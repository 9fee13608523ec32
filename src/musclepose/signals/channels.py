"""The seven trajectory channels of the clip schema, computed from any Motion.

One definition each, computed by forward kinematics of the standard body (so they do not
depend on how ``q`` was obtained: inverse kinematics, an OpenSim table, a simulation).
Frames are those of :mod:`musclepose.body.skeleton` (world Y-up, floor at ``y = 0``; segment
long axis ``+Y`` points proximally). Names and order are the upstream clip schema's
(seed 000, "Data Format"):

========================  =====  ==================================================================
channel                   unit   definition
========================  =====  ==================================================================
``trajectory``            m      load / hand height: height above the floor of the midpoint of the
                                 two wrist joint centres (the hand segments' origins)
``legs_trajectory``       m      hip height: height of the midpoint of the two hip joint centres
                                 (the pelvis origin)
``shoulder_trajectory``   deg    shoulder elevation, mean of left and right: angle between the upper
                                 arm's long axis (pointing distally) and the thorax's downward axis,
                                 0 = arm hanging, 90 = horizontal, 180 = overhead. It equals shoulder
                                 flexion for raises in the sagittal plane and stays defined for side
                                 raises (a sagittal-plane projection flips by 180 deg there), as the
                                 ISB "elevation" angle of the humerus (Wu et al. 2005, J Biomech 38:981)
``back_trajectory``       deg    trunk inclination: angle between the thorax long axis and world
                                 vertical (0 = upright, 90 = horizontal), whatever the direction
``knee_angle_trajectory`` deg    knee flexion, mean of left and right: angle of the shank's long axis
                                 from the thigh's, signed in the thigh's sagittal plane (positive =
                                 flexed); equals the ``knee_flexion_*`` DoF of the hinge knee
``arm_Trajectory``        deg    elbow flexion, mean of left and right: angle of the forearm's long
                                 axis from the upper arm's, signed in the upper arm's sagittal plane
                                 (positive = flexed); equals ``elbow_flexion_*``
``core_``                 deg    core angle: angle between the thorax and pelvis long axes (0 = trunk
                                 aligned with the pelvis), i.e. the total lumbar + thoracic bend in
                                 any plane, independent of how it is split between the two joints
========================  =====  ==================================================================

Heights are absolute (metres above the floor) and angles unwrapped over time; nothing is
normalised (the upstream loader min-max scaled each channel to [0, 1], which discards the
units that wave features and depth need).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..body import FKResult, forward_kinematics
from ..memory import bound_heap, release

if TYPE_CHECKING:
    from ..motion.core import Motion

__all__ = [
    "CHANNEL_NAMES",
    "CHANNEL_UNITS",
    "HEIGHT_CHANNELS",
    "channels_array",
    "channels_from_clip",
    "FK_BLOCK",
    "compute_channels",
    "long_motion",
    "motion_fk",
]

CHANNEL_NAMES: tuple[str, ...] = (
    "trajectory",
    "legs_trajectory",
    "shoulder_trajectory",
    "back_trajectory",
    "knee_angle_trajectory",
    "arm_Trajectory",
    "core_",
)
CHANNEL_UNITS: dict[str, str] = {
    "trajectory": "m",
    "legs_trajectory": "m",
    "shoulder_trajectory": "deg",
    "back_trajectory": "deg",
    "knee_angle_trajectory": "deg",
    "arm_Trajectory": "deg",
    "core_": "deg",
}
HEIGHT_CHANNELS: tuple[str, ...] = ("trajectory", "legs_trajectory")


def motion_fk(motion: Motion) -> FKResult:
    """Forward kinematics of a Motion in float64 on the CPU, without gradients."""
    with torch.no_grad():
        return forward_kinematics(motion.body, motion.q.detach().to(torch.float64).cpu())


def _angle_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle (deg) between unit vectors ``a`` and ``b`` ``(..., 3)``; atan2 form, exact near 0 and 180."""
    cross = np.linalg.norm(np.cross(a, b), axis=-1)
    return np.degrees(np.arctan2(cross, np.sum(a * b, axis=-1)))


def _hinge_flexion(proximal: np.ndarray, distal: np.ndarray, sign: float) -> np.ndarray:
    """Signed flexion (rad) of the distal long axis in the proximal segment's X-Y plane.

    ``proximal``, ``distal``: world rotations ``(T, 3, 3)``. The distal axis pointing
    distally is ``-Y``; in the proximal frame its anterior (X) and downward (-Y) components
    give the angle. ``sign = +1`` when flexion swings the distal segment anteriorly
    (elbow), ``-1`` when posteriorly (knee).
    """
    d = -np.einsum("tji,tj->ti", proximal, distal[:, :, 1])  # distal -Y in proximal frame
    return np.arctan2(sign * d[:, 0], -d[:, 1])


# Forward kinematics of a long motion is computed this many frames at a time: the full result
# of a 1-hour recording at 100 Hz (rotations, origins, 72 landmarks) would take 1.2 GB, and a
# 20,000-frame block's result and temporaries still about 400 MB; 5,000 frames take about 100 MB.
FK_BLOCK = 5_000


def long_motion(motion: Motion) -> bool:
    """Whether ``motion`` is analysed block by block (more than :data:`FK_BLOCK` frames)."""
    return motion.n_frames > FK_BLOCK


def compute_channels(motion: Motion, fk: FKResult | None = None) -> dict[str, np.ndarray]:
    """The seven channels ``name -> (T,)`` of a Motion (see the module docstring).

    Parameters
    ----------
    motion
        Any :class:`~musclepose.motion.core.Motion`; ``q`` may be on any device/dtype.
    fk
        Its forward kinematics, if already computed (saves the work). Without it a long motion
        is done :data:`FK_BLOCK` frames at a time (the same numbers, bounded memory).

    Returns
    -------
    dict of str to np.ndarray
        float64 ``(T,)`` per channel, in :data:`CHANNEL_NAMES` order; heights in m,
        angles in degrees.
    """
    if fk is not None or not long_motion(motion):
        parts = [_raw_channels(motion.body, fk if fk is not None else motion_fk(motion))]
    else:
        bound_heap()
        q = motion.q.detach().to(torch.float64).cpu()
        with torch.no_grad():
            parts = [_raw_channels(motion.body, forward_kinematics(motion.body, q[a : a + FK_BLOCK]))
                     for a in range(0, q.shape[0], FK_BLOCK)]  # fmt: skip
    raw = {k: np.concatenate([p[k] for p in parts], axis=-1) for k in parts[0]}
    release()  # the blocks' forward kinematics, back to the system

    def mean_deg(pair: np.ndarray, radians: bool) -> np.ndarray:
        if radians:  # unwrapped over the whole motion (after the blocks are joined)
            pair = np.degrees(np.unwrap(pair, axis=-1))
        return 0.5 * (pair[0] + pair[1])

    return {
        "trajectory": raw["wrist_y"],
        "legs_trajectory": raw["hip_y"],
        "shoulder_trajectory": mean_deg(raw["elev"], radians=False),
        "back_trajectory": raw["back"],
        "knee_angle_trajectory": mean_deg(raw["knee"], radians=True),
        "arm_Trajectory": mean_deg(raw["elbow"], radians=True),
        "core_": raw["core"],
    }


def _raw_channels(body: Any, fk: FKResult) -> dict[str, np.ndarray]:
    """The per-frame pieces of the channels (angles of both sides stacked, knee and elbow in rad, not unwrapped)."""
    rot = fk.rotations.numpy()
    org = fk.origins.numpy()
    s = body.segment_index
    down_thorax = -rot[:, s("thorax"), :, 1]
    world_up = np.array([0.0, 1.0, 0.0])
    return {
        "wrist_y": 0.5 * (org[:, s("hand_r"), 1] + org[:, s("hand_l"), 1]),
        "hip_y": org[:, s("pelvis"), 1],
        "elev": np.stack([_angle_between(-rot[:, s(f"upperarm_{k}"), :, 1], down_thorax) for k in "rl"]),
        "back": _angle_between(rot[:, s("thorax"), :, 1], world_up),
        "core": _angle_between(rot[:, s("thorax"), :, 1], rot[:, s("pelvis"), :, 1]),
        "knee": np.stack([_hinge_flexion(rot[:, s(f"thigh_{k}")], rot[:, s(f"shank_{k}")], -1.0) for k in "rl"]),
        "elbow": np.stack([_hinge_flexion(rot[:, s(f"upperarm_{k}")], rot[:, s(f"forearm_{k}")], 1.0) for k in "rl"]),
    }


def channels_from_clip(clip: Mapping[str, Any]) -> tuple[np.ndarray, float | None]:
    """``(T, 7)`` channels and the frame rate (``None`` if absent) from an upstream clip dict.

    Raises ``KeyError`` naming the missing channel and ``ValueError`` for unequal lengths.
    """
    missing = [n for n in CHANNEL_NAMES if n not in clip]
    if missing:
        raise KeyError(f"clip lacks channel(s) {missing}; the schema needs {list(CHANNEL_NAMES)}")
    cols = [np.asarray(clip[n], dtype=np.float64).ravel() for n in CHANNEL_NAMES]
    lengths = {n: len(c) for n, c in zip(CHANNEL_NAMES, cols, strict=True)}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"clip channels differ in length: {lengths}")
    fps = clip.get("fps")
    return np.stack(cols, axis=1), (float(fps) if fps is not None else None)


def channels_array(x: Motion | Mapping[str, Any]) -> np.ndarray:
    """``(T, 7)`` channels in :data:`CHANNEL_NAMES` order from a Motion, a channel dict or a clip."""
    if isinstance(x, Mapping):
        return channels_from_clip(x)[0]
    ch = compute_channels(x)
    return np.stack([ch[n] for n in CHANNEL_NAMES], axis=1)
