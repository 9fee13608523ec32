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

Implementation: :mod:`._rnea` (structure-of-arrays layout, batch last, one Python step per
tree level, chunks of frames, buffers reused across calls). Gradients with respect to ``q``,
``qd``, ``qdd``, gravity and the external wrenches come from a hand-written adjoint (reverse
mode of the kernel); double backward and ``torch.func`` transforms are not supported. Moments
are taken about the root origin (not the world origin) to avoid cancellation when the body is
far from the origin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ._ops import cross
from ._rnea import rnea_soa, segment_motion_soa
from ._rnea_external import external_soa
from .kinematics import _check_q, root_axes
from .model import Body

__all__ = ["GRAVITY", "ExternalWrench", "inverse_dynamics", "root_residual", "segment_motion"]

GRAVITY = (0.0, -9.81, 0.0)


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


def inverse_dynamics(
    body: Body,
    q: torch.Tensor,
    qd: torch.Tensor,
    qdd: torch.Tensor,
    external: ExternalWrench | Sequence[ExternalWrench] | None = None,
    gravity: Sequence[float] = GRAVITY,
    *,
    without_external: torch.Tensor | None = None,
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
    without_external
        The result of the same call without ``external`` (an earlier call's): then only the
        wrenches' contribution ``-J^T w`` is computed and added (the RNEA is linear in them).

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
    g = torch.as_tensor(gravity, dtype=q.dtype, device=q.device)
    ext = _external_list(body, external, q)
    if without_external is not None:
        if without_external.shape != q.shape:
            raise ValueError(
                f"without_external must have q's shape {tuple(q.shape)}; got {tuple(without_external.shape)}"
            )
        return without_external + external_soa(body, q, ext) if ext else without_external
    return rnea_soa(body, q, qd, qdd, g, ext)


def segment_motion(
    body: Body,
    q: torch.Tensor,
    qd: torch.Tensor,
    qdd: torch.Tensor,
    gravity: Sequence[float] = GRAVITY,
    *,
    with_tau: bool = False,
) -> tuple[torch.Tensor, ...]:
    """Each segment's velocity state in its own frame, ``(..., 18, 3)`` each: angular velocity
    ``w`` (rad/s), angular acceleration ``alpha`` (rad/s^2) and the specific force at its origin
    ``a - g`` (m/s^2, what an accelerometer there reads).

    The quantities of the inverse dynamics' outward recursion (exact, no differences of
    positions; the kernel runs whole, about the cost of one ``inverse_dynamics`` call); a point
    ``p`` fixed in the segment then reads ``a - g + alpha x p + w x (w x p)``. Not
    differentiable (the inputs are detached). ``with_tau``: also return, fourth, the same
    kernel's ``inverse_dynamics(body, q, qd, qdd, gravity=gravity)`` (no second pass).
    """
    for name, x in (("q", q), ("qd", qd), ("qdd", qdd)):
        _check_q(body, x, name)
    q, qd, qdd = torch.broadcast_tensors(q, qd.to(q.dtype), qdd.to(q.dtype))
    g = torch.as_tensor(gravity, dtype=q.dtype, device=q.device)
    return segment_motion_soa(body, q, qd, qdd, g, with_tau=with_tau)


def root_residual(body: Body, q: torch.Tensor, tau: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The residual wrench on the pelvis in world axes: force (..., 3) N and moment (..., 3) N m.

    ``tau[..., 0:3]`` already is the world force. ``tau[..., 3:6]`` are the moment's
    projections on the root's three hinge axes (ZXY, each in the world), so the moment about
    the pelvis origin is the solution of ``A m = tau[3:6]`` with those axes as the rows of A
    (regular away from gimbal lock, |pelvis_list| < 90 deg).
    """
    axes = root_axes(body.tensors(q.dtype, q.device), q)  # (..., 3 slots, 3): the root's hinge axes in the world
    return tau[..., 0:3], torch.linalg.solve(axes, tau[..., 3:6, None])[..., 0]


def _external_list(body: Body, external, q: torch.Tensor):
    """Wrenches as ``(segment, force, moment about the root origin)``, each ``(..., 3)``."""
    if external is None:
        return None
    items = [external] if isinstance(external, ExternalWrench) else list(external)
    batch = q.shape[:-1] + (3,)
    out = []
    for w in items:
        if not isinstance(w, ExternalWrench):
            raise TypeError(f"external must be ExternalWrench or a sequence of them; got {type(w).__name__}")
        i = body.segment_index(w.segment) if isinstance(w.segment, str) else int(w.segment)
        force = torch.as_tensor(w.force, dtype=q.dtype, device=q.device).expand(batch)
        point = torch.as_tensor(w.point, dtype=q.dtype, device=q.device).expand(batch)
        moment = cross(point - q[..., 0:3], force)
        if w.torque is not None:
            moment = moment + torch.as_tensor(w.torque, dtype=q.dtype, device=q.device)
        out.append((i, force, moment.expand(batch)))
    return out
