"""The tokenizer's motion features: an exact inverse on real recordings, and an analytic walk."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from musclepose.body import Body, forward_kinematics
from musclepose.io import load_motion
from musclepose.pipelines.motion_features import (
    FEATURE_DIM,
    LAYOUT,
    FeatureStats,
    features_to_q,
    joint_error_mm,
    motion_features,
)


@pytest.mark.parametrize(
    ("rel", "fps"),
    [
        ("mocap/addbiomechanics_expert1/squats1.mot", 20.0),
        ("mocap/mass/walk.bvh", None),  # 120 Hz, a retargeted BVH
    ],
)
def test_features_invert_exactly_on_a_real_recording(refdata, rel, fps):
    m = load_motion(refdata(rel))
    m = m.resampled(fps) if fps else m
    q = m.q.double().numpy()
    f = motion_features(q, m.fps, m.body)
    assert f.shape == (len(q), FEATURE_DIM) and np.isfinite(f).all()
    back = features_to_q(f, m.fps, q[0])
    # Every segment's rotation comes back, and the root path. (Euler angles come back on the
    # |x| <= pi/2 branch of ZXY; a recording on the other branch, as UI-PRMD's Kinect lunge in
    # one joint, gets the same rotation with other angles, which FK and the error below accept.)
    r0 = forward_kinematics(m.body, torch.as_tensor(q)).rotations
    r1 = forward_kinematics(m.body, torch.as_tensor(back)).rotations
    assert (r1 - r0).abs().max() < 1e-5
    assert np.abs(back[:, :3] - q[:, :3]).max() < 1e-5  # metres: the integrated root path
    assert joint_error_mm(m.body, q, back) < 1e-2
    wrapped = np.angle(np.exp(1j * (back[:, 3:] - q[:, 3:])))  # angles compare modulo 2 pi
    assert np.abs(wrapped).max() < 1e-5


def test_walk_along_a_heading_has_forward_velocity_and_no_yaw_rate():
    # Analytic: the pelvis faces yaw = 30 deg and moves 1.2 m/s that way at constant height.
    body = Body.standard()
    fps, n, yaw = 50.0, 40, math.radians(30.0)
    q = body.neutral_q().double().repeat(n, 1)
    t = torch.arange(n, dtype=torch.float64) / fps
    q[:, 0], q[:, 2] = 1.2 * t * math.cos(yaw), -1.2 * t * math.sin(yaw)  # Ry(yaw) @ X, X anterior, Z right
    q[:, 3:6] = torch.tensor([0.0, 0.0, yaw])  # intrinsic ZXY: a pure turn about Y
    f = motion_features(q, fps, body)
    a, b = LAYOUT["root_velocity"]
    np.testing.assert_allclose(f[:, a:b], np.tile([1.2, 0.0, 0.0], (n, 1)), atol=1e-6)  # float32 features
    np.testing.assert_allclose(f[:, LAYOUT["yaw_rate"][0]], 0.0, atol=1e-6)
    np.testing.assert_allclose(f[:, LAYOUT["root_height"][0]], q[:, 1].numpy(), atol=1e-6)
    # Turned to face the other way, the same walk has the same features (heading invariance).
    q2 = q.clone()
    q2[:, 0], q2[:, 2], q2[:, 5] = -q[:, 0], -q[:, 2], yaw + math.pi
    np.testing.assert_allclose(motion_features(q2, fps, body), f, atol=1e-5)


def test_feature_stats_round_trip_and_refuse_bad_values():
    x = np.random.default_rng(0).normal(size=(50, FEATURE_DIM)) * 3.0 + 1.0
    s = FeatureStats.fit([x])
    z = s.normalise(torch.as_tensor(x))
    np.testing.assert_allclose(z.mean(0).numpy(), 0.0, atol=1e-9)
    np.testing.assert_allclose(s.denormalise(z).numpy(), x, atol=1e-9)
    s2 = FeatureStats.from_json(s.to_json())
    np.testing.assert_array_equal(s2.std, s.std)
    with pytest.raises(ValueError, match="positive"):
        FeatureStats.from_json({"mean": [0.0] * FEATURE_DIM, "std": [0.0] * FEATURE_DIM})
    with pytest.raises(ValueError, match="NaN"):
        motion_features(np.full((3, 47), np.nan), 20.0)
