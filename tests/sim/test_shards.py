"""Sharded synthesis: the same bytes whatever the workers, resume after an interruption or a kill, a lost
worker retried, locked outputs, and ClipStream over the shards (DataLoader workers, DDP ranks)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import torch

import musclepose.sim.dataset as ds
from musclepose.atomic import OutputBusyError, output_lock
from musclepose.io.clip_stream import ClipStream
from musclepose.io.shards import read_manifest, verify_shards
from musclepose.sim.dataset import build_dataset

from ._shards import KW, SIZE, N
from ._shards import leftovers as _leftovers
from ._shards import shard_hashes as _hashes


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """One uninterrupted run in this process: the bytes every other run must reproduce."""
    out = tmp_path_factory.mktemp("ref") / "data"
    summary = build_dataset(out, N, workers=1, **KW)
    assert summary["backend"] == "in-process" and summary["shards"] == N // SIZE
    return out, _hashes(out)


def test_two_worker_processes_write_the_same_bytes(reference, tmp_path):
    _, ref = reference
    summary = build_dataset(tmp_path / "d", N, workers=2, **KW)
    assert summary["backend"] == "processes" and _hashes(tmp_path / "d") == ref
    assert verify_shards(tmp_path / "d") == [] and _leftovers(tmp_path / "d") == []


def test_an_interrupted_run_resumes_with_the_same_clips(reference, tmp_path, monkeypatch):
    ref_dir, ref = reference
    out = tmp_path / "d"
    real = ds.make_shard

    def interrupted(folder, config, clips_dir, k, report=None):
        if k == 2:  # Ctrl-C while the third shard is being written
            raise KeyboardInterrupt
        return real(folder, config, clips_dir, k, report)

    monkeypatch.setattr(ds, "make_shard", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_dataset(out, N, workers=1, **KW)
    monkeypatch.setattr(ds, "make_shard", real)
    assert not (out / "manifest.json").exists()  # an incomplete dataset is not a dataset
    assert sorted(p.name for p in out.iterdir()) == ["journal.jsonl", "shard-000000.h5", "shard-000001.h5"]
    with pytest.raises(FileNotFoundError, match="no manifest"):
        ClipStream(out).items()
    # What a kill -9 leaves besides: a dead writer's temporary and a torn journal line.
    (out / ".shard-000002.h5.999999-0123456789ab.tmp").write_bytes(b"\x89HDF partial")
    with open(out / "journal.jsonl", "a") as f:
        f.write('{"index": 2, "file": "shard-0000')
    summary = build_dataset(out, N, workers=1, **KW)
    assert summary["shards_resumed"] == 2 and summary["clips_made"] == SIZE
    assert _hashes(out) == ref and verify_shards(out) == [] and _leftovers(out) == []
    # No clip lost or duplicated: the items, in order, are the reference's.
    a, b = list(ClipStream(ref_dir, None, shuffle_seed=None)), list(ClipStream(out, None, shuffle_seed=None))
    assert [x["index"] for x in b] == list(range(N))
    for x, y in zip(a, b, strict=True):
        assert torch.equal(x["q"], y["q"]) and x["labels"]["language"] == y["labels"]["language"]
    again = build_dataset(out, N, workers=1, **KW)  # complete: nothing to do
    assert again["shards_resumed"] == N // SIZE and again["clips_made"] == 0


def test_a_killed_worker_is_retried_and_the_output_is_the_same(reference, tmp_path, monkeypatch):
    _, ref = reference
    real = ds.make_shard
    marker = tmp_path / "killed"

    def oom_killed(folder, config, clips_dir, k, report=None):
        if k == 1 and not marker.exists():
            marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer does
        return real(folder, config, clips_dir, k, report)

    monkeypatch.setattr(ds, "make_shard", oom_killed)
    summary = build_dataset(tmp_path / "d", N, workers=2, **KW)  # forked workers inherit the patch
    assert marker.exists() and summary["retries"] == 1 and summary["workers_lost"] == 1
    assert _hashes(tmp_path / "d") == ref and _leftovers(tmp_path / "d") == []


def test_outputs_are_locked_and_never_mixed(reference, tmp_path):
    _, ref = reference
    out = tmp_path / "d"
    with output_lock(out), pytest.raises(OutputBusyError):
        build_dataset(out, N, workers=1, **KW)
    build_dataset(out, N, workers=1, **KW)
    with pytest.raises(FileExistsError, match="another configuration.*seed 11"):
        build_dataset(out, N, workers=1, **{**KW, "seed": 12})
    assert _hashes(out) == ref  # untouched
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep")
    with pytest.raises(FileExistsError, match="did not write.*notes.txt"):
        build_dataset(foreign, N, workers=1, **KW)
    assert (foreign / "notes.txt").read_text() == "keep"


def test_one_file_holds_the_shards_clips(reference, tmp_path):
    ref_dir, _ = reference
    out = tmp_path / "all.h5"
    build_dataset(out, N, workers=2, **KW)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.h5"]  # the staging folder is gone
    a, b = list(ClipStream(ref_dir, None, shuffle_seed=None)), list(ClipStream(out, None, shuffle_seed=None))
    for x, y in zip(a, b, strict=True):
        assert x.keys() == y.keys() and x["labels"] == y["labels"]
        assert all(torch.equal(x[k].nan_to_num(), y[k].nan_to_num()) for k in x if isinstance(x[k], torch.Tensor))


def test_stream_over_shards_splits_ranks_and_workers(reference, monkeypatch):
    """Two DDP ranks x two DataLoader workers each: disjoint shares that cover the split, balanced."""
    ref_dir, _ = reference
    manifest = read_manifest(ref_dir)
    splits = [s for r in manifest.shards for s in r.splits]
    for split in ("train", None):
        expected = [i for i, s in enumerate(splits) if split is None or s == split]
        seen = []
        for rank in range(2):
            monkeypatch.setenv("RANK", str(rank))
            monkeypatch.setenv("WORLD_SIZE", "2")
            stream = ClipStream(ref_dir, split=split, arrays=["tau"], shuffle_seed=3)
            loader = torch.utils.data.DataLoader(stream, batch_size=None, num_workers=2)
            got = [item["index"] for item in loader]
            assert abs(len(got) - len(expected) / 2) <= 1 and len(stream) == len(got)
            seen += got
        assert sorted(seen) == expected


def test_import_musclepose_does_not_import_ray():
    code = "import sys, musclepose, musclepose.sim.dataset, musclepose.io.clip_stream; print('ray' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == "False", r.stderr
