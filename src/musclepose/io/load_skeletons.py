"""Skeleton and keypoint recordings onto our body: ``.bvh``, 3D keypoint ``.json``, Kinect ``.txt``.

A foreign skeleton's joints become our points (:mod:`musclepose.motion.retarget`: joint names,
length unit, up axis), then :func:`~musclepose.motion.keypoint_ik.keypoint_ik` solves the pose.
2-D keypoint JSON goes through one pinhole camera (:mod:`musclepose.motion.video_fit`); for 3-D, keypoints below
:data:`MIN_CONFIDENCE` are missing, and image units are scaled to an adult's legs. A clip JSON
is not a motion (an error that names :func:`musclepose.pipelines.clips.load_clip`).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..motion.core import Motion
from ..motion.keypoint_ik import keypoint_ik
from ..motion.retarget import ADULT_LEG_M, guess_unit, map_joint_names, rest_root_point, up_rotation
from ..motion.video_fit import KeypointTrack, fit_camera_keypoints
from .bvh import read_bvh
from .bvh_body import is_body_bvh, motion_from_bvh
from .clip import is_clip_json
from .errors import FormatError
from .keypoints import read_keypoints
from .kinect import read_kinect_joints
from .load_common import frames_at, say

__all__ = ["MIN_CONFIDENCE", "load_bvh", "load_deepmimic", "load_keypoint_json", "load_kinect"]

_KEYPOINT_JOINTS = (
    "right_shoulder", "left_shoulder", "right_elbow", "left_elbow", "right_wrist", "left_wrist",
    "right_hip", "left_hip", "right_knee", "left_knee", "right_ankle", "left_ankle",
    "right_heel", "left_heel", "right_foot_index", "left_foot_index",
)  # fmt: skip
MIN_CONFIDENCE = 0.3  # keypoints below this detector confidence are treated as missing


def _keypoint_motion(path, names, positions, rate, *, body, mass_kg, sex, fps, progress, meta, extra=None) -> Motion:
    idx, rate = frames_at(len(positions), rate, fps)
    try:
        return keypoint_ik(
            names, positions[idx], rate, body=body, mass_kg=mass_kg, sex=sex, progress=progress,
            metadata={"source": str(path), **meta}, extra_points=extra,
        )  # fmt: skip
    except ValueError as err:
        raise FormatError(path, f"cannot solve a pose: {err}") from None


def _skeleton_to_points(
    path: Path,
    joint_names: list[str],
    glob: np.ndarray,
    rest: np.ndarray,
    leg: float,
    unit_m: float | None,
    y_up: bool = False,
):
    """Foreign joint positions (file units, any up axis) -> our point names and metres, Y-up.

    ``rest`` are the joints' rest-pose positions (offsets only), used to place the
    skeleton's root (joint 0) on our pelvis as the point ``pelvis_root``. ``y_up``: the format
    says Y is up (no guess from the posture, which a crawl or a roll would mislead).
    """
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
    rot, axis = (np.eye(3), "y (the format's)") if y_up else up_rotation(names, pts)
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


def load_bvh(path: Path, *, unit_m, body, mass_kg, sex, fps, progress) -> Motion:
    """A ``.bvh`` skeleton retargeted by joint names, units (``unit_m`` overrides the guess) and up axis."""
    say(progress, "reading BVH")
    data = read_bvh(path)
    if is_body_bvh(data):  # our own body, as write_motion_bvh writes it: q exactly, no retargeting
        return motion_from_bvh(data, mass_kg=mass_kg, sex=sex, fps=fps)
    _, glob = data.global_transforms()
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


def load_deepmimic(path: Path, *, body, mass_kg, sex, fps, progress) -> Motion:
    """A DeepMimic ``humanoid3d`` motion (:mod:`.deepmimic`) retargeted like a BVH skeleton, plus a
    point behind its root that sets the pelvis' tilt (the root lies on the line of the hip centres)."""
    from .deepmimic import PELVIS_BACK_M, read_deepmimic

    say(progress, "reading DeepMimic motion")
    clip = read_deepmimic(path)
    names, pts, meta, extra = _skeleton_to_points(path, clip.names, clip.positions, clip.rest, 0.83, 1.0, y_up=True)
    col = {n: i for i, n in enumerate(clip.names)}
    rest = {"root": np.asarray(PELVIS_BACK_M), "right_hip": clip.rest[col["RightHip"]],
            "left_hip": clip.rest[col["LeftHip"]], "right_toe": clip.rest[col["RightToe"]],
            "right_ankle": clip.rest[col["RightAnkle"]], "left_toe": clip.rest[col["LeftToe"]],
            "left_ankle": clip.rest[col["LeftAnkle"]]}  # fmt: skip
    local = rest_root_point(rest)
    if local is not None:
        extra = {**(extra or {}), "pelvis_back": ("pelvis", local)}
        names = [*names, "pelvis_back"]
        pts = np.concatenate([pts, clip.pelvis_back[:, None]], axis=1)
    meta.update(format="deepmimic", loop=clip.loop, character="humanoid3d")
    return _keypoint_motion(
        path, names, pts, clip.fps, body=body, mass_kg=mass_kg, sex=sex, fps=fps, progress=progress, meta=meta,
        extra=extra,
    )  # fmt: skip


