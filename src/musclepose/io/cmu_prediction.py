"""The CMU motion-prediction benchmark's files: reader, frame checks, skeleton and forward kinematics.

Layout (Li et al. 2018, "Convolutional sequence to sequence model for human dynamics", as
redistributed with DMGNN, Li et al. 2020): a folder per action, ``<action>/<action>_<i>.txt``;
one comma-separated row per frame of 117 values: the root position (3, in the ASF unit of
``1/0.45`` inch = 0.05644 m; x to the subject's left, y up, z forward) and the exponential map
(axis-angle, rad) of each of the 38 joints of the benchmark's CMU skeleton (root first). The
files carry no rate: they are CMU's native 120 Hz (measured here: a walking stride of ~150
frames = 1.25 s and root speeds of 0.9-1.0 m/s walking and 3.4 m/s running at 120 Hz; at 50 Hz
they would be 3 s and 0.4 / 1.4 m/s). The benchmark keeps every 2nd frame and labels frame ``k``
of the prediction ``40 k`` ms (the H3.6M convention), so its "1000 ms" is 25 frames = 0.42 s of
real time. Of the 117 values the benchmark scores :data:`DIM_TO_USE` (26 joints); the root and
the hand and foot ends are ignored. Glitches in the training split: every file starts with a
frame that differs from the next by 1.3-2.2 rad in some joint, and 107 of its 11,112 later
frames turn a joint faster than any body moves (thumbs and hands flipping by about pi, which
moves the thumb tip 8-11 cm in one frame; toes): :func:`check_frames` reports such frames and
:func:`continuous_segments` cuts a sequence there, so that a training window never spans one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..body.rotations import axis_angle_to_matrix
from ..motion.quality import MAX_JOINT_SPEED_DEG_S
from .errors import FormatError

__all__ = [
    "ACTIONS",
    "DIM_TO_USE",
    "DOWNSAMPLE",
    "FILE_FPS",
    "FRAME_MS",
    "MAX_JOINT_SPEED",
    "MIRROR",
    "N_COLUMNS",
    "N_JOINTS",
    "POINTS",
    "UNIT_M",
    "USED_JOINTS",
    "FrameIssue",
    "check_frames",
    "column_name",
    "find_files",
    "forward_kinematics",
    "is_cmu_prediction",
    "read_cmu_prediction",
    "continuous_segments",
]

N_COLUMNS = 117
N_JOINTS = 38
FILE_FPS = 120.0  # measured, see the module docstring
DOWNSAMPLE = 2  # the benchmark keeps frames 0, 2, 4, ...
FRAME_MS = 40.0  # the benchmark's label per kept frame (not real time: 2 / 120 Hz = 16.7 ms)
UNIT_M = 0.0254 / 0.45  # CMU ASF length unit
ACTIONS = (
    "basketball", "basketball_signal", "directing_traffic", "jumping",
    "running", "soccer", "walking", "washwindow",
)  # fmt: skip

#: Names of the 38 exponential maps, after the ASF bone whose rotation each is (``lfemur`` = the
#: left hip's rotation); ``*_end`` are dummies. Joint ``j``'s *position* is the end of the bone
#: its parent's rotation turns: position 2 is the left hip centre, 3 the knee, 4 the ankle.
JOINT_NAMES = (
    "root", "lhipjoint", "lfemur", "ltibia", "lfoot", "ltoes", "ltoes_end",
    "rhipjoint", "rfemur", "rtibia", "rfoot", "rtoes", "rtoes_end",
    "lowerback", "upperback", "thorax", "lowerneck", "upperneck", "head", "head_end",
    "lclavicle", "lhumerus", "lradius", "lwrist", "lhand", "lfingers", "lfingers_end", "lthumb", "lthumb_end",
    "rclavicle", "rhumerus", "rradius", "rwrist", "rhand", "rfingers", "rfingers_end", "rthumb", "rthumb_end",
)  # fmt: skip
PARENTS = np.array(
    [0, 1, 2, 3, 4, 5, 6, 1, 8, 9, 10, 11, 12, 1, 14, 15, 16, 17, 18, 19,
     16, 21, 22, 23, 24, 25, 26, 24, 28, 16, 30, 31, 32, 33, 34, 35, 33, 37]
) - 1  # fmt: skip
# Bone offsets in the parent's frame (ASF units), as in the benchmark's own forward kinematics.
OFFSETS = np.array([
    0, 0, 0, 0, 0, 0, 1.65674, -1.80282, 0.62477, 2.5972, -7.13576, 0, 2.49236, -6.8477, 0,
    0.19704, -0.54136, 2.14581, 0, 0, 1.11249, 0, 0, 0, -1.6107, -1.80282, 0.62476,
    -2.59502, -7.12977, 0, -2.4678, -6.78024, 0, -0.23024, -0.63258, 2.13368, 0, 0, 1.11569,
    0, 0, 0, 0.01961, 2.0545, -0.14112, 0.01021, 2.06436, -0.05921, 0, 0, 0,
    0.00713, 1.56711, 0.14968, 0.03429, 1.56041, -0.10006, 0.01305, 1.6256, -0.05265, 0, 0, 0,
    3.54205, 0.90436, -0.17364, 4.86513, 0, 0, 3.35554, 0, 0, 0, 0, 0, 0.66117, 0, 0,
    0.53306, 0, 0, 0, 0, 0, 0.5412, 0, 0.5412, 0, 0, 0, -3.49802, 0.75994, -0.32616,
    -5.02649, 0, 0, -3.36431, 0, 0, 0, 0, 0, -0.73041, 0, 0, -0.58887, 0, 0, 0, 0, 0,
    -0.59786, 0, 0.59786,
], dtype=np.float64).reshape(N_JOINTS, 3)  # fmt: skip
#: Columns the benchmark scores (Li et al. 2018's ``dim_to_use``): 26 joints x 3.
DIM_TO_USE = np.array(
    [*range(9, 21), *range(27, 39), *range(42, 60), *range(66, 81), 84, 85, 86, *range(93, 108), 111, 112, 113]
)
USED_JOINTS = np.unique((DIM_TO_USE - 3) // 3)  # the 26 joints, indices into the 38
#: Left-right mirror of the joints (each joint's partner; the spine maps to itself).
MIRROR = np.arange(N_JOINTS)
MIRROR[1:7], MIRROR[7:13] = np.arange(7, 13), np.arange(1, 7)
MIRROR[20:29], MIRROR[29:38] = np.arange(29, 38), np.arange(20, 29)
#: Our point names -> the skeleton joint (position) that marks it, for retargeting.
POINTS = {
    "left_hip": 2, "left_knee": 3, "left_ankle": 4, "left_toe": 5,
    "right_hip": 8, "right_knee": 9, "right_ankle": 10, "right_toe": 11,
    "neck": 16, "left_shoulder": 21, "left_elbow": 22, "left_wrist": 23,
    "right_shoulder": 30, "right_elbow": 31, "right_wrist": 32,
}  # fmt: skip
# A frame-to-frame rotation faster than the project's limit for any recorded joint
# (:data:`musclepose.motion.quality.MAX_JOINT_SPEED_DEG_S`) is a glitch, not motion; the root
# moving faster than 12.5 m/s (above a sprinter's 12.4 m/s top speed) likewise.
MAX_JOINT_SPEED = float(np.deg2rad(MAX_JOINT_SPEED_DEG_S))  # rad/s
MAX_ROOT_SPEED = 12.5  # m/s


def column_name(c: int) -> str:
    """``root.x`` / ``lfemur.expmap[1]``: the field a column holds."""
    if c < 3:
        return f"root.{'xyz'[c]}"
    return f"{JOINT_NAMES[(c - 3) // 3]}.expmap[{(c - 3) % 3}]"


def is_cmu_prediction(path: Path) -> bool:
    """Whether ``path`` looks like a benchmark file (its first row: 117 comma-separated values)."""
    try:
        with open(path, encoding="utf-8") as fh:
            first = fh.readline()
    except (OSError, UnicodeDecodeError):
        return False
    return first.count(",") == N_COLUMNS - 1


def read_cmu_prediction(path: str | Path) -> np.ndarray:
    """The ``(T, 117)`` rows of a benchmark file (float64).

    Raises
    ------
    FormatError
        Unreadable or empty file, a row with other than 117 values, a value that is not a
        number, NaN or inf; the message names the file, line, frame and field.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise FormatError(path, f"not UTF-8 text (byte {e.start})") from None
    except OSError as e:
        raise FormatError(path, f"cannot read: {e.strerror or e}") from None
    rows = []
    for i, line in enumerate(text.splitlines()):
        if not line.strip():
            continue
        cells = line.split(",")
        if len(cells) != N_COLUMNS:
            raise FormatError(path, f"{len(cells)} values, expected {N_COLUMNS}", line=i + 1, frame=len(rows))
        try:
            row = [float(c) for c in cells]
        except ValueError:
            c = next(k for k, v in enumerate(cells) if not _is_float(v))
            raise FormatError(
                path, f"not a number: {cells[c].strip()!r}", line=i + 1, frame=len(rows), field=column_name(c)
            ) from None
        bad = [k for k, v in enumerate(row) if not np.isfinite(v)]
        if bad:
            raise FormatError(
                path, f"{row[bad[0]]} is not finite", line=i + 1, frame=len(rows), field=column_name(bad[0])
            )
        rows.append(row)
    if not rows:
        raise FormatError(path, "empty file")
    return np.asarray(rows, dtype=np.float64)


