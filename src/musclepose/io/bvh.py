"""BVH (Biovision Hierarchy) motion files: reader, forward kinematics and writer.

A BVH file has a ``HIERARCHY`` section (``ROOT``/``JOINT`` blocks nested in braces, each
with an ``OFFSET`` and a ``CHANNELS`` list, leaves closed by an ``End Site``) and a
``MOTION`` section (``Frames:``, ``Frame Time:``, then one line of numbers per frame, the
channels of every joint in hierarchy order).

Conventions
-----------
- Lengths stay in the file's units: the BVH format does not declare them. The CMU files
  keep the ASF length unit, ``1/0.45`` inch = 0.05644 m (with it, the standing hip height
  of CMU 131_01, 16.3 units above the floor, is 0.92 m). Angles in the file are degrees.
- The up axis is whatever the file uses (Y for CMU and most BVH exporters); nothing is
  converted here. Retargeting onto the MusclePose body (Y-up, metres) is the job of
  :mod:`musclepose.motion`.
- Rotation matrices act on column vectors (``v_parent = R @ v_local``), as in
  :mod:`musclepose.body.rotations`.
- Rotation channels are *intrinsic* in the order they are listed: ``CHANNELS 3 Zrotation
  Xrotation Yrotation`` means ``R = Rz(z) @ Rx(x) @ Ry(y)``. Each joint may list its own
  order, and the orders may differ within one file (the CMU files mix ZYX and ZXY).
- Position channels are added to the joint's ``OFFSET`` (for a CMU root the offset is zero,
  so the channels are the root position itself).
- A joint's global transform is ``R_g = R_g(parent) @ R_local`` and
  ``p_g = p_g(parent) + R_g(parent) @ (offset + position channels)``.
- In :class:`~musclepose.io.errors.FormatError` messages, line numbers are 1-based (as an
  editor shows them) and frame numbers are 0-based indices into ``BVHData.motion``.

The parser is our own rather than a PyPI package: the BVH grammar is a few dozen lines,
and the packages on PyPI (``bvh``, ``bvhio``, ``pymo``) are thin or unmaintained, assume one
Euler order per file, or lack the line-numbered errors that this project requires.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .atomic import atomic_write
from .errors import FormatError

__all__ = ["BVH_CHANNELS", "BVHData", "read_bvh", "write_bvh"]

BVH_CHANNELS: tuple[str, ...] = ("Xposition", "Yposition", "Zposition", "Xrotation", "Yrotation", "Zrotation")
_CANONICAL = {c.lower(): c for c in BVH_CHANNELS}


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


class _Tokens:
    """Whitespace tokens of the hierarchy with their 1-based line numbers."""

    def __init__(self, path: Path, lines: list[str]) -> None:
        self.path = path
        self.items: list[tuple[str, int]] = [(tok, n + 1) for n, line in enumerate(lines) for tok in line.split()]
        self.i = 0
        self.last_line = len(lines)

    def peek(self) -> str | None:
        return self.items[self.i][0] if self.i < len(self.items) else None

    def line(self) -> int:
        return self.items[self.i][1] if self.i < len(self.items) else self.last_line

    def next(self, what: str) -> str:
        if self.i >= len(self.items):
            raise FormatError(self.path, f"unexpected end of file, expected {what}", line=self.last_line)
        tok = self.items[self.i][0]
        self.i += 1
        return tok

    def expect(self, word: str) -> None:
        line = self.line()
        tok = self.next(repr(word))
        if tok != word:
            raise FormatError(self.path, f"expected {word!r}, found {tok!r}", line=line)

    def number(self, what: str, kind: type = float) -> float:
        line = self.line()
        tok = self.next(what)
        try:
            val = kind(tok)
        except ValueError:
            raise FormatError(self.path, f"{what}: {tok!r} is not a number", line=line) from None
        if not math.isfinite(val):
            raise FormatError(self.path, f"{what}: {tok!r} is not finite", line=line)
        return val


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
    motion_line = next((n for n, line in enumerate(lines) if line.strip() == "MOTION"), None)
    if not any(line.strip() for line in lines):
        raise FormatError(path, "empty file")
    head = lines if motion_line is None else lines[:motion_line]
    toks = _Tokens(path, head)
    toks.expect("HIERARCHY")
    names: list[str] = []
    parents: list[int] = []
    offsets: list[list[float]] = []
    channels: list[list[str]] = []
    end_sites: dict[str, np.ndarray] = {}
    while toks.peek() is not None:
        line = toks.line()
        if toks.peek() != "ROOT":
            raise FormatError(path, f"expected 'ROOT' or 'MOTION', found {toks.peek()!r}", line=line)
        toks.next("ROOT")
        _parse_joint(toks, -1, names, parents, offsets, channels, end_sites)
    if not names:
        raise FormatError(path, "no ROOT joint in HIERARCHY", line=toks.line())
    if motion_line is None:
        raise FormatError(path, "missing MOTION section", line=len(lines))
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise FormatError(path, f"joint name {dup!r} appears twice", field=dup)
    n_ch = sum(len(c) for c in channels)
    frames, frame_time, rows = _parse_motion_header(path, lines, motion_line)
    motion = _parse_rows(path, lines, rows, frames, n_ch, names, channels)
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


def _parse_joint(
    toks: _Tokens,
    parent: int,
    names: list[str],
    parents: list[int],
    offsets: list[list[float]],
    channels: list[list[str]],
    end_sites: dict[str, np.ndarray],
) -> None:
    path = toks.path
    line = toks.line()
    name = toks.next("a joint name")
    if name in ("{", "}"):
        raise FormatError(path, f"expected a joint name, found {name!r}", line=line)
    j = len(names)
    names.append(name)
    parents.append(parent)
    toks.expect("{")
    toks.expect("OFFSET")
    offsets.append([toks.number(f"OFFSET of {name!r}") for _ in range(3)])
    ch: list[str] = []
    if toks.peek() == "CHANNELS":
        toks.next("CHANNELS")
        n = int(toks.number(f"CHANNELS count of {name!r}", int))
        for _ in range(n):
            line = toks.line()
            c = toks.next(f"a channel name of {name!r}")
            if c.lower() not in _CANONICAL:
                raise FormatError(
                    path, f"unknown channel {c!r} (expected one of {', '.join(BVH_CHANNELS)})", field=name, line=line
                )
            ch.append(_CANONICAL[c.lower()])
        if len(set(ch)) != len(ch):
            raise FormatError(path, f"repeated channel in {ch}", field=name, line=line)
    channels.append(ch)
    while True:
        line = toks.line()
        tok = toks.next(f"'}}' closing {name!r}")
        if tok == "}":
            return
        if tok == "JOINT":
            _parse_joint(toks, j, names, parents, offsets, channels, end_sites)
        elif tok == "End":
            toks.expect("Site")
            toks.expect("{")
            toks.expect("OFFSET")
            end_sites[name] = np.array([toks.number(f"End Site OFFSET of {name!r}") for _ in range(3)])
            toks.expect("}")
        else:
            raise FormatError(path, f"expected 'JOINT', 'End Site' or '}}' in {name!r}, found {tok!r}", line=line)


def _parse_motion_header(path: Path, lines: list[str], motion_line: int) -> tuple[int, float, Iterator[int]]:
    """Parse ``Frames:`` and ``Frame Time:``; return them and the line indices of the data rows."""
    nonblank = (n for n in range(motion_line + 1, len(lines)) if lines[n].strip())
    values: dict[str, tuple[str, int]] = {}
    for key in ("Frames:", "Frame Time:"):
        n = next(nonblank, None)
        if n is None:
            raise FormatError(path, f"missing {key!r} after MOTION", line=len(lines))
        s = lines[n].strip()
        if not s.startswith(key):
            raise FormatError(path, f"expected {key!r}, found {s[:40]!r}", line=n + 1)
        values[key] = (s[len(key) :].strip(), n + 1)
    (f_txt, f_line), (t_txt, t_line) = values["Frames:"], values["Frame Time:"]
    try:
        frames = int(f_txt)
    except ValueError:
        raise FormatError(path, f"Frames: {f_txt!r} is not an integer", field="Frames", line=f_line) from None
    if frames < 0:
        raise FormatError(path, f"Frames: {frames} is negative", field="Frames", line=f_line)
    try:
        frame_time = float(t_txt)
    except ValueError:
        raise FormatError(path, f"Frame Time: {t_txt!r} is not a number", field="Frame Time", line=t_line) from None
    if not (math.isfinite(frame_time) and frame_time > 0):
        raise FormatError(path, f"Frame Time: {t_txt!r} must be a positive number", field="Frame Time", line=t_line)
    return frames, frame_time, nonblank


def _parse_rows(
    path: Path,
    lines: list[str],
    rows: Iterator[int],
    frames: int,
    n_ch: int,
    names: list[str],
    channels: list[list[str]],
) -> np.ndarray:
    row_lines = list(rows)
    if len(row_lines) != frames:
        # A short last row means the file was cut mid-frame: report that rather than the count.
        if row_lines and len(lines[row_lines[-1]].split()) < n_ch:
            last = len(row_lines) - 1
            found = len(lines[row_lines[-1]].split())
            raise FormatError(
                path,
                f"truncated frame: expected {n_ch} values, found {found} (Frames: says {frames}, "
                f"file has {len(row_lines)} rows)",
                line=row_lines[-1] + 1,
                frame=last,
            )
        raise FormatError(
            path, f"Frames: says {frames} but the file has {len(row_lines)} rows of motion", field="Frames"
        )
    motion = np.empty((frames, n_ch))
    for t, n in enumerate(row_lines):
        toks = lines[n].split()
        if len(toks) != n_ch:
            what = "truncated frame" if len(toks) < n_ch else "too many values"
            raise FormatError(path, f"{what}: expected {n_ch} values, found {len(toks)}", line=n + 1, frame=t)
        try:
            motion[t] = np.array(toks, dtype=np.float64)
        except ValueError:
            for c, tok in enumerate(toks):
                try:
                    float(tok)
                except ValueError:
                    raise FormatError(
                        path, f"{tok!r} is not a number", line=n + 1, frame=t, field=_channel_label(c, names, channels)
                    ) from None
    bad = ~np.isfinite(motion)
    if bad.any():
        t, c = (int(i) for i in np.argwhere(bad)[0])
        raise FormatError(
            path,
            f"value {motion[t, c]} is not finite",
            line=row_lines[t] + 1,
            frame=t,
            field=_channel_label(c, names, channels),
        )
    return motion


def _channel_label(col: int, names: list[str], channels: list[list[str]]) -> str:
    for name, ch in zip(names, channels, strict=True):
        if col < len(ch):
            return f"{name}.{ch[col]}"
        col -= len(ch)
    return f"column {col}"


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
