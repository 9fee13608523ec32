"""Pose from video: MediaPipe Pose on every frame -> :class:`VideoPose` -> a Motion on the body.

:class:`PoseEstimator` runs MediaPipe Pose (``mediapipe==0.10.14``, whose wheel ships
``pose_detection.tflite`` and ``pose_landmark_full.tflite``: offline, nothing downloaded) on one
BGR frame. :func:`extract_pose` streams a :class:`~musclepose.io.video.FrameSource` through it
into a :class:`VideoPose`: per frame the 33 image landmarks (pixels, x right, y down, of the
upright frame), their visibility, the 3-D world landmarks (m, camera axes: x right, y down, z away
from the camera, origin between the hips) and the frame's time. Only landmarks are kept (float32,
about 1 kB a frame), so memory does not grow with the images. Frames with no person are NaN with
visibility 0; a jump of the detected person across the image in one frame (the tracker switching
to someone else) is flagged. :meth:`VideoPose.to_coco17` and :meth:`VideoPose.to_openpose18` give
the 2-D keypoints in the orders other models read; :func:`video_motion` fits the body to them
(:func:`~musclepose.motion.video_fit.fit_camera_keypoints`).
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..body.landmarks import COCO17, MEDIAPIPE33
from ..io.errors import FormatError
from ..io.video import FrameSource, open_video
from ..motion.video_fit import CameraFit, KeypointTrack, fit_camera_keypoints

__all__ = [
    "OPENPOSE18",
    "PoseEstimator",
    "KeyFrame",
    "VideoPose",
    "VideoResult",
    "extract_pose",
    "video_file_motion",
    "video_motion",
]

# OpenPose's COCO-18 order (Pose Trainer's .npy files): COCO-17 with a neck and another order.
OPENPOSE18 = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow", "left_wrist",
    "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
)  # fmt: skip
SWITCH_FRACTION = 0.2  # the hips' centre moving this fraction of the image width in one frame: another person
_INFER_MAX_SIDE = 640  # frames are shrunk to this long side before inference (the model sees 256x256)


class PoseEstimator:
    """MediaPipe Pose in tracking mode (legacy ``solutions`` API: the one whose models are in the wheel).

    ``model_complexity`` 1 is ``pose_landmark_full.tflite``. Call with a BGR ``uint8`` image; returns
    ``(xy (33, 2) normalised, visibility (33,), world (33, 3) m)`` or None when nobody is found.
    """

    def __init__(self, model_complexity: int = 1, min_detection_confidence: float = 0.5) -> None:
        os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ start-up chatter
        # mediapipe 0.10.14 calls a protobuf API that protobuf 4.25 marks deprecated, once per frame.
        warnings.filterwarnings("ignore", message="SymbolDatabase.GetPrototype", category=UserWarning)
        try:
            import cv2
            from mediapipe.python.solutions import pose as mp_pose  # optional heavy dependency
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError("video input needs MediaPipe: pip install 'musclepose[video]'") from err
        self._cv2 = cv2
        self._pose = mp_pose.Pose(
            static_image_mode=False, model_complexity=model_complexity, smooth_landmarks=True,
            min_detection_confidence=min_detection_confidence, min_tracking_confidence=0.5,
        )  # fmt: skip

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        cv2 = self._cv2
        h, w = image.shape[:2]
        s = _INFER_MAX_SIDE / max(h, w)
        if s < 1.0:
            image = cv2.resize(image, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
        res = self._pose.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        if res.pose_landmarks is None or res.pose_world_landmarks is None:
            return None
        lm = res.pose_landmarks.landmark
        xy = np.array([(p.x, p.y) for p in lm], dtype=np.float32)
        vis = np.array([p.visibility for p in lm], dtype=np.float32)
        world = np.array([(p.x, p.y, p.z) for p in res.pose_world_landmarks.landmark], dtype=np.float32)
        return xy, vis, world

    def close(self) -> None:
        self._pose.close()

    def __enter__(self) -> PoseEstimator:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


@dataclass
class VideoPose:
    """MediaPipe-33 landmarks of one person over the frames of a video (module docstring).

    Attributes
    ----------
    source : str
        The file, folder or camera.
    times_s : (T,)
        Frame presentation times (s), increasing; variable frame rates are kept as they are.
    fps : float
        Median frame rate.
    image_size : (width, height)
        Of the upright frames, pixels.
    image_xy : (T, 33, 2) float32
        Image landmarks in pixels; NaN where no person.
    visibility : (T, 33) float32
        MediaPipe's visibility in [0, 1]; 0 where no person.
    world : (T, 33, 3) float32
        World landmarks in m (camera axes, origin between the hips); NaN where no person.
    person : (T,) bool
        A person was detected.
    switched : (T,) bool
        The detection jumped to another place in the image (probably another person).
    rotation_deg, truncated_at
        From the frame source.
    """

    source: str
    times_s: np.ndarray
    fps: float
    image_size: tuple[int, int]
    image_xy: np.ndarray
    visibility: np.ndarray
    world: np.ndarray
    person: np.ndarray
    switched: np.ndarray
    rotation_deg: int = 0
    truncated_at: int | None = None
    names: tuple[str, ...] = field(default=MEDIAPIPE33)

    @property
    def n_frames(self) -> int:
        return int(len(self.times_s))

    @property
    def confidence(self) -> np.ndarray:
        """Per-landmark confidence ``(T, 33)``: visibility, 0 where no person or a switched frame."""
        return np.where((self.person & ~self.switched)[:, None], self.visibility, 0.0).astype(np.float32)

    def _keypoints(self, order: tuple[str, ...]) -> np.ndarray:
        out = np.zeros((self.n_frames, len(order), 3), dtype=np.float32)
        conf = self.confidence
        for j, n in enumerate(order):
            if n == "neck":  # OpenPose's neck: the shoulders' midpoint, as sure as the less sure shoulder
                a, b = MEDIAPIPE33.index("left_shoulder"), MEDIAPIPE33.index("right_shoulder")
                out[:, j, :2] = 0.5 * (self.image_xy[:, a] + self.image_xy[:, b])
                out[:, j, 2] = np.minimum(conf[:, a], conf[:, b])
            else:
                k = MEDIAPIPE33.index(n)
                out[:, j, :2], out[:, j, 2] = self.image_xy[:, k], conf[:, k]
        # OpenPose and COCO write an undetected keypoint as (0, 0, 0).
        out[~np.isfinite(out).all(-1)] = 0.0
        return out

    def to_coco17(self) -> np.ndarray:
        """``(T, 17, 3)`` x, y (pixels), confidence in COCO-17 order; (0, 0, 0) where not detected."""
        return self._keypoints(COCO17)

    def to_openpose18(self) -> np.ndarray:
        """``(T, 18, 3)`` x, y (pixels), confidence in OpenPose's COCO-18 order (:data:`OPENPOSE18`, as
        Pose Trainer's files); (0, 0, 0) where not detected."""
        return self._keypoints(OPENPOSE18)

    def track(self) -> KeypointTrack:
        """The detections as the body fitter reads them (pixels and world landmarks)."""
        ok = (self.person & ~self.switched)[:, None, None]
        return KeypointTrack(
            names=self.names, times_s=self.times_s.astype(np.float64), confidence=self.confidence.astype(np.float64),
            pixels=np.where(ok, self.image_xy, np.nan).astype(np.float64),
            world=np.where(ok, self.world, np.nan).astype(np.float64), image_size=self.image_size,
        )  # fmt: skip


