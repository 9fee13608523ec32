"""Forward kinematics: segment poses, joint centres and virtual landmarks from ``q``.

Batched over any leading shape (``q`` is ``(..., 47)``), float32 or float64, CPU or GPU,
differentiable. Frames and the q layout are documented in :mod:`.skeleton`. The only loop is
over the depth of the tree (7 levels), never over batch or time: each level is one batched
matrix product. Joint-centre positions use the ancestor matrix ``A`` (``A[i, j] = 1`` when
``j`` is on the path from the root to ``i``), so every position is one matrix product:
``p_i = p_root + sum_j A[i, j] R_parent(j) offset_j``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ._ops import mm, mv
from .model import JOINT_EULER_DOFS, Body, BodyTensors
from .rotations import euler_zxy_to_matrix
from .skeleton import N_SEGMENTS, PARENTS

__all__ = ["FKResult", "centre_of_mass", "forward_kinematics"]


def _depth_levels() -> list[np.ndarray]:
    depth = [0] * N_SEGMENTS
    for i in range(1, N_SEGMENTS):
        depth[i] = depth[PARENTS[i]] + 1
    return [np.array([i for i in range(N_SEGMENTS) if depth[i] == d]) for d in range(max(depth) + 1)]


_LEVELS = _depth_levels()
_PARENT_INDEX = np.array([max(p, 0) for p in PARENTS])
_EULER_INDEX = np.where(JOINT_EULER_DOFS < 0, 47, JOINT_EULER_DOFS)
_ROOT_EULER = [int(i) for i in _EULER_INDEX[0]]  # the root has all three rotations (q[3:6])
assert max(_ROOT_EULER) < 47


@dataclass(frozen=True)
class FKResult:
    """Poses of all segments for a batch of states.

    Attributes
    ----------
    rotations : (..., 18, 3, 3)
        Segment frame orientation in the world (columns are the segment axes).
    origins : (..., 18, 3)
        Segment origins = proximal joint centres (the pelvis: hip midpoint), metres.
    landmarks : (..., L, 3)
        Every named landmark, in ``body.landmark_names`` order; select a set with
        ``fk.landmarks[..., body.landmark_indices("coco17"), :]``.
    """

    rotations: torch.Tensor
    origins: torch.Tensor
    landmarks: torch.Tensor

    @property
    def joint_centres(self) -> torch.Tensor:
        """``(..., 18, 3)`` joint centre of each segment's proximal joint (= its origin)."""
        return self.origins


def gather_euler(x: torch.Tensor) -> torch.Tensor:
    """Rotational DoF values ``(..., 47)`` as each joint's Z, X, Y Euler angles ``(..., 18, 3)`` (0 if absent)."""
    padded = torch.cat([x, torch.zeros_like(x[..., :1])], dim=-1)
    return padded[..., torch.as_tensor(_EULER_INDEX, device=x.device)]


