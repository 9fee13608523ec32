"""Ground contact: ground reaction forces estimated from the root residual wrench.

Without force plates, the wrench that the ground must supply is the *root residual* of
inverse dynamics run with no external force: ``tau[0:3]`` (force) and the moment about the
pelvis origin. For two feet flat on the floor (y = 0) in double support, splitting the
force equally between the feet and solving for the mean centre of pressure (x, z) and a
vertical free moment makes that residual vanish exactly (three moment equations, three
unknowns). See Featherstone 2008 (sec. 9.3) for floating-base residuals and Hof (2007) on
CoP from whole-body dynamics. Valid only while both feet are in contact and the required
vertical force is upward; :func:`double_support_grf` says where that does not hold.
"""

from __future__ import annotations

import torch

from .dynamics import ExternalWrench, inverse_dynamics
from .kinematics import forward_kinematics
from .model import Body

__all__ = ["double_support_grf"]


def _root_moment(body: Body, q, tau_root_rot) -> torch.Tensor:
    # The three root hinge torques are projections of the moment on the root's ZXY axes;
    # recover the world moment by solving with those axes.
    from .kinematics import joint_rotations

    bt = body.tensors(q.dtype, q.device)
    _, u = joint_rotations(bt, q)
    axes = u[..., 0, :, :]  # (..., 3 slots, 3) root axes in the world (parent = world)
    return torch.linalg.solve(axes, tau_root_rot[..., None])[..., 0]


def double_support_grf(
    body: Body, q: torch.Tensor, qd: torch.Tensor, qdd: torch.Tensor, floor_y: float = 0.0
) -> tuple[list[ExternalWrench], torch.Tensor]:
    """Ground reaction wrenches on both feet that cancel the root residual.

    Returns the two wrenches (right, left: force, centre of pressure on the floor, free
    moment) and a boolean tensor ``(...,)`` that is False where the solution is not
    physical (vertical force below 10 N, i.e. the body would have to be pulled down).
    """
    tau = inverse_dynamics(body, q, qd, qdd)
    force = tau[..., 0:3]
    fk = forward_kinematics(body, q)
    p0 = q[..., 0:3]
    moment = _root_moment(body, q, tau[..., 3:6])
    fx, fy, fz = force.unbind(-1)
    ok = fy > 10.0
    safe_fy = torch.where(ok, fy, torch.ones_like(fy))
    ry = floor_y - p0[..., 1]
    # moment = (P - p0) x F + T e_y with P = (x, floor_y, z): solve for x, z, T.
    x = p0[..., 0] + (moment[..., 2] + ry * fx) / safe_fy
    z = p0[..., 2] + (ry * fz - moment[..., 0]) / safe_fy
    t = moment[..., 1] - ((z - p0[..., 2]) * fx - (x - p0[..., 0]) * fz)
    mean_cop = torch.stack([x, torch.full_like(x, floor_y), z], dim=-1)
    ankles = fk.origins[..., [body.segment_index("foot_r"), body.segment_index("foot_l")], :]
    half = 0.5 * (ankles[..., 0, 2] - ankles[..., 1, 2])
    zero = torch.zeros_like(half)
    offset = torch.stack([zero, zero, half], dim=-1)
    free = torch.stack([zero, 0.5 * t, zero], dim=-1)
    wrenches = [
        ExternalWrench("foot_r", 0.5 * force, mean_cop + offset, free),
        ExternalWrench("foot_l", 0.5 * force, mean_cop - offset, free),
    ]
    return wrenches, ok