def _switches(xy: np.ndarray, person: np.ndarray, width: int) -> np.ndarray:
    """Frames whose hip centre jumped more than :data:`SWITCH_FRACTION` of the width since the last detection."""
    hips = 0.5 * (xy[:, MEDIAPIPE33.index("left_hip")] + xy[:, MEDIAPIPE33.index("right_hip")])
    out = np.zeros(len(xy), dtype=bool)
    last = None
    for t in np.flatnonzero(person):
        if last is not None and np.linalg.norm(hips[t] - hips[last]) > SWITCH_FRACTION * width:
            out[t] = True
        last = t
    return out


def extract_pose(
    source: FrameSource | str | Path,
    *,
    estimator: Callable[[np.ndarray], Any] | None = None,
    fps: float | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> VideoPose:
    """Run the pose estimator over every frame of ``source`` (a FrameSource, a video file or an image folder).

    ``estimator`` defaults to :class:`PoseEstimator`; ``fps`` is the rate of an image folder;
    ``progress(done, total)`` is told after each frame. Raises
    :class:`~musclepose.io.errors.FormatError` when the source has no decodable frame.
    """
    src = source if isinstance(source, FrameSource) else open_video(source, fps)
    own = estimator is None
    est = PoseEstimator() if own else estimator
    times: list[float] = []
    xy, vis, world = [], [], []
    w, h = src.size
    nan2, nan3, zero = (np.full((33, 2), np.nan, np.float32), np.full((33, 3), np.nan, np.float32),
                        np.zeros(33, np.float32))  # fmt: skip
    try:
        for frame in src:
            fh, fw = frame.image.shape[:2]
            if (fw, fh) != (w, h):
                raise FormatError(src.name, f"the frame size changed from {w}x{h} to {fw}x{fh}", frame=frame.index)
            out = est(frame.image)
            times.append(frame.time_s)
            if out is None:
                xy.append(nan2), vis.append(zero), world.append(nan3)
            else:
                p, v, wl = out
                xy.append(np.asarray(p, np.float32) * np.array([w, h], np.float32))
                vis.append(np.asarray(v, np.float32))
                world.append(np.asarray(wl, np.float32))
            if progress is not None:
                progress(len(times), src.n_frames)
    finally:
        if own:
            est.close()
    if not times:
        raise FormatError(src.name, "no decodable video frame", frame=0)
    t = np.asarray(times, dtype=np.float64)
    xy_a, vis_a, world_a = np.stack(xy), np.stack(vis), np.stack(world)
    person = np.isfinite(xy_a).all((-1, -2))
    rate = float(1.0 / np.median(np.diff(t))) if len(t) > 1 else float(src.fps or 30.0)
    return VideoPose(
        source=src.name, times_s=t, fps=rate, image_size=(w, h), image_xy=xy_a, visibility=vis_a, world=world_a,
        person=person, switched=_switches(xy_a, person, w), rotation_deg=src.rotation_deg,
        truncated_at=src.truncated_at,
    )  # fmt: skip


def video_motion(
    pose: VideoPose,
    *,
    height_m: float = 1.75,
    mass_kg: float = 70.0,
    sex: str = "male",
    focal_px: float | None = None,
    progress: Callable[[str], None] | None = None,
) -> CameraFit:
    """The body fitted to a video's landmarks (:func:`~musclepose.motion.video_fit.fit_camera_keypoints`).

    Raises :class:`~musclepose.io.errors.FormatError` naming the video when no frame shows a person
    well enough to fit (no person in the video, or only part of one)."""
    if not pose.person.any():
        raise FormatError(pose.source, f"no person detected in any of its {pose.n_frames} frames")
    meta = {"source": pose.source, "layout": "mediapipe33", "estimator": "MediaPipe Pose 0.10.14 (full)"}
    try:
        return fit_camera_keypoints(pose.track(), height_m=height_m, mass_kg=mass_kg, sex=sex, focal_px=focal_px,
                                    progress=progress, metadata=meta)  # fmt: skip
    except ValueError as err:
        raise FormatError(pose.source, f"cannot fit a body: {err}") from None


LOW_CONFIDENCE_SHARE = 0.2  # a repetition with more than this share of flagged frames is marked


@dataclass
class KeyFrame:
    """A frame picked for the report: what it shows, the image (BGR, at most 480 px wide) and its landmarks
    (pixels of that image, visibility)."""

    label: str
    time_s: float
    image: np.ndarray
    xy: np.ndarray
    visibility: np.ndarray


@dataclass
class VideoResult:
    """A video's landmarks, the body fitted to them, the seconds each stage took and, once
    :meth:`pick_key_frames` ran, the frames the report draws the skeleton on."""

    pose: VideoPose
    fit: CameraFit
    timings_s: dict[str, float] = field(default_factory=dict)
    key_frames: list[KeyFrame] = field(default_factory=list)

    def pick_key_frames(self, analysis: dict[str, Any], faults: list[Any] | None = None, max_reps: int = 4) -> None:
        """Read the start, extreme and end frames of the first ``max_reps`` repetitions and, for each fault,
        the extreme frame of the repetition where it shows (the one whose extreme is furthest from the
        standing start: a proxy for the fault's worst frame), streaming the video once."""
        want: list[tuple[str, float]] = []
        reps = (analysis.get("reps") or [])[:max_reps]
        t0 = float(self.fit.times_s[0])
        for k, r in enumerate(reps):
            want += [(f"rep {k + 1} start", r["start_s"]), (f"rep {k + 1} turn", r["extreme_s"]),
                     (f"rep {k + 1} end", r["end_s"])]  # fmt: skip
        if reps:
            deepest = max(reps, key=lambda r: abs(r.get("depth_knee_flexion_deg") or 0.0))
            for f in faults or []:
                want.append((f"{f.name.replace('_', ' ')}", deepest["extreme_s"]))
        if not want or not Path(self.pose.source).exists():
            return
        times = self.pose.times_s
        index = {int(np.argmin(np.abs(times - (t0 + t)))): (label, t) for label, t in want}
        got: dict[int, np.ndarray] = {}
        for frame in open_video(self.pose.source):
            if frame.index in index:
                got[frame.index] = frame.image
            if len(got) == len(index) or frame.index > max(index):
                break
        w = self.pose.image_size[0]
        s = min(1.0, 480.0 / w)
        for label, t in want:
            i = int(np.argmin(np.abs(times - (t0 + t))))
            if i not in got:
                continue
            img = got[i]
            if s < 1.0:
                import cv2  # optional heavy dependency, present whenever a video was read

                img = cv2.resize(img, (round(img.shape[1] * s), round(img.shape[0] * s)), interpolation=cv2.INTER_AREA)
            self.key_frames.append(KeyFrame(label, float(times[i]), img, self.pose.image_xy[i] * s,
                                            self.pose.confidence[i]))  # fmt: skip

    def loader_info(self) -> dict[str, Any]:
        """What was read and fitted, small enough to print (no NaN)."""
        p, f = self.pose, self.fit
        med = f.info.get("median_reprojection_px")
        return {
            "source": p.source, "layout": "mediapipe33", "estimator": "MediaPipe Pose 0.10.14 (full)",
            "video_frames": p.n_frames, "frames_with_person": int(p.person.sum()),
            "person_switches": int(p.switched.sum()), "video_fps": round(p.fps, 3),
            "image_size": list(p.image_size), "rotation_deg": p.rotation_deg, "truncated_at": p.truncated_at,
            "flagged_frames": int(f.flagged.sum()), "mean_confidence": round(float(f.frame_confidence.mean()), 3),
            "floor_from": f.floor_from, "camera_tilt_deg": round(f.tilt_deg, 1),
            "median_reprojection_px": None if med is None else round(float(med), 2),
            "world_scale": round(float(f.info.get("world_scale", 1.0)), 3),
            "unseen_points": f.info.get("unseen_points", []),
        }  # fmt: skip

    def rep_quality(self, reps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Per repetition (``start_s``/``end_s`` of the analysis' dicts): mean frame confidence, flagged
        frames and ``low_confidence`` when more than :data:`LOW_CONFIDENCE_SHARE` of them are flagged."""
        fps = float(self.fit.motion.fps)
        out = []
        for r in reps:
            a = max(0, int(round(r["start_s"] * fps)))
            b = min(len(self.fit.flagged), int(round(r["end_s"] * fps)) + 1)
            flagged = int(self.fit.flagged[a:b].sum())
            conf = float(self.fit.frame_confidence[a:b].mean()) if b > a else 0.0
            out.append({"confidence": round(conf, 3), "flagged_frames": flagged,
                        "low_confidence": bool(b <= a or flagged > LOW_CONFIDENCE_SHARE * (b - a))})  # fmt: skip
        return out


def video_file_motion(
    path: str | Path,
    *,
    height_m: float = 1.75,
    mass_kg: float = 70.0,
    sex: str = "male",
    fps: float | None = None,
    focal_px: float | None = None,
    estimator: Callable[[np.ndarray], Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> VideoResult:
    """Pose of every frame of a video file or image folder (``fps`` for a folder), then the body fit.

    ``progress(stage)`` is told the stage, and during pose estimation the frame count."""
    say = progress or (lambda stage: None)
    t0 = time.perf_counter()
    src = open_video(path, fps)

    def frames(done: int, total: int | None) -> None:
        if done % 10 == 0:
            rate = done / max(time.perf_counter() - t0, 1e-9)
            say(f"estimating pose, frame {done}{f' of {total}' if total else ''} ({rate:.0f} frames/s)")

    pose = extract_pose(src, estimator=estimator, progress=frames)
    t1 = time.perf_counter()
    fit = video_motion(pose, height_m=height_m, mass_kg=mass_kg, sex=sex, focal_px=focal_px, progress=say)
    return VideoResult(pose, fit, {"pose": t1 - t0, "fit": time.perf_counter() - t1})
