"""The marker fit of one frame: its residuals, normal equations and batched Levenberg-Marquardt.

:class:`FitProblem` holds what :func:`~musclepose.motion.ik.solve_ik` minimises per frame: the
weighted marker errors, soft range-of-motion limits, a prior on what no marker observes and,
optionally, a smoothness pull toward the neighbours' mean; :meth:`FitProblem.normal_equations`
gives ``J^T J`` and ``J^T r`` from the analytic marker Jacobian. :func:`levenberg_marquardt`
solves frames independently (Marquardt 1963), batched. Conventions: world Y-up, metres, radians.
"""

from __future__ import annotations

import numpy as np
import torch

from ..body import Body
from ..body._ops import cross
from ..body.kinematics import joint_rotations, parent_rotations, segment_rotations
from ..body.model import JOINT_DOF_SLOTS
from .marker_set import MarkerSet, marker_positions, unobserved_dofs

__all__ = ["HARD_MARGIN", "JUMP_RAD", "SPINE_LIMIT_SCALE", "FitProblem", "levenberg_marquardt", "marker_errors"]

SPINE_LIMIT_SCALE = 1e-2
HARD_MARGIN = float(np.radians(10.0))
# A rotational DoF that turns more than this between consecutive frames has (almost always)
# jumped to another local minimum of the marker fit (spine split, arm twist), not moved.
JUMP_RAD = np.radians(15.0)


