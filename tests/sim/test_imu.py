"""IMU simulation: exact signals against MuJoCo's sensors and analytic cases; the error model's statistics."""

from __future__ import annotations

import math
from dataclasses import replace

import mujoco
import numpy as np
import pytest
import torch

from musclepose.body import forward_kinematics
from musclepose.motion import Motion
from musclepose.sim.sensors import (
    EARTH_FIELD_UT,
    IMU_PRESETS,
    PHONE,
    WATCH,
    IMUErrors,
    IMUSignals,
    corrupt_imu,
    imu_from_motion,
    imu_site,
    imu_sites,
    mjcf_with_imus,
    perturb_sites,
    simulate_imu,
)

QUIET = IMUErrors(acc_bias=0.0, scale=0.0, misalignment_deg=0.0, drop_rate=0.0, noise=False, bias=False, saturate=False)


def _t(x):
    return torch.as_tensor(x, dtype=torch.float64)


@pytest.mark.parametrize("differentiable", [False, True], ids=["recursion", "jvp"])
def test_matches_mujoco_sensors(body, differentiable):
    """Every preset site, random states: our acc/gyro/mag equal MuJoCo's accelerometer/gyro/magnetometer,
    by both paths (the RNEA's outward recursion without gradients; forward-mode AD of FK with them)."""
    sites = imu_sites(body, IMU_PRESETS)
    model = mujoco.MjModel.from_xml_string(mjcf_with_imus(body.to_mjcf(), sites))
    model.opt.disableflags |= mujoco.mjtDisableBit.mjDSBL_CONSTRAINT  # free dynamics: qacc is ours
    data = mujoco.MjData(model)
    rng = np.random.default_rng(7)
    lo = np.where(np.isfinite(body.dof_lower), body.dof_lower, -1.0)
    hi = np.where(np.isfinite(body.dof_upper), body.dof_upper, 1.0)
    n = 12
    q = rng.uniform(lo, hi, (n, body.n_dof))
    qd, qdd = rng.normal(0, 2.0, q.shape), rng.normal(0, 10.0, q.shape)
    ref = np.zeros((n, len(sites), 3, 3))
    for k in range(n):
        data.qpos[:], data.qvel[:], data.qacc[:] = q[k], qd[k], qdd[k]
        mujoco.mj_inverse(model, data)  # evaluates the acceleration sensors with our qacc
        ref[k] = data.sensordata.reshape(len(sites), 3, 3)
    sig = simulate_imu(body, _t(q).requires_grad_(differentiable), _t(qd), _t(qdd), sites)
    assert sig.acc.requires_grad == differentiable
    sig = replace(sig, **{k: getattr(sig, k).detach() for k in ("acc", "gyro", "mag", "position", "rotation")})
    for j, x in enumerate((sig.acc, sig.gyro, sig.mag)):
        err = np.abs(x.numpy() - ref[:, :, j]).max() / np.abs(ref[:, :, j]).max()
        assert err < 1e-9, (("acc", "gyro", "mag")[j], err)
    # MuJoCo's site frames confirm the sensor orientation and position too.
    data.qpos[:] = q[-1]
    mujoco.mj_kinematics(model, data)
    for k, s in enumerate(sites):
        np.testing.assert_allclose(sig.position[-1, k].numpy(), data.site(s.name).xpos, atol=1e-12)
        np.testing.assert_allclose(sig.rotation[-1, k].numpy(), data.site(s.name).xmat.reshape(3, 3), atol=1e-12)


