"""Repetition counting on analytic and synthetic signals with known repetitions."""

from __future__ import annotations

import numpy as np
import pytest

from musclepose.signals.channels import CHANNEL_NAMES
from musclepose.signals.reps import RepSegmenter, periodicity

from ._synth import reps_signal


@pytest.mark.parametrize("n", [1, 3, 5, 8])
@pytest.mark.parametrize("fps", [10.0, 30.0, 100.0])
@pytest.mark.parametrize("shape", ["sin", "cos", "-cos"])
def test_sinusoid_with_n_cycles_has_n_reps(n, fps, shape):
    f = 0.5
    t = np.arange(0, n / f, 1 / fps)
    x = {"sin": np.sin, "cos": np.cos, "-cos": lambda a: -np.cos(a)}[shape](2 * np.pi * f * t)
    seg = RepSegmenter().segment(3.0 * x + 10.0, fps)
    assert seg.n_reps_ == n
    assert all(s <= p <= e for s, p, e in seg.reps_)


def test_noisy_sinusoid_and_its_extremes():
    rng = np.random.default_rng(0)
    fps, f, n = 60.0, 0.8, 6
    t = np.arange(0, n / f, 1 / fps)
    x = np.sin(2 * np.pi * f * t) + 0.1 * rng.standard_normal(t.size)
    seg = RepSegmenter(polarity="peaks").segment(x, fps)
    assert seg.n_reps_ == n
    true_peaks = (np.arange(n) + 0.25) / f
    np.testing.assert_allclose([p / fps for _, p, _ in seg.reps_], true_peaks, atol=0.05)


def test_squat_like_reps_with_pauses_bounds_at_movement_onset():
    fps = 50.0
    x, truth = reps_signal(fps, 4, down_s=1.5, bottom_s=0.5, up_s=1.2, top_s=1.5)
    seg = RepSegmenter().segment(0.9 + 0.4 * x, fps)  # a hip height: 0.9 m standing, 0.5 m at the bottom
    assert seg.n_reps_ == 4 and seg.polarity_ == -1
    for (s, p, e), mark in zip(seg.reps_, truth, strict=True):
        assert abs(s - mark["eccentric"]) / fps < 0.2
        assert mark["bottom"] <= p <= mark["concentric"]
        assert abs(e - mark["lockout"]) / fps < 0.2


def test_bounce_at_the_bottom_does_not_split_a_rep():
    fps = 50.0
    x, _ = reps_signal(fps, 3, down_s=1.2, bottom_s=1.0, up_s=1.2, top_s=1.0)
    bottoms = x < -0.99
    t = np.arange(x.size) / fps
    x = x + np.where(bottoms, 0.12 * np.abs(np.sin(2 * np.pi * 2.0 * t)), 0.0)  # 12 % bounces
    assert RepSegmenter().segment(x, fps).n_reps_ == 3


def test_partial_rep_is_not_counted_but_a_half_depth_one_is():
    fps = 30.0
    x, _ = reps_signal(fps, 4, 1.0, 0.2, 1.0, 1.0, depths=[1.0, 0.2, 1.0, 0.5])
    seg = RepSegmenter().segment(x, fps)
    assert seg.n_reps_ == 3
    depths = [-x[p] for _, p, _ in seg.reps_]
    np.testing.assert_allclose(depths, [1.0, 1.0, 0.5], atol=0.02)


def test_reps_closer_than_min_period_merge():
    fps = 100.0
    t = np.arange(0, 4, 1 / fps)
    x = np.sin(2 * np.pi * 2.0 * t)  # 8 cycles of 0.5 s
    assert RepSegmenter(min_period_s=0.3, cutoff_hz=None).segment(x, fps).n_reps_ == 8
    assert RepSegmenter(min_period_s=0.8, cutoff_hz=None).segment(x, fps).n_reps_ == 4


def test_automatic_primary_is_the_periodic_channel():
    rng = np.random.default_rng(3)
    fps = 30.0
    x, _ = reps_signal(fps, 5, 1.0, 0.3, 1.0, 0.8)
    table = 0.5 * rng.standard_normal((x.size, 7)).cumsum(0) / np.sqrt(x.size)  # slow drifts
    table[:, 4] = 100.0 * -x  # knee flexion up to 100 deg
    table[:, 1] += 0.9  # a flat hip height
    seg = RepSegmenter().segment(table, fps)
    assert seg.primary_ == "knee_angle_trajectory" == CHANNEL_NAMES[4]
    assert seg.n_reps_ == 5 and seg.polarity_ == 1
    assert max(seg.scores_, key=seg.scores_.get) == "knee_angle_trajectory"
    named = RepSegmenter(primary="knee_angle_trajectory").segment(dict(zip(CHANNEL_NAMES, table.T, strict=True)), fps)
    assert named.reps_ == seg.reps_


def test_periodicity_and_degenerate_inputs():
    t = np.arange(0, 10, 0.01)
    assert periodicity(np.sin(2 * np.pi * t), 50) > 0.4
    assert periodicity(np.random.default_rng(0).standard_normal(1000), 50) < 0.15
    assert RepSegmenter().segment(np.ones(50), 10.0).n_reps_ == 0
    with pytest.raises(ValueError, match="polarity"):
        RepSegmenter(polarity="up").segment(np.sin(t), 100.0)
    with pytest.raises(ValueError, match="NaN"):
        RepSegmenter().segment(np.full(10, np.nan), 100.0)
