"""The RNEA kernel behind :func:`.dynamics.inverse_dynamics`: forward pass and hand-written adjoint.

Featherstone R (2008) *Rigid Body Dynamics Algorithms*, Springer, ch. 5 (table 5.1), in body
coordinates: ``w``, ``al``, ``a`` (angular velocity, angular acceleration, acceleration of the
origin) and the force ``F`` and moment ``N`` (about the origin = proximal joint centre) that the
parent exerts, all in the segment's own frame; gravity is an upward acceleration of the base
(sec. 5.3). ``E`` is the joint rotation (child axes in the parent), ``r`` the joint offset in
the parent, ``h = m c``, ``I`` the inertia about the origin, ``S`` the DoF axes:

    outward   w  = E^T w_p + wJ
              al = E^T al_p + (E^T w_p) x wJ + dwJ
              a  = E^T u,   u = a_p + al_p x r + w_p x (w_p x r)
    per body  f  = m a + al x h + w x (w x h),   n = I al + h x a + w x (I w)
    inward    F  = f + sum_c E_c F_c,            N = n + sum_c (E_c N_c + r_c x E_c F_c)
    torques   tau = S^T N

Every joint is a signed intrinsic ZXY Euler joint (absent DoF: angle 0). The floating base is
MuJoCo's (3 slides in world axes, 3 hinges; ``tau[0:3] = E_0 F_0``, moments about the root
origin), so the result equals ``mj_inverse`` (tests). Layout and buffers: :mod:`._rnea_layout`;
external wrenches: :mod:`._rnea_external`. The forward pass and its adjoint (:class:`_Rnea`)
stay in one file: the adjoint mirrors the forward op by op over the same buffers, and checking
one against the other means reading them side by side.
"""

from __future__ import annotations

import functools
import sys
from types import SimpleNamespace

import numpy as np
import torch
from torch.autograd.function import once_differentiable

from ._buffers import _POOL, _Lease, _take
from ._rnea_external import _external_part
from ._rnea_layout import (
    _POS,
    _S,
    _backward_shapes,
    _const_map,
    _Consts,
    _consts,
    _cross_add,
    _cross_into,
    _rot,
    _rot_t,
    _saved_shapes,
    _scratch_shapes,
)
from .model import Body

__all__ = ["rnea_soa", "segment_motion_soa"]

# Frames per chunk on CPU (read at call time; tests change it). Measured on a 2-core EPYC: 2048
# is slower (the ~250 ops of the forward and ~350 of the backward per chunk cost more than
# the cache saves), 8192 no faster; GPU batches run as one chunk.
_CHUNK = 4096


# --------------------------------------------------------------------------- forward
def _joint_rotation(sc: torch.Tensor, E: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """``E = Rz(a) Rx(b) Ry(c)`` into ``E (3, 3, 18, C)`` from ``sc = [sin, cos]`` of (a, b, c).

    In the child frame the DoF axes are then ``s_y = e_y``, ``s_x = Ry^T e_x = (cc, 0, sc)`` and
    ``s_z = Ry^T Rx^T e_z = (-sc cb, sb, cc cb)``, so ``wJ`` and ``dwJ`` (with Featherstone's
    velocity-product term ``c_J``) have closed forms.
    """
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
    """``tau = RNEA(q, qd, qdd, gravity)`` on ``(n, 47)`` inputs, with the hand-written adjoint.

    The forward keeps the chunk buffers the reverse pass needs (about 8 KB per frame in float64);
    the backward is the plain reverse mode of the kernel over the same layout
    (:func:`_backward_chunk`): the reverse of the inward pass is an outward pass and vice versa,
    as in Carpentier J, Mansard N (2018) "Analytical derivatives of rigid body dynamics
    algorithms", *Robotics: Science and Systems*, but as vector-Jacobian products rather than
    full Jacobians. The joint rotations are differentiated through one identity: if ``E``
    receives the adjoint ``Ebar``, an angle turning ``E`` about the axis ``s`` gets
    ``s . tau_E`` with the "torque" ``tau_E = sum_j E_j x Ebar_j`` (columns ``j``), which in the
    child frame is ``xbar x x`` for every product ``x = E^T v`` and ``x x (E^T ybar)`` for every
    ``y = E x``, so angle gradients are projections on the DoF axes exactly like the joint
    torques. Gradients flow to ``q``, ``qd``, ``qdd`` and gravity; the body's parameters are
    constants. Double backward is not supported (``once_differentiable``), nor are
    ``torch.func`` transforms.
    """

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


# --------------------------------------------------------------------------- entry point
def _eager_only(fn):
    """``torch.compiler.disable(fn)``, applied on the first call made once torch's compiler is loaded.

    Hand-scheduled eager code (preallocated buffers, in-place ops, a buffer pool): torch.compile
    would only trace it badly, so compiled callers run it as it is (a graph break). Decorating
    with ``torch.compiler.disable`` directly would import the compiler (torch._dynamo, sympy:
    about 70 MB and 1.5 s) into every process, though only a caller of ``torch.compile`` needs it.
    """
    disabled = None

    @functools.wraps(fn)
    def call(*args, **kwargs):
        nonlocal disabled
        if "torch._dynamo" not in sys.modules:  # nothing is being compiled
            return fn(*args, **kwargs)
        if disabled is None:
            disabled = torch.compiler.disable(fn)
        return disabled(*args, **kwargs)

    return call


@_eager_only
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


@_eager_only
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
