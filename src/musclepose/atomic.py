"""Safe outputs for every layer: atomic files and folders, locks, stale temporaries, checks before work.

- :func:`atomic_write` / :func:`atomic_path` write a file under a hidden temporary name beside it
  (same file system), ``fsync`` it and :func:`os.replace` it onto the destination; on any error
  (full disk, file-size limit, Ctrl-C) the temporary is removed and an existing destination is
  untouched. OS errors name the destination, never the temporary.
- :func:`atomic_dir` does the same for a folder, and replaces an existing folder only if
  MusclePose wrote it: such folders hold a manifest (:data:`MANIFEST`) listing their files.
- Temporaries are named ``.<name>.<pid>-<12 hex>.tmp`` (``.old`` for a folder being swapped out);
  :func:`clean_stale_temporaries` removes those whose process is gone (a ``kill -9``), which the
  writers do once per folder and process.
- :func:`output_lock` holds an exclusive lock (``.<name>.lock``, :mod:`filelock`; the kernel
  releases it if the process dies) while a long command writes one output, so that two runs
  cannot mix their results.
- :func:`check_output_file`, :func:`check_output_dir`, :func:`check_free_space` and
  :func:`check_no_overlap` let a command refuse a bad output before any expensive work.

The temporary file is created with mode ``0o666`` filtered by the umask, as ``open(path, "w")``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

__all__ = [
    "MANIFEST",
    "ForeignFolderError",
    "OutputBusyError",
    "add_to_manifest",
    "atomic_dir",
    "atomic_path",
    "atomic_write",
    "check_free_space",
    "check_no_overlap",
    "check_output_dir",
    "check_output_file",
    "check_replaceable_dir",
    "clean_stale_temporaries",
    "is_temporary",
    "output_lock",
]

MANIFEST = ".musclepose-manifest.json"
# Legacy temporaries (no PID in the name) are removed once this old; a live writer renames its
# temporary within seconds of finishing, and no single file write takes a day.
LEGACY_MAX_AGE_S = 24 * 3600.0
_NAME_MAX = 180  # the destination's name inside a temporary's name (file names max out at 255 bytes)
_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)-[0-9a-f]{12}\.(?:tmp|old)$")
# Written by earlier versions (no PID): only this exact shape, so that no user file can match.
_LEGACY = re.compile(r"^\.(?P<name>.+)\.[0-9a-f]{12}\.tmp$")
_cleaned: set[Path] = set()


class OutputBusyError(OSError):
    """Another process holds the lock of an output (:func:`output_lock`)."""


class ForeignFolderError(FileExistsError):
    """A folder that MusclePose did not write (or not only) would be replaced; ``foreign`` lists some of its files."""

    def __init__(self, path: Path, foreign: list[str]) -> None:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        super().__init__(errno.EEXIST, f"holds files MusclePose did not write ({shown})", str(path))
        self.foreign = foreign


# ---------------------------------------------------------------------------------- temporaries
def _temp_name(path: Path, kind: str = "tmp") -> Path:
    # Hidden, in the destination's folder (same file system: the rename is atomic), with this
    # process's PID so that a later run can tell a dead writer's leftovers from a live one's.
    return path.with_name(f".{path.name[:_NAME_MAX]}.{os.getpid()}-{secrets.token_hex(6)}.{kind}")


def is_temporary(name: str) -> bool:
    """Whether a file name is one of the writers' temporaries (this naming or the legacy ones)."""
    return bool(_TEMP.match(name) or _LEGACY.match(name))


def _process_started(pid: int) -> float | None:
    """When process ``pid`` started (epoch seconds), None if it does not exist."""
    import psutil  # light; only needed when a leftover is found

    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
    except psutil.Error:  # exists, but not ours to inspect: assume it is alive and old
        return 0.0


def _is_stale(entry: Path, now: float) -> bool:
    try:
        mtime = entry.lstat().st_mtime
    except FileNotFoundError:
        return False
    m = _TEMP.match(entry.name)
    if m is None:
        return now - mtime > LEGACY_MAX_AGE_S
    pid = int(m["pid"])
    if pid == os.getpid():
        return False
    started = _process_started(pid)
    # A PID that started after the temporary was made is a reused number: the writer is gone.
    return started is None or started > mtime + 1.0


