"""The MuJoCo model of the body: actuators, mass, inertia, and forward dynamics against our RNEA."""

import copy

import mujoco
import numpy as np
import pytest
import torch

from musclepose.body import inverse_dynamics, mtg_parameters
from musclepose.control.simulation import N_ROOT, Simulation, build_model, torque_capacity


def test_default_export_has_no_actuators(body):
    # Other packages compare the plain export with MuJoCo; the options must not leak into it.
    assert mujoco.MjModel.from_xml_string(body.to_mjcf()).nu == 0


def test_actuated_model_matches_body(body):
    m = build_model(body, root_residual=True)
    assert m.nu == 47 and m.nq == 47
    assert mujoco.mj_getTotalmass(m) == pytest.approx(body.mass_kg, rel=1e-9)
    # A segment's inertia about its CoM: MuJoCo stores principal moments; ours is the full tensor.
    i = body.segment_index("thigh_r")
    np.testing.assert_allclose(np.sort(m.body_inertia[i + 1]), np.sort(np.linalg.eigvalsh(body.inertias[i])), rtol=1e-8)
    tau_iso = mtg_parameters(body).tau_iso
    np.testing.assert_allclose(m.actuator_ctrlrange[N_ROOT:, 1], np.maximum(tau_iso[:41], tau_iso[41:]), rtol=1e-9)
    np.testing.assert_allclose(m.actuator_ctrlrange[N_ROOT:, 0], -torque_capacity(body), rtol=1e-9)
    assert not m.actuator_ctrllimited[:N_ROOT].any()  # residuals are unbounded, so their size can be measured
    assert build_model(body, root_residual=True) is m  # cached


def test_motors_with_inverse_dynamics_torques_reproduce_the_acceleration(body):
    """MuJoCo's forward dynamics under our RNEA torques, applied through the motors, gives back qdd.

    Checks the actuator order (ctrl in q order, gear 1) and that M and the bias forces agree
    with inverse_dynamics: two independent implementations (Featherstone's RNEA vs MuJoCo).
    """
    gen = np.random.default_rng(0)
    sim = Simulation(body, root_residual=True)
    sim.model = copy.deepcopy(sim.model)  # the cached model is shared: change a copy
    sim.model.opt.disableflags |= mujoco.mjtDisableBit.mjDSBL_CONSTRAINT  # no floor, no limits
    q = body.neutral_q().numpy() + np.r_[0, 0.9, 0, gen.normal(0, 0.1, 44)]
    qd, qdd = gen.normal(0, 0.5, 47), gen.normal(0, 1.0, 47)
    tau = inverse_dynamics(body, *(torch.as_tensor(x) for x in (q, qd, qdd))).numpy()
    assert np.all(np.abs(tau[N_ROOT:]) < sim.torque_limit[N_ROOT:])  # no clipping in this test
    sim.set_state(q, qd)
    sim.data.ctrl[:] = tau
    mujoco.mj_forward(sim.model, sim.data)
    np.testing.assert_allclose(sim.data.qacc, qdd, atol=1e-6, rtol=1e-6)


def test_set_state_refuses_bad_shapes(body):
    sim = Simulation(body)
    with pytest.raises(ValueError, match="shape"):
        sim.set_state(np.zeros(46))
    with pytest.raises(ValueError, match="finite"):
        sim.set_state(np.full(47, np.nan))


def test_hands_touch_the_floor_only_in_the_simulation_model(body):
    # Sink the standing body 0.8 m: its hands (about 0.7 m up when standing) go through the floor.
    q = body.neutral_q().numpy()
    q[1] -= 0.8
    sim = Simulation(body)
    sim.set_state(q)
    touching = {
        mujoco.mj_id2name(sim.model, mujoco.mjtObj.mjOBJ_GEOM, int(g)) for c in sim.data.contact for g in c.geom
    }
    assert {"hand_r_g0", "hand_l_g0", "foot_r_sole", "foot_l_sole"} <= touching
    plain = mujoco.MjModel.from_xml_string(body.to_mjcf())
    data = mujoco.MjData(plain)
    data.qpos[:] = q
    mujoco.mj_forward(plain, data)
    names = {mujoco.mj_id2name(plain, mujoco.mjtObj.mjOBJ_GEOM, int(g)) for c in data.contact for g in c.geom}
    assert not any(n.startswith("hand") for n in names)
