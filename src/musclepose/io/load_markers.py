"""Marker recordings onto our body: ``.trc``, ``.c3d`` (Plug-in Gait or plain markers), ``.mot``/``.sto``.

Markers are placed on the body by an OpenSim model's marker set (``model``, else the one
``*.osim`` beside the file if it knows >= 4 of the markers), else by our body's Plug-in Gait
landmarks (>= 8 markers with Plug-in Gait names); the body is scaled to a static trial
(``static``, else a ``static*.trc`` beside the file) or to the trial's most upright frames, then
:func:`~musclepose.motion.ik.solve_ik` runs. A Plug-in Gait C3D trial goes to
:func:`~musclepose.io.plugin_gait.pig_motion`; OpenSim coordinates to
:func:`~musclepose.io.opensim.coords.motion_from_opensim`. Markers are metres, Y-up (C3D files
are turned from Z-up).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..body import Body
from ..body.landmarks import PLUG_IN_GAIT
from ..motion.core import Motion
from ..motion.ik import solve_ik
from ..motion.keypoint_ik import joint_marker_set
from ..motion.scaling import scale_to_static
from .c3d import read_c3d
from .errors import FormatError
from .load_common import Progress, frames_at, one_beside, resolve_mass, say
from .marker_units import checked_units
from .opensim import read_table, read_trc
from .opensim.coords import motion_from_opensim
from .opensim.model import osim_marker_set
from .plugin_gait import pig_motion

__all__ = ["load_c3d", "load_opensim_table", "load_trc"]

MIN_PLUG_IN_GAIT = 8


def _upright_frames(positions: np.ndarray, n: int = 3) -> np.ndarray:
    """``n`` consecutive frames around the one with most markers and the largest height span.

    Scaling from a moving trial needs one pose; averaging the whole trial would blur it.
    """
    seen = np.isfinite(positions).all(-1).sum(-1)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        span = np.nanmax(positions[..., 1], axis=1) - np.nanmin(positions[..., 1], axis=1)
    score = np.where(seen == seen.max(), np.nan_to_num(span, nan=-1.0), -np.inf)
    k = int(np.argmax(score))
    lo = max(0, min(k - n // 2, len(positions) - n))
    return np.arange(lo, min(lo + n, len(positions)))


def _pig_marker_set(body: Body, names: list[str]):
    return joint_marker_set(body, [n for n in PLUG_IN_GAIT if n in set(names)])


def _marker_ik(
    path: Path,
    markers,  # MarkerData in metres, Y-up
    *,
    model: str | Path | None,
    static: str | Path | None,
    body: Body | None,
    mass_kg: float,
    sex: str,
    fps: float | None,
    progress: Progress,
    allow_osim: bool = True,
    extra: dict[str, Any] | None = None,
) -> Motion:
    names = list(markers.names)
    meta: dict[str, Any] = {"source": str(path), **(extra or {})}
    ms = None
    osim = Path(model) if model is not None else (one_beside(path, "*.osim") if allow_osim else None)
    if osim is not None:
        say(progress, f"reading the marker set of {osim.name}")
        obody, oms, _ = osim_marker_set(osim, mass_kg=mass_kg, sex=sex)
        if len(set(oms.names) & set(names)) >= 4 or model is not None:
            base, ms = obody, oms
            meta["marker_set"] = f"OpenSim model {osim}"
    if ms is None:
        pig = [n for n in names if n in set(PLUG_IN_GAIT)]
        if len(pig) < MIN_PLUG_IN_GAIT:
            raise FormatError(
                path, f"cannot tell where the markers sit on the body: no OpenSim model beside the file and only "
                f"{len(pig)} Plug-in Gait names (need {MIN_PLUG_IN_GAIT}); markers: {', '.join(names)}. "
                "Pass model= (an .osim with this marker set)",
            )  # fmt: skip
        base = body or Body.standard(1.75, mass_kg, sex)
        ms = _pig_marker_set(base, names)
        meta["marker_set"] = "Plug-in Gait landmarks of the MusclePose body"

    static_path = Path(static) if static is not None else one_beside(path, "static*.trc")
    if static_path is not None and static_path.resolve() == path.resolve():
        static_path = None
    say(progress, "scaling the body")
    if static_path is not None:
        st, _ = checked_units(static_path, read_trc(static_path))
        scaled, sms, factors, _ = scale_to_static(base, ms, st.names, st.positions, mass_kg=mass_kg)
        meta["static"] = str(static_path)
    else:
        frames = _upright_frames(markers.positions)
        scaled, sms, factors, _ = scale_to_static(
            base, ms, names, markers.positions[frames], mass_kg=mass_kg, register=False
        )
        meta["static"] = None
        meta["scale_frames"] = [int(frames[0]), int(frames[-1])]
    meta["scale_factors"] = factors
    idx, rate = frames_at(markers.n_frames, markers.fps, fps)
    say(progress, f"solving inverse kinematics ({len(idx)} frames)")
    res = solve_ik(scaled, sms, names, markers.positions[idx], rate, metadata=meta)
    out = {
        **res.motion.metadata,
        "marker_rms_m": float(np.nanmedian(res.rms_m)),
        "source_fps": float(markers.fps),
        "start_time": float(markers.times[idx[0]]),  # the file's clock (force plates use it too)
    }
    return Motion(res.motion.q, rate, scaled, out, res.motion.quality)


def load_trc(path: Path, *, model, static, body, mass_kg, sex, fps, progress) -> Motion:
    """A ``.trc`` marker file as a Motion (arguments as :func:`~musclepose.io.load.load_motion`)."""
    say(progress, "reading markers")
    markers, note = checked_units(path, read_trc(path))
    motion = _marker_ik(
        path, markers, model=model, static=static, body=body, mass_kg=mass_kg, sex=sex, fps=fps, progress=progress
    )
    if note:
        motion.metadata["notes"] = [*motion.metadata.get("notes", []), note]
    return motion


def load_c3d(path: Path, *, body, mass_kg, sex, fps, progress) -> Motion:
    """A ``.c3d`` file as a Motion: Plug-in Gait joint centres when the trial has them, else marker IK.

    ``mass_kg`` None: the file's subject mass, else 70 kg (:func:`.load_common.resolve_mass`)."""
    say(progress, "reading C3D")
    data = read_c3d(path).to_y_up()
    mass_kg, mass_info = resolve_mass(mass_kg, data.subject_mass_kg, f"{path.name}'s subject parameters")
    extra = {"subject_mass_kg_in_file": data.subject_mass_kg, "up_axis_in_file": "z", **mass_info}
    if body is None and _is_plugin_gait(data):
        say(progress, "Plug-in Gait joint centres and inverse kinematics")
        motion = pig_motion(data, mass_kg=mass_kg, sex=sex)
        motion.metadata.update(extra)
        if fps is not None and fps < motion.fps:
            motion = motion.resampled(fps)
        return motion
    return _marker_ik(
        path, data.markers, model=None, static=None, body=body, mass_kg=mass_kg, sex=sex, fps=fps,
        progress=progress, allow_osim=False, extra=extra,
    )  # fmt: skip


