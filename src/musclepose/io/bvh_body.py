"""A Motion on our body as a BVH file: our 18 segments as the hierarchy, ZXY rotation channels.

Each segment is a joint at its proximal joint centre; offsets are the neutral pose's (every
segment frame parallel to the world there, :mod:`musclepose.body.skeleton`), in centimetres
(the unit most BVH viewers assume). Channels are ``Zrotation Xrotation Yrotation`` in degrees,
the joint's signed Euler angles (``R = Rz Rx Ry``, :mod:`.bvh`'s convention), with the pelvis
adding ``Xposition Yposition Zposition``; absent DoF are written as 0. End sites: the top of
the head, the fingertips and the toe tips. Y-up, X anterior, as everywhere in MusclePose.
Reading the file back (:func:`~.bvh.read_bvh`) and running its forward kinematics gives the
body's joint centres (tested); :func:`motion_from_bvh` turns such a file back into the Motion
(``q`` exactly, the stature from the offsets), which is how ``load_motion`` reads our own BVH.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..body import Body, forward_kinematics
from ..body.kinematics import _EULER_INDEX, gather_euler
from ..body.model import JOINT_EULER_SIGNS
from ..body.skeleton import PARENTS, SEGMENTS
from ..motion.core import Motion
from .bvh import BVHData, write_bvh

__all__ = ["CM", "bvh_from_motion", "is_body_bvh", "motion_from_bvh", "write_motion_bvh"]

CM = 100.0  # BVH units per metre


def _neutral_offsets(body: Body) -> np.ndarray:
    """``(18, 3)`` each segment's origin from its parent's in the neutral pose (m)."""
    q0 = body.neutral_q().clone()
    q0[:3] = 0.0
    with torch.no_grad():
        origins = forward_kinematics(body, q0).origins.numpy()
    offsets = np.zeros((len(SEGMENTS), 3))
    for i, p in enumerate(PARENTS):
        offsets[i] = origins[i] - (origins[p] if p >= 0 else 0.0)
    return offsets


def bvh_from_motion(motion: Motion) -> BVHData:
    """The BVH hierarchy and channels of ``motion`` (see the module docstring)."""
    body = motion.body
    offsets = _neutral_offsets(body)
    L = body.lengths
    ends = {
        "head": np.array([0.0, L["head"], 0.0]),
        "hand_r": np.array([0.0, -(L["hand_full"] - L["hand"]), 0.0]),
        "hand_l": np.array([0.0, -(L["hand_full"] - L["hand"]), 0.0]),
        "foot_r": np.array([L["foot_full"] - L["heel_back"], -L["ankle_height"], 0.0]),
        "foot_l": np.array([L["foot_full"] - L["heel_back"], -L["ankle_height"], 0.0]),
    }
    q = motion.q.detach().double().cpu()
    euler = np.degrees((gather_euler(q) * torch.as_tensor(JOINT_EULER_SIGNS)).numpy())  # (T, 18, 3) z, x, y
    cols = [q[:, 0:3].numpy() * CM]
    channels = []
    for i in range(len(SEGMENTS)):
        rot = ["Zrotation", "Xrotation", "Yrotation"]
        channels.append((["Xposition", "Yposition", "Zposition"] if i == 0 else []) + rot)
        cols.append(euler[:, i])
    motion_table = np.concatenate(cols, axis=1)
    offsets[0] = 0.0  # the root's offset: its position channels carry it
    return BVHData(
        path=None,
        joint_names=list(SEGMENTS),
        parents=np.asarray(PARENTS, dtype=np.int64),
        offsets=offsets * CM,
        channels=channels,
        end_sites={k: v * CM for k, v in ends.items()},
        motion=motion_table,
        frame_time=1.0 / float(motion.fps),
    )


def _channels(i: int) -> list[str]:
    return (["Xposition", "Yposition", "Zposition"] if i == 0 else []) + ["Zrotation", "Xrotation", "Yrotation"]


def is_body_bvh(data: BVHData) -> bool:
    """Whether ``data`` is our body as :func:`bvh_from_motion` writes it (its segments, hierarchy, channels)."""
    return (
        list(data.joint_names) == list(SEGMENTS)
        and [int(p) for p in data.parents] == [int(p) for p in PARENTS]
        and [list(c) for c in data.channels] == [_channels(i) for i in range(len(SEGMENTS))]
    )


def motion_from_bvh(data: BVHData, mass_kg: float = 70.0, sex: str = "male", fps: float | None = None) -> Motion:
    """The Motion of a BVH file of our body (:func:`is_body_bvh`): ``q`` from the channels (the inverse
    of :func:`bvh_from_motion`) on a ``Body.standard`` whose stature makes its neutral offsets the file's
    (the offsets scale with stature, Dumas 2007 proportions); ``fps`` None: the file's rate."""
    if not is_body_bvh(data):
        raise ValueError(f"{data.path}: not a BVH of the MusclePose body (joints {data.joint_names[:4]}...)")
    ref = _neutral_offsets(Body.standard(1.75, mass_kg, sex))[1:] * CM  # the root's offset is written as 0
    height = 1.75 * float(np.linalg.norm(data.offsets[1:], axis=1).sum() / np.linalg.norm(ref, axis=1).sum())
    body = Body.standard(round(height, 4), mass_kg, sex)
    table = np.asarray(data.motion, dtype=np.float64)
    euler = np.radians(table[:, 3:].reshape(len(table), len(SEGMENTS), 3)) * np.asarray(JOINT_EULER_SIGNS)
    q = np.zeros((len(table), body.n_dof))
    q[:, 0:3] = table[:, 0:3] / CM
    idx = np.asarray(_EULER_INDEX)
    used = idx < body.n_dof
    q[:, idx[used]] = euler[:, used]
    rate = 1.0 / float(data.frame_time)
    motion = Motion(torch.as_tensor(q), rate, body, {"source": str(data.path), "format": "bvh (MusclePose body)"})
    return motion.resampled(fps) if fps is not None and abs(fps - rate) > 1e-9 else motion


def write_motion_bvh(path: str | Path, motion: Motion) -> Path:
    """Write ``motion`` as a BVH file (atomically); returns the path."""
    return write_bvh(path, bvh_from_motion(motion), precision=6)
