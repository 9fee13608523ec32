"""Rollout evaluation: the benchmark's Euler angles and protocol, the baselines, rollout physics."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from musclepose.evaluation.rollout import (
    benchmark_euler,
    benchmark_windows,
    constant_velocity,
    evaluate_rollout,
    mean_angle_error,
    zero_velocity,
)
from musclepose.evaluation.rollout_physics import physics_metrics
from musclepose.io import cmu_prediction as cmu
from musclepose.motion import Motion


def test_benchmark_euler_is_the_inverse_rotation_in_xyz():
    # The benchmark's rotmat2euler returns the extrinsic x-y-z angles of the *inverse* rotation
    # (checked here against SciPy, an independent implementation).
    rng = np.random.default_rng(0)
    aa = rng.normal(size=(50, 38, 3)) * 0.8
    rows = np.concatenate([rng.normal(size=(50, 3)), aa.reshape(50, -1)], axis=1)
    e = benchmark_euler(rows)[:, 3:].reshape(50, 38, 3)
    ref = Rotation.from_rotvec(aa.reshape(-1, 3)).inv().as_euler("xyz").reshape(50, 38, 3)
    np.testing.assert_allclose(e, ref, atol=1e-9)
    np.testing.assert_array_equal(benchmark_euler(rows)[:, :3], rows[:, :3])


def test_baselines_are_exact_on_the_motions_they_assume():
    t = np.arange(80)[:, None]
    axes = np.random.default_rng(1).normal(size=(38, 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    spin = np.zeros((80, cmu.N_COLUMNS))
    for j in range(38):  # each joint turning at its own constant rate about a fixed axis
        spin[:, 3 + 3 * j : 6 + 3 * j] = axes[j] * 0.005 * (1 + j % 5) * t  # below pi: no wrap
    spin[:, :3] = 0.1 * t
    np.testing.assert_allclose(constant_velocity(spin[None, :50], 30)[0], spin[50:], atol=1e-9)
    still = np.repeat(spin[:1], 80, axis=0)
    assert mean_angle_error(zero_velocity(still[None, :50], 30), still[None, 50:]).max() == 0.0
    assert mean_angle_error(zero_velocity(spin[None, :50], 30), spin[None, 50:]).min() > 0.0


def test_only_columns_that_move_in_the_window_are_scored():
    rows = np.zeros((1, 5, cmu.N_COLUMNS))
    pred = rows.copy()
    pred[..., 3 + 3 * 2] = 0.3  # lfemur predicted to move, truth holds still: not scored
    assert mean_angle_error(pred, rows).max() == 0.0
    rows[0, :, 3 + 3 * 2] = np.linspace(0, 0.1, 5)  # now the truth moves: scored
    assert mean_angle_error(pred, rows).max() > 0.0


def test_protocol_windows_are_the_benchmarks():
    # numpy's RandomState(1234567890).randint(0, T - 75), eight times, as the benchmark draws them.
    rows = np.zeros((300, cmu.N_COLUMNS))
    rng = np.random.RandomState(1234567890)
    assert benchmark_windows(rows) == [rng.randint(0, 225) for _ in range(8)]
    with pytest.raises(ValueError, match="75"):
        benchmark_windows(rows[:70])


def test_evaluate_rollout_on_a_real_action(tmp_path, refdata):
    src = refdata("mocap/cmu_prediction/train/walking/walking_1.txt")
    (tmp_path / "walking").mkdir()
    (tmp_path / "walking" / "walking_1.txt").write_bytes(src.read_bytes())
    r = evaluate_rollout(tmp_path, {"model": zero_velocity, "zero_velocity": zero_velocity}, steps=60)
    assert r["horizons_ms"] == [80, 160, 320, 400, 560, 1000]
    zv = r["per_action"]["walking"]["mean_angle_error"]["zero_velocity"]
    assert all(b > a for a, b in zip(zv, zv[1:], strict=False))  # standing still gets worse with time
    assert r["rollout_60_over_1"] == pytest.approx(r["rollout"]["zero_velocity"]["ratio"])
    assert r["rollout"]["zero_velocity"]["error_60"] > r["rollout"]["zero_velocity"]["error_1"]


@pytest.fixture(scope="module")
def squat():
    from musclepose.sim.exercises import generate

    return generate("squat", rng=3).resampled(30.0)[:90]  # 3 s keep the test fast


def test_rollout_physics_of_a_planted_squat_and_of_impossible_versions(squat):
    real = physics_metrics(squat)
    assert real["foot_skating_cm_s"] < 3.0 and real["ground_penetration_mm"] < 2.0
    assert real["root_residual_pct_bw"] < 5.0  # the ground can hold a squat up
    q = squat.q.clone()
    q[:, 0] += 0.5 * torch.arange(len(q), dtype=q.dtype) / squat.fps  # the body glides forward at 0.5 m/s
    glide = physics_metrics(Motion(q, squat.fps, squat.body))
    assert 40.0 < glide["foot_skating_cm_s"] < 60.0
    q = squat.q.clone()
    q[:, 1] -= 0.03  # sunk 3 cm into the floor
    assert 25.0 < physics_metrics(Motion(q, squat.fps, squat.body))["ground_penetration_mm"] < 35.0
    q = squat.q.clone()
    q[:, 1] += 0.3  # hovering 30 cm above the floor: nothing holds the body up
    assert physics_metrics(Motion(q, squat.fps, squat.body))["root_residual_pct_bw"] > 90.0
