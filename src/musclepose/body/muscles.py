"""Hill-type muscle torque generators (MTGs): two per rotational DoF, 82 in all.

Each of the 41 rotational DoF (``q[..., 6:]``, names ``body.dof_names[6:]``) is driven by a
generator that turns it in its positive direction (the one its name says: flexion, adduction,
internal rotation, ...) and one in its negative direction. With activation ``a`` in [0, 1] a
generator produces ``a * T``, ``T = tau_iso f_L(theta) f_V(omega_c)`` its maximum voluntary
active torque, ``omega_c = s dq/dt`` (``s = +1 / -1``; > 0 concentric, < 0 eccentric). Passive
torque is shared by the pair, so the net torque on DoF ``i`` (N m, the sign of
``inverse_dynamics(...)[..., 6 + i]``) is ``tau_i = a[i] T+_i - a[41 + i] T-_i + tau_passive_i``.
Activations: ``a[..., :41]`` the positive generators in ``dof_names[6:]`` order, ``a[..., 41:]``
the negative ones (``"knee_flexion_r+"`` = right knee flexors, ``"knee_flexion_r-"`` =
extensors). Curves: Anderson et al. (2007) at the hip, knee and ankle, Thelen (2003) shapes
elsewhere (:func:`max_torques`); passive stops and damping (:func:`passive_torque`); Thelen
(2003) activation dynamics. Everything is torch, batched over any leading shape, float32/float64,
differentiable. Parameters and their sources: :mod:`._muscle_params`.

References: Anderson DE, Madigan ML, Nussbaum MA (2007) *J Biomech* 40:3105-3113. Thelen DG
(2003) *J Biomech Eng* 125:70-77. Millard M, Kleesattel AL, Harant M, Mombaur K (2019)
*J Biomech* 89:11-20. Crowninshield RD, Brand RA (1981) *J Biomech* 14:793-801 (static
optimisation; the squared-activation cost is OpenSim's default).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from ._muscle_params import AGES, N_ROT, PASSIVE_MODELS, MTGParameters, MTGTensors, mtg_parameters

__all__ = [
    "AGES",
    "N_GENERATORS",
    "PASSIVE_MODELS",
    "MTGParameters",
    "StaticOptimization",
    "activation_dynamics",
    "max_torques",
    "mtg_parameters",
    "muscle_torque",
    "passive_torque",
    "static_optimization",
]

N_GENERATORS = 2 * N_ROT
_EXP_CAP = 50.0  # keep exp() finite in float32 for angles far outside any ROM
_STOP_KNEE = 3.0  # the ROM stops grow exponentially up to exp(3) x their limit torque, then linearly


def _stop(x: torch.Tensor) -> torch.Tensor:
    """``exp(x)`` continued linearly (value and slope matched) beyond ``x = 3``.

    Real tissue does not stiffen without bound, and measured or solved angles can lie far
    beyond a cited range (marker artefacts): an unbounded exponential then swamps every other
    torque in static optimisation.
    """
    e = torch.exp(x.clamp(max=_STOP_KNEE))
    return torch.where(x > _STOP_KNEE, e * (1.0 + x - _STOP_KNEE), e)


def _rot(params: MTGParameters, q: torch.Tensor, qd: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, MTGTensors]:
    for name, x in (("q", q), ("qd", qd)):
        if not isinstance(x, torch.Tensor) or x.shape[-1:] != (6 + N_ROT,):
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"{name} must be a tensor of shape (..., {6 + N_ROT}); got {shape}")
    if q.shape != qd.shape:
        raise ValueError(f"q and qd must have the same shape; got {tuple(q.shape)} and {tuple(qd.shape)}")
    return q[..., 6:], qd[..., 6:], params.tensors(q.dtype, q.device)


def _torque_velocity(p: MTGTensors, w: torch.Tensor) -> torch.Tensor:
    """``f_V`` of the 82 generators at concentric angular velocity ``w (..., 82)``."""
    x = w.clamp(min=0.0)
    xl = torch.minimum(x, p.conc_linear_from)
    conc = (1.0 + p.conc_b * xl) / (1.0 + p.conc_d * xl)
    span = (p.omega_max - p.conc_linear_from).clamp(min=1e-9)
    ramp = ((p.omega_max - x) / span).clamp(0.0, 1.0)
    conc = torch.where(x > p.conc_linear_from, conc * ramp, conc).clamp(min=0.0)
    y = torch.minimum((-w).clamp(min=0.0), p.ecc_hold)
    ecc = (1.0 + p.ecc_b * y) * (1.0 + p.ecc_c * y) / (1.0 + p.ecc_d * y)
    return torch.where(w >= 0, conc, ecc)


def _max_active(params: MTGParameters, q: torch.Tensor, qd: torch.Tensor) -> torch.Tensor:
    theta, omega, p = _rot(params, q, qd)
    th = torch.cat([theta, theta], dim=-1)
    w = torch.cat([omega, -omega], dim=-1)  # concentric velocity of each generator
    arg = (p.angle_scale * (th - p.angle_opt)).clamp(-0.5 * math.pi, 0.5 * math.pi)
    return p.tau_iso * torch.cos(arg) * _torque_velocity(p, w)


def max_torques(params: MTGParameters, q: torch.Tensor, qd: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Maximum voluntary active torques of the positive- and negative-direction generators.

    Parameters
    ----------
    params
        From :func:`mtg_parameters`.
    q, qd : (..., 47)
        Full generalized positions and velocities (only ``[..., 6:]`` is used).

    Returns
    -------
    pos, neg : (..., 41)
        Torque magnitudes (N m, >= 0) at full activation: the positive generator produces
        ``+pos``, the negative one ``-neg``.

    Notes
    -----
    **Hip, knee, ankle: Anderson et al. (2007)** (see :mod:`._muscle_params` for the table):

        f_L = cos(C2 (theta - C3))  (zero beyond |C2 (theta - C3)| = pi/2),  tau_iso = C1 m g h
        f_V = (2 C4 C5 + w (C5 - 3 C4)) / (2 C4 C5 + w (2 C5 - 4 C4))                  w >= 0
        f_V = (2 C4 C5 + |w| (C5 - 3 C4)) / (2 C4 C5 + |w| (2 C5 - 4 C4)) (1 + C6 |w|)  w < 0
        passive = B1 exp(k1 theta) + B2 exp(k2 theta)

    with ``w`` the concentric angular velocity (C4 and C5 are where torque falls to 75 % and
    50 % of isometric) and ``m g h`` body weight times height. *Angle mapping*: Anderson's hip
    angle is 0 in the anatomical position and positive in flexion, the knee 0 at full
    extension and positive in flexion, the ankle 0 with the foot perpendicular to the shank and
    positive in dorsiflexion, all in radians: exactly our ``hip_flexion_*``,
    ``knee_flexion_*`` and ``ankle_dorsiflexion_*`` (left sides are mirrored in
    :mod:`.skeleton`, so positive is flexion/dorsiflexion on both sides). Our positive
    generator of each is Anderson's "flexion" exertion (hip flexors, knee flexors,
    dorsiflexors), the negative one his "extension" exertion (hip extensors, knee extensors,
    plantarflexors); his passive torque for the flexion exertion is the net passive torque in
    our positive direction. Two departures where the published curves leave the data (both
    noted by Millard et al. 2019): (1) the eccentric branch rises to a maximum and then falls
    to large negative values; we hold it at its maximum (1.0-1.5 times isometric across the
    groups), and where it starts below isometric (young men's knee extensors, the
    plantarflexors) we keep it isometric; (2) where ``C5 > 3 C4`` (the plantarflexors) the
    concentric branch never reaches zero; it ends with a straight line from 0.8 to 1.0 of
    ``omega_max = 2 C4 C5/|C5 - 3 C4|``. Anderson's passive curves are opt-in
    (``mtg_parameters(..., passive="anderson")``): they hold two-joint muscles stretched in his
    dynamometer postures (see :func:`~._muscle_params.mtg_parameters`).

    **All other DoFs** (hip ab/adduction and rotation, ankle inversion and adduction, trunk,
    neck, scapula, shoulder, elbow, forearm, wrist): the same shapes with GENERIC peak torques
    scaled by body mass, sex and age (see :mod:`._muscle_params`): ``f_L`` a cosine centred at
    mid-range that keeps half its peak at the ROM limits, and the Hill force-velocity curve of
    Thelen (2003) at full activation (``Af = 0.25``, eccentric plateau ``Flen = 1.4``, 1.8 old).
    """
    t = _max_active(params, q, qd)
    return t[..., :N_ROT], t[..., N_ROT:]


