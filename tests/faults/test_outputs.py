"""Outputs: a missing or read-only folder, a folder where a file should go, a file where a folder should go,
a full disk before and during the write, a busy output, stale temporaries of killed runs.

Each is refused with one line naming the output path (never the input, never a hidden
temporary) and exit 2, and leaves nothing behind. Errors the kernel only gives to other users
or on full disks are injected (tests may run as root); real limits run in ``test_processes.py``.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess

import pytest

from musclepose import atomic

from .conftest import assert_refused, cli, leftovers

SQUAT_MOT = "mocap/addbiomechanics_expert1/squats1.mot"


@pytest.fixture
def mot(refdata, tmp_path):
    src = tmp_path / "in" / "squat.mot"
    src.parent.mkdir()
    shutil.copy(refdata(SQUAT_MOT), src)
    return src


def test_missing_output_folder_is_named_not_the_input(mot, tmp_path):
    run = cli("convert", mot, tmp_path / "nowhere" / "x.mot")
    assert_refused(run, "nowhere", "does not exist")
    assert "squat.mot" not in run.err  # the input is fine: it is not blamed


def test_output_that_is_a_folder_or_under_a_file(mot, tmp_path):
    (tmp_path / "out.mot").mkdir()
    assert_refused(cli("convert", mot, tmp_path / "out.mot"), "out.mot", "is a folder")
    assert_refused(cli("convert", mot, mot / "x.mot"), "squat.mot", "not a folder")
    assert_refused(cli("analyze", mot, "--plot", mot), "squat.mot", "not a folder")
    assert leftovers(tmp_path) == []


def test_read_only_output_folder(mot, tmp_path, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, m, **kw: False if str(p) == str(ro) else real(p, m, **kw))
    assert_refused(cli("convert", mot, ro / "x.mot"), "ro", "not writable")
    assert_refused(cli("analyze", mot, "--plot", ro / "figs"), "ro", "not writable")
    assert not any(ro.iterdir())


@pytest.mark.parametrize("suffix", [".mot", ".json", ".h5"])
def test_disk_full_mid_write_leaves_nothing_and_keeps_the_old_file(mot, tmp_path, monkeypatch, suffix):
    """ENOSPC at the last moment (fsync is where a full disk shows on delayed-allocation file systems)."""
    out = tmp_path / f"x{suffix}"
    out.write_text("the user's previous result")

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    run = cli("convert", mot, out)
    assert_refused(run, f"x{suffix}", "no space left")
    assert out.read_text() == "the user's previous result"
    assert leftovers(tmp_path) == []


def test_h5_write_failing_midway_is_an_error_not_a_crash(mot, tmp_path, monkeypatch):
    """The disk fills after 200 kB (the real file-size limit runs in test_processes.py)."""
    from musclepose.io import h5write

    class Filling:
        def __init__(self, f):
            self.f, self.n = f, 0

        def write(self, data):
            if self.n + len(data) > 200_000:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            self.n += len(data)
            return self.f.write(data)

        def __getattr__(self, name):
            return getattr(self.f, name)

    real_init = h5write._GuardedFile.__init__

    def init(self, path):
        real_init(self, path)
        self._f = Filling(self._f)

    monkeypatch.setattr(h5write._GuardedFile, "__init__", init)
    run = cli("convert", mot, tmp_path / "x.h5")
    assert_refused(run, "x.h5", "no space left")
    assert not (tmp_path / "x.h5").exists() and leftovers(tmp_path) == []


def test_free_space_is_checked_before_a_large_hdf5_write(mot, tmp_path, monkeypatch):
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage._replace(free=1000))
    assert_refused(cli("convert", mot, tmp_path / "x.h5"), str(tmp_path), "not enough free space")
    assert not (tmp_path / "x.h5").exists() and leftovers(tmp_path) == []


def test_a_busy_output_is_refused(mot, tmp_path):
    out = tmp_path / "x.mot"
    with atomic.output_lock(out):
        assert_refused(cli("convert", mot, out), "x.mot", "another process is writing it")
    assert not out.exists()
    run = cli("convert", mot, out)  # released: the next run proceeds
    assert run.code == 0 and out.is_file() and leftovers(tmp_path) == []


def test_stale_temporaries_of_killed_runs_are_removed_by_the_next_run(mot, tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f".x.mot.{dead.pid}-0123456789ab.tmp"  # a kill -9 during a write left this
    live = tmp_path / f".x.mot.{os.getppid()}-0123456789ab.tmp"  # a running process's: kept
    for p in (stale, live):
        p.write_text("partial")
    atomic._cleaned.clear()  # a new run (this process ran others already)
    run = cli("convert", mot, tmp_path / "x.mot")
    assert run.code == 0, run.err
    assert not stale.exists() and live.exists()
    assert (tmp_path / "x.mot").is_file()


def test_report_folder_is_checked_before_the_llm_loads(mot, tmp_path, monkeypatch):
    from musclepose.pipelines import coach

    def never(*a, **k):
        raise AssertionError("the coach was loaded before its output was checked")

    monkeypatch.setattr(coach.CoachModel, "load", never)
    assert_refused(cli("coach", mot, "--report", tmp_path / "no" / "r.html"), "no", "does not exist")
    assert_refused(cli("coach", tmp_path / "missing.mot"), "missing.mot", "no such file")
    assert_refused(cli("coach", mot, "--checkpoint", tmp_path), str(tmp_path), "no coach checkpoint")
    assert_refused(cli("coach", mot, "--llm", "no-such/model-here"), "no-such/model-here", "never downloads")


@pytest.mark.faults_slow
def test_json_output_has_no_nan(mot):
    run = cli("analyze", mot, "-e", "squat", "--no-kinetics", "--json")
    assert run.code == 0 and "NaN" not in run.out and "Infinity" not in run.out
    json.loads(run.out)


def test_an_output_under_a_file_is_said_so_by_every_command(mot, tmp_path):
    """A file where the output's folder should be: each command names that file and says what it is
    (it was "does not exist" for simulate and "already exists" for train coach), and writes nothing."""
    f = tmp_path / "afile"
    f.write_text("the user's")
    from musclepose.pipelines.coach import default_checkpoint
    from musclepose.sim.dataset import build_dataset

    build_dataset(tmp_path / "d.h5", 2, seed=1, exercises=["squat"], duration_s=2.0, workers=1)  # a real one
    for args in (
        ["simulate", "--out", f / "x.h5", "--n", "2"],
        ["simulate", "--out", f / "x", "--n", "2", "--shard-size", "1"],
        ["train", "coach", "--data", tmp_path / "d.h5", "--out", f / "run"],
        ["train", "export-coach", default_checkpoint(), f / "ship"],
        ["train", "imu-pose", "--out", f / "run", "--corpus", tmp_path / "none.pt"],
        ["body", "export-mjcf", "-o", f / "b.xml"],
        ["demo", "--report", f / "r.html"],
        ["coach", mot, "--report", f / "r.html"],
        ["convert", mot, f / "x.mot"],
    ):
        assert_refused(cli(*args), str(f), "is a file, not a folder")
    assert f.read_text() == "the user's" and leftovers(tmp_path) == []


def test_a_dataset_that_is_not_one_is_named_before_the_model_loads(mot, tmp_path, monkeypatch):
    from musclepose.cli import evaluate

    def never(*a, **k):
        raise AssertionError("the coach was loaded before its data were checked")

    monkeypatch.setattr(evaluate, "load_coach_model", never)
    for args in (["evaluate", "coach", "--data", mot, "--out", tmp_path / "r.md"],
                 ["train", "coach", "--data", mot, "--out", tmp_path / "run"]):  # fmt: skip
        assert_refused(cli(*args), "squat.mot", "not an HDF5 file")
    h5 = tmp_path / "other.h5"
    import h5py

    with h5py.File(h5, "w") as f:
        f["x"] = [1.0]
    assert_refused(cli("evaluate", "coach", "--data", h5, "--out", tmp_path / "r.md"), "other.h5", "extra_attrs")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "other.h5"]


def test_simulate_to_one_file_past_a_file_size_limit_keeps_its_shards_and_says_how_to_finish(tmp_path, monkeypatch):
    """The shards fit under ``ulimit -f`` but the merged file would not (the limit is faked: RLIMIT_FSIZE
    on the test process would hit pytest): refused naming the file, the merged size and the kept
    shards; the same command with the limit raised merges them without simulating again."""
    import resource

    from musclepose.sim.dataset import build_dataset

    out = tmp_path / "x.h5"
    kw = {"seed": 1, "exercises": ["squat"], "duration_s": 2.0, "shard_size": 2, "workers": 1}
    real = resource.getrlimit
    with monkeypatch.context() as m:
        m.setattr(resource, "getrlimit", lambda r: (2_500_000, -1) if r == resource.RLIMIT_FSIZE else real(r))
        with pytest.raises(OSError, match=r"below the merged file's size .*2 shards are kept in .x.h5.parts") as e:
            build_dataset(out, 4, **kw)
    assert e.value.filename == str(out) and not out.exists()
    summary = build_dataset(out, 4, **kw)
    assert summary["shards_resumed"] == 2 and summary["clips_made"] == 0 and out.is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.h5"]
