"""The exercise and the per-repetition form verdicts of an analysed recording (``analyze``'s ``faults``).

:func:`add_form` runs after the analysis of any input: it recognises the exercise when none was
given (:mod:`.recognize`; an unrecognised one is "unknown" and screened for nothing), re-runs the
analysis for the recognised exercise, and judges every repetition with the model that fits the input
(:mod:`.form_real`): the 2-D screens for a video or 2-D keypoints of the exercises they know, the
UI-PRMD model for a UI-PRMD Kinect file, the measured form screen on the motion otherwise.

Inputs that carry no body at all are analysed here without one: a UI-PRMD Kinect positions file
without its ``*_angles`` file (one segmented repetition: the pelvis path is its channel) and a
Pose Trainer ``.npy`` of OpenPose keypoints (channels from the 2-D angles). Their repetitions come
from those channels, or the whole recording is one repetition when none is found.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..catalogue import grade_cap
from ..io.keypoints import read_keypoints
from ..io.pose_trainer import openpose18_from_keypoints, read_openpose_npy
from ..io.uiprmd import is_uiprmd_positions, read_uiprmd
from ..signals import Analysis, RepSummary, Tempo, analyze_motion
from ..signals.channels import CHANNEL_NAMES
from .form_features import keypoint_signals
from .form_real import RepFaults, keypoint_rep_faults, kinect_rep_faults, motion_rep_faults, screened_2d
from .form_screen import FormScreen, clip_measures
from .recognize import Recognition, form_assets, recognize_keypoints, recognize_kinect, recognize_motion
from .results import ClipResult

__all__ = ["FormReport", "add_form", "analyze_sensor_file", "coach_form_screen", "is_sensor_file"]

PAD_S = 0.2  # rest kept either side of a repetition's window (as the models were trained)


@dataclass
class FormReport:
    """The recognised (or given) exercise and each repetition's verdict."""

    recognition: Recognition
    reps: list[RepFaults] = field(default_factory=list)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The recognition (exercise, probability, top classes, source) and the note, flat."""
        return {**self.recognition.to_dict(), **({"note": self.note} if self.note else {})}

    def annotate(self, analysis: dict[str, Any]) -> dict[str, Any]:
        """``Analysis.to_dict()`` with each repetition's ``faults`` list and ``form`` verdict, and the
        ``recognition`` (what ``analyze --json`` prints); a repetition with no fault has ``[]``."""
        analysis["recognition"] = self.to_dict()
        for k, rep in enumerate(analysis.get("reps") or []):
            v = self.reps[k] if k < len(self.reps) else None
            rep["faults"] = v.faults_json() if v is not None else []
            rep["form"] = None if v is None or not v.model else {"p_wrong": v.p_wrong, "model": v.model}
        return analysis


def is_sensor_file(path: Path) -> bool:
    """A file analysed without a body: UI-PRMD positions without angles, or a ``.npy`` of keypoints."""
    if path.suffix.lower() == ".npy":
        return True
    return is_uiprmd_positions(path) and read_uiprmd(path).joints_m is None


def _whole(analysis: Analysis, signal: np.ndarray) -> Analysis:
    """``analysis`` with one repetition spanning the recording (extreme: furthest from the start)."""
    n = len(signal)
    s = np.nan_to_num(np.abs(signal - signal[0]))
    ext = int(np.argmax(s)) if n else 0
    fps = analysis.fps
    tempo = Tempo(ext / fps, None, (n - 1 - ext) / fps, None)
    rep = RepSummary(0, 0, ext, n - 1, float("nan"), float("nan"), tempo, [])
    return replace(analysis, reps=[rep], tempo=tempo)


def _channel_analysis(channels: dict[str, np.ndarray], fps: float, primary: str, exercise: str | None) -> Analysis:
    n = len(channels[primary])
    table = {c: np.asarray(channels.get(c, np.full(n, np.nan)), dtype=np.float64) for c in CHANNEL_NAMES}
    analysis = analyze_motion(table, fps=fps, primary=primary, exercise=None)
    analysis = replace(analysis, exercise=exercise)
    return analysis if analysis.n_reps >= 1 else _whole(analysis, table[primary])


def _kinect_analysis(path: Path, exercise: str | None) -> tuple[ClipResult, Any]:
    ep = read_uiprmd(path)
    height = ep.root_m[:, 1] - ep.root_m[:, 1].min()  # the pelvis above its lowest point (m)
    # One segmented repetition per file: the whole episode is the repetition.
    analysis = _whole(_channel_analysis({"legs_trajectory": height}, ep.fps, "legs_trajectory", exercise), height)
    loader = {"format": "UI-PRMD Kinect positions (no joint angles)", "frames": ep.n_frames}
    result = ClipResult(analysis, channels=analysis.channels, path=path, loader=loader)
    return result, ep


def _keypoint_channels(kp: np.ndarray) -> dict[str, np.ndarray]:
    s = keypoint_signals(kp)
    return {"arm_Trajectory": 180.0 - s["elbow_angle"], "shoulder_trajectory": s["arm_angle"],
            "knee_angle_trajectory": 180.0 - s["knee_angle"], "back_trajectory": s["trunk_lean"],
            "trajectory": s["wrist_height"]}  # fmt: skip


def _fill(x: np.ndarray) -> np.ndarray:
    ok = np.isfinite(x)
    if not ok.any():
        return np.zeros_like(x)
    t = np.arange(len(x))
    return np.interp(t, t[ok], x[ok])


def _npy_analysis(path: Path, exercise: str | None, fps: float) -> tuple[ClipResult, np.ndarray]:
    kp = read_openpose_npy(path)
    ch = {k: _fill(v) for k, v in _keypoint_channels(kp).items()}
    primary = max(ch, key=lambda k: float(np.ptp(ch[k])) / (1.0 if k == "trajectory" else 90.0))
    analysis = _channel_analysis(ch, fps, primary, exercise)
    result = ClipResult(analysis, channels=analysis.channels, path=path,
                        loader={"format": "OpenPose COCO-18 keypoints (.npy, 2-D)", "fps_assumed": True})  # fmt: skip
    return result, kp


def _windows(reps: list[dict[str, Any]], times: np.ndarray, offset: float = 0.0) -> list[tuple[int, int]]:
    """Frame windows (indices into ``times``) of the repetitions, ``PAD_S`` either side."""
    out = []
    for r in reps:
        a = int(np.searchsorted(times, offset + r["start_s"] - PAD_S))
        b = int(np.searchsorted(times, offset + r["end_s"] + PAD_S, side="right"))
        out.append((a, max(a, b)))
    return out


def _given(exercise: str) -> Recognition:
    return Recognition(exercise, 1.0, {exercise: 1.0}, "given (--exercise)")


def analyze_sensor_file(path: Path, exercise: str | None, fps: float | None = None) -> ClipResult:
    """Analyse a file that carries no body (:func:`is_sensor_file`) and judge its repetitions."""
    if path.suffix.lower() == ".npy":
        rate = float(fps or 30.0)
        result, kp = _npy_analysis(path, exercise, rate)
        rec = _given(exercise) if exercise else recognize_keypoints(kp, rate)
        _judge_keypoints(result, rec, kp, rate, np.arange(len(kp)) / rate, 0.0)
        return result
    result, ep = _kinect_analysis(path, exercise)
    rec = _given(exercise) if exercise else recognize_kinect(ep)
    _judge_kinect(result, rec, ep)
    return result


def _set(result: ClipResult, rec: Recognition, reps: list[RepFaults], note: str = "") -> None:
    if rec.exercise and result.analysis.exercise != rec.exercise:
        result.analysis = replace(result.analysis, exercise=rec.exercise)
    # The grade agrees with the faults found, as in `coach` (a pronounced fault: at most C).
    capped, why = grade_cap(result.analysis.grade, [f.severity for r in reps for f in r.faults])
    if why:
        result.analysis = replace(result.analysis, grade_cap=(capped, why))
    result.form = FormReport(rec, reps, note)


def _empty(result: ClipResult) -> list[RepFaults]:
    fps = result.analysis.fps
    return [RepFaults(r.index, r.start / fps, r.end / fps) for r in result.analysis.reps]


def _judge_keypoints(result: ClipResult, rec: Recognition, kp, fps, times, offset) -> None:
    if rec.exercise is None or rec.exercise not in screened_2d():
        why = "exercise unknown: not screened" if rec.exercise is None else f"no 2-D form model for {rec.exercise}"
        _set(result, rec, _empty(result), why)
        return
    reps = result.analysis.to_dict()["reps"]
    verdicts = keypoint_rep_faults(kp, fps, rec.exercise, _windows(reps, times, offset), times - offset)
    for v, r in zip(verdicts, reps, strict=True):  # the analysis' own times, not the padded windows'
        v.start_s, v.end_s = float(r["start_s"]), float(r["end_s"])
    _set(result, rec, verdicts)


def _judge_kinect(result: ClipResult, rec: Recognition, ep) -> None:
    if rec.exercise is None:
        _set(result, rec, _empty(result), "movement unknown: not screened")
        return
    verdict = kinect_rep_faults(ep, rec.exercise)
    reps = []
    for r in _empty(result):  # one episode is one repetition: its verdict holds for every part found
        reps.append(RepFaults(r.index, r.start_s, r.end_s, list(verdict.faults), verdict.p_wrong, verdict.model))
    _set(result, rec, reps)


@functools.cache
def coach_form_screen() -> FormScreen | None:
    """The measured form screen shipped with the coach (``$MUSCLEPOSE_COACH`` overrides), if any."""
    env = os.environ.get("MUSCLEPOSE_COACH")
    path = (Path(env) if env else form_assets().parent / "coach") / "form_screen.json"
    return FormScreen.load(path) if path.is_file() else None


def _reanalyze(result: ClipResult, exercise: str) -> None:
    """The analysis (and the catalogue's measures) again, for the recognised exercise."""
    if result.motion is not None:
        result.analysis = analyze_motion(result.motion, exercise=exercise, kinetics=result.kinetics)
        result.measures = clip_measures(result.motion, exercise, result.analysis, result.kinetics)
    else:
        result.analysis = replace(result.analysis, exercise=exercise)


def add_form(result: ClipResult, exercise: str | None, fps: float | None = None) -> ClipResult:
    """Recognise (when ``exercise`` is None), re-analyse for the exercise found and judge every
    repetition of ``result`` (module docstring); sets ``result.form`` and returns ``result``."""
    if result.form is not None:  # a file without a body: judged when it was analysed
        return result
    path = result.path
    video = getattr(result, "video", None)
    kp = times = None
    offset, rate = 0.0, 30.0
    if video is not None:
        kp, times, rate = video.pose.to_openpose18(), video.pose.times_s, float(video.pose.fps)
        offset = float(video.fit.times_s[0])
    elif path is not None and path.suffix.lower() == ".json" and result.motion is not None:
        data = read_keypoints(path, fps=fps)
        if data.dims == 2:
            rate = float(data.fps or fps or 30.0)
            kp, times = openpose18_from_keypoints(data), np.arange(data.n_frames) / rate
    kinect = path is not None and is_uiprmd_positions(path)
    reps_s = [(r["start_s"], r["end_s"]) for r in result.analysis.to_dict()["reps"]]
    if exercise:
        rec = _given(exercise)
    elif kp is not None:
        rec = recognize_keypoints(kp, rate, _windows([{"start_s": a, "end_s": b} for a, b in reps_s], times, offset))
    elif kinect:
        rec = recognize_kinect(read_uiprmd(path))
    elif result.motion is not None:
        rec = recognize_motion(result.motion, reps_s)
    else:
        rec = Recognition(None, 0.0, {}, "", "a clip of channels: no recogniser")
    if rec.exercise and not exercise:
        _reanalyze(result, rec.exercise)
    if kp is not None and rec.exercise in screened_2d():
        _judge_keypoints(result, rec, kp, rate, times, offset)
    elif kinect and rec.exercise:
        if not result.analysis.reps:
            result.analysis = _whole(result.analysis, result.analysis.channels["legs_trajectory"])
        _judge_kinect(result, rec, read_uiprmd(path))
    elif rec.exercise and result.motion is not None and coach_form_screen() and result.analysis.screenable:
        reps = motion_rep_faults(result.motion, rec.exercise, result.analysis.to_dict(), coach_form_screen())
        _set(result, rec, reps)
    else:
        note = "exercise unknown: not screened" if rec.exercise is None else "no form model for this input"
        _set(result, rec, _empty(result), note)
    return result