def passive_torque(params: MTGParameters, q: torch.Tensor, qd: torch.Tensor) -> torch.Tensor:
    """Passive joint torque ``(..., 41)`` in N m: elastic (ROM stops, Anderson's curves if chosen) plus damping.

    **Passive torque** on every DoF: an exponential stop at each cited ROM limit
    (:mod:`.skeleton`): 5 % of the DoF's mean peak torque at the limit, growing e-fold per
    1/8 rad beyond it, near zero mid-range (GENERIC); with ``passive="anderson"`` Anderson's
    curves replace the stops on the hip, knee and ankle sides they already resist. Damping
    ``-(beta tau_iso/omega_max summed over the pair) dq/dt`` with ``beta = 0.1`` (Millard et
    al. 2019).
    """
    theta, omega, p = _rot(params, q, qd)
    anderson = (p.passive_b * torch.exp((p.passive_k * theta[..., None]).clamp(max=_EXP_CAP))).sum(-1)
    k = params.limit_stiffness
    stop_lo = p.limit_torque_lower * _stop(-k * (theta - p.lower))
    stop_hi = p.limit_torque_upper * _stop(k * (theta - p.upper))
    return anderson + stop_lo - stop_hi - p.damping * omega


def muscle_torque(params: MTGParameters, q: torch.Tensor, qd: torch.Tensor, activations: torch.Tensor) -> torch.Tensor:
    """Net joint torque ``(..., 41)`` (N m) of all generators at ``activations (..., 82)``.

    ``activations[..., :41]`` drive the positive-direction generators, ``[..., 41:]`` the
    negative-direction ones (module docstring); the passive torque is included, so this is
    directly comparable with ``inverse_dynamics(...)[..., 6:]``.
    """
    if activations.shape[-1:] != (N_GENERATORS,):
        raise ValueError(f"activations must have shape (..., {N_GENERATORS}); got {tuple(activations.shape)}")
    t = _max_active(params, q, qd)
    signed = torch.cat([t[..., :N_ROT], -t[..., N_ROT:]], dim=-1)
    active = activations * signed
    return active[..., :N_ROT] + active[..., N_ROT:] + passive_torque(params, q, qd)


