"""BVH (Biovision Hierarchy) motion files: the data, forward kinematics, reader and writer.

The grammar is :mod:`.bvh_parser`. Conventions:

- Lengths stay in the file's units (the format declares none; the CMU files keep the ASF unit,
  ``1/0.45`` inch = 0.05644 m); angles are degrees. The up axis is the file's (Y for CMU and
  most exporters); retargeting onto our body is :mod:`musclepose.motion.retarget`.
- Rotation channels are *intrinsic* in the order listed (``Zrotation Xrotation Yrotation`` is
  ``R = Rz(z) @ Rx(x) @ Ry(y)``); each joint may list its own order (the CMU files mix ZYX and
  ZXY). Rotation matrices act on column vectors (``v_parent = R @ v_local``).
- Position channels are added to the joint's ``OFFSET``. A joint's global transform is
  ``R_g = R_g(parent) @ R_local`` and ``p_g = p_g(parent) + R_g(parent) @ (offset + position)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .atomic import atomic_write
from .bvh_parser import BVH_CHANNELS, parse_bvh
from .errors import FormatError

__all__ = ["BVH_CHANNELS", "BVHData", "read_bvh", "write_bvh"]


@dataclass
class BVHData:
    """The contents of a BVH file.

    Attributes
    ----------
    path : Path or None
        The file it was read from (``None`` if built in memory).
    joint_names : list of str
        ``J`` joint names in hierarchy (depth-first) order; a parent precedes its children.
    parents : np.ndarray
        ``(J,)`` int, index of each joint's parent, ``-1`` for a root.
    offsets : np.ndarray
        ``(J, 3)`` joint offsets in the parent's frame (file units).
    channels : list of list of str
        Each joint's channel names in file order (``"Zrotation"``, ``"Xposition"``, ...).
    end_sites : dict of str to np.ndarray
        ``joint name -> (3,)`` offset of that joint's ``End Site`` in the joint's frame.
    motion : np.ndarray
        ``(T, C)`` channel values, ``C = sum(len(c) for c in channels)``; degrees and file
        units.
    frame_time : float
        Seconds per frame.
    """

    path: Path | None
    joint_names: list[str]
    parents: np.ndarray
    offsets: np.ndarray
    channels: list[list[str]]
    end_sites: dict[str, np.ndarray]
    motion: np.ndarray
    frame_time: float

    @property
    def fps(self) -> float:
        """Frames per second, ``1 / frame_time``."""
        return 1.0 / self.frame_time

    @property
    def n_frames(self) -> int:
        """Number of frames ``T``."""
        return int(self.motion.shape[0])

    @property
    def n_joints(self) -> int:
        """Number of joints ``J`` (end sites excluded)."""
        return len(self.joint_names)

    def channel_columns(self) -> list[slice]:
        """For each joint, the slice of ``motion`` columns that holds its channels."""
        cols, start = [], 0
        for ch in self.channels:
            cols.append(slice(start, start + len(ch)))
            start += len(ch)
        return cols

    def global_transforms(self) -> tuple[np.ndarray, np.ndarray]:
        """Forward kinematics of every joint in every frame.

        Returns
        -------
        rotations : np.ndarray
            ``(T, J, 3, 3)`` joint frames in the world (column-vector convention).
        positions : np.ndarray
            ``(T, J, 3)`` joint origins in the world, file units.
        """
        T, J = self.n_frames, self.n_joints
        rot_g = np.empty((T, J, 3, 3))
        pos_g = np.empty((T, J, 3))
        for j, (ch, cols) in enumerate(zip(self.channels, self.channel_columns(), strict=True)):
            vals = self.motion[:, cols]
            local_r = np.broadcast_to(np.eye(3), (T, 3, 3)).copy()
            local_t = np.broadcast_to(self.offsets[j], (T, 3)).copy()
            for k, name in enumerate(ch):
                axis = "XYZ".index(name[0])
                if name.endswith("position"):
                    local_t[:, axis] += vals[:, k]
                else:
                    local_r = local_r @ _axis_rotation(axis, np.deg2rad(vals[:, k]))
            p = self.parents[j]
            if p < 0:
                rot_g[:, j] = local_r
                pos_g[:, j] = local_t
            else:
                rot_g[:, j] = rot_g[:, p] @ local_r
                pos_g[:, j] = pos_g[:, p] + np.einsum("tij,tj->ti", rot_g[:, p], local_t)
        return rot_g, pos_g

    def end_site_positions(self) -> dict[str, np.ndarray]:
        """World positions ``(T, 3)`` of every ``End Site``, keyed by the joint that owns it."""
        rot_g, pos_g = self.global_transforms()
        index = {n: j for j, n in enumerate(self.joint_names)}
        return {
            name: pos_g[:, index[name]] + np.einsum("tij,j->ti", rot_g[:, index[name]], off)
            for name, off in self.end_sites.items()
        }


def _axis_rotation(axis: int, angle: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(T, 3, 3)`` about the x (0), y (1) or z (2) axis by ``angle`` (rad)."""
    c, s = np.cos(angle), np.sin(angle)
    r = np.zeros(angle.shape + (3, 3))
    i, k = [(1, 2), (2, 0), (0, 1)][axis]
    r[..., axis, axis] = 1.0
    r[..., i, i] = c
    r[..., k, k] = c
    r[..., i, k] = -s
    r[..., k, i] = s
    return r


