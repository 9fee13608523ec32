"""Ground reaction forces without force plates, from kinematics alone.

Without force plates, the wrench that the ground must supply is the *root residual* of
inverse dynamics run with no external force: ``tau[0:3]`` (force) and the moment about the
pelvis origin (Featherstone 2008, sec. 9.3, floating-base residuals). :func:`estimate_grf`
splits it between the two feet by the smooth transition assumption of Ren, Jones & Howard
(2008, J Biomech 41:2750), frame by frame from the contact weights of :mod:`.contact`, within
friction cones and the feet's support rectangles; the method is in its Notes.

Conventions: as :mod:`.contact` (Y-up, SI units, gravity (0, -9.81, 0), any leading batch
shape, feet ordered (right, left)); everything is torch and differentiable (clamps give zero
gradient where a limit is active).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ._ops import cross
from .contact import FEET, FootContact, foot_contact, sole_points
from .dynamics import GRAVITY, ExternalWrench, inverse_dynamics, root_residual
from .kinematics import centre_of_mass
from .model import Body

__all__ = ["FOOT_BREADTH_FRACTION", "GRFEstimate", "estimate_grf"]

#: Foot breadth as a fraction of stature (Winter 2009, fig. 4.1).
FOOT_BREADTH_FRACTION = 0.055
_EPS = 1e-9


@dataclass(frozen=True)
class GRFEstimate:
    """Estimated ground reaction wrenches on both feet (right, left) and what they leave.

    Attributes
    ----------
    wrenches : tuple of ExternalWrench
        ``(right, left)``: force (N), CoP on the floor (m), vertical free moment (N m), world
        axes; pass them to :func:`~musclepose.body.dynamics.inverse_dynamics` as ``external``.
    force, cop : (..., 2, 3)
        The same forces and centres of pressure, stacked.
    free_moment : (..., 2)
        Vertical free moments (N m).
    contact : FootContact
        The contact state used.
    grf_bw : (..., 2, 3)
        Forces in body weights (``force / (m g)``).
    required_force, required_moment : (..., 3)
        Root residual of inverse dynamics without external forces: force (N) and moment
        about the pelvis origin (N m, world axes), i.e. the wrench the ground had to supply.
    residual_force, residual_moment : (..., 3)
        Root residual left after applying ``wrenches`` (same frame as ``required_*``).
    tau : (..., 47)
        Inverse dynamics with ``wrenches`` applied (its root rows are the residual).
    """

    wrenches: tuple[ExternalWrench, ExternalWrench]
    force: torch.Tensor
    cop: torch.Tensor
    free_moment: torch.Tensor
    contact: FootContact
    grf_bw: torch.Tensor
    required_force: torch.Tensor
    required_moment: torch.Tensor
    residual_force: torch.Tensor
    residual_moment: torch.Tensor
    tau: torch.Tensor | None = None


def _horizontal(v: torch.Tensor) -> torch.Tensor:
    return v * torch.tensor([1.0, 0.0, 1.0], dtype=v.dtype, device=v.device)


def estimate_grf(
    body: Body,
    q: torch.Tensor,
    qd: torch.Tensor,
    qdd: torch.Tensor,
    *,
    contact: FootContact | None = None,
    floor_y: float | torch.Tensor | None = None,
    floor_velocity: torch.Tensor | str | None = None,
    mu: float = 0.8,
    horizontal_split: str = "com",
) -> GRFEstimate:
    """Ground reaction wrenches of both feet from kinematics alone (method in the Notes).

    Parameters
    ----------
    body, q, qd, qdd
        Body and states ``(..., 47)``; filter measured coordinates (e.g. 6 Hz) before
        differentiating them, or the accelerations swamp the estimate with noise.
    contact
        Precomputed :func:`foot_contact` (else computed with ``floor_y``/``floor_velocity``).
    floor_y, floor_velocity
        See :func:`foot_contact`.
    mu
        Static friction coefficient of the floor (0.8: rubber soles on dry floor).
    horizontal_split
        ``"com"``: each foot's force points at the centre of mass (step 5 of the
        Notes); ``"share"``: horizontal forces split like the vertical ones.

    Returns
    -------
    GRFEstimate
        Wrenches, contact weights, forces in body weights and the residual that remains.

    Notes
    -----
    The *smooth transition assumption* of Ren, Jones & Howard (2008, J Biomech 41:2750, "Whole
    body inverse dynamics over a complete gait cycle based only on measured kinematics") is that
    in double support the load moves smoothly from the trailing to the leading foot. Ren et al.
    impose it as a function of time between gait events; here it follows from the kinematics
    frame by frame, with no event detection (so it also serves squats, lunges and standing):

    1. The required force ``F`` is limited to the friction cone (``F_y >= 0``,
       ``|F_h| <= mu F_y``) and scaled by ``s = 1 - (1 - w_r)(1 - w_l)``, the probability that at
       least one foot is in contact.
    2. The total centre of pressure ``P`` on the floor and a vertical free moment follow from the
       required moment (three equations, three unknowns, as in a force plate).
    3. Each foot has a *natural* CoP ``c_i``: the contact-weighted mean of its heel and
       metatarsal heads (heel strike: the heel; push-off: the forefoot; flat: midway). The
       forefoot's weight is the probability that the metatarsal heads or the toe tip touch,
       ``1 - (1 - w_mth)(1 - w_toe)`` (toe-tip contact counts at the metatarsal heads, since our
       rigid foot has no toe joint). The share of foot ``i``
       is the lever rule: ``a_i``, where ``P`` lies on the line from one natural CoP to the
       other, weighted by the contact weights, ``alpha_i = w_i a_i / sum_j w_j a_j``. This is
       the split for which the vertical forces balance about ``P`` with each CoP at its natural
       point, and it moves the load continuously from the trailing to the leading foot as ``P``
       travels between them.
    4. Each CoP is the point nearest to ``c_i`` with ``sum alpha_i p_i = P`` (a least-norm
       correction, ``p_i = c_i + alpha_i (P - sum alpha_j c_j) / sum alpha_j^2``), then clamped
       to the foot's support rectangle: heel to toe tip along the foot, ``+-`` half the foot
       breadth across (0.055 x stature, Winter 2009, *Biomechanics and Motor Control of Human
       Movement*, 4th ed., fig. 4.1).
    5. Vertical forces follow the shares. Horizontal forces (``horizontal_split="com"``) point
       each foot's force at the whole-body centre of mass, then add the share of whatever is
       needed to sum to the total: in walking the whole-body angular momentum stays small (Herr
       & Popovic 2008, J Exp Biol 211:467), so each GRF passes close to the CoM and the leading
       foot brakes while the trailing one pushes (``"share"`` splits them like the vertical
       ones). Each foot's force is then limited to its friction cone.
    6. The vertical free moment is recomputed for the clamped CoPs and each foot's is limited by
       torsional friction, ``|T_i| <= mu F_y,i L_i / 4`` (``L_i / 4``: the mean distance from
       the centre of a contact line of length ``L_i``).

    Inverse dynamics is then run with the two wrenches; its root residual is what the estimate
    """
    if mu <= 0:
        raise ValueError(f"mu must be positive; got {mu!r}")
    if horizontal_split not in ("com", "share"):
        raise ValueError(f"horizontal_split must be 'com' or 'share'; got {horizontal_split!r}")
    if contact is None:
        contact = foot_contact(body, q, qd, floor_y=floor_y, floor_velocity=floor_velocity)
    tau = inverse_dynamics(body, q, qd, qdd)
    tau_free = tau
    force_req = tau[..., 0:3]
    moment_req = root_residual(body, q, tau)[1]
    weight = body.mass_kg * -GRAVITY[1]
    p0 = q[..., 0:3]
    floor = contact.floor_y  # broadcasts against q.shape[:-1]

    # 1. Friction cone and unilateral contact on the total, scaled by the contact probability.
    w = contact.weight  # (..., 2)
    fy = force_req[..., 1].clamp(min=0.0)
    fh = _horizontal(force_req)
    fh_norm = torch.sqrt((fh**2).sum(-1) + (_EPS * weight) ** 2)
    k = torch.minimum(torch.ones_like(fy), mu * fy / fh_norm)
    force = fh * k[..., None] + torch.stack([torch.zeros_like(fy), fy, torch.zeros_like(fy)], -1)
    s = 1.0 - (1.0 - w[..., 0]) * (1.0 - w[..., 1])

    # 2. Total CoP P on the floor and vertical free moment: M = (P - p0) x F + T e_y.
    fx, fz = force[..., 0], force[..., 2]
    fy_safe = fy.clamp(min=1e-3 * weight)
    ry = floor - p0[..., 1]
    px = p0[..., 0] + (moment_req[..., 2] + ry * fx) / fy_safe
    pz = p0[..., 2] + (ry * fz - moment_req[..., 0]) / fy_safe
    cop_total = torch.stack([px, floor.expand_as(px), pz], dim=-1)

    # 3. Natural CoP per foot and the lever-rule share.
    pts = contact.points if contact.points is not None else sole_points(body, q)  # heel, metatarsals, toe
    heel, mth, toe = pts[..., 0, :], pts[..., 1, :], pts[..., 2, :]
    heel = _on_floor(heel, floor)
    mth = _on_floor(mth, floor)
    toe = _on_floor(toe, floor)
    # Toe-tip contact counts at the metatarsal heads: the rigid foot has no toe joint, and in
    # push-off the real foot rolls over the metatarsal heads with its toes flat. Combined as a
    # probability, not a sum: a flat foot's natural CoP is then midway, where the plates put it in
    # mid-stance, not two thirds of the way to the forefoot (which delayed the load's transfer
    # to the leading foot in double support: OpenSim's example walk, mid-transfer, share 0.69,
    # now 0.72, the plates 0.79).
    pw = contact.point_weight
    w_heel, w_fore = pw[..., 0:1], 1.0 - (1.0 - pw[..., 1:2]) * (1.0 - pw[..., 2:3])
    natural = (w_heel * heel + w_fore * mth + _EPS * 0.5 * (heel + mth)) / (w_heel + w_fore + _EPS)
    d = natural[..., 0, :] - natural[..., 1, :]
    a_r = (((cop_total - natural[..., 1, :]) * d).sum(-1) / ((d * d).sum(-1) + 1e-6)).clamp(0.02, 0.98)
    a = torch.stack([a_r, 1.0 - a_r], -1)
    share = w * a / (w * a).sum(-1, keepdim=True).clamp(min=_EPS)  # (..., 2), sums to 1 in contact

    # 4. CoPs: least-norm correction towards P, then clamped to each foot's rectangle.
    mean = (share[..., None] * natural).sum(-2)
    corr = (cop_total - mean) / ((share**2).sum(-1)[..., None] + _EPS)
    cop = _clamp_to_foot(
        natural + share[..., None] * corr[..., None, :], heel, toe, FOOT_BREADTH_FRACTION * body.height_m
    )

    # 5. Forces: vertical by share; horizontal pointing at the centre of mass (or by share).
    f_feet = (s[..., None] * share)[..., None] * force[..., None, :]  # (..., 2, 3)
    if horizontal_split == "com":
        f_feet = _point_at_com(body, q, f_feet, cop, share, floor, mu)
    m_y = (s * moment_req[..., 1])[..., None]
    t_need = m_y - cross(cop - p0[..., None, :], f_feet)[..., 1].sum(-1, keepdim=True)
    length = torch.sqrt((_horizontal(toe - heel) ** 2).sum(-1) + _EPS**2)
    t_max = mu * f_feet[..., 1] * 0.25 * length
    t_feet = torch.maximum(torch.minimum(share * t_need, t_max), -t_max)

    zero = torch.zeros_like(t_feet)
    torques = torch.stack([zero, t_feet, zero], -1)
    wrenches = tuple(ExternalWrench(FEET[i], f_feet[..., i, :], cop[..., i, :], torques[..., i, :]) for i in range(2))
    tau_after = inverse_dynamics(body, q, qd, qdd, external=list(wrenches), without_external=tau_free)
    return GRFEstimate(
        wrenches=wrenches,  # type: ignore[arg-type]
        force=f_feet,
        cop=cop,
        free_moment=t_feet,
        contact=contact,
        grf_bw=f_feet / weight,
        required_force=force_req,
        required_moment=moment_req,
        residual_force=tau_after[..., 0:3],
        residual_moment=root_residual(body, q, tau_after)[1],
        tau=tau_after,
    )


def _on_floor(p: torch.Tensor, floor: torch.Tensor) -> torch.Tensor:
    """``p (..., 2, 3)`` with its height replaced by the floor's."""
    y = floor[..., None].expand(p.shape[:-1])
    return torch.stack([p[..., 0], y, p[..., 2]], -1)


def _clamp_to_foot(p: torch.Tensor, heel: torch.Tensor, toe: torch.Tensor, breadth: float) -> torch.Tensor:
    """Points ``(..., 2, 3)`` on the floor clamped to each foot's heel-to-toe rectangle."""
    axis = toe - heel
    length = torch.sqrt((axis**2).sum(-1, keepdim=True) + _EPS**2)
    u = axis / length
    n = torch.stack([-u[..., 2], torch.zeros_like(u[..., 0]), u[..., 0]], -1)  # u x e_y: horizontal, to the right
    r = p - heel
    along = torch.minimum(torch.maximum((r * u).sum(-1, keepdim=True), torch.zeros_like(length)), length)
    across = (r * n).sum(-1, keepdim=True).clamp(-0.5 * breadth, 0.5 * breadth)
    return heel + along * u + across * n


def _point_at_com(body, q, f_feet, cop, share, floor, mu):
    # Shear that points each force at the CoM, as shared total + internal part (sums to 0).
    com = centre_of_mass(body, q)
    height = (com[..., 1] - floor).clamp(min=0.1 * body.height_m)[..., None, None]
    towards = f_feet[..., 1:2] * _horizontal(com[..., None, :] - cop) / height  # (..., 2, 3)
    base = _horizontal(f_feet)  # share of the total; inside each cone since the total is
    internal = towards - share[..., None] * towards.sum(-2, keepdim=True)
    # Largest beta in [0, 1] with |base_i + beta internal_i| <= mu F_y,i for both feet.
    a = (internal**2).sum(-1)
    b = (base * internal).sum(-1)
    c = (base**2).sum(-1) - (mu * f_feet[..., 1]) ** 2  # <= 0
    tiny = _EPS * (body.mass_kg * 10.0) ** 2
    beta = (torch.sqrt((b * b - a * c).clamp(min=0.0) + tiny) - b) / (a + tiny)
    beta = beta.min(-1, keepdim=True).values.clamp(0.0, 1.0)
    fh = base + beta[..., None] * internal
    return fh + f_feet * torch.tensor([0.0, 1.0, 0.0], dtype=f_feet.dtype, device=f_feet.device)
