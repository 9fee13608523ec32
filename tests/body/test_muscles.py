"""Muscle torque generators against Anderson et al. (2007) Table 3, Thelen (2003) and a squat.

The Anderson numbers below are typed in from Table 3 (young men and women) independently
of the module's table, so a transcription or mapping error in either shows up here.
"""

import math

import numpy as np
import pytest
import torch

from musclepose.body import Body, inverse_dynamics
from musclepose.body.grf import estimate_grf
from musclepose.body.muscles import (
    N_GENERATORS,
    activation_dynamics,
    max_torques,
    mtg_parameters,
    muscle_torque,
    passive_torque,
    static_optimization,
)
from musclepose.motion.differentiate import derivatives
from musclepose.sim import generate

G = 9.81
# Table 3, (sex, DoF, direction) -> (C1, C2, C3, C4, C5, C6); direction +1 = flexion /
# dorsiflexion exertion (our positive generator), -1 = extension / plantarflexion.
TABLE3 = {
    ("male", "hip_flexion", -1): (0.161, 0.958, 0.932, 1.578, 3.190, 0.242),
    ("male", "hip_flexion", +1): (0.113, 0.738, -0.214, 2.095, 4.267, 0.218),
    ("male", "knee_flexion", -1): (0.163, 1.258, 1.133, 1.517, 3.952, 0.095),
    ("male", "knee_flexion", +1): (0.087, 0.869, 0.522, 2.008, 5.233, 0.304),
    ("male", "ankle_dorsiflexion", -1): (0.095, 1.391, 0.408, 0.987, 3.558, 0.295),
    ("male", "ankle_dorsiflexion", +1): (0.033, 1.510, -0.187, 0.699, 1.940, 0.828),
    ("female", "hip_flexion", -1): (0.181, 0.697, 1.242, 1.567, 3.164, 0.164),
    ("female", "knee_flexion", -1): (0.159, 1.187, 1.274, 1.393, 3.623, 0.173),
    ("female", "ankle_dorsiflexion", -1): (0.104, 1.399, 0.424, 0.862, 3.109, 0.189),
}
HEIGHT, MASS = 1.80, 75.0


@pytest.fixture(scope="module")
def bodies():
    return {s: Body.standard(HEIGHT, MASS, s) for s in ("male", "female")}


def _state(body, dof: str, angle, velocity=0.0):
    """q, qd (N, 47) with one DoF set (angle, velocity broadcast to N)."""
    angle = torch.as_tensor(angle, dtype=torch.float64).reshape(-1)
    velocity = torch.as_tensor(velocity, dtype=torch.float64).reshape(-1)
    n = max(angle.numel(), velocity.numel())
    q = body.neutral_q()[None].repeat(n, 1)
    qd = torch.zeros_like(q)
    i = body.dof_index(dof)
    q[:, i] = angle
    qd[:, i] = velocity
    return q, qd


def _torque(params, body, dof, sign, angle, velocity=0.0):
    q, qd = _state(body, dof, angle, velocity)
    pos, neg = max_torques(params, q, qd)
    i = body.dof_index(dof) - 6
    return (pos if sign > 0 else neg)[:, i]


def _anderson_fv(c4, c5, c6, w):
    """Anderson's Eq. for the velocity factor, w = concentric angular velocity (scalar)."""
    v = abs(w)
    f = (2 * c4 * c5 + v * (c5 - 3 * c4)) / (2 * c4 * c5 + v * (2 * c5 - 4 * c4))
    return f if w >= 0 else f * (1 + c6 * v)


@pytest.mark.parametrize("key", list(TABLE3))
def test_anderson_peak_isometric_torque_and_angle(bodies, key):
    sex, dof, sign = key
    c1, c2, c3, *_ = TABLE3[key]
    body = bodies[sex]
    params = mtg_parameters(body, "young")
    grid = torch.linspace(-1.5, 2.5, 4001, dtype=torch.float64)
    t = _torque(params, body, f"{dof}_r", sign, grid)
    peak = c1 * MASS * G * HEIGHT  # e.g. young men's hip extension: 0.161 * 75 * 9.81 * 1.8 = 213.22 N m
    assert float(t.max()) == pytest.approx(peak, rel=1e-6)
    assert float(grid[t.argmax()]) == pytest.approx(c3, abs=1e-3)
    # The cosine shape: half the peak at theta = C3 + pi / (3 C2); zero half a period out.
    half = _torque(params, body, f"{dof}_l", sign, c3 + math.pi / (3 * c2))
    assert float(half[0]) == pytest.approx(0.5 * peak, rel=1e-9)
    assert float(_torque(params, body, f"{dof}_l", sign, c3 + 0.6 * math.pi / c2)[0]) == pytest.approx(0, abs=1e-9)


