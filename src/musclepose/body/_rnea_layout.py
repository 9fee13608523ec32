"""The structure-of-arrays layout of the RNEA kernel (:mod:`._rnea`): tables, constants, buffers.

Why it is fast on CPU: the batch is flattened and moved *last*, and every quantity is a stack of
contiguous ``(segments, C)`` blocks, one per vector component, so that each op is one long
vectorised loop. Segments are stored breadth-first (tree level by level): a level is a slice and
its parents a slice, one broadcast row or one small ``index_select`` of the level before, so the
recursions are one Python step per level (7), never per segment or frame. Eager PyTorch on CPU
is bound by memory traffic, so every op writes into preallocated buffers (``out=``, in-place
``addcmul_``; the shapes are here, the pool is :mod:`._buffers`), and vectors are stacked so that
one op serves several of them (``E^T [w_p, al_p, u]`` is three ops).
"""

from __future__ import annotations

import numpy as np
import torch

from .model import JOINT_EULER_DOFS, JOINT_EULER_SIGNS, Body
from .skeleton import N_SEGMENTS, PARENTS

_S = N_SEGMENTS


# --------------------------------------------------------------------------- tree tables
def _tree_levels() -> list[list[int]]:
    depth = [0] * _S
    for i in range(1, _S):
        depth[i] = depth[PARENTS[i]] + 1
    return [[i for i in range(_S) if depth[i] == d] for d in range(max(depth) + 1)]


_LEVELS = _tree_levels()
_ORDER = [i for lvl in _LEVELS for i in lvl]  # breadth-first segment order used inside
_BOUNDS = np.cumsum([0] + [len(lvl) for lvl in _LEVELS])
_POS = {seg: k for k, seg in enumerate(_ORDER)}


def _input_rows() -> tuple[np.ndarray, np.ndarray]:
    """Columns of ``[q, qd, qdd]`` (141) gathered into the kernel's 165 input rows, and their
    signs (0 for absent DoF): rows ``54 kind + 18 slot + position`` (kind: q, qd, qdd; Euler
    slot z, x, y; breadth-first position), then ``qdd[0:3]`` (the root's linear acceleration)."""
    idx, sign = [], []
    for kind in range(3):
        for e in range(3):
            for seg in _ORDER:
                k = int(JOINT_EULER_DOFS[seg, e])
                idx.append(47 * kind + max(k, 0))
                sign.append(float(JOINT_EULER_SIGNS[seg, e]) if k >= 0 else 0.0)
    idx += [94, 95, 96]
    sign += [1.0] * 3
    return np.array(idx), np.array(sign)


def _column_rows(idx: np.ndarray, sign: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`_input_rows`: for each of the 141 columns, its input row (or the zero
    row 165 when no row reads it: q[0:3], qd[0:3]) and sign, to send row gradients back."""
    rows, signs = np.full(141, len(idx)), np.zeros(141)
    for r, (c, s) in enumerate(zip(idx, sign, strict=True)):
        if s != 0.0:
            rows[c], signs[c] = r, s
    return rows, signs


def _output_rows() -> tuple[np.ndarray, np.ndarray]:
    """For the 47 outputs: the row of the kernel's result buffer (54 slot torques ``18 slot +
    position``, then 3 rows of root force) and the axis sign."""
    idx, sign = np.zeros(47, dtype=np.int64), np.ones(47)
    idx[:3] = [54, 55, 56]
    for seg in range(_S):
        for e in range(3):
            k = int(JOINT_EULER_DOFS[seg, e])
            if k >= 3:
                idx[k] = e * _S + _POS[seg]
                sign[k] = JOINT_EULER_SIGNS[seg, e]
    return idx, sign


def _grad_rows(out_idx: np.ndarray, out_sign: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`_output_rows`: for each result row, the output column and sign (sign 0
    for the slots of absent DoF)."""
    cols, signs = np.zeros(57, dtype=np.int64), np.zeros(57)
    for c in range(47):
        cols[out_idx[c]], signs[out_idx[c]] = c, out_sign[c]
    return cols, signs


