"""Live video: frames from a camera -> pose per frame -> feedback on each repetition as it ends.

:class:`LiveSession` runs the pose estimator on every frame of a
:class:`~musclepose.io.video.FrameSource` (a webcam, or any fake source a test gives it), keeps the
last ``window_s`` seconds of landmarks (bounded memory however long it runs), and every
``every_s`` seconds fits the body to the window (:func:`.video_pose.video_motion`), analyses it
(:func:`musclepose.signals.analyze_motion`) and reports each repetition that ended since the last
report: its depth, tempo, the frames' confidence and, where the coach's form screen knows the
exercise, its faults (:class:`.form_screen.FormScreen` on the repetition's own measures). All of it
runs in the frame loop, so the frame rate it reports is what a user gets.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..io.errors import FormatError
from ..io.video import FrameSource
from ..language.prompts import DetectedFault
from ..motion.video_fit import compute_threads
from ..signals import analyze_motion
from .form_screen import FormScreen, fault_measures
from .video_pose import PoseEstimator, VideoPose, _switches, video_motion

__all__ = ["LiveSession", "LiveSummary", "RepFeedback"]

_SETTLE_S = 0.3  # a repetition is reported once it ended this long before the newest frame


@dataclass
class RepFeedback:
    """One repetition as the live session reports it (times in the source's clock, s)."""

    number: int
    start_s: float
    end_s: float
    depth_deg: float | None
    tempo: str
    confidence: float
    faults: list[DetectedFault] = field(default_factory=list)

    def text(self) -> str:
        depth = "" if self.depth_deg is None else f", depth {self.depth_deg:.0f} deg"
        found = ", ".join(f"{f.name.replace('_', ' ')} ({f.severity:.2f})" for f in self.faults) or "no fault seen"
        low = " [low confidence]" if self.confidence < 0.5 else ""
        return f"rep {self.number}: {self.end_s - self.start_s:.1f} s{depth}, tempo {self.tempo}; {found}{low}"


@dataclass
class LiveSummary:
    """What a live session processed: frames, seconds of wall time, frames per second, the repetitions."""

    frames: int
    seconds: float
    reps: list[RepFeedback]

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


class LiveSession:
    """Pose per frame and feedback per repetition (module docstring).

    Parameters
    ----------
    exercise
        The exercise (None: the analysis picks the primary channel itself, and no faults are screened).
    height_m, mass_kg, sex
        The subject.
    estimator
        ``image -> (xy, visibility, world) | None`` (default :class:`.video_pose.PoseEstimator`).
    screen
        The form screen (None: no faults).
    window_s, every_s
        Seconds of landmarks kept, and how often the window is fitted and analysed.
    """

    def __init__(
        self,
        exercise: str | None = None,
        *,
        height_m: float = 1.75,
        mass_kg: float = 70.0,
        sex: str = "male",
        estimator: Callable[[np.ndarray], Any] | None = None,
        screen: FormScreen | None = None,
        window_s: float = 12.0,
        every_s: float = 1.5,
    ) -> None:
        self.exercise, self.height_m, self.mass_kg, self.sex = exercise, height_m, mass_kg, sex
        self.estimator, self.screen = estimator, screen
        self.window_s, self.every_s = window_s, every_s

    def run(
        self,
        source: FrameSource,
        on_rep: Callable[[RepFeedback], None] | None = None,
        max_seconds: float | None = None,
    ) -> LiveSummary:
        """Process ``source`` until it ends (or ``max_seconds`` of wall time); ``on_rep`` hears each repetition."""
        own = self.estimator is None
        est = PoseEstimator() if own else self.estimator
        buf: deque = deque()
        reps: list[RepFeedback] = []
        last_end = -np.inf
        next_check = None
        frames = 0
        t0 = time.perf_counter()
        try:
            for frame in source:
                out = est(frame.image)
                h, w = frame.image.shape[:2]
                buf.append((frame.time_s, out, (w, h)))
                frames += 1
                while buf and buf[0][0] < frame.time_s - self.window_s:
                    buf.popleft()
                if next_check is None:
                    next_check = frame.time_s + self.every_s
                if frame.time_s >= next_check:
                    next_check = frame.time_s + self.every_s
                    for fb in self._new_reps(list(buf), frame.time_s, last_end, len(reps)):
                        reps.append(fb)
                        last_end = fb.end_s
                        if on_rep is not None:
                            on_rep(fb)
                if max_seconds is not None and time.perf_counter() - t0 > max_seconds:
                    break
        finally:
            if own:
                est.close()
        return LiveSummary(frames, time.perf_counter() - t0, reps)

    def _new_reps(self, buf: list, now: float, last_end: float, done: int) -> list[RepFeedback]:
        times = np.array([b[0] for b in buf])
        if len(times) < 10:
            return []
        w, h = buf[-1][2]
        xy = np.full((len(buf), 33, 2), np.nan, np.float32)
        vis = np.zeros((len(buf), 33), np.float32)
        world = np.full((len(buf), 33, 3), np.nan, np.float32)
        for k, (_, out, _) in enumerate(buf):
            if out is not None:
                xy[k], vis[k], world[k] = np.asarray(out[0]) * np.array([w, h]), out[1], out[2]
        person = np.isfinite(xy).all((-1, -2))
        if person.sum() < 10:
            return []
        pose = VideoPose("camera", times, float(1.0 / np.median(np.diff(times))), (w, h), xy, vis, world, person,
                         _switches(xy, person, w))  # fmt: skip
        try:
            fit = video_motion(pose, height_m=self.height_m, mass_kg=self.mass_kg, sex=self.sex)
        except FormatError:
            return []
        with compute_threads(1):
            analysis = analyze_motion(fit.motion, exercise=self.exercise)
        doc = analysis.to_dict()
        t_start = float(fit.times_s[0])
        found = []
        for r in doc.get("reps") or []:
            start, end = t_start + r["start_s"], t_start + r["end_s"]
            if end > now - _SETTLE_S or start < last_end - 0.1:
                continue
            faults: list[DetectedFault] = []
            if self.screen is not None and self.exercise is not None:
                with compute_threads(1):
                    measures = fault_measures(fit.motion, self.exercise, {**doc, "reps": [r]})
                faults = self.screen.screen(self.exercise, measures, video=True)
            a, b = int(round(r["start_s"] * fit.motion.fps)), int(round(r["end_s"] * fit.motion.fps)) + 1
            conf = float(fit.frame_confidence[a:b].mean()) if b > a else 0.0
            depth = r.get("depth_knee_flexion_deg")
            tempo = (r.get("tempo") or {}).get("notation", "-")
            found.append(RepFeedback(done + len(found) + 1, start, end, depth, tempo, conf, faults))
            last_end = end
        return found