def test_named_peaks_young_men(bodies):
    # Table 3 C1 x m g h for a 75 kg, 1.80 m young man, directly in N m.
    params = mtg_parameters(bodies["male"], "young")
    peak = {n: float(params.tau_iso[i]) for i, n in enumerate(params.generator_names)}
    assert peak["hip_flexion_r-"] == pytest.approx(213.220, abs=1e-3)  # hip extension
    assert peak["hip_flexion_r+"] == pytest.approx(149.652, abs=1e-3)  # hip flexion
    assert peak["knee_flexion_l-"] == pytest.approx(215.869, abs=1e-3)  # knee extension
    assert peak["knee_flexion_l+"] == pytest.approx(115.218, abs=1e-3)  # knee flexion
    assert peak["ankle_dorsiflexion_r-"] == pytest.approx(125.813, abs=1e-3)  # plantarflexion
    assert peak["ankle_dorsiflexion_r+"] == pytest.approx(43.704, abs=1e-3)  # dorsiflexion


@pytest.mark.parametrize("key", [k for k in TABLE3 if k[0] == "male"])
def test_anderson_torque_velocity(bodies, key):
    _, dof, sign = key
    c1, _, c3, c4, c5, c6 = TABLE3[key]
    body = bodies["male"]
    params = mtg_parameters(body, "young")
    iso = c1 * MASS * G * HEIGHT

    def at(w):  # torque at the optimal angle, concentric velocity w of this generator
        return float(_torque(params, body, f"{dof}_r", sign, c3, sign * w)[0])

    assert at(0.0) == pytest.approx(iso, rel=1e-12)
    # C4 and C5 are where concentric torque falls to 75 % and 50 % of isometric.
    assert at(c4) == pytest.approx(0.75 * iso, rel=1e-9)
    assert at(c5) == pytest.approx(0.50 * iso, rel=1e-9)
    w_max = 2 * c4 * c5 / abs(c5 - 3 * c4)
    if c5 < 3 * c4:
        assert at(0.999 * w_max) == pytest.approx(0.0, abs=2e-3 * iso)
    else:  # plantarflexors: Anderson's curve levels off; ours ramps to zero from 0.8 w_max
        assert at(0.8 * w_max) == pytest.approx(_anderson_fv(c4, c5, c6, 0.8 * w_max) * iso, rel=1e-9)
        assert 0 < at(0.9 * w_max) < at(0.8 * w_max)
    assert at(w_max) == pytest.approx(0.0, abs=1e-9 * iso)
    assert at(1.5 * w_max) == 0.0
    # Eccentric: Anderson's equation up to its first maximum, then held there; where it
    # starts below isometric (young men's knee extensors, plantarflexors) it stays isometric.
    ys = np.linspace(0, 8, 8001)
    ecc = np.array([_anderson_fv(c4, c5, c6, -y) for y in ys])
    first_max = 0 if ecc[1] <= ecc[0] else int(np.argmax(np.diff(ecc) < 0))
    for y in (0.5 * ys[first_max], 0.9 * ys[first_max]):
        assert at(-y) == pytest.approx(_anderson_fv(c4, c5, c6, -y) * iso, rel=1e-9)
    for y in (ys[first_max] + 0.5, 8.0, 50.0):
        assert at(-y) == pytest.approx(ecc[first_max] * iso, rel=1e-6)
    assert min(at(-y) for y in ys[::100]) >= iso * (1 - 1e-12)


