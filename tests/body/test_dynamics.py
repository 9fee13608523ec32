"""Inverse dynamics against MuJoCo's mj_inverse, analytic statics, gradcheck and edge cases."""

import numpy as np
import pytest
import torch

from musclepose.body import Body, ExternalWrench, forward_kinematics, inverse_dynamics

from ._mujoco_ref import mj_inverse, model_of, random_states


def _rel(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


@pytest.mark.parametrize("sex", ["male", "female"])
def test_equals_mj_inverse_random_states(sex):
    body = Body.standard(1.68, 61.0, sex)
    q, qd, qdd = random_states(body, 64, seed=3)
    ref = mj_inverse(model_of(body), q, qd, qdd)
    tau = inverse_dynamics(body, *(torch.tensor(x) for x in (q, qd, qdd))).numpy()
    assert _rel(tau, ref) <= 1e-8
    # Element-wise too, for the small distal moments (wrist, ankle).
    np.testing.assert_allclose(tau, ref, rtol=1e-8, atol=1e-8 * np.abs(ref).max())


def test_equals_mj_inverse_with_external_forces(body):
    q, qd, qdd = random_states(body, 32, seed=4)
    rng = np.random.default_rng(5)
    fk = forward_kinematics(body, torch.tensor(q))
    foot = body.segment_index("foot_r")
    hand = body.segment_index("hand_l")
    cop = fk.origins[:, foot].numpy() + rng.normal(0, 0.05, (32, 3))
    grf = np.stack([rng.normal(0, 80, 32), rng.uniform(200, 900, 32), rng.normal(0, 50, 32)], -1)
    load_point = fk.origins[:, hand].numpy() + [0.0, -0.08, 0.0]
    load = np.tile([0.0, -150.0, 0.0], (32, 1))
    ref = mj_inverse(model_of(body), q, qd, qdd, [("foot_r", grf, cop), ("hand_l", load, load_point)])
    ext = [
        ExternalWrench("foot_r", torch.tensor(grf), torch.tensor(cop)),
        ExternalWrench(hand, torch.tensor(load), torch.tensor(load_point)),
    ]
    tau = inverse_dynamics(body, *(torch.tensor(x) for x in (q, qd, qdd)), external=ext).numpy()
    assert _rel(tau, ref) <= 1e-8
    # Adding only the wrenches' share to an earlier result without them gives the same.
    states = [torch.tensor(x) for x in (q, qd, qdd)]
    free = inverse_dynamics(body, *states)
    again = inverse_dynamics(body, *states, external=ext, without_external=free).numpy()
    assert _rel(again, ref) <= 1e-8


def test_static_standing_root_force_is_body_weight(body):
    q = body.neutral_q()[None]
    z = torch.zeros_like(q)
    tau = inverse_dynamics(body, q, z, z)
    np.testing.assert_allclose(tau[0, :3].numpy(), [0.0, body.mass_kg * 9.81, 0.0], rtol=1e-12, atol=1e-9)


def test_static_arm_held_forward_analytic(body):
    # Shoulder flexed 90 deg, elbow straight, static: the shoulder flexion moment equals the
    # weight of upper arm + forearm + hand times their CoM's horizontal distance from the joint.
    q = body.neutral_q()
    q[body.dof_index("shoulder_flexion_r")] = np.pi / 2
    z = torch.zeros_like(q)
    tau = inverse_dynamics(body, q, z, z)
    fk = forward_kinematics(body, q)
    sjc = fk.origins[body.segment_index("upperarm_r")]
    moment = 0.0
    for seg in ("upperarm_r", "forearm_r", "hand_r"):
        i = body.segment_index(seg)
        com = fk.origins[i] + fk.rotations[i] @ torch.tensor(body.coms[i])
        moment += body.masses[i] * 9.81 * float(com[0] - sjc[0])
    assert float(tau[body.dof_index("shoulder_flexion_r")]) == pytest.approx(moment, rel=1e-10)
    assert moment > 5.0  # the arm is forward, so a flexion moment holds it up


def test_float32_agrees_with_float64(body):
    q, qd, qdd = random_states(body, 16, seed=6)
    t64 = inverse_dynamics(body, *(torch.tensor(x) for x in (q, qd, qdd))).numpy()
    t32 = inverse_dynamics(body, *(torch.tensor(x, dtype=torch.float32) for x in (q, qd, qdd))).numpy()
    assert _rel(t32, t64) < 1e-5


def test_batch_shapes_and_far_from_origin(body):
    q, qd, qdd = (torch.tensor(x).reshape(2, 3, 47) for x in random_states(body, 6, seed=8))
    tau = inverse_dynamics(body, q, qd, qdd)
    assert tau.shape == (2, 3, 47)
    shifted = q.clone()
    shifted[..., :3] += 1000.0  # translation invariance of the joint moments
    np.testing.assert_allclose(inverse_dynamics(body, shifted, qd, qdd).numpy(), tau.numpy(), rtol=1e-9, atol=1e-9)


def test_gradcheck(body):
    q, qd, qdd = (torch.tensor(x, requires_grad=True) for x in random_states(body, 2, seed=9))
    assert torch.autograd.gradcheck(lambda a, b, c: inverse_dynamics(body, a, b, c), (q, qd, qdd))


def test_gradcheck_with_external_wrench_and_no_double_backward(body):
    """The hand-written adjoint (and the wrench pass) against finite differences; second order is refused."""
    q, qd, qdd = (torch.tensor(x, requires_grad=True) for x in random_states(body, 2, seed=4))
    g = torch.Generator().manual_seed(0)
    f, p, t = (torch.randn(2, 3, dtype=torch.float64, generator=g, requires_grad=True) for _ in range(3))

    def fn(a, b, c, f, p, t):
        return inverse_dynamics(body, a, b, c, ExternalWrench("foot_r", f, p, t))

    assert torch.autograd.gradcheck(fn, (q, qd, qdd, f, p, t))
    (grad,) = torch.autograd.grad(inverse_dynamics(body, q, qd, qdd).square().sum(), q, create_graph=True)
    with pytest.raises(RuntimeError):
        grad.sum().backward()


def test_no_nan_at_limits_and_zero_velocity(body):
    lo = np.where(np.isfinite(body.dof_lower), body.dof_lower, 0.0)
    hi = np.where(np.isfinite(body.dof_upper), body.dof_upper, 0.0)
    q = torch.tensor(np.stack([lo, hi, np.zeros(47)]), requires_grad=True)
    z = torch.zeros(3, 47, dtype=torch.float64, requires_grad=True)
    tau = inverse_dynamics(body, q, z, z)
    tau.square().sum().backward()
    assert torch.isfinite(tau).all() and torch.isfinite(q.grad).all() and torch.isfinite(z.grad).all()


def test_input_errors(body):
    z = torch.zeros(47, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"\(\.\.\., 47\)"):
        inverse_dynamics(body, torch.zeros(46, dtype=torch.float64), z, z)
    with pytest.raises(ValueError, match="same shape"):
        inverse_dynamics(body, z[None], z, z)
    with pytest.raises(KeyError, match="unknown segment"):
        inverse_dynamics(body, z, z, z, external=ExternalWrench("paw", torch.zeros(3), torch.zeros(3)))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_cuda_matches_cpu(body):
    q, qd, qdd = (torch.tensor(x) for x in random_states(body, 8, seed=10))
    cpu = inverse_dynamics(body, q, qd, qdd)
    gpu = inverse_dynamics(body, q.cuda(), qd.cuda(), qdd.cuda()).cpu()
    np.testing.assert_allclose(gpu.numpy(), cpu.numpy(), rtol=1e-10, atol=1e-9)


def test_chunked_batches_match_one_chunk(body, monkeypatch):
    # Large CPU batches run in chunks of frames (musclepose.body._rnea._CHUNK); splitting must
    # change nothing, with external wrenches too, and gradients must flow through every chunk.
    from musclepose.body import _rnea

    q, qd, qdd = (torch.tensor(x) for x in random_states(body, 11, seed=11))
    rng = np.random.default_rng(12)
    ext = [ExternalWrench("foot_l", torch.tensor(rng.normal(0, 300, (11, 3))), torch.tensor(rng.normal(0, 1, (11, 3))))]
    whole = inverse_dynamics(body, q, qd, qdd, external=ext)
    monkeypatch.setattr(_rnea, "_CHUNK", 4)
    chunked = inverse_dynamics(body, q, qd, qdd, external=ext)
    np.testing.assert_allclose(chunked.numpy(), whole.numpy(), rtol=1e-12, atol=1e-9)
    monkeypatch.setattr(_rnea, "_CHUNK", 2)  # 3 frames -> two chunks; gradcheck w.r.t. q only (fast)
    q3 = q[:3].clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a: inverse_dynamics(body, a, qd[:3], qdd[:3]), (q3,))


def test_empty_batch(body):
    z = torch.zeros(0, 47, dtype=torch.float64)
    assert inverse_dynamics(body, z, z, z).shape == (0, 47)
