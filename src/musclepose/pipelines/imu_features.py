"""What the IMU pose model reads: sensor slots, calibration, heading-normalised features, pose targets.

One implementation for training (:mod:`musclepose.training.hdt`) and inference (:mod:`.imu_pose`).

- **Slots** (:data:`SLOTS`): the seven sensor places the model knows, named after the
  :mod:`musclepose.sim.sensors.imu_sites` presets: pelvis (``sacrum``), ``head``, both wrists
  (``watch_left``/``watch_right``), both knees (``knee_l``/``knee_r``), a phone in the right
  front pocket (``phone_pocket_r``). A layout (:data:`LAYOUTS`) is a subset; absent slots read 0.
- **Calibration** (:func:`calibrate`): during a still standing period at the start (the neutral
  pose of :mod:`musclepose.body.skeleton`, arms at the sides) every segment frame is level and
  faces the body's heading. Each sensor's fixed sensor-to-segment rotation is then
  ``R_off = R_sensor(t0)^T R_seg(t0)`` with ``R_seg(t0)`` the heading rotation; the heading
  reset takes the pelvis (else the first sensor in :data:`REFERENCE_ORDER`) as facing +X.
- **Features** (:func:`imu_features`): per frame, the yaw of the reference slot (the first
  present in :data:`REFERENCE_ORDER`) is removed from every segment orientation and
  world acceleration (gravity stays along -Y), so the model is invariant to where the person
  faces; per slot the first two columns of the rotation (6-D, Zhou et al. 2019) and the
  gravity-free acceleration / :data:`ACC_SCALE`, then one presence flag per slot.
- **Targets** (:func:`pose_targets`): the 17 joints' local rotations (child in parent) and the
  pelvis in the reference-yaw frame, 6-D each (18 x 6, :data:`N_JOINTS` = the body's segments),
  and the root velocity in the reference-yaw frame (m/s).

World Y-up, X anterior (at the heading reset), SI units; rotations map sensor/segment to world.
"""

from __future__ import annotations

import math

import torch

from ..body.rotations import matrix_to_rotation_6d, rotation_6d_to_matrix
from ..body.skeleton import N_SEGMENTS, PARENTS
from ..sim.imu_corpus import MODEL_FPS
from ..sim.sensors.imu_worn import SLOT_SEGMENTS, SLOTS

__all__ = [
    "ACC_SCALE",
    "GRAVITY",
    "LAYOUTS",
    "MODEL_FPS",
    "N_FEATURES",
    "N_JOINTS",
    "REFERENCE_ORDER",
    "SLOTS",
    "SLOT_SEGMENTS",
    "calibrate",
    "fk_from_rotations",
    "global_rotation_error_deg",
    "local_rotation_error_deg",
    "heading_rotation",
    "imu_features",
    "local_to_global",
    "pose_targets",
    "reference_yaw",
    "yaw_of",
]

LAYOUTS: dict[str, tuple[str, ...]] = {
    "six": ("sacrum", "head", "watch_left", "watch_right", "knee_l", "knee_r"),
    "phone-watch": ("phone_pocket_r", "watch_left"),
}
REFERENCE_ORDER: tuple[str, ...] = ("sacrum", "phone_pocket_r", "head", "knee_r", "knee_l", "watch_left", "watch_right")
ACC_SCALE = 10.0  # m/s^2 per feature unit: accelerations of exercise are a few m/s^2
GRAVITY = (0.0, -9.81, 0.0)
N_JOINTS = N_SEGMENTS  # 17 joints' local rotations + the pelvis's orientation
N_FEATURES = len(SLOTS) * 9 + len(SLOTS)


