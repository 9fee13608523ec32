"""The seed's GRF model as a torch module: limits, gradients, statics and the OpenSim gait plates.

Independent references: finite differences of forward kinematics (features), the friction
cone inequality, body weight in quiet standing, exact recovery of known coefficients, and
the force plates of the OpenSim gait10dof18musc example (right plate ``ground_force_*``,
left ``1_ground_force_*``).
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest
import torch

from musclepose.body import Body, forward_kinematics, inverse_dynamics
from musclepose.body.contact import foot_contact
from musclepose.models import GRFConfig, GRFInputs, GRFModel, fit_grf_coefficients, grf_inputs
from musclepose.models.grf import ETA_FY_SEED, FEATURE_NAMES
from musclepose.sim import generate

G = 9.81
GAIT = "kinetics/opensim_gait10dof18musc/"


def _random_inputs(shape=(4, 7), seed=0, dtype=torch.float64) -> GRFInputs:
    g = torch.Generator().manual_seed(seed)
    psi = torch.randn(shape + (2, 8), generator=g, dtype=dtype) * 0.1
    psi[..., 0] = 1.0
    heel = torch.randn(shape + (2, 3), generator=g, dtype=dtype)
    heel[..., 1] = 0.0
    toe = heel + torch.tensor([0.25, 0.0, 0.0], dtype=dtype)
    return GRFInputs(psi, heel, toe)


def test_shapes_and_wrenches_for_inverse_dynamics():
    body = Body.standard()
    q = body.neutral_q().repeat(3, 5, 1)
    q[..., 6:] += 0.05 * torch.randn(3, 5, 41, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    qd, qdd = torch.zeros_like(q), torch.zeros_like(q)
    inputs = grf_inputs(body, q, qd, qdd)
    assert inputs.psi.shape == (3, 5, 2, 8) and inputs.heel.shape == inputs.toe.shape == (3, 5, 2, 3)
    model = GRFModel(GRFConfig(head_hidden=16))
    out = model(inputs, torch.ones(3, 5, 2, dtype=torch.float64), body.mass_kg * G)
    assert out.force.shape == out.cop.shape == (3, 5, 2, 3)
    assert out.fy_bw.shape == out.mu.shape == out.cop_fraction.shape == (3, 5, 2)
    assert out.force.dtype == torch.float64
    tau = inverse_dynamics(body, q, qd, qdd, external=out.wrenches())
    plain = inverse_dynamics(body, q, qd, qdd)
    # The wrenches act: the vertical root residual drops by the total predicted force.
    np.testing.assert_allclose(
        (plain[..., 1] - tau[..., 1]).detach().numpy(), out.force[..., 1].sum(-1).detach().numpy(), rtol=1e-5
    )
    with pytest.raises(ValueError, match="psi"):
        model(GRFInputs(inputs.psi[..., :7], inputs.heel, inputs.toe), torch.ones(3, 5, 2), 1.0)


def test_features_equal_finite_differences_of_kinematics():
    body = Body.standard()
    m = generate("squat", body, {"reps": 1, "fps": 200.0})
    # Lift the right heel as well so the ankle height moves: add plantarflexion and root lift.
    q = m.q.clone()
    t = torch.linspace(0, 1, m.n_frames, dtype=torch.float64)
    q[:, body.dof_index("ankle_dorsiflexion_r")] -= 0.3 * torch.sin(np.pi * t)
    q[:, 1] += 0.05 * torch.sin(2 * np.pi * t)
    dt = 1 / m.fps
    qd = torch.gradient(q, spacing=dt, dim=0)[0]
    qdd = torch.gradient(qd, spacing=dt, dim=0)[0]
    inputs = grf_inputs(body, q, qd, qdd, floor_y=0.0)
    y = forward_kinematics(body, q).origins[:, [body.segment_index("foot_r"), body.segment_index("foot_l")], 1]
    vy = torch.gradient(y, spacing=dt, dim=0)[0]
    ay = torch.gradient(vy, spacing=dt, dim=0)[0]
    inner = slice(4, -4)
    np.testing.assert_allclose(inputs.psi[:, :, 1].numpy(), y.numpy(), atol=1e-12)
    np.testing.assert_allclose(inputs.psi[:, 0, 2].numpy(), y[:, 1].numpy(), atol=1e-12)
    np.testing.assert_allclose(inputs.psi[inner, :, 3].numpy(), vy[inner].numpy(), atol=2e-3 * vy.abs().max().item())
    np.testing.assert_allclose(inputs.psi[inner, :, 4].numpy(), ay[inner].numpy(), atol=2e-2 * ay.abs().max().item())
    ank = body.dof_index("ankle_dorsiflexion_l")
    np.testing.assert_array_equal(inputs.psi[:, 1, 7].numpy(), qdd[:, ank].numpy())


def test_friction_cone_nonnegative_vertical_and_zero_contact():
    inputs = _random_inputs()
    g = torch.Generator().manual_seed(2)
    delta = torch.randn(4, 7, 2, 5, generator=g, dtype=torch.float64) * 3.0
    contact = torch.rand(4, 7, 2, generator=g, dtype=torch.float64)
    contact[0] = 0.0
    out = GRFModel()(inputs, contact, 700.0, delta)
    f = out.force
    shear2 = f[..., 0] ** 2 + f[..., 2] ** 2
    assert (shear2 <= (out.mu * f[..., 1]) ** 2 * (1 + 1e-12) + 1e-12).all()
    assert (f[..., 1] >= 0).all()
    assert ((out.mu >= 0.05) & (out.mu <= 2.0)).all()
    assert f[0].abs().max().item() == 0.0  # zero contact -> zero force, exactly
    # Heading frame: X along heel->toe (+x here), Z to its right (+z), as documented.
    np.testing.assert_allclose(f[..., 0].numpy(), (torch.tanh(delta[..., 1]) * out.mu * f[..., 1]).numpy())


def test_gradients_finite_on_the_cone_boundary_and_at_zero_force():
    inputs = _random_inputs((6,), dtype=torch.float32)
    psi = inputs.psi.clone().requires_grad_(True)
    delta = torch.zeros(6, 2, 5, dtype=torch.float32)
    delta[0, :, 1] = 40.0  # tanh = 1 in float32: |F_X| = mu F_Y, F_Z = 0 (the cone's edge)
    delta[1, :, 1] = -40.0
    delta[2, :, 2] = 40.0
    delta[3, :, 0] = -50.0  # F_Y -> 0 (softplus far below zero)
    delta[4, :, 3] = 5.0  # mu clamped at its maximum
    delta.requires_grad_(True)
    contact = torch.ones(6, 2)
    contact[5] = 0.0
    model = GRFModel(GRFConfig(learn_eta=True, head_hidden=8))
    out = model(GRFInputs(psi, inputs.heel, inputs.toe), contact, 700.0, delta)
    assert torch.allclose(out.force[0, :, 0].abs(), out.mu[0] * out.force[0, :, 1])
    (out.force.sum() + out.cop.sum()).backward()
    grads = [psi.grad, delta.grad, model.eta.grad, *(p.grad for p in model.head.parameters())]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert model.eta.grad.abs().sum() > 0 and model.head.fc.weight.grad is not None


def test_head_starts_at_zero_and_config_round_trips():
    inputs = _random_inputs()
    contact = torch.ones(4, 7, 2, dtype=torch.float64)
    plain = GRFModel()(inputs, contact, 700.0)
    headed = GRFModel(GRFConfig(head_hidden=32))
    assert torch.equal(headed(inputs, contact, 700.0).force, plain.force)
    clone = GRFModel(GRFConfig(**asdict(headed.config)))
    clone.load_state_dict(headed.state_dict())
    assert "eta" in dict(GRFModel().named_buffers()) and "eta" in dict(
        GRFModel(GRFConfig(learn_eta=True)).named_parameters()
    )
    with pytest.raises(ValueError, match="coefficients"):
        GRFConfig(eta_fy=(1.0, 2.0))


def test_seed_coefficients_in_quiet_standing_carry_only_074_body_weights():
    # The documented deficiency of the seed's coefficients: statics needs 1 BW.
    body = Body.standard()
    q = body.neutral_q()[None]
    z = torch.zeros_like(q)
    inputs = grf_inputs(body, q, z, z)
    h = body.lengths["ankle_height"]
    assert inputs.psi[0, :, 1].numpy() == pytest.approx([h, h])
    out = GRFModel()(inputs, torch.ones(1, 2, dtype=torch.float64), body.mass_kg * G)
    per_foot = ETA_FY_SEED[0] + (ETA_FY_SEED[1] + ETA_FY_SEED[2]) * h
    assert out.fy_bw[0].numpy() == pytest.approx([per_foot, per_foot], rel=1e-6)
    assert out.fy_bw.sum().item() == pytest.approx(0.744, abs=0.002)
    # The CoP lands mid-foot (52 % heel to toe), which is plausible.
    assert out.cop_fraction[0].numpy() == pytest.approx([0.515, 0.515], abs=0.002)
    # Inverse dynamics sees the missing quarter of body weight as a root residual.
    tau = inverse_dynamics(body, q, z, z, external=out.wrenches())
    assert tau[0, 1].item() / (body.mass_kg * G) == pytest.approx(1 - 0.744, abs=0.002)


def test_fit_recovers_known_coefficients():
    inputs = _random_inputs((200,))
    eta_fy = torch.tensor([0.4, 1.0, -0.5, 0.2, 0.01, 0.3, -0.1, 0.02], dtype=torch.float64)
    eta_cop = torch.tensor([0.5, -2.0, 0.3, 0.1, 0.0, 0.2, -0.03, 0.001], dtype=torch.float64)
    contact = torch.full((200, 2), 0.8, dtype=torch.float64)
    fy = (inputs.psi @ eta_fy) * 700.0 * contact
    force = torch.stack([torch.zeros_like(fy), fy, torch.zeros_like(fy)], -1)
    frac = inputs.psi @ eta_cop
    cop = inputs.heel + frac[..., None] * (inputs.toe - inputs.heel)
    cfg = fit_grf_coefficients(inputs, contact, force, 700.0, cop=cop, min_force_bw=-10.0)
    np.testing.assert_allclose(cfg.eta_fy, eta_fy.numpy(), atol=1e-10)
    np.testing.assert_allclose(cfg.eta_cop, eta_cop.numpy(), atol=1e-10)
    assert len(FEATURE_NAMES) == 8


# ------------------------------------------------------------------ real data
def _pearson(a, b) -> float:
    return float(np.corrcoef(np.asarray(a), np.asarray(b))[0, 1])


@pytest.fixture(scope="module")
def gait(refdata):
    from musclepose.io.opensim import read_osim_bodies, read_table
    from musclepose.io.opensim.coords import motion_from_opensim
    from musclepose.io.opensim.model import osim_marker_set

    osim = refdata(GAIT + "subject01.osim")
    mass = sum(b.mass for b in read_osim_bodies(osim).values())
    body, _, _ = osim_marker_set(osim, mass_kg=mass)
    m = motion_from_opensim(read_table(refdata(GAIT + "subject01_walk_IK.mot")), body, osim_path=osim).filtered(6.0)
    qd, qdd = m.velocities()
    contact = foot_contact(body, m.q, qd, floor_velocity="estimate")  # treadmill
    inputs = grf_inputs(body, m.q, qd, qdd, floor_y=contact.floor_y)
    plates = read_table(refdata(GAIT + "subject01_walk_grf.mot"))

    def plate(kind: str) -> torch.Tensor:
        cols = [
            [np.interp(m.times, plates.time, plates.column(f"{p}ground_{kind}{a}")) for a in "xyz"] for p in ("", "1_")
        ]
        return torch.tensor(np.array(cols)).permute(2, 0, 1)  # (T, 2 feet, 3)

    return body, m, inputs, contact.weight, plate("force_v"), plate("force_p"), mass * G


def _foot(inputs: GRFInputs, f: int) -> GRFInputs:
    return GRFInputs(inputs.psi[:, f : f + 1], inputs.heel[:, f : f + 1], inputs.toe[:, f : f + 1])


def test_fitting_on_gait_plates_beats_the_seed_coefficients(gait):
    body, m, inputs, contact, force, cop, bw = gait
    inner = slice(5, -5)
    measured = (force[..., 1] / bw).numpy()
    seed = GRFModel()(inputs, contact, bw).fy_bw.numpy()
    # Seed (r, RMSE BW), interior frames: right 0.17/0.61, left 0.17/0.63; it carries 0.47 BW
    # on average where the plates carry 0.99.
    for f in (0, 1):
        assert _pearson(seed[inner, f], measured[inner, f]) < 0.3
    assert seed[inner].sum(-1).mean() < 0.6
    # Cross-validated fit: coefficients from one foot predict the other foot's plate.
    # Measured: fit R -> L r 0.987 (RMSE 0.072 BW); fit L -> R r 0.987 (0.073).
    for train, test in ((0, 1), (1, 0)):
        cfg = fit_grf_coefficients(_foot(inputs, train), contact[:, train : train + 1], force[:, train : train + 1], bw)
        pred = GRFModel(cfg)(inputs, contact, bw).fy_bw.detach().numpy()
        assert _pearson(pred[inner, test], measured[inner, test]) >= 0.97
        assert np.sqrt(np.mean((pred[inner, test] - measured[inner, test]) ** 2)) <= 0.1
    # Both feet, with the CoP: in-sample r 0.994 (vertical), CoP fraction r 0.98 (seed 0.57/0.70).
    cfg = fit_grf_coefficients(inputs, contact, force, bw, cop=cop)
    out = GRFModel(cfg)(inputs, contact, bw)
    axis = inputs.toe - inputs.heel
    frac = ((cop - inputs.heel)[..., [0, 2]] * axis[..., [0, 2]]).sum(-1) / (axis[..., [0, 2]] ** 2).sum(-1)
    loaded = (force[..., 1] / bw > 0.1).numpy()
    seed_frac = GRFModel()(inputs, contact, bw).cop_fraction.detach()
    for f in (0, 1):
        sel = loaded[:, f]
        assert _pearson(out.cop_fraction[sel, f].detach(), frac[sel, f]) >= 0.95
        assert _pearson(seed_frac[sel, f], frac[sel, f]) < 0.8
    # Physically: with the fitted wrenches inverse dynamics' vertical root residual is small
    # (median 0.045 BW; the seed's leave 0.68 BW).
    qd, qdd = m.velocities()
    for model, lo, hi in ((GRFModel(cfg), 0.0, 0.07), (GRFModel(), 0.5, 1.0)):
        tau = inverse_dynamics(body, m.q, qd, qdd, external=model(inputs, contact, bw).wrenches())
        assert lo <= np.median(np.abs(tau[inner, 1].detach().numpy())) / bw < hi
