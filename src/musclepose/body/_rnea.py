"""Structure-of-arrays kernel of the recursive Newton-Euler algorithm (RNEA) behind
:func:`.dynamics.inverse_dynamics`, with a hand-written reverse-mode (adjoint) pass.

Formulation: Featherstone R (2008) *Rigid Body Dynamics Algorithms*, Springer, ch. 5 (table 5.1),
in body coordinates: each segment's angular velocity ``w``, angular acceleration ``al`` and the
linear acceleration ``a`` of its origin are expressed in its own frame, and so are the force
``F`` and the moment ``N`` (about the segment origin = its proximal joint centre) that its parent
exerts on it. Gravity enters as an upward acceleration of the base (sec. 5.3). With ``E`` the
joint rotation (the child's axes in parent coordinates) and ``r`` the joint offset in the parent:

    outward   w  = E^T w_p + wJ
              al = E^T al_p + (E^T w_p) x wJ + dwJ
              a  = E^T u,   u = a_p + al_p x r + w_p x (w_p x r)
    per body  f  = m a + al x h + w x (w x h),   n = I al + h x a + w x (I w)
    inward    F  = f + sum_c E_c F_c,            N = n + sum_c (E_c N_c + r_c x E_c F_c)
    torques   tau = S^T N

with ``h = m c`` (mass times centre of mass) and ``I`` the inertia about the origin (the spatial
inertia at the origin, ch. 2), ``wJ``, ``dwJ`` the joint's own velocity and acceleration, ``S``
its DoF axes. Every joint is a signed intrinsic ZXY Euler joint (absent DoF: angle 0),
``E = Rz(a) Rx(b) Ry(c)``, so in the child frame the DoF axes are ``s_y = e_y``,
``s_x = Ry^T e_x = (cc, 0, sc)`` and ``s_z = Ry^T Rx^T e_z = (-sc cb, sb, cc cb)``, and ``wJ``,
``dwJ`` (with Featherstone's velocity-product term ``c_J``) have closed forms. The floating
base is the root's 3 slides (world axes) and 3 hinges, as in MuJoCo: ``tau[0:3]`` is the root
force in world axes ``E_0 F_0`` and moments are taken about the root origin, so the result equals
MuJoCo's ``mj_inverse`` (tests). External wrenches are added by a separate pass
(:func:`_external_tau`, plain autograd ops, so the wrenches may themselves require grad).

Layout, and why it is fast on CPU: the batch is flattened and moved *last*, and every quantity is
a stack of contiguous ``(segments, C)`` blocks, one per vector component, so that each op is one
long vectorised loop. Segments are stored breadth-first (tree level by level): a level is a slice
and its parents a slice, one broadcast row or one small ``index_select`` of the level before, so
the recursions are one Python step per level (7), never per segment or frame; the rest
(trigonometry, joint terms, Newton-Euler, torque projections) runs once over all 18 segments.
Batches are cut into chunks of ``_CHUNK`` frames. Eager PyTorch on CPU is bound by memory
traffic, so every op writes into preallocated buffers (``out=``, in-place ``addcmul_``), vectors
are stacked so one op serves several of them (``E^T [w_p, al_p, u]`` is three ops), and the
buffers come from a pool reused across calls (:class:`._buffers._Pool`): first-touching fresh pages costs
as much as the arithmetic.

Gradients: :class:`_Rnea` is a :class:`torch.autograd.Function` whose forward keeps the chunk
buffers the reverse pass needs (about 8 KB per frame in float64) and whose backward is the plain
reverse mode of the kernel, written by hand over the same layout (:func:`_backward_chunk`):
the reverse of the inward pass is an outward pass and the reverse of the outward pass an inward
one, as in Carpentier J, Mansard N (2018) "Analytical derivatives of rigid body dynamics
algorithms", *Robotics: Science and Systems*, but as vector-Jacobian products rather than full
Jacobians. The joint rotations are differentiated through one identity: if ``E`` receives the
adjoint ``Ebar``, an angle turning ``E`` about the axis ``s`` gets ``s . tau_E`` with the
"torque" ``tau_E = sum_j E_j x Ebar_j`` (columns ``j``), which in the child frame is
``xbar x x`` for every product ``x = E^T v`` and ``x x (E^T ybar)`` for every ``y = E x``, so
angle gradients are projections on the DoF axes exactly like the joint torques. Gradients flow
to ``q``, ``qd``, ``qdd`` and gravity; the body's parameters are constants (no gradient).
Double backward is not supported (``once_differentiable``: ``create_graph=True`` through this
function raises when the second derivative is taken), nor are ``torch.func`` transforms.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch
from torch.autograd.function import once_differentiable

from ._buffers import _POOL, _Lease, _take
from .model import JOINT_EULER_DOFS, JOINT_EULER_SIGNS, Body
from .skeleton import N_SEGMENTS, PARENTS

__all__ = ["rnea_soa", "segment_motion_soa"]

# Frames per chunk on CPU (read at call time; tests change it). Measured on a 2-core EPYC: 2048
# is slower (the ~250 ops of the forward and ~350 of the backward per chunk cost more than
# the cache saves), 8192 no faster; GPU batches run as one chunk.
_CHUNK = 4096
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


# --------------------------------------------------------------------------- forward
def _joint_rotation(sc: torch.Tensor, E: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """``E = Rz(a) Rx(b) Ry(c)`` into ``E (3, 3, 18, C)`` from ``sc = [sin, cos]`` of (a, b, c)."""
    (sa, sb, sc_), (ca, cb, cc) = sc
    torch.mul(sb, sc_, out=t)
    torch.mul(ca, cc, out=E[0, 0]).addcmul_(sa, t, value=-1.0)
    torch.mul(sa, cc, out=E[1, 0]).addcmul_(ca, t)
    torch.mul(cb, sc_, out=E[2, 0]).neg_()
    torch.mul(sa, cb, out=E[0, 1]).neg_()
    torch.mul(ca, cb, out=E[1, 1])
    E[2, 1].copy_(sb)
    torch.mul(sb, cc, out=t)
    torch.mul(ca, sc_, out=E[0, 2]).addcmul_(sa, t)
    torch.mul(sa, sc_, out=E[1, 2]).addcmul_(ca, t, value=-1.0)
    torch.mul(cb, cc, out=E[2, 2])
    return E


def _velocity_terms(k: _Consts, om: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """``Y = [w x h, I w]`` into ``Y (2, 3, 18, C)``: the bias forces are ``w x Y``."""
    _cross_into(Y[0], om, k.h)
    _const_map(k.inertia_cols, list(om), Y[1])
    return Y


def _forward_chunk(k: _Consts, s: SimpleNamespace, w: SimpleNamespace, grav: torch.Tensor) -> torch.Tensor:
    """RNEA for one chunk. ``s``: buffers kept for the backward, with the input rows in ``s.V``
    and ``w.A`` (the rest is written here); ``w``: scratch. Returns the result rows ``(57, C)``:
    slot torques, then the root force."""
    C = s.V.shape[1]
    qd, qdd = s.V[:108].view(2, 3, _S, C)
    sn, cs = s.sc
    torch.sin(w.A.view(3, _S, C), out=sn)
    torch.cos(w.A.view(3, _S, C), out=cs)
    sa, sb, sc = sn
    ca, cb, cc = cs
    t0, t1, t2, t3 = w.t
    E = _joint_rotation(s.sc, s.E, t0)

    # Joint velocity and acceleration in the child frame, Ry^T of (in the frame after Rx):
    # wJ = Ry^T (wx, wz sb + wy, wz cb),
    # dwJ = Ry^T (ax - wz wy cb, ay + az sb + wz wx cb, az cb - wz wx sb + wx wy)
    # (the velocity products are Featherstone's c_J: s_z x s_x, s_z x s_y, s_x x s_y).
    wz, wx, wy = qd
    az, ax, ay = qdd
    oj, doj = s.J
    torch.mul(wz, cb, out=t0)  # wz cb
    torch.addcmul(wy, wz, sb, out=oj[1])
    torch.mul(cc, wx, out=oj[0]).addcmul_(sc, t0, value=-1.0)
    torch.mul(sc, wx, out=oj[2]).addcmul_(cc, t0)
    torch.addcmul(ax, wy, t0, value=-1.0, out=t1)  # ax - wz wy cb
    torch.mul(wz, wx, out=t2)
    torch.addcmul(ay, az, sb, out=doj[1]).addcmul_(t2, cb)
    torch.mul(az, cb, out=t3).addcmul_(t2, sb, value=-1.0).addcmul_(wx, wy)
    torch.mul(cc, t1, out=doj[0]).addcmul_(sc, t3, value=-1.0)
    torch.mul(sc, t1, out=doj[2]).addcmul_(cc, t3)

    # --- outward pass. ST = [E^T w_p, w, E^T al_p, al, a]: ST[0::2] is the product E^T [w_p, al_p, u],
    # ST[1:4:2] = [w, al] what the children read.
    ST = s.ST
    # Root: the world neither turns nor moves; its "acceleration" is qdd[0:3] - g.
    ST[0:3:2, :, 0].zero_()
    u0 = torch.sub(s.V[108:111], grav[:, None], out=t0[:3])
    _rot_t(E[..., 0:1, :], u0[None, :, None], ST[4:5, :, 0:1])
    ST[1, :, 0].copy_(oj[:, 0])
    ST[3, :, 0].copy_(doj[:, 0])
    for lv in k.levels[1:]:
        a, b, n = lv.a, lv.b, lv.n
        P = w.P[: 9 * n * C].view(3, 3, n, C)  # [w_p, al_p, u]
        lv.gather(ST[1:4:2], out=P[0:2])
        wp, u = P[0], P[2]
        # Acceleration of this origin, parent frame: u = a_p + al_p x r + w_p (w_p . r) - r |w_p|^2.
        lv.cross_r(P[1], out=u)
        u.add_(lv.parents(ST[4]))
        d1 = lv.dot_r(wp, out=t1[:n])
        d2 = torch.mul(wp[0], wp[0], out=t2[:n]).addcmul_(wp[1], wp[1]).addcmul_(wp[2], wp[2])
        u.addcmul_(wp, d1).addcmul_(lv.r, d2, value=-1.0)
        _rot_t(E[:, :, a:b], P, ST[0::2, :, a:b])
        torch.add(ST[0, :, a:b], oj[:, a:b], out=ST[1, :, a:b])
        torch.add(ST[2, :, a:b], doj[:, a:b], out=ST[3, :, a:b])
        _cross_add(ST[3, :, a:b], ST[0, :, a:b], oj[:, a:b], 0)

    # --- Newton-Euler of every segment at once (Featherstone 2008 eq. 2.92 about the origin):
    # F = m a + al x h + w x (w x h), N = I al + h x a + w x (I w).
    om, al, acc = ST[1], ST[3], ST[4]
    h, F, N = k.h, s.FN[0], s.FN[1]
    Y = _velocity_terms(k, om, s.Y)
    torch.mul(k.mass, acc, out=F)
    _cross_add(F, al, h, 0)
    _const_map(k.inertia_cols, list(al), N)
    _cross_add(N, h, acc, 0)
    _cross_add(s.FN, om[None], Y, 1)

    # --- inward pass: F_p += E F, N_p += E N + r x E F.
    FN = s.FN
    for lv in reversed(k.levels[1:]):
        a, b, n = lv.a, lv.b, lv.n
        GH = w.P[: 6 * n * C].view(2, 3, n, C)
        _rot(E[:, :, a:b], FN[:, :, a:b], GH)
        lv.cross_r(GH[0], out=GH[1], accumulate=True, value=-1.0)  # + r x G = - G x r
        lv.add_to_parents(FN, GH)

    # --- joint torques tau = S^T N: slots z, x, y -> (cb (cc Nz - sc Nx) + sb Ny, cc Nx + sc Nz, Ny),
    # and the root force in world axes E_0 F_0.
    R = w.R
    T = R[:54].view(3, _S, C)
    nx, ny, nz = FN[1]
    torch.mul(cc, nz, out=t0).addcmul_(sc, nx, value=-1.0)
    torch.mul(cc, nx, out=T[1]).addcmul_(sc, nz)
    T[2].copy_(ny)
    torch.mul(cb, t0, out=T[0]).addcmul_(sb, ny)
    _rot(E[..., 0:1, :], FN[0:1, :, 0:1], R[54:57, None].unsqueeze(0))
    return R


# --------------------------------------------------------------------------- backward
def _backward_chunk(k: _Consts, s: SimpleNamespace, w: SimpleNamespace) -> torch.Tensor:
    """Reverse mode of :func:`_forward_chunk` (``s``: its kept buffers, ``w``: scratch with the
    gradient of the result rows in ``w.G``); returns the gradient of the input rows ``(166, C)``
    (last row 0)."""
    C = s.V.shape[1]
    qd, qdd = s.V[:108].view(2, 3, _S, C)
    sa, sb, sc = s.sc[0]
    ca, cb, cc = s.sc[1]
    ST, FN = s.ST, s.FN
    oj, doj = s.J
    t0, t1, t2, t3, t4, t5 = w.t
    E, Y = s.E, s.Y
    tb = w.G[:54].view(3, _S, C)  # gradients of the slot torques (z, x, y)
    XB = w.XB
    AB = XB[:54].view(3, _S, C)  # adjoints of the angles a, b, c (slots z, x, y)

    # --- torques tau = S^T N: Nbar = S taubar; the angles b, c also move the axes.
    Z = w.Z  # [Fbar, Nbar, Nbar inherited]
    NB = Z[1]
    nx, ny, nz = FN[1]
    torch.mul(cb, tb[0], out=t0)  # cb taubar_z
    torch.mul(cc, tb[1], out=NB[0]).addcmul_(sc, t0, value=-1.0)
    torch.addcmul(tb[2], sb, tb[0], out=NB[1])
    torch.mul(sc, tb[1], out=NB[2]).addcmul_(cc, t0)
    torch.mul(cc, nz, out=t1).addcmul_(sc, nx, value=-1.0)  # cc Nz - sc Nx
    torch.mul(cc, nx, out=t2).addcmul_(sc, nz)  # cc Nx + sc Nz
    torch.mul(tb[1], t1, out=AB[2]).addcmul_(t0, t2, value=-1.0)
    torch.mul(cb, ny, out=t3).addcmul_(sb, t1, value=-1.0)
    torch.mul(tb[0], t3, out=AB[1])
    AB[0].zero_()

    # --- reverse of the inward pass (an outward pass): Fbar = E^T (Fbar_p + Nbar_p x r),
    # Nbar += E^T Nbar_p. Root: tau[0:3] = E_0 F_0.
    _rot_t(E[..., 0:1, :], w.G[54:57, None].unsqueeze(0), Z[0:1, :, 0:1])
    Z[2, :, 0].zero_()
    for lv in k.levels[1:]:
        a, b, n = lv.a, lv.b, lv.n
        Q = w.P[: 6 * n * C].view(2, 3, n, C)  # [Gbar, Nbar_p]
        lv.gather(Z[0:2], out=Q)
        lv.cross_r(Q[1], out=Q[0], accumulate=True)
        _rot_t(E[:, :, a:b], Q, Z[0::2, :, a:b])
        NB[:, a:b].add_(Z[2, :, a:b])

    # --- Newton-Euler: albar = I Nbar + h x Fbar, abar = m Fbar + Nbar x h; through
    # Y = [w x h, I w] and the products w x Y: wbar = h x Ybar_F + I Ybar_N + sum_v Y_v x bbar_v
    # with bbar = [Fbar, Nbar], Ybar = bbar x w.
    SB, WB, YB = w.SB, w.WB, w.YB
    h, om, Fb = k.h, ST[1], Z[0]
    _const_map(k.inertia_cols, list(NB), SB[1])
    _cross_add(SB[1], h, Fb, 0)
    torch.mul(k.mass, Fb, out=SB[2])
    _cross_add(SB[2], NB, h, 0)
    _cross_into(YB, Z[0:2], om[None], 1)
    _const_map(k.inertia_cols, list(YB[1]), WB)
    _cross_add(WB, h, YB[0], 0)
    _cross_add(WB, Y[0], Fb, 0)
    _cross_add(WB, Y[1], NB, 0)

    # --- reverse of the outward pass (an inward pass), leaves first:
    # w = E^T w_p + wJ, al = E^T al_p + (E^T w_p) x wJ + dwJ, a = E^T u,
    # u = a_p + al_p x r + w_p (w_p . r) - r |w_p|^2.
    for lv in reversed(k.levels[1:]):
        a, b, n = lv.a, lv.b, lv.n
        otb = SB[0, :, a:b]  # adjoint of E^T w_p: wbar + wJ x albar
        otb.copy_(WB[:, a:b])
        _cross_add(otb, oj[:, a:b], SB[1, :, a:b], 0)
        P = w.P[: 9 * n * C].view(3, 3, n, C)  # E [.]: adjoints of w_p, al_p, u
        _rot(E[:, :, a:b], SB[:, :, a:b], P)
        ub = P[2]
        lv.cross_r(ub, out=P[1], accumulate=True, value=-1.0)  # al_p: + r x ubar
        wp = lv.parents(ST[1])
        d1 = lv.dot_r(wp, out=t1[:n])
        d2 = torch.mul(wp[0], ub[0], out=t2[:n]).addcmul_(wp[1], ub[1]).addcmul_(wp[2], ub[2])
        d3 = lv.dot_r(ub, out=t3[:n])
        P[0].addcmul_(ub, d1).addcmul_(lv.r, d2).addcmul_(wp, d3, value=-2.0)
        lv.add_to_parents(WB, P[0])
        lv.add_to_parents(SB[1:3], P[1:3])
    SB[0, :, 0].zero_()
    ub0 = XB[162:165]  # root: u = qdd[0:3] - g
    _rot(E[..., 0:1, :], SB[2:3, :, 0:1], ub0[None, :, None])

    # --- the joint rotations: tau_E = sum xbar x x (outward) + x x xbar (inward), projected on
    # the axes like the torques; plus Ry^T in wJ, dwJ and the axes inside wJ, dwJ.
    TE = w.TE
    pairs = [(SB[v], ST[2 * v]) for v in range(3)] + [(FN[v], Z[2 * v]) for v in range(2)]  # (first, second)
    for j in range(3):
        j1, j2 = (j + 1) % 3, (j + 2) % 3
        for i, (u, v) in enumerate(pairs):
            if i == 0:
                torch.mul(u[j1], v[j2], out=TE[j])
            else:
                TE[j].addcmul_(u[j1], v[j2])
            TE[j].addcmul_(u[j2], v[j1], value=-1.0)
    ex, ey, ez = TE
    torch.mul(cc, ez, out=t0).addcmul_(sc, ex, value=-1.0)
    AB[0].addcmul_(cb, t0).addcmul_(sb, ey)
    AB[1].addcmul_(cc, ex).addcmul_(sc, ez)
    AB[2].add_(ey)

    # wJ = Ry^T v1, dwJ = Ry^T v2: cbar += (wJbar x wJ + dwJbar x dwJ)_y, v1bar = Ry wJbar, ...
    OJB = w.OJB  # wJbar = wbar + albar x (E^T w_p); dwJbar = albar
    albar = SB[1]
    OJB.copy_(WB)
    _cross_add(OJB, albar, ST[0], 0)
    AB[2].addcmul_(OJB[2], oj[0]).addcmul_(OJB[0], oj[2], value=-1.0)
    AB[2].addcmul_(albar[2], doj[0]).addcmul_(albar[0], doj[2], value=-1.0)
    wz, wx, wy = qd
    az, ax, ay = qdd
    WXB = XB[54:108].view(3, _S, C)  # qd slots z, x, y
    DWB = XB[108:162].view(3, _S, C)
    v1x, v1z, v2x, v2z = t0, t1, t2, t3
    torch.mul(cc, OJB[0], out=v1x).addcmul_(sc, OJB[2])
    torch.mul(cc, OJB[2], out=v1z).addcmul_(sc, OJB[0], value=-1.0)
    torch.mul(cc, albar[0], out=v2x).addcmul_(sc, albar[2])
    torch.mul(cc, albar[2], out=v2z).addcmul_(sc, albar[0], value=-1.0)
    v1y, v2y = OJB[1], albar[1]
    # v1 = (wx, wz sb + wy, wz cb)
    WXB[1].copy_(v1x)
    WXB[2].copy_(v1y)
    torch.mul(sb, v1y, out=WXB[0]).addcmul_(cb, v1z)
    torch.mul(cb, v1y, out=t4).addcmul_(sb, v1z, value=-1.0)
    AB[1].addcmul_(wz, t4)
    # v2 = (ax - wz wy cb, ay + az sb + wz wx cb, az cb - wz wx sb + wx wy)
    DWB[1].copy_(v2x)
    DWB[2].copy_(v2y)
    torch.mul(sb, v2y, out=DWB[0]).addcmul_(cb, v2z)
    torch.mul(cb, v2x, out=t4)  # cb Abar
    torch.mul(cb, v2y, out=t5).addcmul_(sb, v2z, value=-1.0)  # cb Ybar - sb Pbar
    WXB[0].addcmul_(wy, t4, value=-1.0).addcmul_(wx, t5)
    WXB[2].addcmul_(wz, t4, value=-1.0).addcmul_(wx, v2z)
    WXB[1].addcmul_(wz, t5).addcmul_(wy, v2z)
    # bbar += wz wy sb Abar + (az cb - wz wx sb) Ybar - (az sb + wz wx cb) Pbar
    torch.mul(wz, wy, out=t4).mul_(sb)
    AB[1].addcmul_(t4, v2x)
    torch.mul(wz, wx, out=t4)
    torch.mul(az, cb, out=t5).addcmul_(t4, sb, value=-1.0)
    AB[1].addcmul_(t5, v2y)
    torch.mul(az, sb, out=t5).addcmul_(t4, cb)
    AB[1].addcmul_(t5, v2z, value=-1.0)
    XB[165].zero_()
    return XB


# --------------------------------------------------------------------------- autograd
def _gather_inputs(k: _Consts, xs: tuple[torch.Tensor, ...], lo: int, hi: int, ang: torch.Tensor, rest: torch.Tensor):
    """The chunk's signed input rows from ``q, qd, qdd (n, 47)`` (transposing gathers): rows 0:54
    (the angles) into ``ang``, rows 54:165 into ``rest``."""
    for x, (a, b, idx) in zip(xs, k.in_parts, strict=True):
        out = ang if a == 0 else rest[a - 54 : b - 54]
        torch.index_select(x[lo:hi].t(), 0, idx, out=out)
    ang.mul_(k.in_sign[:54])
    rest.mul_(k.in_sign[54:])


def _run_forward(
    k: _Consts, xs: tuple[torch.Tensor, ...], grav: torch.Tensor, keep: bool, motion: torch.Tensor | None = None
):
    """Whole batch ``q, qd, qdd (n, 47)`` -> ``(tau (n, 47), [(lo, hi, flat buffer, saved views)] or None)``.
    Without ``keep`` (no gradient needed) every chunk of the same length reuses one buffer.
    ``motion (3, 3, 18, n)``, if given, receives the outward pass's ``w, al, a`` (breadth-first)."""
    x = xs[0]
    n = x.shape[0]
    step = _CHUNK if x.device.type == "cpu" else n
    out = torch.empty(n, 47, dtype=x.dtype, device=x.device)
    saved, reuse, scratch = [], {}, {}
    for lo in range(0, n, step):
        hi = min(lo + step, n)
        C = hi - lo
        if C not in scratch:
            scratch[C] = _take(_scratch_shapes(C), x)
        wflat, wbuf = scratch[C]
        if keep:
            sflat, sbuf = _take(_saved_shapes(C), x)
            saved.append((lo, hi, sflat, sbuf))
        else:
            if C not in reuse:
                reuse[C] = _take(_saved_shapes(C), x)
            sflat, sbuf = reuse[C]
        _gather_inputs(k, xs, lo, hi, wbuf.A, sbuf.V)
        R = _forward_chunk(k, sbuf, wbuf, grav)
        if motion is not None:
            for j, row in enumerate((1, 3, 4)):
                motion[j, :, :, lo:hi].copy_(sbuf.ST[row])
        res = torch.index_select(R, 0, k.out_idx, out=wbuf.P[: 47 * C].view(47, C)).mul_(k.out_sign)
        out[lo:hi].copy_(res.t())
    for flat, _ in list(scratch.values()) + list(reuse.values()):
        _POOL.give(flat)
    return out, (saved if keep else None)


