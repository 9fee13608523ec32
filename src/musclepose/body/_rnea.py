"""Structure-of-arrays kernel of the recursive Newton-Euler algorithm (RNEA) behind
:func:`.dynamics.inverse_dynamics`.

Featherstone R (2008) *Rigid Body Dynamics Algorithms*, Springer, ch. 5 (RNEA: outward pass of
velocities and accelerations, Newton-Euler equations per body, inward pass of forces), written
in world coordinates with every moment taken about the root origin.

Why this layout: on CPU, eager PyTorch spends its time streaming temporaries through memory,
and tiny batched 3x3 products (or 18x18 path-sum GEMMs) run far below the element-wise rate. So
the batch is flattened and moved *last* and every quantity is a stack of contiguous
``(segments, C)`` blocks, one per vector component: each op is one long vectorised loop. The
segments are stored in breadth-first (tree level) order, so a level is a slice and its parents
are a slice (or one broadcast row, or one small ``index_select``) of the level before; the
recursions are one Python step per level (7), never per segment or frame. Large batches are
cut into chunks of ``_CHUNK`` frames so that a chunk's temporaries stay in cache.

Every joint is a signed intrinsic ZXY Euler joint (absent DoF: angle 0), so ``R = R_parent
Rz(a) Rx(b) Ry(c)`` is three plane rotations of the parent's columns, and the intermediate
columns are the world axes of the joint's DoF: ``s_z = R_p e_z``, ``s_x = R_p Rz e_x``,
``s_y = R e_y``. Their pairwise cross products are again those columns, which gives the
velocity-product term of the joint acceleration (Featherstone's ``c_J``) in closed form.
All ops are differentiable; the result equals MuJoCo's ``mj_inverse`` (tests).
"""

from __future__ import annotations

import numpy as np
import torch

from .model import JOINT_EULER_DOFS, JOINT_EULER_SIGNS, Body
from .skeleton import N_SEGMENTS, PARENTS

__all__ = ["rnea_soa"]

# Frames per chunk on CPU: the ~40 live (segments, chunk) blocks of one tree level then fit in L2/L3.
_CHUNK = 16384
_S = N_SEGMENTS


def _tree_levels() -> tuple[list[list[int]], list[np.ndarray]]:
    depth = [0] * _S
    for i in range(1, _S):
        depth[i] = depth[PARENTS[i]] + 1
    levels = [[i for i in range(_S) if depth[i] == d] for d in range(max(depth) + 1)]
    where = {i: k for lvl in levels for k, i in enumerate(lvl)}
    # links[L]: position, within level L-1, of the parent of each segment of level L.
    links = [np.zeros(0, dtype=np.int64)] + [np.array([where[PARENTS[i]] for i in lvl]) for lvl in levels[1:]]
    return levels, links


_LEVELS, _LINKS = _tree_levels()
_ORDER = [i for lvl in _LEVELS for i in lvl]  # breadth-first segment order used inside
_BOUNDS = np.cumsum([0] + [len(lvl) for lvl in _LEVELS])
_POS = {seg: k for k, seg in enumerate(_ORDER)}


def _input_rows() -> tuple[np.ndarray, np.ndarray]:
    """Rows gathered from ``[q, qd, qdd]`` (141 columns) and their axis signs (0 for absent DoF):
    level by level, the (kind, Euler slot, segment) values, so that a level is one slice; then
    q[0:3] and qdd[0:3]."""
    idx, sign = [], []
    for lvl in _LEVELS:
        for kind in range(3):
            for e in range(3):
                for seg in lvl:
                    k = int(JOINT_EULER_DOFS[seg, e])
                    idx.append(47 * kind + max(k, 0))
                    sign.append(float(JOINT_EULER_SIGNS[seg, e]) if k >= 0 else 0.0)
    idx += [0, 1, 2, 94, 95, 96]
    sign += [1.0] * 6
    return np.array(idx), np.array(sign)


def _output_rows() -> tuple[np.ndarray, np.ndarray]:
    """For q[3:] (44 DoF): the row of the (slot, segment) moment table and the axis sign."""
    idx, sign = np.zeros(44, dtype=np.int64), np.zeros(44)
    for seg in range(_S):
        for e in range(3):
            k = int(JOINT_EULER_DOFS[seg, e])
            if k >= 3:
                idx[k - 3] = e * _S + _POS[seg]
                sign[k - 3] = JOINT_EULER_SIGNS[seg, e]
    return idx, sign


_IN_IDX, _IN_SIGN = _input_rows()
_OUT_IDX, _OUT_SIGN = _output_rows()


