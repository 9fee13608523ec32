"""Inverse kinematics: marker or 3D keypoint trajectories -> ``q``, all frames at once in torch.

:func:`solve_ik` minimises over ``q (T, 47)`` the weighted marker error
``sum_t sum_m w_m |x_m(q_t) - y_tm|^2`` (missing samples masked), plus a temporal smoothness
term ``lambda_s sum_t |q_t - (q_(t-1) + q_(t+1)) / 2|^2``, soft range-of-motion limits and a
prior pulling DoF that no marker observes toward zero (so that the solution is unique), by
batched Levenberg-Marquardt (Marquardt 1963) with the analytic marker Jacobian. Markers come
as a :class:`~musclepose.motion.marker_set.MarkerSet`; scaling the body to a static trial is
:mod:`.scaling`. Conventions: world Y-up, metres, radians, ``q`` as in
:mod:`musclepose.body.skeleton`.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
import torch

from ..body import Body
from ..body.kinematics import joint_rotations, parent_rotations, segment_rotations
from ..body.model import JOINT_DOF_SLOTS
from .core import Motion
from .marker_set import MarkerSet, initial_pose, marker_positions, unobserved_dofs

__all__ = ["IKResult", "solve_ik"]

SPINE_LIMIT_SCALE = 1e-2
HARD_MARGIN = float(np.radians(10.0))


@dataclass(frozen=True)
class IKResult:
    """Inverse kinematics output.

    Attributes
    ----------
    motion : Motion
        The solved joint angles.
    rms_m : np.ndarray, (T,)
        Root-mean-square marker error per frame (m).
    marker_rms_m : dict[str, float]
        RMS error per marker over the trial (m).
    iterations : int
    seconds : float
    """

    motion: Motion
    rms_m: np.ndarray
    marker_rms_m: dict[str, float]
    iterations: int
    seconds: float


def solve_ik(
    body: Body,
    markers: MarkerSet,
    names: list[str] | tuple[str, ...],
    positions: np.ndarray,
    fps: float,
    limit_weight: float = 1e-2,
    prior_weight: float = 1e-2,
    smoothness: float = 1e-4,
    iterations: int = 30,
    q0: np.ndarray | None = None,
    metadata: dict | None = None,
    locked: dict[str, float] | None = None,
) -> IKResult:
    """Joint angles for measured marker trajectories, every frame solved independently.

    Parameters
    ----------
    body, markers
        The (scaled) body and the marker set on it.
    names, positions
        Measured marker names and positions ``(T, M, 3)`` in metres, world Y-up; NaN where a
        marker is missing. Markers not in ``markers`` are ignored.
    fps
        Frame rate (Hz) of the result.
    limit_weight
        Weight (per rad) of range-of-motion violations relative to marker error (per m).
    prior_weight
        Pull toward zero of DoF that no marker observes (and a weak one on the spine).
    smoothness
        Weight of each frame's deviation from the mean of its two neighbours (per rad^2 or
        m^2, against marker errors in m^2): temporal smoothness that does not bias
        constant-velocity motion.
    iterations
        Levenberg-Marquardt iterations (batched over frames).
    locked
        DoF name -> value (m or rad) held fixed, as OpenSim's locked coordinates: e.g. to
        solve on the DoFs of a planar model for a like-for-like comparison with it.

    Notes
    -----
    Levenberg-Marquardt (Marquardt 1963) on the per-frame weighted residuals: markers,
    soft range-of-motion limits and the prior. The marker Jacobian is analytic (see
    :func:`_levenberg_marquardt`), batched over frames; each step solves one 47x47 system per
    frame.
    Limb DoF are held within their range of motion plus 10 deg (projected steps); the
    spine's ranges stay soft. Frames that jumped by more than 15 deg in a DoF to another local
    minimum are re-solved from their predecessor (:func:`_repair_jumps`).

    """
    t0 = time.perf_counter()
    common = [n for n in markers.names if n in set(names)]
    if len(common) < 4:
        raise ValueError(f"inverse kinematics needs at least 4 markers that the marker set knows; got {common}")
    ms = markers.subset(common)
    col = {n: i for i, n in enumerate(names)}
    y = np.asarray(positions, dtype=np.float64)[:, [col[n] for n in common]]
    if y.shape[0] < 1:
        raise ValueError("no frames to solve")
    mask = np.isfinite(y).all(-1)
    q_init = initial_pose(body, ms, y) if q0 is None else np.array(q0, dtype=np.float64)
    free = np.ones(body.n_dof)
    for name, value in (locked or {}).items():
        free[body.dof_index(name)] = 0.0
        q_init[:, body.dof_index(name)] = value
    q = _levenberg_marquardt(body, ms, y, mask, q_init, limit_weight, prior_weight, iterations, smoothness, free)
    lm_args = (limit_weight, prior_weight, iterations, free)
    q = _repair_jumps(body, ms, y, mask, q, lm_args)
    with torch.no_grad():
        x = marker_positions(body, q, ms).numpy()
    err = np.where(mask, np.linalg.norm(x - np.nan_to_num(y), axis=-1), np.nan)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rms = np.sqrt(np.nanmean(err**2, axis=1))
        per_marker = {n: float(np.sqrt(np.nanmean(err[:, i] ** 2))) for i, n in enumerate(common)}
    meta = {"source": "inverse kinematics", "markers": common, **(metadata or {})}
    motion = Motion(q.clone(), float(fps), body, meta)
    return IKResult(motion, rms, per_marker, iterations, time.perf_counter() - t0)


# A rotational DoF that turns more than this between consecutive frames has (almost always)
# jumped to another local minimum of the marker fit (spine split, arm twist), not moved.
JUMP_RAD = np.radians(15.0)
_REPAIR_PASSES = 20


def _marker_cost(body: Body, ms: MarkerSet, y: np.ndarray, mask: np.ndarray, q: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        x = marker_positions(body, q, ms).numpy()
    d = np.where(mask[..., None], x - np.nan_to_num(y), 0.0)
    return (d**2 * ms.weights[None, :, None]).sum((1, 2))


def _repair_jumps(body, ms, y, mask, q, lm_args, max_step: float = JUMP_RAD) -> torch.Tensor:
    """Re-solve frames that jumped to another local minimum, starting from their predecessor.

    Frames are solved independently, so where the markers leave a near-degenerate choice
    (how flexion splits between the two spine joints, an arm's twist) neighbouring frames can
    land in different minima: a jump of tens of degrees in one frame, which differentiation
    turns into enormous accelerations. Each frame after such a jump is solved again from the
    previous frame's solution and keeps the continuous solution when its marker cost is no
    more than 25 % (plus 1 mm per marker squared) worse. Passes repeat, so a run of jumped
    frames is walked through from its start; frames whose continuous solution fits much
    worse (a real fast movement, or the earlier frame was the wrong one) keep their own.
    """
    limit_weight, prior_weight, iterations, free = lm_args
    q = q.clone()
    t = q.shape[0]
    if t < 2:
        return q
    cost = _marker_cost(body, ms, y, mask, q)
    tried = np.zeros(t, dtype=bool)
    slack = 1e-6 * mask.sum(1)
    for _ in range(_REPAIR_PASSES):
        step = (q[1:, 3:] - q[:-1, 3:]).abs().amax(-1).numpy()
        frames = np.flatnonzero((step > max_step) & ~tried[1:]) + 1
        if frames.size == 0:
            break
        tried[frames] = True
        init = q[frames - 1].numpy()
        # Warm-started from a neighbour, a frame converges in a few steps.
        new = _levenberg_marquardt(body, ms, y[frames], mask[frames], init, limit_weight, prior_weight,
                                   max(8, iterations // 3), 0.0, free)  # fmt: skip
        new_cost = _marker_cost(body, ms, y[frames], mask[frames], new)
        jump_new = (new[:, 3:] - q[frames - 1, 3:]).abs().amax(-1).numpy()
        ok = (new_cost <= 1.25 * cost[frames] + slack[frames]) & (jump_new < step[frames - 1])
        keep = frames[ok]
        q[keep] = new[ok]
        cost[keep] = new_cost[ok]
        nxt = keep + 1
        tried[nxt[nxt < t]] = False  # a repaired frame's successor may now be the jump
    return q


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


def _levenberg_marquardt(body, ms, y, mask, q_init, limit_weight, prior_weight, iterations, smoothness=0.0, free=None):
    """Batched Levenberg-Marquardt with the analytic marker Jacobian.

    For a hinge with world axis ``s`` at joint centre ``o``, a marker ``x`` beyond it moves
    as ``dx/dq = s x (x - o)``; root translations move every marker by the unit vectors.
    Temporal smoothness couples neighbouring frames through the residual
    ``sqrt(smoothness) * (q_t - (q_(t-1) + q_(t+1)) / 2)``; each iteration holds the
    neighbours at their current values (block Jacobi), which converges because every frame's
    own markers dominate its Hessian.
    """
    lo = torch.tensor(np.where(np.isfinite(body.dof_lower), body.dof_lower, -1e9))
    hi = torch.tensor(np.where(np.isfinite(body.dof_upper), body.dof_upper, 1e9))
    prior = torch.tensor(np.sqrt(prior_weight * unobserved_dofs(body, ms)))
    w_all = torch.tensor(np.sqrt(ms.weights))[None, :, None] * torch.tensor(mask, dtype=torch.float64)[..., None]
    # The spine is two joints in series standing for ~20 vertebral levels; its cited ranges
    # are regional sums, so they are a weak prior there and a firm one on the limbs.
    soft = np.array([SPINE_LIMIT_SCALE if n.startswith(("lumbar_", "thoracic_")) else 1.0 for n in body.dof_names])
    sqrt_lim = torch.tensor(np.sqrt(limit_weight * soft))
    # Limb DoF may not leave their range by more than HARD_MARGIN: the soft penalty alone lets a
    # poorly fitted arm wander into impossible poses (scapula at 130 deg). The spine's ranges
    # are regional sums and stay soft; the root's pose in the world is free.
    hard = torch.tensor(soft == 1.0)
    hard[:6] = False
    hard_lo = torch.where(hard, lo - HARD_MARGIN, torch.full_like(lo, -1e9))
    hard_hi = torch.where(hard, hi + HARD_MARGIN, torch.full_like(hi, 1e9))
    seg_of, flat, moves = _marker_jacobian_setup(body, ms)
    bt = body.tensors(torch.float64)
    local = torch.tensor(ms.local)
    segs = torch.as_tensor(ms.segments)
    y_all = torch.tensor(np.where(mask[..., None], y, 0.0))
    t, n = q_init.shape[0], body.n_dof
    free_cols = torch.ones(n, dtype=torch.float64) if free is None else torch.as_tensor(free, dtype=torch.float64)

    def evaluate_rows(q, idx):
        return evaluate(q, False, idx, rows_given=True)[0]

    sqrt_s = float(np.sqrt(smoothness))
    nbr = torch.zeros(t, n, dtype=torch.float64)

    def neighbours(q):
        if t < 2:
            return q.clone()
        out = torch.empty_like(q)
        out[1:-1] = 0.5 * (q[:-2] + q[2:])
        out[0], out[-1] = q[1], q[-2]
        return out

    def evaluate(q, with_jacobian: bool, idx=None, rows_given: bool = False):
        # q holds all frames (or, with rows_given, only the frames idx); idx selects frames.
        if idx is not None and not rows_given:
            q = q[idx]
        y_t, w = (y_all, w_all) if idx is None else (y_all[idx], w_all[idx])
        ref = nbr if idx is None else nbr[idx]
        t = q.shape[0]
        jrot, u_par = joint_rotations(bt, q)
        rot = segment_rotations(jrot)
        rpar = parent_rotations(rot)
        d = (rpar @ bt.offsets[:, :, None])[..., 0]
        org = q[..., None, 0:3] + torch.einsum("ij,...jk->...ik", bt.ancestors, d)
        x = org[:, segs] + (rot[:, segs] @ local[..., None])[..., 0]
        r_m = ((x - y_t) * w).reshape(t, -1)
        over = torch.relu(q - hi) - torch.relu(lo - q)
        r = torch.cat([r_m, sqrt_lim * over, prior * q, sqrt_s * (q - ref)], dim=-1)
        if not with_jacobian:
            return r, None
        axes = (u_par @ rpar.transpose(-1, -2)).reshape(t, -1, 3)[:, flat]  # (T, 44, 3) world axes
        lever = x[:, :, None, :] - org[:, seg_of][:, None, :, :]  # (T, M, 44, 3)
        jr = torch.linalg.cross(axes[:, None].expand_as(lever), lever) * moves[None, :, :, None]
        jt = torch.eye(3, dtype=q.dtype).expand(t, x.shape[1], 3, 3)  # d x / d root translation
        jm = torch.cat([jt, jr.transpose(-1, -2)], dim=-1) * w[..., None]  # (T, M, 3, 47)
        active = ((q > hi) | (q < lo)).to(q.dtype) * sqrt_lim
        diag = [active, prior.expand(t, n), torch.full((t, n), sqrt_s, dtype=q.dtype)]
        jac = torch.cat([jm.reshape(t, -1, n), *(torch.diag_embed(d) for d in diag)], dim=1)
        return r, jac * free_cols  # locked DoFs: zero columns, so their step is zero

    q = torch.tensor(q_init)
    eye = torch.eye(n, dtype=torch.float64)
    lam = torch.full((t,), 1e-3, dtype=torch.float64)
    active = torch.ones(t, dtype=torch.bool)
    for _ in range(iterations):
        if smoothness > 0:
            nbr = neighbours(q)
        idx = torch.nonzero(active)[:, 0]
        if len(idx) == 0:
            break
        r, jac = evaluate(q, True, idx)
        jt = jac.transpose(-1, -2)
        jtj = jt @ jac
        g = (jt @ r[..., None])[..., 0]
        damp = lam[idx, None, None] * (torch.diagonal(jtj, dim1=-2, dim2=-1)[..., None] * eye + 1e-9 * eye)
        cand = q[idx] + torch.linalg.solve(jtj + damp, -g[..., None])[..., 0]
        cand = torch.maximum(torch.minimum(cand, hard_hi), hard_lo)  # projected step: hard limb limits
        old, new = r.square().sum(-1), evaluate_rows(cand, idx).square().sum(-1)
        better = new < old
        q[idx] = torch.where(better[:, None], cand, q[idx])
        lam[idx] = torch.where(better, lam[idx] * 0.3, lam[idx] * 10.0).clamp(1e-9, 1e6)
        # A frame is done when a successful step gains less than 1e-7 of its cost (or the
        # damping has grown so large that no step helps).
        done = (better & (old - new < 1e-7 * old + 1e-16)) | (lam[idx] >= 1e6)
        active[idx[done]] = False
    return q
