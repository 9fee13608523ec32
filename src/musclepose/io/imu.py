"""IMU recordings in CSV: accelerometer, gyroscope and (optionally) magnetometer per sensor.

Column names (one or more header rows; with several, as gaitmap writes, a column's cells are
joined with ``_``) are ``<sensor prefix>_<quantity>_<axis> [unit]``, case-insensitive:
quantity ``acc``/``accel``/``a``..., ``gyr``/``gyro``/``w``/``g``..., ``mag``/``m``...; axis
``x``, ``y``, ``z``; no prefix means sensor ``"imu"``; a unit may follow in brackets or
parentheses; ``time``/``t``/``timestamp`` (optionally ``_s``/``_ms``/``_us``) is the time
column; other columns are ignored. Units are converted to SI (:mod:`.imu_units`). Axes are the
sensor's own frame as recorded; nothing is rotated. ``time`` keeps the file's origin (in
seconds); without a time column it is ``arange(T) / fps``. In
:class:`~musclepose.io.errors.FormatError` messages, lines are 1-based and frames 0-based rows.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import FormatError
from .imu_units import (
    ACC_UNITS,
    GYRO_UNITS,
    MAG_NAMES,
    MAG_UNITS,
    TIME_UNITS,
    detect_time_unit,
    detect_unit,
    normalize_unit,
)

__all__ = ["IMUData", "read_imu_csv"]

_QUANTITY = {
    "accelerometer": "acc", "acceleration": "acc", "accel": "acc", "acc": "acc", "a": "acc",
    "gyroscope": "gyro", "gyro": "gyro", "gyr": "gyro", "angvel": "gyro", "w": "gyro", "g": "gyro",
    "magnetometer": "mag", "mag": "mag", "m": "mag",
}  # fmt: skip
_COL_RE = re.compile(
    r"^(?:(?P<sensor>.*?)_)?(?P<q>" + "|".join(sorted(_QUANTITY, key=len, reverse=True)) + r")_?(?P<axis>[xyz])$"
)
_TIME_RE = re.compile(r"^(?:time|t|timestamp|time_stamp)(?:_(?P<unit>s|ms|us|sec))?$")
_UNIT_RE = re.compile(r"^(?P<name>.*?)\s*[\[(](?P<unit>[^\])]*)[\])]\s*$")
_FPS_RE = re.compile(r"(?:fps|sampling[_ ]?rate|sample[_ ]?rate|frequency)\s*[:=]\s*(?P<v>[0-9.eE+-]+)")


@dataclass
class IMUData:
    """Inertial data of one or more sensors, in SI units.

    Attributes
    ----------
    path : Path or None
        Source file.
    sensors : list of str
        Sensor names in column order (``["left_sensor", "right_sensor"]``, or ``["imu"]``).
    fps : float
        Sampling rate (Hz): the caller's, else from the time column.
    time : np.ndarray
        ``(T,)`` seconds.
    acc : dict of str to np.ndarray
        ``sensor -> (T, 3)`` specific force in m/s^2 (reads +g upwards at rest).
    gyro : dict of str to np.ndarray
        ``sensor -> (T, 3)`` angular velocity in rad/s.
    mag : dict of str to np.ndarray or None
        ``sensor -> (T, 3)`` magnetic field (microtesla when the unit was declared).
    units : dict of str to str
        The file's units as read or detected: keys ``acc``, ``gyro``, ``time`` (``"none"``
        without a time column) and ``mag`` when present.
    unit_source : dict of str to str
        For each key of ``units``: ``"argument"``, ``"header"``, ``"detected"`` or ``"none"``
        (no time column; a magnetometer without a declared unit).
    """

    path: Path | None
    sensors: list[str]
    fps: float
    time: np.ndarray
    acc: dict[str, np.ndarray]
    gyro: dict[str, np.ndarray]
    mag: dict[str, np.ndarray] | None
    units: dict[str, str]
    unit_source: dict[str, str] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        """Number of samples ``T``."""
        return int(self.time.shape[0])


def _split_name(raw: str) -> tuple[str, str | None]:
    """``"Acc X [m/s^2]"`` -> (``"acc_x"``, ``"m/s^2"``); the unit is None when not given."""
    m = _UNIT_RE.match(raw.strip())
    name, unit = (m["name"], m["unit"].strip()) if m else (raw, None)
    name = re.sub(r"[\s.\-/]+", "_", name.strip().lower()).strip("_")
    return name, unit


def read_imu_csv(
    path: str | Path,
    fps: float | None = None,
    acc_unit: str | None = None,
    gyro_unit: str | None = None,
) -> IMUData:
    """Read an IMU CSV file (comma, semicolon or tab separated).

    Parameters
    ----------
    path : str or Path
        The CSV file.
    fps : float, optional
        Sampling rate in Hz. Required when the file has no time column (gaitmap's files carry
        only a sample index); otherwise it overrides the rate estimated from the time column.
    acc_unit : {"m/s^2", "g", "mg"}, optional
        Overrides the header and the detection.
    gyro_unit : {"deg/s", "rad/s"}, optional
        Overrides the header and the detection.

    Returns
    -------
    IMUData
        acc in m/s^2, gyro in rad/s, time in s.

    Raises
    ------
    FormatError
        Empty file or no data rows; a sensor with some but not all of acc x/y/z and gyro
        x/y/z (naming the sensor and axis); rows of the wrong length; a value that is empty,
        not a number, NaN or inf (frame and column); a time column that does not increase
        (frame); an unknown or inconsistent unit; no time column and no ``fps``.
    ValueError
        For a bad ``fps``, ``acc_unit`` or ``gyro_unit`` argument.
    """
    path = Path(path)
    if fps is not None and not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number; got {fps}")
    arg_units = {"acc": acc_unit, "gyro": gyro_unit}
    for key, unit in arg_units.items():
        table = ACC_UNITS if key == "acc" else GYRO_UNITS
        if unit is not None and normalize_unit(unit) not in table:
            raise ValueError(f"{key}_unit must be one of {list(table)}; got {unit!r}")

    header, rows, file_fps = _read_table(path)
    by_key, time_col = _classify(path, header)
    sensors = list(dict.fromkeys(s for s, _, _ in by_key))
    data = _parse_numbers(path, rows, header, needed=sorted(set(by_key.values()) | ({time_col} - {None})))

    units: dict[str, str] = {}
    source: dict[str, str] = {}
    out: dict[str, dict[str, np.ndarray]] = {}
    for q in ("acc", "gyro", "mag"):
        cols = [c for k, c in by_key.items() if k[1] == q]
        if cols:
            unit = _declared_unit(path, q, header, cols)
            vectors = {s: data[:, [by_key[(s, q, a)] for a in "xyz"]] for s in sensors if (s, q, "x") in by_key}
            if arg_units.get(q) is not None:
                unit, source[q] = normalize_unit(arg_units[q]), "argument"
            elif unit is not None:
                source[q] = "header"
            elif q == "mag":
                units[q], source[q], out[q] = "as read", "none", vectors
                continue
            else:
                unit, source[q] = detect_unit(path, q, np.concatenate(list(vectors.values()))), "detected"
            units[q] = MAG_NAMES.get(unit, unit) if q == "mag" else unit
            scale = {"acc": ACC_UNITS, "gyro": GYRO_UNITS, "mag": MAG_UNITS}[q][unit]
            out[q] = {s: v * scale for s, v in vectors.items()}

    if time_col is None:
        if fps is None and file_fps is None:
            raise FormatError(path, "no time column: pass fps", field="time")
        rate = float(fps if fps is not None else file_fps)
        time = np.arange(data.shape[0]) / rate
        units["time"], source["time"] = "none", "none"
    else:
        time, units["time"], source["time"] = _time_column(
            path, data[:, time_col], header[time_col], rows, fps, file_fps
        )
        if fps is not None:
            rate = float(fps)
        elif time.size > 1:
            rate = 1.0 / float(np.median(np.diff(time)))
        elif file_fps is not None:
            rate = float(file_fps)
        else:
            raise FormatError(path, "one sample and no fps: the rate is unknown", field="time")
    return IMUData(
        path=path,
        sensors=sensors,
        fps=rate,
        time=time,
        acc=out["acc"],
        gyro=out["gyro"],
        mag=out.get("mag"),
        units=units,
        unit_source=source,
    )


def _declared_unit(path: Path, q: str, header: list[tuple[str, int]], cols: list[int]) -> str | None:
    """The canonical unit the header declares for quantity ``q`` (all its columns alike), or None."""
    table = {"acc": ACC_UNITS, "gyro": GYRO_UNITS, "mag": MAG_UNITS}[q]
    declared = set()
    for c in cols:
        raw = _split_name(header[c][0])[1]
        unit = None if raw is None else normalize_unit(raw)
        if raw is not None and unit not in table:
            raise FormatError(path, f"unknown {q} unit {raw!r}", field=header[c][0], line=header[c][1])
        declared.add(unit)
    if len(declared) > 1:
        found = sorted(str(u) for u in declared)
        raise FormatError(path, f"{q} columns declare different units: {found}", line=header[cols[0]][1])
    return declared.pop()


def _time_column(
    path: Path,
    raw_t: np.ndarray,
    head: tuple[str, int],
    rows: list[tuple[int, list[str]]],
    fps: float | None,
    file_fps: float | None,
) -> tuple[np.ndarray, str, str]:
    """Time in seconds, its unit in the file, and where that unit came from."""
    steps = np.diff(raw_t)
    if (steps <= 0).any():
        t = int(np.flatnonzero(steps <= 0)[0]) + 1
        raise FormatError(
            path,
            f"time does not increase ({float(raw_t[t - 1])!r} then {float(raw_t[t])!r})",
            frame=t,
            line=rows[t][0],
            field=head[0],
        )
    name, raw_unit = _split_name(head[0])
    suffix = _TIME_RE.match(name)["unit"]
    if raw_unit is not None or suffix:
        unit = normalize_unit(raw_unit if raw_unit is not None else suffix)
        if unit not in TIME_UNITS:
            raise FormatError(path, f"unknown time unit {raw_unit!r}", field=head[0], line=head[1])
        return raw_t * TIME_UNITS[unit], unit, "header"
    unit = detect_time_unit(path, steps, fps if fps is not None else file_fps)
    return raw_t * TIME_UNITS[unit], unit, "detected"


def _read_table(path: Path) -> tuple[list[tuple[str, int]], list[tuple[int, list[str]]], float | None]:
    """Header cells ``(name, line of the last header row)`` and data rows ``(line, cells)``."""
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError as e:
        raise FormatError(path, f"cannot read: {e.strerror or e}") from None
    lines = text.splitlines()
    file_fps = None
    body: list[tuple[int, str]] = []
    for n, line in enumerate(lines):
        s = line.strip()
        if not s:
            continue
        if s.startswith("#"):
            m = _FPS_RE.search(s.lower())
            if m:
                try:
                    file_fps = float(m["v"])
                except ValueError:
                    raise FormatError(path, f"rate {m['v']!r} is not a number", line=n + 1, field="fps") from None
                if not (math.isfinite(file_fps) and file_fps > 0):
                    raise FormatError(path, f"rate {m['v']!r} must be positive", line=n + 1, field="fps")
            continue
        body.append((n + 1, line))
    if not body:
        raise FormatError(path, "empty file")
    first = body[0][1]
    delim = max((",", ";", "\t"), key=first.count)
    parsed = [(n, row) for (n, _), row in zip(body, csv.reader([b for _, b in body], delimiter=delim), strict=True)]

    def numeric(cell: str) -> bool:
        try:
            float(cell)
            return True
        except ValueError:
            return False

    # Header rows: leading rows where most non-empty cells are not numbers (a garbled
    # number in a data row leaves that row mostly numeric, so it stays data).
    n_head = 0
    for _, row in parsed:
        cells = [c for c in row if c.strip()]
        if cells and sum(not numeric(c) for c in cells) * 2 > len(cells):
            n_head += 1
        else:
            break
    if n_head == 0:
        raise FormatError(path, "no header row with column names", line=parsed[0][0])
    head_rows = [row for _, row in parsed[:n_head]]
    width = len(head_rows[-1])
    header = []
    for c in range(width):
        cells = [r[c].strip() for r in head_rows if c < len(r) and r[c].strip()]
        header.append(("_".join(cells), parsed[n_head - 1][0]))
    rows = parsed[n_head:]
    if not rows:
        raise FormatError(path, "no data rows", line=parsed[-1][0])
    return header, rows, file_fps


def _classify(path: Path, header: list[tuple[str, int]]) -> tuple[dict[tuple[str, str, str], int], int | None]:
    """Map ``(sensor, quantity, axis) -> column`` and find the time column."""
    columns: dict[tuple[str, str, str], int] = {}
    time_col = None
    for c, (raw, line) in enumerate(header):
        name, _ = _split_name(raw)
        if _TIME_RE.match(name):
            if time_col is not None:
                raise FormatError(path, f"two time columns ({header[time_col][0]!r}, {raw!r})", line=line)
            time_col = c
            continue
        m = _COL_RE.match(name)
        if not m:
            continue
        key = ((m["sensor"] or "imu").strip("_") or "imu", _QUANTITY[m["q"]], m["axis"])
        if key in columns:
            raise FormatError(path, f"column {raw!r} repeats {key[0]} {key[1]} {key[2]}", field=raw, line=line)
        columns[key] = c
    if not columns:
        raise FormatError(path, "no accelerometer or gyroscope columns (e.g. 'acc_x', 'gyr_x')", line=header[0][1])
    # Every sensor needs acc and gyro x, y, z; a magnetometer is optional but then complete.
    for s in dict.fromkeys(k[0] for k in columns):
        for q in ("acc", "gyro", "mag"):
            if q == "mag" and not any((s, q, a) in columns for a in "xyz"):
                continue
            for a in "xyz":
                if (s, q, a) not in columns:
                    raise FormatError(
                        path, f"sensor {s!r} has no {q} {a} column", field=f"{s}.{q}_{a}", line=header[0][1]
                    )
    return columns, time_col


def _parse_numbers(
    path: Path, rows: list[tuple[int, list[str]]], header: list[tuple[str, int]], needed: list[int]
) -> np.ndarray:
    """The ``needed`` columns as floats in a ``(T, n_columns)`` array (other columns NaN)."""
    n_cols = len(header)
    for t, (line, row) in enumerate(rows):
        if len(row) != n_cols:
            raise FormatError(path, f"expected {n_cols} fields, found {len(row)}", line=line, frame=t)
    cells = [[row[c] for c in needed] for _, row in rows]
    try:
        sub = np.array(cells, dtype=np.float64)
    except ValueError:
        for t, (line, row) in enumerate(rows):
            for c in needed:
                try:
                    float(row[c])
                except ValueError:
                    what = "empty value" if not row[c].strip() else f"{row[c]!r} is not a number"
                    raise FormatError(path, what, line=line, frame=t, field=header[c][0]) from None
        raise
    bad = ~np.isfinite(sub)
    if bad.any():
        t, j = (int(i) for i in np.argwhere(bad)[0])
        c = needed[j]
        raise FormatError(path, f"value {rows[t][1][c]!r} is not finite", line=rows[t][0], frame=t, field=header[c][0])
    data = np.full((len(rows), n_cols), np.nan)
    data[:, needed] = sub
    return data
