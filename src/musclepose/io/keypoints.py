"""Keypoint JSON from video pose estimators (COCO-17 and MediaPipe-33): reader and writer.

The accepted layouts are decoded by :mod:`.keypoint_layouts`. ``positions`` are ``(T, K, D)``
image coordinates, ``D`` = 2 (x, y) or 3 (x, y, z), x to the right and y *down*; ``K`` follows
:mod:`musclepose.body.landmarks` (``COCO17`` or ``MEDIAPIPE33``). ``normalized=True``: x and y
are fractions of the image size (MediaPipe; its z is relative depth on the scale of x), else
pixels; when the file does not say, coordinates are normalised if every x and y lies within
``[-1, 2]`` (normalised landmarks may spill past the border: the real MediaPipe sample reaches
x = -0.30, but no person fits within two pixels of the corner). A frame with no person has NaN
positions and confidence 0 (:attr:`KeypointData.empty_frames`); any other missing or
non-finite value is a :class:`~musclepose.io.errors.FormatError` naming the frame (0-based)
and the keypoint.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .atomic import atomic_write
from .errors import FormatError
from .keypoint_layouts import KEYPOINT_LAYOUTS, Layout, decode_keypoints, finite_number, keypoint_names

__all__ = ["KEYPOINT_LAYOUTS", "KeypointData", "keypoint_names", "read_keypoints", "write_keypoints"]

_NORMALIZED_RANGE = (-1.0, 2.0)


@dataclass
class KeypointData:
    """Per-frame 2D or 3D keypoints of one person.

    Attributes
    ----------
    path : Path or None
        Source file.
    layout : {"mediapipe33", "coco17"}
        Keypoint set.
    names : tuple of str
        ``K`` keypoint names (``COCO17`` or ``MEDIAPIPE33``).
    positions : np.ndarray
        ``(T, K, D)`` with ``D`` 2 or 3; image coordinates (x right, y down), normalised or
        pixels; NaN where nothing was detected.
    confidence : np.ndarray
        ``(T, K)`` detector confidence (visibility / score), 0 where nothing was detected.
    normalized : bool
        Whether x, y are fractions of the image size.
    image_size : tuple of int or None
        ``(width, height)`` in pixels when the file gives it.
    fps : float or None
        Frame rate when the file or the caller gives it.
    """

    path: Path | None
    layout: Layout
    names: tuple[str, ...]
    positions: np.ndarray
    confidence: np.ndarray
    normalized: bool
    image_size: tuple[int, int] | None
    fps: float | None

    @property
    def n_frames(self) -> int:
        """Number of frames ``T``."""
        return int(self.positions.shape[0])

    @property
    def dims(self) -> int:
        """2 for (x, y), 3 for (x, y, z)."""
        return int(self.positions.shape[-1])

    @property
    def empty_frames(self) -> np.ndarray:
        """Indices of the frames with no person (every keypoint NaN)."""
        return np.flatnonzero(np.isnan(self.positions).all(axis=(1, 2)))


def read_keypoints(path: str | Path, fps: float | None = None) -> KeypointData:
    """Read a keypoint JSON file in any of the layouts of this module.

    Parameters
    ----------
    path : str or Path
        The JSON file.
    fps : float, optional
        Frame rate; overrides an ``"fps"`` field in the file (the per-frame layouts have none).

    Returns
    -------
    KeypointData

    Raises
    ------
    FormatError
        Invalid JSON (with its line), an unrecognised structure, a keypoint count that is
        neither 17 nor 33 or changes between frames, a missing coordinate or confidence, a
        non-numeric, NaN or inf value (naming frame and keypoint), or no frames at all.
    """
    path = Path(path)
    if fps is not None and not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number; got {fps}")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise FormatError(path, f"cannot read: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise FormatError(path, f"not UTF-8 text (byte {e.start})") from None
    if not text.strip():
        raise FormatError(path, "empty file")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise FormatError(path, f"invalid JSON: {e.msg} (column {e.colno})", line=e.lineno) from None

    layout, positions, confidence, meta = decode_keypoints(path, doc)

    normalized = meta.get("normalized")
    if normalized is None:
        xy = positions[..., :2]
        xy = xy[np.isfinite(xy)]
        lo, hi = _NORMALIZED_RANGE
        normalized = bool(xy.size) and bool(xy.min() >= lo and xy.max() <= hi)
    elif not isinstance(normalized, bool):
        raise FormatError(path, f"'normalized' must be true or false; got {normalized!r}", field="normalized")
    file_fps = meta.get("fps")
    if file_fps is not None and not (finite_number(file_fps) and file_fps > 0):
        raise FormatError(path, f"'fps' must be a positive number; got {file_fps!r}", field="fps")
    return KeypointData(
        path=path,
        layout=layout,
        names=keypoint_names(layout),
        positions=positions,
        confidence=confidence,
        normalized=normalized,
        image_size=_image_size(path, meta),
        fps=float(fps) if fps is not None else (None if file_fps is None else float(file_fps)),
    )


def _image_size(path: Path, meta: dict) -> tuple[int, int] | None:
    size = meta.get("image_size")
    if size is None and "width" in meta and "height" in meta:
        size = [meta["width"], meta["height"]]
    if size is None:
        return None
    if not (isinstance(size, list) and len(size) == 2 and all(finite_number(v) and v > 0 for v in size)):
        raise FormatError(path, f"'image_size' must be [width, height] in pixels; got {size!r}", field="image_size")
    return int(size[0]), int(size[1])


def write_keypoints(path: str | Path, data: KeypointData) -> Path:
    """Write ``data`` in the generic layout (atomically), one frame per line.

    Empty frames are written as ``null``, keypoints with a NaN coordinate as ``null``;
    everything else round-trips exactly through :func:`read_keypoints`.

    Parameters
    ----------
    path : str or Path
        Destination ``.json`` file.
    data : KeypointData
        The keypoints.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    ValueError
        If shapes disagree with the layout or a confidence is not finite.
    """
    path = Path(path)
    if data.layout not in KEYPOINT_LAYOUTS:
        raise ValueError(f"unknown layout {data.layout!r}")
    names = keypoint_names(data.layout)
    T, K = data.confidence.shape if data.confidence.ndim == 2 else (-1, -1)
    if data.positions.shape[:2] != (T, K) or K != len(names) or data.dims not in (2, 3):
        raise ValueError(f"positions {data.positions.shape} and confidence {data.confidence.shape} do not fit {K}")
    if not np.isfinite(data.confidence).all():
        raise ValueError("confidence contains NaN or inf")
    header = {
        "format": "musclepose-keypoints",
        "layout": data.layout,
        "names": list(names),
        "fps": data.fps,
        "normalized": bool(data.normalized),
        "image_size": None if data.image_size is None else list(data.image_size),
        "dims": data.dims,
    }
    lines = []
    missing = np.isnan(data.positions).any(axis=-1)
    for t in range(T):
        if missing[t].all():
            lines.append("null")
            continue
        frame = [
            None if missing[t, i] else [*data.positions[t, i].tolist(), float(data.confidence[t, i])] for i in range(K)
        ]
        lines.append(json.dumps(frame, separators=(",", ":"), allow_nan=False))
    head = json.dumps(header, allow_nan=False)[:-1]
    with atomic_write(path, mode="w", newline="\n") as f:
        f.write(head + ', "frames": [\n' + ",\n".join(lines) + "\n]}\n")
    return path
