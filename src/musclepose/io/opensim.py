"""OpenSim files: .mot/.sto tables, .trc markers, .osim marker sets and bodies, ExternalLoads XML.

Conventions
-----------
- OpenSim is Y-up and right-handed like MusclePose; nothing here changes axes.
- Marker positions are returned in **metres** whatever the TRC header's ``Units`` (``mm``,
  ``cm`` or ``m``); :attr:`MarkerData.units_in_file` remembers the file's unit.
- Table values are returned as stored: rotational coordinates are in degrees when
  :attr:`OpenSimTable.in_degrees` is ``True`` (header ``inDegrees=yes``), translations in m,
  forces in N, moments in N m. Nothing is converted.
- ``.osim`` locations, masses and inertias are SI (m, kg, kg m^2) in the named body's frame.

Every reader raises :class:`~musclepose.io.errors.FormatError` naming the file and, where it
applies, the line (1-based), frame (1-based, as in the file's ``Frame#`` column) and field
(column, marker or XML element). Writers go through :func:`~musclepose.io.atomic.atomic_write`.

Formats follow the OpenSim documentation ("Storage (.sto) files", "Marker (.trc) files",
OpenSim 4 ``TimeSeriesTable`` adapters), including the older headers: SIMM-era
``datacolumns``/``datarows`` and OpenSim 4 headers without ``nRows``/``nColumns``.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
import xml.parsers.expat
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .atomic import atomic_write
from .errors import FormatError

__all__ = [
    "TRC_UNITS",
    "ExternalForceSpec",
    "MarkerData",
    "OpenSimTable",
    "OsimBody",
    "read_external_loads",
    "read_osim_bodies",
    "read_osim_markers",
    "read_table",
    "read_trc",
    "write_table",
    "write_trc",
]

#: Metres per TRC unit.
TRC_UNITS: dict[str, float] = {"mm": 1e-3, "cm": 1e-2, "m": 1.0}


def _read_lines(path: Path) -> list[str]:
    """The file's lines without line terminators (``\\r\\n`` or ``\\n``)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # marker names written by Windows tools
    lines = [s.rstrip("\r") for s in text.split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _cells(line: str) -> list[str]:
    """Tab-separated cells if the line has tabs, else whitespace-separated."""
    return line.split("\t") if "\t" in line else line.split()


def _fmt(v: float) -> str:
    # Shortest text that reads back to the same double (OpenSim parses it with strtod).
    return repr(float(v))


def _parse_numbers(
    path: Path,
    rows: list[list[str]],
    linenos: list[int],
    names: list[str],
    what: str,
    frames: list[int] | None = None,
) -> np.ndarray:
    """Convert equal-length rows of text to float64; on failure name the first bad cell."""
    try:
        return np.array(rows, dtype=np.float64).reshape(len(rows), len(names))
    except ValueError:
        pass
    for r, (cells, lineno) in enumerate(zip(rows, linenos, strict=True)):
        for c, text in enumerate(cells):
            try:
                float(text)
            except ValueError:
                frame = frames[r] if frames is not None else None
                msg = f"{what} {text!r} is not a number"
                raise FormatError(path, msg, line=lineno, frame=frame, field=names[c]) from None
    raise FormatError(path, f"{what}s could not be parsed")  # pragma: no cover - unreachable


# ============================================================================ .mot / .sto
@dataclass
class OpenSimTable:
    """A numeric OpenSim table (``.mot`` or ``.sto``).

    Attributes
    ----------
    path : Path or None
        Source file.
    columns : list of str
        Column labels; ``columns[0]`` is ``"time"``.
    data : np.ndarray, (T, C) float64
        Values as stored (see :attr:`in_degrees`), time in the first column (s).
    in_degrees : bool or None
        The header's ``inDegrees`` (``None`` when absent).
    header : dict of str to str
        Every ``key=value`` header line, plus ``"name"`` for a first line without ``=``.
    """

    path: Path | None
    columns: list[str]
    data: np.ndarray
    in_degrees: bool | None
    header: dict[str, str] = field(default_factory=dict)

    @property
    def time(self) -> np.ndarray:
        """Time stamps, ``(T,)`` s."""
        return self.data[:, 0]

    @property
    def n_rows(self) -> int:
        return int(self.data.shape[0])

    def column(self, name: str) -> np.ndarray:
        """One column by label, ``(T,)``; ``KeyError`` lists the labels when absent."""
        try:
            return self.data[:, self.columns.index(name)]
        except ValueError:
            raise KeyError(f"no column {name!r} in {self.path}; columns: {self.columns}") from None


_ROWS_KEYS = ("nRows", "datarows")
_COLS_KEYS = ("nColumns", "datacolumns")


def read_table(path: str | Path) -> OpenSimTable:
    """Read an OpenSim ``.mot`` or ``.sto`` table of doubles.

    Accepts the OpenSim 3 header (name line, ``version``, ``nRows``, ``nColumns``,
    ``inDegrees``), the OpenSim 4 header (``OpenSimVersion``, ``DataType=double``, no row
    or column counts) and the SIMM header (``datacolumns N``, ``datarows N``). Cells may be
    separated by tabs or spaces; trailing separators are ignored.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    OpenSimTable

    Raises
    ------
    FormatError
        No ``endheader``; no labels; a row that is short, long or non-numeric; NaN or inf;
        counts that disagree with ``nRows``/``nColumns``; a first column other than time;
        time not strictly increasing; an unsupported ``DataType``.
    """
    path = Path(path)
    lines = _read_lines(path)
    if not any(s.strip() for s in lines):
        raise FormatError(path, "empty file")
    end = next((i for i, s in enumerate(lines) if s.strip().lower() == "endheader"), None)
    if end is None:
        raise FormatError(path, "no 'endheader' line: not an OpenSim .mot/.sto table", line=len(lines))

    header: dict[str, str] = {}
    header_line: dict[str, int] = {}
    for i in range(end):
        s = lines[i].strip()
        if "=" in s:
            key, value = (t.strip() for t in s.split("=", 1))
            header[key], header_line[key] = value, i + 1
        elif s.split() and s.split()[0] in ("datacolumns", "datarows") and len(s.split()) == 2:
            header[s.split()[0]], header_line[s.split()[0]] = s.split()[1], i + 1
        elif i == 0 and s:
            header["name"] = s

    dtype = header.get("DataType", "double")
    if dtype.lower() != "double":
        raise FormatError(path, f"DataType {dtype!r} is not supported (only double)", line=header_line["DataType"])

    in_degrees: bool | None = None
    if "inDegrees" in header:
        flag = header["inDegrees"].lower()
        if flag not in ("yes", "no", "true", "false"):
            raise FormatError(
                path,
                f"inDegrees must be yes or no, not {header['inDegrees']!r}",
                line=header_line["inDegrees"],
                field="inDegrees",
            )
        in_degrees = flag in ("yes", "true")

    j = end + 1
    while j < len(lines) and not lines[j].strip():
        j += 1
    if j >= len(lines):
        raise FormatError(path, "header only: no column labels after 'endheader'", line=end + 1)
    labels = [c.strip() for c in _cells(lines[j].rstrip())]
    label_line = j + 1
    if "" in labels:
        raise FormatError(path, f"empty column label at position {labels.index('') + 1}", line=label_line)
    dup = sorted({c for c in labels if labels.count(c) > 1})
    if dup:
        raise FormatError(path, f"duplicate column label(s) {dup}", line=label_line, field=dup[0])
    if labels[0].lower() != "time":
        raise FormatError(path, f"first column must be 'time', not {labels[0]!r}", line=label_line, field=labels[0])

    for key in _COLS_KEYS:
        if key in header:
            n = _header_int(path, header, header_line, key)
            if n != len(labels):
                raise FormatError(
                    path,
                    f"header says {n} columns but the label line has {len(labels)}",
                    line=header_line[key],
                    field=key,
                )

    rows: list[list[str]] = []
    linenos: list[int] = []
    for k in range(j + 1, len(lines)):
        s = lines[k].strip()
        if not s:
            continue
        cells = s.split()
        if len(cells) != len(labels):
            missing = labels[len(cells)] if len(cells) < len(labels) else None
            raise FormatError(
                path,
                f"row has {len(cells)} values, expected {len(labels)} (short, garbled or truncated line)",
                line=k + 1,
                field=missing,
            )
        rows.append(cells)
        linenos.append(k + 1)
    if not rows:
        raise FormatError(path, "no data rows after the column labels", line=label_line)

    for key in _ROWS_KEYS:
        if key in header:
            n = _header_int(path, header, header_line, key)
            if n != len(rows):
                raise FormatError(
                    path,
                    f"header says {n} rows but the file has {len(rows)} (last row on line {linenos[-1]}; truncated?)",
                    line=header_line[key],
                    field=key,
                )

    data = _parse_numbers(path, rows, linenos, labels, "value")
    bad = ~np.isfinite(data)
    if bad.any():
        r, c = (int(v) for v in np.argwhere(bad)[0])
        raise FormatError(path, f"value {rows[r][c]!r} is not finite", line=linenos[r], field=labels[c])
    dt = np.diff(data[:, 0])
    if (dt <= 0).any():
        r = int(np.argmax(dt <= 0)) + 1
        raise FormatError(
            path, f"time {data[r, 0]!r} does not increase (previous {data[r - 1, 0]!r})", line=linenos[r], field="time"
        )
    return OpenSimTable(path=path, columns=labels, data=data, in_degrees=in_degrees, header=header)


def _header_int(path: Path, header: dict[str, str], lines: dict[str, int], key: str) -> int:
    try:
        n = int(header[key])
    except ValueError:
        raise FormatError(path, f"{header[key]!r} is not an integer", line=lines[key], field=key) from None
    if n < 0:
        raise FormatError(path, f"negative count {n}", line=lines[key], field=key)
    return n


def write_table(
    path: str | Path,
    columns: list[str],
    data: np.ndarray,
    in_degrees: bool | None,
    name: str = "musclepose",
) -> None:
    """Write an OpenSim table (``.mot`` or ``.sto``; same format) atomically.

    The header is the OpenSim 3 one (``version=1``, ``nRows``, ``nColumns``, ``inDegrees``,
    ``endheader``) that every OpenSim version reads; cells are tab-separated and printed
    with the shortest text that reads back to the same double.

    Parameters
    ----------
    path
        Destination.
    columns
        Labels, ``"time"`` first (as :attr:`OpenSimTable.columns`).
    data
        ``(T, C)`` finite values, time (strictly increasing) in the first column.
    in_degrees
        Written as ``inDegrees=yes/no``; ``None`` omits the line.
    name
        The first header line (OpenSim shows it as the table's name).
    """
    data = np.asarray(data, dtype=np.float64)
    columns = [str(c) for c in columns]
    if data.ndim != 2 or data.shape[1] != len(columns) or data.shape[0] < 1:
        raise ValueError(f"data must be (T>=1, {len(columns)}) for {len(columns)} columns; got {data.shape}")
    if not columns or columns[0] != "time":
        raise ValueError(f"the first column must be 'time'; got {columns[:1]}")
    bad = [c for c in columns if not c or any(ch.isspace() for ch in c)]
    if bad or len(set(columns)) != len(columns):
        raise ValueError(f"column labels must be unique and without whitespace; bad: {bad or columns}")
    if not np.isfinite(data).all():
        raise ValueError("data must be finite (OpenSim cannot read NaN or inf)")
    if (np.diff(data[:, 0]) <= 0).any():
        raise ValueError("time (first column) must be strictly increasing")
    if "\n" in name or "=" in name:
        raise ValueError(f"name must be one line without '=': {name!r}")
    head = [name or "musclepose", "version=1", f"nRows={data.shape[0]}", f"nColumns={data.shape[1]}"]
    if in_degrees is not None:
        head.append(f"inDegrees={'yes' if in_degrees else 'no'}")
    head.append("endheader")
    with atomic_write(path, "w", newline="\n") as f:
        f.write("\n".join(head) + "\n")
        f.write("\t".join(columns) + "\n")
        for row in data.tolist():
            f.write("\t".join(map(_fmt, row)) + "\n")


# ============================================================================ .trc
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
    """

    path: Path | None
    names: list[str]
    positions: np.ndarray
    fps: float
    times: np.ndarray
    units_in_file: str = "mm"

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
    as a whole triple, and no marker may be missing in every frame.

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
        disagrees with the rows; a marker with no data; time not strictly increasing.
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
    for k in range(5, len(lines)):
        s = lines[k]
        if not s.strip():
            continue
        cells = s.split("\t") if "\t" in s else s.split()
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
    if absent.any():
        m = int(np.argmax(absent))
        raise FormatError(path, f"marker {names[m]!r} has no samples in any frame", field=names[m])
    times = table[:, 1]
    dt = np.diff(times)
    if (dt <= 0).any():
        r = int(np.argmax(dt <= 0)) + 1
        raise FormatError(
            path, f"time {times[r]!r} does not increase", line=linenos[r], frame=int(frames[r]), field="Time"
        )
    return MarkerData(path=path, names=names, positions=pos * scale, fps=fps, times=times, units_in_file=units)


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


# ============================================================================ XML (.osim, ExternalLoads)
def _parse_xml(path: Path) -> tuple[ET.Element, dict[ET.Element, int]]:
    """Parse XML with expat, remembering each element's line (ElementTree forgets it)."""
    builder = ET.TreeBuilder()
    lines: dict[ET.Element, int] = {}
    parser = xml.parsers.expat.ParserCreate()

    def start(tag: str, attrs: dict[str, str]) -> None:
        lines[builder.start(tag, attrs)] = parser.CurrentLineNumber

    parser.StartElementHandler = start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    raw = path.read_bytes()
    if not raw.strip():
        raise FormatError(path, "empty file")
    try:
        parser.Parse(raw, True)
    except xml.parsers.expat.ExpatError as e:
        raise FormatError(path, f"not well-formed XML: {xml.parsers.expat.ErrorString(e.code)}", line=e.lineno) from e
    return builder.close(), lines


def _text(el: ET.Element | None) -> str | None:
    return None if el is None or el.text is None else el.text.strip()


def _vector(path: Path, el: ET.Element | None, n: int, what: str, lines: dict[ET.Element, int]) -> np.ndarray:
    text = _text(el)
    line = lines.get(el) if el is not None else None
    if text is None:
        raise FormatError(path, f"missing {n}-vector", field=what, line=line)
    try:
        v = np.array([float(t) for t in text.split()], dtype=np.float64)
    except ValueError:
        raise FormatError(path, f"{text!r} is not {n} numbers", field=what, line=line) from None
    if v.shape != (n,) or not np.isfinite(v).all():
        raise FormatError(path, f"{text!r} is not {n} finite numbers", field=what, line=line)
    return v


def _body_from_path(frame_path: str) -> str:
    """``/bodyset/pelvis`` -> ``pelvis``, ``/ground`` -> ``ground``, ``pelvis`` -> ``pelvis``."""
    parts = [p for p in frame_path.strip().split("/") if p and p != ".."]
    if "bodyset" in parts and parts.index("bodyset") + 1 < len(parts):
        return parts[parts.index("bodyset") + 1]
    return parts[-1] if parts else frame_path.strip()


def read_osim_markers(path: str | Path) -> dict[str, tuple[str, np.ndarray]]:
    """Marker name -> (body name, location ``(3,)`` m in that body's frame) from an ``.osim``.

    Reads the model's ``MarkerSet``: OpenSim 4 markers name their frame with
    ``<socket_parent_frame>/bodyset/pelvis</socket_parent_frame>``, OpenSim 3 markers with
    ``<body>pelvis</body>``.

    Raises
    ------
    FormatError
        Malformed XML (with line), a marker without a name, frame or a 3-number location.
    """
    path = Path(path)
    root, lines = _parse_xml(path)
    out: dict[str, tuple[str, np.ndarray]] = {}
    for mset in root.iter("MarkerSet"):
        for mk in mset.iter("Marker"):
            name = mk.get("name")
            if not name:
                raise FormatError(path, "Marker without a name", line=lines.get(mk), field="Marker")
            frame = _text(mk.find("socket_parent_frame")) or _text(mk.find("body"))
            if not frame:
                raise FormatError(path, "marker has no <socket_parent_frame> or <body>", line=lines.get(mk), field=name)
            loc = _vector(path, mk.find("location"), 3, f"{name}.location", lines)
            out[name] = (_body_from_path(frame), loc)
    if not out:
        raise FormatError(path, "no <MarkerSet> markers in the model", field="MarkerSet")
    return out


@dataclass(frozen=True)
class OsimBody:
    """A rigid body of an OpenSim model.

    Attributes
    ----------
    name, parent : str
        Body name and the name of its parent body (``"ground"`` for the root; ``None`` if the
        model has no joint for it).
    mass : float
        kg.
    mass_center : np.ndarray, (3,)
        m, in the body frame.
    inertia : np.ndarray, (3, 3)
        kg m^2 about the centre of mass, in the body frame (OpenSim stores
        ``Ixx Iyy Izz Ixy Ixz Iyz``).
    """

    name: str
    parent: str | None
    mass: float
    mass_center: np.ndarray
    inertia: np.ndarray


def _resolve_frame(ref: str | None, frames: dict[str | None, str | None]) -> str | None:
    """Follow a joint's offset-frame names to the body they sit on."""
    seen = set()
    while ref and not ref.startswith("/") and ref in frames and ref not in seen:
        seen.add(ref)
        ref = frames[ref]
    return _body_from_path(ref) if ref else None


def read_osim_bodies(path: str | Path) -> dict[str, OsimBody]:
    """Body name -> :class:`OsimBody` (parent, mass, centre of mass, inertia) from an ``.osim``.

    Parents come from the OpenSim 4 ``JointSet`` (joint parent/child frames, following
    ``PhysicalOffsetFrame`` sockets to their bodies) or, for OpenSim 3 models, from each
    body's ``<Joint>`` and its ``<parent_body>``.
    """
    path = Path(path)
    root, lines = _parse_xml(path)
    bodyset = next(root.iter("BodySet"), None)
    if bodyset is None:
        raise FormatError(path, "no <BodySet> in the model", field="BodySet")
    parents: dict[str, str] = {}
    joints = [j for jset in root.iter("JointSet") for objs in jset.findall("objects") for j in objs]
    for joint in joints:
        frames = {f.get("name"): _text(f.find("socket_parent")) for f in joint.iter("PhysicalOffsetFrame")}
        child = _resolve_frame(_text(joint.find("socket_child_frame")), frames)
        parent = _resolve_frame(_text(joint.find("socket_parent_frame")), frames)
        if child:
            parents[child] = parent or "ground"

    bodies: dict[str, OsimBody] = {}
    for body in bodyset.iter("Body"):
        name = body.get("name")
        if not name:
            raise FormatError(path, "Body without a name", line=lines.get(body), field="Body")
        mass_el = body.find("mass")
        try:
            mass = float(_text(mass_el) or "nan")
        except ValueError:
            mass = float("nan")
        if not (math.isfinite(mass) and mass >= 0):
            raise FormatError(
                path,
                f"mass {_text(mass_el)!r} is not a non-negative number",
                line=lines.get(mass_el, lines.get(body)),
                field=f"{name}.mass",
            )
        com = _vector(path, body.find("mass_center"), 3, f"{name}.mass_center", lines)
        if body.find("inertia") is not None:
            i6 = _vector(path, body.find("inertia"), 6, f"{name}.inertia", lines)
        else:  # OpenSim 3: <inertia_xx> ... <inertia_yz>
            parts = [_text(body.find(f"inertia_{k}")) or "0" for k in ("xx", "yy", "zz", "xy", "xz", "yz")]
            i6 = _vector(path, ET.fromstring(f"<i>{' '.join(parts)}</i>"), 6, f"{name}.inertia", lines)
        xx, yy, zz, xy, xz, yz = i6
        inertia = np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
        parent = parents.get(name)
        if parent is None:  # OpenSim 3: <Joint><CustomJoint><parent_body>
            parent = next((_text(pb) for pb in body.iter("parent_body")), None)
        bodies[name] = OsimBody(name=name, parent=parent, mass=mass, mass_center=com, inertia=inertia)
    if not bodies:
        raise FormatError(path, "no bodies in <BodySet>", field="BodySet")
    return bodies


@dataclass(frozen=True)
class ExternalForceSpec:
    """One ``ExternalForce`` of an OpenSim ``ExternalLoads`` file.

    The data columns are the identifiers plus ``x``, ``y``, ``z``
    (:attr:`force_columns`, :attr:`point_columns`, :attr:`torque_columns`), read from the
    storage file :attr:`datafile` (resolved against the XML's folder).
    """

    name: str
    applied_to_body: str
    force_expressed_in_body: str
    point_expressed_in_body: str
    force_identifier: str
    point_identifier: str | None
    torque_identifier: str | None
    data_source_name: str | None
    datafile: Path | None
    enabled: bool = True

    @property
    def force_columns(self) -> tuple[str, str, str]:
        return tuple(f"{self.force_identifier}{a}" for a in "xyz")  # type: ignore[return-value]

    @property
    def point_columns(self) -> tuple[str, str, str] | None:
        return None if not self.point_identifier else tuple(f"{self.point_identifier}{a}" for a in "xyz")  # type: ignore[return-value]

    @property
    def torque_columns(self) -> tuple[str, str, str] | None:
        return None if not self.torque_identifier else tuple(f"{self.torque_identifier}{a}" for a in "xyz")  # type: ignore[return-value]


def read_external_loads(xml_path: str | Path) -> list[ExternalForceSpec]:
    """Read an OpenSim ``ExternalLoads`` XML into one spec per ``ExternalForce``.

    ``force_expressed_in_body`` and ``point_expressed_in_body`` default to ``"ground"`` as in
    OpenSim. A force is disabled by ``<isDisabled>true</isDisabled>`` (OpenSim 3) or
    ``<appliesForce>false</appliesForce>`` (OpenSim 4).

    Raises
    ------
    FormatError
        Malformed XML, no ``ExternalLoads``, or a force without ``applied_to_body`` or
        ``force_identifier``.
    """
    path = Path(xml_path)
    root, lines = _parse_xml(path)
    loads = root if root.tag == "ExternalLoads" else root.find("ExternalLoads")
    if loads is None:
        raise FormatError(path, "no <ExternalLoads> element", line=lines.get(root), field="ExternalLoads")
    datafile_text = _text(loads.find("datafile"))
    datafile = None
    if datafile_text and datafile_text.lower() != "unassigned":
        datafile = Path(datafile_text)
        if not datafile.is_absolute():
            datafile = path.parent / datafile
    specs = []
    for ef in loads.iter("ExternalForce"):
        name = ef.get("name") or f"force{len(specs) + 1}"

        def req(tag: str, ef: ET.Element = ef, name: str = name) -> str:
            value = _text(ef.find(tag))
            if not value:
                raise FormatError(path, f"ExternalForce {name!r} has no <{tag}>", line=lines.get(ef), field=tag)
            return value

        def opt(tag: str, ef: ET.Element = ef) -> str | None:
            value = _text(ef.find(tag))
            return value if value and value.lower() != "unassigned" else None

        disabled = (opt("isDisabled") or "false").lower() == "true"
        disabled |= (opt("appliesForce") or "true").lower() == "false"
        specs.append(
            ExternalForceSpec(
                name=name,
                applied_to_body=req("applied_to_body"),
                force_expressed_in_body=opt("force_expressed_in_body") or "ground",
                point_expressed_in_body=opt("point_expressed_in_body") or "ground",
                force_identifier=req("force_identifier"),
                point_identifier=opt("point_identifier"),
                torque_identifier=opt("torque_identifier"),
                data_source_name=opt("data_source_name"),
                datafile=datafile,
                enabled=not disabled,
            )
        )
    if not specs:
        raise FormatError(path, "no <ExternalForce> in <ExternalLoads>", line=lines.get(loads), field="ExternalForce")
    return specs
