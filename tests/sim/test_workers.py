"""The local worker pool: a killed worker's task is retried, an exception stops the run, Ctrl-C stops the workers."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import psutil
import pytest

from musclepose.sim.workers import TaskFailed, WorkerLost, run_tasks


def _square(task: int, report) -> int:
    report(1)
    return task * task


def _die_once(marker: str, task: int, report) -> int:
    """Killed as the out-of-memory killer would (SIGKILL), the first time task 3 runs."""
    flag = Path(marker) / f"died-{task}"
    if task == 3 and not flag.exists():
        flag.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return task * task


def _always_die(task: int, report) -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return 0


def _fail(task: int, report) -> int:
    if task == 2:
        raise ValueError("no such exercise")
    return task


def _sleep(marker: str, task: int, report) -> int:
    (Path(marker) / f"pid-{os.getpid()}").touch()
    time.sleep(60)
    return task


def test_every_task_once_with_progress():
    got, progress = {}, []
    stats = run_tasks(_square, range(7), 2, got.__setitem__, lambda t, k: progress.append(t))
    assert got == {t: t * t for t in range(7)} and sorted(progress) == list(range(7))
    assert stats == {"retries": 0, "workers_lost": 0}


def test_killed_worker_is_replaced_and_its_task_retried(tmp_path):
    import functools

    got = {}
    stats = run_tasks(functools.partial(_die_once, str(tmp_path)), range(6), 2, got.__setitem__)
    assert got == {t: t * t for t in range(6)}
    assert stats == {"retries": 1, "workers_lost": 1}


def test_a_task_whose_worker_always_dies_fails_cleanly():
    t0 = time.monotonic()
    with pytest.raises(WorkerLost, match="died 3 times.*signal 9"):
        run_tasks(_always_die, [0], 2, lambda t, r: None, max_retries=2)
    assert time.monotonic() - t0 < 30


def test_an_exception_in_a_task_stops_the_run_with_its_message():
    with pytest.raises(TaskFailed, match="no such exercise") as info:
        run_tasks(_fail, range(5), 2, lambda t, r: None)
    assert "Traceback" in info.value.details


def test_interrupt_stops_every_worker_within_seconds(tmp_path):
    """A KeyboardInterrupt in the parent (Ctrl-C) terminates the busy workers; none is left running."""
    import functools

    def on_result(t, r):
        raise AssertionError("no task finishes")

    def ctrl_c(*args):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, ctrl_c)
    signal.alarm(3)
    t0 = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_tasks(functools.partial(_sleep, str(tmp_path)), range(4), 2, on_result)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert time.monotonic() - t0 < 10
    pids = [int(p.name.split("-")[1]) for p in tmp_path.glob("pid-*")]
    assert len(pids) == 2
    for pid in pids:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
