"""Fault injection for ``musclepose simulate`` with real processes: Ctrl-C and ``kill -9`` mid-run then
resume, a file-size limit, a Ray worker killed mid-task (marked ``faults_slow``: ``make test-faults``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import musclepose.sim.dataset as ds
from musclepose.sim.dataset import build_dataset

from ..sim._shards import KW, SIZE, N
from ..sim._shards import leftovers as _leftovers
from ..sim._shards import shard_hashes as _hashes

pytestmark = pytest.mark.faults_slow


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """One uninterrupted run in this process: the bytes every other run must reproduce."""
    out = tmp_path_factory.mktemp("ref") / "data"
    build_dataset(out, N, workers=1, **KW)
    return out, _hashes(out)


def _start(cmd: list[str], journal: Path, records: int) -> subprocess.Popen:
    """Start ``cmd`` in its own process group; return once the journal holds ``records`` shard lines."""
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists() and len(journal.read_text().splitlines()) >= 1 + records:
            break
        time.sleep(0.05)
    assert proc.poll() is None, proc.stderr.read().decode()
    return proc


def test_ctrl_c_then_kill_9_then_resume(reference, tmp_path):
    """Ctrl-C (SIGINT to the process group, as a terminal sends it) stops simulate and its workers
    in seconds with nothing partial left; a rerun killed with ``kill -9`` mid-shard leaves stale
    temporaries; the next run cleans them up and finishes with the reference's bytes."""
    _, ref = reference
    out = tmp_path / "d"
    cmd = [sys.executable, "-m", "musclepose", "simulate", "--out", str(out), "--n", str(N), "--seed", "11",
           "--exercise", "squat", "--duration", "2", "--shard-size", str(SIZE), "--workers", "2"]  # fmt: skip
    proc = _start(cmd, out / "journal.jsonl", 1)
    t0 = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(20) == 130 and time.monotonic() - t0 < 10
    assert "resume" in proc.stderr.read().decode()
    assert _leftovers(out) == [] and not any(tmp_path.glob(".*"))  # no temporary, no lock file
    proc = _start(cmd, out / "journal.jsonl", 2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert not (out / "manifest.json").exists()
    summary = build_dataset(out, N, workers=1, **KW)
    assert summary["shards_resumed"] >= 1
    assert _hashes(out) == ref and _leftovers(out) == [] and not any(tmp_path.glob(".*"))


def test_ray_tasks_write_the_same_bytes_and_a_killed_ray_worker_is_retried(reference, tmp_path, monkeypatch):
    ray = pytest.importorskip("ray")
    _, ref = reference
    real = ds.make_shard
    marker = str(tmp_path / "killed")

    def killed_once(folder, config, clips_dir, k, report=None):  # pickled by value into the Ray workers
        if k == 0 and not os.path.exists(marker):
            open(marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)
        return real(folder, config, clips_dir, k, report)

    monkeypatch.setattr(ds, "make_shard", killed_once)
    try:
        summary = build_dataset(tmp_path / "d", N, workers=2, ray="auto", **KW)
    finally:
        if ray.is_initialized():
            ray.shutdown()
    assert summary["backend"] == "ray" and summary["started_local"] and os.path.exists(marker)
    assert _hashes(tmp_path / "d") == ref and _leftovers(tmp_path / "d") == []
    assert json.loads((tmp_path / "d" / "manifest.json").read_text())["n_items"] == N


def test_a_file_size_limit_is_one_clean_error(tmp_path):
    """A file-size limit (``ulimit -f``) below a shard: one line naming the file, exit 2, no crash, no leftovers."""
    import resource

    out = tmp_path / "d"
    cmd = [sys.executable, "-m", "musclepose", "simulate", "--out", str(out), "--n", "4", "--seed", "1",
           "--exercise", "squat", "--duration", "2", "--shard-size", "2", "--workers", "2"]  # fmt: skip

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    r = subprocess.run(cmd, preexec_fn=limit, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr and "shard-00000" in r.stderr and "file-size limit" in r.stderr
    assert _leftovers(out) == [] and not any(tmp_path.glob(".*"))
    assert not (out / "manifest.json").exists()
