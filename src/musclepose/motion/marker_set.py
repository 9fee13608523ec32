"""Marker sets: named points fixed in segment frames of a body, and where they are at ``q``.

A :class:`MarkerSet` holds ``(segment, local position)`` pairs from an OpenSim model
(:mod:`musclepose.io.opensim.model`), from the body's own virtual landmarks (keypoints) or from
any other source. :data:`SCALE_GROUPS` are the segment groups a scale factor stretches. The
helpers here serve both inverse kinematics (:mod:`.ik`) and scaling (:mod:`.scaling`): marker
positions by forward kinematics, an initial pose from per-segment Kabsch (1976) fits, and the
DoF no marker observes. Conventions: world Y-up, metres, ``q`` as in :mod:`musclepose.body.skeleton`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..body import Body
from ..body.kinematics import joint_matrices, parent_rotations, segment_poses, segment_rotations
from ..body.rotations import matrix_to_euler_zxy

__all__ = [
    "SCALE_GROUPS",
    "MarkerSet",
    "initial_pose",
    "marker_positions",
    "segment_scales",
    "set_joint_rotation",
    "unobserved_dofs",
]

#: Relative pull of the shoulder girdle toward neutral (see :func:`unobserved_dofs`).
SCAPULA_PRIOR = 0.5

# Scale groups: which segment lengths (keys of Body.lengths) each factor stretches.
SCALE_GROUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # group: (segments whose geometry it scales, Body.lengths keys it multiplies)
    "pelvis": (("pelvis",), ("pelvis", "hip_width")),
    "trunk": (
        ("lumbar", "thorax", "head", "scapula_r", "scapula_l"),
        ("torso", "head", "clavicle_drop", "clavicle_forward", "shoulder_width", "shoulder_drop"),
    ),
    "upperarm": (("upperarm_r", "upperarm_l"), ("upperarm",)),
    "forearm": (("forearm_r", "forearm_l", "hand_r", "hand_l"), ("forearm", "hand", "hand_full")),
    "thigh": (("thigh_r", "thigh_l"), ("thigh",)),
    "shank": (("shank_r", "shank_l"), ("shank",)),
    "foot": (("foot_r", "foot_l"), ("foot", "foot_full", "heel_back", "ankle_height")),
}


@dataclass(frozen=True)
class MarkerSet:
    """Named points fixed in segment frames of a body.

    Attributes
    ----------
    names : tuple[str, ...]
    segments : np.ndarray, (M,) int
        Segment index of each marker.
    local : np.ndarray, (M, 3)
        Position in the segment frame (m).
    weights : np.ndarray, (M,)
        Relative weight in the least-squares fit (1 by default).
    """

    names: tuple[str, ...]
    segments: np.ndarray
    local: np.ndarray
    weights: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        m = len(self.names)
        if self.segments.shape != (m,) or self.local.shape != (m, 3):
            raise ValueError(f"MarkerSet: {m} names but segments {self.segments.shape} and local {self.local.shape}")
        if self.weights is None:
            object.__setattr__(self, "weights", np.ones(m))

    def subset(self, names: list[str]) -> MarkerSet:
        idx = [self.names.index(n) for n in names]
        return MarkerSet(tuple(names), self.segments[idx], self.local[idx], self.weights[idx])

    def scaled(self, body: Body, factors: dict[str, float]) -> MarkerSet:
        """Local positions stretched by the scale factor of each marker's segment group."""
        s = segment_scales(body, factors)
        return MarkerSet(self.names, self.segments, self.local * s[self.segments, None], self.weights)


def segment_scales(body: Body, factors: dict[str, float] | torch.Tensor):
    names = list(SCALE_GROUPS)
    if isinstance(factors, dict):
        vals = np.array([float(factors.get(g, 1.0)) for g in names])
        out = np.ones(body.n_segments)
        for g, v in zip(names, vals, strict=True):
            for seg in SCALE_GROUPS[g][0]:
                out[body.segment_index(seg)] = v
        return out
    # Tensor of factors in SCALE_GROUPS order -> (18,) tensor (differentiable).
    index = torch.zeros(body.n_segments, dtype=torch.long)
    for gi, g in enumerate(names):
        for seg in SCALE_GROUPS[g][0]:
            index[body.segment_index(seg)] = gi
    return factors[index]


def marker_positions(
    body: Body, q: torch.Tensor, markers: MarkerSet, offsets: torch.Tensor | None = None, local=None
) -> torch.Tensor:
    """World positions ``(..., M, 3)`` of ``markers`` at ``q (..., 47)``; optional scaled geometry."""
    bt = body.tensors(q.dtype, q.device)
    offsets = bt.offsets if offsets is None else offsets
    local = torch.as_tensor(markers.local, dtype=q.dtype) if local is None else local
    j = joint_matrices(bt, q)
    rot = segment_rotations(j)
    d = (parent_rotations(rot) @ offsets[..., :, :, None])[..., 0]
    origins = q[..., None, 0:3] + torch.einsum("ij,...jk->...ik", bt.ancestors, d)
    seg = torch.as_tensor(markers.segments)
    return origins[..., seg, :] + (rot[..., seg, :, :] @ local[..., None])[..., 0]