def clean_stale_temporaries(folder: str | os.PathLike[str], name: str | None = None) -> list[Path]:
    """Remove temporaries that dead processes left in ``folder`` (only those of output ``name`` if given).

    A temporary is stale when the process in its name no longer runs (or its PID has since been
    reused); legacy temporaries without a PID when older than a day. Returns what was removed.
    """
    folder = Path(folder)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for e in entries:
        m = _TEMP.match(e.name) or _LEGACY.match(e.name)
        if m is None or (name is not None and m["name"] != name[:_NAME_MAX]):
            continue
        path = Path(e.path)
        if _is_stale(path, now):
            with contextlib.suppress(OSError):
                if e.is_dir(follow_symlinks=False):
                    shutil.rmtree(path)
                else:
                    path.unlink()
                removed.append(path)
    return removed


def _clean_once(folder: Path) -> None:
    # Once per folder and process: a folder of 100k clip files is listed once, not per file.
    key = folder.absolute()
    if key not in _cleaned:
        _cleaned.add(key)
        clean_stale_temporaries(folder)


def _renamed(err: OSError, path: Path) -> OSError:
    """``err`` with the destination as its file name (not the temporary's); same errno and class."""
    if isinstance(err, OutputBusyError | ForeignFolderError) or err.errno is None:
        return err
    return OSError(err.errno, err.strerror or str(err), str(path))


_WRITE_ERRORS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS, errno.EIO}


def _blamed(err: OSError, path: Path, tmp: Path) -> OSError:
    """An error raised while writing the temporary, as one about ``path``: the temporary's name,
    or no name at all for a failed write (a full disk, a file-size limit), becomes the destination.
    Errors about other files (an input read inside the block) keep theirs."""
    if err.filename is not None and Path(str(err.filename)).name == tmp.name:
        return _renamed(err, path)
    if err.filename is None and err.errno in _WRITE_ERRORS:
        return _renamed(err, path)
    return err


def _create_temp(path: Path, kind: str = "tmp") -> tuple[Path, int]:
    _clean_once(path.parent)
    for _ in range(16):
        tmp = _temp_name(path, kind)
        try:
            return tmp, os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o666)
        except FileExistsError:
            continue
        except OSError as err:
            raise _renamed(err, path) from None
    raise FileExistsError(errno.EEXIST, "could not create a temporary file beside it", str(path))


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not possible (nor needed) on every platform.
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# ---------------------------------------------------------------------------------- files
@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    For libraries that open files by name themselves (h5py, matplotlib). The temporary file
    exists (empty) when the block starts; the block may truncate or recreate it. Its name ends
    in ``.tmp``: tell such a library the format explicitly.

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
    check_output_file(path)
    tmp, fd = _create_temp(path)
    os.close(fd)
    try:
        try:
            yield tmp
        except OSError as err:
            raise _blamed(err, path, tmp) from None
        try:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as err:
            raise _renamed(err, path) from None
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
    check_output_file(path)
    tmp, fd = _create_temp(path)
    try:
        f = open(fd, mode, **open_kw)  # noqa: SIM115 - closed below, before the rename
    except BaseException:
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    try:
        try:
            with f:
                yield f
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as err:
            raise _blamed(err, path, tmp) from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


# ---------------------------------------------------------------------------------- folders
def _files(folder: Path) -> list[str]:
    """Relative POSIX paths of everything in ``folder`` that is not a folder (symlinks included)."""
    out = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        rel = Path(root).relative_to(folder)
        out += [(rel / f).as_posix() for f in files]
        out += [(rel / d).as_posix() for d in dirs if (Path(root) / d).is_symlink()]
    return sorted(out)


