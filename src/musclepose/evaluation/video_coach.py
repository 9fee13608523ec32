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

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..motion.video_fit import compute_threads
from ..pipelines.form_real import crop_to_rep
from ..pipelines.form_screen import FormScreen, fault_measures
from ..signals import analyze_motion
from ..sim.randomize import random_clip
from ..sim.sensors.camera_view import camera_fit, random_camera

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
    per_rep, floored, camera_floored = ScreenCounts(), ScreenCounts(), ScreenCounts()
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
        az = float("nan")
        try:
            fit, az = camera_fit(truth, rng)
            pred = classify(fit.motion)
            with compute_threads(1):
                a2 = analyze_motion(fit.motion, exercise=pred).to_dict()
                measures = fault_measures(fit.motion, pred, a2)
                found_cam = {f.name for f in screen.screen(pred, measures)}
                found_cam_floor = {f.name for f in screen.screen(pred, measures, video=True)}
                rep_measures = _rep_measures(fit.motion, pred, a2)
            found_rep = {f.name for m in rep_measures for f in screen.screen(pred, m)}
            found_floor = {f.name for m in rep_measures for f in screen.screen(pred, m, video=True)}
        except ValueError as err:  # a fit that fails counts as nothing found
            pred, found_cam, found_cam_floor, found_rep, found_floor = f"error: {err}", set(), set(), set(), set()
        correct += pred == ex
        camera.add(true, found_cam)
        camera_floored.add(true, found_cam_floor)
        per_rep.add(true, found_rep)
        floored.add(true, found_floor)
        rec = {"clip": i, "exercise": ex, "predicted": pred, "azimuth_deg": round(az, 1), "true": sorted(true),
               "clean": sorted(found_clean), "camera": sorted(found_cam), "camera_reps": sorted(found_rep),
               "camera_reps_floored": sorted(found_floor),
               "seconds": time.perf_counter() - t0}  # fmt: skip
        records.append(rec)
        if progress is not None:
            progress(i + 1, rec)
    return {"clean": clean, "camera": camera, "camera_floored": camera_floored, "camera_reps": per_rep,
            "camera_reps_floored": floored,
            "exercise_accuracy": correct / max(1, n_clips), "records": records}  # fmt: skip


def _rep_measures(motion: Any, exercise: str, analysis: dict[str, Any]) -> list[dict[str, float]]:
    """The fault measures of each repetition alone, as ``musclepose analyze`` screens a video
    (:func:`musclepose.pipelines.form_real.motion_rep_faults`)."""
    out = []
    for rep in analysis.get("reps") or []:
        crop, moved = crop_to_rep(motion, rep)
        try:
            out.append(fault_measures(crop, exercise, {**analysis, "reps": [moved]}))
        except (ValueError, IndexError):
            continue
    return out