def _kabsch(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotation R and translation t minimising |R a + t - b| over points (N, 3) (Kabsch 1976)."""
    ca, cb = a.mean(0), b.mean(0)
    h = (a - ca).T @ (b - cb)
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(vt.T @ u.T))
    r = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    return r, cb - r @ ca


def initial_pose(body: Body, markers: MarkerSet, y: np.ndarray) -> np.ndarray:
    """Root pose from pelvis markers, limb joint angles from per-segment Kabsch fits."""
    t = y.shape[0]
    q = np.zeros((t, body.n_dof))
    ref = marker_positions(body, torch.tensor(q[:1]), markers)[0].numpy()  # neutral, root at 0
    rots = np.tile(np.eye(3), (t, body.n_segments, 1, 1))
    have = np.zeros(body.n_segments, dtype=bool)
    for s in range(body.n_segments):
        idx = np.flatnonzero(markers.segments == s)
        if len(idx) < 3:
            continue
        have[s] = True
        for k in range(t):
            ok = idx[np.isfinite(y[k, idx]).all(-1)]
            if len(ok) < 3:
                continue
            r, tr = _kabsch(ref[ok], y[k, ok])
            rots[k, s] = r
            if s == 0:
                q[k, 0:3] = tr
    # Joint rotation = parent^T child; only where both are observed (else identity).
    for s in range(1, body.n_segments):
        p = body.parents[s]
        if not have[s]:
            continue
        while p > 0 and not have[p]:
            p = body.parents[p]
        rel = np.swapaxes(rots[:, p], -1, -2) @ rots[:, s]
        set_joint_rotation(body, q, s, rel)
    if have[0]:  # root rotation; its translation came from the pelvis fit (ref has the root at 0)
        q[:, 3:6] = matrix_to_euler_zxy(torch.tensor(rots[:, 0])).numpy()
    _two_marker_segments(body, markers, y, q, have)
    return np.unwrap(q, axis=0)


def _batched_kabsch(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rotations ``(T, 3, 3)`` best taking points ``a (N, 3)`` onto each ``b (T, N, 3)`` (Kabsch 1976)."""
    h = np.einsum("ni,tnj->tij", a - a.mean(0), b - b.mean(1, keepdims=True))
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(np.swapaxes(vt, -1, -2) @ np.swapaxes(u, -1, -2)))
    fix = np.tile(np.eye(3), (len(b), 1, 1))
    fix[:, 2, 2] = d
    return np.swapaxes(vt, -1, -2) @ fix @ np.swapaxes(u, -1, -2)


def _two_marker_segments(body: Body, markers: MarkerSet, y: np.ndarray, q: np.ndarray, have: np.ndarray) -> None:
    """Orient segments that carry two markers (an upper arm's epicondyles, a forearm's styloids) with
    their proximal joint centre, placed by the pose so far, as the third point; parents first.

    Left at zero, a raised arm starts every frame hanging down, and the fit can end in the
    other minimum (a shrugged shoulder girdle with a half-raised humerus)."""
    for s in range(1, body.n_segments):
        idx = np.flatnonzero(markers.segments == s)
        if len(idx) != 2 or have[s]:
            continue
        with torch.no_grad():
            rot, org = (x.numpy() for x in segment_poses(body, torch.tensor(q)))
        b = np.concatenate([org[:, s, None], y[:, idx]], axis=1)  # (T, 3, 3)
        ok = np.isfinite(b).all((-1, -2))
        if not ok.any():
            continue
        a = np.concatenate([np.zeros((1, 3)), markers.local[idx]])
        r = _batched_kabsch(a, b[ok])
        rel = np.swapaxes(rot[ok, body.parents[s]], -1, -2) @ r
        sub = q[ok].copy()
        set_joint_rotation(body, sub, s, rel)
        q[ok] = sub


def set_joint_rotation(body: Body, q: np.ndarray, segment: int, rel: np.ndarray) -> None:
    """Write the DoF of ``segment``'s joint in ``q (T, 47)`` from joint rotations ``rel (T, 3, 3)``."""
    e = matrix_to_euler_zxy(torch.tensor(rel)).numpy()  # Z, X, Y about the unsigned axes
    joint = next(j for j in body.joints if j.segment == segment)
    for d in joint.dofs:
        axis = int(np.argmax(np.abs(d.axis)))
        q[:, body.dof_index(d.name)] = np.sign(d.axis[axis]) * e[:, {2: 0, 0: 1, 1: 2}[axis]]


def unobserved_dofs(body: Body, markers: MarkerSet) -> np.ndarray:
    """1 for DoF whose distal subtree carries no marker (their value cannot be measured)."""
    has = np.zeros(body.n_segments, dtype=bool)
    has[np.unique(markers.segments)] = True
    sub = has.copy()
    for s in reversed(range(body.n_segments)):  # children come after parents
        p = body.parents[s]
        if p >= 0 and sub[s]:
            sub[p] = True
    prior = np.zeros(body.n_dof)
    for joint in body.joints:
        if joint.segment > 0 and not sub[joint.segment]:
            for d in joint.dofs:
                prior[body.dof_index(d.name)] = 1.0
    # The lumbar and thoracic joints are in series with no marker between them: share the
    # motion by a weak pull of both toward zero (minimum norm split).
    for n in ("lumbar_flexion", "lumbar_bending", "lumbar_rotation", "thoracic_flexion", "thoracic_bending",
              "thoracic_rotation"):  # fmt: skip
        prior[body.dof_index(n)] = max(prior[body.dof_index(n)], 0.01)
    # The shoulder girdle and the glenohumeral joint are in series too, and arm markers see only
    # where the humerus points: without a pull toward a neutral girdle, a raised arm is fitted as
    # well by a shrugged scapula with a half-raised humerus (two minima 80 deg apart). Scapular
    # motion is a fraction of the humerus' (Inman 1944; Ludewig 2009): the pull keeps it small.
    for side in ("r", "l"):
        for n in (f"scapula_elevation_{side}", f"scapula_protraction_{side}"):
            prior[body.dof_index(n)] = max(prior[body.dof_index(n)], SCAPULA_PRIOR)
    return prior
