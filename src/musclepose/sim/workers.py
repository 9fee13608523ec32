"""Run tasks on local worker processes; a killed worker's task is retried, Ctrl-C stops everything in seconds.

Each worker holds one task at a time over its own pipe, so the parent always knows which
task a lost worker had: it sees the worker's process sentinel fire (the out-of-memory
killer, ``kill -9``), starts a fresh worker and hands the task out again, up to
``max_retries`` times per task. This is written here rather than taken from the standard
library because ``multiprocessing.Pool`` waits for ever when a worker dies (the task is
lost without a trace, CPython issue 66587) and ``concurrent.futures.ProcessPoolExecutor``
fails every pending task at once and has no way to stop its workers on Ctrl-C.

Workers ignore SIGINT (a terminal sends it to the whole process group; the parent decides)
and turn SIGTERM into ``SystemExit``, so the atomic writes in flight delete their
temporaries. A worker whose parent is gone exits after finishing its task. Workers are
forked on Linux when the parent runs no other thread (they inherit the imported modules),
spawned otherwise.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import wait
from typing import Any

__all__ = ["TaskFailed", "WorkerLost", "run_tasks"]


class WorkerLost(RuntimeError):
    """A task's worker process died more often than the retries allow."""


class TaskFailed(RuntimeError):
    """A task raised an exception (deterministic: not retried). ``details`` holds the worker's traceback."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _worker_main(conn, fn: Callable[[Any, Callable[[int], None]], Any], parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        while True:
            while not conn.poll(1.0):
                if os.getppid() != parent:
                    return
            msg = conn.recv()
            if msg[0] != "task":
                return
            task = msg[1]
            try:
                result = fn(task, lambda k, task=task: conn.send(("progress", task, k)))
            except Exception as e:  # reported to the parent, which stops the run
                os_error = (e.errno, e.strerror, e.filename) if isinstance(e, OSError) and e.errno else None
                conn.send(("error", task, f"{type(e).__name__}: {e}", traceback.format_exc(), os_error))
            else:
                conn.send(("done", task, result))
    except (EOFError, BrokenPipeError, ConnectionResetError):
        return


class _Worker:
    def __init__(self, ctx, fn) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, fn, os.getpid()), daemon=True)
        self.process.start()
        child.close()  # the parent keeps its end only, so the worker's death reads as EOF here
        self.task: Any = None

    def stop(self, timeout: float, graceful: bool = False) -> None:
        if graceful:  # idle and told to stop: let it exit by itself
            self.process.join(timeout)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(1.0)
        self.conn.close()


def _context():
    # fork only when no other thread runs: a lock another thread holds would stay locked in the child
    single = threading.active_count() == 1
    return mp.get_context("fork" if single and sys.platform.startswith("linux") else "spawn")


def run_tasks(
    fn: Callable[[Any, Callable[[int], None]], Any],
    tasks: Sequence[Any],
    workers: int,
    on_result: Callable[[Any, Any], None],
    on_progress: Callable[[Any, int], None] | None = None,
    max_retries: int = 2,
) -> dict[str, int]:
    """Run ``fn(task, report)`` for every task on ``workers`` processes; ``on_result(task, result)`` in this process.

    ``fn`` must be picklable (a module-level function) when workers are spawned; it may call
    ``report(k)`` to send progress, delivered as ``on_progress(task, k)``. Results arrive in
    completion order. Raises :class:`WorkerLost` when a task's worker died more than
    ``max_retries`` times, :class:`TaskFailed` when ``fn`` raised (the ``OSError`` itself when
    that was one with an errno: a full disk, a file-size limit); on any exception
    (``KeyboardInterrupt`` too) every worker is stopped before it propagates.
    Returns ``{"retries": ..., "workers_lost": ...}``.
    """
    queue = list(tasks)[::-1]  # pop() from the end: first task first
    if not queue:
        return {"retries": 0, "workers_lost": 0}
    ctx = _context()
    pool = [_Worker(ctx, fn) for _ in range(max(1, min(workers, len(queue))))]
    attempts: dict[Any, int] = {}
    lost = 0
    remaining = len(queue)
    try:
        while remaining:
            for i, w in enumerate(pool):
                if w.task is None and queue:
                    if not w.process.is_alive():  # died while idle: nothing lost, replace it
                        w.stop(0.0)
                        pool[i] = w = _Worker(ctx, fn)
                    w.task = queue.pop()
                    try:
                        w.conn.send(("task", w.task))
                    except OSError:  # died just now; the sentinel below sees it and retries the task
                        pass
            busy = [w for w in pool if w.task is not None]
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=1.0))
            for w in list(busy):
                if w.conn in ready:
                    try:
                        while w.conn.poll():
                            msg = w.conn.recv()
                            if msg[0] == "progress" and on_progress is not None:
                                on_progress(msg[1], msg[2])
                            elif msg[0] == "done":
                                w.task = None
                                remaining -= 1
                                on_result(msg[1], msg[2])
                            elif msg[0] == "error" and msg[4] is not None:  # a full disk, a file-size limit
                                raise OSError(*msg[4])
                            elif msg[0] == "error":
                                raise TaskFailed(f"task {msg[1]!r} failed: {msg[2]}", msg[3])
                    except (EOFError, ConnectionResetError):
                        pass  # it died; its sentinel says so below
                if w.task is not None and not w.process.is_alive():
                    w.process.join()
                    lost += 1
                    task, code = w.task, w.process.exitcode
                    attempts[task] = attempts.get(task, 0) + 1
                    how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
                    if attempts[task] > max_retries:
                        raise WorkerLost(f"task {task!r}: its worker died {attempts[task]} times (last {how})")
                    queue.append(task)
                    w.conn.close()
                    pool[pool.index(w)] = _Worker(ctx, fn)
    finally:
        t0 = time.monotonic()
        idle = set()
        for i, w in enumerate(pool):
            if w.process.is_alive() and w.task is None:
                try:
                    w.conn.send(("stop",))
                    idle.add(i)
                except OSError:
                    pass
        for i, w in enumerate(pool):
            w.stop(max(0.1, 5.0 - (time.monotonic() - t0)), graceful=i in idle)
    return {"retries": sum(attempts.values()), "workers_lost": lost}
