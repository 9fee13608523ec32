"""Atomic file writes: a reader never sees a half-written file (a utility below every layer).

Every writer in MusclePose (files, reports, checkpoints) writes to a temporary file in the destination's folder
(same file system, so the final :func:`os.replace` is atomic on POSIX and Windows), flushes
and ``fsync``\\ s it, then renames it over the destination. If anything raises before the
rename, the temporary file is deleted and an existing destination is left untouched.

The temporary file is created with mode ``0o666`` filtered by the process umask, so the
result has the same permissions an ordinary ``open(path, "w")`` would have given it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_path", "atomic_write"]


def _temp_name(path: Path) -> Path:
    # A dot-prefixed name in the same folder: hidden from globbing, same file system.
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")


def _create_temp(path: Path) -> tuple[Path, int]:
    for _ in range(16):
        tmp = _temp_name(path)
        try:
            return tmp, os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file beside {path}")


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not possible (nor needed) on every platform.
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    For libraries that open files by name themselves (h5py). The temporary file exists
    (empty) when the block starts; the block may truncate or recreate it.

    Parameters
    ----------
    path
        Final destination. Its folder must exist.

    Yields
    ------
    Path
        The temporary file to write.
    """
    path = Path(path)
    tmp, fd = _create_temp(path)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "w", **open_kw: Any) -> Iterator[IO[Any]]:
    """Open a temporary file for writing; on success it replaces ``path`` atomically.

    Parameters
    ----------
    path
        Final destination. Its folder must exist.
    mode
        A write mode: ``"w"``, ``"wt"``, ``"wb"`` (optionally with ``"+"``).
    **open_kw
        Passed to :func:`open` (``encoding``, ``newline``, ...). Text mode defaults to UTF-8.

    Yields
    ------
    file object
        Write to it; do not close it yourself.

    Examples
    --------
    >>> with atomic_write("out.json") as f:  # doctest: +SKIP
    ...     json.dump(obj, f)
    """
    if not mode.startswith("w"):
        raise ValueError(f"atomic_write needs a write mode ('w', 'wb', ...); got {mode!r}")
    if "b" not in mode:
        open_kw.setdefault("encoding", "utf-8")
    path = Path(path)
    tmp, fd = _create_temp(path)
    try:
        f = open(fd, mode, **open_kw)  # noqa: SIM115 - closed below, before the rename
    except BaseException:
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    try:
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)
