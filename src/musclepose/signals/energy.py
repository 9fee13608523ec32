"""Mechanical energy of the moving body, in joules, and the upstream unitless energy.

Segment-energy method (Winter 2009, *Biomechanics and Motor Control of Human Movement*,
4th ed., chapter 6 "Mechanical work, energy, and power"): for every segment ``i`` of mass
``m_i``, inertia ``I_i`` about its centre of mass, CoM velocity ``v_i`` and angular velocity
``w_i``, the kinetic energy is ``1/2 m_i |v_i|^2 + 1/2 w_i^T I_i w_i`` and the potential
energy ``m_i g y_i`` (``g = 9.81 m/s^2``, ``y`` up, floor at 0). The body's total is
``E(t) = sum_i (kinetic + potential)``. Positive and negative work are the sums of the
increases and decreases of ``E`` between frames (energy that segments exchange with each
other within a frame is not counted, as in Winter's "total body" work), and power is
``dE/dt``. Positions come from forward kinematics of the Motion's body (Dumas 2007 inertial
parameters); velocities by central differences after a zero-phase low-pass (default 6 Hz,
Winter's usual cut-off for whole-body kinematics) because differentiation amplifies noise.

When only the seven channels are known, :func:`hip_proxy_energy` treats the whole mass as
moving with the hip midpoint's vertical motion (``1/2 M v_y^2 + M g dy``): it captures the
raising and lowering of the body in squats and jumps and ignores limb swing.

Upstream's energy was unitless: ``1/2 sum v^2`` of one normalised signal, split by the sign
of ``v`` (IMPLEMENTATION_NOTES). :func:`proxy_energy` keeps it, under that name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..body import FKResult
from .channels import motion_fk
from .smoothing import derivative, lowpass

if TYPE_CHECKING:
    from ..motion.core import Motion

__all__ = ["GRAVITY_MS2", "MechanicalEnergy", "hip_proxy_energy", "proxy_energy", "segment_energy"]

GRAVITY_MS2 = 9.81


@dataclass(frozen=True)
class MechanicalEnergy:
    """Whole-body mechanical energy over time.

    Attributes
    ----------
    kinetic, potential : np.ndarray, (T,)
        Joules; potential relative to the floor (``y = 0``).
    fps : float
    method : str
        ``"segments"`` (all segments, translation and rotation) or ``"hip_proxy"``.
    """

    kinetic: np.ndarray
    potential: np.ndarray
    fps: float
    method: str

    @property
    def total(self) -> np.ndarray:
        return self.kinetic + self.potential

    @property
    def power(self) -> np.ndarray:
        """``dE/dt`` (W)."""
        return derivative(self.total, self.fps)

    def work(self, start: int = 0, end: int | None = None) -> tuple[float, float]:
        """(positive, negative) work (J) over frames ``start .. end`` (end inclusive)."""
        d = np.diff(self.total[start : (None if end is None else end + 1)])
        return float(d[d > 0].sum()), float(d[d < 0].sum())

    def summary(self) -> dict[str, float | str]:
        """Scalar results (J, W) for reports."""
        pos, neg = self.work()
        p = self.power
        return {
            "method": self.method,
            "kinetic_peak_J": float(self.kinetic.max()),
            "kinetic_mean_J": float(self.kinetic.mean()),
            "potential_range_J": float(np.ptp(self.potential)),
            "total_range_J": float(np.ptp(self.total)),
            "positive_work_J": pos,
            "negative_work_J": neg,
            "peak_power_W": float(np.max(np.abs(p))),
            "peak_positive_power_W": float(max(p.max(), 0.0)),
            "mean_abs_power_W": float(np.mean(np.abs(p))),
        }


def _vee(w: np.ndarray) -> np.ndarray:
    return 0.5 * np.stack([w[..., 2, 1] - w[..., 1, 2], w[..., 0, 2] - w[..., 2, 0], w[..., 1, 0] - w[..., 0, 1]], -1)


def segment_energy(motion: Motion, cutoff_hz: float | None = 6.0, fk: FKResult | None = None) -> MechanicalEnergy:
    """Segment-by-segment kinetic and potential energy of ``motion`` (see the module docstring).

    ``fk`` is the motion's forward kinematics if already computed.
    """
    body = motion.body
    if fk is None:
        fk = motion_fk(motion)
    # Batched matrix products rather than np.einsum (several times faster for these shapes).
    rot = fk.rotations.numpy()  # (T, 18, 3, 3)
    com = fk.origins.numpy() + (rot @ body.coms[..., None])[..., 0]
    fps = motion.fps
    t = com.shape[0]
    com_f = lowpass(com.reshape(t, -1), fps, cutoff_hz).reshape(com.shape)
    v = derivative(com_f, fps)
    rot_f = lowpass(rot.reshape(t, -1), fps, cutoff_hz).reshape(rot.shape)
    rdot = derivative(rot_f, fps)
    rt = np.swapaxes(rot_f, -1, -2)
    w_world = _vee(rdot @ rt)  # R' R^T = [w]x
    w_local = (rt @ w_world[..., None])[..., 0]
    m = body.masses
    ke_lin = 0.5 * (v * v).sum(-1) @ m
    ke_rot = 0.5 * (w_local * (body.inertias @ w_local[..., None])[..., 0]).sum((-1, -2))
    pe = GRAVITY_MS2 * (com_f[..., 1] @ m)
    return MechanicalEnergy(ke_lin + ke_rot, pe, float(fps), "segments")


def hip_proxy_energy(
    hip_height: np.ndarray, fps: float, mass_kg: float, cutoff_hz: float | None = 6.0
) -> MechanicalEnergy:
    """Energy of the whole mass moving with the hip midpoint's height ``(T,)`` (m)."""
    y = lowpass(np.asarray(hip_height, dtype=np.float64), fps, cutoff_hz)
    vy = derivative(y, fps)
    return MechanicalEnergy(0.5 * mass_kg * vy**2, mass_kg * GRAVITY_MS2 * y, float(fps), "hip_proxy")


def proxy_energy(velocity: np.ndarray) -> dict[str, float]:
    """Upstream's unitless energy ``1/2 sum v^2`` of one signal's velocity, split by its sign.

    ``up`` sums frames with ``v > 0`` and ``down`` those with ``v < 0``; ``up_fraction`` is
    ``up / total`` (what upstream reported as "efficiency %" divided by 100).
    """
    v = np.asarray(velocity, dtype=np.float64)
    e = 0.5 * v**2
    up, down = float(e[v > 0].sum()), float(e[v < 0].sum())
    total = up + down
    return {"total": total, "up": up, "down": down, "up_fraction": up / total if total > 0 else 0.0}