def read_bvh(path: str | Path) -> BVHData:
    """Read a BVH file.

    Parameters
    ----------
    path : str or Path
        The ``.bvh`` file.

    Returns
    -------
    BVHData
        Hierarchy, channels and the ``(T, C)`` motion table, in file units and degrees.

    Raises
    ------
    FormatError
        On a malformed hierarchy (unknown channel name, bad offset, missing brace), a
        missing ``MOTION`` section, a ``Frames:`` count that does not match the rows, a row
        with too few or too many values, a value that is not a number, NaN or inf; the
        message names the file, the line and, in the motion table, the frame and channel.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise FormatError(path, f"cannot read: {e.strerror or e}") from None
    lines = text.splitlines()
    names, parents, offsets, channels, end_sites, motion, frame_time = parse_bvh(path, lines)
    return BVHData(
        path=path,
        joint_names=names,
        parents=np.asarray(parents, dtype=np.int64),
        offsets=np.asarray(offsets, dtype=np.float64).reshape(-1, 3),
        channels=channels,
        end_sites=end_sites,
        motion=motion,
        frame_time=frame_time,
    )


def write_bvh(path: str | Path, data: BVHData, *, precision: int | None = None) -> Path:
    """Write ``data`` as a BVH file (atomically: a temporary file replaced into place).

    Parameters
    ----------
    path : str or Path
        Destination file.
    data : BVHData
        Hierarchy and motion; ``data.motion`` must be ``(T, C)`` with ``C`` the total
        channel count, and finite.
    precision : int, optional
        Decimals for motion values. ``None`` (default) writes the shortest text that reads
        back to the identical float64, so :func:`read_bvh` round-trips exactly.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    ValueError
        If ``data`` is inconsistent (shapes, parent order, non-finite values).
    """
    path = Path(path)
    J = len(data.joint_names)
    n_ch = sum(len(c) for c in data.channels)
    if data.offsets.shape != (J, 3) or len(data.parents) != J or len(data.channels) != J:
        raise ValueError(f"BVHData has {J} joints but offsets {data.offsets.shape}, parents {len(data.parents)}")
    if data.motion.ndim != 2 or data.motion.shape[1] != n_ch:
        raise ValueError(f"motion must be (T, {n_ch}); got {data.motion.shape}")
    if not np.isfinite(data.motion).all():
        raise ValueError("motion contains NaN or inf")
    if any(p >= j for j, p in enumerate(data.parents)):
        raise ValueError("every parent must precede its child in joint order")
    if not (math.isfinite(data.frame_time) and data.frame_time > 0):
        raise ValueError(f"frame_time must be positive; got {data.frame_time}")
    children: dict[int, list[int]] = {j: [] for j in range(-1, J)}
    for j, p in enumerate(data.parents):
        children[int(p)].append(j)

    def num(v: float) -> str:
        return repr(float(v)) if precision is None else f"{v:.{precision}f}"

    out = ["HIERARCHY"]

    def emit(j: int, depth: int) -> None:
        pad = "\t" * depth
        out.append(f"{pad}{'ROOT' if data.parents[j] < 0 else 'JOINT'} {data.joint_names[j]}")
        out.append(pad + "{")
        out.append(f"{pad}\tOFFSET {' '.join(num(v) for v in data.offsets[j])}")
        if data.channels[j]:
            out.append(f"{pad}\tCHANNELS {len(data.channels[j])} {' '.join(data.channels[j])}")
        for c in children[j]:
            emit(c, depth + 1)
        if data.joint_names[j] in data.end_sites:
            out.extend([f"{pad}\tEnd Site", pad + "\t{"])
            out.append(f"{pad}\t\tOFFSET {' '.join(num(v) for v in data.end_sites[data.joint_names[j]])}")
            out.append(pad + "\t}")
        out.append(pad + "}")

    for root in children[-1]:
        emit(root, 0)
    out += ["MOTION", f"Frames: {data.motion.shape[0]}", f"Frame Time: {repr(float(data.frame_time))}"]
    if precision is None:
        out += [" ".join(map(repr, row)) for row in data.motion.tolist()]
    else:
        out += [" ".join(f"{v:.{precision}f}" for v in row) for row in data.motion.tolist()]
    with atomic_write(path, mode="w", newline="\n") as f:
        f.write("\n".join(out) + "\n")
    return path
