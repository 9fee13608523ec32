"""Rotation conversions over any leading batch shape, differentiable, float32/float64.

Conventions (stated once, relied on everywhere in :mod:`musclepose.body`):

- Rotation matrices act on column vectors: ``v_world = R @ v_local``.
- Quaternions are ``(w, x, y, z)``, real part first, unit norm; ``q`` and ``-q`` are the
  same rotation and :func:`matrix_to_quaternion` returns the one with ``w >= 0``.
- Axis-angle is a 3-vector whose direction is the axis and whose norm is the angle (rad).
- Euler angles are intrinsic **ZXY**: ``R = Rz(a) @ Rx(b) @ Ry(c)`` for ``(a, b, c)``
  (ISB: z = flexion/extension, x = ab/adduction, y = axial rotation). The inverse is
  singular at ``b = ±pi/2`` (gimbal lock); there it returns ``c = 0``.

The style follows pytorch3d's ``rotation_conversions``: pure functions, a ``ValueError``
naming the bad shape, and square roots guarded so that gradients stay finite at zero.
"""

from __future__ import annotations

import torch

__all__ = [
    "axis_angle_to_matrix",
    "axis_angle_to_quaternion",
    "euler_zxy_to_matrix",
    "matrix_to_axis_angle",
    "matrix_to_euler_zxy",
    "matrix_to_quaternion",
    "matrix_to_rotation_6d",
    "quaternion_multiply",
    "quaternion_to_axis_angle",
    "quaternion_to_matrix",
    "rotation_6d_to_matrix",
    "rotation_about_axis",
    "skew",
]


def _check_last(x: torch.Tensor, shape: tuple[int, ...], name: str) -> None:
    if tuple(x.shape[-len(shape) :]) != shape:
        raise ValueError(f"{name} must have shape (..., {', '.join(map(str, shape))}); got {tuple(x.shape)}")


def skew(v: torch.Tensor) -> torch.Tensor:
    """Cross-product matrix ``[v]x`` with ``[v]x @ u == cross(v, u)``; ``(..., 3) -> (..., 3, 3)``."""
    _check_last(v, (3,), "v")
    x, y, z = v.unbind(-1)
    o = torch.zeros_like(x)
    return torch.stack([o, -z, y, z, o, -x, -y, x, o], dim=-1).reshape(v.shape[:-1] + (3, 3))