def test_standing_still_reads_gravity_and_field(body):
    q = body.neutral_q()[None]
    sig = simulate_imu(body, q, torch.zeros_like(q), torch.zeros_like(q), ["foot_r", "phone_torso", "watch_left"])
    g = 9.81
    # gaitmap's foot frame (x forward, y left, z up); Android phone (y up the screen);
    # watch on the left wrist, arm hanging: x (towards the hand) points down.
    np.testing.assert_allclose(sig.sensor("foot_r")["acc"][0].numpy(), [0, 0, g], atol=1e-12)
    np.testing.assert_allclose(sig.sensor("phone_torso")["acc"][0].numpy(), [0, g, 0], atol=1e-12)
    np.testing.assert_allclose(sig.sensor("watch_left")["acc"][0].numpy(), [-g, 0, 0], atol=1e-12)
    assert sig.gyro.abs().max() == 0
    mx, my, _ = EARTH_FIELD_UT
    np.testing.assert_allclose(sig.sensor("foot_r")["mag"][0].numpy(), [mx, 0, my], atol=1e-12)


def test_constant_spin_about_vertical(body):
    """Turning on the spot at w rad/s: gyro = w about the vertical, acc = centripetal - g."""
    w = 3.0
    q = body.neutral_q()[None]
    qd = torch.zeros_like(q)
    qd[0, body.dof_index("pelvis_rotation")] = w
    sig = simulate_imu(body, q, qd, torch.zeros_like(q), ["sacrum", "thigh_r"])
    pelvis_origin = forward_kinematics(body, q).origins[0, 0]
    for k in range(2):
        r = sig.rotation[0, k]
        np.testing.assert_allclose((r @ sig.gyro[0, k]).numpy(), [0, w, 0], atol=1e-12)
        radial = sig.position[0, k] - pelvis_origin
        radial[1] = 0.0
        expected = -(w**2) * radial - torch.tensor([0.0, -9.81, 0.0], dtype=torch.float64)
        np.testing.assert_allclose((r @ sig.acc[0, k]).numpy(), expected.numpy(), atol=1e-12)


def _sine_trajectory(body, t):
    """q(t) = q0 + A sin(2 pi f t + phi) per DoF, with exact derivatives."""
    rng = np.random.default_rng(3)
    amp, freq, phase = rng.uniform(0.05, 0.3, body.n_dof), rng.uniform(0.3, 1.5, body.n_dof), rng.uniform(0, 6, 47)
    q0 = body.neutral_q().numpy()
    arg = 2 * np.pi * freq * t[:, None] + phase
    w = 2 * np.pi * freq
    q = q0 + amp * np.sin(arg)
    return _t(q), _t(amp * w * np.cos(arg)), _t(-amp * w**2 * np.sin(arg))


def test_derivatives_are_those_of_the_trajectory(body):
    """Along a smooth trajectory the signals equal finite differences of the sensor pose (h = 1 ms),
    and imu_from_motion's spline derivatives of the sampled trajectory come close to the exact ones."""
    h = 1e-3
    t = np.linspace(0.0, 2.0, 41)
    tt = np.stack([t - h, t, t + h], axis=1).ravel()
    q, qd, qdd = _sine_trajectory(body, tt)
    sig = simulate_imu(body, q, qd, qdd, ["watch_left", "foot_l", "phone_torso"])
    p = sig.position.reshape(len(t), 3, -1, 3)
    r = sig.rotation.reshape(len(t), 3, -1, 3, 3)
    acc_world = (p[:, 2] - 2 * p[:, 1] + p[:, 0]) / h**2
    rt = r[:, 1].transpose(-1, -2)
    expected_acc = (rt @ (acc_world - torch.tensor([0.0, -9.81, 0.0], dtype=torch.float64))[..., None])[..., 0]
    k = rt @ (r[:, 2] - r[:, 0]) / (2 * h)  # R^T Rdot = [w]x in the sensor frame
    expected_gyro = torch.stack([k[..., 2, 1], k[..., 0, 2], k[..., 1, 0]], -1)
    acc = sig.acc.reshape(len(t), 3, -1, 3)[:, 1]
    gyro = sig.gyro.reshape(len(t), 3, -1, 3)[:, 1]
    assert (acc - expected_acc).abs().max() < 1e-3 * acc.abs().max()
    assert (gyro - expected_gyro).abs().max() < 1e-4 * gyro.abs().max()  # O(h^2 w^3) truncation

    fine = np.arange(0.0, 2.5, 1 / 200)
    qf, qdf, qddf = _sine_trajectory(body, fine)
    motion = Motion(qf, 200.0, body)
    from_motion = imu_from_motion(motion, ["watch_left", "foot_l"], fps=100.0)
    exact = simulate_imu(body, qf[::2], qdf[::2], qddf[::2], ["watch_left", "foot_l"])
    inner = slice(20, -20)  # the natural spline's end conditions differ from the sine's
    assert from_motion.acc.shape == exact.acc.shape and from_motion.fps == 100.0
    assert (from_motion.acc - exact.acc)[inner].abs().max() < 1e-3 * exact.acc.abs().max()
    assert (from_motion.gyro - exact.gyro)[inner].abs().max() < 1e-4 * exact.gyro.abs().max()


