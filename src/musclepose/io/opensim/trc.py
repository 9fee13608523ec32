"""TRC marker files (``PathFileType 4``): reader and writer, positions in metres.

Positions are returned in **metres** whatever the header's ``Units`` (``mm``, ``cm`` or ``m``);
:attr:`MarkerData.units_in_file` remembers the file's unit. Axes are the file's (OpenSim's are
Y-up like ours). Errors are :class:`~musclepose.io.errors.FormatError` naming the file, line
(1-based), frame (1-based, as in the file's ``Frame#`` column) and marker.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..atomic import atomic_write
from ..errors import FormatError
from ._text import _cells, _fmt, _parse_numbers, _read_lines

__all__ = ["TRC_UNITS", "MarkerData", "read_trc", "write_trc"]

#: Metres per TRC unit.
TRC_UNITS: dict[str, float] = {"mm": 1e-3, "cm": 1e-2, "m": 1.0}


@dataclass
class MarkerData:
    """Marker trajectories.

    Attributes
    ----------
    path : Path or None
        Source file.
    names : list of str
        Marker labels, ``M`` of them.
    positions : np.ndarray, (T, M, 3) float64
        Positions in **metres** in the file's axes; NaN where a sample is missing.
    fps : float
        Sampling rate (Hz).
    times : np.ndarray, (T,)
        Time of each frame (s).
    units_in_file : str
        Length unit the file stored (``"mm"``, ``"cm"`` or ``"m"``); writers reuse it.
    skipped : list of str
        Markers the file names but never samples (blank in every frame), left out of
        :attr:`names` as OpenSim leaves them out.
    """

    path: Path | None
    names: list[str]
    positions: np.ndarray
    fps: float
    times: np.ndarray
    units_in_file: str = "mm"
    skipped: list[str] = field(default_factory=list)

    @property
    def n_frames(self) -> int:
        return int(self.positions.shape[0])

    def marker(self, name: str) -> np.ndarray:
        """One marker's trajectory ``(T, 3)`` m; ``KeyError`` lists the names when absent."""
        try:
            return self.positions[:, self.names.index(name)]
        except ValueError:
            raise KeyError(f"no marker {name!r} in {self.path}; markers: {self.names}") from None

    def to_y_up(self) -> MarkerData:
        """Z-up (Vicon, C3D) to Y-up (OpenSim, MusclePose): ``(x, y, z) -> (x, z, -y)``.

        A +90 degree rotation about x, so handedness is kept: lab up (+z) becomes +y and the
        lab +y axis becomes -z. Only call it on Z-up data.
        """
        p = self.positions
        q = np.stack([p[..., 0], p[..., 2], -p[..., 1]], axis=-1)
        return replace(self, positions=q)