def test_generic_curves_elbow(bodies):
    body = bodies["male"]
    params = mtg_parameters(body, "young")
    dof = "elbow_flexion_r"
    i = body.dof_index(dof)
    lo, hi = body.dof_lower[i], body.dof_upper[i]
    iso = 1.00 * MASS  # GENERIC elbow flexion 1.0 N m/kg for a young man
    w_max = 18.10  # Millard 2019 Gymnast set, elbow flexion
    grid = torch.linspace(lo - 0.5, hi + 0.5, 4001, dtype=torch.float64)
    t = _torque(params, body, dof, +1, grid)
    assert float(t.max()) == pytest.approx(iso, rel=1e-9)
    assert float(grid[t.argmax()]) == pytest.approx(0.5 * (lo + hi), abs=1e-3)
    limits = _torque(params, body, dof, +1, [lo, hi])
    np.testing.assert_allclose(limits.numpy(), 0.5 * iso, rtol=1e-9)
    mid = 0.5 * (lo + hi)

    def at(w):
        return float(_torque(params, body, dof, +1, mid, w)[0])

    assert at(0.0) == pytest.approx(iso, rel=1e-12)
    # Hill hyperbola with Af = 0.25: (1 - 1/2) / (1 + 2) at half of w_max, zero at w_max.
    assert at(0.5 * w_max) == pytest.approx(iso / 6, rel=1e-9)
    assert at(w_max) == pytest.approx(0.0, abs=1e-9)
    assert at(2 * w_max) == 0.0
    # Eccentric plateau Flen = 1.4; Thelen's slope at zero is twice the concentric one.
    assert at(-100 * w_max) == pytest.approx(1.4 * iso, rel=1e-3)
    assert 1.3 * iso < at(-0.5 * w_max) < 1.4 * iso
    h = 1e-6 * w_max
    conc_slope, ecc_slope = (at(h) - at(0.0)) / h, (at(0.0) - at(-h)) / h
    assert ecc_slope / conc_slope == pytest.approx(2.0, rel=1e-4)
    # Sex and age: a woman's upper-limb generic torque is scaled by Anderson's mean female
    # ratio times Miller 1993's upper/lower ratio; an old man's by Anderson's old/young ratio.
    fem = mtg_parameters(bodies["female"], "young")
    old = mtg_parameters(body, "old")
    assert fem.tau_iso[i - 6] < 0.85 * params.tau_iso[i - 6]
    assert old.tau_iso[i - 6] < params.tau_iso[i - 6]
    assert old.ecc_b[i - 6] / old.ecc_d[i - 6] == pytest.approx(1.8)  # Thelen 2003 old Flen


def test_passive_torque_limits_and_damping(bodies):
    body = bodies["male"]
    params = mtg_parameters(body, "young")
    lo = torch.tensor(body.dof_lower[6:])
    hi = torch.tensor(body.dof_upper[6:])
    q = body.neutral_q()[None].repeat(5, 1)
    for k, theta in enumerate((0.5 * (lo + hi), lo, hi, lo - 0.2, hi + 0.2)):
        q[k, 6:] = theta
    tp = passive_torque(params, q, torch.zeros_like(q))
    weakest = torch.tensor(np.minimum(params.tau_iso[:41], params.tau_iso[41:]))
    assert (tp[0].abs() < 0.01 * weakest).all()  # ~0 mid-range
    assert (tp[1] > 0).all() and (tp[2] < 0).all()  # at the limits, pushing back inside
    assert (tp[3] > 4 * tp[1]).all() and (tp[4] < 4 * tp[2]).all()  # growing beyond them
    # Damping opposes the velocity, linearly.
    qd = torch.zeros_like(q[:1])
    qd[0, 6:] = torch.linspace(-3, 3, 41)
    damp = passive_torque(params, q[:1], qd) - passive_torque(params, q[:1], torch.zeros_like(qd))
    assert (damp * qd[:, 6:] <= 0).all()
    np.testing.assert_allclose(damp[0].numpy(), -params.damping * qd[0, 6:].numpy(), rtol=1e-12)


def test_anderson_passive_option(bodies):
    body = bodies["male"]
    params = mtg_parameters(body, "young", passive="anderson")

    def stops(dof, theta):  # the ROM stops that remain on the sides Anderson does not resist
        i = body.dof_index(dof) - 6
        lo, hi, k = params.lower[i], params.upper[i], params.limit_stiffness
        return params.limit_torque_lower[i] * np.exp(-k * (theta - lo)) - params.limit_torque_upper[i] * np.exp(
            k * (theta - hi)
        )

    # Table 3, young men: knee B2 = -6.25 (extension exertion), k2 = -4.521 -> +6.25 N m of
    # flexion at full extension; ankle B1, k1, B2, k2 = -0.0005781, -5.819, 0.967, 6.09.
    theta = np.array([-0.1, 0.0, 0.3])
    q, qd = _state(body, "knee_flexion_r", theta)
    tp = passive_torque(params, q, qd)[:, body.dof_index("knee_flexion_r") - 6]
    expected = 6.25 * np.exp(-4.521 * theta) + stops("knee_flexion_r", theta)
    np.testing.assert_allclose(tp.numpy(), expected, rtol=1e-12)
    assert params.limit_torque_lower[body.dof_index("knee_flexion_r") - 6] == 0.0  # Anderson resists there
    theta = np.array([-0.3, 0.0, 0.3])
    q, qd = _state(body, "ankle_dorsiflexion_l", theta)
    tp = passive_torque(params, q, qd)[:, body.dof_index("ankle_dorsiflexion_l") - 6]
    anderson = 0.0005781 * np.exp(-5.819 * theta) - 0.967 * np.exp(6.09 * theta)
    np.testing.assert_allclose(tp.numpy(), anderson + stops("ankle_dorsiflexion_l", theta), rtol=1e-12)
    assert params.limit_torque_upper[body.dof_index("ankle_dorsiflexion_l") - 6] == 0.0  # Anderson resists
    # The default ("rom") has no Anderson terms: ~0 at the neutral ankle and knee.
    rom = mtg_parameters(body, "young")
    q, qd = _state(body, "knee_flexion_r", 0.0)
    assert abs(float(passive_torque(rom, q, qd)[0, body.dof_index("knee_flexion_r") - 6])) < 2.5
    with pytest.raises(ValueError, match="passive"):
        mtg_parameters(body, passive="hill")


