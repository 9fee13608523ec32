"""Keypoints seen by one camera onto the body: 2-D image points (and 3-D world landmarks) -> a Motion.

:func:`fit_camera_keypoints` takes a :class:`KeypointTrack` (per-frame image pixels and/or metric
3-D landmarks in camera axes, with a confidence each; MediaPipe-33 or COCO-17 names, which are
landmarks of our body) and returns a :class:`CameraFit`:

1. frames on a uniform time grid (variable-rate video: linear interpolation over the frame times);
2. keypoints below ``min_confidence`` are missing; a frame whose mean confidence over the keypoints
   the clip shows (or whose hips are missing) is *flagged*: not used by the fit, its pose
   interpolated from its neighbours, and reported;
3. the body is ``Body.standard(height, mass, sex)``: constant bone lengths from the subject's
   height. 3-D landmarks are scaled to it (one factor over the clip) and placed in the camera by
   the per-frame translation that best reprojects them onto the 2-D points (linear least squares
   through a pinhole camera); 2-D points alone are put at the depth where the body's bone lengths
   match their pixel lengths;
4. keypoint IK (:func:`~musclepose.motion.keypoint_ik.keypoint_ik`) with joint limits and temporal
   smoothness, refined by minimising the reprojection error (L-BFGS over all frames), then a
   zero-phase low-pass;
5. the floor from foot contacts: a plane through the feet's lowest points in the frames where they
   rest (the camera's pitch and roll), the subject turned to face +X and the floor put at
   ``y = 0``; with no foot in view the camera is taken to be level.

Camera axes: x right, y down, z away from the camera (OpenCV); pixels from the top-left corner.
Output frame: world Y-up, X anterior, Z right, metres, as :mod:`musclepose.body.skeleton`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from scipy.interpolate import CubicSpline
from scipy.ndimage import median_filter
from threadpoolctl import threadpool_limits

from ..body import Body
from .camera_geometry import (
    fill_frames,
    fill_from,
    project_working,
    resample,
    side_depths,
    to_world,
    translations,
    uniform_grid,
)
from .core import Motion
from .keypoint_ik import joint_marker_set, keypoint_ik
from .marker_set import MarkerSet, marker_positions

__all__ = ["FIT_POINTS", "CameraFit", "KeypointTrack", "fit_camera_keypoints", "focal_from_fov", "compute_threads"]

# Points the fit uses: joint centres, feet and three head points (the head's landmarks are
# placed by typical offsets, so they count less).
FIT_POINTS = (
    "right_shoulder", "left_shoulder", "right_elbow", "left_elbow", "right_wrist", "left_wrist",
    "right_hip", "left_hip", "right_knee", "left_knee", "right_ankle", "left_ankle",
    "right_heel", "left_heel", "right_foot_index", "left_foot_index", "nose", "right_ear", "left_ear",
)  # fmt: skip
_HEAD_WEIGHT = 0.3
_FEET = ("right_heel", "left_heel", "right_foot_index", "left_foot_index", "right_ankle", "left_ankle")
_BONES = (
    ("right_shoulder", "right_elbow"), ("left_shoulder", "left_elbow"), ("right_elbow", "right_wrist"),
    ("left_elbow", "left_wrist"), ("right_hip", "right_knee"), ("left_hip", "left_knee"),
    ("right_knee", "right_ankle"), ("left_knee", "left_ankle"), ("right_shoulder", "right_hip"),
    ("left_shoulder", "left_hip"),
)  # fmt: skip
DEFAULT_FOV_DEG = 60.0  # horizontal field of view assumed when the camera's is unknown (phones: 60-70)
IK_FPS = 15.0  # rate at which inverse kinematics is solved; the frames between are interpolated
# Joint-centre keypoints do not show how the trunk's lean splits between the pelvis' tilt and the spine
# (no pelvis landmarks): a weak pull of the spine toward straight (solve_ik's default, 1e-2) let walking
# settle in an S-shaped spine with the pelvis 16 deg off (hip flexion RMSE 18 deg on OpenCap walking1,
# side camera); 1.0 gives 7 deg there and 6-7 on a generated squat, but 13-14 on the real squat, whose
# lumbar and thoracic spine flex up to 35 and 21 deg (9-12 deg with 1e-2). Chosen for the mean.
SPINE_PRIOR = 1.0
CHUNK_S = 60.0  # a longer clip is fitted in windows of this length (bounded memory) ...
OVERLAP_S = 2.0  # ... overlapping by this much, cross-faded
PULL_TO_3D = 0.05  # weight (per rad^2) of the 3-D solution against the reprojection error (per 1 % of the height)


def focal_from_fov(width: int, fov_deg: float = DEFAULT_FOV_DEG) -> float:
    """Focal length in pixels of an image ``width`` pixels wide with horizontal field of view ``fov_deg``."""
    return 0.5 * float(width) / math.tan(math.radians(fov_deg) / 2.0)


@dataclass
class KeypointTrack:
    """One person's keypoints over time, as a video pose estimator reports them.

    Attributes
    ----------
    names : tuple of str
        ``K`` keypoint names (body landmarks: MediaPipe-33 or COCO-17 names).
    times_s : (T,)
        Frame times, increasing (s).
    confidence : (T, K)
        Visibility / score in [0, 1]; 0 where nothing was detected.
    pixels : (T, K, 2) or None
        Image positions in pixels (x right, y down); NaN where missing.
    world : (T, K, 3) or None
        Metric 3-D positions in camera axes (x right, y down, z away), any origin per frame (MediaPipe's
        world landmarks are centred between the hips); NaN where missing.
    image_size : (width, height) or None
        Needed with ``pixels``.
    """

    names: tuple[str, ...]
    times_s: np.ndarray
    confidence: np.ndarray
    pixels: np.ndarray | None = None
    world: np.ndarray | None = None
    image_size: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        t, k = len(self.times_s), len(self.names)
        if self.confidence.shape != (t, k):
            raise ValueError(f"confidence must be ({t}, {k}); got {self.confidence.shape}")
        if self.pixels is None and self.world is None:
            raise ValueError("a keypoint track needs pixels, world landmarks or both")
        if self.pixels is not None and (self.pixels.shape != (t, k, 2) or self.image_size is None):
            raise ValueError(f"pixels must be ({t}, {k}, 2) with an image_size; got {self.pixels.shape}")
        if self.world is not None and self.world.shape != (t, k, 3):
            raise ValueError(f"world must be ({t}, {k}, 3); got {self.world.shape}")
        if t > 1 and not (np.diff(self.times_s) > 0).all():
            raise ValueError("times_s must increase")


@dataclass
class CameraFit:
    """A fitted clip: the motion and how far each frame can be trusted.

    Attributes
    ----------
    motion : Motion
        On the uniform grid; ``metadata["video_fit"]`` holds the scalars below.
    times_s : (T,)
        The grid's times in the source's clock.
    frame_confidence : (T,)
        Mean detector confidence over the keypoints the clip shows.
    flagged : (T,) bool
        Frames not used by the fit (poor confidence or no hips): their pose is interpolated.
    reprojection_px : (T,)
        RMS distance of the fitted keypoints from the 2-D detections (NaN without pixels).
    focal_px : float or None
    floor_from : str
        ``"foot contacts"`` or ``"level camera"`` (no foot in view).
    tilt_deg : float
        The camera's tilt from level found from the floor plane.
    info : dict
        Scalars for printing (scale, points used, flagged count, ...).
    """

    motion: Motion
    times_s: np.ndarray
    frame_confidence: np.ndarray
    flagged: np.ndarray
    reprojection_px: np.ndarray
    focal_px: float | None
    floor_from: str
    tilt_deg: float
    info: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- helpers
def _bone_lengths(names: Sequence[str], pts: np.ndarray) -> dict[tuple[str, str], np.ndarray]:
    idx = {n: i for i, n in enumerate(names)}
    return {
        (a, b): np.linalg.norm(pts[..., idx[a], :] - pts[..., idx[b], :], axis=-1)
        for a, b in _BONES
        if a in idx and b in idx
    }


def _nanmedian(x: np.ndarray, axis=None):
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(x, axis=axis)


def _refine_reprojection(body, ms, q0, pixels, conf_mask, f, c, height_px, iterations: int = 60) -> np.ndarray:
    """Joint angles minimising the reprojection error (2-D points only), with smoothness, limits and a
    pull toward the 3-D initialisation, by L-BFGS over all frames at once."""
    q_init = torch.tensor(q0)
    q = q_init.clone().requires_grad_(True)
    uv = torch.tensor(np.nan_to_num(pixels))
    w = torch.tensor(conf_mask, dtype=torch.float64) * torch.tensor(ms.weights)[None]
    sigma = 0.01 * height_px  # pixel errors in units of 1 % of the image height
    lo = torch.tensor(np.where(np.isfinite(body.dof_lower), body.dof_lower, -1e9))
    hi = torch.tensor(np.where(np.isfinite(body.dof_upper), body.dof_upper, 1e9))
    n_obs = w.sum().clamp(min=1.0)

    def closure():
        opt.zero_grad()
        x = marker_positions(body, q, ms)
        r = ((project_working(x, f, c) - uv) / sigma).square().sum(-1)
        loss = (r * w).sum() / n_obs
        if q.shape[0] > 2:
            acc = q[2:, 3:] - 2.0 * q[1:-1, 3:] + q[:-2, 3:]
            loss = loss + 2.0 * acc.square().sum(-1).mean()
        loss = loss + 10.0 * (torch.relu(q - hi) + torch.relu(lo - q)).square().sum(-1).mean()
        loss = loss + PULL_TO_3D * (q[:, 6:] - q_init[:, 6:]).square().sum(-1).mean()
        loss.backward()
        return loss

    opt = torch.optim.LBFGS([q], lr=1.0, max_iter=iterations, history_size=20, line_search_fn="strong_wolfe")
    opt.step(closure)
    return q.detach().numpy()


@contextmanager
def compute_threads(n: int) -> Iterator[None]:
    """Run torch and the BLAS under numpy/scipy on ``n`` threads inside the block. The fit's arrays are
    small (a few hundred frames x 47): two threads gain nothing there, and on a loaded 2-core machine
    their spin-waits made one IK solve 30x slower (16 s against 0.5 s for a 67-frame clip; OpenBLAS in
    scipy's banded solver 10x, measured)."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(n):
            yield
    finally:
        torch.set_num_threads(before)


# --------------------------------------------------------------------------- the fit
def fit_camera_keypoints(
    track: KeypointTrack,
    *,
    height_m: float = 1.75,
    mass_kg: float = 70.0,
    sex: str = "male",
    fps: float | None = None,
    focal_px: float | None = None,
    min_confidence: float = 0.3,
    flag_below: float = 0.5,
    cutoff_hz: float | None = 6.0,
    refine: bool | None = None,
    progress: Callable[[str], None] | None = None,
    metadata: dict[str, Any] | None = None,
) -> CameraFit:
    """Fit the body to one camera's keypoints (module docstring).

    Parameters
    ----------
    track
        The detections.
    height_m, mass_kg, sex
        The subject (the body's bone lengths come from the height).
    fps
        Rate of the output grid (default: the median frame rate of ``times_s``).
    focal_px
        The camera's focal length in pixels (default: a 60 deg horizontal field of view).
    min_confidence
        Keypoints below it are missing (MediaPipe gives a joint hidden behind the body ~0.3-0.6).
    flag_below
        Frames whose mean confidence over the keypoints the clip shows is below it are flagged.
    cutoff_hz
        Zero-phase Butterworth low-pass of the joint angles (None: none).
    refine
        Minimise the reprojection error after IK (default: when there are pixels). MediaPipe's world
        landmarks are less exact than its image points (on the curl video they shorten the upper arm by
        a third at the top of the curl): refining raised the elbow's peak from 113 to ~120 deg there and
        cut the synthetic squat's knee RMSE from 3.2 to 2.1 deg.

    Raises
    ------
    ValueError
        No frame shows both hips and enough keypoints to fit.
    """
    args = (height_m, mass_kg, sex, fps, focal_px, min_confidence, flag_below, cutoff_hz, refine, progress, metadata)
    with compute_threads(1):
        span = float(track.times_s[-1] - track.times_s[0])
        if span <= CHUNK_S + OVERLAP_S:
            return _fit(track, *args)
        return _fit_in_chunks(track, args)


def _sub_track(track: KeypointTrack, keep: np.ndarray) -> KeypointTrack:
    def cut(x):
        return None if x is None else x[keep]

    return KeypointTrack(track.names, track.times_s[keep], track.confidence[keep], cut(track.pixels),
                         cut(track.world), track.image_size)  # fmt: skip


def _fit_in_chunks(track: KeypointTrack, args: tuple) -> CameraFit:
    """A long clip fitted in windows of :data:`CHUNK_S` seconds overlapping by :data:`OVERLAP_S`, joined by a
    linear cross-fade of ``q`` over the overlap: the solver's memory grows with the frames it holds at once,
    so a 2-hour video is fitted in bounded memory. Windows that show nobody are flagged frames."""
    (height_m, mass_kg, sex, fps, focal_px, min_confidence, flag_below, cutoff_hz, refine, progress, metadata) = args
    t = track.times_s
    rate = float(fps) if fps else 1.0 / float(np.median(np.diff(t)))
    starts = np.arange(t[0], t[-1], CHUNK_S)
    parts: list[CameraFit | None] = []
    for a in starts:
        keep = (t >= a - 1e-9) & (t <= a + CHUNK_S + OVERLAP_S + 1e-9)
        if keep.sum() < 2:
            continue
        try:
            parts.append(_fit(_sub_track(track, keep), height_m, mass_kg, sex, rate, focal_px, min_confidence,
                              flag_below, cutoff_hz, refine, None, metadata))  # fmt: skip
        except ValueError:  # nobody fit to fit in this window
            parts.append(None)
        if progress is not None:
            progress(f"fitting the body: {min(a + CHUNK_S, t[-1]) - t[0]:.0f} of {t[-1] - t[0]:.0f} s")
    good = [p for p in parts if p is not None]
    if not good:
        raise ValueError(f"no window of the {t[-1] - t[0]:.0f} s clip shows the hips and enough keypoints")
    grid = t[0] + np.arange(int(np.floor((t[-1] - t[0]) * rate + 1e-6)) + 1) / rate
    n_dof = good[0].motion.q.shape[1]
    q = np.zeros((len(grid), n_dof))
    weight = np.zeros(len(grid))
    conf = np.zeros(len(grid))
    rep = np.full(len(grid), np.nan)
    for p in good:
        idx = np.clip(np.round((p.times_s - grid[0]) * rate).astype(int), 0, len(grid) - 1)
        # Weight ramps up over the overlap at the start and down over the overlap at the end.
        rel = p.times_s - p.times_s[0]
        w = np.clip(np.minimum(rel, rel[-1] - rel) / OVERLAP_S, 1e-3, 1.0)
        qp = p.motion.q.numpy().copy()
        if weight[idx].any():  # keep angles on the same branch as what is already there
            prev = q[idx] / np.maximum(weight[idx], 1e-12)[:, None]
            first = int(np.argmax(weight[idx] > 0))
            qp[:, 3:] += 2 * np.pi * np.round((prev[first, 3:] - qp[first, 3:]) / (2 * np.pi))
        q[idx] += w[:, None] * qp
        weight[idx] += w
        conf[idx] = np.maximum(conf[idx], p.frame_confidence)
        rep[idx] = np.where(np.isnan(rep[idx]), p.reprojection_px, rep[idx])
    covered = weight > 0
    q = fill_frames(np.where(covered[:, None], q / np.maximum(weight, 1e-12)[:, None], 0.0), covered)
    flagged = np.ones(len(grid), dtype=bool)
    for p in good:
        idx = np.clip(np.round((p.times_s - grid[0]) * rate).astype(int), 0, len(grid) - 1)
        flagged[idx] &= p.flagged
    body = good[0].motion.body
    info = {**good[0].info, "chunks": len(parts), "chunks_fitted": len(good), "flagged_frames": int(flagged.sum()),
            "frames": len(grid)}  # fmt: skip
    motion = Motion(torch.tensor(q), rate, body, {**good[0].motion.metadata, "video_fit": info})
    return CameraFit(motion, grid, conf, flagged, rep, good[0].focal_px, good[0].floor_from, good[0].tilt_deg, info)


def _fit(track, height_m, mass_kg, sex, fps, focal_px, min_confidence, flag_below, cutoff_hz, refine, progress,
         metadata):  # fmt: skip
    say = progress or (lambda stage: None)
    if not (math.isfinite(height_m) and 0.5 < height_m < 2.6):
        raise ValueError(f"height must be between 0.5 and 2.6 m; got {height_m}")
    names_all = list(track.names)
    use = [n for n in FIT_POINTS if n in names_all]
    cols = [names_all.index(n) for n in use]
    if not {"right_hip", "left_hip"} <= set(use):
        raise ValueError(f"the keypoints have no hips to place the pelvis (names: {names_all})")
    grid, i, a, rate = uniform_grid(np.asarray(track.times_s, dtype=np.float64), fps)
    conf = resample(np.nan_to_num(track.confidence[:, cols].astype(np.float64)), i, a)
    px = None if track.pixels is None else resample(track.pixels[:, cols].astype(np.float64), i, a)
    wl = None if track.world is None else resample(track.world[:, cols].astype(np.float64), i, a)
    T = len(grid)

    # Which keypoints the clip shows, and how far each frame can be trusted.
    seen = conf >= min_confidence
    if px is not None:
        seen &= np.isfinite(px).all(-1)
    if wl is not None:
        seen &= np.isfinite(wl).all(-1)
    shown = np.median(conf, axis=0) >= min_confidence
    ih = [use.index("right_hip"), use.index("left_hip")]
    if not shown[ih].all():
        shown[ih] = seen[:, ih].mean(0) > 0.25
    frame_conf = np.where(shown.any(), conf[:, shown].mean(1) if shown.any() else 0.0, 0.0)
    good = (frame_conf >= flag_below) & seen[:, ih].any(1) & (seen[:, shown].sum(1) >= 4)
    if not good.any():
        raise ValueError(f"no frame of {T} shows a hip and enough keypoints with confidence >= {min_confidence}")
    mask = seen & shown[None] & good[:, None]

    body = Body.standard(height_m, mass_kg, sex)
    ms = joint_marker_set(body, use)
    head = np.array([_HEAD_WEIGHT if n in ("nose", "right_ear", "left_ear") else 1.0 for n in use])
    ms = MarkerSet(ms.names, ms.segments, ms.local, head)
    with torch.no_grad():
        model_pts = marker_positions(body, body.neutral_q()[None], ms)[0].numpy()
    model_len = {k: float(v) for k, v in _bone_lengths(use, model_pts).items()}

    f = c = None
    if px is not None:
        w_img, h_img = track.image_size
        f = float(focal_px) if focal_px else focal_from_fov(w_img)
        c = np.array([(w_img - 1) / 2.0, (h_img - 1) / 2.0])
    info: dict[str, Any] = {"points": use, "fps": rate, "flagged_frames": int((~good).sum()), "frames": T}
    # Points the clip never shows well (a far arm, legs out of the picture): their joints are the prior's.
    info["unseen_points"] = [n for n, sh in zip(use, shown, strict=True) if not sh]

    say("placing the keypoints in the camera")
    nan = np.where(mask[..., None], 0.0, np.nan)
    if wl is not None:
        obs = _bone_lengths(use, wl + nan)
        pairs = [(model_len[k], float(_nanmedian(v))) for k, v in obs.items() if np.isfinite(_nanmedian(v))]
        if not pairs:
            raise ValueError("no bone (two joints) is visible in any frame: cannot size the body")
        m_, o_ = np.array(pairs).T
        scale = float((m_ * o_).sum() / (o_ * o_).sum())
        cam = scale * wl
        if px is not None:
            t = translations(cam + nan, px + nan[..., :2], f, c)
            ok = np.isfinite(t).all(-1)
            t = fill_frames(t, ok) if ok.any() else np.tile([0.0, 0.0, 3.0], (T, 1))
            t[:, 2] = median_filter(t[:, 2], size=min(7, T), mode="nearest")  # depth: the noisiest component
        else:
            t = np.tile([0.0, 0.0, 3.0], (T, 1))
        cam = cam + t[:, None]
        info["world_scale"] = scale
    else:
        obs = _bone_lengths(use, px + nan[..., :2])
        ratio = []
        for k, v in obs.items():
            ratio.append(np.where(v > 1.0, model_len[k] / np.where(v > 1.0, v, 1.0), np.nan))
        r = np.array(ratio)  # (bones, T): metres per pixel; foreshortening only shortens pixel lengths
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            per_frame = np.nanmedian(r, axis=0)
        if not np.isfinite(per_frame).any():
            raise ValueError("no bone (two joints) is visible in any frame: cannot size the body")
        z = f * float(np.nanpercentile(per_frame, 20))
        xy = (px - c) / f * z
        cam = np.concatenate([xy, np.full(px.shape[:-1] + (1,), z)], -1)
        cam[..., 2] += side_depths(use, xy, model_pts, px + nan[..., :2])
        info["depth_m"] = z
    pts_w0 = np.where(mask[..., None], cam * np.array([1.0, -1.0, -1.0]), np.nan)  # camera -> Y-up working frame

    say("solving inverse kinematics")
    # IK costs per frame: solve at ~IK_FPS and interpolate (the motion is low-passed at 6 Hz anyway).
    step = max(1, int(rate // IK_FPS))
    sub = np.unique(np.r_[np.arange(0, T, step), T - 1])
    # Without the knees (seen surely) the pelvis' tilt cannot be told from the spine's flexion (the IK
    # flipped between the two from frame to frame on the curl video): the trunk is then solved as one
    # rigid piece, and the legs' points the estimator guessed at the picture's edge are dropped (one
    # half-seen knee gave 29 deg of hip adduction there), leaving the legs standing.
    knees = [use.index(n) for n in ("right_knee", "left_knee") if n in use]
    # The spine stays free otherwise: holding it rigid everywhere helped a generated squat (hip RMSE
    # 13 -> 7 deg) but not the real OpenCap squat (8 -> 15 deg), whose lumbar spine flexes.
    spine = None
    if not any(np.median(conf[:, k]) >= flag_below for k in knees):
        spine = {n: 0.0 for n in body.dof_names if n.startswith(("lumbar_", "thoracic_"))}
        info["spine_locked"] = True
        legs = [k for k, n in enumerate(use) if n.endswith(("_knee", "_ankle", "_heel", "_foot_index"))]
        pts_w0[:, legs] = np.nan
        mask[:, legs] = False
    mot = keypoint_ik(use, pts_w0[sub], rate / step, body=body, scale=False, floor=False, metadata=metadata,
                      locked=spine, prior_weight=SPINE_PRIOR)  # fmt: skip
    q_sub = mot.q.numpy()
    q_sub[:, 3:] = np.unwrap(q_sub[:, 3:], axis=0)
    q = CubicSpline(grid[sub], q_sub, axis=0)(grid) if len(sub) > 3 else fill_from(q_sub, sub, T)
    if refine if refine is not None else px is not None:
        if px is None:
            raise ValueError("refinement by reprojection needs pixels")
        say("refining by reprojection")
        q_good = _refine_reprojection(body, ms, q[good], px[good], mask[good], f, c, track.image_size[1])
        q[good] = q_good
    q[:, 3:] = np.unwrap(q[:, 3:], axis=0)
    q = fill_frames(q, good)

    # Reprojection error of the fit, in the working frame (before the world turn).
    rep = np.full(T, np.nan)
    if px is not None:
        with torch.no_grad():
            uv = project_working(marker_positions(body, torch.tensor(q), ms), f, c).numpy()
        d = np.where(mask, np.linalg.norm(uv - np.nan_to_num(px), axis=-1), np.nan)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            rep = np.sqrt(np.nanmean(d**2, axis=1))

    if cutoff_hz is not None and T > 15 and cutoff_hz < 0.45 * rate:
        q = Motion(torch.tensor(q), rate, body).filtered(cutoff_hz).q.numpy()

    say("finding the floor")
    # The floor from the feet only where they are surely seen (as the knees for the spine, above).
    feet_seen = [n for k, n in enumerate(use) if n in _FEET and np.median(conf[:, k]) >= flag_below]
    q, floor_from, tilt = to_world(body, q, feet_seen, rate)
    info.update(floor_from=floor_from, camera_tilt_deg=tilt, focal_px=f,
                median_reprojection_px=float(_nanmedian(rep)) if np.isfinite(rep).any() else None)  # fmt: skip
    meta = {**mot.metadata, **(metadata or {}), "video_fit": info}
    meta.pop("scale_factors", None)
    motion = Motion(torch.tensor(q), rate, body, meta)
    return CameraFit(motion, grid, frame_conf, ~good, rep, f, floor_from, tilt, info)