def _read_manifest(folder: Path) -> set[str] | None:
    try:
        meta = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return {str(f) for f in meta["files"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_manifest(folder: Path, files: set[str]) -> None:
    from . import __version__

    text = json.dumps({"written_by": f"musclepose {__version__}", "files": sorted(files)}, indent=1) + "\n"
    with atomic_write(folder / MANIFEST) as fh:
        fh.write(text)


def add_to_manifest(folder: str | os.PathLike[str], *relpaths: str) -> None:
    """List ``relpaths`` in the manifest of ``folder`` (one :func:`atomic_dir` wrote) before writing them there.

    Call it *before* writing the files: a kill in between then leaves a listed file missing
    (harmless) rather than an unlisted one, which would make the folder look foreign.
    """
    folder = Path(folder)
    files = _read_manifest(folder) or set()
    _write_manifest(folder, files | set(relpaths))


def _foreign_files(folder: Path, legacy: Callable[[Path], bool] | None) -> list[str]:
    """Files in ``folder`` that MusclePose did not write: not in its manifest and not a temporary of ours."""
    listed = _read_manifest(folder)
    present = [f for f in _files(folder) if f != MANIFEST and not is_temporary(Path(f).name)]
    if listed is None:
        if not present or (legacy is not None and legacy(folder)):
            return []
        return present
    return [f for f in present if f not in listed]


def _protected(path: Path) -> bool:
    """The file-system root, the home folder, the working folder or one of its parents."""
    p = path.resolve()
    cwd = Path.cwd().resolve()
    return p == Path(p.anchor) or p == Path.home().resolve() or p == cwd or p in cwd.parents


def check_replaceable_dir(
    path: str | os.PathLike[str], overwrite: bool = False, legacy: Callable[[Path], bool] | None = None
) -> Path:
    """Raise unless ``path`` may be written as a folder: absent, empty, or written by MusclePose.

    ``overwrite=True`` allows replacing a folder with other files, or a file, except the file
    system root, the home folder and the working folder or its parents. ``legacy(folder)`` may
    accept folders written before manifests existed. Raises :class:`ForeignFolderError`,
    ``NotADirectoryError`` or the error of :func:`check_output_dir`.
    """
    path = Path(path)
    check_output_dir(path.parent if path.parent != Path("") else Path("."), what="its folder")
    if not os.path.lexists(path):
        return path
    if _protected(path):
        raise IsADirectoryError(errno.EISDIR, "refusing to replace the root, home or working folder", str(path))
    if path.is_symlink() or not path.is_dir():
        if not overwrite:
            what = "a symbolic link" if path.is_symlink() else "a file"
            raise NotADirectoryError(errno.ENOTDIR, f"is {what}, not a folder", str(path))
        return path
    foreign = _foreign_files(path, legacy)
    if foreign and not overwrite:
        raise ForeignFolderError(path, foreign)
    return path


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


@contextlib.contextmanager
def atomic_dir(
    path: str | os.PathLike[str], *, overwrite: bool = False, legacy: Callable[[Path], bool] | None = None
) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; on success it replaces ``path`` with a manifest of its files.

    An existing ``path`` is replaced only as :func:`check_replaceable_dir` allows (checked before
    the block and again before the swap). The old folder is renamed away, the new one renamed
    in, then the old one deleted: a crash leaves either the old or the new folder at ``path``
    (and a stale ``.old`` temporary that the next run removes).
    """
    path = Path(path)
    check_replaceable_dir(path, overwrite, legacy)
    _clean_once(path.parent)
    tmp = _temp_name(path)
    try:
        tmp.mkdir()
    except OSError as err:
        raise _renamed(err, path) from None
    try:
        yield tmp
        try:
            _write_manifest(tmp, set(_files(tmp)))
            for f in _files(tmp):
                with contextlib.suppress(OSError), open(tmp / f, "rb") as fh:
                    os.fsync(fh.fileno())
            check_replaceable_dir(path, overwrite, legacy)
            if os.path.lexists(path):
                old = _temp_name(path, "old")
                os.replace(path, old)
                os.replace(tmp, path)
                _remove(old)
            else:
                os.replace(tmp, path)
        except OSError as err:
            raise _renamed(err, path) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_dir(path.parent)


# ---------------------------------------------------------------------------------- locks
@contextlib.contextmanager
def output_lock(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold an exclusive lock on output ``path`` (file or folder) for the block; fail at once if taken.

    The lock is ``.<name>.lock`` beside ``path``; a process that dies releases it (the kernel
    drops ``flock`` locks), and the file is removed on release. Raises :class:`OutputBusyError`
    naming ``path`` when another process holds it. Yields the lock file's path.
    """
    from filelock import FileLock, Timeout

    path = Path(path)
    check_output_dir(path.parent if path.parent != Path("") else Path("."), what="its folder")
    lock_path = path.with_name(f".{path.name[:_NAME_MAX]}.lock")
    lock = FileLock(str(lock_path), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise OutputBusyError(
            errno.EBUSY, f"another process is writing it (lock {lock_path.name}); wait for it to finish", str(path)
        ) from None
    except OSError as err:
        raise _renamed(err, path) from None
    try:
        yield lock_path
    finally:
        # Unlinked while still held: a contender that opened the old file finds it gone (filelock
        # checks the link count after locking) instead of locking a file nobody else sees.
        with contextlib.suppress(OSError):
            os.unlink(lock_path)
        lock.release()


# ---------------------------------------------------------------------------------- checks
def check_output_dir(
    folder: str | os.PathLike[str], what: str = "output folder", create: bool = False, may_create: bool = False
) -> Path:
    """Raise an ``OSError`` naming ``folder`` unless it is a writable folder.

    ``create``: make it (and its parents) first. ``may_create``: a missing folder is fine if it
    can be made, i.e. its nearest existing parent is a writable folder (nothing is made)."""
    folder = Path(folder)
    if create and not os.path.lexists(folder):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise _renamed(err, folder) from None
    try:
        folder.stat()  # raises for a missing folder, a symlink loop, a component that is a file
    except OSError as err:
        if err.errno == errno.ENOENT and may_create and not os.path.islink(folder):
            parent = next(p for p in folder.absolute().parents if os.path.lexists(p))
            check_output_dir(parent, what=f"the folder {parent} that would hold {what}")
            return folder
        if err.errno == errno.ENOENT:
            raise FileNotFoundError(errno.ENOENT, f"{what} does not exist", str(folder)) from None
        raise _renamed(err, folder) from None
    if not os.path.isdir(folder):
        raise NotADirectoryError(errno.ENOTDIR, f"{what} is a file, not a folder", str(folder))
    if hasattr(os, "statvfs") and os.statvfs(folder).f_flag & getattr(os, "ST_RDONLY", 1):
        raise OSError(errno.EROFS, f"{what} is on a read-only file system", str(folder))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, f"{what} is not writable (permission denied)", str(folder))
    return folder


def check_output_file(path: str | os.PathLike[str], may_create_parent: bool = False) -> Path:
    """Raise an ``OSError`` naming the path unless a file can be written at ``path``.

    Checks that ``path`` is not a folder and that its folder exists (``may_create_parent``: or
    could be made) and is writable; call it before expensive work so that a bad output is
    refused first."""
    path = Path(path)
    if path.name in ("", ".", ".."):
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file name", str(path))
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(path))
    parent = path.parent
    check_output_dir(parent, what=f"the folder of {path.name}", may_create=may_create_parent)
    return path


def check_free_space(folder: str | os.PathLike[str], needed_bytes: int, what: str = "the output") -> None:
    """Raise ``OSError(ENOSPC)`` naming ``folder`` if it has less than ``needed_bytes`` free (plus 1 %, 16 MiB)."""
    folder = Path(folder)
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return  # unknown: the write itself will tell
    margin = 16 * 2**20 + needed_bytes // 100
    if free < needed_bytes + margin:
        raise OSError(
            errno.ENOSPC,
            f"not enough free space for {what}: it needs about {_mib(needed_bytes)}, {_mib(free)} is free",
            str(folder),
        )


def _mib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def check_no_overlap(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
    """Raise ``ValueError`` if writing ``dst`` would replace ``src`` or a folder that holds it (or one inside it)."""
    s, d = Path(src).resolve(), Path(dst).resolve()
    if s == d:
        raise ValueError(f"{dst}: is the source {src} itself")
    if d in s.parents:
        raise ValueError(f"{dst}: holds the source {src}; replacing it would delete the source")
    if s in d.parents:
        raise ValueError(f"{dst}: lies inside the source {src}")
