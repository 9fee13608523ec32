"""The Motion type: validation, filtering, resampling."""

import numpy as np
import pytest
import torch

from musclepose.motion import Motion


def _motion(body, n=200, fps=100.0):
    t = np.arange(n) / fps
    q = np.zeros((n, 47))
    q[:, body.dof_index("knee_flexion_r")] = 0.8 * (1 - np.cos(2 * np.pi * 0.5 * t))
    q[:, body.dof_index("knee_flexion_r")] += 0.01 * np.sin(2 * np.pi * 30 * t)  # 30 Hz "noise"
    return Motion(torch.tensor(q), fps, body, {"source": "test"})


def test_validation_names_frame_and_dof(body):
    q = torch.zeros(10, 47, dtype=torch.float64)
    q[7, body.dof_index("hip_flexion_l")] = float("nan")
    with pytest.raises(ValueError, match=r"frame 7, DoF 'hip_flexion_l'"):
        Motion(q, 100.0, body)
    with pytest.raises(ValueError, match=r"\(T, 47\)"):
        Motion(torch.zeros(10, 46), 100.0, body)
    with pytest.raises(ValueError, match="fps"):
        Motion(torch.zeros(10, 47), -1.0, body)


def test_butterworth_removes_high_frequency_keeps_low(body):
    m = _motion(body)
    f = m.filtered(6.0)
    knee = f.dof("knee_flexion_r").numpy()
    clean = 0.8 * (1 - np.cos(2 * np.pi * 0.5 * m.times))
    assert np.abs(knee - clean)[20:-20].max() < 2e-3  # the 30 Hz ripple (0.01 rad) is gone
    assert "butterworth" in f.metadata["history"][-1]
    with pytest.raises(ValueError, match="low-pass filter at 60 Hz needs a frame rate above 120 Hz"):
        m.filtered(60.0)


def test_resample_and_slice(body):
    m = _motion(body)
    r = m.resampled(50.0)
    assert r.fps == 50.0 and r.n_frames == 100
    np.testing.assert_allclose(r.q[::1].numpy(), m.q[::2].numpy(), atol=1e-12)
    s = m[10:20]
    assert s.n_frames == 10 and s.duration == pytest.approx(0.09)


def test_repeated_loop_continues_a_periodic_walk_exactly(body):
    """A periodic motion (one full period, last frame = first + one cycle's travel) played three
    times equals the same formula over three periods: the analytic continuation."""
    from musclepose.motion.quality import FrameQuality, Issue

    fps, period = 50.0, 1.2

    def walk(t):
        q = np.zeros((len(t), 47))
        q[:, 0] = 1.1 * t  # 1.1 m/s forward
        q[:, 1] = 0.95 + 0.02 * np.cos(4 * np.pi * t / period)
        q[:, body.dof_index("hip_flexion_r")] = 0.4 * np.sin(2 * np.pi * t / period)
        q[:, body.dof_index("pelvis_rotation")] = 0.1 * np.sin(2 * np.pi * t / period)
        return q

    n = int(round(period * fps)) + 1
    quality = FrameQuality.clean(n).with_issues([Issue("spike", 5, 6)])
    one = Motion(torch.tensor(walk(np.arange(n) / fps)), fps, body, {"source": "test"}, quality)
    three = one.repeated(3)
    want = walk(np.arange(3 * (n - 1) + 1) / fps)
    np.testing.assert_allclose(three.q.numpy(), want, atol=1e-12)
    assert three.duration == pytest.approx(3 * period)
    assert np.flatnonzero(three.quality.flagged).tolist() == [5, 6, 65, 66, 125, 126]
    assert one.repeated(1) is one


def test_repeated_closes_a_small_seam_and_refuses_a_motion_that_does_not_loop(body):
    """A cycle that drifts linearly (ends 12 deg from where it started) is closed by removing the
    drift: what remains is the periodic part, continued without a jump."""
    n, k = 41, body.dof_index("elbow_flexion_l")
    phase = 2 * np.pi * np.arange(2 * (n - 1) + 1) / (n - 1)
    q = np.zeros((n, 47))
    q[:, k] = 0.5 + 0.3 * np.sin(phase[:n]) + np.linspace(0.0, np.radians(12.0), n)
    looped = Motion(torch.tensor(q), 40.0, body).repeated(2).q.numpy()[:, k]
    np.testing.assert_allclose(looped, 0.5 + 0.3 * np.sin(phase), atol=1e-12)
    q[:, k] = np.linspace(0.0, np.radians(45.0), n)
    with pytest.raises(ValueError, match="does not loop: elbow_flexion_l is 45 deg apart"):
        Motion(torch.tensor(q), 40.0, body).repeated(2)