class _Rnea(torch.autograd.Function):
    """``tau = RNEA(q, qd, qdd, gravity)`` on ``(n, 47)`` inputs, with the hand-written adjoint."""

    @staticmethod
    def forward(ctx, k: _Consts, q: torch.Tensor, qd: torch.Tensor, qdd: torch.Tensor, grav: torch.Tensor):
        keep = any(ctx.needs_input_grad[1:])
        out, saved = _run_forward(k, (q, qd, qdd), grav, keep)
        if keep:
            ctx.k = k
            ctx.chunks = [(lo, hi, sbuf) for lo, hi, _, sbuf in saved]
            ctx.lease = _Lease([flat for _, _, flat, _ in saved])
            ctx.n = q.shape[0]
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor):
        k: _Consts = ctx.k
        n = ctx.n
        need = ctx.needs_input_grad[1:4]
        grads = [torch.empty(n, 47, dtype=grad.dtype, device=grad.device) if nd else None for nd in need]
        ggrav = torch.zeros(3, dtype=grad.dtype, device=grad.device)
        scratch = {}
        for lo, hi, sbuf in ctx.chunks:
            C = hi - lo
            if C not in scratch:
                scratch[C] = _take(_backward_shapes(C), grad)
            wbuf = scratch[C][1]
            torch.index_select(grad[lo:hi].t(), 0, k.grad_cols, out=wbuf.G)
            wbuf.G.mul_(k.grad_sign)
            XB = _backward_chunk(k, sbuf, wbuf)
            ggrav -= XB[162:165].sum(1)
            for g, (rows, sign) in zip(grads, k.col_parts, strict=True):
                if g is not None:
                    cols = torch.index_select(XB, 0, rows, out=wbuf.P[: 47 * C].view(47, C)).mul_(sign)
                    g[lo:hi].copy_(cols.t())
        for flat, _ in scratch.values():
            _POOL.give(flat)
        return None, *grads, ggrav


