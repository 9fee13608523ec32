"""A motion as a phone would see it and MusclePose would fit it: a random pinhole camera, MediaPipe-33
landmarks with their noise (:func:`.camera.simulate_keypoints`), fitted back onto the body by
:func:`musclepose.motion.video_fit.fit_camera_keypoints` with the subject's height (as a user gives it).

Used by the camera-path evaluation of the form screen (:mod:`musclepose.evaluation.video_coach`) and by
the data that fits the screen for video input (``scripts/fit_camera_screen.py``), so both see the same
cameras. World Y-up; the camera looks at the subject from 0-90 deg round from the front, either side.
"""

from __future__ import annotations

import math

import numpy as np

from ...motion import Motion
from ...motion.video_fit import CameraFit, KeypointTrack, compute_threads, fit_camera_keypoints
from .camera import PinholeCamera, simulate_keypoints

__all__ = ["VIDEO_FPS", "camera_fit", "random_camera"]

VIDEO_FPS = 30.0  # a phone's frame rate


def random_camera(rng: np.random.Generator, centre: np.ndarray) -> tuple[PinholeCamera, float]:
    """A camera 3-4.5 m from ``centre`` (the subject's mean position), 0-90 deg round from the front
    (either side), lens 0.8-1.5 m high, 55-70 deg field of view, 640x480; and its azimuth in degrees."""
    az = float(rng.uniform(-90.0, 90.0))
    dist = float(rng.uniform(3.0, 4.5))
    h = float(rng.uniform(0.8, 1.5))
    a = math.radians(az)
    pos = (centre[0] + dist * math.cos(a), h, centre[2] + dist * math.sin(a))
    cam = PinholeCamera.look_at(pos, (centre[0], 0.9, centre[2]), width=640, height=480,
                                fov_deg=float(rng.uniform(55.0, 70.0)))  # fmt: skip
    return cam, az


def camera_fit(truth: Motion, rng: np.random.Generator) -> tuple[CameraFit, float]:
    """``truth`` filmed at 30 fps by :func:`random_camera` (landmarks with pixel jitter, depth noise,
    self-occlusion) and fitted back to a body of the subject's height, mass and sex; the fit and the
    camera's azimuth (deg). Raises ``ValueError`` where the fit cannot be made (as on a real video)."""
    motion = truth.resampled(VIDEO_FPS) if abs(truth.fps - VIDEO_FPS) > 1e-6 else truth
    cam, az = random_camera(rng, motion.q[:, :3].numpy().mean(0))
    kp = simulate_keypoints(motion.body, motion.q, cam, layout="mediapipe33", fps=VIDEO_FPS,
                            generator=int(rng.integers(2**31 - 1)))  # fmt: skip
    xyz = kp.camera_xyz.numpy().astype(np.float64)
    names = kp.names
    hips = 0.5 * (xyz[:, names.index("left_hip")] + xyz[:, names.index("right_hip")])
    track = KeypointTrack(names, np.arange(motion.n_frames) / VIDEO_FPS, kp.confidence.numpy().astype(np.float64),
                          pixels=kp.pixels.numpy().astype(np.float64), world=xyz - hips[:, None],
                          image_size=cam.image_size)  # fmt: skip
    body = truth.body
    with compute_threads(1):
        fit = fit_camera_keypoints(track, height_m=body.height_m, mass_kg=body.mass_kg, sex=body.sex,
                                   focal_px=cam.fx)  # fmt: skip
    return fit, az
