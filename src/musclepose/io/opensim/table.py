"""OpenSim ``.mot``/``.sto`` tables of doubles: reader and writer.

Values are returned as stored: rotational coordinates are in degrees when
:attr:`OpenSimTable.in_degrees` is ``True`` (header ``inDegrees=yes``), translations in m,
forces in N, moments in N m. Formats follow the OpenSim documentation ("Storage (.sto) files",
OpenSim 4 ``TimeSeriesTable`` adapters), including the older headers: SIMM-era
``datacolumns``/``datarows`` and OpenSim 4 headers without ``nRows``/``nColumns``. Errors are
:class:`~musclepose.io.errors.FormatError` naming the file, line (1-based) and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..atomic import atomic_write
from ..errors import FormatError
from ._text import _cells, _fmt, _iter_lines, _parse_numbers

__all__ = ["OpenSimTable", "read_table", "write_table"]


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
    # Streamed line by line and parsed in blocks: a 1-hour table at 100 Hz (150 MB of text) would
    # take 1.2 GB as a list of lines and cells.
    lines = _iter_lines(path)
    head: list[str] = []
    end = None
    for s in lines:
        head.append(s)
        if s.strip().lower() == "endheader":
            end = len(head) - 1
            break
    if end is None:
        if not any(s.strip() for s in head):
            raise FormatError(path, "empty file")
        raise FormatError(path, "no 'endheader' line: not an OpenSim .mot/.sto table", line=len(head))

    header: dict[str, str] = {}
    header_line: dict[str, int] = {}
    for i in range(end):
        s = head[i].strip()
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

    lineno = end + 1  # 1-based number of the last line read
    label_text = None
    for s in lines:
        lineno += 1
        if s.strip():
            label_text = s
            break
    if label_text is None:
        raise FormatError(path, "header only: no column labels after 'endheader'", line=end + 1)
    labels = [c.strip() for c in _cells(label_text.rstrip())]
    label_line = lineno
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

    blocks: list[np.ndarray] = []
    rows: list[list[str]] = []
    linenos: list[int] = []
    n_rows, last_line = 0, label_line
    for s in lines:
        lineno += 1
        s = s.strip()
        if not s:
            continue
        cells = s.split()
        if len(cells) != len(labels):
            missing = labels[len(cells)] if len(cells) < len(labels) else None
            raise FormatError(
                path,
                f"row has {len(cells)} values, expected {len(labels)} (short, garbled or truncated line)",
                line=lineno,
                field=missing,
            )
        rows.append(cells)
        linenos.append(lineno)
        if len(rows) == _BLOCK:
            blocks.append(_checked_block(path, rows, linenos, labels))
            n_rows, last_line, rows, linenos = n_rows + len(rows), lineno, [], []
    if rows:
        blocks.append(_checked_block(path, rows, linenos, labels))
        n_rows, last_line = n_rows + len(rows), linenos[-1]
    if not n_rows:
        raise FormatError(path, "no data rows after the column labels", line=label_line)

    for key in _ROWS_KEYS:
        if key in header:
            n = _header_int(path, header, header_line, key)
            if n != n_rows:
                raise FormatError(
                    path,
                    f"header says {n} rows but the file has {n_rows} (last row on line {last_line}; truncated?)",
                    line=header_line[key],
                    field=key,
                )

    data = blocks[0] if len(blocks) == 1 else np.concatenate(blocks)
    del blocks
    dt = np.diff(data[:, 0])
    if (dt <= 0).any():
        r = int(np.argmax(dt <= 0)) + 1
        # The line of data row r: rows are numbered from the first data line, blank lines skipped;
        # found again by a second pass only in this (rare) error case.
        raise FormatError(
            path, f"time {data[r, 0]!r} does not increase (previous {data[r - 1, 0]!r})",
            line=_data_line(path, label_line, r), field="time",
        )  # fmt: skip
    return OpenSimTable(path=path, columns=labels, data=data, in_degrees=in_degrees, header=header)


_BLOCK = 8192  # rows parsed at a time


def _checked_block(path: Path, rows: list[list[str]], linenos: list[int], labels: list[str]) -> np.ndarray:
    data = _parse_numbers(path, rows, linenos, labels, "value")
    bad = ~np.isfinite(data)
    if bad.any():
        r, c = (int(v) for v in np.argwhere(bad)[0])
        raise FormatError(path, f"value {rows[r][c]!r} is not finite", line=linenos[r], field=labels[c])
    return data


def _data_line(path: Path, label_line: int, row: int) -> int:
    """The 1-based line number of data row ``row`` (0-based, blank lines not counted)."""
    k = -1
    for n, s in enumerate(_iter_lines(path), start=1):
        if n > label_line and s.strip():
            k += 1
            if k == row:
                return n
    return label_line  # pragma: no cover - the row exists


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
