"""DeepMimic reference motions (``humanoid3d_*.txt``): the character's joints as positions.

A DeepMimic motion file (Peng et al. 2018, "DeepMimic", ACM TOG 37(4)) is JSON:
``{"Loop": "wrap"|"none", "Frames": [[dt, root xyz, root quat, chest quat, neck quat,
right hip quat, right knee, right ankle quat, right shoulder quat, right elbow, left hip quat,
left knee, left ankle quat, left shoulder quat, left elbow], ...]}`` — 44 numbers per frame for
the ``humanoid3d`` character: quaternions ``(w, x, y, z)`` of each joint relative to its parent,
knees and elbows hinges about the joint's +Z (radians; knee flexion negative, elbow flexion
positive), ``dt`` the frame's duration (0 on the last). World and rest frames: Y up, X forward,
Z to the character's right, metres; at rest every joint frame is parallel to the world, the
legs and arms hanging straight down — MusclePose's own conventions.

The file holds no skeleton: the joint offsets below are the ``humanoid3d`` character's
(DeepMimic ``data/characters/humanoid3d.txt``, MIT). The foot points (toe, heel) are placed on
the character's foot box (0.177 m long, its sole 0.05 m below the ankle). :func:`read_deepmimic`
returns joint positions by forward kinematics on a uniform time grid (``dt`` may vary: positions
are interpolated linearly in time), named as a BVH would name them so that the skeleton loader
(:func:`musclepose.io.load_skeletons.load_deepmimic`) retargets them like any skeleton.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from .errors import FormatError

__all__ = ["N_VALUES", "DeepMimicClip", "deepmimic_loop", "is_deepmimic", "read_deepmimic"]

N_VALUES = 44  # numbers per frame of a humanoid3d motion

# (name, parent, offset from the parent joint in the parent's frame (m), column of its rotation, hinge?)
# Offsets: DeepMimic's humanoid3d character file. Names: as BVH skeletons name the joints.
_JOINTS: tuple[tuple[str, int, tuple[float, float, float], int | None, bool], ...] = (
    ("Hips", -1, (0.0, 0.0, 0.0), 4, False),  # 0 root (pelvis): position in columns 1-3
    ("Chest", 0, (0.0, 0.236151, 0.0), 8, False),  # 1
    ("Neck", 1, (0.0, 0.223894, 0.0), 12, False),  # 2
    ("RightHip", 0, (0.0, 0.0, 0.084887), 16, False),  # 3
    ("RightKnee", 3, (0.0, -0.421546, 0.0), 20, True),  # 4
    ("RightAnkle", 4, (0.0, -0.40987, 0.0), 21, False),  # 5
    ("RightShoulder", 1, (-0.02405, 0.2435, 0.18311), 25, False),  # 6
    ("RightElbow", 6, (0.0, -0.274788, 0.0), 29, True),  # 7
    ("LeftHip", 0, (0.0, 0.0, -0.084887), 30, False),  # 8
    ("LeftKnee", 8, (0.0, -0.421546, 0.0), 34, True),  # 9
    ("LeftAnkle", 9, (0.0, -0.40987, 0.0), 35, False),  # 10
    ("LeftShoulder", 1, (-0.02405, 0.2435, -0.18311), 39, False),  # 11
    ("LeftElbow", 11, (0.0, -0.274788, 0.0), 43, True),  # 12
)
# End points fixed to a joint's frame: the wrist (the hand's attachment) and the foot box's points.
_ENDS: tuple[tuple[str, int, tuple[float, float, float]], ...] = (
    ("RightWrist", 7, (0.0, -0.258947, 0.0)),
    ("LeftWrist", 12, (0.0, -0.258947, 0.0)),
    ("RightToe", 5, (0.114, -0.0375, 0.0)),  # as far along the foot box as our toe point along our foot
    ("LeftToe", 10, (0.114, -0.0375, 0.0)),
)
#: A point fixed to the pelvis behind the root: it sets the pelvis' tilt, which the hip centres
#: (on one line through the root) leave free.
PELVIS_BACK_M = (-0.1, 0.0, 0.0)


@dataclass
class DeepMimicClip:
    """Joint positions of a DeepMimic motion on a uniform time grid."""

    names: list[str]
    positions: np.ndarray  # (T, J, 3) metres, Y up
    rest: np.ndarray  # (J, 3) rest-pose positions (root at the origin)
    fps: float
    loop: str
    pelvis_back: np.ndarray  # (T, 3) the point PELVIS_BACK_M in the root's frame


def is_deepmimic(path: str | Path) -> bool:
    """Whether ``path`` starts like a DeepMimic motion (a JSON object with ``Loop`` or ``Frames``)."""
    try:
        with open(path, encoding="utf-8") as fh:
            head = fh.read(256)
    except (OSError, UnicodeDecodeError):
        return False
    return head.lstrip().startswith("{") and ('"Frames"' in head or '"Loop"' in head)


def deepmimic_loop(path: str | Path) -> str | None:
    """The ``Loop`` field of a DeepMimic motion (``"wrap"``, ``"none"``); None for any other file."""
    if not is_deepmimic(path):
        return None
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None  # the reader names what is wrong
    return str(doc.get("Loop", "none")) if isinstance(doc, dict) else None


def _quats(path: Path, frames: np.ndarray, col: int) -> Rotation:
    wxyz = frames[:, col : col + 4]
    norm = np.linalg.norm(wxyz, axis=1)
    bad = np.flatnonzero(~(norm > 1e-6))
    if bad.size:
        raise FormatError(path, f"a zero quaternion in columns {col}-{col + 3}", frame=int(bad[0]))
    return Rotation.from_quat(wxyz[:, [1, 2, 3, 0]] / norm[:, None])


def read_deepmimic(path: str | Path, fps: float | None = None) -> DeepMimicClip:
    """The joint positions of a DeepMimic ``humanoid3d`` motion file (module docstring).

    ``fps``: the rate of the uniform grid (default: from the median frame duration).
    Raises :class:`FormatError` naming the file, the field and the frame.
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise FormatError(path, f"not a DeepMimic motion (JSON): {err}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("Frames"), list) or not doc["Frames"]:
        raise FormatError(path, 'no "Frames" list (a DeepMimic motion holds {"Loop": ..., "Frames": [[...], ...]})')
    rows = doc["Frames"]
    for k, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != N_VALUES:
            n = len(row) if isinstance(row, list) else type(row).__name__
            raise FormatError(path, f"Frames: {n} values where the humanoid3d character has {N_VALUES}", frame=k)
    try:
        frames = np.asarray(rows, dtype=np.float64)
    except (TypeError, ValueError):
        raise FormatError(path, "Frames: a value that is not a number") from None
    bad = np.argwhere(~np.isfinite(frames))
    if bad.size:
        raise FormatError(path, f"Frames: a non-finite value in column {int(bad[0, 1])}", frame=int(bad[0, 0]))
    if len(frames) < 2:
        raise FormatError(path, "Frames: one frame is not a motion")
    dt = frames[:-1, 0]
    neg = np.flatnonzero(dt <= 0)
    if neg.size:
        raise FormatError(path, f"Frames: a frame duration of {dt[neg[0]]} s (durations must be positive)",
                          frame=int(neg[0]))  # fmt: skip
    times = np.concatenate([[0.0], np.cumsum(dt)])
    rate = float(fps) if fps else float(1.0 / np.median(dt))

    n, nj = len(frames), len(_JOINTS)
    glob_rot: list[Rotation] = []
    pos = np.zeros((n, nj + len(_ENDS), 3))
    for j, (_, parent, offset, col, hinge) in enumerate(_JOINTS):
        if hinge:
            local = Rotation.from_rotvec(np.outer(frames[:, col], [0.0, 0.0, 1.0]))
        else:
            local = _quats(path, frames, col)
        if parent < 0:
            glob_rot.append(local)
            pos[:, j] = frames[:, 1:4]
        else:
            glob_rot.append(glob_rot[parent] * local)
            pos[:, j] = pos[:, parent] + glob_rot[parent].apply(offset)
    for e, (_, joint, offset) in enumerate(_ENDS):
        pos[:, nj + e] = pos[:, joint] + glob_rot[joint].apply(offset)
    back = pos[:, 0] + glob_rot[0].apply(PELVIS_BACK_M)

    rest = np.zeros((nj + len(_ENDS), 3))
    for j, (_, parent, offset, _, _) in enumerate(_JOINTS):
        rest[j] = (rest[parent] if parent >= 0 else 0.0) + np.asarray(offset)
    for e, (_, joint, offset) in enumerate(_ENDS):
        rest[nj + e] = rest[joint] + np.asarray(offset)

    grid = np.arange(0.0, times[-1] + 1e-9, 1.0 / rate)
    flat = pos.reshape(n, -1)
    resampled = np.stack([np.interp(grid, times, flat[:, c]) for c in range(flat.shape[1])], axis=1)
    back_r = np.stack([np.interp(grid, times, back[:, c]) for c in range(3)], axis=1)
    names = [j[0] for j in _JOINTS] + [e[0] for e in _ENDS]
    return DeepMimicClip(names, resampled.reshape(len(grid), -1, 3), rest, rate, str(doc.get("Loop", "none")), back_r)
