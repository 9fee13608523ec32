"""A reference motion made ready to simulate, and refused up front when no body could follow it.

:func:`prepare_reference` resamples a :class:`~musclepose.motion.Motion` to the simulation rate
(cubic spline), takes its velocities by central differences and lowers or raises it so that
its feet stand on the floor: the median over frames of the lowest sole point (heel or ball,
:mod:`musclepose.body.contact_points`) is put at height 0 (a lab's floor is rarely the
recording's y = 0). :func:`check_reference` refuses a reference whose root teleports or whose
feet float (each message names the frames) and lists the joints it takes past their range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..body import Body, estimate_grf, forward_kinematics
from ..body.contact_points import contact_point_local
from ..motion import Motion
from .simulation import DEFAULT_TIMESTEP

__all__ = ["Reference", "check_reference", "feedforward_torques", "prepare_reference", "sole_heights"]

LIMIT_SLACK_DEG = 5.0  # IK and marker noise: a few degrees past a cited range are not a finding
MAX_ROOT_SPEED = 12.5  # m/s, above the fastest human sprint (Bolt's peak about 12.3 m/s)
MAX_FLOAT_M, MAX_FLOAT_S = 0.30, 1.0  # feet this far off the floor for longer than any jump's flight


def check_reference(motion: Motion) -> dict[str, float]:
    """Refuse (``ValueError``) a reference whose root teleports or whose feet float; list joints past their range.

    Returns ``{dof: degrees}`` for every joint DoF that the reference takes more than
    ``LIMIT_SLACK_DEG`` past its cited range (the simulated joint stops at its limit there).
    Those are reported, not refused: foreign skeletons retargeted onto ours (CMU and MASS BVH)
    put 30-80 degrees of spinal extension into the thoracic DoF, and refusing them would refuse
    most BVH clips.
    """
    q = motion.q.detach().cpu().double().numpy()
    body = motion.body
    over = np.degrees(np.maximum(q[:, 6:] - body.dof_upper[6:], body.dof_lower[6:] - q[:, 6:])).max(axis=0)
    beyond = {body.dof_names[6 + j]: float(over[j]) for j in np.flatnonzero(over > LIMIT_SLACK_DEG)}
    if q.shape[0] > 1:
        speed = np.linalg.norm(np.diff(q[:, :3], axis=0), axis=1) * motion.fps
        if speed.max() > MAX_ROOT_SPEED:
            frame = int(np.argmax(speed))
            raise ValueError(
                f"frames {frame}-{frame + 1}: the pelvis moves {speed[frame] / motion.fps:.2f} m in one frame "
                f"({speed[frame]:.0f} m/s, faster than any human): the reference teleports"
            )
    heights = sole_heights(body, q)
    aloft = heights - np.median(heights) > MAX_FLOAT_M
    longest, run, start, where = 0, 0, 0, 0
    for i, up in enumerate(aloft):
        run = run + 1 if up else 0
        if run == 1:
            start = i
        if run > longest:
            longest, where = run, start
    if longest / motion.fps > MAX_FLOAT_S:
        raise ValueError(
            f"frames {where}-{where + longest - 1}: both feet stay more than {MAX_FLOAT_M:.2f} m above the floor "
            f"for {longest / motion.fps:.1f} s (longer than any jump): the reference floats"
        )
    return beyond


@dataclass(frozen=True)
class Reference:
    """A reference motion at the simulation rate: ``q``, ``qd`` (T, 47) every ``dt`` seconds."""

    q: np.ndarray
    qd: np.ndarray
    dt: float
    ground_shift_m: float  # added to the root height so the feet stand on the floor
    tau_ff: np.ndarray | None = None  # (T, 47) inverse-dynamics torques with estimated GRF


def feedforward_torques(motion: Motion, ground_shift_m: float, cutoff_hz: float = 6.0) -> np.ndarray:
    """Joint torques (T, 47) that reproduce ``motion`` with the ground carrying it (module docstring)."""
    smooth = motion.filtered(cutoff_hz) if motion.n_frames > 30 and motion.fps > 2 * cutoff_hz else motion
    q = smooth.q.detach().cpu().double().clone()
    q[:, 1] += ground_shift_m
    qd, qdd = smooth.velocities()
    with torch.no_grad():
        est = estimate_grf(motion.body, q, qd.double(), qdd.double(), floor_y=0.0)
    tau = est.tau.numpy()
    return np.where(np.isfinite(tau), tau, 0.0)


def sole_heights(body: Body, q: np.ndarray) -> np.ndarray:
    """Height (T,) of the lowest heel or ball point of either foot at each frame of ``q`` (T, 47)."""
    with torch.no_grad():
        fk = forward_kinematics(body, torch.as_tensor(q, dtype=torch.float64))
    rot, org = fk.rotations.numpy(), fk.origins.numpy()
    local = np.stack([contact_point_local(body, k) for k in ("heel", "ball")])  # (2, 3)
    lows = []
    for seg in ("foot_r", "foot_l"):
        i = body.segment_index(seg)
        pts = org[:, i, None, :] + np.einsum("tij,kj->tki", rot[:, i], local)
        lows.append(pts[..., 1].min(-1))
    return np.minimum(*lows)


def prepare_reference(motion: Motion, dt: float = DEFAULT_TIMESTEP, feedforward: bool = False) -> Reference:
    """``motion`` at ``1/dt`` Hz, with velocities, standing on the floor (module docstring)."""
    q = motion.q.detach().cpu().double().numpy()
    if q.ndim != 2 or q.shape[1] != motion.body.n_dof or q.shape[0] < 2:
        raise ValueError(f"a reference needs at least 2 frames of {motion.body.n_dof} DoF; got shape {q.shape}")
    if not np.all(np.isfinite(q)):
        raise ValueError("the reference motion has non-finite values (NaN or inf)")
    fine = motion.resampled(1.0 / dt) if abs(motion.fps * dt - 1.0) > 1e-9 else motion
    qf = fine.q.detach().cpu().double().numpy().copy()
    shift = -float(np.median(sole_heights(motion.body, q)))
    qf[:, 1] += shift
    qd = np.gradient(qf, dt, axis=0)
    ff = None
    if feedforward:
        tau = feedforward_torques(motion, shift)
        t_fine = np.arange(qf.shape[0]) * dt
        ff = np.stack([np.interp(t_fine, motion.times, tau[:, j]) for j in range(tau.shape[1])], axis=1)
    return Reference(qf, qd, dt, shift, ff)
