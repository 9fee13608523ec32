"""Closed-form limb inverse kinematics and contact points for the synthetic exercises.

Conventions: world Y-up, X anterior of a standing subject, Z to the right, floor at y = 0
(:mod:`musclepose.body.skeleton`). Every function is batched over frames ``(T, ...)`` in
torch float64.

A limb with a hinge in the middle (hip-knee-ankle, shoulder-elbow-wrist) reaching a target
has one redundant degree of freedom, the *swivel* of the middle joint about the line from
the proximal joint to the target (Tolani, Goswami & Badler 2000, *Graphical Models*
62:353-388, "Real-time inverse kinematics techniques for anthropomorphic limbs"). The hinge
angle follows from the law of cosines; the swivel is a parameter, and it is exactly what a
coach sees as the knee caving in (valgus) or the elbow flaring out. The proximal joint's
three angles and the distal joint's angles then follow from the segment frames by an
intrinsic ZXY decomposition with each DoF's signed axis. Planted contacts therefore stay
exactly where they were put: the exercises design the pelvis (and trunk) trajectory and the
contact poses, and these functions fill in the limbs.
"""

from __future__ import annotations

import numpy as np
import torch

from ...body import Body
from ...body.rotations import euler_zxy_to_matrix, matrix_to_euler_zxy

__all__ = [
    "arm_ik",
    "joint_angles_from_matrix",
    "leg_ik",
    "rot",
    "set_joint",
]

_AXIS = {"x": 0, "y": 1, "z": 2}


def rot(axis: str, angle: torch.Tensor | np.ndarray | float) -> torch.Tensor:
    """Rotation matrices ``(..., 3, 3)`` about a world axis ``"x"``, ``"y"`` or ``"z"`` by ``angle`` (rad)."""
    a = torch.as_tensor(angle, dtype=torch.float64)
    c, s = torch.cos(a), torch.sin(a)
    o, z = torch.ones_like(a), torch.zeros_like(a)
    if axis == "x":
        rows = [o, z, z, z, c, -s, z, s, c]
    elif axis == "y":
        rows = [c, z, s, z, o, z, -s, z, c]
    else:
        rows = [c, -s, z, s, c, z, z, z, o]
    return torch.stack(rows, -1).reshape(a.shape + (3, 3))


def _unit(v: torch.Tensor) -> torch.Tensor:
    return v / torch.linalg.norm(v, dim=-1, keepdim=True).clamp_min(1e-12)


def joint_angles_from_matrix(body: Body, joint_name: str, matrix: torch.Tensor) -> dict[str, torch.Tensor]:
    """Values of a joint's DoF (rad) whose rotation is ``matrix`` ``(..., 3, 3)`` (parent -> child).

    The joint rotation is ``Rz Rx Ry`` of the signed angles (see :mod:`musclepose.body.skeleton`);
    for joints with fewer than three DoF the absent angles are dropped (the caller builds
    ``matrix`` so that they are zero).
    """
    joint = next(j for j in body.joints if j.name == joint_name)
    zxy = matrix_to_euler_zxy(matrix)
    out = {}
    for d in joint.dofs:
        e = int(np.argmax(np.abs(d.axis)))
        slot = {2: 0, 0: 1, 1: 2}[e]
        out[d.name] = zxy[..., slot] * float(np.sign(d.axis[e]))
    return out


def joint_matrix(body: Body, joint_name: str, values: dict[str, torch.Tensor], like: torch.Tensor) -> torch.Tensor:
    """Rotation ``(..., 3, 3)`` of a joint from its DoF values (absent ones zero)."""
    joint = next(j for j in body.joints if j.name == joint_name)
    zxy = torch.zeros(like.shape + (3,), dtype=torch.float64)
    for d in joint.dofs:
        e = int(np.argmax(np.abs(d.axis)))
        slot = {2: 0, 0: 1, 1: 2}[e]
        if d.name in values:
            zxy[..., slot] = values[d.name] * float(np.sign(d.axis[e]))
    return euler_zxy_to_matrix(zxy)


def set_joint(q: torch.Tensor, body: Body, joint_name: str, matrix: torch.Tensor) -> None:
    """Write the DoF of ``joint_name`` into ``q (T, 47)`` so that the joint rotation is ``matrix``."""
    for name, v in joint_angles_from_matrix(body, joint_name, matrix).items():
        q[..., body.dof_index(name)] = v


