"""Frames <-> MotionNN states: the two codecs (benchmark skeleton, our body) and their registry.

A codec turns a sequence of frames into the states :class:`~musclepose.models.MotionNN`
predicts (joint rotations in 6-D first, then other continuous values, then foot contacts) and
back. ``encode`` takes ``(T, F)`` frames and returns ``(T, D)`` float32 states; ``decode``
turns predicted states into frames that continue a given last frame.

- :class:`CMUCodec` (``"cmu_expmap"``): rows of the CMU motion-prediction benchmark
  (:mod:`musclepose.io.cmu_prediction`, 117 values), the benchmark's 26 scored joints. Decoded
  rows copy the other 91 values (root, hand and foot ends) from the last observed row.
- :class:`BodyCodec` (``"body_q"``): ``q (T, 47)`` of our body. State = the pelvis's rotation
  relative to its heading (yaw) frame and the 17 joints' rotations (ZXY Euler of their DoF,
  :mod:`musclepose.body.skeleton`; absent axes 0), then yaw rate (rad/s), root velocity in the
  heading frame (m/s; velocity at ``t`` = ``(p_t - p_(t-1)) * fps``) and pelvis height (m),
  then the contact weight of the right and left foot (the smooth height and speed bands of
  :func:`musclepose.body.contact.foot_contact`, floor at y = 0, speeds by backward differences).
  Decoding integrates yaw and horizontal position from the last frame. Written in numpy: the
  streaming step encodes and decodes one frame each time.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from ..body import Body, forward_kinematics
from ..body.contact import sole_points_local
from ..body.model import JOINT_EULER_DOFS, JOINT_EULER_SIGNS
from ..body.skeleton import PARENTS
from ..io.cmu_prediction import N_COLUMNS, USED_JOINTS

__all__ = ["CODECS", "BodyCodec", "CMUCodec", "codec_for"]

_USED_COLUMNS = (3 + 3 * USED_JOINTS[:, None] + np.arange(3)).ravel()


@dataclass(frozen=True)
class CMUCodec:
    """Benchmark rows (117) <-> the 26 scored joints in 6-D (156 numbers)."""

    name: str = "cmu_expmap"
    n_rot: int = len(USED_JOINTS)
    n_extra: int = 0
    n_contact: int = 0
    frame_dim: int = N_COLUMNS

    def encode(self, rows: np.ndarray | torch.Tensor) -> torch.Tensor:
        x = np.asarray(rows, dtype=np.float64)
        aa = x[..., 3:].reshape(*x.shape[:-1], -1, 3)[..., USED_JOINTS, :]
        m = Rotation.from_rotvec(aa.reshape(-1, 3)).as_matrix().reshape(aa.shape + (3,))
        return torch.as_tensor(_to6d(m).reshape(*aa.shape[:-2], -1)).float()

    def decode(self, states: torch.Tensor, last_row: np.ndarray) -> np.ndarray:
        """``(..., T, 156)`` states -> ``(..., T, 117)`` rows (unscored values from ``last_row``)."""
        s = np.asarray(states.detach().cpu(), dtype=np.float64)
        m = _from6d(s.reshape(*s.shape[:-1], self.n_rot, 6))
        aa = Rotation.from_matrix(m.reshape(-1, 3, 3)).as_rotvec().reshape(m.shape[:-2] + (3,))
        rows = np.broadcast_to(np.asarray(last_row, dtype=np.float64), s.shape[:-1] + (N_COLUMNS,)).copy()
        rows[..., _USED_COLUMNS] = aa.reshape(*aa.shape[:-2], -1)
        return rows


_SEGS = np.arange(1, 18)  # the 17 joints below the root, in segment order
_EULER_INDEX = np.where(JOINT_EULER_DOFS < 0, 47, JOINT_EULER_DOFS)  # (18, 3): q column of each Euler slot
_LEGS = (("thigh_r", "shank_r", "foot_r"), ("thigh_l", "shank_l", "foot_l"))
# Plain numpy for a few frames at a time: the streaming step calls this every frame, where torch's
# per-operation overhead on tiny tensors cost 5 ms (the budget is 2).


def _zxy(e: np.ndarray) -> np.ndarray:
    """Intrinsic ZXY Euler angles ``(..., 3)`` -> ``Rz Rx Ry`` ``(..., 3, 3)`` (as :func:`euler_zxy_to_matrix`)."""
    ca, sa, cb, sb, cc, sc = (
        np.cos(e[..., 0]),
        np.sin(e[..., 0]),
        np.cos(e[..., 1]),
        np.sin(e[..., 1]),
        np.cos(e[..., 2]),
        np.sin(e[..., 2]),
    )
    r = [
        ca * cc - sa * sb * sc, -sa * cb, ca * sc + sa * sb * cc,
        sa * cc + ca * sb * sc, ca * cb, sa * sc - ca * sb * cc,
        -cb * sc, sb, cb * cc,
    ]  # fmt: skip
    return np.stack(r, axis=-1).reshape(e.shape[:-1] + (3, 3))


def _zxy_inv(m: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_zxy` (as :func:`matrix_to_euler_zxy`)."""
    b = np.arcsin(np.clip(m[..., 2, 1], -1.0, 1.0))
    return np.stack([np.arctan2(-m[..., 0, 1], m[..., 1, 1]), b, np.arctan2(-m[..., 2, 0], m[..., 2, 2])], axis=-1)