class FitProblem:
    """The per-frame residuals of the marker fit and their Jacobian (see :meth:`residuals`)."""

    def __init__(self, body: Body, ms: MarkerSet, y: np.ndarray, w: np.ndarray, limit_weight: float,
                 prior_weight: float, free: np.ndarray, smoothness: float = 0.0) -> None:  # fmt: skip
        self.body, self.ms, self.n = body, ms, body.n_dof
        self.lo = torch.tensor(np.where(np.isfinite(body.dof_lower), body.dof_lower, -1e9))
        self.hi = torch.tensor(np.where(np.isfinite(body.dof_upper), body.dof_upper, 1e9))
        self.prior = torch.tensor(np.sqrt(prior_weight * unobserved_dofs(body, ms)))
        # The spine is two joints in series standing for ~20 vertebral levels; its cited ranges
        # are regional sums, so they are a weak prior there and a firm one on the limbs.
        soft = np.array([SPINE_LIMIT_SCALE if n.startswith(("lumbar_", "thoracic_")) else 1.0 for n in body.dof_names])
        self.sqrt_lim = torch.tensor(np.sqrt(limit_weight * soft))
        # Limb DoF may not leave their range by more than HARD_MARGIN: the soft penalty alone lets
        # a poorly fitted arm wander into impossible poses (scapula at 130 deg). The spine's ranges
        # are regional sums and stay soft; the root's pose in the world is free.
        hard = torch.tensor(soft == 1.0)
        hard[:6] = False
        self.hard_lo = torch.where(hard, self.lo - HARD_MARGIN, torch.full_like(self.lo, -1e9))
        self.hard_hi = torch.where(hard, self.hi + HARD_MARGIN, torch.full_like(self.hi, 1e9))
        self.seg_of, self.flat, self.moves = _marker_jacobian_setup(body, ms)
        self.bt = body.tensors(torch.float64)
        self.local = torch.tensor(ms.local)
        self.segs = torch.as_tensor(ms.segments)
        self.y = torch.tensor(np.where(np.isfinite(y), y, 0.0))
        self.free = torch.as_tensor(free, dtype=torch.float64)
        self.sqrt_s = float(np.sqrt(smoothness))
        self.set_weights(w)
        self.nbr: torch.Tensor | None = None

    def set_weights(self, w: np.ndarray) -> None:
        """Per-sample marker weights ``(T, M)`` (0: missing or rejected), times the marker set's own."""
        self.w = (
            torch.tensor(np.sqrt(self.ms.weights))[None, :, None]
            * torch.as_tensor(w, dtype=torch.float64)[..., None].sqrt()
        )

    def project(self, q: torch.Tensor) -> torch.Tensor:
        """Hard limb limits (range + 10 deg)."""
        return torch.maximum(torch.minimum(q, self.hard_hi), self.hard_lo)

    def _markers(self, q: torch.Tensor, idx):
        y_t, w = (self.y, self.w) if idx is None else (self.y[idx], self.w[idx])
        jrot, u_par = joint_rotations(self.bt, q)
        rot = segment_rotations(jrot)
        rpar = parent_rotations(rot)
        d = (rpar @ self.bt.offsets[:, :, None])[..., 0]
        org = q[..., None, 0:3] + torch.einsum("ij,...jk->...ik", self.bt.ancestors, d)
        x = org[:, self.segs] + (rot[:, self.segs] @ self.local[..., None])[..., 0]
        return x, org, u_par, rpar, y_t, w

    def _diagonal(self, q: torch.Tensor, idx):
        """The per-DoF residuals (limit violations, the prior, the smoothness) and their Jacobian's
        diagonal, each ``(t, 47)`` (a list of pairs)."""
        t = q.shape[0]
        over = torch.relu(q - self.hi) - torch.relu(self.lo - q)
        active = ((q > self.hi) | (q < self.lo)).to(q.dtype) * self.sqrt_lim
        out = [(self.sqrt_lim * over, active), (self.prior * q, self.prior.expand(t, self.n))]
        if self.sqrt_s > 0 and self.nbr is not None:
            ref = self.nbr if idx is None else self.nbr[idx]
            out.append((self.sqrt_s * (q - ref), torch.full_like(q, self.sqrt_s)))
        return out

    def residuals(self, q: torch.Tensor, idx=None) -> torch.Tensor:
        """Residuals ``(t, R)`` of frames ``idx`` (all if None) at their states ``q (t, 47)``:
        weighted marker errors, limit violations, the prior and (with a smoothness weight) the
        deviation from the neighbours' mean ``self.nbr``."""
        x, _, _, _, y_t, w = self._markers(q, idx)
        r_m = ((x - y_t) * w).reshape(q.shape[0], -1)
        return torch.cat([r_m, *(r for r, _ in self._diagonal(q, idx))], dim=-1)

    def normal_equations(self, q: torch.Tensor, idx=None):
        """Per frame the cost ``|r|^2 (t,)``, ``J^T J (t, 47, 47)`` and ``J^T r (t, 47)`` of
        :meth:`residuals`, without forming the per-DoF terms' diagonal Jacobian blocks.

        For a hinge with world axis ``s`` at joint centre ``o``, a marker ``x`` beyond it moves
        as ``dx/dq = s x (x - o)``; root translations move every marker by the unit vectors.
        Locked DoFs get zero columns, so their step is zero.
        """
        x, org, u_par, rpar, y_t, w = self._markers(q, idx)
        t, n = q.shape
        r_m = ((x - y_t) * w).reshape(t, -1)
        axes = (u_par @ rpar.transpose(-1, -2)).reshape(t, -1, 3)[:, self.flat]  # (T, 44, 3) world axes
        lever = x[:, :, None, :] - org[:, self.seg_of][:, None, :, :]  # (T, M, 44, 3)
        jr = cross(axes[:, None], lever) * self.moves[None, :, :, None]
        jt = torch.eye(3, dtype=q.dtype).expand(t, x.shape[1], 3, 3)  # d x / d root translation
        jm = (torch.cat([jt, jr.transpose(-1, -2)], dim=-1) * w[..., None]).reshape(t, -1, n) * self.free
        jtj = jm.transpose(-1, -2) @ jm
        g = (jm.transpose(-1, -2) @ r_m[..., None])[..., 0]
        cost = r_m.square().sum(-1)
        diag = torch.zeros_like(q)
        for r, j in self._diagonal(q, idx):
            j = j * self.free
            diag = diag + j * j
            g = g + j * r
            cost = cost + r.square().sum(-1)
        jtj = jtj + torch.diag_embed(diag)
        return cost, jtj, g


