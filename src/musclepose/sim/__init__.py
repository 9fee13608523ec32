"""Synthetic data: exercise motions, MuJoCo-consistent sensors (IMU, keypoints, markers)."""

from .camera import CameraKeypoints, PinholeCamera, SimulatedMarkers, simulate_keypoints, simulate_markers
from .exercises import EXERCISES as SIM_EXERCISES
from .exercises import ExerciseSpec as SimExerciseSpec
from .exercises import Fault, FaultSpec, foot_skating, generate, load_position
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
from .randomize import (
    ClipParams,
    random_clip,
    sample_body_params,
    sample_clip_params,
    sample_exercise_params,
    sample_faults,
)
from .squat import squat_motion

__all__ = [
    "IMU_PRESETS",
    "SIM_EXERCISES",
    "ClipParams",
    "Fault",
    "FaultSpec",
    "SimExerciseSpec",
    "foot_skating",
    "generate",
    "load_position",
    "random_clip",
    "sample_body_params",
    "sample_clip_params",
    "sample_exercise_params",
    "sample_faults",
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