# --------------------------------------------------------------------------- external wrenches
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


# --------------------------------------------------------------------------- entry point
# Hand-scheduled eager code (preallocated buffers, in-place ops, a buffer pool): torch.compile
# would only trace it badly, so compiled callers run it as it is (a graph break).
@torch.compiler.disable
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
    q2, qd2, qdd2 = (x.reshape(n, 47).to(dtype=q.dtype, device=q.device) for x in (q, qd, qdd))
    grav = gravity.to(dtype=q.dtype, device=q.device)
    if torch.is_grad_enabled() and any(x.requires_grad for x in (q2, qd2, qdd2, grav)):
        tau = _Rnea.apply(k, q2, qd2, qdd2, grav)
    else:
        tau = _run_forward(k, (q2, qd2, qdd2), grav, keep=False)[0]
    if external:
        tau = tau + _external_part(k, q2, external, n)
    return tau.reshape(batch + (47,))


@torch.compiler.disable
def segment_motion_soa(
    body: Body, q: torch.Tensor, qd: torch.Tensor, qdd: torch.Tensor, gravity: torch.Tensor, with_tau: bool = False
) -> tuple[torch.Tensor, ...]:
    """What the outward pass of :func:`rnea_soa` computes, per segment in its own frame (skeleton
    order): angular velocity ``w``, angular acceleration ``al`` and the acceleration of its origin
    minus gravity ``a - g`` (the specific force there), each ``(..., 18, 3)``; with ``with_tau``,
    fourth, the kernel's torques ``(..., 47)`` (``rnea_soa`` without external wrenches). The
    whole kernel runs (the inward pass costs about as much again, and one kernel is simpler to
    keep right than two). No gradient (the kernel's adjoint covers the torques only)."""
    batch = q.shape[:-1]
    n = int(np.prod(batch)) if len(batch) else 1
    k = _consts(body, q.dtype, q.device)
    xs = tuple(x.detach().reshape(n, 47).to(dtype=q.dtype, device=q.device) for x in (q, qd, qdd))
    motion = torch.empty(3, 3, _S, n, dtype=q.dtype, device=q.device)
    tau = q.new_zeros(n, 47)
    if n:
        tau = _run_forward(k, xs, gravity.detach().to(dtype=q.dtype, device=q.device), keep=False, motion=motion)[0]
    order = torch.as_tensor([_POS[i] for i in range(_S)], device=q.device)
    out = motion.index_select(2, order).permute(0, 3, 2, 1)  # (3, n, 18, 3)
    parts = tuple(x.reshape(batch + (_S, 3)) for x in out)
    return (*parts, tau.reshape(batch + (47,))) if with_tau else parts


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