def _to6d(m: np.ndarray) -> np.ndarray:
    return np.swapaxes(m[..., :, :2], -1, -2).reshape(m.shape[:-2] + (6,))


def _from6d(d: np.ndarray) -> np.ndarray:
    a1, a2 = d[..., :3], d[..., 3:]
    b1 = a1 / np.maximum(np.linalg.norm(a1, axis=-1, keepdims=True), 1e-12)
    a2 = a2 - (b1 * a2).sum(-1, keepdims=True) * b1
    b2 = a2 / np.maximum(np.linalg.norm(a2, axis=-1, keepdims=True), 1e-12)
    return np.stack([b1, b2, np.cross(b1, b2)], axis=-1)


def _heading(rot: np.ndarray) -> np.ndarray:
    """Yaw (rad) of the pelvis's anterior axis about world +Y: ``Ry(yaw) @ X`` points along it."""
    return np.arctan2(-rot[..., 2, 0], rot[..., 0, 0])


def _ry(yaw: np.ndarray) -> np.ndarray:
    c, s, o, i = np.cos(yaw), np.sin(yaw), np.zeros_like(yaw), np.ones_like(yaw)
    return np.stack([c, o, s, o, i, o, -s, o, c], axis=-1).reshape(np.shape(yaw) + (3, 3))


