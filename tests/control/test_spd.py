"""Stable PD (Tan, Liu & Turk 2011): analytic cases, MuJoCo's own response, stability, a real squat."""

import copy

import mujoco
import numpy as np
import pytest

from musclepose.control.simulation import Simulation
from musclepose.control.spd import Gains, default_gains, pd_torque, spd_torque
from musclepose.control.tracking import track


def test_spd_on_a_point_mass_is_the_closed_form():
    # One DoF, mass m, no bias: (m + kd dt) a = -kp (x + dt v - x*) - kd v, tau = m a.
    m, kp, kd, dt, x, v, target = 2.0, 400.0, 30.0, 0.01, 0.1, -0.3, 0.5
    a = (-kp * (x + dt * v - target) - kd * v) / (m + kd * dt)
    tau = spd_torque(np.array([[m]]), np.zeros(1), np.array([x]), np.array([v]), np.array([target]), np.zeros(1),
                     Gains(np.array([kp]), np.array([kd])), dt)  # fmt: skip
    assert tau[0] == pytest.approx(m * a, rel=1e-12)


def test_spd_torque_is_pd_at_the_next_step_under_mujoco_dynamics(body):
    """With constraints off, MuJoCo's acceleration under the SPD torque is the one SPD predicted.

    So tau = -Kp (q + dt qd - q*) - Kd (qd + dt qacc - qd*) holds with MuJoCo's own qacc.
    """
    gen = np.random.default_rng(1)
    sim = Simulation(body, root_residual=True)
    sim.model = copy.deepcopy(sim.model)  # the cached model is shared: change a copy
    sim.model.opt.disableflags |= mujoco.mjtDisableBit.mjDSBL_CONSTRAINT
    q = body.neutral_q().numpy() + np.r_[0, 0.9, 0, gen.normal(0, 0.05, 44)]
    qd = gen.normal(0, 0.2, 47)
    target, target_d = q + gen.normal(0, 0.02, 47), gen.normal(0, 0.1, 47)
    g = default_gains(sim, q, root=True)
    sim.set_state(q, qd)
    tau = spd_torque(sim.mass_matrix(), sim.bias(), q, qd, target, target_d, g, sim.dt)
    assert np.all(np.abs(tau) < sim.torque_limit)
    sim.data.ctrl[:] = tau
    mujoco.mj_forward(sim.model, sim.data)
    expected = -g.kp * (q + sim.dt * qd - target) - g.kd * (qd + sim.dt * sim.data.qacc - target_d)
    np.testing.assert_allclose(tau, expected, rtol=1e-6, atol=1e-6)


def _unstable(sim: Simulation) -> bool:
    # MuJoCo resets the state when accelerations blow up, and counts it.
    return sim.data.warning[mujoco.mjtWarning.mjWARN_BADQACC].number > 0


def test_spd_is_stable_where_plain_pd_diverges(body):
    # Tan 2011's point: gains 100x the defaults (kd >= kp dt kept), 0.2 s of standing, 2 ms steps.
    sim = Simulation(body, root_residual=True)
    q0 = body.neutral_q().numpy()
    g = default_gains(sim, q0, root=True)
    stiff, zero = Gains(g.kp * 100, g.kd * 100), np.zeros(47)
    sim.set_state(q0)
    for _ in range(100):
        sim.step(lambda s: spd_torque(s.mass_matrix(), s.bias(), s.data.qpos, s.data.qvel, q0, zero, stiff, s.dt,
                                      limit=s.torque_limit))  # fmt: skip
    assert not _unstable(sim)
    assert np.degrees(np.abs(sim.q[6:] - q0[6:]).max()) < 2.0
    sim.set_state(q0)
    for _ in range(100):
        sim.step(lambda s: pd_torque(s.data.qpos, s.data.qvel, q0, zero, stiff))
    assert _unstable(sim)


@pytest.fixture(scope="module")
def squat(refdata):
    from musclepose.io import load_motion

    return load_motion(refdata("mocap/addbiomechanics_expert1/squats1.mot"))[0:300]  # the first 3 s, one rep


def test_spd_tracks_a_real_squat_with_residual_root_forces(squat):
    r = track(squat, controller="spd", residual=True)
    assert not r.fell and r.simulated_s == pytest.approx(squat.duration, abs=0.01)
    assert r.joint_rmse_deg < 5.0  # the target for SPD with residual forces
    assert r.root_position_rmse_m < 0.05
    # The legs, not the residual, carry the body: the root force stays well under body weight.
    assert r.rms_residual_force_n < 0.3 * r.body_weight_n
    assert np.all(np.isfinite(r.q))


def test_spd_without_residual_falls_and_says_when(squat):
    r = track(squat, controller="spd", residual=False)
    assert r.fell and 0.0 < r.fall_time_s < squat.duration
    assert r.max_residual_force_n == 0.0
    assert np.abs(r.q[-1, :3] - r.reference[-1, :3]).max() < 0.6  # stopped at the fall, not after
