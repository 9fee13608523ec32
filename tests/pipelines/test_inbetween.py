"""In-betweening: slerp against an analytic constant-velocity motion, the learned model against slerp."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from musclepose.body import Body, forward_kinematics
from musclepose.body.model import JOINT_EULER_DOFS, JOINT_EULER_SIGNS
from musclepose.body.rotations import axis_angle_to_matrix, matrix_to_euler_zxy
from musclepose.models.inbetween import InbetweenConfig, InbetweenNet
from musclepose.motion import Motion
from musclepose.pipelines.inbetween import (
    DEFAULT_INBETWEENER,
    WINDOW_DIM,
    Inbetweener,
    features_to_window_q,
    inbetween,
    slerp_fill,
    window_features,
)

FPS = 20.0


def _set_rotation(q: np.ndarray, segment: int, rot: torch.Tensor) -> None:
    """Write the Euler angles of ``rot (T, 3, 3)`` into the DoF of ``segment`` (all three present)."""
    euler = matrix_to_euler_zxy(rot).numpy() * JOINT_EULER_SIGNS[segment]
    q[:, JOINT_EULER_DOFS[segment]] = euler


def constant_velocity_motion(t_frames: int = 40) -> np.ndarray:
    """Root moving at constant velocity and turning about a tilted world axis at a constant rate;
    the right hip turning about a fixed axis of its own frame; the right knee flexing linearly."""
    t = torch.arange(t_frames, dtype=torch.float64) / FPS
    q = np.zeros((t_frames, 47))
    q[:, 0:3] = np.array([0.3, 0.95, -0.2]) + t.numpy()[:, None] * np.array([1.1, 0.05, 0.4])
    axis = torch.tensor([0.1, 1.0, 0.2], dtype=torch.float64)
    axis = axis / axis.norm()
    tilt = axis_angle_to_matrix(torch.tensor([0.1, 0.0, -0.05], dtype=torch.float64))
    _set_rotation(q, 0, axis_angle_to_matrix(axis * (0.3 + 1.2 * t)[:, None]) @ tilt)  # 1.2 rad/s, left-multiplied
    hip0 = axis_angle_to_matrix(torch.tensor([0.4, 0.1, 0.05], dtype=torch.float64))
    w = torch.tensor([0.9, -0.3, 0.4], dtype=torch.float64)
    _set_rotation(q, 12, hip0 @ axis_angle_to_matrix(w * t[:, None]))  # right-multiplied: in the hip's frame
    q[:, JOINT_EULER_DOFS[13, 0]] = 0.2 + 1.5 * t.numpy() * JOINT_EULER_SIGNS[13, 0]
    q[:, JOINT_EULER_DOFS[5]] = [0.3, -0.2, 0.1]  # a still shoulder stays still
    return q


def test_slerp_reproduces_constant_velocity_rotation() -> None:
    q = constant_velocity_motion()
    fill = slerp_fill(q[9], q[20], 10)
    np.testing.assert_allclose(fill, q[10:20], atol=1e-9)
    body = Body.standard()
    with torch.no_grad():  # the same poses, whatever the Euler angles: the joint centres agree
        a = forward_kinematics(body, torch.as_tensor(fill)).joint_centres
        b = forward_kinematics(body, torch.as_tensor(q[10:20])).joint_centres
    assert float((a - b).abs().max()) < 1e-9


def test_inbetween_keeps_both_ends_and_fills_between() -> None:
    q = constant_velocity_motion()
    body = Body.standard()
    a, b = Motion(torch.as_tensor(q[:12]), FPS, body), Motion(torch.as_tensor(q[20:]), FPS, body)
    result = inbetween(a, b, 8 / FPS, method="slerp")
    assert (result.gap_start, result.gap_frames) == (12, 8)
    np.testing.assert_allclose(result.motion.q.numpy(), q, atol=1e-9)  # A and B untouched, gap exact


def test_slerp_takes_the_short_way_round_the_heading() -> None:
    q = np.zeros((2, 47))
    q[:, 1] = 0.95
    q[0, JOINT_EULER_DOFS[0, 2]], q[1, JOINT_EULER_DOFS[0, 2]] = np.radians(170.0), np.radians(-170.0)
    fill = slerp_fill(q[0], q[1], 1)  # half way the short way is 180 degrees, not 0
    assert abs(abs(fill[0, JOINT_EULER_DOFS[0, 2]]) - np.pi) < 1e-9


def test_window_features_round_trip() -> None:
    q = constant_velocity_motion()
    back = features_to_window_q(window_features(q, q[5]), q[5], q[0])
    np.testing.assert_allclose(back, q, atol=1e-9)


def test_untrained_network_is_slerp() -> None:
    q = constant_velocity_motion()
    q[:, JOINT_EULER_DOFS[14]] += np.sin(np.arange(len(q)))[:, None] * 0.1  # not slerp-exact
    model = Inbetweener(InbetweenNet(InbetweenConfig(width=16, depth=1, heads=2, ff=16)), np.zeros(WINDOW_DIM),
                        np.ones(WINDOW_DIM))  # fmt: skip
    np.testing.assert_allclose(model.fill(q[:15], q[25:], 10), slerp_fill(q[14], q[25], 10), atol=1e-5)


@pytest.mark.skipif(not (DEFAULT_INBETWEENER / "config.json").is_file(), reason="no in-betweener shipped")
def test_shipped_inbetweener_beats_slerp_on_a_held_out_gap(refdata) -> None:
    from musclepose.io.load import load_motion
    from musclepose.pipelines.motion_features import joint_error_mm

    model = Inbetweener.from_pretrained()
    # AddBiomechanics' Expert1 (the test split: no model saw this person), walking; the gap (0.5 s
    # from frame 10) was fixed before the model was trained.
    motion = load_motion(refdata("mocap/addbiomechanics_expert1/walking1.mot")).resampled(model.fps)
    q, g, n = motion.q.numpy(), 10, 10
    learned = joint_error_mm(motion.body, q[g : g + n], model.fill(q[:g], q[g + n :], n))
    slerp = joint_error_mm(motion.body, q[g : g + n], slerp_fill(q[g - 1], q[g + n], n))
    assert learned < slerp


def test_linear_filter_fitted_to_cubics_reproduces_them() -> None:
    """A shared linear filter can represent cubic-polynomial continuation: fitted (ridge ~0) on
    windows whose features follow random cubics in time, it fills a new cubic to rounding."""
    from musclepose.models.inbetween_linear import InbetweenLinear, InbetweenLinearConfig

    c, n = 6, 5
    model = InbetweenLinear(InbetweenLinearConfig(n_features=4, n_root=1, context=c, max_gap=n))
    rng = np.random.default_rng(0)
    t = np.arange(2 * c + n, dtype=np.float64) / 10.0

    def windows(count: int) -> tuple[torch.Tensor, torch.Tensor]:
        coef = rng.normal(size=(count, 4, 4))  # (window, power, feature)
        y = np.einsum("tp,bpf->btf", t[:, None] ** np.arange(4), coef)
        x = y.copy()
        x[:, c : c + n] = (
            x[:, c - 1 : c] + (x[:, c + n : c + n + 1] - x[:, c - 1 : c]) * (np.arange(1, n + 1) / (n + 1))[:, None]
        )
        return torch.as_tensor(x), torch.as_tensor(y)

    x, y = windows(50)
    z = model.context_terms(x, c, n).numpy()
    for g, dims in enumerate((slice(0, 1), slice(1, None))):
        a = np.swapaxes(z[..., dims], 1, 2).reshape(-1, 2 * c)
        b = np.swapaxes((y - x)[:, c : c + n, dims].numpy(), 1, 2).reshape(-1, n)
        model.weight.data[g, n - 1, :n] = torch.as_tensor(np.linalg.lstsq(a, b, rcond=None)[0].T, dtype=torch.float32)
    x, y = windows(3)
    with torch.no_grad():
        out = model(x.float(), c, n).double()
    np.testing.assert_allclose(out.numpy(), y.numpy(), atol=1e-3)


def test_spline_method_reproduces_a_cubic_and_ignores_whole_turns() -> None:
    # Joint angles that are cubic in time are filled exactly by the spline; B's angles written a
    # whole turn away (the same pose) do not bend the curve.
    t = np.arange(40) / FPS
    q = np.zeros((40, 47))
    q[:, 0] = 0.2 + 0.5 * t
    q[:, 1] = 0.95
    q[:, 10] = 0.3 * t**3 - 0.8 * t**2 + 0.4 * t  # one rotational DoF
    body = Body.standard()
    b = q[22:].copy()
    b[:, 10] += 2 * np.pi
    result = inbetween(Motion(torch.as_tensor(q[:12]), FPS, body), Motion(torch.as_tensor(b), FPS, body),
                       10 / FPS, method="spline")  # fmt: skip
    np.testing.assert_allclose(result.motion.q.numpy()[12:22], q[12:22], atol=1e-9)