def _off(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """1 below ``lo``, 0 above ``hi``, smoothstep between (as :mod:`musclepose.body.contact`)."""
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return 1.0 - t * t * (3.0 - 2.0 * t)


@lru_cache(maxsize=16)
def _leg_geometry(body: Body) -> tuple[np.ndarray, np.ndarray]:
    """Per leg the neutral offsets of thigh, shank and foot from their parents ``(2, 3, 3)`` and the
    sole points on the foot ``(3, 3)`` (:func:`~musclepose.body.contact.sole_points_local`)."""
    q0 = body.neutral_q().clone()
    q0[:3] = 0.0
    with torch.no_grad():
        org = forward_kinematics(body, q0).origins.numpy()
    offs = np.array([[org[body.segment_index(s)] - org[PARENTS[body.segment_index(s)]] for s in leg] for leg in _LEGS])
    return offs, np.asarray(sole_points_local(body), dtype=np.float64)


def _soles(body: Body, q: np.ndarray, joints: np.ndarray) -> np.ndarray:
    """Heel, metatarsal heads and toe tip of both feet ``(..., 2, 3, 3)`` (as :func:`sole_points`)."""
    offs, local = _leg_geometry(body)
    out = []
    for k, leg in enumerate(_LEGS):
        r, p = joints[..., 0, :, :], q[..., 0:3]
        for j, seg in enumerate(leg):
            p = p + np.einsum("...ij,j->...i", r, offs[k, j])
            r = r @ joints[..., body.segment_index(seg), :, :]
        out.append(p[..., None, :] + np.einsum("...ij,pj->...pi", r, local))
    return np.stack(out, axis=-3)


@dataclass(frozen=True)
class BodyCodec:
    """``q (T, 47)`` of our body <-> 18 rotations in 6-D, 5 root values and 2 contacts (115)."""

    name: str = "body_q"
    n_rot: int = 18
    n_extra: int = 5
    n_contact: int = 2
    frame_dim: int = 47
    velocity_dims: tuple[int, ...] = (108, 109, 110, 111)  # yaw rate and root velocity (per second)

    def encode(self, q: torch.Tensor | np.ndarray, fps: float, body: Body | None = None) -> torch.Tensor:
        """States of a motion ``q (T, 47)`` at ``fps``; ``body`` gives the feet for the contacts
        (default the standard 1.75 m body). Velocities are backward differences (the first frame's
        forward), so the state of frame ``t`` needs only frames ``t - 1`` and ``t``."""
        q = np.asarray(q.detach().cpu() if isinstance(q, torch.Tensor) else q, dtype=np.float64)
        if q.ndim != 2 or q.shape[1] != 47 or len(q) < 2:
            raise ValueError(f"q must be (T >= 2, 47); got {q.shape}")
        joints = _zxy(np.concatenate([q, np.zeros((len(q), 1))], axis=1)[:, _EULER_INDEX] * JOINT_EULER_SIGNS)
        yaw = np.unwrap(_heading(joints[:, 0]))
        head = _ry(yaw)
        tilt = np.swapaxes(head, -1, -2) @ joints[:, 0]
        rots = np.concatenate([tilt[:, None], joints[:, _SEGS]], axis=1)

        def back(x: np.ndarray) -> np.ndarray:  # backward difference, the first frame's forward
            d = np.diff(x, axis=0)
            return np.concatenate([d[:1], d], axis=0)

        vel = np.einsum("tji,tj->ti", head, back(q[:, 0:3])) * fps
        soles = _soles(body or Body.standard(), q, joints)
        speed = np.linalg.norm(back(soles), axis=-1) * fps
        w = _off(soles[..., 1], 0.02, 0.06) * _off(speed, 0.3, 1.2)  # foot_contact's bands, floor at y = 0
        contact = 1.0 - np.prod(1.0 - w, axis=-1)
        extra = np.concatenate([back(yaw)[:, None] * fps, vel, q[:, 1:2]], axis=1)
        return torch.as_tensor(np.concatenate([_to6d(rots).reshape(len(q), -1), extra, contact], axis=1)).float()

    def decode(self, states: torch.Tensor, last_q: torch.Tensor | np.ndarray, fps: float) -> torch.Tensor:
        """Predicted states ``(T, 115)`` -> ``q (T, 47)`` continuing ``last_q (47,)``."""
        s = np.asarray(states.detach().cpu(), dtype=np.float64)
        last = np.asarray(last_q.detach().cpu() if isinstance(last_q, torch.Tensor) else last_q, dtype=np.float64)
        rots = _from6d(s[:, : 6 * self.n_rot].reshape(-1, self.n_rot, 6))
        yaw_rate, vel, height = s[:, 108], s[:, 109:112], s[:, 112]
        yaw = _heading(_zxy(last[3:6] * JOINT_EULER_SIGNS[0])) + np.cumsum(yaw_rate) / fps
        heading = _ry(yaw)
        q = np.zeros((len(s), 47))
        q[:, 0:3] = last[0:3] + np.cumsum(np.einsum("tij,tj->ti", heading, vel), axis=0) / fps
        q[:, 1] = height
        root = _zxy_inv(heading @ rots[:, 0])
        q[:, 3:6] = np.unwrap(np.concatenate([last[None, 3:6], root]), axis=0)[1:]
        euler = _zxy_inv(rots[:, 1:]) * JOINT_EULER_SIGNS[_SEGS]
        slots = JOINT_EULER_DOFS[_SEGS]
        present = slots >= 0
        q[:, slots[present]] = euler[:, present]
        return torch.as_tensor(q)


CODECS = {"cmu_expmap": CMUCodec, "body_q": BodyCodec}


def codec_for(name: str) -> CMUCodec | BodyCodec:
    """The codec a checkpoint names (``config.extra["codec"]``)."""
    if name not in CODECS:
        raise ValueError(f"unknown state codec {name!r}; known: {', '.join(CODECS)}")
    return CODECS[name]()
