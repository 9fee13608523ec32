"""Track a reference :class:`~musclepose.motion.Motion` in MuJoCo with SPD or plain PD.

The reference is resampled to the simulation rate and stood on the floor (:mod:`.reference`).
The body starts in the reference's first state; every step the controller pulls it towards
the reference's next state (Tan et al. 2011 for SPD, :mod:`.spd`).

``feedforward=True`` adds the reference's own joint torques to the PD term: inverse dynamics
(Featherstone's RNEA) with the ground reaction forces estimated from the kinematics
(:func:`~musclepose.body.estimate_grf`, Ren et al. 2008), on the reference low-passed at 6 Hz.
Off by default: on squats1 it tracks worse (docs/benchmarks_imitate.md), because the estimated
centre of pressure is not where MuJoCo's box soles touch and the ankles roll.

A *fall* is the pelvis more than ``fall_distance_m`` from where the reference has it; the
simulation stops there, and errors cover the frames before it. Joint-angle RMSE is over the
41 rotational joint DoF (``q[6:]``), in degrees, at the reference's own frame times. Residual
root forces (with ``residual=True``) are reported as the force on the three root slides (N,
and as % of body weight) and the moment on the three root hinges (N m).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import mujoco
import numpy as np

from ..motion import Motion
from .reference import prepare_reference
from .simulation import DEFAULT_TIMESTEP, N_ROOT, Simulation
from .spd import Gains, default_gains, pd_torque, spd_torque

__all__ = ["CONTROLLERS", "TrackingResult", "track"]

CONTROLLERS = ("spd", "pd")
GRAVITY = 9.81


@dataclass
class TrackingResult:
    """What a tracked reference produced (module docstring for definitions)."""

    controller: str
    residual: bool
    feedforward: bool
    q: np.ndarray  # (T, 47) simulated, at the reference's frame times (up to a fall)
    reference: np.ndarray  # (T, 47) the reference at those times (ground-shifted)
    fps: float
    joint_rmse_deg: float
    rmse_deg_per_dof: dict[str, float]
    root_position_rmse_m: float
    root_rotation_rmse_deg: float
    fell: bool
    fall_time_s: float | None
    duration_s: float  # of the reference
    simulated_s: float
    steps: int
    wall_s: float
    max_residual_force_n: float = 0.0
    rms_residual_force_n: float = 0.0
    max_residual_moment_nm: float = 0.0
    rms_residual_moment_nm: float = 0.0
    body_weight_n: float = 0.0
    ground_shift_m: float = 0.0
    diverged: bool = False  # the simulation blew up (counted as a fall)
    torques: np.ndarray = field(default_factory=lambda: np.zeros((0, 47)))  # (T, 47) applied, frame times

    @property
    def max_residual_force_pct_bw(self) -> float:
        return 100.0 * self.max_residual_force_n / self.body_weight_n if self.body_weight_n else 0.0

    @property
    def rms_residual_force_pct_bw(self) -> float:
        return 100.0 * self.rms_residual_force_n / self.body_weight_n if self.body_weight_n else 0.0

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def realtime_factor(self) -> float:
        """Simulated seconds per wall-clock second."""
        return self.simulated_s / self.wall_s if self.wall_s > 0 else 0.0

    def summary(self) -> dict[str, float | bool | str | None]:
        """The headline numbers, JSON-ready."""
        return {
            "controller": self.controller,
            "residual": self.residual,
            "feedforward": self.feedforward,
            "joint_rmse_deg": round(self.joint_rmse_deg, 3),
            "root_position_rmse_m": round(self.root_position_rmse_m, 4),
            "root_rotation_rmse_deg": round(self.root_rotation_rmse_deg, 3),
            "fell": self.fell,
            "fall_time_s": None if self.fall_time_s is None else round(self.fall_time_s, 3),
            "diverged": self.diverged,
            "duration_s": round(self.duration_s, 3),
            "simulated_s": round(self.simulated_s, 3),
            "max_residual_root_force_n": round(self.max_residual_force_n, 2),
            "rms_residual_root_force_n": round(self.rms_residual_force_n, 2),
            "max_residual_root_force_pct_bw": round(self.max_residual_force_pct_bw, 2),
            "max_residual_root_moment_nm": round(self.max_residual_moment_nm, 2),
            "realtime_factor": round(self.realtime_factor, 3),
            "steps_per_s": round(self.steps_per_s, 1),
        }


def track(
    motion: Motion,
    *,
    controller: str = "spd",
    residual: bool = True,
    timestep: float = DEFAULT_TIMESTEP,
    error_deg: float = 10.0,
    root_frequency_hz: float = 1.0,
    feedforward: bool = False,
    gains: Gains | None = None,
    fall_distance_m: float = 0.5,
    progress: Callable[[int, int], None] | None = None,
) -> TrackingResult:
    """Simulate ``motion``'s body following ``motion`` under ``controller`` (``"spd"`` or ``"pd"``).

    ``residual``: actuate the six root DoF too (their forces are reported). ``gains`` default to
    :func:`~.spd.default_gains` (``error_deg``, ``root_frequency_hz``), the same for SPD and PD so they compare.
    ``progress(done, total)`` is called every few hundred steps.
    """
    if controller not in CONTROLLERS:
        raise ValueError(f"controller must be one of {CONTROLLERS}; got {controller!r}")
    body = motion.body
    ref = prepare_reference(motion, timestep, feedforward)
    sim = Simulation(body, root_residual=residual, timestep=timestep)
    if gains is None:
        gains = default_gains(sim, ref.q[0], error_deg=error_deg, root=residual, root_frequency_hz=root_frequency_hz)
    n = ref.q.shape[0]
    qs, taus = np.empty_like(ref.q), np.zeros_like(ref.q)
    sim.set_state(ref.q[0], ref.qd[0])
    qs[0] = ref.q[0]
    dt, fell_at, diverged = sim.dt, None, False
    start = time.perf_counter()
    k = 0
    for k in range(1, n):
        target_q, target_qd = ref.q[k], ref.qd[k]
        ff = None
        if ref.tau_ff is not None:
            ff = ref.tau_ff[k - 1].copy()
            if not residual:
                ff[:N_ROOT] = 0.0  # nothing acts on the unactuated root

        def control(s: Simulation, target_q=target_q, target_qd=target_qd, ff=ff) -> np.ndarray:
            if controller == "spd":
                q, qd = s.data.qpos, s.data.qvel
                return spd_torque(s.mass_matrix(), s.bias(), q, qd, target_q, target_qd, gains, dt, ff, s.torque_limit)
            tau = pd_torque(s.data.qpos, s.data.qvel, target_q, target_qd, gains)
            return tau if ff is None else tau + ff

        taus[k - 1] = sim.step(control)
        qs[k] = sim.data.qpos
        if sim.data.warning[mujoco.mjtWarning.mjWARN_BADQACC].number > 0 or np.abs(qs[k, N_ROOT:]).max() > 2 * np.pi:
            # MuJoCo reset the state after accelerations blew up, or joints spun past a full turn
            diverged = True
        if diverged or np.linalg.norm(qs[k, :3] - ref.q[k, :3]) > fall_distance_m:
            fell_at = k
            break
        if progress is not None and k % 500 == 0:
            progress(k, n - 1)
    wall = time.perf_counter() - start
    if progress is not None:
        progress(n - 1, n - 1)
    last = (fell_at - 1) if fell_at is not None else n - 1  # last state that counts
    if last >= 1:
        taus[last] = taus[last - 1]  # no step leaves the last state: hold the torque that reached it
    result = _result(motion, ref, qs[: last + 1], taus[: last + 1], controller, residual, fell_at, k, wall)
    result.diverged = diverged
    return result


def _result(motion, ref, qs, taus, controller, residual, fell_at, steps, wall) -> TrackingResult:
    body, dt = motion.body, ref.dt
    t_sim = np.arange(qs.shape[0]) * dt
    t_frames = motion.times[motion.times <= t_sim[-1] + 1e-9]
    ref_frames = motion.q.detach().cpu().double().numpy()[: len(t_frames)].copy()
    ref_frames[:, 1] += ref.ground_shift_m

    def at_frames(x: np.ndarray) -> np.ndarray:
        return np.stack([np.interp(t_frames, t_sim, x[:, j]) for j in range(x.shape[1])], axis=1)

    q_frames, tau_frames = at_frames(qs), at_frames(taus)
    err = q_frames - ref_frames
    per_dof = np.degrees(np.sqrt(np.mean(err[:, N_ROOT:] ** 2, axis=0)))
    force = np.linalg.norm(taus[:, :3], axis=1)
    moment = np.linalg.norm(taus[:, 3:6], axis=1)
    weight = body.mass_kg * GRAVITY
    return TrackingResult(
        controller=controller,
        residual=residual,
        feedforward=ref.tau_ff is not None,
        q=q_frames,
        reference=ref_frames,
        fps=float(motion.fps),
        joint_rmse_deg=float(np.degrees(np.sqrt(np.mean(err[:, N_ROOT:] ** 2)))),
        rmse_deg_per_dof={name: float(v) for name, v in zip(body.dof_names[N_ROOT:], per_dof, strict=True)},
        root_position_rmse_m=float(np.sqrt(np.mean(np.sum(err[:, :3] ** 2, axis=1)))),
        root_rotation_rmse_deg=float(np.degrees(np.sqrt(np.mean(err[:, 3:6] ** 2)))),
        fell=fell_at is not None,
        fall_time_s=None if fell_at is None else float(fell_at * dt),
        duration_s=float(motion.duration),
        simulated_s=float(steps * dt),
        steps=int(steps),
        wall_s=float(wall),
        max_residual_force_n=float(force.max()) if residual else 0.0,
        rms_residual_force_n=float(np.sqrt(np.mean(force**2))) if residual else 0.0,
        max_residual_moment_nm=float(moment.max()) if residual else 0.0,
        rms_residual_moment_nm=float(np.sqrt(np.mean(moment**2))) if residual else 0.0,
        body_weight_n=float(weight),
        ground_shift_m=ref.ground_shift_m,
        torques=tau_frames,
    )