def joint_rotations(bt: BodyTensors, q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each joint's rotation ``J`` (..., 18, 3, 3) and its DoF axes in the parent frame (..., 18, 3, 3).

    Every joint's DoF are a subset of Z, X, Y in that order, each about a signed axis, so
    ``J`` is the intrinsic ZXY Euler matrix of the signed angles (0 for absent axes):
    ``Rot(-e, t) = Rot(e, -t)``. Row ``k`` of the axes is slot ``k``'s axis carried by the
    rotations before it, ``u_k = A0 ... A(k-1) e_k`` (rows of zeros for unused slots).
    Closed forms, not Rodrigues products: tiny batched 3x3 matmuls are slow on CPU.
    """
    ang = gather_euler(q) * bt.euler_signs  # (..., 18, 3) signed z, x, y angles
    return euler_zxy_to_matrix(ang), _slot_axes(ang, bt.euler_signs, bt.slot_euler)


def joint_matrices(bt: BodyTensors, q: torch.Tensor) -> torch.Tensor:
    """``joint_rotations(bt, q)[0]`` alone (the axes cost as much again)."""
    return euler_zxy_to_matrix(gather_euler(q) * bt.euler_signs)


def root_axes(bt: BodyTensors, q: torch.Tensor) -> torch.Tensor:
    """The root joint's DoF axes ``(..., 3 slots, 3)`` in the world: ``joint_rotations(bt, q)[1][..., 0, :, :]``
    from the root's three angles alone."""
    ang = q[..., _ROOT_EULER] * bt.euler_signs[0]
    return _slot_axes(ang[..., None, :], bt.euler_signs[:1], bt.slot_euler[:1])[..., 0, :, :]


def _slot_axes(ang: torch.Tensor, signs: torch.Tensor, slot_euler: torch.Tensor) -> torch.Tensor:
    """DoF axes ``(..., n, 3, 3)`` of joints with signed Euler angles ``ang (..., n, 3)``."""
    ca, sa = torch.cos(ang[..., 0]), torch.sin(ang[..., 0])
    cb, sb = torch.cos(ang[..., 1]), torch.sin(ang[..., 1])
    zero, one = torch.zeros_like(ca), torch.ones_like(ca)
    uz = torch.stack([zero, zero, one], -1)
    ux = torch.stack([ca, sa, zero], -1)  # Rz e_x
    uy = torch.stack([-sa * cb, ca * cb, sb], -1)  # Rz Rx e_y
    euler_axes = torch.stack([uz, ux, uy], -2) * signs[..., None]  # (..., n, 3 euler, 3)
    # Joint slot k of segment i holds Euler axis slot_euler[i, k] (or nothing: zero row).
    idx = slot_euler.clamp(min=0)  # (n, 3)
    picked = torch.gather(euler_axes, -2, idx[..., None].expand(euler_axes.shape))
    return picked * (slot_euler >= 0)[..., None].to(picked.dtype)


def segment_rotations(j: torch.Tensor) -> torch.Tensor:
    """World rotations (..., 18, 3, 3) from joint rotations, one batched product per tree level."""
    rots: list[torch.Tensor | None] = [None] * N_SEGMENTS
    rots[0] = j[..., 0, :, :]
    for level in _LEVELS[1:]:
        parent = torch.stack([rots[PARENTS[i]] for i in level], dim=-3)
        child = mm(parent, j[..., torch.as_tensor(level, device=j.device), :, :])
        for k, i in enumerate(level):
            rots[i] = child[..., k, :, :]
    return torch.stack(rots, dim=-3)  # type: ignore[arg-type]


def _check_q(body: Body, q: torch.Tensor, name: str = "q") -> None:
    if not isinstance(q, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(q).__name__}")
    if q.shape[-1:] != (body.n_dof,):
        raise ValueError(f"{name} must have shape (..., {body.n_dof}); got {tuple(q.shape)}")
    if not q.is_floating_point():
        raise TypeError(f"{name} must be float32 or float64; got {q.dtype}")


def forward_kinematics(body: Body, q: torch.Tensor) -> FKResult:
    """Segment rotations and origins, joint centres and landmarks for ``q`` (..., 47)."""
    _check_q(body, q)
    bt = body.tensors(q.dtype, q.device)
    rot = segment_rotations(joint_matrices(bt, q))
    origins = _origins(bt, q, rot)
    landmarks = _landmarks(bt, rot, origins)
    return FKResult(rotations=rot, origins=origins, landmarks=landmarks)


def segment_poses(body: Body, q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Only the segment rotations ``(..., 18, 3, 3)`` and origins ``(..., 18, 3)``: forward
    kinematics without the ~100 landmarks (a fraction of the cost, e.g. under ``torch.func.jvp``)."""
    _check_q(body, q)
    bt = body.tensors(q.dtype, q.device)
    rot = segment_rotations(joint_matrices(bt, q))
    return rot, _origins(bt, q, rot)


def parent_rotations(rot: torch.Tensor) -> torch.Tensor:
    """``(..., 18, 3, 3)`` rotation of each segment's parent (identity for the root)."""
    par = rot[..., torch.as_tensor(_PARENT_INDEX, device=rot.device), :, :].clone()
    par[..., 0, :, :] = torch.eye(3, dtype=rot.dtype, device=rot.device)
    return par


def _origins(bt: BodyTensors, q: torch.Tensor, rot: torch.Tensor) -> torch.Tensor:
    d = mv(parent_rotations(rot), bt.offsets)  # world offsets; root's is 0
    return q[..., None, 0:3] + torch.einsum("ij,...jk->...ik", bt.ancestors, d)


def _landmarks(bt: BodyTensors, rot: torch.Tensor, origins: torch.Tensor) -> torch.Tensor:
    seg = bt.landmark_segments
    return origins[..., seg, :] + mv(rot[..., seg, :, :], bt.landmark_points)


def centre_of_mass(body: Body, q: torch.Tensor) -> torch.Tensor:
    """Whole-body centre of mass ``(..., 3)`` (m, world)."""
    rot, org = segment_poses(body, q)  # the landmarks are not needed
    bt = body.tensors(q.dtype, q.device)
    seg = org + (rot @ bt.coms[..., None])[..., 0]
    return (bt.masses[:, None] * seg).sum(-2) / bt.masses.sum()