class StaticOptimization(NamedTuple):
    """Result of :func:`static_optimization`."""

    activations: torch.Tensor  # (..., 82) in [0, 1]
    residual: torch.Tensor  # (..., 41) N m the generators cannot supply


def static_optimization(
    params: MTGParameters, q: torch.Tensor, qd: torch.Tensor, tau: torch.Tensor
) -> StaticOptimization:
    """Least-squares activations that reproduce the joint torques ``tau``, frame by frame.

    Solves, independently for every frame and DoF, ``min a+^2 + a-^2`` subject to
    ``a+ T+ - a- T- = tau - tau_passive`` and ``0 <= a <= 1`` (static optimisation,
    Crowninshield & Brand 1981, with OpenSim's squared-activation cost; ``T`` includes the
    torque-velocity factor at ``qd``, as OpenSim's static optimisation can).
    With one agonist/antagonist pair per DoF the problem has a closed form, used here: the
    antagonist is silent and the agonist supplies ``|need| / T`` clipped to 1; whatever it
    cannot supply (saturation, or a zero-capacity generator) is the residual, so
    ``muscle_torque(params, q, qd, activations) + residual == tau[..., 6:]`` exactly.

    Parameters
    ----------
    q, qd : (..., 47)
        Generalized positions and velocities.
    tau : (..., 47)
        Generalized forces from :func:`~musclepose.body.dynamics.inverse_dynamics`; the
        root residual ``tau[..., :6]`` is ignored.

    Returns
    -------
    StaticOptimization
        ``activations (..., 82)`` in the layout of the module docstring and
        ``residual (..., 41)`` in N m.
    """
    if tau.shape != q.shape:
        raise ValueError(f"tau must have the shape of q {tuple(q.shape)}; got {tuple(tau.shape)}")
    pos, neg = max_torques(params, q, qd)
    need = tau[..., 6:] - passive_torque(params, q, qd)

    def share(demand: torch.Tensor, capacity: torch.Tensor) -> torch.Tensor:
        ok = capacity > 1e-12
        return torch.where(ok & (demand > 0), demand / torch.where(ok, capacity, 1.0), 0.0).clamp(0.0, 1.0)

    a_pos, a_neg = share(need, pos), share(-need, neg)
    residual = need - (a_pos * pos - a_neg * neg)
    return StaticOptimization(torch.cat([a_pos, a_neg], dim=-1), residual)


