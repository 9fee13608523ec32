"""Shared CLI helpers: the console, error exit, one-line messages for every error, option checks, JSON output.

Every error reaches the user as one line ``error: <file or option>: <problem>`` on stderr and
exit code 2 (:func:`fail`, :func:`error_message`); file names are printed literally (no Rich
markup), long messages are shortened in the middle. The ``check_*`` functions are Typer option
callbacks: they refuse an absurd value while the command line is parsed, before any work.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import signal
import sys
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from ..atomic import ForeignFolderError
from ..catalogue import EXERCISES, normalise_exercise
from ..io.errors import FormatError

# Piped output (CI logs, files) gets a fixed, wide layout instead of rich's 80 columns.
console = Console(width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 120)

MAX_MESSAGE = 600  # characters of an error line; the middle of a longer one is cut


def shorten(message: str, limit: int = MAX_MESSAGE) -> str:
    """``message`` on one line, its middle cut if longer than ``limit`` (a list of 10,000 names stays readable)."""
    line = re.sub(r"\s*\n\s*", " ", str(message)).strip()
    if len(line) <= limit:
        return line
    head, tail = line[: int(limit * 0.7)], line[-int(limit * 0.25) :]
    return f"{head} [... {len(line) - len(head) - len(tail):,} characters left out ...] {tail}"


def fail(message: str) -> NoReturn:
    """Print ``error: message`` to stderr (one line, literal text) and exit with code 2 (bad input)."""
    err_console.print(f"[bold red]error:[/] {escape(shorten(message))}", highlight=False, soft_wrap=True)
    sys.exit(2)


def warn(message: str) -> None:
    """Print ``warning: message`` to stderr (literal text); the command goes on."""
    err_console.print(f"[yellow]warning:[/] {escape(shorten(message))}", highlight=False, soft_wrap=True)


def echo(message: str) -> None:
    """Print a line of results to stdout as literal text (file names with ``[...]`` stay intact)."""
    console.print(message, markup=False, highlight=False)


_REASONS = {
    errno.ENOENT: "no such file or folder",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large (a file-size limit, e.g. ulimit -f, was reached)",
    errno.EROFS: "read-only file system",
    errno.ENOTDIR: "a part of this path is a file, not a folder",
    errno.EISDIR: "is a folder, not a file",
    errno.ELOOP: "too many levels of symbolic links (a symlink loop)",
    errno.ENAMETOOLONG: "file name too long",
    errno.EMFILE: "too many open files",
    errno.EIO: "input/output error (the disk or the network file system failed)",
    errno.ENOTEMPTY: "the folder is not empty",
    errno.EEXIST: "already exists",
    errno.EBUSY: "busy",
}


def os_error_message(err: OSError) -> str:
    """One line for an ``OSError``: the path it concerns, then the problem in plain words."""
    reason = err.strerror or ""
    if err.errno in _REASONS and (not reason or reason == os.strerror(err.errno)):
        reason = _REASONS[err.errno]  # the system's own wording, replaced by plainer words
    if not reason:
        reason = str(err)
    paths = [str(p) for p in (err.filename, err.filename2) if p is not None]
    if isinstance(err, ForeignFolderError):
        reason += "; pass --overwrite to replace it, or choose another folder"
    return f"{' -> '.join(paths)}: {reason}" if paths else reason


def error_message(err: BaseException, path: Path | None = None) -> str:
    """One line for any error a command reports; ``path``, the input, prefixes messages that name no file."""
    if isinstance(err, OSError) and err.filename is not None:
        return os_error_message(err)  # names its own path (an output's, or the input's)
    if isinstance(err, FormatError) and err.path is not None:
        return str(err)  # names the file that is wrong (e.g. an ExternalLoads XML), not the recording
    if isinstance(err, OSError) and err.errno is not None:
        msg = os_error_message(err)
    elif isinstance(err, RecursionError):
        msg = "nested too deeply to read (recursion limit)"
    elif isinstance(err, KeyError) and err.args:
        msg = str(err.args[0])  # str(KeyError) adds quotes
    else:
        msg = str(err)
    if path is None or path.name in msg:
        return msg
    return f"{path}: {msg}"


class Terminated(SystemExit):
    """Raised in the main process by SIGTERM/SIGHUP, so that writers clean up as for Ctrl-C (exit 128 + signal)."""


def _on_signal(main_pid: int):
    def handler(signum: int, frame: Any) -> None:
        if os.getpid() != main_pid:  # a forked worker inherited this: die as the default action would
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise Terminated(128 + signum)

    return handler


def _show_warning(message: Any, category: type, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
    # MusclePose's own warnings are for the user (one line); a library's (NumPy's "All-NaN slice",
    # a deprecation inside transformers) name internals the user cannot act on.
    if os.sep + "musclepose" + os.sep in filename and issubclass(category, UserWarning):
        warn(str(message))


def run_guarded(app: Callable[[], Any]) -> NoReturn:
    """Run the Typer ``app``; every error becomes one line on stderr.

    Bad input, bad options and OS errors (permission, full disk, file-size limit, a folder
    where a file should be, a symlink loop) exit with code 2; SIGTERM and SIGHUP unwind like
    Ctrl-C (partial outputs are removed) and exit with 128 + the signal; an unexpected error
    (a bug) exits with 1 and says so (``MUSCLEPOSE_DEBUG=1`` shows its traceback).
    """
    if threading.current_thread() is threading.main_thread():
        handler = _on_signal(os.getpid())
        for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
            if sig is not None:
                signal.signal(sig, handler)
    if not os.environ.get("MUSCLEPOSE_DEBUG"):
        warnings.showwarning = _show_warning
    try:
        app()
    except Terminated as stop:
        err_console.print(f"[bold red]stopped[/] by signal {int(stop.code) - 128}; no partial output was kept",
                          highlight=False)  # fmt: skip
        raise
    except SystemExit:
        raise
    except (ValueError, KeyError, OSError, RecursionError) as err:
        fail(error_message(err))
    except MemoryError:
        fail("out of memory (the input is too large for this machine's memory)")
    except Exception as err:
        if os.environ.get("MUSCLEPOSE_DEBUG"):
            raise
        err_console.print(
            f"[bold red]error:[/] internal error: {escape(shorten(f'{type(err).__name__}: {err}'))} "
            "(a bug in MusclePose: please report the command; MUSCLEPOSE_DEBUG=1 shows where)",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(1)
    sys.exit(0)


# ------------------------------------------------------------------------------ option checks
MASS_RANGE = (20.0, 300.0)  # kg: a child of 6 to the heaviest athletes; 1e9 or 0 is a typo
HEIGHT_RANGE = (0.5, 2.6)  # m: Body.standard's range
FPS_RANGE = (1.0, 10000.0)
TEMPERATURE_RANGE = (0.0, 5.0)


def _number(value: float | None, name: str, lo: float, hi: float, unit: str) -> float | None:
    if value is None:
        return None
    if not (math.isfinite(value) and lo <= value <= hi):
        raise typer.BadParameter(f"{value:g} is outside {lo:g}-{hi:g} {unit}".strip(), param_hint=name)
    return value


def check_mass(value: float | None) -> float | None:
    """``--mass``: a human body mass in kg (None: the recording's own, else 70 kg)."""
    return _number(value, "--mass", *MASS_RANGE, "kg")


def check_height(value: float | None) -> float | None:
    """``--height``: a human stature in m."""
    return _number(value, "--height", *HEIGHT_RANGE, "m")


def check_fps(value: float | None) -> float | None:
    """``--fps``: a frame rate in Hz."""
    return _number(value, "--fps", *FPS_RANGE, "Hz")


def check_temperature(value: float | None) -> float | None:
    """``--temperature``: 0 (greedy) or a sampling temperature up to 5."""
    return _number(value, "--temperature", *TEMPERATURE_RANGE, "")


def check_sex(value: str | None) -> str | None:
    """``--sex``: male or female (the Dumas 2007 tables), any case."""
    if value is None:
        return None
    v = value.strip().lower()
    if v not in ("male", "female"):
        raise typer.BadParameter(f"sex must be one of male, female (the inertial-parameter tables), not {value!r}",
                                 param_hint="--sex")  # fmt: skip
    return v


def check_exercise(value: str | None) -> str | None:
    """``--exercise``: an exercise of the catalogue (any spelling or alias), returned by its key."""
    if value is None:
        return None
    key = normalise_exercise(value)
    if key not in EXERCISES:
        raise typer.BadParameter(
            f"{value!r} is not in the catalogue: {', '.join(sorted(EXERCISES))} (leave it out to analyse any movement)",
            param_hint="--exercise",
        )
    return key


def check_int_range(name: str, lo: int = 1, hi: int | None = None):
    """A callback refusing integers outside ``[lo, hi]`` (``hi`` None: no upper bound) for option ``name``."""

    def check(value: int | None) -> int | None:
        if value is not None and (value < lo or (hi is not None and value > hi)):
            bound = f"below {lo}" if value < lo else f"above {hi}"
            raise typer.BadParameter(f"{value} is {bound}", param_hint=name)
        return value

    return check


def check_positive_int(name: str, minimum: int = 1):
    """A callback refusing integers below ``minimum`` for option ``name``."""
    return check_int_range(name, minimum)


def check_range(name: str, lo: float, hi: float, unit: str = ""):
    """A callback refusing non-finite numbers or numbers outside ``[lo, hi]`` for option ``name``."""

    def check(value: float | None) -> float | None:
        return _number(value, name, lo, hi, unit)

    return check


# ------------------------------------------------------------------------------ output
def _finite(data: Any) -> Any:
    # JSON has no NaN: a missing number is null (json.dumps would write the invalid token NaN).
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(v) for v in data]
    return data