def rotation_about_axis(axis: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """Rodrigues' formula for unit ``axis (..., 3)`` and ``angle (...)``: ``(..., 3, 3)``."""
    _check_last(axis, (3,), "axis")
    k = skew(axis)
    s = torch.sin(angle)[..., None, None]
    c = torch.cos(angle)[..., None, None]
    eye = torch.eye(3, dtype=k.dtype, device=k.device)
    return eye + s * k + (1.0 - c) * (k @ k)


def euler_zxy_to_matrix(angles: torch.Tensor) -> torch.Tensor:
    """Intrinsic ZXY Euler angles ``(..., 3)`` (rad) to ``Rz @ Rx @ Ry`` ``(..., 3, 3)``."""
    _check_last(angles, (3,), "angles")
    a, b, c = angles.unbind(-1)
    ca, sa, cb, sb, cc, sc = a.cos(), a.sin(), b.cos(), b.sin(), c.cos(), c.sin()
    # Rz(a) Rx(b) Ry(c) multiplied out.
    r = [
        ca * cc - sa * sb * sc, -sa * cb, ca * sc + sa * sb * cc,
        sa * cc + ca * sb * sc, ca * cb, sa * sc - ca * sb * cc,
        -cb * sc, sb, cb * cc,
    ]  # fmt: skip
    return torch.stack(r, dim=-1).reshape(angles.shape[:-1] + (3, 3))


def matrix_to_euler_zxy(matrix: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`euler_zxy_to_matrix`; ``b`` in ``[-pi/2, pi/2]``."""
    _check_last(matrix, (3, 3), "matrix")
    m = matrix
    b = torch.asin(m[..., 2, 1].clamp(-1.0, 1.0))
    a = torch.atan2(-m[..., 0, 1], m[..., 1, 1])
    c = torch.atan2(-m[..., 2, 0], m[..., 2, 2])
    return torch.stack([a, b, c], dim=-1)


def quaternion_to_matrix(quaternion: torch.Tensor) -> torch.Tensor:
    """Quaternion ``(..., 4)`` ``(w, x, y, z)`` (normalised here) to ``(..., 3, 3)``."""
    _check_last(quaternion, (4,), "quaternion")
    q = quaternion / quaternion.norm(dim=-1, keepdim=True)
    w, x, y, z = q.unbind(-1)
    r = [
        1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
        2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
        2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
    ]  # fmt: skip
    return torch.stack(r, dim=-1).reshape(q.shape[:-1] + (3, 3))


def _sqrt_positive_part(x: torch.Tensor) -> torch.Tensor:
    # sqrt(max(0, x)) with a zero (not infinite) gradient where x <= 0.
    out = torch.zeros_like(x)
    pos = x > 0
    out[pos] = torch.sqrt(x[pos])
    return out


def matrix_to_quaternion(matrix: torch.Tensor) -> torch.Tensor:
    """Rotation matrix ``(..., 3, 3)`` to unit quaternion ``(..., 4)`` with ``w >= 0``.

    Uses the largest of the four candidate denominators for numerical stability
    (Shepperd 1978), so it is accurate for every rotation, 180 degrees included.
    """
    _check_last(matrix, (3, 3), "matrix")
    batch = matrix.shape[:-2]
    m = matrix.reshape(batch + (9,))
    m00, m01, m02, m10, m11, m12, m20, m21, m22 = m.unbind(-1)
    q_abs = _sqrt_positive_part(
        torch.stack(
            [
                1.0 + m00 + m11 + m22,
                1.0 + m00 - m11 - m22,
                1.0 - m00 + m11 - m22,
                1.0 - m00 - m11 + m22,
            ],
            dim=-1,
        )
    )
    candidates = torch.stack(
        [
            torch.stack([q_abs[..., 0] ** 2, m21 - m12, m02 - m20, m10 - m01], dim=-1),
            torch.stack([m21 - m12, q_abs[..., 1] ** 2, m10 + m01, m02 + m20], dim=-1),
            torch.stack([m02 - m20, m10 + m01, q_abs[..., 2] ** 2, m12 + m21], dim=-1),
            torch.stack([m10 - m01, m20 + m02, m21 + m12, q_abs[..., 3] ** 2], dim=-1),
        ],
        dim=-2,
    )
    floor = torch.tensor(0.1, dtype=q_abs.dtype, device=q_abs.device)
    candidates = candidates / (2.0 * torch.maximum(q_abs[..., None], floor))
    best = q_abs.argmax(dim=-1)
    idx = best[..., None, None].expand(batch + (1, 4))
    q = torch.gather(candidates, -2, idx).squeeze(-2)
    q = q / q.norm(dim=-1, keepdim=True)
    return torch.where(q[..., :1] < 0, -q, q)


def quaternion_multiply(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Hamilton product ``a * b`` of ``(..., 4)`` quaternions (rotation ``b`` then ``a``)."""
    _check_last(a, (4,), "a")
    _check_last(b, (4,), "b")
    aw, ax, ay, az = a.unbind(-1)
    bw, bx, by, bz = b.unbind(-1)
    return torch.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        dim=-1,
    )


def _sinc_half(angle: torch.Tensor) -> torch.Tensor:
    # sin(angle/2)/angle, with its Taylor series near zero so the gradient is finite there.
    small = angle.abs() < 1e-6
    safe = torch.where(small, torch.ones_like(angle), angle)
    return torch.where(small, 0.5 - angle * angle / 48.0, torch.sin(safe * 0.5) / safe)


def axis_angle_to_quaternion(axis_angle: torch.Tensor) -> torch.Tensor:
    """Axis-angle ``(..., 3)`` to quaternion ``(..., 4)``."""
    _check_last(axis_angle, (3,), "axis_angle")
    angle = _safe_norm(axis_angle)
    return torch.cat([torch.cos(angle * 0.5)[..., None], axis_angle * _sinc_half(angle)[..., None]], -1)


def _safe_norm(v: torch.Tensor) -> torch.Tensor:
    # |v| whose gradient at v = 0 is 0 instead of NaN.
    sq = (v * v).sum(-1)
    zero = sq == 0
    return torch.where(zero, torch.zeros_like(sq), torch.sqrt(torch.where(zero, torch.ones_like(sq), sq)))


def quaternion_to_axis_angle(quaternion: torch.Tensor) -> torch.Tensor:
    """Quaternion ``(..., 4)`` to axis-angle ``(..., 3)`` with angle in ``[0, pi]``."""
    _check_last(quaternion, (4,), "quaternion")
    q = quaternion / quaternion.norm(dim=-1, keepdim=True)
    q = torch.where(q[..., :1] < 0, -q, q)
    sin_half = _safe_norm(q[..., 1:])
    angle = 2.0 * torch.atan2(sin_half, q[..., 0])
    return q[..., 1:] / _sinc_half(angle)[..., None]


def axis_angle_to_matrix(axis_angle: torch.Tensor) -> torch.Tensor:
    """Axis-angle ``(..., 3)`` to rotation matrix ``(..., 3, 3)``."""
    return quaternion_to_matrix(axis_angle_to_quaternion(axis_angle))


def matrix_to_axis_angle(matrix: torch.Tensor) -> torch.Tensor:
    """Rotation matrix ``(..., 3, 3)`` to axis-angle ``(..., 3)``."""
    return quaternion_to_axis_angle(matrix_to_quaternion(matrix))


def matrix_to_rotation_6d(matrix: torch.Tensor) -> torch.Tensor:
    """The 6-D rotation representation of Zhou et al. (2019, CVPR, "On the continuity of rotation
    representations in neural networks"): the first two columns, ``(..., 3, 3) -> (..., 6)``
    ordered ``(R00, R10, R20, R01, R11, R21)``."""
    _check_last(matrix, (3, 3), "matrix")
    return matrix[..., :, :2].transpose(-1, -2).reshape(matrix.shape[:-2] + (6,))


def rotation_6d_to_matrix(d6: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`matrix_to_rotation_6d` for any 6 numbers: Gram-Schmidt on the two columns,
    the third their cross product (Zhou et al. 2019), ``(..., 6) -> (..., 3, 3)``."""
    _check_last(d6, (6,), "d6")
    a1, a2 = d6[..., :3], d6[..., 3:]
    b1 = torch.nn.functional.normalize(a1, dim=-1)
    b2 = torch.nn.functional.normalize(a2 - (b1 * a2).sum(-1, keepdim=True) * b1, dim=-1)
    b3 = torch.cross(b1, b2, dim=-1)
    return torch.stack((b1, b2, b3), dim=-1)
