"""2-D keypoints in OpenPose's COCO-18 order: Pose Trainer's ``.npy`` files and conversions to it.

Pose Trainer (Chen & Yang 2018) stores each trimmed exercise video as a float64 array
``(T, 18, 3)``: x, y in pixels (x right, y down) and OpenPose's confidence, in the order
:data:`OPENPOSE18` (COCO-17 plus a neck, reordered); an undetected keypoint is ``(0, 0, 0)``.
The file name says the exercise and the label: ``bicep_bad_3.npy``, ``shoulderpressgood12.npy``
(:func:`parse_pose_trainer_name`). Every 2-D form model reads this layout:
:func:`openpose18_from_keypoints` converts a COCO-17 or MediaPipe-33 :class:`~.keypoints.KeypointData`
(the neck is the shoulders' midpoint, as sure as the less sure shoulder; normalised coordinates are
scaled to pixels when the image size is known). Arrays are read with ``allow_pickle=False``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .errors import FormatError
from .keypoints import KeypointData

__all__ = [
    "OPENPOSE18",
    "POSE_TRAINER_EXERCISES",
    "openpose18_from_keypoints",
    "parse_pose_trainer_name",
    "pose_trainer_videos",
    "read_openpose_npy",
]

OPENPOSE18: tuple[str, ...] = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow", "left_wrist",
    "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
)  # fmt: skip
#: Pose Trainer's folder / file-name stem -> catalogue exercise.
POSE_TRAINER_EXERCISES: dict[str, str] = {
    "bicep": "bicep_curl", "frontraise": "front_raise", "shoulderpress": "overhead_press",
    "shouldershrug": "shoulder_shrug",
}  # fmt: skip
_NAME = re.compile(r"^([a-z]+?)_?(good|bad)_?(\d+)\.npy$", re.IGNORECASE)


def parse_pose_trainer_name(path: str | Path) -> tuple[str, bool, int] | None:
    """``(exercise, good, number)`` from a Pose Trainer file name (the catalogue's exercise name),
    None when the name does not follow the pattern or names another exercise."""
    m = _NAME.match(Path(path).name)
    if m is None or m[1].lower() not in POSE_TRAINER_EXERCISES:
        return None
    return POSE_TRAINER_EXERCISES[m[1].lower()], m[2].lower() == "good", int(m[3])


def read_openpose_npy(path: str | Path) -> np.ndarray:
    """A ``(T, 18, 3)`` float64 array of OpenPose COCO-18 keypoints (x, y pixels, confidence).

    Raises
    ------
    FormatError
        Not a NumPy array file, an object (pickled) array, another shape, no frames, or a
        non-finite value or negative confidence (naming the frame and keypoint).
    """
    path = Path(path)
    try:
        a = np.load(path, allow_pickle=False)
    except ValueError as err:  # an object array needs pickle: refused
        raise FormatError(path, f"not a plain numeric array ({err})") from None
    except (OSError, EOFError) as err:
        raise FormatError(path, f"not a NumPy .npy file ({err})") from None
    if not isinstance(a, np.ndarray) or a.dtype.kind not in "fiu":
        raise FormatError(path, f"expected a numeric array, got {getattr(a, 'dtype', type(a))}")
    if a.ndim != 3 or a.shape[1:] != (18, 3):
        raise FormatError(path, f"shape {a.shape}: expected (frames, 18, 3) OpenPose COCO-18 keypoints (x, y, c)")
    if len(a) == 0:
        raise FormatError(path, "no frames")
    a = a.astype(np.float64)
    bad = ~np.isfinite(a)
    if bad.any():
        t, k, _ = np.argwhere(bad)[0]
        raise FormatError(path, "NaN or infinite value", frame=int(t), field=OPENPOSE18[int(k)])
    if (a[..., 2] < 0).any():
        t, k = np.argwhere(a[..., 2] < 0)[0]
        raise FormatError(path, "negative confidence", frame=int(t), field=OPENPOSE18[int(k)])
    return a


def openpose18_from_keypoints(data: KeypointData) -> np.ndarray:
    """``(T, 18, 3)`` OpenPose COCO-18 pixels and confidence from 2-D or 3-D image keypoints.

    Missing keypoints (NaN) become ``(0, 0, 0)``. Normalised coordinates are multiplied by the image
    size when the file gives it; otherwise left as they are (every 2-D form feature is a ratio or an
    angle, so a uniform scale does not change it; a non-square image's aspect does)."""
    names = list(data.names)
    xy = np.asarray(data.positions[..., :2], dtype=np.float64)
    if data.normalized and data.image_size is not None:
        xy = xy * np.asarray(data.image_size, dtype=np.float64)
    conf = np.asarray(data.confidence, dtype=np.float64)
    out = np.zeros((data.n_frames, len(OPENPOSE18), 3))
    for j, n in enumerate(OPENPOSE18):
        if n == "neck":
            a, b = names.index("left_shoulder"), names.index("right_shoulder")
            out[:, j, :2] = 0.5 * (xy[:, a] + xy[:, b])
            out[:, j, 2] = np.minimum(conf[:, a], conf[:, b])
        else:
            k = names.index(n)
            out[:, j, :2], out[:, j, 2] = xy[:, k], conf[:, k]
    missing = ~np.isfinite(out).all(-1)
    out[missing] = 0.0
    return out


def pose_trainer_videos(root: str | Path) -> list[Path]:
    """Every Pose Trainer ``.npy`` under ``root`` (recursively) whose name says exercise and label, sorted."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder")
    files = [p for p in root.rglob("*.npy") if parse_pose_trainer_name(p) is not None]

    def key(p: Path) -> tuple:
        ex, good, k = parse_pose_trainer_name(p)  # type: ignore[misc]
        return ex, not good, k

    return sorted(files, key=key)
