"""Form faults per repetition on real inputs: 2-D keypoints, UI-PRMD Kinect positions, a motion.

Which model judges a repetition depends on what the input carries:

- **2-D keypoints** (a video's pose, a keypoint JSON, a Pose Trainer file) of an exercise the
  shipped ``keypoints2d`` checkpoint screens (biceps curl, front raise, shoulder shrug, shoulder /
  overhead press): its :class:`~musclepose.models.noisy_or.NoisyOrScreen`, pre-trained on synthetic
  repetitions and adapted to Pose Trainer's labels. A repetition is wrong when the noisy OR of its
  faults passes the exercise's threshold; the faults reported are those above one half (at least
  the likeliest), each with its observable as measured.
- **UI-PRMD Kinect positions**: the ``uiprmd`` checkpoint's correct / incorrect classifier of the
  movement; the fault named is the one a positions-only observable supports (a pelvis that
  descends less than in correct episodes: ``shallow_depth``; one that travels more:
  ``torso_swing``), else ``form_deviation``.
- **a motion** of another exercise: the measured form screen (:class:`.form_screen.FormScreen`,
  thresholds fitted on synthetic clips; the catalogue's published cut-offs where none was fitted)
  on each repetition alone.

Times are seconds from the recording's first frame. :class:`RepFaults` is what ``analyze --json``
prints per repetition (``faults``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..catalogue import EXERCISES
from ..io.uiprmd import UiprmdEpisode
from ..language.prompts import DetectedFault
from ..motion import Motion
from .checkpoint import load_checkpoint
from .form_features import (
    KEYPOINT_OBSERVABLE_WORDS,
    KEYPOINT_OBSERVABLES,
    keypoint_observables,
    kinect_features,
    kinect_observables,
    working_arm,
)
from .form_screen import FormScreen, fault_measures, is_video
from .recognize import form_assets

__all__ = [
    "RepFaults",
    "keypoint_rep_faults",
    "kinect_rep_faults",
    "load_keypoint_screens",
    "load_kinect_models",
    "motion_rep_faults",
    "screened_2d",
]


KEYPOINT_MODEL = "2-D keypoint screen (synthetic pre-training, adapted to Pose Trainer labels)"
KINECT_MODEL = "UI-PRMD Kinect positions form model"


@dataclass
class RepFaults:
    """One repetition's verdict: the faults found (none: correct form), the model's probability that
    the repetition is wrong (None for the measured screen) and which model judged it."""

    index: int
    start_s: float
    end_s: float
    faults: list[DetectedFault] = field(default_factory=list)
    p_wrong: float | None = None
    model: str = ""

    def faults_json(self) -> list[dict[str, Any]]:
        out = []
        for f in self.faults:
            d: dict[str, Any] = {"name": f.name, "side": f.side, "probability": round(float(f.probability), 3),
                                 "severity": round(float(f.severity), 3)}  # fmt: skip
            if f.value is not None and np.isfinite(f.value):
                d.update(value=round(float(f.value), 3), unit=f.unit, measured=f.what)
            out.append(d)
        return out


def _severity(logit: float) -> float:
    """0.05 at the decision boundary (p = 0.5) to 1 at p ~ 0.98: how clearly the fault shows."""
    return float(np.clip(logit / 4.0, 0.05, 1.0))


@functools.cache
def load_keypoint_screens(folder: str | Path | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The 2-D screens (exercise -> NoisyOrScreen) of the ``keypoints2d`` checkpoint and its ``extra``."""
    parts, extra = load_checkpoint(Path(folder) if folder else form_assets() / "keypoints2d")
    screens = {k: v.eval() for k, v in parts.items() if k != "recognizer"}
    return screens, extra


def screened_2d() -> tuple[str, ...]:
    """The exercises the shipped 2-D form screens judge."""
    return tuple(sorted(load_keypoint_screens()[0]))


@torch.no_grad()
def _keypoint_verdict(kp: np.ndarray, fps: float, exercise: str) -> tuple[float, list[DetectedFault]]:
    screens, extra = load_keypoint_screens()
    screen = screens[exercise]
    obs = keypoint_observables(kp, fps)
    x = torch.tensor([[obs[k] for k in KEYPOINT_OBSERVABLES]], dtype=torch.float64)
    p_any, p_f = screen(x)
    logits = screen.fault_logits(x)[0].numpy()
    p_any, p_f = float(p_any[0]), p_f[0].numpy()
    if p_any < float(extra.get("thresholds", {}).get(exercise, 0.5)):
        return p_any, []
    side = working_arm(kp)
    chosen = [k for k in np.argsort(-p_f) if p_f[k] >= 0.5] or [int(np.argmax(p_f))]
    faults = []
    for k in chosen:
        name = screen.config.faults[k]
        first = screen.config.observables[screen.config.inputs[k][0]]
        unit, what = KEYPOINT_OBSERVABLE_WORDS.get(first, ("", first))
        sided = name in ("upper_arm_swing", "partial_range", "elbow_bend")
        faults.append(DetectedFault(name, float(p_f[k]), _severity(float(logits[k])), side if sided else None,
                                    obs[first], unit, what))  # fmt: skip
    return p_any, faults