def _default(v: Any) -> Any:
    try:
        return _finite(float(v))
    except (TypeError, ValueError):
        return str(v)


def print_json(data: Any) -> None:
    """``data`` as JSON on stdout (non-finite numbers as null)."""
    sys.stdout.write(json.dumps(_finite(data), indent=2, default=_default, allow_nan=False) + "\n")


def command_line() -> str:
    """The command as typed (``musclepose ...``), for a checkpoint's record of how it was made."""
    import shlex

    return "musclepose " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def check_training_out(out: Path, overwrite: bool) -> None:
    """Before any data or training: ``out`` must be a folder we may write (absent, empty or ours), else exit 2."""
    from ..atomic import check_output_dir, check_replaceable_dir

    try:
        check_output_dir(out, may_create=True)
        check_replaceable_dir(out, overwrite)
    except (OSError, ValueError) as err:
        fail(error_message(err, out))


def run_sweep_training(train: Callable[..., dict[str, Any]], cfg: Any, out: Path, json_out: bool) -> None:
    """Run a trainer that sweeps candidates and keeps the validation's choice (``train(cfg, log=...)``
    returning ``{"chosen", "sweep"}``); print its summary, or JSON."""
    log = (lambda *_: None) if json_out else console.print
    try:
        summary = train(cfg, log=log)
    except (FormatError, ValueError, OSError) as err:
        fail(error_message(err))
    if json_out:
        print_json({"checkpoint": str(out), "chosen": summary["chosen"], "sweep": summary["sweep"]})
    else:
        log(f"chosen: {summary['chosen']}; checkpoint: {out}")


def check_out_file(path: Path, suffixes: tuple[str, ...], option: str = "", may_create_parent: bool = False) -> None:
    """Before any work: ``path`` ends in one of ``suffixes`` and a file can be written there, else exit 2."""
    from ..atomic import check_output_file

    if path.suffix.lower() not in suffixes:
        what = path.suffix or "a file without an extension"
        fail(f"{option + ': ' if option else ''}{path}: cannot write {what!r}; outputs: {', '.join(suffixes)}")
    try:
        check_output_file(path, may_create_parent=may_create_parent)
    except (OSError, ValueError) as err:
        fail(error_message(err, path))


_DEFAULT_REFDATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"


def mocap_refdata(refdata: Path | None) -> Path:
    """The reference data folder holding ``mocap/`` (``--refdata``, else ``$MUSCLEPOSE_REFDATA``, else
    ``../shared/data`` beside the repository); exit 2 when it has no ``mocap`` folder."""
    root = refdata or Path(os.environ.get("MUSCLEPOSE_REFDATA", _DEFAULT_REFDATA))
    if not (root / "mocap").is_dir():
        fail(f"{root / 'mocap'}: not found (pass --refdata or set MUSCLEPOSE_REFDATA)")
    return root
