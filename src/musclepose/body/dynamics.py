"""Inverse dynamics by the recursive Newton-Euler algorithm (RNEA), floating base.

Featherstone R (2008) *Rigid Body Dynamics Algorithms*, Springer, ch. 5 (RNEA); the
floating base is the root's 3 slide + 3 hinge joints, exactly as MuJoCo models them, so
``inverse_dynamics`` equals MuJoCo's ``mj_inverse`` on the exported MJCF (tested to 1e-8).

Conventions: world Y-up, gravity (0, -9.81, 0) m/s^2, SI units. The returned generalized
force ``tau (..., 47)`` is what the joints must supply: ``tau[0:3]`` is the force (N, world
axes) and ``tau[3:6]`` the moments (N m, about the root's own ZXY axes) of the *residual*
wrench on the pelvis that no joint can produce (zero for a physically consistent motion
with all external forces given); ``tau[6:]`` are the net joint moments (N m), positive in
the direction of the DoF's name (flexion, adduction, internal rotation, ...). These are
internal joint moments: the moment the muscles and ligaments exert on the distal segment.

Implementation: the outward and inward recursions are written as path sums over the tree
with the constant ancestor matrix ``A`` (``A[i, j] = 1`` when ``j`` is ``i`` or an
ancestor), i.e. ``omega = A @ w_joint`` and subtree sums ``f = A.T @ F``, so the only Python
loop is over the 7 tree levels of the rotation product. Moments are taken about the root
origin (not the world origin) to avoid cancellation when the body is far from the origin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ._ops import cross, mm, mv
from .kinematics import _check_q, gather_slots, joint_rotations, parent_rotations, segment_rotations
from .model import JOINT_DOF_SLOTS, Body

__all__ = ["GRAVITY", "ExternalWrench", "inverse_dynamics"]

GRAVITY = (0.0, -9.81, 0.0)

# Flat (segment * 3 + slot) index of each rotational DoF (q[3:]) for the final gather.
_FLAT = torch.zeros(44, dtype=torch.long)
for _seg in range(JOINT_DOF_SLOTS.shape[0]):
    for _slot in range(3):
        _k = int(JOINT_DOF_SLOTS[_seg, _slot])
        if _k >= 3:
            _FLAT[_k - 3] = _seg * 3 + _slot


@dataclass(frozen=True)
class ExternalWrench:
    """A force (and optional free moment) applied to one segment, all in world coordinates.

    Parameters
    ----------
    segment
        Segment name or index the wrench acts on (e.g. ``"foot_r"``).
    force : (..., 3)
        Force in N acting on the segment (a ground reaction force points up).
    point : (..., 3)
        Point of application in m (e.g. the centre of pressure).
    torque : (..., 3), optional
        Free moment in N m (e.g. a force plate's vertical free torque).
    """

    segment: int | str
    force: torch.Tensor
    point: torch.Tensor
    torque: torch.Tensor | None = None


def _external_dense(body: Body, external, like: torch.Tensor, root: torch.Tensor):
    """Sum wrenches into per-segment force and moment about the root origin (..., 18, 3)."""
    if external is None:
        return None, None
    items = [external] if isinstance(external, ExternalWrench) else list(external)
    batch = like.shape[:-1]
    f = like.new_zeros(batch + (body.n_segments, 3))
    m = like.new_zeros(batch + (body.n_segments, 3))
    for w in items:
        if not isinstance(w, ExternalWrench):
            raise TypeError(f"external must be ExternalWrench or a sequence of them; got {type(w).__name__}")
        i = body.segment_index(w.segment) if isinstance(w.segment, str) else int(w.segment)
        force = torch.as_tensor(w.force, dtype=like.dtype, device=like.device).expand(batch + (3,))
        point = torch.as_tensor(w.point, dtype=like.dtype, device=like.device).expand(batch + (3,))
        moment = cross(point - root, force)
        if w.torque is not None:
            moment = moment + torch.as_tensor(w.torque, dtype=like.dtype, device=like.device)
        onehot = torch.zeros(body.n_segments, 1, dtype=like.dtype, device=like.device)
        onehot[i] = 1.0
        f = f + onehot * force[..., None, :]
        m = m + onehot * moment[..., None, :]
    return f, m


def inverse_dynamics(
    body: Body,
    q: torch.Tensor,
    qd: torch.Tensor,
    qdd: torch.Tensor,
    external: ExternalWrench | Sequence[ExternalWrench] | None = None,
    gravity: Sequence[float] = GRAVITY,
) -> torch.Tensor:
    """Generalized forces ``tau (..., 47)`` that produce ``qdd`` at state ``(q, qd)``.

    Parameters
    ----------
    body
        The static body model.
    q, qd, qdd : (..., 47)
        Positions (m, rad), velocities and accelerations, same shape, dtype and device.
    external
        Wrenches from the environment acting on segments (ground reaction forces, loads).
    gravity
        Gravitational acceleration in the world frame (m/s^2).

    Returns
    -------
    tau : (..., 47)
        Root residual force and moment, then joint moments (see the module docstring).
    """
    for name, x in (("q", q), ("qd", qd), ("qdd", qdd)):
        _check_q(body, x, name)
    if not (q.shape == qd.shape == qdd.shape):
        raise ValueError(
            f"q, qd, qdd must have the same shape; got {tuple(q.shape)}, {tuple(qd.shape)}, {tuple(qdd.shape)}"
        )
    bt = body.tensors(q.dtype, q.device)
    anc = bt.ancestors

    # --- kinematics: rotations, joint axes in the world, joint offsets in the world.
    jrot, u_par = joint_rotations(bt, q)
    rot = segment_rotations(jrot)
    rpar = parent_rotations(rot)
    s = mm(u_par, rpar.transpose(-1, -2))  # (..., 18, 3 slots, 3) world axes, one per row
    d = mv(rpar, bt.offsets)  # (..., 18, 3) offset from parent origin

    # --- outward pass as path sums: angular velocity and acceleration.
    c = s * gather_slots(qd)[..., None]  # each slot's angular-velocity contribution
    w_joint = c.sum(-2)
    omega = torch.einsum("ij,...jk->...ik", anc, w_joint)
    omega_par = omega - w_joint
    # A slot's axis turns with the frame before it: d/dt s_k = w_(k-1) x s_k.
    w_prev = omega_par[..., None, :] + torch.cumsum(c, dim=-2) - c
    a_joint = (s * gather_slots(qdd)[..., None] + cross(w_prev, c)).sum(-2)
    alpha = torch.einsum("ij,...jk->...ik", anc, a_joint)
    alpha_par = alpha - a_joint

    # Linear acceleration of each origin, gravity folded in as an upward base acceleration.
    g = torch.as_tensor(gravity, dtype=q.dtype, device=q.device)
    a_root = qdd[..., 0:3] - g
    e = cross(alpha_par, d) + cross(omega_par, cross(omega_par, d))
    acc = a_root[..., None, :] + torch.einsum("ij,...jk->...ik", anc, e)
    pos = torch.einsum("ij,...jk->...ik", anc, d)  # origins relative to the root origin

    # --- Newton-Euler per segment, in the segment frame for the inertia.
    rc = mv(rot, bt.coms)
    acc_c = acc + cross(alpha, rc) + cross(omega, cross(omega, rc))
    force = bt.masses[:, None] * acc_c
    rot_t = rot.transpose(-1, -2)
    w_loc = mv(rot_t, omega)
    a_loc = mv(rot_t, alpha)
    inertia = bt.inertias
    n_loc = mv(inertia, a_loc) + cross(w_loc, mv(inertia, w_loc))
    moment = mv(rot, n_loc) + cross(pos + rc, force)

    f_ext, m_ext = _external_dense(body, external, q, q[..., 0:3])
    if f_ext is not None:
        force = force - f_ext
        moment = moment - m_ext

    # --- inward pass as subtree sums; moments about each joint centre.
    f_sub = torch.einsum("ji,...jk->...ik", anc, force)
    m_sub = torch.einsum("ji,...jk->...ik", anc, moment) - cross(pos, f_sub)
    tau_slots = (s * m_sub[..., None, :]).sum(-1)  # (..., 18, 3)
    flat = tau_slots.reshape(tau_slots.shape[:-2] + (-1,))
    return torch.cat([f_sub[..., 0, :], flat[..., _FLAT.to(q.device)]], dim=-1)