def _two_link(
    base: torch.Tensor,
    target: torch.Tensor,
    l1: float,
    l2: float,
    ref: torch.Tensor,
    side_dir: torch.Tensor,
    swivel: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Middle-joint position of a two-link chain from ``base`` to ``target``.

    ``ref`` is the direction the middle joint points to with zero swivel (projected normal to
    the base-target line); ``swivel`` (rad) turns it about that line towards ``side_dir``.
    Returns the hinge angle (0 = straight), the unit base->target vector ``u``, the middle
    joint's unit direction ``n`` (normal to ``u``) and the overreach (m, > 0 when the target
    is farther than ``l1 + l2``; the chain is then straightened towards it).
    """
    d = target - base
    dist = torch.linalg.norm(d, dim=-1)
    u = d / dist[..., None].clamp_min(1e-12)
    reach = l1 + l2
    overreach = (dist - reach).clamp_min(0.0)
    dc = dist.clamp(abs(l1 - l2) + 1e-6, reach - 1e-9)
    cos_h = ((dc**2 - l1**2 - l2**2) / (2.0 * l1 * l2)).clamp(-1.0, 1.0)
    hinge = torch.acos(cos_h)
    n0 = _unit(ref - (ref * u).sum(-1, keepdim=True) * u)
    b = torch.linalg.cross(u, n0, dim=-1)
    b = torch.where(((b * side_dir).sum(-1, keepdim=True) < 0), -b, b)
    sw = swivel[..., None]
    n = torch.cos(sw) * n0 + torch.sin(sw) * b
    along = (l1**2 - l2**2 + dc**2) / (2.0 * dc)
    perp = torch.sqrt((l1**2 - along**2).clamp_min(0.0))
    middle = base + along[..., None] * u + perp[..., None] * n
    return hinge, u, n, overreach, middle


def leg_ik(
    body: Body,
    side: str,
    pelvis_rot: torch.Tensor,
    pelvis_pos: torch.Tensor,
    ankle_pos: torch.Tensor,
    foot_rot: torch.Tensor,
    valgus: torch.Tensor,
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Hip, knee and ankle angles that put the foot at ``ankle_pos`` with orientation ``foot_rot``.

    ``pelvis_rot (T, 3, 3)`` and ``pelvis_pos (T, 3)`` are the root's pose; ``foot_rot``
    the foot segment's world rotation. With zero ``valgus`` the knee points along the foot
    (the knee tracks over the toes); positive ``valgus`` (rad) swivels it medially. Returns
    ``{dof name: (T,)}`` for the seven leg DoF and the overreach (m, 0 when reachable).
    """
    m = 1.0 if side == "r" else -1.0
    thigh, shank, foot = (body.segment_index(f"{s}_{side}") for s in ("thigh", "shank", "foot"))
    off = torch.tensor(np.array(body.offsets), dtype=torch.float64)
    lt, ls = float(-off[shank, 1]), float(-off[foot, 1])
    hip = pelvis_pos + torch.einsum("tij,j->ti", pelvis_rot, off[thigh])
    forward = foot_rot[..., :, 0]
    medial = torch.tensor([0.0, 0.0, -m], dtype=torch.float64).expand_as(hip)
    # The knee bends so that the thigh's hinge axis is normal to the leg's plane.
    knee_flex, u, n, over, knee = _two_link(hip, ankle_pos, lt, ls, forward, medial, valgus)
    y = _unit(hip - knee)
    z = _unit(torch.linalg.cross(u, n, dim=-1))
    x = torch.linalg.cross(y, z, dim=-1)
    r_thigh = torch.stack([x, y, z], dim=-1)
    r_shank = r_thigh @ rot("z", -knee_flex)
    out = joint_angles_from_matrix(body, f"hip_{side}", pelvis_rot.transpose(-1, -2) @ r_thigh)
    out[f"knee_flexion_{side}"] = knee_flex
    out.update(joint_angles_from_matrix(body, f"ankle_{side}", r_shank.transpose(-1, -2) @ foot_rot))
    return out, over


def arm_ik(
    body: Body,
    side: str,
    scapula_rot: torch.Tensor,
    shoulder_pos: torch.Tensor,
    target: torch.Tensor,
    elbow_ref: torch.Tensor,
    flare_dir: torch.Tensor,
    flare: torch.Tensor,
    pronation: torch.Tensor,
    hand_extension: float = 0.0,
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Shoulder and elbow angles that bring the wrist (or, with ``hand_extension``, a point
    that far beyond the wrist along a straight hand) to ``target``.

    ``elbow_ref`` is where the elbow points with zero ``flare`` (world, ``(T, 3)``);
    ``flare`` (rad) swivels it towards ``flare_dir``. ``pronation`` (rad) is written as is;
    the wrist stays neutral. Returns ``{dof name: (T,)}`` and the overreach (m).
    """
    ua, fa, hand = (body.segment_index(f"{s}_{side}") for s in ("upperarm", "forearm", "hand"))
    off = torch.tensor(np.array(body.offsets), dtype=torch.float64)
    lu = float(-off[fa, 1])
    lf = float(-off[hand, 1]) + hand_extension
    elbow_flex, u, n, over, elbow = _two_link(shoulder_pos, target, lu, lf, elbow_ref, flare_dir, flare)
    y = _unit(shoulder_pos - elbow)
    z = _unit(torch.linalg.cross(n, u, dim=-1))
    x = torch.linalg.cross(y, z, dim=-1)
    r_ua = torch.stack([x, y, z], dim=-1)
    out = joint_angles_from_matrix(body, f"shoulder_{side}", scapula_rot.transpose(-1, -2) @ r_ua)
    out[f"elbow_flexion_{side}"] = elbow_flex
    out[f"elbow_pronation_{side}"] = pronation.expand_as(elbow_flex) if pronation.ndim else pronation + 0 * elbow_flex
    return out, over
