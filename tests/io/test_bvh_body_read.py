"""Our own BVH read back: :func:`musclepose.io.bvh_body.motion_from_bvh` inverts ``write_motion_bvh``."""

from __future__ import annotations

import pytest
import torch

from musclepose.body import Body
from musclepose.io.bvh import read_bvh
from musclepose.io.bvh_body import is_body_bvh, write_motion_bvh
from musclepose.io.load import load_motion
from musclepose.sim import generate


def test_load_motion_reads_our_bvh_exactly(tmp_path):
    # A generated lunge (every DoF moves, the root travels) on a smaller female body: load_motion
    # must give back q (to the file's 6 decimals of a degree) and the stature, not a retargeted fit.
    motion = generate("lunge", Body.standard(1.62, 55.0, "female"), {"reps": 1}, faults={"knee_valgus": 0.8}, rng=1)
    path = write_motion_bvh(tmp_path / "lunge.bvh", motion)
    assert is_body_bvh(read_bvh(path))
    back = load_motion(path, sex="female", mass_kg=55.0)
    assert back.n_frames == motion.n_frames and back.fps == pytest.approx(motion.fps)
    assert back.body.height_m == pytest.approx(1.62, abs=1e-3)
    assert float((back.q - motion.q).abs().max()) < 1e-6
    assert float(motion.q.abs().max()) > 1.0  # the comparison is not between zeros


def test_a_foreign_bvh_is_not_taken_for_ours(refdata):
    assert not is_body_bvh(read_bvh(refdata("mocap/cmu/131_01.bvh")))


def test_resampled_on_request(tmp_path):
    motion = generate("squat", Body.standard(), {"reps": 1}, rng=0)
    path = write_motion_bvh(tmp_path / "s.bvh", motion)
    back = load_motion(path, fps=50.0)
    assert back.fps == pytest.approx(50.0)
    assert torch.allclose(back.q[10], motion.q[20], atol=1e-6)