def read_trc(path: str | Path) -> MarkerData:
    """Read a ``.trc`` marker file (``PathFileType 4``) into metres.

    Blank (or ``NaN``) cells are missing samples and become NaN; a marker must be missing
    as a whole triple. A marker blank in every frame (a virtual marker some tools leave
    empty; rows may then end early, all by the same whole markers) is left out with a
    warning naming it, as OpenSim reads such files; its name goes to ``skipped``.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    MarkerData

    Raises
    ------
    FormatError
        Not a TRC file; missing header fields; an unknown ``Units``; marker or coordinate
        label counts that disagree with ``NumMarkers``; rows with too few or too many cells
        (truncated), non-numeric cells, inf, half-missing triples; ``NumFrames`` that
        disagrees with the rows; no marker with data; time not strictly increasing.
    """
    path = Path(path)
    lines = _read_lines(path)
    if not any(s.strip() for s in lines):
        raise FormatError(path, "empty file")
    if not lines[0].startswith("PathFileType"):
        raise FormatError(path, "first line must start with 'PathFileType': not a TRC file", line=1)
    if len(lines) < 5:
        raise FormatError(path, "header only: a TRC header needs 5 lines before the data", line=len(lines))
    keys = [c.strip() for c in _cells(lines[1])]
    values = [c.strip() for c in _cells(lines[2])]
    head = dict(zip(keys, values, strict=False))
    for key in ("DataRate", "NumFrames", "NumMarkers", "Units"):
        if key not in keys:
            raise FormatError(path, f"header has no {key!r}", line=2, field=key)
        if not head.get(key):
            raise FormatError(path, f"no value for {key!r}", line=3, field=key)
    try:
        fps = float(head["DataRate"])
        if not (math.isfinite(fps) and fps > 0):
            raise ValueError
    except ValueError:
        raise FormatError(
            path, f"DataRate {head['DataRate']!r} is not a positive number", line=3, field="DataRate"
        ) from None
    counts = {}
    for key in ("NumFrames", "NumMarkers"):
        try:
            counts[key] = int(head[key])
            if counts[key] < (1 if key == "NumMarkers" else 0):
                raise ValueError
        except ValueError:
            raise FormatError(path, f"{head[key]!r} is not a valid count", line=3, field=key) from None
    units = head["Units"]
    if units.lower() not in TRC_UNITS:
        raise FormatError(path, f"unknown Units {units!r} (expected one of {list(TRC_UNITS)})", line=3, field="Units")
    scale = TRC_UNITS[units.lower()]
    n_markers = counts["NumMarkers"]

    name_cells = lines[3].split("\t")
    names = [c.strip() for c in name_cells[2:] if c.strip()]
    if len(names) != n_markers:
        raise FormatError(path, f"{len(names)} marker names but NumMarkers={n_markers}", line=4, field="NumMarkers")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise FormatError(path, f"duplicate marker name(s) {dup}", line=4, field=dup[0])
    n_coord = len([c for c in lines[4].split("\t") if c.strip()])
    if n_coord != 3 * n_markers:
        raise FormatError(path, f"{n_coord} coordinate labels, expected {3 * n_markers} (X/Y/Z per marker)", line=5)

    width = 2 + 3 * n_markers
    fields = ["Frame#", "Time"] + [f"{n}.{a}" for n in names for a in "XYZ"]
    rows: list[list[str]] = []
    linenos: list[int] = []
    split = [(k, lines[k].split("\t") if "\t" in lines[k] else lines[k].split()) for k in range(5, len(lines))]
    split = [(k, c) for k, c in split if lines[k].strip()]
    # Rows that all stop after the same whole marker: the markers after it are blank throughout.
    short = {len(c) for _, c in split}
    pad = len(short) == 1 and 2 <= min(short) < width and (min(short) - 2) % 3 == 0
    for k, cells in split:
        if pad:
            cells = cells + [""] * (width - len(cells))
        if len(cells) > width and not any(c.strip() for c in cells[width:]):
            cells = cells[:width]
        frame_label = cells[0].strip()
        frame = int(frame_label) if frame_label.isascii() and frame_label.isdigit() else len(rows) + 1
        if len(cells) != width:
            where = names[(len(cells) - 2) // 3] if 2 <= len(cells) < width else None
            raise FormatError(
                path,
                f"row has {len(cells)} cells, expected {width} (truncated or garbled row)",
                line=k + 1,
                frame=frame,
                field=where,
            )
        rows.append([c.strip() or "nan" for c in cells])
        linenos.append(k + 1)
    if not rows:
        raise FormatError(path, "header only: no data rows", line=len(lines))
    if len(rows) != counts["NumFrames"]:
        raise FormatError(
            path,
            f"NumFrames={counts['NumFrames']} but the file has {len(rows)} data rows (last on line {linenos[-1]})",
            line=3,
            field="NumFrames",
        )

    frame_ids = [int(r[0]) if r[0].isascii() and r[0].isdigit() else k + 1 for k, r in enumerate(rows)]
    table = _parse_numbers(path, rows, linenos, fields, "cell", frame_ids)
    frames = np.asarray(frame_ids)
    nonfinite = ~np.isfinite(table)
    nonfinite[:, 2:] &= ~np.isnan(table[:, 2:])  # NaN (blank) samples are allowed in marker columns
    if nonfinite.any():
        r, c = (int(v) for v in np.argwhere(nonfinite)[0])
        msg = "missing value" if np.isnan(table[r, c]) else f"{rows[r][c]!r} is not a finite number"
        raise FormatError(path, msg, line=linenos[r], frame=int(frames[r]), field=fields[c])
    pos = table[:, 2:].reshape(len(rows), n_markers, 3)
    missing = np.isnan(pos)
    partial = missing.any(axis=2) & ~missing.all(axis=2)
    if partial.any():
        r, m = (int(v) for v in np.argwhere(partial)[0])
        raise FormatError(
            path,
            "marker sample is partly blank (X, Y, Z must be all present or all blank)",
            line=linenos[r],
            frame=int(frames[r]),
            field=names[m],
        )
    absent = missing.all(axis=(0, 2))
    if absent.all():
        raise FormatError(path, "no marker has samples in any frame", field=names[0])
    skipped = [n for n, a in zip(names, absent, strict=True) if a]
    if skipped:
        warnings.warn(f"{path}: skipped {len(skipped)} marker(s) with no samples in any frame: {', '.join(skipped)}",
                      UserWarning, stacklevel=2)  # fmt: skip
        pos = pos[:, ~absent]
        names = [n for n, a in zip(names, absent, strict=True) if not a]
    times = table[:, 1]
    dt = np.diff(times)
    if (dt <= 0).any():
        r = int(np.argmax(dt <= 0)) + 1
        raise FormatError(
            path, f"time {times[r]!r} does not increase", line=linenos[r], frame=int(frames[r]), field="Time"
        )
    return MarkerData(path=path, names=names, positions=pos * scale, fps=fps, times=times, units_in_file=units,
                      skipped=skipped)  # fmt: skip


def write_trc(path: str | Path, markers: MarkerData, units: str | None = None) -> None:
    """Write a ``.trc`` file atomically (missing samples as blank cells).

    Parameters
    ----------
    path
        Destination.
    markers
        Positions in metres.
    units
        Unit to store (``"mm"``, ``"cm"``, ``"m"``); default ``markers.units_in_file``.
    """
    units = units or markers.units_in_file
    if units not in TRC_UNITS:
        raise ValueError(f"units must be one of {list(TRC_UNITS)}; got {units!r}")
    pos = np.asarray(markers.positions, dtype=np.float64)
    n_frames, n_markers = pos.shape[:2] if pos.ndim == 3 else (0, 0)
    if pos.ndim != 3 or pos.shape[2] != 3 or n_frames < 1 or n_markers != len(markers.names):
        raise ValueError(f"positions must be (T>=1, {len(markers.names)}, 3); got {pos.shape}")
    times = np.asarray(markers.times, dtype=np.float64)
    if times.shape != (n_frames,) or not np.isfinite(times).all() or (np.diff(times) <= 0).any():
        raise ValueError("times must be (T,), finite and strictly increasing")
    if any(not n or "\t" in n or "\n" in n for n in markers.names) or len(set(markers.names)) != n_markers:
        raise ValueError("marker names must be unique, non-empty and without tabs")
    if np.isinf(pos).any():
        raise ValueError("positions contain inf")
    values = pos / TRC_UNITS[units]
    name = Path(path).name
    rate = _fmt(markers.fps)
    with atomic_write(path, "w", newline="\n") as f:
        f.write(f"PathFileType\t4\t(X/Y/Z)\t{name}\n")
        f.write("DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames\n")
        f.write(f"{rate}\t{rate}\t{n_frames}\t{n_markers}\t{units}\t{rate}\t1\t{n_frames}\n")
        f.write("Frame#\tTime\t" + "\t".join(f"{n}\t\t" for n in markers.names) + "\n")
        f.write("\t\t" + "\t".join(f"X{i}\tY{i}\tZ{i}" for i in range(1, n_markers + 1)) + "\n\n")
        for t in range(n_frames):
            cells = [str(t + 1), _fmt(times[t])]
            for xyz in values[t].tolist():
                cells.extend([""] * 3 if any(math.isnan(v) for v in xyz) else map(_fmt, xyz))
            f.write("\t".join(cells) + "\n")