def yaw_of(rot: torch.Tensor) -> torch.Tensor:
    """Heading angle ``(...)`` of rotations ``(..., 3, 3)``: the angle about +Y that turns +X onto the
    horizontal projection of the frame's x axis (for a frame pointing up, its z axis's)."""
    x = rot[..., :, 0]
    z = rot[..., :, 2]
    # A segment pitched nearly vertical (lying down, a raised forearm) loses its x projection;
    # the heading then comes from its z axis turned by -90 deg.
    use_z = (x[..., 0] ** 2 + x[..., 2] ** 2) < 0.05
    yaw_x = torch.atan2(-x[..., 2], x[..., 0])
    yaw_z = torch.atan2(-z[..., 2], z[..., 0]) + math.pi / 2
    return torch.where(use_z, yaw_z, yaw_x)


def heading_rotation(yaw: torch.Tensor) -> torch.Tensor:
    """Rotations ``(..., 3, 3)`` about +Y by ``yaw (...)`` (radians)."""
    c, s = torch.cos(yaw), torch.sin(yaw)
    z, o = torch.zeros_like(c), torch.ones_like(c)
    return torch.stack([torch.stack([c, z, s], -1), torch.stack([z, o, z], -1), torch.stack([-s, z, c], -1)], -2)


def reference_yaw(rot: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
    """Per frame the yaw of the first present slot in :data:`REFERENCE_ORDER`: ``rot (..., T, S, 3, 3)``,
    ``present (..., S)`` bool -> ``(..., T)``."""
    order = torch.as_tensor([SLOTS.index(n) for n in REFERENCE_ORDER], device=rot.device)
    p = present[..., order].to(torch.int64)
    first = order[torch.argmax(p, dim=-1)]  # (...)
    idx = first[..., None, None, None, None].expand(*rot.shape[:-3], 1, 3, 3)
    ref = torch.gather(rot, -3, idx)[..., 0, :, :]
    return yaw_of(ref)


def imu_features(rot: torch.Tensor, acc: torch.Tensor, present: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Model inputs from calibrated segment orientations and gravity-free world accelerations.

    Parameters
    ----------
    rot : (..., T, S, 3, 3)
        Segment orientation per slot (:data:`SLOTS` order), world.
    acc : (..., T, S, 3)
        Sensor acceleration in the world without gravity, m/s^2.
    present : (..., S) bool
        Slots worn; the others are zeroed.

    Returns
    -------
    features : (..., T, N_FEATURES)
    yaw : (..., T)
        The reference heading removed (radians), to put the predicted pelvis back into the world.
    """
    yaw = reference_yaw(rot, present)
    inv = heading_rotation(-yaw)[..., None, :, :]  # (..., T, 1, 3, 3)
    r = inv @ rot
    a = (inv @ acc[..., None])[..., 0] / ACC_SCALE
    per = torch.cat([matrix_to_rotation_6d(r), a], -1)  # (..., T, S, 9)
    mask = present[..., None, :, None].to(per.dtype)
    per = per * mask
    flags = present[..., None, :].to(per.dtype).expand(*per.shape[:-2], len(SLOTS))
    return torch.cat([per.flatten(-2), flags], -1), yaw


def pose_targets(
    seg_rot: torch.Tensor, root: torch.Tensor, yaw: torch.Tensor, fps: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Training targets from true segment rotations ``(..., T, 18, 3, 3)`` and root positions ``(..., T, 3)``.

    Returns ``rot6 (..., T, 18, 6)`` (local joint rotations, the pelvis in the reference-yaw frame)
    and ``vel (..., T, 3)`` (root velocity in the reference-yaw frame, m/s; backward difference,
    the first frame repeats the second's)."""
    parents = torch.as_tensor([max(p, 0) for p in PARENTS], device=seg_rot.device)
    par = seg_rot[..., parents, :, :]
    local = par.transpose(-1, -2) @ seg_rot
    inv = heading_rotation(-yaw)
    local = torch.cat([(inv @ seg_rot[..., 0, :, :])[..., None, :, :], local[..., 1:, :, :]], -3)
    v = torch.diff(root, dim=-2) * fps
    v = torch.cat([v[..., :1, :], v], -2)
    vel = (inv @ v[..., None])[..., 0]
    return matrix_to_rotation_6d(local), vel


def local_to_global(rot6: torch.Tensor, yaw: torch.Tensor) -> torch.Tensor:
    """Global segment rotations ``(..., T, 18, 3, 3)`` from :func:`pose_targets`' 6-D layout."""
    local = rotation_6d_to_matrix(rot6)
    out = [heading_rotation(yaw) @ local[..., 0, :, :]]
    for i in range(1, N_SEGMENTS):
        out.append(out[PARENTS[i]] @ local[..., i, :, :])
    return torch.stack(out, -3)


def calibrate(sensor_rot: torch.Tensor, still: slice, present: torch.Tensor | None = None) -> torch.Tensor:
    """Sensor-to-segment rotations ``(S, 3, 3)`` from a still neutral standing period.

    ``sensor_rot (T, S, 3, 3)`` is each sensor's orientation in the world (from the device's own
    fusion or an AHRS filter); ``still`` selects the standing frames. In the neutral pose every
    segment frame equals the body's heading rotation, taken from the reference slot's heading
    (the pelvis, else :data:`REFERENCE_ORDER`); the mean sensor orientation over the still frames
    (a chordal mean, projected back onto rotations) gives ``R_off = R_sensor^T R_heading``, so
    that ``R_seg(t) = R_sensor(t) R_off`` afterwards (Roetenberg et al. 2009, Xsens MVN's N-pose
    calibration). The world frame is not changed: heading stays where the sensors' fusion put it.
    """
    s = sensor_rot.shape[-3]
    present = torch.ones(s, dtype=torch.bool) if present is None else present
    mean = sensor_rot[still].mean(0)
    u, _, vh = torch.linalg.svd(mean)
    d = torch.sign(torch.linalg.det(u @ vh))
    fix = torch.diag_embed(torch.stack([torch.ones_like(d), torch.ones_like(d), d], -1))
    mean = u @ fix @ vh  # nearest rotations
    # The reference sensor's heading is taken from its own mounting-independent direction: the
    # horizontal projection of its axis that is most horizontal at rest.
    yaw = reference_yaw(mean[None], present)[0]
    heading = heading_rotation(yaw)
    return mean.transpose(-1, -2) @ heading


def fk_from_rotations(rot6: torch.Tensor, yaw: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """Root-aligned joint centres ``(..., T, 18, 3)`` (the segment origins, pelvis at 0) of the 6-D pose
    layout of :func:`pose_targets`, on a body with segment ``offsets (..., 18, 3)`` (its parent frame)."""
    rot = local_to_global(rot6, yaw)
    off = offsets[..., None, :, :].expand(*rot.shape[:-2], 3)
    pos = [torch.zeros_like(off[..., 0, :])]
    for i in range(1, N_SEGMENTS):
        p = PARENTS[i]
        pos.append(pos[p] + (rot[..., p, :, :] @ off[..., i, :, None])[..., 0])
    return torch.stack(pos, -2)


def _angle(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    cos = ((a.transpose(-1, -2) @ b).diagonal(dim1=-2, dim2=-1).sum(-1) - 1.0) / 2.0
    return torch.rad2deg(torch.arccos(cos.clamp(-1.0, 1.0)))


def local_rotation_error_deg(pred6: torch.Tensor, true6: torch.Tensor) -> torch.Tensor:
    """Mean angle (deg) between predicted and true local rotations of the 17 joints, ``(..., T)``."""
    return _angle(rotation_6d_to_matrix(pred6[..., 1:, :]), rotation_6d_to_matrix(true6[..., 1:, :])).mean(-1)


def global_rotation_error_deg(pred6: torch.Tensor, true6: torch.Tensor, yaw: torch.Tensor) -> torch.Tensor:
    """Mean angle (deg) between predicted and true world rotations of the 18 segments, ``(..., T)``."""
    return _angle(local_to_global(pred6, yaw), local_to_global(true6, yaw)).mean(-1)