def marker_errors(body: Body, ms: MarkerSet, y: np.ndarray, mask: np.ndarray, q: torch.Tensor) -> np.ndarray:
    """Distance ``(T, M)`` (m) between each marker and its model position; NaN where missing."""
    with torch.no_grad():
        x = marker_positions(body, q, ms).numpy()
    return np.where(mask, np.linalg.norm(x - np.nan_to_num(y), axis=-1), np.nan)


def _marker_jacobian_setup(body: Body, ms: MarkerSet):
    """Per rotational DoF: its (segment, slot) and which markers it moves (descendant segments)."""
    seg_of = np.zeros(body.n_dof - 3, dtype=np.int64)
    flat = np.zeros(body.n_dof - 3, dtype=np.int64)
    for seg in range(body.n_segments):
        for slot in range(3):
            k = int(JOINT_DOF_SLOTS[seg, slot])
            if k >= 3:
                seg_of[k - 3], flat[k - 3] = seg, seg * 3 + slot
    anc = body.tensors(torch.float64).ancestors.numpy()  # anc[i, j] = j is i or an ancestor of i
    moves = anc[ms.segments][:, seg_of]  # (M, 44): marker's segment descends from the DoF's joint
    return torch.tensor(seg_of), torch.tensor(flat), torch.tensor(moves)


def _neighbours(q: torch.Tensor) -> torch.Tensor:
    if q.shape[0] < 2:
        return q.clone()
    out = torch.empty_like(q)
    out[1:-1] = 0.5 * (q[:-2] + q[2:])
    out[0], out[-1] = q[1], q[-2]
    return out


def levenberg_marquardt(prob: FitProblem, q: torch.Tensor, iterations: int, idx=None) -> torch.Tensor:
    """Batched Levenberg-Marquardt, each frame on its own (frames ``idx`` of the problem, starting at ``q``).

    Temporal smoothness (``prob.sqrt_s``) couples neighbouring frames through the residual
    ``sqrt(smoothness) * (q_t - (q_(t-1) + q_(t+1)) / 2)``; each iteration holds the neighbours at
    their current values (block Jacobi), which converges because every frame's own markers
    dominate its Hessian. It applies only when all frames are solved (``idx`` None).
    """
    q = q.clone()
    t, n = q.shape
    rows = torch.arange(t) if idx is None else torch.as_tensor(idx)
    smooth = prob.sqrt_s if idx is None else 0.0
    saved, prob.sqrt_s = prob.sqrt_s, smooth
    eye = torch.eye(n, dtype=torch.float64)
    lam = torch.full((t,), 1e-3, dtype=torch.float64)
    active = torch.ones(t, dtype=torch.bool)
    for _ in range(iterations):
        if smooth > 0:
            prob.nbr = _neighbours(q)
        sel = torch.nonzero(active)[:, 0]
        if len(sel) == 0:
            break
        old, jtj, g = prob.normal_equations(q[sel], rows[sel])
        damp = lam[sel, None, None] * (torch.diagonal(jtj, dim1=-2, dim2=-1)[..., None] * eye + 1e-9 * eye)
        cand = prob.project(q[sel] + torch.linalg.solve(jtj + damp, -g[..., None])[..., 0])
        new = prob.residuals(cand, rows[sel]).square().sum(-1)
        better = new < old
        q[sel] = torch.where(better[:, None], cand, q[sel])
        lam[sel] = torch.where(better, lam[sel] * 0.3, lam[sel] * 10.0).clamp(1e-9, 1e6)
        # A frame is done when a successful step gains less than 1e-7 of its cost (or the
        # damping has grown so large that no step helps).
        done = (better & (old - new < 1e-7 * old + 1e-16)) | (lam[sel] >= 1e6)
        active[sel[done]] = False
    prob.sqrt_s, prob.nbr = saved, None
    return q
