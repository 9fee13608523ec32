"""Ground contact: foot contact from kinematics and ground reaction forces without force plates.

Without force plates, the wrench that the ground must supply is the *root residual* of
inverse dynamics run with no external force: ``tau[0:3]`` (force) and the moment about the
pelvis origin (Featherstone 2008, sec. 9.3, floating-base residuals). This module splits that
wrench between the two feet:

:func:`foot_contact`
    A smooth contact weight in [0, 1] per foot from the height above the floor and the speed
    (relative to the floor, e.g. a treadmill belt) of three sole points per foot: heel,
    metatarsal heads and toe tip. Smooth steps (C1 cubics) of height and speed, no hard
    thresholds.
:func:`estimate_grf`
    Ground reaction wrenches on both feet that cancel as much of the root residual as the
    contact, friction-cone and foot-size limits allow, and the residual that remains.
:func:`distribute_contact_forces`
    The same wrench over known contact points (feet, hands, a seat), for synthetic clips.

Conventions: Y-up world, SI units (m, N, N m), gravity (0, -9.81, 0). Tensors are batched
over any leading shape; ``q``, ``qd``, ``qdd`` are ``(..., 47)`` and, where something is
estimated over time (floor height, floor velocity), dimension ``-2`` of ``q`` is the frame
axis. Feet are ordered (right, left) everywhere. Everything is torch and differentiable
(clamps give zero gradient where a limit is active).

How :func:`estimate_grf` splits the wrench
------------------------------------------
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
   metatarsal heads (heel strike: the heel; push-off: the forefoot; toe-tip contact counts
   at the metatarsal heads, since our rigid foot has no toe joint). The share of foot ``i``
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
could not explain (CoP outside the feet, pulling on the floor, slipping, or inconsistent
kinematics) and is reported per frame.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
from torch.func import jvp

from ._ops import cross
from .dynamics import GRAVITY, ExternalWrench, inverse_dynamics, root_residual
from .kinematics import FKResult, forward_kinematics, segment_poses
from .model import Body

__all__ = [
    "FOOT_BREADTH_FRACTION",
    "FootContact",
    "GRFEstimate",
    "centre_of_mass",
    "distribute_contact_forces",
    "estimate_grf",
    "foot_contact",
    "sole_points",
]

FEET = ("foot_r", "foot_l")
TORQUE_ARM = 0.05  # m: see distribute_contact_forces
#: Foot breadth as a fraction of stature (Winter 2009, fig. 4.1).
FOOT_BREADTH_FRACTION = 0.055
_EPS = 1e-9


# ------------------------------------------------------------------------------ contact
def sole_points_local(body: Body) -> tuple[tuple[float, float, float], ...]:
    """Heel, metatarsal heads and toe tip on the sole, in the foot frame (m).

    The sole is the plane ``y = -ankle_height`` of the foot frame (the floor in the neutral
    pose); the heel lies ``heel_back`` behind the ankle joint centre, the metatarsal heads
    ``foot`` ahead of it, the toe tip ``foot_full - heel_back`` ahead
    (:data:`musclepose.body.anthropometry.STATURE_FRACTIONS`).
    """
    L = body.lengths
    y = -L["ankle_height"]
    return ((-L["heel_back"], y, 0.0), (L["foot"], y, 0.0), (L["foot_full"] - L["heel_back"], y, 0.0))


def sole_points(body: Body, q: torch.Tensor) -> torch.Tensor:
    """World positions ``(..., 2 feet, 3, 3)`` of heel, metatarsal heads and toe tip (right, left)."""
    rot_all, org_all = segment_poses(body, q)
    idx = [body.segment_index(f) for f in FEET]
    rot = rot_all[..., idx, :, :]
    org = org_all[..., idx, :]
    local = torch.tensor(sole_points_local(body), dtype=q.dtype, device=q.device)
    return org[..., :, None, :] + torch.einsum("...fij,pj->...fpi", rot, local)


def _smooth_off(x: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    """1 for ``x <= lo``, 0 for ``x >= hi``, a C1 cubic (smoothstep) in between."""
    s = ((x - lo) / (hi - lo)).clamp(0.0, 1.0)
    return 1.0 - s * s * (3.0 - 2.0 * s)


@dataclass(frozen=True)
class FootContact:
    """Contact state of both feet (right, left) per frame.

    Attributes
    ----------
    weight : (..., 2)
        Contact weight per foot in [0, 1]: ``1 - prod_k (1 - point_weight_k)``.
    point_weight : (..., 2, 3)
        Weight of the heel, the metatarsal heads and the toe tip of each foot.
    height : (..., 2, 3)
        Height of those points above the floor (m).
    speed : (..., 2, 3)
        Their speed relative to the floor (m/s).
    floor_y : (...,) or (..., 1)
        Floor height used (m); broadcasts against the frame axis.
    floor_velocity : (..., 3) or (..., 1, 3)
        Floor velocity used (m/s; zero unless a moving floor was given or estimated).
    points : (..., 2, 3, 3) or None
        The sole points' world positions (:func:`sole_points`), kept for :func:`estimate_grf`.
    """

    weight: torch.Tensor
    point_weight: torch.Tensor
    height: torch.Tensor
    speed: torch.Tensor
    floor_y: torch.Tensor
    floor_velocity: torch.Tensor
    points: torch.Tensor | None = None


def _jvp(fn, primals, tangents):
    # torch's first forward-mode call scripts its JVP decompositions with the deprecated
    # torch.jit.script and warns about it; the warning is about torch, not about this call.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*", category=DeprecationWarning)
        return jvp(fn, primals, tangents)


def _over_frames(q: torch.Tensor) -> bool:
    return q.ndim >= 2


def foot_contact(
    body: Body,
    q: torch.Tensor,
    qd: torch.Tensor,
    *,
    floor_y: float | torch.Tensor | None = None,
    floor_velocity: torch.Tensor | str | None = None,
    height_band: tuple[float, float] = (0.02, 0.06),
    speed_band: tuple[float, float] = (0.3, 1.2),
    floor_quantile: float = 0.1,
) -> FootContact:
    """Smooth contact weights of both feet from the kinematics.

    Each sole point (heel, metatarsal heads, toe tip; :func:`sole_points`) gets ``w_k =
    off(height) * off(speed)``, where ``off`` falls smoothly from 1 to 0 across
    ``height_band`` (m above the floor) and ``speed_band`` (m/s relative to the floor); the
    foot's weight is ``1 - prod_k (1 - w_k)``, high when any point touches. Speed matters
    because in swing the toes pass within 1-2 cm of the floor (minimum toe clearance, Winter
    1992, Phys Ther 72:45) at several m/s. The toe tip keeps a foot in contact through
    push-off, when the real toes stay flat but our rigid foot's metatarsal heads rise.

    Parameters
    ----------
    body, q, qd
        Body and states ``(..., 47)``; point velocities are ``J(q) qd`` (forward-mode AD).
    floor_y
        Floor height (m). ``None``: estimated per sequence as the ``floor_quantile`` quantile
        over frames (dimension ``-2``) of the lowest sole point, or that point for one state.
        Sole points are on our rigid foot's sole; subject-specific ankle heights differ, so
        estimating is usually better than a lab's nominal floor.
    floor_velocity
        Velocity of the floor (m/s, world), e.g. ``(-1.2, 0, 0)`` for a treadmill belt;
        ``"estimate"``: the median over frames of the horizontal velocity of the lowest sole
        point (a stance foot moves with the belt); ``None``: a static floor.
    """
    pts, vel = _jvp(lambda x: sole_points(body, x), (q,), (qd,))  # (..., 2 feet, 3 points, 3)
    y = pts[..., 1]
    flat_y = y.flatten(-2)  # (..., 6)
    lowest = flat_y.argmin(-1, keepdim=True)
    if floor_y is None:
        low = flat_y.gather(-1, lowest)[..., 0]
        floor = torch.quantile(low, floor_quantile, dim=-1, keepdim=True) if _over_frames(q) else low
    else:
        floor = torch.as_tensor(floor_y, dtype=q.dtype, device=q.device)
    fv = _floor_velocity(floor_velocity, vel, lowest, q)
    height = y - floor[..., None, None]
    speed = torch.sqrt(((vel - fv[..., None, None, :]) ** 2).sum(-1) + _EPS**2)
    w = _smooth_off(height, *height_band) * _smooth_off(speed, *speed_band)
    weight = 1.0 - (1.0 - w).prod(-1)
    return FootContact(weight, w, height, speed, floor, fv, pts)


def _floor_velocity(spec, vel: torch.Tensor, lowest: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    if spec is None:
        return torch.zeros(3, dtype=q.dtype, device=q.device)
    if isinstance(spec, str):
        if spec != "estimate":
            raise ValueError(f"floor_velocity must be a (..., 3) tensor, 'estimate' or None; got {spec!r}")
        flat = vel.flatten(-3, -2)  # (..., 6, 3)
        v = flat.gather(-2, lowest[..., None].expand(lowest.shape[:-1] + (1, 3)))[..., 0, :]
        v = v * torch.tensor([1.0, 0.0, 1.0], dtype=v.dtype, device=v.device)
        return v.median(dim=-2, keepdim=True).values if _over_frames(q) else v
    fv = torch.as_tensor(spec, dtype=q.dtype, device=q.device)
    if fv.shape[-1:] != (3,):
        raise ValueError(f"floor_velocity must have shape (..., 3); got {tuple(fv.shape)}")
    return fv


# ------------------------------------------------------------------------------ GRF
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
    """Ground reaction wrenches of both feet from kinematics alone (see the module docstring).

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
        ``"com"``: each foot's force points at the centre of mass (step 5 of the module
        docstring); ``"share"``: horizontal forces split like the vertical ones.

    Returns
    -------
    GRFEstimate
        Wrenches, contact weights, forces in body weights and the residual that remains.
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
    # push-off the real foot rolls over the metatarsal heads with its toes flat.
    pw = contact.point_weight
    w_heel, w_fore = pw[..., 0:1], pw[..., 1:2] + pw[..., 2:3]
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


def centre_of_mass(body: Body, q: torch.Tensor) -> torch.Tensor:
    """Whole-body centre of mass ``(..., 3)`` (m, world)."""
    rot, org = segment_poses(body, q)  # the landmarks are not needed
    bt = body.tensors(q.dtype, q.device)
    seg = org + (rot @ bt.coms[..., None])[..., 0]
    return (bt.masses[:, None] * seg).sum(-2) / bt.masses.sum()


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
