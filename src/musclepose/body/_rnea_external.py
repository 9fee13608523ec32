"""Generalized forces of external wrenches, ``-J^T w``: the part of :func:`._rnea.rnea_soa` that
external loads add, in plain differentiable torch ops (so the wrenches may require grad).

Uses the kernel's breadth-first layout (:mod:`._rnea_layout`); world axes, moments about the
root origin.
"""

from __future__ import annotations

import numpy as np
import torch

from ._rnea_layout import _POS, _S, _Consts, _consts
from .model import Body

__all__ = ["external_soa"]


def _external_tau(k: _Consts, q: torch.Tensor, f_ext: torch.Tensor, m_ext: torch.Tensor) -> torch.Tensor:
    """Generalized forces ``(n, 47)`` of external wrenches ``(3, 18, n)`` (breadth-first order,
    world axes, moments about the root origin): ``-J^T w``. Each joint feels the wrenches on its
    subtree: ``tau_k = -s_k . (M_sub - o_k x F_sub)`` with ``s_k`` the world DoF axis and ``o_k``
    the joint centre relative to the root origin. Plain differentiable torch ops (autograd), in
    world axes: ``R = R_p Rz Rx Ry`` as plane rotations of the parent's columns, whose
    intermediate columns are the DoF axes (``s_z = R_p e_z``, ``s_x = R_p Rz e_x``, ``s_y = R e_y``)."""
    n = q.shape[0]
    ang = (q.t().index_select(0, k.in_idx[:54]) * k.in_sign[:54]).view(3, _S, n)
    sn, cs = ang.sin(), ang.cos()
    eye = torch.eye(3, dtype=q.dtype, device=q.device)
    cols = tuple(eye[:, j, None, None] for j in range(3))  # the world's axes, (3, 1, 1)
    origin = q.new_zeros(3, 1, 1)
    axes, origins = [], []
    for lvl, lv in enumerate(k.levels):
        if lvl > 0:
            cols = tuple(c.index_select(1, lv.rel_index) if c.shape[1] > 1 else c for c in cols)
            origin = origin.index_select(1, lv.rel_index) if origin.shape[1] > 1 else origin
            origin = origin + sum(lv.r[j] * cols[j] for j in lv.r_comps)
        p0, p1, p2 = cols
        sa, sb, sc = sn[:, lv.a : lv.b]
        ca, cb, cc = cs[:, lv.a : lv.b]
        x1 = ca * p0 + sa * p1
        y1 = ca * p1 - sa * p0
        y2 = cb * y1 + sb * p2
        z2 = cb * p2 - sb * y1
        cols = (cc * x1 - sc * z2, y2, sc * x1 + cc * z2)
        axes.append((p2, x1, y2))
        origins.append(origin)
    # Subtree sums, leaves first.
    f_sub = [f_ext[:, lv.a : lv.b] for lv in k.levels]
    m_sub = [m_ext[:, lv.a : lv.b] for lv in k.levels]
    for lvl in range(len(k.levels) - 1, 0, -1):
        idx = k.levels[lvl].rel_index
        f_sub[lvl - 1] = f_sub[lvl - 1].index_add(1, idx, f_sub[lvl])
        m_sub[lvl - 1] = m_sub[lvl - 1].index_add(1, idx, m_sub[lvl])
    taus = []
    for lvl in range(len(k.levels)):
        f, o = f_sub[lvl], origins[lvl]
        m_joint = m_sub[lvl] - torch.linalg.cross(o.expand_as(f), f, dim=0)
        taus.append(torch.stack([-(s * m_joint).sum(0) for s in axes[lvl]]))  # (3 slots, n_l, n)
    tau = torch.cat(taus, dim=1).reshape(54, n)
    full = torch.cat([tau, -f_sub[0][:, 0]], dim=0)  # rows as the kernel's result rows
    return (full.index_select(0, k.out_idx) * k.out_sign).t()


def _external_part(k: _Consts, q2: torch.Tensor, external, n: int) -> torch.Tensor:
    f_ext = q2.new_zeros(3, _S, n)
    m_ext = q2.new_zeros(3, _S, n)
    for seg, force, moment in external:
        onehot = torch.zeros(_S, 1, dtype=q2.dtype, device=q2.device)
        onehot[_POS[seg]] = 1.0
        f_ext = f_ext + onehot * force.reshape(n, 3).t()[:, None, :]
        m_ext = m_ext + onehot * moment.reshape(n, 3).t()[:, None, :]
    return _external_tau(k, q2, f_ext, m_ext)


def external_soa(body: Body, q: torch.Tensor, external: list[tuple[int, torch.Tensor, torch.Tensor]]) -> torch.Tensor:
    """The external wrenches' share of :func:`rnea_soa` alone, ``-J^T w`` ``(..., 47)``."""
    batch = q.shape[:-1]
    n = int(np.prod(batch)) if len(batch) else 1
    k = _consts(body, q.dtype, q.device)
    return _external_part(k, q.reshape(n, 47), external, n).reshape(batch + (47,))
