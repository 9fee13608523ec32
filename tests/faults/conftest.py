"""The fault-injection suite: every command driven as a careful user trying to break it would.

Fast cases run in-process (:func:`cli`: the real entry point, ``run_guarded`` around the Typer
app, stdout and stderr captured); cases that need a real process (signals, kills, resource
limits, concurrent runs) are marked ``faults_slow`` and run only in ``make test-faults``.
Every case checks the same contract (:func:`assert_refused`): exit code 2, one line on stderr
naming the file or option and the problem, no traceback, nothing half-written.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(config, items):
    if "faults_slow" in (config.getoption("-m") or "") or os.environ.get("MUSCLEPOSE_FAULTS_SLOW"):
        return
    skip = pytest.mark.skip(reason="slow fault injection (real processes): run `make test-faults`")
    for item in items:
        if "faults_slow" in item.keywords:
            item.add_marker(skip)


@dataclass
class Run:
    code: int
    out: str
    err: str


def cli(*args: str | os.PathLike[str]) -> Run:
    """Run ``musclepose ARGS`` in this process through the real entry point (its error handling)."""
    from musclepose.cli import app
    from musclepose.cli._common import run_guarded

    out, err = io.StringIO(), io.StringIO()
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    saved_show = __import__("warnings").showwarning
    code = 0
    try:
        with redirect_stdout(out), redirect_stderr(err):
            run_guarded(lambda: app(args=[str(a) for a in args], prog_name="musclepose"))
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    finally:
        for s, h in saved.items():
            signal.signal(s, h)
        __import__("warnings").showwarning = saved_show
    return Run(code, out.getvalue(), err.getvalue())


def assert_refused(run: Run, *names: str, code: int = 2) -> None:
    """A clean refusal: exit ``code``, no traceback, a short message naming each of ``names``."""
    assert run.code == code, f"exit {run.code}, stderr: {run.err[-2000:]}"
    assert "Traceback" not in run.err and "Traceback" not in run.out
    assert len(run.err) < 2000, f"{len(run.err)} characters on stderr"
    text = " ".join(run.err.split())  # the usage box of a bad option may wrap
    for name in names:
        assert name in text, f"{name!r} not in: {run.err}"
    assert ".tmp" not in run.err, "the message names a hidden temporary file"


def leftovers(folder: Path) -> list[str]:
    """Hidden temporaries and lock files left in ``folder`` (recursively)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".*") if p.name.endswith((".tmp", ".old", ".lock")))


# ---------------------------------------------------------------------------------- processes
PYTHON_ENV = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
READY = "import sys, musclepose.cli; print('ready', flush=True); sys.argv = ['musclepose', *sys.argv[1:]]; "


def spawn(*args: str | os.PathLike[str], cwd: Path | None = None, preexec=None, prelude: str = "") -> subprocess.Popen:
    """Start ``musclepose ARGS`` as a real process; it prints ``ready`` once imported (see :func:`wait_ready`).

    ``prelude``: Python run first (e.g. to slow a step down so that a test can act during it)."""
    cmd = [sys.executable, "-c", prelude + READY + "musclepose.cli.main()", *[str(a) for a in args]]
    return subprocess.Popen(cmd, cwd=cwd, env=PYTHON_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=preexec)  # fmt: skip


def wait_ready(proc: subprocess.Popen, timeout: float = 120.0) -> None:
    """Block until the process has imported MusclePose (its first line), so a signal hits the work."""
    t0 = time.monotonic()
    line = proc.stdout.readline()
    assert line.strip() == "ready", f"unexpected first line {line!r} after {time.monotonic() - t0:.0f} s"


def finish(proc: subprocess.Popen, timeout: float) -> Run:
    """Wait for ``proc`` at most ``timeout`` s (a hang fails the test) and collect its output."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"hung: no exit within {timeout} s; stderr: {err[-1000:]}")
    assert proc.returncode != -signal.SIGSEGV, f"segmentation fault; stderr: {err[-1000:]}"
    return Run(proc.returncode, out, err)