def activation_dynamics(
    excitation: torch.Tensor,
    fps: float,
    a0: torch.Tensor | float | None = None,
    tau_act: float = 0.015,
    tau_deact: float = 0.050,
) -> torch.Tensor:
    """Activations ``(..., T, C)`` from neural excitations ``(..., T, C)`` sampled at ``fps``.

    Thelen (2003) first-order dynamics, as OpenSim's ``Thelen2003Muscle``: ``da/dt = (u - a) /
    tau(a, u)``, ``tau = tau_act (0.5 + 1.5 a)`` when ``u > a`` else ``tau_deact / (0.5 + 1.5 a)``.
    Excitation is held constant over each frame interval. Each step is the exact solution of
    the linear ODE with the time constant evaluated at the step's midpoint (exponential midpoint
    rule): second-order accurate, unconditionally stable, and the activation never overshoots
    the excitation, so activations stay in [0, 1] when excitations do.

    Parameters
    ----------
    excitation
        ``(..., T, C)``, time on dimension -2 (any number of channels, e.g. 82).
    fps
        Frame rate in Hz.
    a0
        Activation at frame 0, ``(..., C)`` or a scalar; default: the first excitation
        (steady state).
    tau_act, tau_deact
        Activation and deactivation time constants in seconds (Thelen 2003: 15 and 50 ms).
    """
    if excitation.ndim < 2:
        raise ValueError(f"excitation must have shape (..., T, C); got {tuple(excitation.shape)}")
    if not (isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number; got {fps!r}")
    if not (tau_act > 0 and tau_deact > 0):
        raise ValueError(f"time constants must be positive; got tau_act={tau_act}, tau_deact={tau_deact}")
    dt = 1.0 / float(fps)
    u = excitation
    if a0 is None:
        a = u[..., 0, :]
    else:
        a = torch.as_tensor(a0, dtype=u.dtype, device=u.device).expand_as(u[..., 0, :])

    def tau(a: torch.Tensor, un: torch.Tensor) -> torch.Tensor:
        s = 0.5 + 1.5 * a.clamp(0.0, 1.0)
        return torch.where(un > a, tau_act * s, tau_deact / s)

    out = [a]
    for n in range(u.shape[-2] - 1):
        un = u[..., n, :]
        half = un + (a - un) * torch.exp(-0.5 * dt / tau(a, un))
        a = un + (a - un) * torch.exp(-dt / tau(half, un))
        out.append(a)
    return torch.stack(out, dim=-2)