def test_gradcheck_muscle_torque(bodies):
    body = bodies["female"]
    params = mtg_parameters(body, "middle")
    gen = torch.Generator().manual_seed(0)
    lo, hi = torch.tensor(body.dof_lower[6:]), torch.tensor(body.dof_upper[6:])
    q = body.neutral_q()[None].repeat(2, 1)
    q[:, 6:] = lo + (hi - lo) * torch.rand(2, 41, generator=gen, dtype=torch.float64)
    qd = torch.zeros_like(q)
    qd[:, 6:] = 0.8 * torch.rand(2, 41, generator=gen, dtype=torch.float64) - 0.4
    a = torch.rand(2, N_GENERATORS, generator=gen, dtype=torch.float64)
    args = (q.requires_grad_(), qd.requires_grad_(), a.requires_grad_())
    assert torch.autograd.gradcheck(lambda q, qd, a: muscle_torque(params, q, qd, a), args)


def test_float32_matches_float64(bodies):
    body = bodies["male"]
    params = mtg_parameters(body)
    q, qd = _state(body, "knee_flexion_r", torch.linspace(0, 2, 50), torch.linspace(-3, 3, 50))
    a = torch.full((50, N_GENERATORS), 0.3, dtype=torch.float64)
    t64 = muscle_torque(params, q, qd, a)
    t32 = muscle_torque(params, q.float(), qd.float(), a.float())
    assert t32.dtype == torch.float32
    np.testing.assert_allclose(t32.double().numpy(), t64.numpy(), rtol=1e-5, atol=1e-4)


@pytest.fixture(scope="module", params=["male", "female"])
def squat(request):
    body = Body.standard(1.75, 70.0 if request.param == "male" else 60.0, request.param)
    motion = generate("squat", body, {"reps": 1, "depth_deg": 100.0, "eccentric_s": 1.5, "concentric_s": 1.5})
    qd, qdd = derivatives(motion.q, motion.fps)
    est = estimate_grf(body, motion.q, qd, qdd)
    assert est.residual_force.abs().max() < 1e-6  # feet planted: the ground reactions balance the body
    tau = inverse_dynamics(body, motion.q, qd, qdd, external=list(est.wrenches))
    return body, motion.q, qd, tau


def test_static_optimization_reproduces_squat(squat):
    body, q, qd, tau = squat
    params = mtg_parameters(body, "young")
    act, res = static_optimization(params, q, qd, tau)
    assert act.shape == (q.shape[0], 82) and res.shape == (q.shape[0], 41)
    assert (act >= 0).all() and (act <= 1).all()
    np.testing.assert_allclose((muscle_torque(params, q, qd, act) + res).numpy(), tau[:, 6:].numpy(), atol=1e-6)
    legs = [body.dof_index(f"{j}_{s}") - 6 for j in ("hip_flexion", "knee_flexion", "ankle_dorsiflexion") for s in "rl"]
    assert float(res[:, legs].abs().max()) < 1e-9  # zero up to rounding
    assert float((act[:, :41] * act[:, 41:]).abs().max()) == 0.0  # no co-contraction
    # At the bottom the knee extensors carry the squat, the flexors are silent.
    bottom = int(q[:, body.dof_index("knee_flexion_r")].argmax())
    k = body.dof_index("knee_flexion_r") - 6
    assert 0.1 < float(act[bottom, 41 + k]) < 1.0 and float(act[bottom, k]) == 0.0


