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
from ..memory import bound_heap, release
from .channels import FK_BLOCK, long_motion, motion_fk
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


def _mv(m: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``m @ v`` for stacks of 3x3 matrices ``(..., 3, 3)`` and vectors ``(..., 3)``, written out per component:
    numpy's batched matmul loops over the tiny matrices one by one (measured 5x slower here)."""
    return np.stack(
        [m[..., i, 0] * v[..., 0] + m[..., i, 1] * v[..., 1] + m[..., i, 2] * v[..., 2] for i in range(3)], -1
    )


def _angular_velocity(r: np.ndarray, rdot: np.ndarray) -> np.ndarray:
    """``vee(rdot r^T)``, the world angular velocity of rotations ``r (..., 3, 3)``, per component."""

    def e(i: int, j: int) -> np.ndarray:  # (rdot r^T)[i, j]
        return rdot[..., i, 0] * r[..., j, 0] + rdot[..., i, 1] * r[..., j, 1] + rdot[..., i, 2] * r[..., j, 2]

    return 0.5 * np.stack([e(2, 1) - e(1, 2), e(0, 2) - e(2, 0), e(1, 0) - e(0, 1)], -1)


def segment_energy(motion: Motion, cutoff_hz: float | None = 6.0, fk: FKResult | None = None) -> MechanicalEnergy:
    """Segment-by-segment kinetic and potential energy of ``motion`` (see the module docstring).

    ``fk`` is the motion's forward kinematics if already computed; without it a long motion is
    done block by block (bounded memory).
    """
    body = motion.body
    if fk is None and long_motion(motion):
        return _segment_energy_in_blocks(motion, cutoff_hz)
    if fk is None:
        fk = motion_fk(motion)
    rot = fk.rotations.numpy()  # (T, 18, 3, 3)
    com = fk.origins.numpy() + _mv(rot, body.coms)
    fps = motion.fps
    t = com.shape[0]
    com_f = lowpass(com.reshape(t, -1), fps, cutoff_hz).reshape(com.shape)
    v = derivative(com_f, fps)
    rot_f = lowpass(rot.reshape(t, -1), fps, cutoff_hz).reshape(rot.shape)
    rdot = derivative(rot_f, fps)
    w_world = _angular_velocity(rot_f, rdot)  # R' R^T = [w]x
    w_local = _mv(np.swapaxes(rot_f, -1, -2), w_world)
    m = body.masses
    ke_lin = 0.5 * (v * v).sum(-1) @ m
    ke_rot = 0.5 * (w_local * _mv(body.inertias, w_local)).sum((-1, -2))
    pe = GRAVITY_MS2 * (com_f[..., 1] @ m)
    return MechanicalEnergy(ke_lin + ke_rot, pe, float(fps), "segments")


# Context each block of a long motion gets on both sides: the 6 Hz low-pass and the derivative
# see the same neighbourhood as in one pass (its impulse response is gone well within 5 s).
_MARGIN_S = 5.0


def _segment_energy_in_blocks(motion: Motion, cutoff_hz: float | None) -> MechanicalEnergy:
    """:func:`segment_energy` of a long motion, :data:`~.channels.FK_BLOCK` frames at a time (bounded memory)."""
    bound_heap()
    n, margin = motion.n_frames, int(round(_MARGIN_S * motion.fps))
    kinetic, potential = np.zeros(n), np.zeros(n)
    for a in range(0, n, FK_BLOCK):
        b = min(a + FK_BLOCK, n)
        lo, hi = max(0, a - margin), min(n, b + margin)
        e = segment_energy(motion[lo:hi], cutoff_hz, fk=motion_fk(motion[lo:hi]))
        kinetic[a:b], potential[a:b] = e.kinetic[a - lo : b - lo], e.potential[a - lo : b - lo]
        release()  # the block's forward kinematics, back to the system
    return MechanicalEnergy(kinetic, potential, float(motion.fps), "segments")


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
