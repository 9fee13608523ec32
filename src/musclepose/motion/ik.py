"""Inverse kinematics: markers or 3D keypoints -> ``q``, and body scaling from a static trial.

Both problems are weighted least squares on the body's forward kinematics, solved for all
frames at once in torch (float64):

- **Tracking** (:func:`solve_ik`): minimise over ``q (T, 47)``
  ``sum_t sum_m w_m |x_m(q_t) - y_tm|^2`` (missing samples masked)
  ``+ lambda_s * sum_t |q_t - (q_(t-1) + q_(t+1)) / 2|^2`` (temporal smoothness)
  ``+ lambda_lim * sum |violation of the range of motion|^2``
  ``+ lambda_prior * sum_k p_k q_k^2`` on DoF no marker observes (e.g. the neck without
  head markers), so that the solution is unique, by batched Levenberg-Marquardt (Marquardt
  1963) with the analytic marker Jacobian. The root pose is initialised per frame from the
  markers on the pelvis (Kabsch 1976), and each limb segment with three or more markers is
  initialised the same way, so that large joint angles (a deep squat) start near the answer.
- **Scaling** (:func:`scale_to_static`): minimise the same marker error over one static
  pose and per-group scale factors (pelvis, trunk, upper arm, forearm, thigh, shank, foot;
  left and right share one factor) that stretch the segments' joint offsets and the
  markers' local positions together, as OpenSim's scale tool does with marker pairs; one
  pose, so L-BFGS (Nocedal & Wright 2006, ch. 7) with a strong Wolfe line search suffices.

Where markers are ``(segment, local position)`` pairs: a :class:`MarkerSet`. They come
from an OpenSim model (:mod:`musclepose.io.osim_model`), from the body's own virtual
landmarks (keypoints), or from any other source.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import torch

from ..body import Body, forward_kinematics
from ..body.kinematics import joint_matrices, parent_rotations, segment_rotations
from ..body.rotations import matrix_to_euler_zxy
from .core import Motion

STATIC_ZERO = ("lumbar_", "thoracic_", "neck_", "scapula_")
SPINE_LIMIT_SCALE = 1e-2
HARD_MARGIN = float(np.radians(10.0))
__all__ = ["IKResult", "MarkerSet", "SCALE_GROUPS", "scale_to_static", "solve_ik"]

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
        s = _segment_scales(body, factors)
        return MarkerSet(self.names, self.segments, self.local * s[self.segments, None], self.weights)


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


def _segment_scales(body: Body, factors: dict[str, float] | torch.Tensor):
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


def _initial_q(body: Body, markers: MarkerSet, y: np.ndarray) -> np.ndarray:
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
        _set_joint(body, q, s, rel)
    if have[0]:  # root rotation; its translation came from the pelvis fit (ref has the root at 0)
        q[:, 3:6] = matrix_to_euler_zxy(torch.tensor(rots[:, 0])).numpy()
    return np.unwrap(q, axis=0)


def _set_joint(body: Body, q: np.ndarray, segment: int, rel: np.ndarray) -> None:
    """Write the DoF of ``segment``'s joint in ``q (T, 47)`` from joint rotations ``rel (T, 3, 3)``."""
    e = matrix_to_euler_zxy(torch.tensor(rel)).numpy()  # Z, X, Y about the unsigned axes
    joint = next(j for j in body.joints if j.segment == segment)
    for d in joint.dofs:
        axis = int(np.argmax(np.abs(d.axis)))
        q[:, body.dof_index(d.name)] = np.sign(d.axis[axis]) * e[:, {2: 0, 0: 1, 1: 2}[axis]]


def _flat_feet(body: Body, q: np.ndarray) -> np.ndarray:
    """The same pose with each foot turned flat (sole horizontal), keeping its heading."""
    q = q.copy()[None]
    fk = forward_kinematics(body, torch.tensor(q))
    for side in ("r", "l"):
        foot, shank = body.segment_index(f"foot_{side}"), body.segment_index(f"shank_{side}")
        x = fk.rotations[0, foot, :, 0].numpy()
        psi = np.arctan2(-x[2], x[0])
        flat = np.array([[np.cos(psi), 0.0, np.sin(psi)], [0.0, 1.0, 0.0], [-np.sin(psi), 0.0, np.cos(psi)]])
        rel = fk.rotations[0, shank].numpy().T @ flat
        _set_joint(body, q, foot, rel[None])
    return q[0]


def _unobserved_dofs(body: Body, markers: MarkerSet) -> np.ndarray:
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
    return prior


def _lbfgs(params, closure, max_iter: int, tol: float) -> int:
    opt = torch.optim.LBFGS(
        params, lr=1.0, max_iter=max_iter, history_size=50, tolerance_grad=tol, tolerance_change=1e-14,
        line_search_fn="strong_wolfe",
    )  # fmt: skip
    opt.step(closure)
    return int(opt.state[opt._params[0]]["n_iter"])


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
    import time

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
    q_init = _initial_q(body, ms, y) if q0 is None else np.array(q0, dtype=np.float64)
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
    from ..body.model import JOINT_DOF_SLOTS

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
    from ..body.kinematics import joint_rotations, parent_rotations, segment_rotations

    lo = torch.tensor(np.where(np.isfinite(body.dof_lower), body.dof_lower, -1e9))
    hi = torch.tensor(np.where(np.isfinite(body.dof_upper), body.dof_upper, 1e9))
    prior = torch.tensor(np.sqrt(prior_weight * _unobserved_dofs(body, ms)))
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