def test_static_optimization_is_optimal_brute_force(bodies):
    body = bodies["male"]
    params = mtg_parameters(body)
    gen = torch.Generator().manual_seed(1)
    q = body.neutral_q()[None].repeat(4, 1)
    q[:, 6:] += 0.3 * torch.randn(4, 41, generator=gen, dtype=torch.float64)
    qd = torch.zeros_like(q)
    qd[:, 6:] = torch.randn(4, 41, generator=gen, dtype=torch.float64)
    tau = torch.zeros_like(q)
    tau[:, 6:] = 60 * torch.randn(4, 41, generator=gen, dtype=torch.float64)
    act, res = static_optimization(params, q, qd, tau)
    pos, neg = max_torques(params, q, qd)
    need = tau[:, 6:] - passive_torque(params, q, qd)
    grid = torch.linspace(0, 1, 401, dtype=torch.float64)
    ap, an = torch.meshgrid(grid, grid, indexing="ij")
    for f in range(4):
        for i in range(0, 41, 5):
            r = need[f, i] - (ap * pos[f, i] - an * neg[f, i])
            cost = 1e6 * r**2 + ap**2 + an**2
            ours = 1e6 * res[f, i] ** 2 + act[f, i] ** 2 + act[f, 41 + i] ** 2
            assert float(ours) <= float(cost.min()) + 1e-9


def test_activation_dynamics_step_response_matches_thelen():
    fps, n = 2000.0, 600
    t = np.arange(n) / fps
    up = activation_dynamics(torch.ones(1, n, 3, dtype=torch.float64), fps, a0=0.0)[0, :, 0].numpy()
    down = activation_dynamics(torch.zeros(1, n, 3, dtype=torch.float64), fps, a0=1.0)[0, :, 0].numpy()
    # Analytic solutions of da/dt = (u - a)/tau(a): activation with tau = 15 ms (0.5 + 1.5 a)
    # reaches 1 - 1/e at 15 ms (2 - 1.5 (1 - 1/e)); deactivation with tau = 50 ms/(0.5 + 1.5 a)
    # falls to 1/e at 2 x 50 ms x ln((0.5 + 1.5/e) / (2/e)).
    t_up = 0.015 * (2 - 1.5 * (1 - math.exp(-1)))
    t_down = 2 * 0.050 * math.log((0.5 + 1.5 * math.exp(-1)) / (2 * math.exp(-1)))
    assert np.interp(1 - math.exp(-1), up, t) == pytest.approx(t_up, rel=5e-3)
    assert np.interp(-math.exp(-1), -down, t) == pytest.approx(t_down, rel=5e-3)
    assert up[0] == 0.0 and down[0] == 1.0
    assert (np.diff(up) >= 0).all() and (up <= 1).all() and (np.diff(down) <= 0).all() and (down >= 0).all()
    # Coarse frames (30 fps) stay bounded and still settle; batch and channels are independent.
    u = torch.rand(2, 90, N_GENERATORS, generator=torch.Generator().manual_seed(2))
    a = activation_dynamics(u, 30.0)
    assert a.shape == u.shape and (a >= 0).all() and (a <= 1).all()
    np.testing.assert_allclose(a[:, 0].numpy(), u[:, 0].numpy())
    const = activation_dynamics(torch.full((10, 4), 0.4), 100.0)
    np.testing.assert_allclose(const.numpy(), 0.4, rtol=1e-6)


def test_layout_and_errors(bodies):
    body = bodies["male"]
    params = mtg_parameters(body)
    names = params.generator_names
    assert len(names) == 82 and names[0] == f"{body.dof_names[6]}+" and names[41] == f"{body.dof_names[6]}-"
    assert params.dof_names == body.dof_names[6:]
    assert not params.tau_iso.flags.writeable and len(params.sources) == 82
    assert params.sources[body.dof_index("knee_flexion_r") - 6].startswith("Anderson 2007 Table 3: knee flexion")
    q = body.neutral_q()[None]
    with pytest.raises(ValueError, match=r"\(\.\.\., 47\)"):
        max_torques(params, q[:, 6:], q[:, 6:])
    with pytest.raises(ValueError, match="82"):
        muscle_torque(params, q, q, torch.zeros(1, 41, dtype=torch.float64))
    with pytest.raises(ValueError, match="age"):
        mtg_parameters(body, "teen")
    with pytest.raises(ValueError, match="fps"):
        activation_dynamics(torch.zeros(5, 2), 0.0)
