"""Video frames in: a file (mp4, mov, avi, webm, mkv), a folder of images or a live camera, streamed.

:func:`open_video` gives a :class:`FrameSource`: iterating it yields :class:`Frame` objects one at a
time (BGR ``uint8`` images, OpenCV's order) with their presentation time in seconds, so a 2-hour
video is never held in memory. Frame times come from the container's timestamps (variable frame
rates are common in phone video); a folder of images is read in name order at a stated rate. The
rotation a phone records in the metadata (portrait video stored landscape) is applied here, by us
rather than by the backend, so that every OpenCV build gives the same upright frames. A file that
is not a video, has no decodable frame, or stops early (truncated) is a
:class:`~musclepose.io.errors.FormatError` naming the file (and the frame where it stopped), or
``truncated_at`` says where the decodable part ended. OpenCV (``pip install musclepose[video]``)
is imported on first use: it is an optional heavy dependency.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import FormatError

__all__ = [
    "IMAGE_SUFFIXES",
    "VIDEO_SUFFIXES",
    "CameraSource",
    "Frame",
    "FrameSource",
    "ImageFolderSource",
    "VideoFileSource",
    "is_video_input",
    "open_video",
    "rotate_upright",
]

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".webm", ".mkv", ".m4v")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


def _cv2() -> Any:
    try:
        import cv2  # optional heavy dependency (the "video" extra)
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("video input needs OpenCV: pip install 'musclepose[video]'") from err
    return cv2


@dataclass(frozen=True)
class Frame:
    """One upright frame: its index in the source, presentation time (s) and BGR ``(H, W, 3)`` image."""

    index: int
    time_s: float
    image: np.ndarray


@dataclass
class FrameSource:
    """Frames of one source, streamed by iteration (base class; see :func:`open_video`).

    Attributes
    ----------
    name : str
        The file, folder or ``camera N``.
    fps : float or None
        The nominal frame rate (containers state one; frame times are what counts).
    n_frames : int or None
        Frames the container claims (None for a camera).
    size : (width, height)
        Upright image size in pixels.
    rotation_deg : int
        Clockwise rotation applied to the stored frames (0, 90, 180, 270).
    truncated_at : int or None
        Set after iteration when the file ended before the frame count it claims.
    """

    name: str
    fps: float | None
    n_frames: int | None
    size: tuple[int, int]
    rotation_deg: int = 0
    truncated_at: int | None = field(default=None, init=False)

    def __iter__(self) -> Iterator[Frame]:  # pragma: no cover - abstract
        raise NotImplementedError


def rotate_upright(image: np.ndarray, rotation_deg: int) -> np.ndarray:
    """``image`` turned clockwise by ``rotation_deg`` (0, 90, 180 or 270), the display rotation a
    phone stores for portrait video."""
    k = (int(rotation_deg) // 90) % 4
    # np.rot90 turns counter-clockwise; a view, so no copy for the common landscape case.
    return image if k == 0 else np.ascontiguousarray(np.rot90(image, -k))


class VideoFileSource(FrameSource):
    """A video file read with OpenCV's FFmpeg backend; times from the container's timestamps."""

    def __init__(self, path: str | Path) -> None:
        cv2 = _cv2()
        self.path = Path(path)
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            raise FormatError(self.path, "not a video OpenCV can open (no video stream or an unknown container)")
        try:
            # Rotation is applied by rotate_upright, the same on every build (some apply it, some not).
            cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0)
            rotation = int(round(cap.get(cv2.CAP_PROP_ORIENTATION_META) or 0)) % 360
            ok, first = cap.read()
            if not ok or first is None:
                raise FormatError(self.path, "no decodable video frame (corrupt or truncated file)", frame=0)
            fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
            count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        finally:
            cap.release()
        h, w = rotate_upright(first, rotation).shape[:2]
        super().__init__(str(self.path), fps if np.isfinite(fps) and fps > 0 else None, count or None, (w, h), rotation)

    def __iter__(self) -> Iterator[Frame]:
        cv2 = _cv2()
        cap = cv2.VideoCapture(str(self.path))
        cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0)
        period = 1.0 / (self.fps or 30.0)
        last = -np.inf
        i = 0
        try:
            while True:
                ok, image = cap.read()
                if not ok or image is None:
                    break
                t = float(cap.get(cv2.CAP_PROP_POS_MSEC)) / 1000.0
                # A backend without timestamps (or a broken one) reports 0 or repeats: fall back to
                # the nominal rate rather than give two frames one time.
                if not np.isfinite(t) or t <= last:
                    t = last + period if np.isfinite(last) else 0.0
                last = t
                yield Frame(i, t, rotate_upright(image, self.rotation_deg))
                i += 1
        finally:
            cap.release()
        # Containers over-count by a frame or two (edit lists, B-frame delay); a shortfall of more
        # than 2 % is a file cut short.
        if self.n_frames is not None and i < 0.98 * self.n_frames - 1:
            self.truncated_at = i


class ImageFolderSource(FrameSource):
    """Images (png, jpg, bmp) of a folder in name order at ``fps`` (default 30 Hz)."""

    def __init__(self, folder: str | Path, fps: float | None = None) -> None:
        cv2 = _cv2()
        self.folder = Path(folder)
        self.files = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not self.files:
            raise FormatError(self.folder, f"no images ({', '.join(IMAGE_SUFFIXES)}) in this folder")
        first = cv2.imread(str(self.files[0]), cv2.IMREAD_COLOR)
        if first is None:
            raise FormatError(self.files[0], "not an image OpenCV can read", frame=0)
        rate = float(fps) if fps else 30.0
        super().__init__(str(self.folder), rate, len(self.files), (first.shape[1], first.shape[0]))

    def __iter__(self) -> Iterator[Frame]:
        cv2 = _cv2()
        for i, p in enumerate(self.files):
            image = cv2.imread(str(p), cv2.IMREAD_COLOR)
            if image is None:
                raise FormatError(p, "not an image OpenCV can read", frame=i)
            yield Frame(i, i / float(self.fps or 30.0), image)


class CameraSource(FrameSource):
    """A live camera (``cv2.VideoCapture(index)``), timed by the monotonic clock; ``max_frames`` or
    ``stop()`` ends it. ``grab`` replaces the capture for tests (a fake frame source): it is called
    with no argument and returns a BGR image or None at the end; ``fps`` then times its frames at that
    nominal rate instead of the clock (a recorded stream replayed as fast as it is consumed)."""

    def __init__(self, index: int = 0, *, grab: Callable[[], np.ndarray | None] | None = None,
                 max_frames: int | None = None, fps: float | None = None) -> None:  # fmt: skip
        self._cap = None
        if grab is None:
            cv2 = _cv2()
            cap = cv2.VideoCapture(int(index))
            if not cap.isOpened():
                raise FormatError(f"camera {index}", "cannot open this camera (no device, or it is in use)")
            self._cap = cap

            def grab() -> np.ndarray | None:
                ok, image = cap.read()
                return image if ok else None

        self._grab = grab
        self._stop = False
        self.max_frames = max_frames
        first = grab()
        if first is None:
            raise FormatError(f"camera {index}", "the camera delivered no frame", frame=0)
        self._first = first
        super().__init__(f"camera {index}", fps, None, (first.shape[1], first.shape[0]))

    def stop(self) -> None:
        """End the stream after the current frame."""
        self._stop = True

    def __iter__(self) -> Iterator[Frame]:
        t0 = time.monotonic()
        image, i = self._first, 0
        try:
            while image is not None and not self._stop and (self.max_frames is None or i < self.max_frames):
                yield Frame(i, i / self.fps if self.fps else time.monotonic() - t0, image)
                i += 1
                image = self._grab()
        finally:
            if self._cap is not None:
                self._cap.release()


def is_video_input(path: str | Path) -> bool:
    """Whether ``path`` is a video file (by extension) or a folder holding images."""
    p = Path(path)
    if p.is_dir():
        return any(c.suffix.lower() in IMAGE_SUFFIXES for c in p.iterdir())
    return p.suffix.lower() in VIDEO_SUFFIXES


def open_video(path: str | Path, fps: float | None = None) -> FrameSource:
    """A :class:`FrameSource` for a video file or an image folder (``fps`` for a folder).

    Raises :class:`~musclepose.io.errors.FormatError` naming the file when it does not exist, is
    empty, or is not a video with at least one decodable frame."""
    p = Path(path)
    if p.is_dir():
        return ImageFolderSource(p, fps)
    if not p.is_file():
        raise FormatError(p, "no such file")
    if p.stat().st_size == 0:
        raise FormatError(p, "empty file")
    if p.suffix.lower() not in VIDEO_SUFFIXES:
        raise FormatError(p, f"not a video file type {p.suffix!r}; supported: {', '.join(VIDEO_SUFFIXES)}")
    return VideoFileSource(p)
