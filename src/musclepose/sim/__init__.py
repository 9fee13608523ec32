"""Synthetic data: exercise motions, MuJoCo-consistent sensors (IMU, keypoints, markers)."""

from .camera import CameraKeypoints, PinholeCamera, SimulatedMarkers, simulate_keypoints, simulate_markers
from .imu import (
    IMU_PRESETS,
    PHONE,
    WATCH,
    IMUErrors,
    IMUSignals,
    IMUSite,
    IMUSpec,
    corrupt_imu,
    imu_from_motion,
    imu_site,
    perturb_sites,
    simulate_imu,
)
from .squat import squat_motion

__all__ = [
    "IMU_PRESETS",
    "PHONE",
    "WATCH",
    "CameraKeypoints",
    "IMUErrors",
    "IMUSignals",
    "IMUSite",
    "IMUSpec",
    "PinholeCamera",
    "SimulatedMarkers",
    "corrupt_imu",
    "imu_from_motion",
    "imu_site",
    "perturb_sites",
    "simulate_imu",
    "simulate_keypoints",
    "simulate_markers",
    "squat_motion",
]
