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
