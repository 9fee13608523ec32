"""A required wrench shared over known contact points (feet, hands, a seat).

For motions whose contacts are known (synthetic clips), :func:`distribute_contact_forces`
gives the forces at the planted points that balance the root residual of inverse dynamics:
the minimum-norm distribution of a wrench over contacts (Kerr & Roth 1986), with points that
would pull on the floor released. Conventions: Y-up world, SI units, any leading batch shape.
"""

from __future__ import annotations

import torch

from .dynamics import ExternalWrench, inverse_dynamics, root_residual
from .kinematics import FKResult, forward_kinematics
from .model import Body

__all__ = ["TORQUE_ARM", "distribute_contact_forces"]

TORQUE_ARM = 0.05  # m: see distribute_contact_forces


def distribute_contact_forces(
    body: Body,
    q: torch.Tensor,
    qd: torch.Tensor,
    qdd: torch.Tensor,
    segments: list[str],
    points_local: torch.Tensor,
    planted: torch.Tensor,
    external: list[ExternalWrench] | None = None,
    iterations: int = 4,
    fk: FKResult | None = None,
    *,
    return_tau: bool = False,
    without_external: torch.Tensor | None = None,
) -> (
    tuple[list[ExternalWrench], torch.Tensor, torch.Tensor]
    | tuple[list[ExternalWrench], torch.Tensor, torch.Tensor, torch.Tensor]
):
    """Forces at known contact points (feet, hands, ...) that balance the root residual.

    For motions whose contacts are known (synthetic clips: which points are planted, and
    where), the wrench the environment must supply (the root residual of inverse dynamics
    with ``external`` loads only) is shared among the planted points by the minimum-norm
    solution of ``G f = w`` (G: the 6 x 3n grasp matrix of the points about the pelvis
    origin; Kerr & Roth 1986, the standard distribution of a wrench over contacts). Points
    whose vertical force comes out negative are released (weight 1e-4) and the system
    solved again, ``iterations`` times, so that the floor only pushes where it can; what
    cannot be balanced then (e.g. in flight) stays as the residual.

    Parameters
    ----------
    segments
        Segment name of each of the ``n`` contact points.
    points_local : (n, 3)
        The points in their segment frames (m).
    planted : (..., n) bool or float
        Which points touch the ground in each frame.
    fk
        ``forward_kinematics(body, q)`` if the caller has it already.
    without_external
        ``inverse_dynamics(body, q, qd, qdd)`` if the caller has it already.

    Returns
    -------
    wrenches, forces, residual
        One :class:`ExternalWrench` per point (force at the point's world position, plus
        the patch moment),
        the forces ``(..., n, 3)`` N, and the remaining residual ``(..., 6)`` (force,
        moment about the pelvis origin) after applying them; with ``return_tau``, fourth, the
        joint moments ``(..., 47)`` with ``external`` and these wrenches applied (what
        ``inverse_dynamics`` with all of them returns, from the one RNEA pass made here: the
        RNEA is linear in external wrenches).
    """

    fk = fk if fk is not None else forward_kinematics(body, q)
    idx = [body.segment_index(s) for s in segments]
    loc = torch.as_tensor(points_local, dtype=q.dtype, device=q.device)
    pts = fk.origins[..., idx, :] + (fk.rotations[..., idx, :, :] @ loc[..., None])[..., 0]  # (..., n, 3)
    tau = without_external if without_external is not None else inverse_dynamics(body, q, qd, qdd)
    if external:
        tau = inverse_dynamics(body, q, qd, qdd, external, without_external=tau)
    f_req, m_req = root_residual(body, q, tau)
    w = torch.cat([f_req, m_req], -1)  # what the contacts must supply
    r = pts - q[..., None, 0:3]
    n = len(idx)
    eye = torch.eye(3, dtype=q.dtype, device=q.device).expand(*r.shape[:-1], 3, 3)
    rx = torch.zeros(*r.shape[:-1], 3, 3, dtype=q.dtype, device=q.device)
    rx[..., 0, 1], rx[..., 0, 2], rx[..., 1, 2] = -r[..., 2], r[..., 1], -r[..., 0]
    rx = rx - rx.transpose(-1, -2)  # skew(r): moment of a force f is r x f
    zero = torch.zeros_like(eye)
    # Unknowns per point: a force, and a moment scaled by TORQUE_ARM (a contact patch's
    # moment, e.g. the CoP moving across a foot): the minimum norm prefers forces at points
    # further apart than TORQUE_ARM and uses patch moments only for what the points cannot do
    # (two points on one line cannot hold a moment about that line).
    g = torch.cat([torch.cat([eye, rx], -2), torch.cat([zero, TORQUE_ARM * eye], -2)], -1)  # (..., n, 6, 6)
    g = g.permute(*range(g.dim() - 3), -2, -3, -1).reshape(*r.shape[:-2], 6, 6 * n)
    weight = planted.to(q.dtype)
    eye6 = torch.eye(6, dtype=q.dtype, device=q.device)
    for _ in range(iterations):
        wd = weight.repeat_interleave(6, -1)  # (..., 6n)
        a = (g * wd[..., None, :]) @ g.transpose(-1, -2) + 1e-9 * eye6
        x = wd * (g.transpose(-1, -2) @ torch.linalg.solve(a, w[..., None]))[..., 0]
        x = x.reshape(*r.shape[:-1], 6)
        pulling = (x[..., 1] < 0) & (weight > 0.5)
        if not bool(pulling.any()):
            break
        weight = torch.where(pulling, torch.full_like(weight, 1e-4), weight)
    x = torch.where(weight[..., None] > 0.5, x, torch.zeros_like(x))
    f, torque = x[..., :3], TORQUE_ARM * x[..., 3:]
    wrenches = [ExternalWrench(segments[k], f[..., k, :], pts[..., k, :], torque[..., k, :]) for k in range(n)]
    tau2 = inverse_dynamics(body, q, qd, qdd, wrenches, without_external=tau)
    # What is left of the residual; G maps the unknowns to the wrench about the pelvis origin.
    residual = w - (g @ x.reshape(*r.shape[:-2], 6 * n, 1))[..., 0]
    return (wrenches, f, residual, tau2) if return_tau else (wrenches, f, residual)
