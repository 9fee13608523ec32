"""Streaming training windows: sharding over workers and ranks, and bad training data caught by file."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from musclepose.body import Body
from musclepose.io.clip_stream import shard_indices
from musclepose.io.errors import FormatError
from musclepose.io.hdf5 import write_motions
from musclepose.io.motion_stream import MotionWindows, list_sequences, read_sequences
from musclepose.motion import Motion


def _states(raw):
    return [torch.as_tensor(raw.frames, dtype=torch.float32)]


def _motion(n: int = 120, fps: float = 30.0, seed: int = 0) -> Motion:
    body = Body.standard()
    t = np.arange(n) / fps
    q = body.neutral_q().repeat(n, 1).numpy()
    q[:, 0] = 1.2 * t  # walking pace
    q[:, body.dof_index("knee_flexion_r")] = 0.5 + 0.4 * np.sin(2 * np.pi * t + seed)
    return Motion(torch.as_tensor(q), fps, body)


def test_every_window_comes_from_exactly_one_worker(tmp_path):
    write_motions(tmp_path / "a.h5", [_motion(seed=i) for i in range(5)])
    refs = list_sequences([tmp_path / "a.h5"])
    assert len(refs) == 5
    shares = [shard_indices(range(len(refs)), r, 2, w, 2, None) for r in range(2) for w in range(2)]
    assert sorted(i for s in shares for i in s) == list(range(5))
    ds = MotionWindows([tmp_path / "a.h5"], 20, 30.0, _states, stride=20, epochs=1, shuffle_seed=0)
    windows = list(ds)
    assert 25 <= len(windows) <= 30  # 5 or 6 windows 20 frames apart in each 120-frame motion
    assert all(w.shape == (20, 47) for w in windows)


def test_a_higher_rate_multiple_is_decimated_into_phases(tmp_path):
    write_motions(tmp_path / "m.h5", [_motion(120, fps=60.0)])
    seqs = read_sequences(list_sequences([tmp_path / "m.h5"])[0], 30.0)
    assert [s.phase for s in seqs] == [0, 1]
    assert all(len(s.frames) == 60 and s.fps == 30.0 for s in seqs)


def test_wrong_rate_names_the_file_and_item(tmp_path):
    write_motions(tmp_path / "r.h5", [_motion(fps=30.0), _motion(fps=25.0)])
    ds = MotionWindows([tmp_path / "r.h5"], 10, 30.0, _states)
    with pytest.raises(FormatError, match=r"r\.h5.*item 1.*25 Hz.*30 Hz"):
        ds.states(range(2))


def test_a_jump_is_an_error_or_a_cut(tmp_path):
    m = _motion()
    q = m.q.clone()
    q[70:, m.body.dof_index("hip_flexion_l")] += 2.0  # the hip turns 115 deg in 1/30 s (limit 83)
    write_motions(tmp_path / "j.h5", [Motion(q, m.fps, m.body)])
    ref = list_sequences([tmp_path / "j.h5"])[0]
    with pytest.raises(FormatError, match=r"j\.h5.*frame 70.*thigh_l.*jump"):
        read_sequences(ref, 30.0)
    cut = read_sequences(ref, 30.0, on_jump="split")
    assert [(s.start, len(s.frames)) for s in cut] == [(0, 70), (70, 50)]


def test_benchmark_text_with_nan_names_the_file(tmp_path, refdata):
    src = refdata("mocap/cmu_prediction/train/running/running_1.txt").read_text().splitlines()
    cells = src[9].split(",")
    cells[20] = "nan"
    src[9] = ",".join(cells)
    (tmp_path / "running").mkdir()
    (tmp_path / "running" / "running_1.txt").write_text("\n".join(src))
    ds = MotionWindows([tmp_path], 10, 60.0, _states)
    with pytest.raises(FormatError, match=r"running_1\.txt.*frame 9.*not finite"):
        ds.states([0])
