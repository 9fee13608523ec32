"""Text helpers shared by the OpenSim table (.mot/.sto) and TRC readers and writers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import FormatError


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


def _encoding(path: Path) -> str:
    """UTF-8 if the whole file decodes as such, else Latin-1 (read in 1 MiB blocks: bounded memory)."""
    import codecs

    dec = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as f:
            while block := f.read(1 << 20):
                dec.decode(block)
        dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return "latin-1"  # marker names written by Windows tools
    return "utf-8"


def _iter_lines(path: Path) -> Iterator[str]:
    """The file's lines without terminators, one at a time (a 1-hour table never sits in memory whole)."""
    with open(path, encoding=_encoding(path), newline="") as f:
        for line in f:
            yield line.rstrip("\r\n")


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
