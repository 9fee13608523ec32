"""One entry point from any supported recording to a :class:`~musclepose.motion.core.Motion`.

:func:`load_motion` dispatches on the file's extension and, for ``.json`` and ``.txt``, on
its content; :func:`load_clip` gives the seven clip channels of any of them. Everything
unsupported is a :class:`~musclepose.io.errors.FormatError` that names the file.

=================  ========================================================================
input              what happens
=================  ========================================================================
``.trc``           markers (Y-up, as OpenSim writes them). Marker set: ``model`` (.osim), else
                   the one ``*.osim`` beside the file (if it knows >= 4 of the markers), else
                   our body's Plug-in Gait landmarks when >= 8 markers have Plug-in Gait
                   names. Scaling: ``static``, else a ``static*.trc`` beside the file
                   (scaled and markers registered), else the trial itself (``register=False``
                   on the most upright frames). Then :func:`~musclepose.motion.ik.solve_ik`.
``.mot``/``.sto``  OpenSim coordinates -> :func:`~musclepose.motion.opensim_coords.motion_from_opensim`
                   (with ``model`` or the one ``*.osim`` beside the file for the axes).
``.c3d``           markers turned from Z-up to Y-up. A Plug-in Gait trial (stored knee/ankle
                   centres, leg lengths, height) -> :func:`~musclepose.io.plugin_gait.pig_motion`
                   (the file's mass); otherwise Plug-in Gait landmark IK scaled from the trial.
``.bvh``           a foreign skeleton retargeted by joint names, units and up axis
                   (:mod:`musclepose.motion.retarget`); ``unit_m`` overrides the unit guess.
``.json``          keypoints (:func:`~musclepose.io.keypoints.read_keypoints`): 3D -> keypoint
                   IK, 2D -> error (a camera model is needed); clip JSON -> error (use
                   :func:`load_clip`).
``.txt``           UI-PRMD Kinect v2 (see below) -> keypoint IK.
``.csv``           error: pose from IMUs needs the HDT model (a later feature).
=================  ========================================================================

UI-PRMD Kinect text files
-------------------------
Checked on ``m01_s01_e01_positions.txt``: 22 joints x 3 comma-separated values per row,
30 Hz, no header. They are *not* the Kinect SDK's 25 camera-space joints: the first triple is
the root (``Waist`` = SpineBase) position in centimetres in camera space, every other triple
is that joint's offset from its parent in the parent's frame (bone lengths along the axes of
a T-pose skeleton, Y up, X to the subject's left, Z forward), and the sibling
``*_angles.txt`` holds each joint's rotation relative to its parent as intrinsic Z-X-Y Euler
angles in degrees, columns (x, y, z). The Euler order was identified from the data: of the
12 intrinsic/extrinsic orders, only Z-X-Y keeps the feet still during the deep squat (foot
position scatter 2.7 cm against 11 cm or more for the others). The hierarchy (index, name,
parent) is :data:`UIPRMD_JOINTS`. A file of 25 joints x 3 values is read as the SDK's
camera-space joints (:data:`KINECT_V2_JOINTS`, metres, Y up).

Conventions: world Y-up, X anterior, Z to the subject's right, metres, as in
:mod:`musclepose.body.skeleton`. ``progress(stage)`` is called before each long step.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import FormatError

if TYPE_CHECKING:
    from ..body import Body
    from ..motion.core import Motion
    from .clip import Clip

__all__ = ["KINECT_V2_JOINTS", "MOTION_SUFFIXES", "UIPRMD_JOINTS", "load_clip", "load_motion"]

Progress = Callable[[str], None] | None
MOTION_SUFFIXES = (".trc", ".mot", ".sto", ".c3d", ".bvh", ".json", ".txt")
MIN_PLUG_IN_GAIT = 8

#: UI-PRMD Kinect hierarchy: (name, parent index); names follow BVH conventions.
UIPRMD_JOINTS: tuple[tuple[str, int], ...] = (
    ("Waist", -1), ("Spine", 0), ("Chest", 1), ("Neck", 2), ("Head", 3), ("HeadTip", 4),
    ("LeftCollar", 2), ("LeftUpperArm", 6), ("LeftForeArm", 7), ("LeftHand", 8),
    ("RightCollar", 2), ("RightUpperArm", 10), ("RightForeArm", 11), ("RightHand", 12),
    ("LeftUpperLeg", 0), ("LeftLowerLeg", 14), ("LeftFoot", 15), ("LeftLegToes", 16),
    ("RightUpperLeg", 0), ("RightLowerLeg", 18), ("RightFoot", 19), ("RightLegToes", 20),
)  # fmt: skip
#: Kinect v2 SDK joint order (``JointType``) -> our point, for 25-joint camera-space files.
KINECT_V2_JOINTS: tuple[tuple[str, str | None], ...] = (
    ("SpineBase", None), ("SpineMid", None), ("Neck", "neck"), ("Head", None),
    ("ShoulderLeft", "left_shoulder"), ("ElbowLeft", "left_elbow"), ("WristLeft", "left_wrist"), ("HandLeft", None),
    ("ShoulderRight", "right_shoulder"), ("ElbowRight", "right_elbow"), ("WristRight", "right_wrist"),
    ("HandRight", None), ("HipLeft", "left_hip"), ("KneeLeft", "left_knee"), ("AnkleLeft", "left_ankle"),
    ("FootLeft", "left_toe"), ("HipRight", "right_hip"), ("KneeRight", "right_knee"), ("AnkleRight", "right_ankle"),
    ("FootRight", "right_toe"), ("SpineShoulder", None), ("HandTipLeft", None), ("ThumbLeft", None),
    ("HandTipRight", None), ("ThumbRight", None),
)  # fmt: skip
_KEYPOINT_JOINTS = (
    "right_shoulder", "left_shoulder", "right_elbow", "left_elbow", "right_wrist", "left_wrist",
    "right_hip", "left_hip", "right_knee", "left_knee", "right_ankle", "left_ankle",
    "right_heel", "left_heel", "right_foot_index", "left_foot_index",
)  # fmt: skip
MIN_CONFIDENCE = 0.3  # keypoints below this detector confidence are treated as missing


def _say(progress: Progress, stage: str) -> None:
    if progress is not None:
        progress(stage)


def load_motion(
    path: str | Path,
    *,
    model: str | Path | None = None,
    static: str | Path | None = None,
    body: Body | None = None,
    mass_kg: float = 70.0,
    sex: str = "male",
    fps: float | None = None,
    unit_m: float | None = None,
    progress: Progress = None,
) -> Motion:
    """Read any supported recording as a Motion on our body (inverse kinematics where needed).

    Parameters
    ----------
    path
        The recording (see the module docstring for the formats).
    model
        An OpenSim ``.osim`` model whose marker set (``.trc``) or coordinate axes
        (``.mot``/``.sto``) to use; default: the one ``*.osim`` in the same folder.
    static
        A static-pose ``.trc`` to scale the body and place the markers; default: a
        ``static*.trc`` in the same folder, else scaling from the trial.
    body
        The body to start from (default ``Body.standard(1.75, mass_kg, sex)``; a ``.trc``
        with an OpenSim model builds it from the model's joint centres).
    mass_kg, sex
        Subject mass and the sex of the inertial-parameter table.
    fps
        Frame rate of the result. Inputs with a stated rate and a higher one are solved
        at ``fps`` (nearest source frames; inverse kinematics cost scales with frames);
        keypoint JSON without a rate is read as ``fps`` (default 30 Hz).
    unit_m
        Metres per file unit for ``.bvh`` (overrides the guess from the leg length).
    progress
        Called with a stage name before each long step (a CLI spinner).

    Returns
    -------
    Motion
        ``metadata["source"]`` is the file; the loader records what it chose (marker set,
        scale factors, static file, median marker RMS, units, up axis).

    Raises
    ------
    FormatError
        Unsupported, empty or malformed files, or data that cannot be turned into a pose,
        with the reason and the file name.
    """
    path = Path(path)
    if not path.is_file():
        raise FormatError(path, "no such file")
    if path.stat().st_size == 0:
        raise FormatError(path, "empty file")
    suffix = path.suffix.lower()
    kw = dict(body=body, mass_kg=mass_kg, sex=sex, fps=fps, progress=progress)
    if suffix == ".trc":
        return _load_trc(path, model=model, static=static, **kw)
    if suffix in (".mot", ".sto"):
        return _load_opensim_table(path, model=model, body=body, fps=fps, progress=progress)
    if suffix == ".c3d":
        return _load_c3d(path, **kw)
    if suffix == ".bvh":
        return _load_bvh(path, unit_m=unit_m, **kw)
    if suffix == ".json":
        return _load_json(path, **kw)
    if suffix == ".txt":
        return _load_kinect(path, **kw)
    if suffix == ".csv":
        raise FormatError(
            path, "a CSV is read as IMU data, and pose from IMUs needs the HDT model (a later feature); "
            "read the raw signals with musclepose.io.imu.read_imu_csv",
        )  # fmt: skip
    raise FormatError(path, f"unsupported file type {path.suffix!r}; supported: {', '.join(MOTION_SUFFIXES)}")


def load_clip(path: str | Path, **kwargs: Any) -> Clip:
    """A clip (seven channels) from a clip JSON, or from any motion file :func:`load_motion` reads.

    For a motion file the channels are :func:`musclepose.signals.compute_channels`, the
    wave features :func:`musclepose.signals.wave_features` (as a dict), ``exercise`` is
    ``""`` (unknown: the clip schema requires a string) and ``video_id`` the file name.
    ``kwargs`` go to :func:`load_motion`.
    """
    from .clip import Clip, read_clip

    path = Path(path)
    if path.suffix.lower() == ".json" and _is_clip_json(path):
        return read_clip(path)
    motion = load_motion(path, **kwargs)
    from ..signals import compute_channels, wave_features

    _say(kwargs.get("progress"), "computing channels and wave features")
    return Clip(
        channels=compute_channels(motion),
        fps=float(motion.fps),
        exercise="",
        video_id=path.name,
        wave_features=wave_features(motion).to_dict(),
    )


# ----------------------------------------------------------------------------- markers
def _frames_at(n: int, src_fps: float, fps: float | None) -> tuple[np.ndarray, float]:
    """Source frame indices to solve and the resulting rate (nearest frames; never upsample)."""
    if fps is None or fps >= src_fps:
        return np.arange(n), float(src_fps)
    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be positive; got {fps}")
    t = np.arange(0.0, (n - 1) / src_fps + 1e-9, 1.0 / fps)
    return np.unique(np.clip(np.round(t * src_fps).astype(int), 0, n - 1)), float(fps)


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
    from ..body.landmarks import PLUG_IN_GAIT
    from ..motion.retarget import joint_marker_set

    return joint_marker_set(body, [n for n in PLUG_IN_GAIT if n in set(names)])


def _one_beside(path: Path, pattern: str) -> Path | None:
    found = sorted(p for p in path.parent.glob(pattern) if p.is_file() and p != path)
    return found[0] if len(found) == 1 else None


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
    from ..body import Body
    from ..body.landmarks import PLUG_IN_GAIT
    from ..motion.core import Motion
    from ..motion.ik import scale_to_static, solve_ik
    from .opensim import read_trc
    from .osim_model import osim_marker_set

    names = list(markers.names)
    meta: dict[str, Any] = {"source": str(path), **(extra or {})}
    ms = None
    osim = Path(model) if model is not None else (_one_beside(path, "*.osim") if allow_osim else None)
    if osim is not None:
        _say(progress, f"reading the marker set of {osim.name}")
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

    static_path = Path(static) if static is not None else _one_beside(path, "static*.trc")
    if static_path is not None and static_path.resolve() == path.resolve():
        static_path = None
    _say(progress, "scaling the body")
    if static_path is not None:
        st = read_trc(static_path)
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
    idx, rate = _frames_at(markers.n_frames, markers.fps, fps)
    _say(progress, f"solving inverse kinematics ({len(idx)} frames)")
    res = solve_ik(scaled, sms, names, markers.positions[idx], rate, metadata=meta)
    out = {
        **res.motion.metadata,
        "marker_rms_m": float(np.nanmedian(res.rms_m)),
        "source_fps": float(markers.fps),
        "start_time": float(markers.times[idx[0]]),  # the file's clock (force plates use it too)
    }
    return Motion(res.motion.q, rate, scaled, out)


def _load_trc(path: Path, *, model, static, body, mass_kg, sex, fps, progress) -> Motion:
    from .opensim import read_trc

    _say(progress, "reading markers")
    markers = read_trc(path)
    return _marker_ik(
        path, markers, model=model, static=static, body=body, mass_kg=mass_kg, sex=sex, fps=fps, progress=progress
    )


def _load_c3d(path: Path, *, body, mass_kg, sex, fps, progress) -> Motion:
    from .c3d import read_c3d

    _say(progress, "reading C3D")
    data = read_c3d(path).to_y_up()
    extra = {"subject_mass_kg_in_file": data.subject_mass_kg, "up_axis_in_file": "z"}
    if body is None and _is_plugin_gait(data):
        from .plugin_gait import pig_motion

        _say(progress, "Plug-in Gait joint centres and inverse kinematics")
        motion = pig_motion(data, mass_kg=data.subject_mass_kg or mass_kg, sex=sex)
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


def _load_opensim_table(path: Path, *, model, body, fps, progress) -> Motion:
    from ..motion.opensim_coords import motion_from_opensim
    from .opensim import read_table

    _say(progress, "reading OpenSim coordinates")
    table = read_table(path)
    osim = Path(model) if model is not None else _one_beside(path, "*.osim")
    try:
        motion = motion_from_opensim(table, body=body, osim_path=osim)
    except ValueError as err:
        raise FormatError(path, str(err)) from None
    if fps is not None and fps < motion.fps:
        motion = motion.resampled(fps)
    return motion


# --------------------------------------------------------------------------- skeletons
def _keypoint_motion(path, names, positions, rate, *, body, mass_kg, sex, fps, progress, meta, extra=None) -> Motion:
    from ..motion.retarget import keypoint_ik

    idx, rate = _frames_at(len(positions), rate, fps)
    try:
        return keypoint_ik(
            names, positions[idx], rate, body=body, mass_kg=mass_kg, sex=sex, progress=progress,
            metadata={"source": str(path), **meta}, extra_points=extra,
        )  # fmt: skip
    except ValueError as err:
        raise FormatError(path, f"cannot solve a pose: {err}") from None


def _skeleton_to_points(
    path: Path, joint_names: list[str], glob: np.ndarray, rest: np.ndarray, leg: float, unit_m: float | None
):
    """Foreign joint positions (file units, any up axis) -> our point names and metres, Y-up.

    ``rest`` are the joints' rest-pose positions (offsets only), used to place the
    skeleton's root (joint 0) on our pelvis as the point ``pelvis_root``.
    """
    from ..motion.retarget import guess_unit, map_joint_names, rest_root_point, up_rotation

    mapping = map_joint_names(joint_names)
    if not {"right_hip", "left_hip", "right_knee", "left_knee"} <= set(mapping):
        raise FormatError(
            path, f"cannot map the skeleton onto ours: found {mapping} among joints {joint_names} "
            "(see musclepose.motion.retarget.BVH_JOINT_TABLE)",
        )  # fmt: skip
    names = list(mapping)
    col = {n: i for i, n in enumerate(joint_names)}
    unit, how = guess_unit(leg, unit_m)
    pts = glob[:, [col[mapping[n]] for n in names]] * unit
    rot, axis = up_rotation(names, pts)
    pts = pts @ rot.T
    meta: dict[str, Any] = {"joint_map": mapping, "unit_m": unit, "unit_rule": how, "up_axis_in_file": axis}
    rest_m = {n: rest[col[mapping[n]]] * unit @ rot.T for n in names}
    rest_m["root"] = rest[0] * unit @ rot.T
    local = rest_root_point(rest_m)
    extra = None
    if local is not None:
        extra = {"pelvis_root": ("pelvis", local)}
        names = [*names, "pelvis_root"]
        pts = np.concatenate([pts, (glob[:, 0] * unit @ rot.T)[:, None]], axis=1)
        meta["root_joint"] = joint_names[0]
        meta["root_in_pelvis_m"] = local.tolist()
    return names, pts, meta, extra


def _load_bvh(path: Path, *, unit_m, body, mass_kg, sex, fps, progress) -> Motion:
    from .bvh import read_bvh

    _say(progress, "reading BVH")
    data = read_bvh(path)
    _, glob = data.global_transforms()
    from ..motion.retarget import map_joint_names

    m = map_joint_names(data.joint_names)
    ji = {n: i for i, n in enumerate(data.joint_names)}
    legs = [
        np.linalg.norm(data.offsets[ji[m[f"{s}_knee"]]]) + np.linalg.norm(data.offsets[ji[m[f"{s}_ankle"]]])
        for s in ("right", "left")
        if f"{s}_knee" in m and f"{s}_ankle" in m
    ]
    if not legs:
        raise FormatError(path, f"no knee and ankle joints to map (joints: {data.joint_names})")
    rest = np.zeros((data.n_joints, 3))
    for j, par in enumerate(data.parents):
        rest[j] = data.offsets[j] + (rest[par] if par >= 0 else 0.0)
    names, pts, meta, extra = _skeleton_to_points(path, data.joint_names, glob, rest, float(np.mean(legs)), unit_m)
    return _keypoint_motion(
        path, names, pts, data.fps, body=body, mass_kg=mass_kg, sex=sex, fps=fps, progress=progress, meta=meta,
        extra=extra,
    )  # fmt: skip


def _load_json(path: Path, *, body, mass_kg, sex, fps, progress) -> Motion:
    from .keypoints import read_keypoints

    if _is_clip_json(path):
        raise FormatError(path, "a clip JSON holds seven channels, not a motion; use load_clip")
    _say(progress, "reading keypoints")
    kp = read_keypoints(path, fps=fps if fps is not None else None)
    if kp.dims == 2:
        raise FormatError(
            path, f"{kp.layout} keypoints are 2D (image x, y); lifting them to a 3D pose needs a camera model, "
            "which is not supported yet",
        )  # fmt: skip
    rate = kp.fps if kp.fps is not None else 30.0
    p = np.where((kp.confidence >= MIN_CONFIDENCE)[..., None], kp.positions, np.nan)
    if kp.normalized and kp.image_size is not None:
        p = p * np.array([kp.image_size[0], kp.image_size[1], kp.image_size[0]])
    # Image axes (x right, y down, z away from the camera) -> Y up: a half turn about X.
    p = p * np.array([1.0, -1.0, -1.0])
    names = [n for n in _KEYPOINT_JOINTS if n in kp.names]
    p = p[:, [kp.names.index(n) for n in names]]
    ni = {n: i for i, n in enumerate(names)}
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        leg = np.nanmedian(
            [np.linalg.norm(p[:, ni[f"{s}_hip"]] - p[:, ni[f"{s}_knee"]], axis=-1)
             + np.linalg.norm(p[:, ni[f"{s}_knee"]] - p[:, ni[f"{s}_ankle"]], axis=-1) for s in ("right", "left")]
        )  # fmt: skip
    if not np.isfinite(leg) or leg <= 0:
        raise FormatError(path, "no frame shows a hip, knee and ankle: cannot size the body")
    from ..motion.retarget import ADULT_LEG_M

    # Image units carry no scale: the legs are taken to be an adult's (0.86 m hip to ankle).
    unit = ADULT_LEG_M / float(leg)
    meta = {"layout": kp.layout, "unit_m": unit, "unit_rule": "scaled to an adult leg", "fps_assumed": kp.fps is None}
    return _keypoint_motion(
        path, names, p * unit, rate, body=body, mass_kg=mass_kg, sex=sex, fps=None, progress=progress, meta=meta
    )


def _is_clip_json(path: Path) -> bool:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(doc, dict) and "trajectory" in doc


# ----------------------------------------------------------------------------- Kinect
def _read_numbers(path: Path) -> np.ndarray:
    try:
        rows = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except UnicodeDecodeError as e:
        raise FormatError(path, f"not UTF-8 text (byte {e.start})") from None
    if not rows:
        raise FormatError(path, "empty file")
    out = []
    for i, ln in enumerate(rows):
        try:
            out.append([float(v) for v in ln.replace(",", " ").split()])
        except ValueError:
            raise FormatError(path, "not a row of numbers", line=i + 1) from None
        if len(out[-1]) != len(out[0]):
            raise FormatError(path, f"{len(out[-1])} values, but the first row has {len(out[0])}", line=i + 1)
    return np.array(out)


def _euler_zxy_deg(a: np.ndarray) -> np.ndarray:
    """Intrinsic Z-X-Y rotation matrices from angle columns (x, y, z) in degrees: ``Rz Rx Ry``."""
    x, y, z = np.radians(a[..., 0]), np.radians(a[..., 1]), np.radians(a[..., 2])
    one, zero = np.ones_like(x), np.zeros_like(x)

    def mat(rows):
        return np.stack([np.stack(r, -1) for r in rows], -2)

    rz = mat([[np.cos(z), -np.sin(z), zero], [np.sin(z), np.cos(z), zero], [zero, zero, one]])
    rx = mat([[one, zero, zero], [zero, np.cos(x), -np.sin(x)], [zero, np.sin(x), np.cos(x)]])
    ry = mat([[np.cos(y), zero, np.sin(y)], [zero, one, zero], [-np.sin(y), zero, np.cos(y)]])
    return rz @ rx @ ry


def uiprmd_positions(positions: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Global joint positions ``(T, 22, 3)`` (file units) of a UI-PRMD Kinect episode.

    ``positions`` and ``angles`` are the two files' rows reshaped to ``(T, 22, 3)``; see the
    module docstring for the layout.
    """
    t = positions.shape[0]
    rot = np.zeros((t, len(UIPRMD_JOINTS), 3, 3))
    out = np.zeros((t, len(UIPRMD_JOINTS), 3))
    local = _euler_zxy_deg(angles)
    for j, (_, parent) in enumerate(UIPRMD_JOINTS):
        if parent < 0:
            rot[:, j], out[:, j] = local[:, j], positions[:, j]
        else:
            rot[:, j] = rot[:, parent] @ local[:, j]
            out[:, j] = out[:, parent] + np.einsum("tij,tj->ti", rot[:, parent], positions[:, j])
    return out


def _load_kinect(path: Path, *, body, mass_kg, sex, fps, progress) -> Motion:
    _say(progress, "reading Kinect joints")
    raw = _read_numbers(path)
    n = raw.shape[1]
    if n == 3 * len(UIPRMD_JOINTS):
        stem = path.name
        if "_angles" in stem:
            raise FormatError(path, "this is a UI-PRMD joint-angle file; load the matching *_positions.txt")
        apath = path.with_name(stem.replace("_positions", "_angles"))
        if apath == path or not apath.is_file():
            raise FormatError(
                path, f"UI-PRMD Kinect positions are offsets in the parent joints' frames; the rotations come from "
                f"{apath.name}, which is missing",
            )  # fmt: skip
        ang = _read_numbers(apath)
        if ang.shape != raw.shape:
            raise FormatError(apath, f"shape {ang.shape} does not match the positions file's {raw.shape}")
        joint_names = [j for j, _ in UIPRMD_JOINTS]
        glob = uiprmd_positions(raw.reshape(len(raw), -1, 3), ang.reshape(len(ang), -1, 3))
        # Rest pose: the median bone offsets with every rotation zero (root at the origin).
        off = np.median(raw.reshape(len(raw), -1, 3), axis=0)
        rest = np.zeros_like(off)
        for j, (_, par) in enumerate(UIPRMD_JOINTS):
            rest[j] = off[j] + rest[par] if par >= 0 else 0.0
        legs = np.linalg.norm(raw.reshape(len(raw), -1, 3)[:, [15, 16, 19, 20]], axis=-1)  # thigh, shank bones
        leg = float(np.median(legs.sum(-1) / 2.0))
        fmt = "UI-PRMD Kinect (hierarchical, Z-X-Y Euler angles)"
    elif n == 3 * len(KINECT_V2_JOINTS):
        glob = raw.reshape(len(raw), -1, 3)
        rest = np.full((len(KINECT_V2_JOINTS), 3), np.nan)  # no rest pose: no root point
        # Renamed to names the BVH table knows (HipLeft -> LeftHip, FootLeft -> LeftToe).
        joint_names = [_kinect_v2_name(k) for k, _ in KINECT_V2_JOINTS]
        i = {k: j for j, (k, _) in enumerate(KINECT_V2_JOINTS)}
        leg = float(
            np.nanmedian(
                np.linalg.norm(glob[:, i["HipLeft"]] - glob[:, i["KneeLeft"]], axis=-1)
                + np.linalg.norm(glob[:, i["KneeLeft"]] - glob[:, i["AnkleLeft"]], axis=-1)
            )
        )
        fmt = "Kinect v2 camera-space joints"
    else:
        raise FormatError(
            path, f"{n} values per row: expected UI-PRMD Kinect ({3 * len(UIPRMD_JOINTS)}) or Kinect v2 "
            f"camera-space joints ({3 * len(KINECT_V2_JOINTS)})",
        )  # fmt: skip
    names, pts, meta, extra = _skeleton_to_points(path, joint_names, glob, rest, leg, None)
    meta["format"] = fmt
    return _keypoint_motion(
        path, names, pts, 30.0, body=body, mass_kg=mass_kg, sex=sex, fps=fps, progress=progress, meta=meta,
        extra=extra,
    )  # fmt: skip


def _kinect_v2_name(name: str) -> str:
    for side in ("Left", "Right"):
        if name.endswith(side) and name not in ("HandTipLeft", "HandTipRight"):
            part = name[: -len(side)]
            return side + {"Foot": "Toe", "Ankle": "Ankle", "Wrist": "Wrist"}.get(part, part)
    return name
