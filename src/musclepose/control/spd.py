"""Stable proportional-derivative control (SPD, Tan, Liu & Turk 2011) and plain PD, per DoF.

Plain PD, ``tau = -Kp (q - q_ref) - Kd (qd - qd_ref)``, is explicit: with gains large against a
light segment's inertia it diverges at a fixed timestep. SPD evaluates the error at the *next*
step, ``tau = -Kp (q + dt qd - q_ref') - Kd (qd + dt qdd - qd_ref')``, with ``qdd`` predicted
from the equations of motion ``(M + dt Kd) qdd = -C - Kp (q + dt qd - q_ref') - Kd (qd -
qd_ref')``; ``M`` and ``C`` are MuJoCo's (``mj_fullM``, ``qfrc_bias``), so the prediction is
the simulator's own. Contact and joint-limit forces are left out of the prediction, as in
DeepMimic's SPD (Peng et al. 2018). A DoF with zero gains (the unactuated root) still takes
part in the prediction through ``M``.

Default gains (:func:`default_gains`): a joint reaches its peak isometric torque
(:func:`~.simulation.torque_capacity`) at ``error_deg`` (10 degrees) of error, ``Kp_i = T_i /
error``, critically damped about the inertia it moves with the others locked (``Kd_i = 2 zeta
sqrt(Kp_i M_ii)``, ``M_ii`` the diagonal of ``M`` standing). Stiffness in proportion to strength
keeps the stance ankle (a light foot, but the whole body above it) stiff enough: gains from one
natural frequency for every DoF give the ankle about 5 N m/rad (the foot's small inertia) and,
in our trials on squats1, the feet rolled.
Root residual gains use the root's own natural frequency (1 Hz), well below the joints'.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .simulation import N_ROOT, Simulation

__all__ = ["Gains", "default_gains", "pd_torque", "spd_torque"]


@dataclass(frozen=True)
class Gains:
    """Per-DoF stiffness ``kp`` (47, N m/rad or N/m) and damping ``kd`` (47, N m s/rad or N s/m)."""

    kp: np.ndarray
    kd: np.ndarray


def default_gains(
    sim: Simulation,
    q: np.ndarray,
    error_deg: float = 10.0,
    damping_ratio: float = 1.0,
    root: bool = False,
    root_frequency_hz: float = 1.0,
) -> Gains:
    """Gains at pose ``q`` (module docstring): peak joint torque at ``error_deg`` of error.

    ``root=False`` leaves the six root DoF without gains (no residual forces). The root's
    frequency is low on purpose: MuJoCo's floor is soft (a few mm of penetration under body
    weight), so a root as stiff as the joints would hold the body up by its pelvis and the
    residual, not the legs, would carry the weight.
    """
    if not (error_deg > 0 and damping_ratio >= 0 and root_frequency_hz > 0):
        raise ValueError(
            f"need error_deg > 0, damping_ratio >= 0, root_frequency_hz > 0; got {error_deg}, {damping_ratio}, "
            f"{root_frequency_hz}"
        )
    sim.set_state(q)
    inertia = np.diag(sim.mass_matrix()).copy()
    kp = np.empty_like(inertia)
    kp[N_ROOT:] = sim.torque_limit[N_ROOT:] / np.radians(error_deg)
    kp[:N_ROOT] = inertia[:N_ROOT] * (2.0 * np.pi * root_frequency_hz) ** 2
    kd = 2.0 * damping_ratio * np.sqrt(kp * inertia)
    if not root:
        kp[:N_ROOT] = kd[:N_ROOT] = 0.0
    return Gains(kp, kd)


def pd_torque(q: np.ndarray, qd: np.ndarray, q_ref: np.ndarray, qd_ref: np.ndarray, gains: Gains) -> np.ndarray:
    """Plain (explicit) PD torque (47)."""
    return -gains.kp * (q - q_ref) - gains.kd * (qd - qd_ref)


def spd_torque(
    M: np.ndarray,
    bias: np.ndarray,
    q: np.ndarray,
    qd: np.ndarray,
    q_next: np.ndarray,
    qd_next: np.ndarray,
    gains: Gains,
    dt: float,
    tau_ff: np.ndarray | None = None,
    limit: np.ndarray | None = None,
) -> np.ndarray:
    """Stable PD torque (47) of Tan, Liu & Turk (2011) (module docstring).

    Parameters
    ----------
    M, bias
        Mass matrix (47×47) and bias forces (47) of the present state.
    q, qd
        Present state.
    q_next, qd_next
        Targets at the next step (``t + dt``).
    gains, dt
        Gains and timestep (s).
    tau_ff
        Optional feed-forward torque (47) added to the PD term and to the prediction.
    limit
        Optional torque bounds (47, >= 0). A DoF whose torque would exceed its bound is held at
        the bound and taken out of the implicit solve, then the others are solved again: the
        prediction must use the torque the body will really get, or the unbounded residual root
        is computed against joint torques that never happen (and diverges at high gains).
    """
    kp, kd = gains.kp, gains.kd
    pd = -kp * (q + dt * qd - q_next) - kd * (qd - qd_next)
    if tau_ff is not None:
        pd = pd + tau_ff
    free = np.ones_like(pd, dtype=bool)
    held = np.zeros_like(pd)
    for _ in range(4):  # each pass can only add DoF to the held set; 1-2 passes in practice
        kd_free = np.where(free, kd, 0.0)
        qdd = np.linalg.solve(M + np.diag(dt * kd_free), np.where(free, pd, held) - bias)
        tau = np.where(free, pd - kd_free * dt * qdd, held)
        if limit is None:
            return tau
        over = free & (np.abs(tau) > limit)
        if not over.any():
            return tau
        held = np.where(over, np.clip(tau, -limit, limit), held)
        free &= ~over
    return np.clip(tau, -limit, limit)
