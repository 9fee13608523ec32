"""A Motion on our body as a BVH file: our 18 segments as the hierarchy, ZXY rotation channels.

Each segment is a joint at its proximal joint centre; offsets are the neutral pose's (every
segment frame parallel to the world there, :mod:`musclepose.body.skeleton`), in centimetres
(the unit most BVH viewers assume). Channels are ``Zrotation Xrotation Yrotation`` in degrees,
the joint's signed Euler angles (``R = Rz Rx Ry``, :mod:`.bvh`'s convention), with the pelvis
adding ``Xposition Yposition Zposition``; absent DoF are written as 0. End sites: the top of
the head, the fingertips and the toe tips. Y-up, X anterior, as everywhere in MusclePose.
Reading the file back (:func:`~.bvh.read_bvh`) and running its forward kinematics gives the
body's joint centres (tested).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..body import forward_kinematics
from ..body.kinematics import gather_euler
from ..body.model import JOINT_EULER_SIGNS
from ..body.skeleton import PARENTS, SEGMENTS
from ..motion.core import Motion
from .bvh import BVHData, write_bvh

__all__ = ["CM", "bvh_from_motion", "write_motion_bvh"]

CM = 100.0  # BVH units per metre


def bvh_from_motion(motion: Motion) -> BVHData:
    """The BVH hierarchy and channels of ``motion`` (see the module docstring)."""
    body = motion.body
    q0 = body.neutral_q().clone()
    q0[:3] = 0.0
    with torch.no_grad():
        origins = forward_kinematics(body, q0).origins.numpy()
    offsets = np.zeros((len(SEGMENTS), 3))
    for i, p in enumerate(PARENTS):
        offsets[i] = origins[i] - (origins[p] if p >= 0 else 0.0)
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


def write_motion_bvh(path: str | Path, motion: Motion) -> Path:
    """Write ``motion`` as a BVH file (atomically); returns the path."""
    return write_bvh(path, bvh_from_motion(motion), precision=6)
