"""Rotation conversions against scipy.spatial.transform (an independent implementation)."""

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from musclepose.body import rotations as rot

RNG = np.random.default_rng(7)


def _random_euler(n):
    # Stay away from the gimbal-lock band |b| = pi/2 where the inverse is not unique.
    return np.stack([RNG.uniform(-np.pi, np.pi, n), RNG.uniform(-1.4, 1.4, n), RNG.uniform(-np.pi, np.pi, n)], -1)


def test_euler_zxy_matches_scipy_intrinsic_ZXY():
    e = _random_euler(200)
    ours = rot.euler_zxy_to_matrix(torch.tensor(e)).numpy()
    ref = Rotation.from_euler("ZXY", e).as_matrix()  # uppercase = intrinsic in scipy
    np.testing.assert_allclose(ours, ref, atol=1e-12)


def test_euler_round_trip_and_batch_shape():
    e = torch.tensor(_random_euler(24)).reshape(2, 3, 4, 3)
    m = rot.euler_zxy_to_matrix(e)
    assert m.shape == (2, 3, 4, 3, 3)
    np.testing.assert_allclose(rot.matrix_to_euler_zxy(m).numpy(), e.numpy(), atol=1e-10)


def test_quaternion_matches_scipy_and_round_trips():
    m = Rotation.random(300, random_state=3).as_matrix()
    q = rot.matrix_to_quaternion(torch.tensor(m)).numpy()
    ref = Rotation.from_matrix(m).as_quat()[:, [3, 0, 1, 2]]  # scipy is scalar-last
    ref = np.where(ref[:, :1] < 0, -ref, ref)
    np.testing.assert_allclose(q, ref, atol=1e-12)
    np.testing.assert_allclose(rot.quaternion_to_matrix(torch.tensor(q)).numpy(), m, atol=1e-12)


def test_matrix_to_quaternion_at_180_degrees():
    for axis in np.eye(3):
        m = Rotation.from_rotvec(np.pi * axis).as_matrix()
        back = rot.quaternion_to_matrix(rot.matrix_to_quaternion(torch.tensor(m))).numpy()
        np.testing.assert_allclose(back, m, atol=1e-12)


def test_axis_angle_matches_scipy_and_round_trips():
    v = Rotation.random(100, random_state=5).as_rotvec()
    m = rot.axis_angle_to_matrix(torch.tensor(v)).numpy()
    np.testing.assert_allclose(m, Rotation.from_rotvec(v).as_matrix(), atol=1e-12)
    np.testing.assert_allclose(rot.matrix_to_axis_angle(torch.tensor(m)).numpy(), v, atol=1e-9)


def test_rotation_about_axis_is_rodrigues():
    axis = torch.tensor([0.0, 0.6, 0.8], dtype=torch.float64)
    ang = torch.tensor(0.7, dtype=torch.float64)
    ref = Rotation.from_rotvec(0.7 * axis.numpy()).as_matrix()
    np.testing.assert_allclose(rot.rotation_about_axis(axis, ang).numpy(), ref, atol=1e-14)


def test_quaternion_multiply_composes_rotations():
    a, b = Rotation.random(2, random_state=11)
    qa = torch.tensor(a.as_quat()[[3, 0, 1, 2]])
    qb = torch.tensor(b.as_quat()[[3, 0, 1, 2]])
    m = rot.quaternion_to_matrix(rot.quaternion_multiply(qa, qb)).numpy()
    np.testing.assert_allclose(m, (a * b).as_matrix(), atol=1e-12)


def test_gradients_finite_at_identity():
    v = torch.zeros(4, 3, dtype=torch.float64, requires_grad=True)
    rot.axis_angle_to_matrix(v).sum().backward()
    assert torch.isfinite(v.grad).all()
    m = torch.eye(3, dtype=torch.float64).repeat(2, 1, 1).requires_grad_(True)
    rot.matrix_to_axis_angle(m).sum().backward()
    assert torch.isfinite(m.grad).all()


def test_bad_shape_names_the_shape():
    with pytest.raises(ValueError, match=r"\(5, 4\)"):
        rot.euler_zxy_to_matrix(torch.zeros(5, 4))
