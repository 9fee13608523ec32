"""A synthetic IMU CSV for the IMU pose tests: a squat set starting with a still second, six worn sensors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from musclepose.body import Body
from musclepose.motion import Motion
from musclepose.sim.exercises import generate
from musclepose.sim.sensors import IMU_LAYOUTS, IMUErrors, corrupt_imu, imu_from_motion, imu_sites, perturb_sites

NAMES = {"sacrum": "pelvis", "head": "head", "watch_left": "left_wrist", "watch_right": "right_wrist",
         "knee_l": "left_knee", "knee_r": "right_knee", "phone_pocket_r": "phone"}  # fmt: skip


def squat_motion(seed: int = 0) -> Motion:
    body = Body.standard(1.72, 68.0, "female")
    m = generate("squat", body, {"reps": 3, "depth_deg": 100.0}, rng=np.random.default_rng(seed))
    return m


def write_csv(
    path: Path,
    motion: Motion,
    layout: str = "six",
    fps: float = 100.0,
    seed: int = 0,
    errors: IMUErrors = IMUErrors(drop_rate=0.0),
    perturb: bool = True,
    acc_unit: str = "m/s^2",
    drop: slice | None = None,
    clip_g: float | None = None,
) -> dict:
    """Write the layout's simulated sensors (sensor frame, device errors) as an IMU CSV; return the truth."""
    sites = imu_sites(motion.body, IMU_LAYOUTS[layout])
    if perturb:
        sites = perturb_sites(sites, seed, position_m=0.02, angle_deg=10.0)
    sig = imu_from_motion(motion, sites, fps=fps, magnetic_field=None)
    noisy = corrupt_imu(sig, errors=errors, generator=seed)
    t = np.arange(sig.acc.shape[0]) / fps
    acc = noisy.acc.numpy().copy()
    if clip_g is not None:
        acc = np.clip(acc, -clip_g * 9.80665, clip_g * 9.80665)
    scale = {"m/s^2": 1.0, "g": 1.0 / 9.80665}[acc_unit]
    cols, head = [t], ["time [s]"]
    for k, s in enumerate(sig.names):
        n = NAMES[s]
        for a in range(3):
            cols.append(acc[:, k, a] * scale)
            head.append(f"{n}_acc_{'xyz'[a]} [{acc_unit}]")
        for a in range(3):
            cols.append(noisy.gyro[:, k, a].numpy())
            head.append(f"{n}_gyr_{'xyz'[a]} [rad/s]")
    data = np.stack(cols, 1)
    if drop is not None:
        data = np.delete(data, np.arange(len(data))[drop], axis=0)
    np.savetxt(path, data, delimiter=",", header=",".join(head), comments="", fmt="%.6f")
    return {"signals": sig, "time": t}


def segment_truth(motion: Motion, fps: float) -> torch.Tensor:
    """True segment rotations (T, 18, 3, 3) at ``fps`` (the CSV's sample times)."""
    from scipy.interpolate import CubicSpline

    from musclepose.body import forward_kinematics

    n = int(np.floor(motion.duration * fps + 1e-9)) + 1
    q = torch.as_tensor(CubicSpline(motion.times, motion.q.numpy(), axis=0)(np.arange(n) / fps))
    return forward_kinematics(motion.body, q).rotations


def with_npose(motion: Motion, still_s: float = 1.2, blend_s: float = 1.0) -> Motion:
    """``motion`` preceded by ``still_s`` of the neutral standing pose (the calibration N-pose, same place and
    heading) and a smooth ``blend_s`` transition into its first frame."""
    q0 = motion.q[0]
    neutral = motion.body.neutral_q().clone()
    neutral[:3] = q0[:3]
    neutral[3] = 0.0
    neutral[4] = 0.0
    neutral[5] = q0[5]
    fk_n = motion.body  # noqa: F841  (the neutral pose stands on the same floor: root height of the body)
    n_still, n_blend = int(round(still_s * motion.fps)), int(round(blend_s * motion.fps))
    w = 0.5 - 0.5 * torch.cos(torch.linspace(0.0, np.pi, n_blend, dtype=q0.dtype))
    blend = neutral[None] * (1 - w[:, None]) + q0[None] * w[:, None]
    q = torch.cat([neutral[None].expand(n_still, -1), blend, motion.q], 0)
    return Motion(q, motion.fps, motion.body, dict(motion.metadata))
