"""Run tasks as Ray tasks: on a Ray cluster (``address``) or on a local instance started for the run.

``address``: ``"auto"`` connects to the cluster this machine belongs to (``RAY_ADDRESS``, or
one started with ``ray start --head``) and, when there is none, starts a local instance
with ``workers`` CPUs that is shut down again at the end; anything else is passed to
``ray.init`` (``"ray://head:10001"``, ``"10.0.0.5:6379"``). At most ``workers`` tasks run at
once (default: every CPU of the cluster). Each task writes its own output (a shard on a
folder every node can reach) and returns a small record, so nothing large crosses the
object store. Ray retries a task whose worker process or node died (``max_retries``); an
exception raised by the task itself is not retried (it would fail again).

``ray`` is imported only in :func:`run_ray_tasks`: it is an optional dependency
(``pip install 'musclepose[ray]'``) and ``import musclepose`` stays free of it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from .workers import TaskFailed, WorkerLost

__all__ = ["RayUnavailable", "run_ray_tasks"]

_OBJECT_STORE_BYTES = 256 << 20  # records only; Ray's default (30 % of RAM) would reserve GBs of /dev/shm


class RayUnavailable(RuntimeError):
    """Ray is not installed or the cluster cannot be reached."""


def _call(fn: Callable[[Any, Callable[[int], None]], Any], task: Any) -> Any:
    return fn(task, lambda k: None)


def _connect(ray, address: str | None, workers: int | None) -> bool:
    """Connect to or start Ray; True when this call started a local instance (to shut down later)."""
    quiet = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR}
    if address in (None, "", "auto", "local"):
        if address != "local":
            try:
                ray.init(address="auto", **quiet)
                return False
            except ConnectionError:
                pass
        ray.init(num_cpus=workers, object_store_memory=_OBJECT_STORE_BYTES, **quiet)
        return True
    try:
        ray.init(address=address, **quiet)
    except (ConnectionError, ValueError) as e:
        raise RayUnavailable(f"cannot reach the Ray cluster at {address!r}: {e}") from None
    return False


def run_ray_tasks(
    fn: Callable[[Any, Callable[[int], None]], Any],
    tasks: Sequence[Any],
    workers: int | None,
    on_result: Callable[[Any, Any], None],
    address: str | None = "auto",
    max_retries: int = 2,
) -> dict[str, Any]:
    """Run ``fn(task, report)`` for every task as a Ray task; ``on_result(task, result)`` here, in completion order.

    Same contract as :func:`musclepose.sim.workers.run_tasks` (``report`` is a no-op under
    Ray). Raises :class:`WorkerLost` when Ray gives up on a task after its worker died
    ``max_retries + 1`` times, :class:`TaskFailed` when ``fn`` raised, and
    :class:`RayUnavailable`. On any exception (``KeyboardInterrupt`` too) the tasks in flight
    are cancelled. Returns ``{"workers": ..., "started_local": ..., "ray_start_s": ...}`` (the
    seconds spent connecting to or starting Ray).
    """
    try:
        import ray
    except ImportError:
        raise RayUnavailable("--ray needs the ray package: pip install 'musclepose[ray]'") from None

    started, t0 = False, time.perf_counter()
    if not ray.is_initialized():
        started = _connect(ray, address, workers)
    start_s = time.perf_counter() - t0
    try:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        limit = max(1, min(workers or cpus, cpus))
        remote = ray.remote(num_cpus=1, max_retries=max_retries, retry_exceptions=False)(_call)
        fn_ref = ray.put(fn)
        queue = list(tasks)[::-1]
        in_flight: dict[Any, Any] = {}
        try:
            while queue or in_flight:
                while queue and len(in_flight) < limit:
                    task = queue.pop()
                    in_flight[remote.remote(fn_ref, task)] = task
                ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=1.0)
                for ref in ready:
                    task = in_flight.pop(ref)
                    try:
                        result = ray.get(ref)
                    except ray.exceptions.RayTaskError as e:
                        cause = e.cause if getattr(e, "cause", None) is not None else e
                        if isinstance(cause, OSError) and cause.errno:  # a full disk, a file-size limit
                            raise OSError(cause.errno, cause.strerror, cause.filename) from None
                        raise TaskFailed(f"task {task!r} failed: {type(cause).__name__}: {cause}", str(e)) from None
                    except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError) as e:
                        raise WorkerLost(f"task {task!r}: its worker died {max_retries + 1} times ({e})") from None
                    on_result(task, result)
        except BaseException:
            for ref in in_flight:
                ray.cancel(ref, force=True)
            raise
        return {"workers": limit, "started_local": started, "ray_start_s": start_s}
    finally:
        if started:
            ray.shutdown()
