"""The temporal pass of marker IK: a person who stays continuous in time (see :func:`~.ik.solve_ik`).

Runs of frames that flipped to another solution and back are bridged; all frames are then solved
together with a velocity prior on joint speeds beyond a human limit, as one block-tridiagonal
Gauss-Newton system per step (banded Cholesky, ``scipy.linalg.solveh_banded``); outlier marker
samples are rejected per frame (iteratively reweighted least squares with 0/1 weights).
Conventions: as :mod:`.ik_problem`; ``q (T, 47)``, frames along dimension 0.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from scipy.linalg import solveh_banded
from threadpoolctl import threadpool_limits

from ..body import Body
from .ik_problem import JUMP_RAD, FitProblem, marker_errors
from .marker_set import MarkerSet
from .quality import Issue, intervals

__all__ = ["SPEED_LIMIT_DEG_S", "VELOCITY_WEIGHT", "temporal_pass"]

#: Weight (m^2 of marker error per (rad/s)^2, per frame) of the velocity prior of the temporal pass
#: on the excess of a joint's speed over :data:`SPEED_LIMIT_DEG_S`.
VELOCITY_WEIGHT = 1e-4
#: Joint speeds (deg/s) and root speeds (m/s) the velocity prior leaves free: above the fastest joint
#: motions of sport outside throwing (kicking, sprinting: ~1,500 deg/s), below every flip to another
#: solution of the fit (tens of degrees in one frame: thousands of deg/s).
SPEED_LIMIT_DEG_S = 1500.0
SPEED_LIMIT_MPS = 10.0
#: Share of the velocity weight on the whole step (a weak smoothing of what the markers barely see).
SMOOTH_SHARE = 1e-4
#: Longest run (s) of frames in another local minimum that the temporal pass bridges by interpolation.
FLIP_MAX_S = 0.25
_REJECT_ROUNDS = 3


def _bridge_flips(q: torch.Tensor, fps: float, max_step: float = JUMP_RAD) -> tuple[torch.Tensor, list[Issue]]:
    """Replace runs of at most :data:`FLIP_MAX_S` that jump away (a step above ``max_step``) and
    jump back (to within half the jump of where they left) by linear interpolation, per DoF."""
    x = q.numpy().copy()
    longest = max(1, int(round(FLIP_MAX_S * fps)))
    step = np.diff(x[:, 3:], axis=0)
    flagged = np.zeros(len(x), dtype=bool)
    for j in range(step.shape[1]):
        s = step[:, j]
        big = np.flatnonzero(np.abs(s) > max_step)
        done_to = -1
        for k in big:
            if k <= done_to:
                continue
            for e in big[(big > k) & (big <= k + longest)]:
                if np.sign(s[e]) != np.sign(s[k]) and abs(x[e + 1, j + 3] - x[k, j + 3]) <= 0.5 * min(
                    abs(s[k]), abs(s[e])
                ):
                    x[k + 1 : e + 1, j + 3] = np.interp(
                        np.arange(k + 1, e + 1), [k, e + 1], [x[k, j + 3], x[e + 1, j + 3]]
                    )
                    flagged[k + 1 : e + 1] = True
                    done_to = e
                    break
    issues = [Issue("IK flip", a, b, "another solution of the marker fit, bridged", repaired=True)
              for a, b in intervals(flagged)]  # fmt: skip
    return torch.tensor(x), issues


def _auto_segment_weights(body: Body, ms: MarkerSet, err: np.ndarray) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        per_marker = np.nanmedian(err, axis=0)
        ref = float(np.nanmedian(per_marker))
        out = {}
        for s in np.unique(ms.segments):
            e = float(np.nanmedian(per_marker[ms.segments == s]))
            out[body.segment_names[s]] = float(np.clip((ref / e) ** 2, 0.25, 1.0)) if np.isfinite(e) and e > 0 else 1.0
    return out


def _reject_outliers(err: np.ndarray) -> np.ndarray:
    """Samples ``(T, M)`` beyond ``median + max(4 MAD * 1.4826, 2 cm)`` of their marker's error."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(err, axis=0)
        mad = 1.4826 * np.nanmedian(np.abs(err - med), axis=0)
    limit = np.nan_to_num(med + np.maximum(4.0 * mad, 0.02), nan=np.inf)
    return np.nan_to_num(err, nan=0.0) > limit


