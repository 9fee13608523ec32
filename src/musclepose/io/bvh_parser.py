"""The BVH grammar: ``HIERARCHY`` (``ROOT``/``JOINT`` blocks nested in braces, each with an
``OFFSET`` and a ``CHANNELS`` list, leaves closed by an ``End Site``) and ``MOTION`` (``Frames:``,
``Frame Time:``, then one row of numbers per frame, every joint's channels in hierarchy order).

Our own parser rather than a PyPI package: the grammar is a few dozen lines, and the packages
(``bvh``, ``bvhio``, ``pymo``) are thin or unmaintained, assume one Euler order per file, or lack
the line-numbered errors this project requires. In :class:`~musclepose.io.errors.FormatError`
messages lines are 1-based (as an editor shows them) and frames 0-based rows of the table.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .errors import FormatError

__all__ = ["BVH_CHANNELS", "parse_bvh"]

BVH_CHANNELS: tuple[str, ...] = ("Xposition", "Yposition", "Zposition", "Xrotation", "Yrotation", "Zrotation")
_CANONICAL = {c.lower(): c for c in BVH_CHANNELS}


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


def parse_bvh(
    path: Path, lines: list[str]
) -> tuple[list[str], list[int], list[list[float]], list[list[str]], dict[str, np.ndarray], np.ndarray, float]:
    """The hierarchy and motion table of a BVH file's ``lines``: joint names, parents, offsets,
    channels, end sites, the ``(T, C)`` motion table and the frame time (see :func:`read_bvh`)."""
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
        try:
            _parse_joint(toks, -1, names, parents, offsets, channels, end_sites)
        except RecursionError:  # one Python frame per nesting level: a 10,000-joint chain is no body
            raise FormatError(path, f"joints nested more than {len(names)} deep: not a body skeleton",
                              line=toks.line()) from None  # fmt: skip
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
    return names, parents, offsets, channels, end_sites, motion, frame_time


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
