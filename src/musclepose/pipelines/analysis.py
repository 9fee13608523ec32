"""Analysis of a file: a recording or a clip JSON -> a :class:`~.results.ClipResult`.

Any file :func:`musclepose.io.load.load_motion` reads is loaded onto the body (inverse kinematics
where needed) and analysed with :func:`musclepose.signals.analyze_motion`, with kinetics: force
plates from ``loads`` (an OpenSim ExternalLoads .xml or a .c3d) or from the .c3d itself, else
ground reactions estimated from the motion. A clip JSON (the seven channel schema) has no body:
it is analysed from its channels alone (energies in J from the hip-height proxy and the mass).
``progress(stage)`` is told each stage (a spinner's text).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..body import Body
from ..io.c3d import read_c3d
from ..io.clip import Clip, read_clip
from ..io.clip import is_clip_json as clip_json
from ..io.errors import check_input_path
from ..io.load import load_motion
from ..io.load_common import DEFAULT_MASS_KG
from ..io.loads import c3d_loads, opensim_loads
from ..io.video import is_video_input
from ..motion.kinetics import Kinetics, compute_kinetics
from ..motion.video_fit import compute_threads
from ..signals import Analysis, RepSummary, Tempo, analyze_motion
from ..signals.exercises import normalise_exercise
from ..signals.waves import run_analysis
from .form_analysis import analyze_sensor_file, is_sensor_file
from .form_screen import clip_measures
from .imu_pose import imu_file_motion, is_imu_input
from .results import ClipResult
from .video_pose import video_file_motion

__all__ = ["analyze_clip", "analyze_file", "is_clip_json", "loader_info", "recording_kinetics"]

_LOADER_KEYS = ("source", "marker_set", "static", "scale_factors", "marker_rms_m", "source_fps", "units", "history",
                "notes")  # fmt: skip


def _quiet(stage: str) -> None:
    pass


def is_clip_json(path: Path) -> bool:
    """Whether ``path`` is a ``.json`` clip (:func:`musclepose.io.clip.is_clip_json`), not keypoints."""
    return path.suffix.lower() == ".json" and clip_json(path)


def analyze_clip(clip: Clip, exercise: str | None, body: Body) -> Analysis:
    """The :class:`~musclepose.signals.Analysis` of a clip of channels only (energies for ``body``).

    Mirrors :func:`~musclepose.signals.analyze_motion` on the clip's channels, which carry the
    knee angle and hip height that depth needs.
    """
    exercise = exercise or clip.exercise or None
    data = {**clip.channels, "fps": clip.fps}
    run = run_analysis(data, body=body, exercise=exercise)
    knee, hip = run.channels["knee_angle_trajectory"], run.channels["legs_trajectory"]
    reps = [
        RepSummary(
            index=k,
            start=s,
            extreme=p,
            end=e,
            depth_knee_flexion_deg=float(np.max(knee[s : e + 1])),
            min_hip_height_m=float(np.min(hip[s : e + 1])),
            tempo=run.phases.tempo_[k],
            phases=run.phases.rep_spans_[k],
        )
        for k, (s, p, e) in enumerate(run.segmenter.reps_)
    ]
    return Analysis(
        exercise=normalise_exercise(exercise) if exercise else None,
        fps=float(clip.fps),
        duration_s=(clip.n_frames - 1) / float(clip.fps),
        primary=run.features.channel,
        reps=reps,
        tempo=Tempo.median(run.phases.tempo_),
        wave_features=run.features,
    )


def recording_kinetics(motion: Any, path: Path, loads: Path | None = None, loads_data: Path | None = None) -> Kinetics:
    """Kinetics with the plates of ``loads`` (or of ``path`` itself, a .c3d), else estimated ground reactions.

    ``loads_data`` is the data file of an ExternalLoads ``loads`` (default: its ``<datafile>``)."""
    source = loads if loads is not None else (path if path.suffix.lower() == ".c3d" else None)
    if loads_data is not None and (source is None or source.suffix.lower() != ".xml"):
        raise ValueError(f"{loads_data}: --loads-data is the data file of an ExternalLoads .xml given with --loads")
    records = None
    if source is not None:
        check_input_path(source, what="force-plate file")
        if source.suffix.lower() == ".c3d":
            records = [r for r in c3d_loads(read_c3d(source)) if np.nanmax(np.abs(r.force[:, 1])) > 20.0] or None
        elif source.suffix.lower() == ".xml":
            records = opensim_loads(source, loads_data)
        else:
            raise ValueError(f"{source}: --loads takes an OpenSim ExternalLoads .xml or a .c3d")
    return compute_kinetics(motion, records)


def loader_info(meta: dict[str, Any]) -> dict[str, Any]:
    """What the loader chose (marker set, static trial, scale factors, fit) from a motion's
    ``metadata``, small enough to print."""
    out = {k: meta[k] for k in _LOADER_KEYS if k in meta}
    for k in ("layout", "format", "unit_m", "up_axis_in_file", "joint_map"):
        if k in meta:
            out[k] = meta[k]
    if "opensim" in meta:
        info = meta["opensim"]
        out["opensim"] = {k: info.get(k) for k in ("osim_path", "in_degrees", "unmapped_columns")}
    return out


def analyze_file(
    path: Path,
    exercise: str | None = None,
    *,
    osim: Path | None = None,
    static: Path | None = None,
    mass_kg: float | None = None,
    sex: str = "male",
    fps: float | None = None,
    kinetics: bool = True,
    loads: Path | None = None,
    progress: Callable[[str], None] = _quiet,
    loads_data: Path | None = None,
    height_m: float = 1.75,
    imu_layout: str = "auto",
) -> ClipResult:
    """Load and analyse ``path`` (module docstring); ``kinetics`` False skips inverse dynamics.

    ``osim``, ``static``, ``mass_kg`` (None: the recording's own, else 70 kg), ``sex`` and ``fps`` go to
    the loader (``osim`` is its ``model``); ``loads`` and ``loads_data`` to :func:`recording_kinetics`;
    a video (file or image folder) goes through :func:`.video_pose.video_file_motion` with ``height_m``; an IMU
    recording (a ``.csv`` or a folder of ``acc.pt``/``ori.pt``) through :func:`.imu_pose.imu_file_motion` with
    ``imu_layout`` on a body of ``height_m`` and the mass."""
    path = Path(path)
    check_input_path(path, folder_ok=True, what="recording")  # a folder: of video frames
    own_mass = mass_kg if mass_kg is not None else DEFAULT_MASS_KG  # inputs that carry no mass of their own
    t0 = time.perf_counter()
    if is_imu_input(path):  # pose from body-worn IMUs (the HDT), then the same analysis as a recording
        motion, _, _ = imu_file_motion(path, imu_layout, body=Body.standard(height_m, own_mass, sex), fps=fps,
                                       streaming=True, progress=progress)  # fmt: skip
        t1 = time.perf_counter()
        with compute_threads(1):
            kin = compute_kinetics(motion) if kinetics else None
            progress("analysing")
            analysis = analyze_motion(motion, exercise=exercise, kinetics=kin)
        return ClipResult(analysis, channels=analysis.channels, motion=motion, kinetics=kin, body=motion.body,
                          path=path, loader={"source": str(path), **motion.metadata["imu"],
                                             "imu_pose": motion.metadata["imu_pose"]},
                          timings_s={"imu_pose": t1 - t0, "analysis": time.perf_counter() - t1})  # fmt: skip
    if is_video_input(path):
        video = video_file_motion(path, height_m=height_m, mass_kg=own_mass, sex=sex, fps=fps, progress=progress)
        t1 = time.perf_counter()
        with compute_threads(1):  # see compute_threads: small tensors, a loaded machine
            kin = compute_kinetics(video.fit.motion) if kinetics else None
            progress("analysing")
            analysis = analyze_motion(video.fit.motion, exercise=exercise, kinetics=kin)
        return ClipResult(analysis, channels=analysis.channels, motion=video.fit.motion, kinetics=kin,
                          body=video.fit.motion.body, path=path, loader=video.loader_info(), video=video,
                          timings_s={**video.timings_s, "analysis": time.perf_counter() - t1})  # fmt: skip
    if is_sensor_file(path):  # UI-PRMD positions without angles, OpenPose .npy: no body to fit
        return analyze_sensor_file(path, exercise, fps)
    if is_clip_json(path):
        clip = read_clip(path)
        progress("analysing channels")
        body = Body.standard(1.75, own_mass, sex)
        analysis = analyze_clip(clip, exercise, body)
        return ClipResult(analysis, channels=clip.channels, body=body, path=path,
                          timings_s={"analysis": time.perf_counter() - t0})  # fmt: skip
    motion = load_motion(path, model=osim, static=static, mass_kg=mass_kg, sex=sex, fps=fps, progress=progress,
                         height_m=height_m)  # fmt: skip
    t1 = time.perf_counter()
    kin = None
    if kinetics:
        progress("inverse dynamics, ground reactions and muscles")
        kin = recording_kinetics(motion, path, loads, loads_data)
    progress("analysing")
    analysis = analyze_motion(motion, exercise=exercise, kinetics=kin)
    return ClipResult(analysis, channels=analysis.channels, motion=motion, kinetics=kin, body=motion.body, path=path,
                      loader=loader_info(motion.metadata), measures=clip_measures(motion, exercise, analysis, kin),
                      timings_s={"load": t1 - t0, "analysis": time.perf_counter() - t1})  # fmt: skip