class _Link:
    """How level L reads its parents from level L-1 (and sends subtree sums back)."""

    def __init__(self, parents: np.ndarray, n_prev: int, device: torch.device):
        if len(parents) == n_prev and (parents == np.arange(n_prev)).all():
            self.kind = "same"
        elif n_prev == 1:
            self.kind = "one"
        else:
            self.kind = "index"
        self.index = torch.as_tensor(parents, device=device)

    def gather(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "same":
            return x
        if self.kind == "one":
            return x  # (..., 1, C): broadcasts over the level
        return x.index_select(-2, self.index)

    def scatter_add(self, parent: torch.Tensor, child: torch.Tensor) -> torch.Tensor:
        if self.kind == "same":
            return parent + child
        if self.kind == "one":
            return parent + child.sum(-2, keepdim=True)
        return parent.index_add(-2, self.index, child)


class _Consts:
    """Per (body, dtype, device) constants, split per tree level, shaped to broadcast over chunks."""

    def __init__(self, body: Body, dtype: torch.dtype, device: torch.device):
        def t(a):
            return torch.as_tensor(np.asarray(a, dtype=np.float64), dtype=dtype, device=device)

        self.in_idx = torch.as_tensor(_IN_IDX, device=device)
        self.in_sign = t(_IN_SIGN)[:, None]
        self.out_idx = torch.as_tensor(_OUT_IDX, device=device)
        self.out_sign = t(_OUT_SIGN)[:, None]
        self.links = [None] + [_Link(_LINKS[k], len(_LEVELS[k - 1]), device) for k in range(1, len(_LEVELS))]
        self.offset, self.com, self.mass, self.inertia = [], [], [], []
        for lvl in _LEVELS:
            self.offset.append(t(body.offsets[lvl].T)[..., None])  # (3, n, 1) in the parent frame
            self.com.append(t(body.coms[lvl].T)[..., None])  # (3, n, 1) in the segment frame
            self.mass.append(t(body.masses[lvl])[:, None])  # (n, 1)
            self.inertia.append(t(body.inertias[lvl].transpose(1, 2, 0))[..., None])  # (3, 3, n, 1)
        self.offset_axes = [tuple(j for j in range(3) if np.any(body.offsets[lvl, j] != 0.0)) for lvl in _LEVELS]
        self.eye = t(np.eye(3))[..., None, None]  # columns of the root's parent frame (the world)
        self.zero = t(np.zeros((3, 1, 1)))


def _consts(body: Body, dtype: torch.dtype, device: torch.device) -> _Consts:
    key = ("_rnea_soa", dtype, str(device))
    hit = body._cache.get(key)
    if hit is None:
        hit = body._cache[key] = _Consts(body, dtype, device)
    return hit


def _cross(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Cross product over dim 0 of ``(3, ...)`` stacks (component-wise: ``linalg.cross`` is slower)."""
    a0, a1, a2 = a.unbind(0)
    b0, b1, b2 = b.unbind(0)
    return torch.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0])


def _dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a * b).sum(0)


def _chunk(
    k: _Consts, x: torch.Tensor, gravity: torch.Tensor, f_ext: torch.Tensor | None, m_ext: torch.Tensor | None
) -> torch.Tensor:
    """RNEA for one chunk. ``x`` (168, C): rows of ``_input_rows``; externals (3, 18, C) in level order."""
    n_lvl = len(_LEVELS)
    # One split (not a slice per use): under autograd every slice of a big tensor costs a
    # zero-filled gradient of the whole tensor in the backward pass.
    parts = x.split([9 * len(lvl) for lvl in _LEVELS] + [3, 3])
    # Gravity enters as an upward acceleration of the base (Featherstone 2008, sec. 5.3).
    acc_p = (parts[-1] - gravity[:, None])[:, None, :]
    p0, p1, p2 = k.eye[:, 0], k.eye[:, 1], k.eye[:, 2]
    omega_p = alpha_p = pos_p = k.zero
    forces, moments, axes, origins = [], [], [], []

    # --- outward pass (Featherstone 2008, table 5.1, first loop) and Newton-Euler per body.
    for lvl in range(n_lvl):
        a, b = _BOUNDS[lvl], _BOUNDS[lvl + 1]
        if lvl > 0:
            link = k.links[lvl]
            p0, p1, p2 = (link.gather(r) for r in (r0, r1, r2))  # noqa: F821 (set by the previous level)
            omega_p, alpha_p, acc_p, pos_p = (link.gather(v) for v in (omega, alpha, acc, pos))  # noqa: F821
        ang, qd, qdd = parts[lvl].view(3, 3, b - a, -1)  # kind (q, qd, qdd), Euler slot (z, x, y), segment, frame
        sa, sb, sc = ang.sin().unbind(0)
        ca, cb, cc = ang.cos().unbind(0)
        # R = R_p Rz(a) Rx(b) Ry(c) as plane rotations of columns; x1, p2, y2 are the DoF axes.
        x1 = ca * p0 + sa * p1
        y1 = ca * p1 - sa * p0
        y2 = cb * y1 + sb * p2
        z2 = cb * p2 - sb * y1
        r0, r1, r2 = cc * x1 - sc * z2, y2, sc * x1 + cc * z2
        wz, wx, wy = qd.unbind(0)
        az, ax, ay = qdd.unbind(0)
        w_joint = wz * p2 + wx * x1 + wy * y2
        omega = omega_p + w_joint
        # Joint acceleration: sum qdd_k s_k + sum_k w_(before k) x qd_k s_k, where the velocity
        # products are qd_z qd_x (s_z x s_x = y1) - qd_z qd_y cb x1 (s_z x s_y) + qd_x qd_y z2 (s_x x s_y).
        a_joint = az * p2 + (ax - wz * wy * cb) * x1 + ay * y2 + (wz * wx) * y1 + (wx * wy) * z2
        # Parent origin -> this origin in world axes, from the offset components that are not
        # all zero on this level (most offsets lie along one axis).
        p_cols = (p0, p1, p2)
        d = sum((k.offset[lvl][j] * p_cols[j] for j in k.offset_axes[lvl]), start=k.zero)
        if lvl == 0:  # the root's parent (the world) neither turns nor moves: skip zero terms
            alpha, acc, pos = a_joint, acc_p, d
        else:
            a_joint = a_joint + _cross(omega_p, w_joint)
            alpha = alpha_p + a_joint
            acc = acc_p + _cross(alpha_p, d) + _cross(omega_p, _cross(omega_p, d))
            pos = pos_p + d  # origin relative to the root origin

        # Newton-Euler (Featherstone 2008, eq. 5.9), inertia in the segment frame.
        c = k.com[lvl]
        rc = c[0] * r0 + c[1] * r1 + c[2] * r2
        f = k.mass[lvl] * (acc + _cross(alpha, rc) + _cross(omega, _cross(omega, rc)))
        w_loc = torch.stack([_dot(r0, omega), _dot(r1, omega), _dot(r2, omega)])
        a_loc = torch.stack([_dot(r0, alpha), _dot(r1, alpha), _dot(r2, alpha)])
        inertia = k.inertia[lvl]
        n_loc = (inertia * a_loc).sum(1) + _cross(w_loc, (inertia * w_loc).sum(1))
        moment = n_loc[0] * r0 + n_loc[1] * r1 + n_loc[2] * r2 + _cross(pos + rc, f)
        if f_ext is not None:
            f = f - f_ext[:, a:b]
            moment = moment - m_ext[:, a:b]
        forces.append(f)
        moments.append(moment)
        axes.append((p2, x1, y2))
        origins.append(pos)

    # --- inward pass (Featherstone 2008, table 5.1, second loop) as subtree sums, then the
    # moment about each joint centre projected on the joint's DoF axes.
    taus = [None] * n_lvl
    f_sub = m_sub = None
    for lvl in range(n_lvl - 1, -1, -1):
        f, m = forces[lvl], moments[lvl]
        if lvl < n_lvl - 1:
            link = k.links[lvl + 1]
            f, m = link.scatter_add(f, f_sub), link.scatter_add(m, m_sub)
        f_sub, m_sub = f, m
        m_joint = m - _cross(origins[lvl], f)
        taus[lvl] = torch.stack([_dot(s, m_joint) for s in axes[lvl]])
    tau = torch.cat(taus, dim=-2).reshape(3 * _S, -1)  # type: ignore[arg-type]
    return torch.cat([f_sub[:, 0], tau.index_select(0, k.out_idx) * k.out_sign])  # type: ignore[index]


def rnea_soa(
    body: Body,
    q: torch.Tensor,
    qd: torch.Tensor,
    qdd: torch.Tensor,
    gravity: torch.Tensor,
    external: list[tuple[int, torch.Tensor, torch.Tensor]] | None = None,
) -> torch.Tensor:
    """``tau (..., 47)``; ``external``: ``(segment, force (..., 3), moment about the root origin (..., 3))``."""
    batch = q.shape[:-1]
    n = int(np.prod(batch)) if len(batch) else 1
    if n == 0:
        return q * 0.0 + qd * 0.0 + qdd * 0.0
    k = _consts(body, q.dtype, q.device)
    x = torch.cat([q.reshape(n, 47), qd.reshape(n, 47), qdd.reshape(n, 47)], dim=1)
    f_ext = m_ext = None
    if external:
        f_ext = q.new_zeros(3, _S, n)
        m_ext = q.new_zeros(3, _S, n)
        for seg, force, moment in external:
            onehot = torch.zeros(_S, 1, dtype=q.dtype, device=q.device)
            onehot[_POS[seg]] = 1.0
            f_ext = f_ext + onehot * force.reshape(n, 3).t()[:, None, :]
            m_ext = m_ext + onehot * moment.reshape(n, 3).t()[:, None, :]
    step = _CHUNK if q.device.type == "cpu" else max(n, 1)
    outs = []
    for s in range(0, n, step):
        e = min(s + step, n)
        rows = x[s:e].t().index_select(0, k.in_idx) * k.in_sign  # the transposing gather is the fast one
        fe = None if f_ext is None else f_ext[..., s:e]
        me = None if m_ext is None else m_ext[..., s:e]
        outs.append(_chunk(k, rows, gravity, fe, me))
    out = outs[0] if len(outs) == 1 else torch.cat(outs, dim=1)
    return out.t().contiguous().reshape(batch + (47,))
