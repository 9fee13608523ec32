"""Real processes: SIGTERM and Ctrl-C mid-run, kill -9 mid-write, a file-size limit, two runs on one output.

Slow (each starts MusclePose, about 7 s of imports here): ``make test-faults``. Each run must
exit within seconds of the signal, with no traceback, no segmentation fault, no partial output,
and no temporary that a later run does not remove.
"""

from __future__ import annotations

import resource
import shutil
import signal
import time

import pytest

from musclepose import atomic

from .conftest import assert_refused, cli, finish, leftovers, spawn, wait_ready

pytestmark = pytest.mark.faults_slow
SQUATS = "mocap/addbiomechanics_expert1"


@pytest.fixture
def trial(refdata, tmp_path):
    """squats1.trc with its model and static trial: marker IK takes tens of seconds, time to interrupt it."""
    folder = tmp_path / "trial"
    folder.mkdir()
    for name in ("squats1.trc", "static1.trc", "generic.osim"):
        shutil.copy(refdata(f"{SQUATS}/{name}"), folder / name)
    return folder / "squats1.trc"


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "Ctrl-C"])
def test_a_signal_mid_run_stops_it_within_seconds_leaving_nothing(trial, tmp_path, sig, code):
    out = tmp_path / "out" / "squats1.mot"
    out.parent.mkdir()
    proc = spawn("convert", trial, out)
    wait_ready(proc)
    time.sleep(2.0)  # inside the work (reading, scaling, inverse kinematics)
    t0 = time.monotonic()
    proc.send_signal(sig)
    run = finish(proc, timeout=30)
    assert time.monotonic() - t0 < 15, "took more than 15 s to stop"
    assert run.code == code and "Traceback" not in run.err, run.err
    assert not out.exists() and leftovers(tmp_path) == []


# Each HDF5 write of the output sleeps first: the write phase takes seconds, time to act during it.
SLOW_WRITES = "import time, musclepose.io.h5write as h; w = h._GuardedFile.write; " \
              "h._GuardedFile.write = lambda s, d: (time.sleep(0.2), w(s, d))[1]; "  # fmt: skip


def _writing(folder):
    return [p for p in leftovers(folder) if p.endswith(".tmp")]


def _wait_for(condition, timeout=120.0):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert condition(), "timed out waiting"


def test_kill_9_mid_write_leaves_a_temporary_that_the_next_run_removes(refdata, tmp_path):
    out = tmp_path / "squat.h5"
    mot = refdata(f"{SQUATS}/squats1.mot")
    proc = spawn("convert", mot, out, prelude=SLOW_WRITES)
    wait_ready(proc)
    _wait_for(lambda: any(".squat.h5." in p for p in _writing(tmp_path)))
    proc.kill()  # SIGKILL: no cleanup can run
    finish(proc, timeout=30)
    assert not out.exists() and _writing(tmp_path)
    atomic._cleaned.clear()  # a new run
    run = cli("convert", mot, out)
    assert run.code == 0, run.err
    assert out.is_file() and leftovers(tmp_path) == []


def _limit(nbytes):
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))


@pytest.mark.parametrize("output", ["x.h5", "x.mot", "x.json", "figs"])
def test_a_file_size_limit_is_an_error_not_a_crash(refdata, tmp_path, output):
    mot = refdata(f"{SQUATS}/squats1.mot")
    target = tmp_path / output
    if output == "figs":  # the kinetics plots: a PNG cut off by the limit
        proc = spawn("analyze", mot, "-e", "squat", "--plot", target, preexec=_limit(20_000))
    else:
        proc = spawn("convert", mot, target, preexec=_limit(20_000))
    wait_ready(proc)
    run = finish(proc, timeout=300)
    assert_refused(run, output, "file too large")
    assert leftovers(tmp_path) == [] and (not target.exists() or not any(target.iterdir()))


RETRY = """
import errno, resource, sys
from musclepose.io.hdf5 import read_motion, write_motions
from musclepose.io.load import load_motion
m = load_motion(sys.argv[1])
for name in ("a.h5", "a.h5", "b.h5"):  # the same output retried, then another, in one process
    try:
        write_motions(sys.argv[2] + "/" + name, [m] * 6)
        sys.exit("written past the limit")
    except OSError as err:
        assert err.errno == errno.EFBIG and err.filename.endswith(name), err
        print("refused", name, flush=True)
resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
write_motions(sys.argv[2] + "/a.h5", [m] * 6)
assert read_motion(sys.argv[2] + "/a.h5", 5).n_frames == m.n_frames
print("written", flush=True)
"""


def test_hdf5_writes_retried_after_a_file_size_limit_do_not_crash(refdata, tmp_path):
    """HDF5 is left with a cache it cannot flush when a write fails; the next file it opens in the same
    process must still be written (a segmentation fault was reported there)."""
    import subprocess
    import sys

    def soft_limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, resource.RLIM_INFINITY))

    r = subprocess.run([sys.executable, "-c", RETRY, str(refdata(f"{SQUATS}/squats1.mot")), str(tmp_path)],
                       preexec_fn=soft_limit, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert r.returncode == 0, (r.returncode, r.stderr[-2000:])
    assert r.stdout.split() == ["refused", "a.h5", "refused", "a.h5", "refused", "b.h5", "written"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.h5"]


def test_a_second_run_on_the_same_output_is_refused_not_mixed(refdata, tmp_path):
    out = tmp_path / "squat.h5"
    mot = refdata(f"{SQUATS}/squats1.mot")
    proc = spawn("convert", mot, out, prelude=SLOW_WRITES)
    wait_ready(proc)
    _wait_for(lambda: (tmp_path / ".squat.h5.lock").exists())  # the first run holds the output
    assert_refused(cli("convert", mot, out, "--mass", "90"), "squat.h5", "another process is writing it")
    run = finish(proc, timeout=300)
    assert run.code == 0, run.err
    from musclepose.io.hdf5 import read_motion

    assert read_motion(out, 0).body.mass_kg == pytest.approx(75.337) and leftovers(tmp_path) == []  # the first run