def _is_plugin_gait(data) -> bool:
    """A Plug-in Gait lower-body trial: pelvis markers, stored knee/ankle centres, leg lengths, height."""
    proc = data.parameters.get("PROCESSING", {})
    points = set(data.markers.names) | set(data.model_outputs)
    need = {"LASI", "RASI", "LPSI", "RPSI", "LKJC", "RKJC", "LAJC", "RAJC"}
    return need <= points and "LLegLength" in proc and "RLegLength" in proc and bool(data.subject_height_m)


def load_opensim_table(path: Path, *, model, body, fps, progress, mass_kg: float = 70.0, sex: str = "male") -> Motion:
    """OpenSim coordinates (``.mot``/``.sto``) as a Motion, with the model beside the file for the axes;
    on ``body``, else a standard body of ``mass_kg`` and ``sex``."""
    say(progress, "reading OpenSim coordinates")
    table = read_table(path)
    osim = Path(model) if model is not None else one_beside(path, "*.osim")
    body = body if body is not None else Body.standard(1.75, mass_kg, sex)
    try:
        motion = motion_from_opensim(table, body=body, osim_path=osim)
    except ValueError as err:
        raise FormatError(path, str(err)) from None
    if fps is not None and fps < motion.fps:
        motion = motion.resampled(fps)
    return motion
