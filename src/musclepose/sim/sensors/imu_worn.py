"""Worn sensors: the model's slots and the errors of a worn, calibrated IMU set (domain randomisation).

:data:`SLOTS` are the sensor places of the IMU pose model (preset names of :mod:`.imu_sites`)
and :data:`SLOT_SEGMENTS` the segment each sits on. :func:`worn_imu_errors` turns exact signals
(:func:`.imu.simulate_imu`) into what a calibrated sensor set reports: the segment orientation
with an orientation-filter error (a world-frame tilt of 1.5 deg and heading of 5 deg per
sensor, 1 sigma, a heading drift of 2 deg over the stretch and 0.5 deg of jitter) and a
calibration residual (4 deg per axis in the segment frame), and the gravity-free world
acceleration from the device's specific force with a 2 % scale error, 2 deg misalignment,
0.05 m/s^2 bias, 0.03 m/s^2 white noise, saturation at 8 g and 0-3 % dropped samples held at
the last received one (the seed's randomisation, :mod:`.imu_errors`, and Xsens-grade filter
accuracy). Y-up world, gravity (0, -9.81, 0), rotations sensor/segment -> world.
"""

from __future__ import annotations

import math

import torch

from ...body.rotations import axis_angle_to_matrix

__all__ = ["SLOTS", "SLOT_SEGMENTS", "worn_imu_errors"]

SLOTS: tuple[str, ...] = ("sacrum", "head", "watch_left", "watch_right", "knee_l", "knee_r", "phone_pocket_r")
SLOT_SEGMENTS: tuple[str, ...] = ("pelvis", "head", "forearm_l", "forearm_r", "shank_l", "shank_r", "thigh_r")
_GRAVITY = (0.0, -9.81, 0.0)


def _small_rotations(g: torch.Generator, shape: tuple[int, ...], sd_deg: tuple[float, float, float]) -> torch.Tensor:
    sd = torch.tensor([math.radians(s) for s in sd_deg])
    return axis_angle_to_matrix(torch.randn(*shape, 3, generator=g) * sd)


def worn_imu_errors(
    seg_rot: torch.Tensor, srot: torch.Tensor, acc: torch.Tensor, g: torch.Generator, present: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """What a worn, calibrated sensor set reports for exact signals (module docstring), drawn from ``g``.

    ``seg_rot (B, T, S, 3, 3)`` the true segment orientation per slot, ``srot (B, T, S, 3, 3)`` the
    sensor's, ``acc (B, T, S, 3)`` its exact specific force -> the calibrated segment orientation
    and the gravity-free world acceleration, both with errors, ``(B, T, S, 3, 3)``, ``(B, T, S, 3)``.
    """
    b, t, s = acc.shape[:3]
    # Orientation filter: a world-frame error, constant tilt (1.5 deg) and heading (5 deg) per
    # sensor plus a heading drift of up to ~2 deg over the window and 0.5 deg of jitter.
    e0 = _small_rotations(g, (b, 1, s), (1.5, 5.0, 1.5))
    drift = torch.randn(b, 1, s, 1, generator=g) * math.radians(2.0) * torch.linspace(0, 1, t)[None, :, None, None]
    jitter = torch.randn(b, t, s, 3, generator=g) * math.radians(0.5)
    drift_axis = torch.zeros(b, t, s, 3)
    drift_axis[..., 1:2] = drift
    e_world = axis_angle_to_matrix(drift_axis + jitter) @ e0
    # Calibration residual in the segment frame: 4 deg per axis.
    e_cal = _small_rotations(g, (b, 1, s), (4.0, 4.0, 4.0))
    seg_est = e_world @ seg_rot @ e_cal
    # Device: scale 2 %, misalignment 2 deg, bias 0.05 m/s^2, noise 0.03 m/s^2, saturation at 8 g.
    m = torch.eye(3) + torch.randn(b, 1, s, 3, 3, generator=g) * math.radians(2.0) * (1 - torch.eye(3))
    m = m + torch.diag_embed(torch.randn(b, 1, s, 3, generator=g) * 0.02)
    f = (m @ acc[..., None])[..., 0] + torch.randn(b, 1, s, 3, generator=g) * 0.05
    f = f + torch.randn(b, t, s, 3, generator=g) * 0.03
    f = f.clamp(-8 * 9.80665, 8 * 9.80665)
    a = (e_world @ srot @ f[..., None])[..., 0] + torch.tensor(_GRAVITY, dtype=acc.dtype)
    # Dropped samples (0-3 % per window), held at the last received one as the pipeline does.
    rate = torch.rand(b, 1, 1, generator=g) * 0.03
    lost = torch.rand(b, t, s, generator=g) < rate
    lost[:, 0] = False
    idx = torch.arange(t)[None, :, None].expand(b, t, s).masked_fill(lost, -1).cummax(1).values
    seg_est = torch.gather(seg_est, 1, idx[..., None, None].expand_as(seg_est))
    a = torch.gather(a, 1, idx[..., None].expand_as(a))
    return seg_est, a * present[:, None, :, None]
