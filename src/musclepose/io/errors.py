"""The one error type for bad input files, so the CLI can report it and exit with code 2.

Every reader raises :class:`FormatError` (a ``ValueError``) naming the file, and where known
the field (column, key, marker, channel) and the line or frame that is wrong.
:func:`check_input_path` says precisely why a path cannot be read (missing, a folder, a symlink
loop, a device, no permission) before any work, with an ``OSError`` whose message names it.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

__all__ = ["FormatError", "check_input_path"]


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


def check_input_path(path: str | os.PathLike[str], *, folder_ok: bool = False, what: str = "file") -> Path:
    """Raise an ``OSError`` (``"<path>: <problem>"``) unless ``path`` is a readable file (or folder).

    Parameters
    ----------
    path
        The input.
    folder_ok
        Accept a folder (e.g. a folder of images).
    what
        What the input is, for the message (``"recording"``, ``"dataset"``, ...).
    """
    path = Path(path)
    try:
        st = os.stat(path)
    except OSError as err:
        if err.errno == errno.ENOENT:
            if os.path.islink(path):
                target = os.readlink(path)
                raise FileNotFoundError(f"{path}: a symbolic link to {target}, which does not exist") from None
            raise FileNotFoundError(f"{path}: no such file") from None
        if err.errno == errno.ELOOP:
            raise OSError(f"{path}: a symbolic link loop (the links point at each other)") from None
        if err.errno == errno.ENOTDIR:
            raise NotADirectoryError(f"{path}: a part of this path is a file, not a folder") from None
        if err.errno in (errno.EACCES, errno.EPERM):
            raise PermissionError(f"{path}: cannot be read (permission denied)") from None
        raise OSError(f"{path}: {err.strerror or err}") from None
    if stat.S_ISDIR(st.st_mode):
        if not folder_ok:
            raise IsADirectoryError(f"{path}: is a folder, not a {what}")
    elif not stat.S_ISREG(st.st_mode):
        raise OSError(f"{path}: is not a regular file (a device, pipe or socket), not a {what}")
    if not os.access(path, os.R_OK | (os.X_OK if stat.S_ISDIR(st.st_mode) else 0)):
        raise PermissionError(f"{path}: cannot be read (permission denied)")
    return path
