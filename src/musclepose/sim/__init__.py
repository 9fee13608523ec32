"""Synthetic data: exercise motions with the catalogue's faults (:mod:`.exercises`), sensors exact
against MuJoCo (:mod:`.sensors`: IMU, camera keypoints, markers), domain randomisation
(:mod:`.randomize`) and the dataset builder (:mod:`.dataset`)."""

from .exercises import GENERATORS, Fault, Generator, foot_skating, generate, load_position
from .randomize import (
    ClipParams,
    random_clip,
    sample_body_params,
    sample_clip_params,
    sample_exercise_params,
    sample_faults,
)
from .sensors import (
    IMU_PRESETS,
    PHONE,
    WATCH,
    CameraKeypoints,
    IMUErrors,
    IMUSignals,
    IMUSite,
    IMUSpec,
    PinholeCamera,
    SimulatedMarkers,
    corrupt_imu,
    imu_from_motion,
    imu_site,
    perturb_sites,
    simulate_imu,
    simulate_keypoints,
    simulate_markers,
)

__all__ = [
    "GENERATORS",
    "IMU_PRESETS",
    "ClipParams",
    "Fault",
    "Generator",
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
]
