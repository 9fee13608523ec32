"""The coach's form screen on camera-noised synthetic clips, beside the same screen on the clean motion.

For each held-out synthetic clip (:func:`musclepose.sim.randomize.random_clip`: a random adult, random
exercise parameters, none, one or two faults at severity 0.2-1) two paths run in one evaluation:

- **clean motion** (what the coach's evaluation reports today): the generator's exact motion, the
  exercise given, :func:`~musclepose.signals.analyze_motion`, the fault observables and the screen;
- **camera**: the motion seen by a random pinhole camera (640x480, 55-70 deg field of view, 3-4.5 m away,
  anywhere from the front to the side; MediaPipe-33 landmarks with pixel jitter, depth noise,
  self-occlusion and confidence, :func:`~musclepose.sim.sensors.camera.simulate_keypoints`), fitted back to
  the body (:func:`~musclepose.motion.video_fit.fit_camera_keypoints`, the subject's height given as a
  user would), the exercise **predicted** by the coach's encoder classifier, then the same screen.

Fault recall and precision are micro-averaged over (clip, fault) pairs against the injected faults; a
clip whose exercise is mispredicted is screened for the predicted exercise's faults (so a wrong
prediction costs recall and precision, as it would for a user).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..motion.video_fit import KeypointTrack, compute_threads, fit_camera_keypoints
from ..pipelines.form_screen import FormScreen, fault_measures
from ..signals import analyze_motion
from ..sim.randomize import random_clip
from ..sim.sensors.camera import PinholeCamera, simulate_keypoints

__all__ = ["ScreenCounts", "evaluate_camera_screen", "random_camera"]


@dataclass
class ScreenCounts:
    """True positives, false positives and false negatives of a screen, overall and per fault."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    per_fault: dict[str, list[int]] = field(default_factory=dict)  # name -> [tp, fp, fn]

    def add(self, true: set[str], found: set[str]) -> None:
        for name in true | found:
            row = self.per_fault.setdefault(name, [0, 0, 0])
            if name in true and name in found:
                self.tp, row[0] = self.tp + 1, row[0] + 1
            elif name in found:
                self.fp, row[1] = self.fp + 1, row[1] + 1
            else:
                self.fn, row[2] = self.fn + 1, row[2] + 1

    @property
    def recall(self) -> float:
        return self.tp / max(1, self.tp + self.fn)

    @property
    def precision(self) -> float:
        return self.tp / max(1, self.tp + self.fp)


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


def evaluate_camera_screen(
    screen: FormScreen,
    classify: Callable[[Any], str],
    n_clips: int,
    seed: int = 20_000,
    exercises: list[str] | None = None,
    progress: Callable[[int, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run both paths (module docstring) on ``n_clips`` clips drawn from ``seed``; ``classify(motion)``
    names the exercise. Returns the counts, the exercise accuracy and one record per clip."""
    clean, camera = ScreenCounts(), ScreenCounts()
    records = []
    correct = 0
    rng = np.random.default_rng(seed)
    for i in range(n_clips):
        t0 = time.perf_counter()
        truth = random_clip(rng, exercises)
        ex = truth.metadata["exercise"]
        true = set(truth.metadata["faults"])
        with compute_threads(1):
            a = analyze_motion(truth, exercise=ex).to_dict()
            found_clean = {f.name for f in screen.screen(ex, fault_measures(truth, ex, a))}
        clean.add(true, found_clean)
        motion = truth.resampled(30.0) if abs(truth.fps - 30.0) > 1e-6 else truth
        cam, az = random_camera(rng, motion.q[:, :3].numpy().mean(0))
        kp = simulate_keypoints(motion.body, motion.q, cam, layout="mediapipe33", fps=30.0,
                                generator=int(rng.integers(2**31 - 1)))  # fmt: skip
        xyz = kp.camera_xyz.numpy().astype(np.float64)
        names = kp.names
        hips = 0.5 * (xyz[:, names.index("left_hip")] + xyz[:, names.index("right_hip")])
        track = KeypointTrack(names, np.arange(motion.n_frames) / 30.0, kp.confidence.numpy().astype(np.float64),
                              pixels=kp.pixels.numpy().astype(np.float64), world=xyz - hips[:, None],
                              image_size=cam.image_size)  # fmt: skip
        body = truth.body
        try:
            fit = fit_camera_keypoints(track, height_m=body.height_m, mass_kg=body.mass_kg, sex=body.sex,
                                       focal_px=cam.fx)  # fmt: skip
            pred = classify(fit.motion)
            with compute_threads(1):
                a2 = analyze_motion(fit.motion, exercise=pred).to_dict()
                found_cam = {f.name for f in screen.screen(pred, fault_measures(fit.motion, pred, a2))}
        except ValueError as err:  # a fit that fails counts as nothing found
            pred, found_cam = f"error: {err}", set()
        correct += pred == ex
        camera.add(true, found_cam)
        rec = {"clip": i, "exercise": ex, "predicted": pred, "azimuth_deg": round(az, 1), "true": sorted(true),
               "clean": sorted(found_clean), "camera": sorted(found_cam),
               "seconds": time.perf_counter() - t0}  # fmt: skip
        records.append(rec)
        if progress is not None:
            progress(i + 1, rec)
    return {"clean": clean, "camera": camera, "exercise_accuracy": correct / max(1, n_clips), "records": records}