def temporal_pass(body, ms, y, mask, q, fps, settings, segment_weights, velocity_weight, iterations):
    """Bridge flips, reject outlier markers, weight segments and solve all frames together (see
    :func:`solve_ik`'s Notes). Returns ``q``, rejected samples, the segment weights and issues."""
    q, issues = _bridge_flips(q, fps)
    err = marker_errors(body, ms, y, mask, q)
    if segment_weights == "auto":
        seg_w = _auto_segment_weights(body, ms, err)
    else:
        seg_w = {body.segment_names[s]: 1.0 for s in np.unique(ms.segments)}
        seg_w.update(dict(segment_weights or {}))
    per_marker = np.array([seg_w.get(body.segment_names[s], 1.0) for s in ms.segments])
    prob = FitProblem(body, ms, y, mask * per_marker[None], *settings)
    q = _solve_over_time(prob, q, fps, velocity_weight, max(10, iterations // 2))
    rejected = np.zeros_like(mask)
    for _ in range(_REJECT_ROUNDS):
        # One sample per frame per round, the worst: an outlier drags the fit, so the other markers
        # of its frame fit worse until it is gone.
        err = np.where(rejected, np.nan, marker_errors(body, ms, y, mask, q))
        worst = err == np.nanmax(np.where(np.isfinite(err), err, -np.inf), axis=1, keepdims=True)
        new = _reject_outliers(err) & worst
        if not new.any():
            break
        rejected |= new
        prob.set_weights(mask * ~rejected * per_marker[None])
        q = _solve_over_time(prob, q, fps, velocity_weight, max(10, iterations // 2))
    return q, rejected, seg_w, issues


def _banded_layout(t: int, n: int):
    """Index arrays to write ``t`` symmetric ``n x n`` diagonal blocks into upper banded storage (u = n)."""
    ii, jj = np.triu_indices(n)
    rows = n + ii - jj
    cols = (np.arange(t)[:, None] * n + jj[None]).ravel()
    return ii, jj, np.tile(rows, t), cols


def _velocity_terms(q: np.ndarray, fps: float, velocity_weight: float, free: np.ndarray):
    """The velocity prior between consecutive frames, per DoF: a weak quadratic
    ``SMOOTH_SHARE * velocity_weight * (fps d)^2`` plus ``velocity_weight * (fps e)^2`` on the
    excess ``e`` of the step ``d`` beyond the speed limit. Returns the cost, its gradient ``(T, 47)``
    and the Gauss-Newton curvature of each pair ``(T-1, 47)``."""
    lam = velocity_weight * fps**2
    limit = np.where(np.arange(q.shape[1]) < 3, SPEED_LIMIT_MPS, np.radians(SPEED_LIMIT_DEG_S)) / fps
    d = (q[1:] - q[:-1]) * free
    excess = np.sign(d) * np.maximum(np.abs(d) - limit, 0.0)
    w = lam * (SMOOTH_SHARE + (excess != 0)) * free
    cost = float(lam * (SMOOTH_SHARE * (d * d).sum() + (excess * excess).sum()))
    pull = lam * (SMOOTH_SHARE * d + excess)
    grad = np.zeros_like(q)
    grad[1:] += pull
    grad[:-1] -= pull
    return cost, grad, w


def _solve_over_time(prob: FitProblem, q: torch.Tensor, fps: float, velocity_weight: float, iterations: int):
    """Gauss-Newton with Levenberg-Marquardt damping over all frames at once with the velocity prior
    (:func:`_velocity_terms`; one block-tridiagonal system per step)."""
    t, n = q.shape
    free = prob.free.numpy()
    ii, jj, rows, cols = _banded_layout(t, n)

    def cost(q):
        return float(prob.residuals(q).square().sum()) + _velocity_terms(q.numpy(), fps, velocity_weight, free)[0]

    mu = 1e-3
    current = cost(q)
    for _ in range(iterations):
        _, a, g = prob.normal_equations(q)
        a, g = a.numpy(), g.numpy()
        _, grad, w = _velocity_terms(q.numpy(), fps, velocity_weight, free)
        g = g + grad
        diag = np.zeros((t, n))
        diag[1:] += w
        diag[:-1] += w
        a = a + mu * (np.einsum("tii->ti", a)[..., None] * np.eye(n)) + np.eye(n) * 1e-9
        a[:, np.arange(n), np.arange(n)] += diag + (1.0 - free) * 1.0
        ab = np.zeros((n + 1, t * n))
        ab[rows, cols] = a[:, ii, jj].ravel()
        ab[0, n:] = -w.ravel()  # coupling of q_t[k] with q_(t+1)[k]
        try:
            # One BLAS thread: OpenBLAS's threaded banded Cholesky spins on these thin blocks
            # (measured 0.5-4.5 s per solve on 2 cores against 7 ms on one).
            with threadpool_limits(1, user_api="blas"):
                step = solveh_banded(ab, -g.ravel(), check_finite=False).reshape(t, n)
        except np.linalg.LinAlgError:
            mu *= 10.0
            continue
        cand = prob.project(q + torch.tensor(step * free))
        new = cost(cand)
        if new < current:
            gain = current - new
            q, current, mu = cand, new, max(mu * 0.3, 1e-9)
            if gain < 1e-7 * current:
                break
        else:
            mu *= 10.0
            if mu > 1e6:
                break
    return q