def scale_to_static(
    body: Body,
    markers: MarkerSet,
    names: list[str] | tuple[str, ...],
    positions: np.ndarray,
    mass_kg: float | None = None,
    max_iter: int = 300,
    register: bool = True,
    flat_feet: bool = False,
) -> tuple[Body, MarkerSet, dict[str, float], np.ndarray]:
    """Scale ``body`` and ``markers`` to a static trial, then place the markers.

    ``positions (T, M, 3)`` are averaged over frames (NaN ignored) into one standing pose.
    The static pose and the scale factors are fitted with the markers of non-zero weight
    (give zero weight to markers whose model position is only a placeholder, such as
    tracking clusters). With ``register``, every marker seen in the static trial is then
    moved to where it was observed, in its segment's frame at the fitted pose (OpenSim's
    scale tool does the same for its "unfixed" markers).

    Returns the scaled body (masses from ``mass_kg`` or the original), the scaled and
    registered marker set (all weights 1), the scale factor per group
    (:data:`SCALE_GROUPS`) and the static pose ``q (47,)``.
    """
    common = [n for n in markers.names if n in set(names)]
    ms = markers.subset(common)
    fit = ms.weights > 0
    if fit.sum() < 6:
        got = [n for n, f in zip(common, fit, strict=True) if f]
        raise ValueError(f"scaling needs at least 6 weighted markers; got {got}")
    col = {n: i for i, n in enumerate(names)}
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: markers absent throughout
        y = np.nanmean(np.asarray(positions, dtype=np.float64)[:, [col[n] for n in common]], axis=0)
    mask = np.isfinite(y).all(-1) & fit
    fit_set = ms.subset([n for n, m in zip(common, mask, strict=True) if m])
    q_init = _initial_q(body, fit_set, y[mask][None])[0]
    q = torch.tensor(q_init, requires_grad=True)
    log_s = torch.zeros(len(SCALE_GROUPS), dtype=torch.float64, requires_grad=True)
    bt = body.tensors(torch.float64)
    parent = torch.tensor([max(p, 0) for p in body.parents])
    y_t = torch.tensor(np.where(mask[:, None], y, 0.0))
    m_t = torch.tensor(mask * ms.weights, dtype=torch.float64)
    local0 = torch.tensor(ms.local)
    prior = torch.tensor(_unobserved_dofs(body, fit_set))
    # Standing upright defines zero for the spine, neck and shoulder girdle: they are fitted
    # freely (so that trunk markers do not tilt the pelvis) and set to 0 for the registration.
    free = torch.tensor([not n.startswith(STATIC_ZERO) for n in body.dof_names], dtype=torch.float64)
    lo = torch.tensor(np.where(np.isfinite(body.dof_lower), body.dof_lower, -1e9))
    hi = torch.tensor(np.where(np.isfinite(body.dof_upper), body.dof_upper, 1e9))

    def closure():
        q.grad = None
        log_s.grad = None
        s = _segment_scales(body, torch.exp(log_s))
        offsets = bt.offsets * s[parent][:, None]
        local = local0 * s[torch.as_tensor(ms.segments)][:, None]
        x = marker_positions(body, q, ms, offsets=offsets, local=local)
        loss = (((x - y_t) ** 2).sum(-1) * m_t).sum() / m_t.sum()
        viol = torch.relu(q - hi) + torch.relu(lo - q)
        loss = loss + 1e-2 * (prior * q.square()).sum() + 1e-4 * log_s.square().sum() + viol.square().sum()
        loss.backward()
        return loss

    _lbfgs([q, log_s], closure, max_iter, 1e-12)
    factors = {g: float(v) for g, v in zip(SCALE_GROUPS, torch.exp(log_s).detach().numpy(), strict=True)}
    lengths = dict(body.lengths)
    for g, (_, keys) in SCALE_GROUPS.items():
        for k in keys:
            lengths[k] = lengths[k] * factors[g]
    scaled = Body.from_segment_lengths(lengths, mass_kg or body.mass_kg, body.sex)
    out = ms.scaled(body, factors)
    q_static = (q * free).detach()
    if flat_feet:
        q_static = torch.tensor(_flat_feet(scaled, q_static.numpy()))
    if register:
        fk = forward_kinematics(scaled, q_static)
        seen = np.isfinite(y).all(-1)
        local = out.local.copy()
        for k in np.flatnonzero(seen):
            i = out.segments[k]
            local[k] = fk.rotations[i].numpy().T @ (y[k] - fk.origins[i].numpy())
        out = MarkerSet(out.names, out.segments, local, np.ones(len(out.names)))
    return scaled, out, factors, q_static.numpy()