def test_given_kinematics_give_the_same_signals(body):
    """simulate_imu with the caller's forward kinematics and segment motion (as the data engine
    passes them) equals it computing its own; segment_motion's torques equal inverse_dynamics."""
    from musclepose.body import inverse_dynamics, segment_motion

    q, qd, qdd = _sine_trajectory(body, np.linspace(0.0, 2.0, 60))
    *state, tau = segment_motion(body, q, qd, qdd, with_tau=True)
    assert torch.equal(tau, inverse_dynamics(body, q, qd, qdd))
    sites = ["watch_left", "phone_torso"]
    own = simulate_imu(body, q, qd, qdd, sites)
    given = simulate_imu(body, q, qd, qdd, sites, fk=forward_kinematics(body, q), segment_state=tuple(state))
    for a, b in ((own.acc, given.acc), (own.gyro, given.gyro), (own.mag, given.mag), (own.position, given.position)):
        assert torch.allclose(a, b, atol=1e-12, rtol=0)


def test_batched_float32_and_differentiable(body):
    t = np.linspace(0, 1, 6)
    q, qd, qdd = _sine_trajectory(body, t)
    batch = torch.stack([q, q + 0.1])[:, None].expand(2, 3, -1, -1)  # (2, 3, T, 47)
    big = simulate_imu(body, batch, qd.expand_as(batch), qdd.expand_as(batch), ["watch_left", "shank_r"])
    one = simulate_imu(body, q + 0.1, qd, qdd, ["watch_left", "shank_r"])
    assert big.acc.shape == (2, 3, 6, 2, 3) and big.rotation.shape == (2, 3, 6, 2, 3, 3)
    torch.testing.assert_close(big.acc[1, 2], one.acc, rtol=1e-12, atol=1e-12)
    s32 = simulate_imu(body, q.float(), qd.float(), qdd.float(), ["watch_left"])
    assert s32.acc.dtype == torch.float32
    s64 = simulate_imu(body, q, qd, qdd, ["watch_left"])
    torch.testing.assert_close(s32.acc.double(), s64.acc, rtol=1e-4, atol=1e-3)

    # d acc / d q by autograd equals a central difference.
    q1 = q[2].clone().requires_grad_(True)
    out = simulate_imu(body, q1, qd[2], qdd[2], ["watch_left"]).acc[0, 0]
    (grad,) = torch.autograd.grad(out, q1)
    i, eps = body.dof_index("elbow_flexion_l"), 1e-6
    dq = torch.zeros_like(q[2])
    dq[i] = eps
    fd = (
        simulate_imu(body, q[2] + dq, qd[2], qdd[2], ["watch_left"]).acc[0, 0]
        - simulate_imu(body, q[2] - dq, qd[2], qdd[2], ["watch_left"]).acc[0, 0]
    ) / (2 * eps)
    assert abs(float(grad[i]) - float(fd)) < 1e-6 * max(1.0, abs(float(fd)))