def _is_float(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True


def find_files(folder: str | Path, first_only: bool = False) -> dict[str, list[Path]]:
    """``action -> [files]`` of a folder laid out like the benchmark (``<action>/<action>_<i>.txt``).

    Files are ordered by their number; ``first_only`` keeps ``<action>_1.txt`` (the one the
    benchmark's test protocol samples). Raises ``FileNotFoundError`` naming the folder when it
    holds no such file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    out: dict[str, list[Path]] = {}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        files = []
        for f in sub.glob(f"{sub.name}_*.txt"):
            tail = f.stem[len(sub.name) + 1 :]
            if tail.isdigit():
                files.append((int(tail), f))
        files.sort()
        if first_only:
            files = [f for f in files if f[0] == 1]
        if files:
            out[sub.name] = [f for _, f in files]
    if not out:
        raise FileNotFoundError(f"{folder}: no <action>/<action>_<i>.txt files (the CMU motion-prediction layout)")
    return out


def _rotations(x: np.ndarray) -> torch.Tensor:
    return axis_angle_to_matrix(torch.as_tensor(x[..., 3:].reshape(*x.shape[:-1], N_JOINTS, 3)))


def forward_kinematics(x: np.ndarray, root: bool = False) -> np.ndarray:
    """Joint positions ``(..., 38, 3)`` in ASF units of rows ``(..., 117)``, the benchmark's way.

    Row-vector convention as in the benchmark's ``fkl``: a joint's position is its offset
    times its parent's global rotation plus the parent's position, and its global rotation is
    its own exponential map's matrix times its parent's. ``root=False`` puts the root at the
    origin with no rotation (how motion-prediction papers score positions); ``root=True``
    applies the root rotation and position (x, y, z in file order; the benchmark's ``fkl``
    reverses them, which it never notices because it ignores the root).
    """
    x = np.asarray(x, dtype=np.float64)
    rot = _rotations(x).numpy()
    glob_r = np.empty_like(rot)
    pos = np.empty(x.shape[:-1] + (N_JOINTS, 3))
    for j in range(N_JOINTS):
        p = PARENTS[j]
        if p < 0:
            glob_r[..., j, :, :] = rot[..., j, :, :] if root else np.eye(3)
            pos[..., j, :] = OFFSETS[j] + (x[..., 0:3] if root else 0.0)
        else:
            pos[..., j, :] = np.einsum("k,...kl->...l", OFFSETS[j], glob_r[..., p, :, :]) + pos[..., p, :]
            glob_r[..., j, :, :] = rot[..., j, :, :] @ glob_r[..., p, :, :]
    return pos


@dataclass(frozen=True)
class FrameIssue:
    """A frame that moves faster than a body can: ``frame`` (index into the rows), ``field``, ``what``."""

    frame: int
    field: str
    what: str
    value: float


def _steps(x: np.ndarray) -> np.ndarray:
    """Rotation angle ``(T - 1, 38)`` between consecutive frames of each joint (rad)."""
    r = _rotations(x)
    d = r[1:] @ r[:-1].transpose(-1, -2)
    cos = ((d.diagonal(dim1=-2, dim2=-1).sum(-1) - 1.0) / 2.0).clamp(-1.0, 1.0)
    return torch.arccos(cos).numpy()


def check_frames(x: np.ndarray, fps: float = FILE_FPS, joints: np.ndarray | None = None) -> list[FrameIssue]:
    """Frames where a joint turns faster than :data:`MAX_JOINT_SPEED` or the root moves faster
    than :data:`MAX_ROOT_SPEED`, at frame rate ``fps``; ``joints`` limits the check (default all).

    A reported frame is the second of the pair that jumps. Below ~14 Hz one frame can hold any
    rotation (44 rad/s x 1/14 s > pi), so only the root is checked there.
    """
    if len(x) < 2:
        return []
    issues = []
    lim = MAX_JOINT_SPEED / fps
    steps = _steps(x)
    js = np.arange(N_JOINTS) if joints is None else np.asarray(joints)
    for t, j in zip(*np.nonzero(steps[:, js] > lim), strict=True):
        issues.append(FrameIssue(int(t) + 1, JOINT_NAMES[js[j]], "joint rotation", float(steps[t, js[j]])))
    root_step = np.linalg.norm(np.diff(x[:, 0:3], axis=0), axis=1) * UNIT_M
    for t in np.flatnonzero(root_step > MAX_ROOT_SPEED / fps):
        issues.append(FrameIssue(int(t) + 1, "root", "root translation", float(root_step[t])))
    return sorted(issues, key=lambda i: (i.frame, i.field))


def continuous_segments(n_frames: int, issues: list[FrameIssue], min_len: int = 1) -> list[tuple[int, int]]:
    """``[start, stop)`` frame ranges between the jumps in ``issues`` (no range spans a jump),
    those shorter than ``min_len`` left out."""
    cuts = sorted({i.frame for i in issues})
    bounds = [0, *cuts, n_frames]
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b - a >= min_len]
