"""Per-frame trust on a motion: wrapped angles, spikes and impossible joint speeds (issue 23's "impossible
physics"), checked against the clean motion they were made from and against its kinetics."""

import numpy as np
import pytest
import torch

from musclepose.motion import Motion
from musclepose.motion.kinetics import compute_kinetics
from musclepose.motion.quality import FrameQuality, Issue, check_motion, find_spikes
from musclepose.signals import analyze_motion
from musclepose.sim.exercises import generate

FAST = {"reps": 2, "fps": 50.0, "lead_s": 0.6, "tail_s": 0.6}


@pytest.fixture(scope="module")
def squat(body):
    m = generate("squat", body, FAST, rng=0)
    return Motion(m.q, m.fps, m.body, {"source": "test"})


def _wrap(x: torch.Tensor) -> torch.Tensor:
    return torch.remainder(x + np.pi, 2 * np.pi) - np.pi


def test_a_pelvis_rotation_wrapping_at_180_deg_is_unwrapped_and_gives_sane_moments(squat):
    """Turned to face backwards, the same squat's pelvis rotation crosses +-180 deg: left wrapped, the
    lumbar moment reaches hundreds of N m/kg (issue 23: 216); unwrapped on input it is the clean one's."""
    turned = squat.q.clone()
    k = squat.body.dof_index("pelvis_rotation")
    turned[:, k] = _wrap(turned[:, k] + np.pi + 0.05 * torch.sin(torch.linspace(0, 20, squat.n_frames)))
    assert (turned[:, k].diff().abs() > np.pi).any()  # it does wrap
    wrapped = Motion(turned, squat.fps, squat.body)
    bad = np.abs(compute_kinetics(wrapped, muscles=False).moment("lumbar_flexion")).max()
    fixed = check_motion(wrapped)
    good = np.abs(compute_kinetics(fixed, muscles=False).moment("lumbar_flexion")).max()
    clean = np.abs(compute_kinetics(squat, muscles=False).moment("lumbar_flexion")).max()
    assert bad > 20.0 and good < 1.5 * clean + 0.2, (bad, good, clean)
    assert any(i.cause == "angle wrap" for i in fixed.quality.issues)


def test_a_one_frame_knee_spike_is_repaired_and_the_depth_stays_true(squat):
    """A one-frame knee spike (issue 23: depths of 273-283 deg) is replaced by interpolation and named."""
    q = squat.q.clone()
    i, t = squat.body.dof_index("knee_flexion_r"), 40
    q[t, i] += np.radians(170.0)
    spiked = check_motion(Motion(q, squat.fps, squat.body))
    assert abs(float(spiked.q[t, i] - squat.q[t, i])) < np.radians(1.0)
    spikes = [x for x in spiked.quality.issues if x.cause == "spike"]
    assert len(spikes) == 1 and spikes[0].start == t and "knee_flexion_r" in spikes[0].detail
    d_clean = [r.depth_knee_flexion_deg for r in analyze_motion(squat, "squat").reps]
    d_fixed = [r.depth_knee_flexion_deg for r in analyze_motion(spiked, "squat").reps]
    np.testing.assert_allclose(d_fixed, d_clean, atol=1.0)


def test_find_spikes_leaves_fast_real_motion_alone():
    """A fast but smooth movement (a kick: 1,500 deg/s peak) is not a spike."""
    fps = 200.0
    t = np.arange(0, 1, 1 / fps)
    q = np.zeros((len(t), 47))
    q[:, 30] = np.radians(120.0) * np.sin(np.pi * t / 0.25) ** 2 * (t < 0.25)  # 1,500 deg/s
    fixed, issues = find_spikes(q, fps, [f"d{k}" for k in range(47)])
    assert issues == [] and np.array_equal(fixed, q)


def test_quality_follows_slicing_and_resampling(squat):
    q = FrameQuality(np.zeros(squat.n_frames, dtype=bool)).with_issues([Issue("poor marker fit", 30, 39, "x")])
    m = Motion(squat.q, squat.fps, squat.body, {}, q)
    part = m[20:60]
    assert part.quality.flagged.sum() == 10 and part.quality.issues[0].start == 10
    up = m.resampled(100.0)
    assert up.quality.n_frames == up.n_frames
    hit = np.flatnonzero(up.quality.flagged)
    assert abs(hit[0] / 100.0 - 30 / 50.0) <= 0.02 and abs(hit[-1] / 100.0 - 39 / 50.0) <= 0.02
    with pytest.raises(ValueError, match="quality"):
        Motion(squat.q, squat.fps, squat.body, {}, FrameQuality(np.zeros(3, dtype=bool)))
