"""Simulated sensors on the body, exact against MuJoCo: IMUs (:mod:`.imu`, sites in
:mod:`.imu_sites`, device errors in :mod:`.imu_errors`), video keypoints through a pinhole
camera (:mod:`.camera`) and lab markers (:mod:`.markers`). Seeds follow :mod:`.seeding`."""

from __future__ import annotations

from .camera import CameraKeypoints, PinholeCamera, body_capsules, simulate_keypoints
from .imu import EARTH_FIELD_UT, IMUSignals, imu_from_motion, mjcf_with_imus, simulate_imu
from .imu_errors import PHONE, STANDARD_GRAVITY, WATCH, IMUErrors, IMUSpec, corrupt_imu, default_spec
from .imu_sites import IMU_LAYOUTS, IMU_PRESETS, IMUSite, imu_site, imu_sites, perturb_sites
from .markers import SimulatedMarkers, simulate_markers

__all__ = [
    "EARTH_FIELD_UT",
    "IMU_LAYOUTS",
    "IMU_PRESETS",
    "PHONE",
    "STANDARD_GRAVITY",
    "WATCH",
    "CameraKeypoints",
    "IMUErrors",
    "IMUSignals",
    "IMUSite",
    "IMUSpec",
    "PinholeCamera",
    "SimulatedMarkers",
    "body_capsules",
    "corrupt_imu",
    "default_spec",
    "imu_from_motion",
    "imu_site",
    "imu_sites",
    "mjcf_with_imus",
    "perturb_sites",
    "simulate_imu",
    "simulate_keypoints",
    "simulate_markers",
]