def keypoint_rep_faults(
    kp: np.ndarray, fps: float, exercise: str, windows: Sequence[tuple[int, int]], times_s: np.ndarray | None = None
) -> list[RepFaults]:
    """Per repetition (keypoint frame ``windows``), the 2-D screen's verdict on ``kp (T, 18, 3)``.

    ``times_s``: each keypoint frame's time from the recording's start (default ``frame / fps``)."""
    times = np.arange(len(kp)) / fps if times_s is None else np.asarray(times_s)
    out = []
    for i, (a, b) in enumerate(windows):
        a, b = max(0, int(a)), min(len(kp), int(b))
        if b - a < 4:
            out.append(RepFaults(i, float(times[min(a, len(times) - 1)]), float(times[min(b, len(times)) - 1])))
            continue
        p, faults = _keypoint_verdict(kp[a:b], fps, exercise)
        out.append(RepFaults(i, float(times[a]), float(times[b - 1]), faults, round(p, 3), KEYPOINT_MODEL))
    return out


@functools.cache
def load_kinect_models(folder: str | Path | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The UI-PRMD form classifiers (movement -> FormClassifier) and the checkpoint's ``extra``."""
    parts, extra = load_checkpoint(Path(folder) if folder else form_assets() / "uiprmd")
    return {k: v.eval() for k, v in parts.items() if k != "recognizer"}, extra


@torch.no_grad()
def kinect_rep_faults(episode: UiprmdEpisode, exercise: str) -> RepFaults:
    """The UI-PRMD form model's verdict on one episode (one repetition; module docstring)."""
    models, extra = load_kinect_models()
    end = (episode.n_frames - 1) / episode.fps
    if exercise not in models:
        return RepFaults(0, 0.0, end)
    m = models[exercise]
    p = float(
        torch.softmax(m(torch.tensor(kinect_features(episode))[None]), -1)[0, m.config.classes.index("incorrect")]
    )
    model = "UI-PRMD Kinect positions form model"
    if p < float(extra.get("thresholds", {}).get(exercise, 0.5)):
        return RepFaults(0, 0.0, end, [], round(p, 3), model)
    obs = kinect_observables(episode)
    norms = extra.get("correct_observables", {}).get(exercise, {})
    faults_of = EXERCISES[exercise].faults if exercise in EXERCISES else {}
    sev = _severity(float(np.log(p / max(1e-9, 1.0 - p))))

    def z(key: str) -> float:
        mu, sd = norms.get(key, (np.nan, np.nan))
        return (obs[key] - mu) / sd if sd and np.isfinite(sd) and sd > 0 else 0.0

    if "shallow_depth" in faults_of and z("pelvis_descent_cm") < -1.5:
        fault = DetectedFault("shallow_depth", p, sev, None, obs["pelvis_descent_cm"], "cm", "pelvis descent")
    elif "torso_swing" in faults_of and z("pelvis_travel_cm") > 1.5:
        fault = DetectedFault("torso_swing", p, sev, None, obs["pelvis_travel_cm"], "cm", "pelvis travel")
    else:
        fault = DetectedFault("form_deviation", p, sev)
    return RepFaults(0, 0.0, end, [fault], round(p, 3), model)


def crop_to_rep(motion: Any, rep: dict[str, Any], pad_s: float = 0.25) -> tuple[Motion, dict[str, Any]]:
    """``motion`` cut to one repetition of ``Analysis.to_dict()`` (``pad_s`` either side) and the
    repetition with its times moved to the cut: a repetition's measures then cost its own frames,
    not the recording's (an hour-long recording would otherwise cost repetitions x frames)."""
    fps = float(motion.fps)
    a = max(0, int(round((rep["start_s"] - pad_s) * fps)))
    b = min(motion.n_frames, int(round((rep["end_s"] + pad_s) * fps)) + 1)
    shift = a / fps
    moved = {**rep, **{k: rep[k] - shift for k in ("start_s", "extreme_s", "end_s") if k in rep},
             "phases": [{**p, "start_s": p["start_s"] - shift} for p in rep.get("phases") or []]}  # fmt: skip
    return Motion(motion.q[a:b], fps, motion.body, motion.metadata), moved


def motion_rep_faults(motion: Any, exercise: str, analysis: dict[str, Any], screen: FormScreen) -> list[RepFaults]:
    """The measured form screen on each repetition of ``analysis`` (``Analysis.to_dict()``) alone."""
    out = []
    for i, rep in enumerate(analysis.get("reps") or []):
        crop, moved = crop_to_rep(motion, rep)
        measures = fault_measures(crop, exercise, {**analysis, "reps": [moved]})
        faults = screen.screen(exercise, measures, video=is_video(motion))
        out.append(RepFaults(i, float(rep["start_s"]), float(rep["end_s"]), faults, None,
                             "measured form screen (fitted on synthetic clips)"))  # fmt: skip
    return out