def _zeros(batch, n_t, names=("phone_torso", "watch_left"), fps=100.0, value=0.0) -> IMUSignals:
    shape = (*batch, n_t, len(names), 3)
    x = torch.full(shape, value, dtype=torch.float64)
    rot = torch.eye(3, dtype=torch.float64).expand(*shape, 3)
    return IMUSignals(tuple(names), x.clone(), x.clone(), x.clone(), rot, x.clone(), fps=fps)


def test_white_noise_density():
    sig = _zeros((), 40000, fps=100.0)
    out = corrupt_imu(sig, errors=IMUErrors(acc_bias=0, scale=0, misalignment_deg=0, drop_rate=0, bias=False))
    fs = 100.0
    for k, spec in enumerate((PHONE, WATCH)):  # default devices: phone_*, watch_*
        acc_sd = out.acc[:, k].std().item()
        gyro_sd = out.gyro[:, k].std().item()
        assert acc_sd == pytest.approx(spec.acc_noise_density * math.sqrt(fs), rel=0.02)
        assert gyro_sd == pytest.approx(spec.gyro_noise_density * math.sqrt(fs), rel=0.02)
    # Seed numbers: 150 ug/sqrt(Hz) at 100 Hz is 1.47e-2 m/s^2 per sample; 0.01 dps/sqrt(Hz) is 0.1 dps.
    assert PHONE.acc_noise_density * 10 == pytest.approx(0.0147, rel=1e-2)
    assert math.degrees(PHONE.gyro_noise_density * 10) == pytest.approx(0.1)
    assert out.mag[:, 0].std().item() == pytest.approx(PHONE.mag_noise, rel=0.02)


def test_bias_turn_on_and_random_walk():
    n_t, fps = 200, 100.0
    sig = _zeros((2000,), n_t, names=("phone_torso",), fps=fps)
    out = corrupt_imu(sig, errors=IMUErrors(scale=0, misalignment_deg=0, drop_rate=0, noise=False), generator=5)
    b0 = out.metadata["errors"]["acc_turn_on_bias"]  # (2000, 1, 3)
    assert b0.std().item() == pytest.approx(math.hypot(PHONE.acc_bias, 0.02), rel=0.05)
    walk = out.acc[:, -1] - out.acc[:, 0]  # the random-walk part over (n_t - 1) samples
    expected = PHONE.acc_bias / math.sqrt(100.0) * math.sqrt((n_t - 1) / fps)
    assert walk.std().item() == pytest.approx(expected, rel=0.05)
    gyro_walk = (out.gyro[:, -1] - out.gyro[:, 0]).std().item()
    assert gyro_walk == pytest.approx(PHONE.gyro_bias / 10.0 * math.sqrt((n_t - 1) / fps), rel=0.05)


def test_scale_and_misalignment():
    sig = _zeros((2000,), 2, names=("watch_left",))
    x = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64)
    sig = IMUSignals(sig.names, sig.acc + x, sig.gyro + x, None, sig.rotation, sig.position, fps=100.0)
    errors = IMUErrors(acc_bias=0, drop_rate=0, noise=False, bias=False, saturate=False)
    out = corrupt_imu(sig, errors=errors, generator=1)
    m = out.metadata["errors"]["acc_matrix"][:, 0]  # (2000, 3, 3)
    torch.testing.assert_close(out.acc[:, 0, 0], m @ x)
    diag = torch.diagonal(m, dim1=-2, dim2=-1) - 1
    off = m[:, ~torch.eye(3, dtype=torch.bool)]
    assert diag.std().item() == pytest.approx(0.02, rel=0.05)
    assert off.std().item() == pytest.approx(math.radians(2.0), rel=0.05)
    assert not torch.equal(out.metadata["errors"]["gyro_matrix"], out.metadata["errors"]["acc_matrix"])