def _keypoints_2d(path: Path, kp, *, mass_kg, sex, fps, height_m, progress) -> Motion:
    """2-D image keypoints through one pinhole camera (:func:`~musclepose.motion.video_fit.fit_camera_keypoints`).

    Normalised coordinates need the file's ``image_size``; pixels without one take the image to be the
    keypoints' extent (principal point at its centre). The camera's field of view is assumed (60 deg)."""
    pos = kp.positions.astype(np.float64)
    if kp.normalized:
        if kp.image_size is None:
            raise FormatError(path, "normalised 2-D keypoints need the image size ('image_size': [width, height])")
        pos = pos * np.array(kp.image_size, dtype=np.float64)
    size = kp.image_size
    if size is None:
        hi = np.nanmax(np.where((kp.confidence > 0)[..., None], pos, np.nan), axis=(0, 1))
        if not np.isfinite(hi).all():
            raise FormatError(path, "no keypoint was detected in any frame")
        size = (int(np.ceil(hi[0])) + 1, int(np.ceil(hi[1])) + 1)
    rate = kp.fps if kp.fps is not None else 30.0
    meta = {"source": str(path), "layout": kp.layout, "fps_assumed": kp.fps is None}
    try:
        track = KeypointTrack(kp.names, np.arange(kp.n_frames) / rate, kp.confidence.astype(np.float64), pixels=pos,
                              image_size=size)  # fmt: skip
        fit = fit_camera_keypoints(track, height_m=height_m, mass_kg=mass_kg, sex=sex, fps=fps, progress=progress,
                                   metadata=meta)  # fmt: skip
    except ValueError as err:
        raise FormatError(path, f"cannot fit a body to the 2-D keypoints: {err}") from None
    return fit.motion


def load_keypoint_json(path: Path, *, body, mass_kg, sex, fps, progress, height_m: float = 1.75) -> Motion:
    """3D keypoints (``.json``, :func:`~musclepose.io.keypoints.read_keypoints`) by keypoint IK."""
    if is_clip_json(path):
        raise FormatError(path, "a clip JSON holds seven channels, not a motion; use load_clip")
    say(progress, "reading keypoints")
    kp = read_keypoints(path, fps=fps if fps is not None else None)
    if kp.dims == 2:
        return _keypoints_2d(path, kp, mass_kg=mass_kg, sex=sex, fps=fps, height_m=height_m, progress=progress)
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
    # Image units carry no scale: the legs are taken to be an adult's (0.86 m hip to ankle).
    unit = ADULT_LEG_M / float(leg)
    meta = {"layout": kp.layout, "unit_m": unit, "unit_rule": "scaled to an adult leg", "fps_assumed": kp.fps is None}
    return _keypoint_motion(
        path, names, p * unit, rate, body=body, mass_kg=mass_kg, sex=sex, fps=None, progress=progress, meta=meta
    )


def load_kinect(path: Path, *, body, mass_kg, sex, fps, progress) -> Motion:
    """A Kinect joint file (``.txt``, :mod:`musclepose.io.kinect`) by keypoint IK at 30 Hz."""
    say(progress, "reading Kinect joints")
    joint_names, glob, rest, leg, fmt = read_kinect_joints(path)
    names, pts, meta, extra = _skeleton_to_points(path, joint_names, glob, rest, leg, None)
    meta["format"] = fmt
    return _keypoint_motion(
        path, names, pts, 30.0, body=body, mass_kg=mass_kg, sex=sex, fps=fps, progress=progress, meta=meta,
        extra=extra,
    )  # fmt: skip