_IN_IDX, _IN_SIGN = _input_rows()
_COL_ROWS, _COL_SIGN = _column_rows(_IN_IDX, _IN_SIGN)
_OUT_IDX, _OUT_SIGN = _output_rows()
_GRAD_COLS, _GRAD_SIGN = _grad_rows(_OUT_IDX, _OUT_SIGN)


# --------------------------------------------------------------------------- constants
class _Level:
    """One tree level (``a:b`` in breadth-first order): how it reads its parents from the level
    before and sends sums back, and its joint offsets ``r`` (parent frame) as constant ops."""

    def __init__(self, k: int, offsets: np.ndarray, t, device: torch.device):
        self.a, self.b = int(_BOUNDS[k]), int(_BOUNDS[k + 1])
        self.n = self.b - self.a
        if k == 0:
            return
        where = {i: j for j, i in enumerate(_LEVELS[k - 1])}
        par = np.array([where[PARENTS[i]] for i in _LEVELS[k]])
        pa = int(_BOUNDS[k - 1])
        if len(set(par.tolist())) == 1:
            self.kind, self.pa, self.pb = "one", pa + int(par[0]), pa + int(par[0]) + 1
        elif (np.diff(par) == 1).all():
            self.kind, self.pa, self.pb = "slice", pa + int(par[0]), pa + int(par[-1]) + 1
        else:
            self.kind, self.pa, self.pb = "index", pa, int(_BOUNDS[k])
            self.index = torch.as_tensor(par, device=device)
        self.rel_index = torch.as_tensor(par, device=device)  # parent positions within the level before
        r = offsets[_LEVELS[k]].T  # (3, n)
        self.r = t(r)[..., None]  # (3, n, 1)
        self.r_comps = [j for j in range(3) if np.any(r[j] != 0.0)]
        # v x r = K v with K = -[r]x; column k of K is (0, -r2, r1), (r2, 0, -r0), (-r1, r0, 0).
        kmat = np.zeros((3, 3, self.n))
        kmat[1, 0], kmat[2, 0] = -r[2], r[1]
        kmat[0, 1], kmat[2, 1] = r[2], -r[0]
        kmat[0, 2], kmat[1, 2] = -r[1], r[0]
        self.k_cols = [(j, t(kmat[:, j])[..., None]) for j in range(3) if np.any(kmat[:, j] != 0.0)]

    def gather(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """``out (..., n, C) = x[..., parent, :]`` for ``x (..., 18, C)``."""
        if self.kind == "index":
            return torch.index_select(x[..., self.pa : self.pb, :], -2, self.index, out=out)
        return out.copy_(x[..., self.pa : self.pb, :])  # broadcasts for "one"

    def parents(self, x: torch.Tensor) -> torch.Tensor:
        """``x[..., parent, :]`` as a view where possible (a size-1 row broadcasts)."""
        if self.kind == "index":
            return x[..., self.pa : self.pb, :].index_select(-2, self.index)
        return x[..., self.pa : self.pb, :]

    def add_to_parents(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """``x[..., parent, :] += y`` (summing siblings) for ``x (..., 18, C)``, ``y (..., n, C)``."""
        target = x[..., self.pa : self.pb, :]
        if self.kind == "one":
            target.add_(y.sum(-2, keepdim=True))
        elif self.kind == "slice":
            target.add_(y)
        else:
            target.index_add_(-2, self.index, y)

    def cross_r(self, v: torch.Tensor, out: torch.Tensor, accumulate: bool = False, value: float = 1.0) -> None:
        """``out (.., 3, n, C) (+)= value * (v x r)`` for ``v (.., 3, n or 1, C)``; only the
        columns of ``K`` that are not all zero on this level (most offsets lie along one axis)."""
        if not self.k_cols and not accumulate:
            out.zero_()
        for i, (j, col) in enumerate(self.k_cols):
            vj = v.select(-3, j).unsqueeze(-3)
            if i == 0 and not accumulate:
                torch.mul(col, vj, out=out)
                if value != 1.0:
                    out.mul_(value)
            else:
                out.addcmul_(col, vj, value=value)

    def dot_r(self, v: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """``out (n, C) = v . r`` for ``v (3, n or 1, C)``."""
        if not self.r_comps:
            return out.zero_()
        for i, j in enumerate(self.r_comps):
            if i == 0:
                torch.mul(self.r[j], v[j], out=out)
            else:
                out.addcmul_(self.r[j], v[j])
        return out


class _Consts:
    """Per (body, dtype, device) constants in breadth-first order, shaped to broadcast over frames."""

    def __init__(self, body: Body, dtype: torch.dtype, device: torch.device):
        def t(a):
            return torch.as_tensor(np.asarray(a, dtype=np.float64), dtype=dtype, device=device)

        self.dtype, self.device = dtype, device
        # Input rows 0:54 read q, 54:108 qd, 108:165 qdd; gradients go back per input the same way.
        self.in_parts = [
            (lo, hi, torch.as_tensor(_IN_IDX[lo:hi] - 47 * kind, device=device))
            for kind, (lo, hi) in enumerate(((0, 54), (54, 108), (108, 165)))
        ]
        self.in_idx = torch.as_tensor(_IN_IDX, device=device)
        self.in_sign = t(_IN_SIGN)[:, None]
        self.col_parts = [
            (
                torch.as_tensor(_COL_ROWS[47 * kind : 47 * kind + 47], device=device),
                t(_COL_SIGN[47 * kind : 47 * kind + 47])[:, None],
            )
            for kind in range(3)
        ]
        self.out_idx = torch.as_tensor(_OUT_IDX, device=device)
        self.out_sign = t(_OUT_SIGN)[:, None]
        self.grad_cols = torch.as_tensor(_GRAD_COLS, device=device)
        self.grad_sign = t(_GRAD_SIGN)[:, None]
        self.levels = [_Level(k, body.offsets, t, device) for k in range(len(_LEVELS))]

        if np.any(body.offsets[0] != 0.0):  # the root's origin is q[0:3] itself
            raise ValueError("the root segment's offset must be zero")
        # Newton-Euler about the segment origin (the spatial inertia at the origin, Featherstone
        # 2008 ch. 2): h = m c and the inertia about the origin I = I_c + m (|c|^2 1 - c c^T).
        m = body.masses[_ORDER]
        c = body.coms[_ORDER]
        inertia = body.inertias[_ORDER] + m[:, None, None] * (
            np.einsum("si,si->s", c, c)[:, None, None] * np.eye(3) - np.einsum("si,sj->sij", c, c)
        )
        self.mass = t(m)[:, None]  # (18, 1)
        self.h = t((m[:, None] * c).T)[..., None]  # (3, 18, 1)
        self.inertia_cols = t(inertia.transpose(2, 1, 0))[..., None]  # [col] -> (3 rows, 18, 1); symmetric


def _consts(body: Body, dtype: torch.dtype, device: torch.device) -> _Consts:
    key = ("_rnea_soa_local", dtype, str(device))
    hit = body._cache.get(key)
    if hit is None:
        hit = body._cache[key] = _Consts(body, dtype, device)
    return hit


def _saved_shapes(C: int) -> dict[str, tuple[int, ...]]:
    """What the forward keeps for the backward (vector-major stacks, segments then frames last)."""
    return {
        "V": (111, C),  # signed input rows 54:165 (qd, qdd; see _input_rows)
        "sc": (2, 3, _S, C),  # sin, cos of the signed Euler angles (slots z, x, y)
        "E": (3, 3, _S, C),  # joint rotation E[row, col]
        "J": (2, 3, _S, C),  # joint velocity wJ and acceleration dwJ, child frame
        "ST": (5, 3, _S, C),  # E^T w_p, w, E^T al_p, al, a (child frame)
        "Y": (2, 3, _S, C),  # w x h, I w
        "FN": (2, 3, _S, C),  # subtree force F and moment N about the origin (child frame)
    }


def _scratch_shapes(C: int) -> dict[str, tuple[int, ...]]:
    nmax = max(len(lvl) for lvl in _LEVELS)
    return {
        "A": (54, C),  # signed Euler angles (input rows 0:54)
        "P": (max(9 * nmax, 47) * C,),  # per-level stacks; the 47 output rows
        "t": (4, _S, C),  # temporaries
        "R": (57, C),  # result rows: 54 slot torques, root force
    }


def _backward_shapes(C: int) -> dict[str, tuple[int, ...]]:
    nmax = max(len(lvl) for lvl in _LEVELS)
    return {
        "G": (57, C),  # output gradient rows (as R)
        "Z": (3, 3, _S, C),  # Fbar, Nbar (total), Nbar inherited from the parent
        "SB": (3, 3, _S, C),  # adjoints of E^T w_p, al (= of E^T al_p), a
        "WB": (3, _S, C),  # adjoint of w
        "YB": (2, 3, _S, C),  # adjoint of (w x h, I w)
        "TE": (3, _S, C),  # rotation torque tau_E (child frame)
        "OJB": (3, _S, C),  # adjoint of wJ
        "XB": (166, C),  # adjoints of the input rows, then a zero row
        "P": (max(9 * nmax, 3 * _S, 141) * C,),  # per-level stacks; the 141 gradient rows
        "t": (6, _S, C),
    }


# --------------------------------------------------------------------------- small algebra
def _cross_add(out: torch.Tensor, a: torch.Tensor, b: torch.Tensor, dim: int, value: float = 1.0) -> None:
    """``out += value * (a x b)``, vector components along ``dim`` (broadcasting)."""
    for j in range(3):
        j1, j2 = (j + 1) % 3, (j + 2) % 3
        o = out.select(dim, j)
        o.addcmul_(a.select(dim, j1), b.select(dim, j2), value=value)
        o.addcmul_(a.select(dim, j2), b.select(dim, j1), value=-value)


def _cross_into(out: torch.Tensor, a: torch.Tensor, b: torch.Tensor, dim: int = 0) -> None:
    """``out = a x b``, vector components along ``dim`` (broadcasting)."""
    for j in range(3):
        j1, j2 = (j + 1) % 3, (j + 2) % 3
        torch.mul(a.select(dim, j1), b.select(dim, j2), out=out.select(dim, j))
        out.select(dim, j).addcmul_(a.select(dim, j2), b.select(dim, j1), value=-1.0)


def _rot_t(e: torch.Tensor, v: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """``out[s] = E^T v[s]`` for stacks ``v, out (nv, 3, n, C)``, ``e (3, 3, n, C)``."""
    torch.mul(e[0].unsqueeze(0), v[:, 0].unsqueeze(1), out=out)
    out.addcmul_(e[1].unsqueeze(0), v[:, 1].unsqueeze(1))
    out.addcmul_(e[2].unsqueeze(0), v[:, 2].unsqueeze(1))
    return out


def _rot(e: torch.Tensor, v: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """``out[s] = E v[s]`` for stacks ``v, out (nv, 3, n, C)``, ``e (3, 3, n, C)``."""
    torch.mul(e[:, 0].unsqueeze(0), v[:, 0].unsqueeze(1), out=out)
    out.addcmul_(e[:, 1].unsqueeze(0), v[:, 1].unsqueeze(1))
    out.addcmul_(e[:, 2].unsqueeze(0), v[:, 2].unsqueeze(1))
    return out


def _const_map(cols: torch.Tensor, inputs: list[torch.Tensor], out: torch.Tensor) -> torch.Tensor:
    """``out = sum_k cols[k] * inputs[k]``: a constant per-segment matrix times stacked rows."""
    torch.mul(cols[0], inputs[0], out=out)
    for k in range(1, len(inputs)):
        out.addcmul_(cols[k], inputs[k])
    return out