def test_saturation_and_quantisation():
    sig = _zeros((), 50, value=30 * 9.80665)
    sig = IMUSignals(sig.names, sig.acc, sig.gyro.fill_(math.radians(5000)), None, sig.rotation, sig.position, 100.0)
    out = corrupt_imu(sig, errors=IMUErrors(drop_rate=0.0, quantize=True))
    np.testing.assert_allclose(out.acc[:, 0].numpy(), PHONE.acc_range, rtol=1e-4)  # +-16 g
    np.testing.assert_allclose(out.acc[:, 1].numpy(), WATCH.acc_range, rtol=1e-4)  # +-8 g
    np.testing.assert_allclose(out.gyro[:, 1].numpy(), math.radians(1000), rtol=1e-4)
    small = corrupt_imu(_zeros((), 200), errors=IMUErrors(drop_rate=0.0, quantize=True), generator=2)
    lsb = 2 * PHONE.acc_range / 2**16
    steps = small.acc[:, 0] / lsb
    torch.testing.assert_close(steps, steps.round(), rtol=0, atol=1e-6)
    assert len(torch.unique(small.acc[:, 0])) > 5


def test_dropped_samples_nan_or_held():
    sig = _zeros((), 20000)
    sig = IMUSignals(sig.names, sig.acc + torch.arange(20000.0, dtype=torch.float64)[:, None, None], sig.gyro,
                     None, sig.rotation, sig.position, 100.0)  # fmt: skip
    nan = corrupt_imu(sig, errors=replace(QUIET, drop_rate=0.01), generator=3)
    lost = ~nan.valid
    assert lost.float().mean().item() == pytest.approx(0.01, abs=0.002)
    assert torch.equal(torch.isnan(nan.acc).all(-1), lost) and torch.equal(torch.isnan(nan.gyro).any(-1), lost)
    held = corrupt_imu(sig, errors=replace(QUIET, drop_rate=0.01, drop_mode="hold"), generator=3)
    assert torch.equal(held.valid, nan.valid) and not torch.isnan(held.acc).any()
    t, s = torch.nonzero(lost[1:], as_tuple=True)
    t = t + 1
    # A held sample repeats its predecessor (which is itself the last received value).
    torch.testing.assert_close(held.acc[t, s], held.acc[t - 1, s])
    assert (held.acc[~lost][..., 0] == sig.acc[~lost][..., 0]).all()


def test_seeded_and_reproducible(body):
    sig = simulate_imu(body, body.neutral_q()[None].expand(50, -1), *(torch.zeros(50, 47, dtype=torch.float64),) * 2,
                       ["phone_torso", "watch_left"], fps=100.0)  # fmt: skip
    a, b, c = corrupt_imu(sig, generator=11), corrupt_imu(sig, generator=11), corrupt_imu(sig, generator=12)
    assert torch.equal(a.acc.nan_to_num(), b.acc.nan_to_num()) and not torch.equal(
        a.acc.nan_to_num(), c.acc.nan_to_num()
    )
    with pytest.raises(ValueError, match="fps"):
        corrupt_imu(simulate_imu(body, body.neutral_q()[None], *(torch.zeros(1, 47, dtype=torch.float64),) * 2,
                                 ["sacrum"]))  # fmt: skip
    data = a.to_imu_data()
    assert (
        data.sensors == ["phone_torso", "watch_left"] and data.fps == 100.0 and data.acc["watch_left"].shape == (50, 3)
    )


def test_perturbed_placement_statistics(body):
    site = imu_site(body, "phone_torso")
    moved = perturb_sites([site] * 3000, generator=4)
    dp = np.array([np.subtract(s.position, site.position) for s in moved])
    assert np.sqrt((dp**2).sum(1).mean()) == pytest.approx(0.05, rel=0.05)
    rel = np.array([site.rotation_matrix.T @ s.rotation_matrix for s in moved])
    angle = np.arccos(np.clip((np.trace(rel, axis1=1, axis2=2) - 1) / 2, -1, 1))
    assert np.degrees(np.sqrt((angle**2).mean())) == pytest.approx(15.0, rel=0.05)
    assert np.allclose(np.linalg.det(rel), 1.0)
    with pytest.raises(KeyError, match="unknown IMU preset"):
        imu_site(body, "ankle_bracelet")
