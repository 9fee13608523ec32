"""MotionNN: residual output (untrained = zero velocity), rollout feeding, rotations on the manifold."""

from __future__ import annotations

import torch

from musclepose.body.rotations import axis_angle_to_matrix, matrix_to_rotation_6d, rotation_6d_to_matrix
from musclepose.models.motion_nn import MotionNN, MotionNNConfig, dct_basis


def _states(b: int, t: int, n_rot: int, n_extra: int = 0, n_contact: int = 0, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    aa = torch.cumsum(0.05 * torch.randn(b, t, n_rot, 3, generator=g), dim=1)
    rot = matrix_to_rotation_6d(axis_angle_to_matrix(aa)).flatten(2)
    extra = torch.randn(b, t, n_extra, generator=g)
    contact = (torch.rand(b, t, n_contact, generator=g) > 0.5).float()
    return torch.cat([rot, extra, contact], dim=2)


def test_dct_basis_is_orthonormal():
    b = dct_basis(50, 12).double()
    torch.testing.assert_close(b.T @ b, torch.eye(12, dtype=torch.float64), atol=1e-6, rtol=0)


def test_untrained_network_predicts_no_change():
    cfg = MotionNNConfig(n_rot=4, n_extra=3, n_contact=2, window=12, recent=3, n_basis=4)
    m = MotionNN(cfg)
    x = _states(3, 12, 4, 3, 2)
    m.set_normalization(x.flatten(0, 1).mean(0), x.flatten(0, 1).std(0))
    y = m(x)
    torch.testing.assert_close(y[:, :27], x[:, -1, :27], atol=1e-5, rtol=0)  # rotations and extras unchanged
    torch.testing.assert_close(y[:, 27:], torch.full((3, 2), 0.5))  # contact logit 0


def test_rollout_with_teacher_equals_one_step_predictions():
    torch.manual_seed(0)
    cfg = MotionNNConfig(n_rot=3, window=8, recent=2, n_basis=3, hidden=16, context=8)
    m = MotionNN(cfg)
    for p in m.parameters():  # a network that does something
        torch.nn.init.normal_(p, std=0.1)
    x = _states(2, 14, 3, seed=1)
    pred = m.rollout(x[:, :8], 6, teacher=x[:, 8:], teacher_mask=torch.ones(2, 6, dtype=torch.bool))
    direct = torch.stack([m(x[:, k : k + 8]) for k in range(6)], dim=1)
    torch.testing.assert_close(pred, direct, atol=1e-5, rtol=1e-5)
    free = m.rollout(x[:, :8], 6)
    torch.testing.assert_close(free[:, 0], direct[:, 0])
    assert (free[:, 1:] - direct[:, 1:]).abs().max() > 1e-4  # fed its own predictions after step 1


def test_predicted_rotations_are_rotations_and_history_is_padded():
    torch.manual_seed(1)
    m = MotionNN(MotionNNConfig(n_rot=5, window=10, recent=2, n_basis=3, hidden=16, context=8))
    for p in m.parameters():
        torch.nn.init.normal_(p, std=0.3)
    y = m.rollout(_states(2, 3, 5), 4)  # 3 frames of history for a window of 10
    r = rotation_6d_to_matrix(y.reshape(2, 4, 5, 6))
    eye = torch.eye(3).expand_as(r)
    torch.testing.assert_close(r.transpose(-1, -2) @ r, eye, atol=1e-5, rtol=0)
    torch.testing.assert_close(torch.linalg.det(r), torch.ones(2, 4, 5), atol=1e-5, rtol=0)
    torch.testing.assert_close(matrix_to_rotation_6d(r).flatten(-2), y, atol=1e-5, rtol=0)
