"""The one error type for bad input files, so the CLI can report it and exit with code 2.

Every reader raises :class:`FormatError` (a ``ValueError``) naming the file, and where known
the field (column, key, marker, channel) and the line or frame that is wrong.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["FormatError"]


class FormatError(ValueError):
    """A malformed, truncated or inconsistent input file.

    ``str(err)`` reads like ``squats1.trc: line 7, frame 3, field 'r_knee.X': not a number``.
    """

    def __init__(
        self,
        path: str | Path | None,
        message: str,
        *,
        field: str | None = None,
        line: int | None = None,
        frame: int | None = None,
    ) -> None:
        self.path = None if path is None else Path(path)
        self.field = field
        self.line = line
        self.frame = frame
        self.message = message
        where = [
            w
            for w in (
                f"line {line}" if line is not None else None,
                f"frame {frame}" if frame is not None else None,
                f"field {field!r}" if field is not None else None,
            )
            if w
        ]
        prefix = str(self.path) if self.path is not None else "<input>"
        super().__init__(f"{prefix}: {', '.join(where) + ': ' if where else ''}{message}")
