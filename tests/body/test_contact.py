"""Ground contact and GRF estimation: statics, a planted-feet squat, limits and a real gait trial.

Independent references: body weight and static equilibrium (analytic), the centre-of-mass
acceleration of the squat by finite differences (Newton's second law, no inverse dynamics),
and the force plates of the OpenSim gait10dof18musc example (subject01, treadmill walking,
two plates: ``ground_force_*`` under the right foot, ``1_ground_force_*`` under the left).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from musclepose.body import Body
from musclepose.body.contact import foot_contact, sole_points
from musclepose.body.grf import FOOT_BREADTH_FRACTION, estimate_grf
from musclepose.body.kinematics import centre_of_mass
from musclepose.sim import generate

G = 9.81
GAIT = "kinetics/opensim_gait10dof18musc/"


def _static(q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    z = torch.zeros_like(q)
    return q, z, z


def _one_leg(body: Body) -> torch.Tensor:
    q = body.neutral_q()
    q[body.dof_index("hip_flexion_l")] = np.radians(90)
    q[body.dof_index("knee_flexion_l")] = np.radians(90)
    return q


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_quiet_standing_carries_body_weight_with_no_residual(body, dtype):
    q, qd, qdd = _static(body.neutral_q(dtype)[None])
    est = estimate_grf(body, q, qd, qdd)
    weight = body.mass_kg * G
    tol = 1e-9 if dtype == torch.float64 else 1e-4
    assert est.contact.weight.numpy() == pytest.approx(np.ones((1, 2)))
    assert est.force[..., 1].sum().item() == pytest.approx(weight, rel=tol)
    assert est.grf_bw[..., 1].sum().item() == pytest.approx(1.0, rel=tol)
    assert est.force[..., [0, 2]].sum(-2).abs().max().item() < tol * weight  # no net shear
    # Symmetric body: each foot carries half, to within the body's small left/right asymmetry.
    assert est.grf_bw[0, :, 1].numpy() == pytest.approx([0.5, 0.5], abs=0.01)
    assert est.residual_force.abs().max().item() < tol * weight
    assert est.residual_moment.abs().max().item() < tol * weight
    # The total CoP lies under the centre of mass (static equilibrium).
    cop = (est.cop * est.force[..., 1:2]).sum(-2) / est.force[..., 1:2].sum(-2)
    com = centre_of_mass(body, q)
    assert cop[0, [0, 2]].numpy() == pytest.approx(com[0, [0, 2]].numpy(), abs=1e-6 if tol < 1e-6 else 1e-4)
    # Each foot's force points at the centre of mass (the documented split of the shear).
    to_com = com[0] - est.cop[0]
    cosine = torch.nn.functional.cosine_similarity(est.force[0], to_com, dim=-1)
    assert cosine.numpy() == pytest.approx([1.0, 1.0], abs=1e-6 if tol < 1e-6 else 1e-4)


def test_squat_with_planted_feet_leaves_no_residual_and_matches_com_acceleration(body):
    # A squat slow enough (1.5 s each way) that the CoP stays under the feet.
    m = generate("squat", body, {"reps": 2, "depth_deg": 110.0, "eccentric_s": 1.5, "concentric_s": 1.5, "fps": 200.0})
    qd, qdd = m.velocities()
    est = estimate_grf(body, m.q, qd, qdd)
    assert est.contact.weight.min().item() == pytest.approx(1.0)
    assert est.contact.floor_y.abs().max().item() < 1e-9  # feet on y = 0 by construction
    assert est.residual_force.norm(dim=-1).max().item() < 1.0
    assert est.residual_moment.norm(dim=-1).max().item() < 0.1
    assert est.required_moment.norm(dim=-1).max().item() > 50.0  # the task was not trivial
    # Newton: total vertical GRF = m (g + a_com,y), a_com from the CoM path by finite differences.
    com = centre_of_mass(body, m.q).numpy()
    a = np.gradient(np.gradient(com[:, 1], 1 / m.fps), 1 / m.fps)
    total = est.force[..., 1].sum(-1).numpy()
    inner = slice(2, -2)  # np.gradient is first order at the ends
    # atol 1 N (0.15 % of body weight): the hold at the bottom starts and ends with a step in
    # jerk, where the finite-difference CoM acceleration is off by up to 0.7 N at 200 Hz.
    np.testing.assert_allclose(total[inner], body.mass_kg * (G + a[inner]), atol=1.0)
    assert total.max() - total.min() > 0.1 * body.mass_kg * G  # the squat loads and unloads
    # Each CoP inside its foot, each force inside the friction cone.
    assert (est.force[..., [0, 2]].norm(dim=-1) <= 0.8 * est.force[..., 1] + 1e-9).all()


def test_single_support_puts_all_force_on_the_stance_foot(body):
    q, qd, qdd = _static(_one_leg(body)[None])
    est = estimate_grf(body, q, qd, qdd, floor_y=0.0)
    weight = body.mass_kg * G
    assert est.contact.weight[0, 1].item() == 0.0 and est.contact.weight[0, 0].item() == 1.0
    assert est.force[0, 1].abs().max().item() == 0.0
    assert est.force[0, 0].numpy() == pytest.approx([0.0, weight, 0.0], abs=1e-6)
    assert est.residual_force.abs().max().item() < 1e-6
    # The required CoP (under the CoM, between the feet) lies medial to the right foot: the
    # CoP is clamped to the foot's edge and the residual moment is W times the distance.
    com = centre_of_mass(body, q)[0]
    pts = sole_points(body, q)[0, 0]
    edge_z = pts[0, 2].item() - 0.5 * FOOT_BREADTH_FRACTION * body.height_m
    assert com[2].item() < edge_z
    assert est.cop[0, 0, 2].item() == pytest.approx(edge_z, abs=1e-9)
    expected = weight * (edge_z - com[2].item())
    assert est.residual_moment[0].norm().item() == pytest.approx(expected, rel=1e-6)


def test_friction_cone_and_unilateral_contact(body):
    weight = body.mass_kg * G
    q, qd, qdd = _static(body.neutral_q().repeat(3, 1))
    qdd = qdd.clone()
    qdd[0, 0] = 15.0  # needs 15 m/s^2 forward: far outside a mu = 0.8 cone
    qdd[1, 2] = -4.0  # 4 m/s^2 sideways: inside the cone (4 < 0.8 g)
    qdd[2, 1] = -15.0  # falling faster than g: the floor would have to pull
    est = estimate_grf(body, q, qd, qdd, mu=0.8)
    f = est.force
    horizontal = f[..., [0, 2]].norm(dim=-1)
    assert (horizontal <= 0.8 * f[..., 1] * (1 + 1e-9)).all()
    assert (f[..., 1] >= 0).all()
    assert f[0, :, 0].sum().item() == pytest.approx(0.8 * weight, rel=1e-9)  # on the cone
    assert est.residual_force[0, 0].item() == pytest.approx(body.mass_kg * 15.0 - 0.8 * weight, rel=1e-9)
    assert est.residual_force[1].abs().max().item() < 1e-6  # inside: fully explained
    assert f[2].abs().max().item() == 0.0
    assert est.residual_force[2].numpy() == pytest.approx(est.required_force[2].numpy())


def test_flight_gives_no_force(body):
    q = body.neutral_q()[None]
    q[:, 1] += 0.3
    est = estimate_grf(body, *_static(q), floor_y=0.0)
    assert est.force.abs().max().item() == 0.0
    assert est.residual_force[0, 1].item() == pytest.approx(body.mass_kg * G)


def test_contact_weight_is_smooth_in_height_and_speed(body):
    # Raise the floor's distance below the feet from 0 to 10 cm in 1 mm steps.
    n = 101
    q = body.neutral_q().repeat(n, 1)
    floor = -torch.linspace(0.0, 0.1, n, dtype=torch.float64)
    c = foot_contact(body, q, torch.zeros_like(q), floor_y=floor)
    w = c.weight[:, 0].numpy()
    assert w[0] == 1.0 and w[-1] == 0.0
    assert np.all(np.diff(w) <= 1e-12)  # monotone
    # A smoothstep over a 4 cm band has slope <= 1.5 / 4 cm; the OR of heel and forefoot
    # (both at the same height here) at most doubles it: no jumps.
    assert np.abs(np.diff(w)).max() <= 2 * 1.5 * 0.001 / 0.04 + 1e-12
    # Speed: a foot sliding at 2 m/s is not in contact, at 0.1 m/s it is.
    qd = torch.zeros(2, body.n_dof, dtype=torch.float64)
    qd[:, 0] = torch.tensor([0.1, 2.0], dtype=torch.float64)
    c = foot_contact(body, body.neutral_q().repeat(2, 1), qd, floor_y=0.0)
    assert c.weight[0].numpy() == pytest.approx([1.0, 1.0]) and c.weight[1].abs().max().item() == 0.0
    # ... unless the floor moves with it (treadmill), given or estimated.
    c = foot_contact(body, body.neutral_q().repeat(2, 1), qd, floor_y=0.0, floor_velocity=torch.tensor([2.0, 0, 0]))
    assert c.weight[1].numpy() == pytest.approx([1.0, 1.0])
    c = foot_contact(body, body.neutral_q().repeat(5, 1), qd[1:].repeat(5, 1), floor_velocity="estimate")
    assert c.floor_velocity[0].numpy() == pytest.approx([2.0, 0.0, 0.0]) and c.weight.min().item() == 1.0


def test_gradients_flow_through_the_estimate(body):
    m = generate("squat", body, {"reps": 1, "fps": 20.0})
    qd, qdd = m.velocities()
    x = [t[::6].clone().requires_grad_(True) for t in (m.q, qd, qdd)]
    est = estimate_grf(body, *x, floor_velocity="estimate")
    (est.force.sum() + est.cop.sum() + est.contact.weight.sum()).backward()
    assert all(torch.isfinite(t.grad).all() for t in x)
    assert x[2].grad.abs().max().item() > 0


# ------------------------------------------------------------------ real data
def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


@pytest.fixture(scope="module")
def gait(refdata):
    from musclepose.io.opensim import read_osim_bodies, read_table
    from musclepose.io.opensim.coords import motion_from_opensim
    from musclepose.io.opensim.model import osim_marker_set

    osim = refdata(GAIT + "subject01.osim")
    mass = sum(b.mass for b in read_osim_bodies(osim).values())  # 72.6 kg
    body, _, _ = osim_marker_set(osim, mass_kg=mass)
    motion = motion_from_opensim(read_table(refdata(GAIT + "subject01_walk_IK.mot")), body, osim_path=osim)
    motion = motion.filtered(6.0)
    qd, qdd = motion.velocities()
    plates = read_table(refdata(GAIT + "subject01_walk_grf.mot"))  # 600 Hz

    def resample(name: str) -> np.ndarray:
        return np.interp(motion.times, plates.time, plates.column(name))

    measured = np.stack([np.stack([resample(f"{p}ground_force_v{a}") for a in "xyz"], -1) for p in ("", "1_")], 1) / (
        mass * G
    )  # (T, 2 feet, 3) in body weights; right plate first
    # Treadmill: the stance foot moves with the belt, so the floor velocity is estimated.
    est = estimate_grf(body, motion.q, qd, qdd, floor_velocity="estimate")
    return est, measured, motion


def test_gait_grf_matches_force_plates(gait):
    est, measured, motion = gait
    assert est.contact.floor_velocity[0, 0].item() == pytest.approx(-1.13, abs=0.05)  # belt speed, m/s
    grf = est.grf_bw.numpy()
    # Interior frames: the 6 Hz filter and the one-sided derivatives distort the first and
    # last ~80 ms. Measured there (r, RMSE in BW): vertical 0.995/0.043 (R), 0.996/0.042 (L);
    # anterior 0.974/0.027 (R), 0.986/0.026 (L). All 151 frames: vertical 0.988/0.071,
    # 0.992/0.056; anterior 0.975/0.027, 0.962/0.034.
    inner = slice(5, -5)
    for foot in (0, 1):
        v_est, v_meas = grf[inner, foot, 1], measured[inner, foot, 1]
        assert _pearson(v_est, v_meas) >= 0.99
        assert np.sqrt(np.mean((v_est - v_meas) ** 2)) <= 0.06
        a_est, a_meas = grf[inner, foot, 0], measured[inner, foot, 0]
        assert _pearson(a_est, a_meas) >= 0.96
        assert np.sqrt(np.mean((a_est - a_meas) ** 2)) <= 0.035
        assert _pearson(grf[:, foot, 1], measured[:, foot, 1]) >= 0.98
        assert _pearson(grf[:, foot, 0], measured[:, foot, 0]) >= 0.95
    # Contact agrees with the plates: loaded (> 5 % BW) frames have contact, unloaded none.
    w = est.contact.weight.numpy()[inner]
    loaded = measured[inner, :, 1] > 0.05
    assert (w[loaded] > 0.5).mean() >= 0.97 and (w[~loaded] < 0.5).mean() >= 0.9


def test_gait_residuals(gait):
    est, _, motion = gait
    weight = motion.body.mass_kg * G
    # The force is fully explained (inside the cones, always some contact).
    assert est.residual_force.norm(dim=-1).max().item() < 1e-3 * weight
    # Sagittal moment (about Z) explained but for a few frames; the frontal moment (about X)
    # is not: gait10dof18musc is planar, so in single support the kinematics put the CoM
    # above the midline, ~8.5 cm medial of the stance foot, and the CoP is clamped to the
    # foot's edge (0.055 stature / 2 = 4.9 cm), leaving ~W x 3.6 cm = 26 N m.
    m = est.residual_moment.numpy()
    assert np.percentile(np.abs(m[:, 2]), 95) < 2.0
    single = (est.contact.weight.numpy() > 0.5).sum(-1) == 1
    assert 15.0 < np.median(np.abs(m[single, 0])) < 35.0


@pytest.mark.parametrize("floor_velocity", [None, "auto"])
def test_contact_summary_in_blocks_equals_one_pass(body, monkeypatch, floor_velocity):
    """The blocked summary a long recording takes (velocities, sole points and weights one block at a
    time) gives foot_contact's numbers on the whole motion exactly, blocks of any size and a last
    block of a single frame included."""
    import musclepose.body.contact as contact
    from musclepose.motion.differentiate import central_velocity, derivatives

    m = generate("jumping_jack", body, rng=3)  # flights: weights across the whole range
    q = m.q.detach().to(torch.float64)
    q = q[: len(q) // 37 * 37 + 1]
    qd = central_velocity(q, m.fps)
    assert torch.equal(qd, derivatives(q, m.fps)[0])  # the lean velocity is the pair's, bit for bit
    whole = foot_contact(body, q, qd, floor_velocity=floor_velocity)
    ref = (whole.weight, whole.height.amin(-1), whole.speed.amin(-1))
    assert float(ref[0].min()) < 0.5 < float(ref[0].max())  # the feet both touch and leave
    monkeypatch.setattr(contact, "CONTACT_BLOCK", 37)
    got = contact.foot_contact_summary(body, q, lambda x: central_velocity(x, m.fps), floor_velocity=floor_velocity)
    for a, b in zip(got, ref, strict=True):
        assert torch.equal(a, b)
