"""Inverse kinematics: marker or 3D keypoint trajectories -> ``q``, all frames at once in torch.

:func:`solve_ik` minimises over ``q (T, 47)`` the weighted marker error
``sum_t sum_m w_m |x_m(q_t) - y_tm|^2`` (missing samples masked), soft range-of-motion limits and
a prior pulling DoF that no marker observes toward zero, by batched Levenberg-Marquardt
(Marquardt 1963) with the analytic marker Jacobian, every frame from its own start. A second
pass keeps the person continuous in time: short flips to another local minimum are bridged,
outlier markers are rejected per frame, segments are weighted by how well their markers fit, and
all frames are solved together with a velocity prior (one banded Gauss-Newton system over
time). :class:`IKResult` carries the per-frame fit quality (:class:`~.quality.FrameQuality`,
also on the motion). Conventions: world Y-up, metres, radians, ``q`` as in
:mod:`musclepose.body.skeleton`.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from ..body import Body
from .core import Motion
from .ik_problem import JUMP_RAD, FitProblem, levenberg_marquardt, marker_errors
from .ik_temporal import VELOCITY_WEIGHT, temporal_pass
from .marker_set import MarkerSet, initial_pose
from .quality import FrameQuality, Issue, intervals

__all__ = ["POOR_FIT_M", "IKResult", "solve_ik"]

#: A frame whose marker RMS exceeds this fits poorly: best-practice guidance for marker IK is an
#: RMS below 1-2 cm and no marker beyond 2-4 cm (Hicks et al. 2015, J Biomech Eng 137:020905).
POOR_FIT_M = 0.04


@dataclass(frozen=True)
class IKResult:
    """Inverse kinematics output.

    Attributes
    ----------
    motion : Motion
        The solved joint angles, with ``quality`` (per-frame fit error and flagged frames).
    rms_m : np.ndarray, (T,)
        Root-mean-square marker error per frame (m), over the markers kept in that frame.
    marker_rms_m : dict[str, float]
        RMS error per marker over the trial (m), frames where it was rejected included.
    iterations : int
    seconds : float
    rejected : np.ndarray, (T, M) bool or None
        Marker samples rejected as outliers (columns in the order of ``marker_rms_m``).
    segment_weights : dict[str, float]
        The per-segment weight multipliers the temporal pass used.
    """

    motion: Motion
    rms_m: np.ndarray
    marker_rms_m: dict[str, float]
    iterations: int
    seconds: float
    rejected: np.ndarray | None = None
    segment_weights: dict[str, float] | None = None

    @property
    def quality(self) -> FrameQuality | None:
        return self.motion.quality


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
    *,
    segment_weights: Mapping[str, float] | str | None = None,
    temporal: bool = True,
    velocity_weight: float = VELOCITY_WEIGHT,
    poor_fit_m: float = POOR_FIT_M,
) -> IKResult:
    """Joint angles for measured marker trajectories, continuous in time.

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
        Pull toward zero of DoF that no marker observes (and a weak one on the spine and the
        shoulder girdle).
    smoothness
        Weight of each frame's deviation from the mean of its two neighbours in the first,
        per-frame pass (per rad^2 or m^2, against marker errors in m^2).
    iterations
        Levenberg-Marquardt iterations (batched over frames).
    locked
        DoF name -> value (m or rad) held fixed, as OpenSim's locked coordinates: e.g. to
        solve on the DoFs of a planar model for a like-for-like comparison with it.
    segment_weights
        Per-segment multipliers of the marker weights in the temporal pass (segment name ->
        weight); ``"auto"``: from the first pass, each segment's weight is
        ``clip((e_ref / e_seg)^2, 0.25, 1)`` with ``e_seg`` its markers' median error and
        ``e_ref`` the median over all markers, so that soft-tissue clusters (trunk, arms) that fit
        worse do not pull the segments that fit well; None (default): all 1. On squats1 "auto"
        moved hip flexion away from OpenSim's (RMSE 1.9 -> 3.5 deg), so it is not the default.
    temporal
        Run the temporal pass (module docstring); False gives the independent per-frame fits.
    velocity_weight
        Weight of the velocity prior (m^2 of marker error per (rad/s)^2 of speed beyond
        :data:`~.ik_temporal.SPEED_LIMIT_DEG_S`, per frame): 1e-4 costs a flip of 2 rad in one frame at 100 Hz
        ~3 m^2, about a thousand times a frame's marker error.
    poor_fit_m
        A frame whose marker RMS (over the markers kept) exceeds this is flagged as a poor fit.

    Notes
    -----
    First pass: Levenberg-Marquardt (Marquardt 1963) on the per-frame weighted residuals
    (markers, soft range-of-motion limits, the prior), the marker Jacobian analytic
    (:meth:`~.ik_problem.FitProblem.normal_equations`), batched over frames. Limb DoF are held within their range of
    motion plus 10 deg (projected steps); the spine's ranges stay soft. Frames that jumped by
    more than 15 deg in a DoF to another local minimum are re-solved from their predecessor
    (:func:`_repair_jumps`).

    Temporal pass (:func:`~.ik_temporal.temporal_pass`): runs of at most 0.25 s that jump away and back
    are replaced by interpolation (a start in the right basin); then every frame is solved
    together with a velocity prior coupling neighbours (:func:`~.ik_temporal._velocity_terms`: a hinge on each
    joint's speed beyond :data:`~.ik_temporal.SPEED_LIMIT_DEG_S`, so that no human movement is slowed and no
    frame can jump to another solution, plus a 1e-4 share of a plain quadratic that smooths what
    the markers barely see), by Gauss-Newton with Levenberg-Marquardt damping on one
    block-tridiagonal system (a banded Cholesky solve, bandwidth 47,
    ``scipy.linalg.solveh_banded``), accepted when the total cost falls. Outlier samples are then
    rejected, the worst of each frame per round, while it lies beyond
    ``median + max(4 MAD, 2 cm)`` of its marker's errors, and all frames solved again without
    them (at most three rounds: iteratively reweighted least squares with 0/1 weights).
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
    settings = (limit_weight, prior_weight, free)
    prob = FitProblem(body, ms, y, mask.astype(np.float64), *settings, smoothness=smoothness)
    q = levenberg_marquardt(prob, torch.tensor(q_init), iterations)
    q = _repair_jumps(prob, q, max(8, iterations // 3))
    rejected = np.zeros_like(mask)
    seg_w = {body.segment_names[s]: 1.0 for s in np.unique(ms.segments)}
    issues: list[Issue] = []
    if temporal and y.shape[0] >= 3:
        q, rejected, seg_w, issues = temporal_pass(
            body, ms, y, mask, q, fps, settings, segment_weights, velocity_weight, iterations
        )
    elif isinstance(segment_weights, Mapping):
        seg_w.update(segment_weights)
    err = marker_errors(body, ms, y, mask, q)
    # The fit quality counts the markers that were fitted: weight-0 markers (tracking clusters whose
    # model positions are placeholders until a static trial places them) are only reported.
    kept = np.where(rejected | (ms.weights[None] <= 0), np.nan, err)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rms = np.sqrt(np.nanmean(kept**2, axis=1))
        per_marker = {n: float(np.sqrt(np.nanmean(err[:, i] ** 2))) for i, n in enumerate(common)}
    quality = fit_quality(rms, rejected, common, poor_fit_m, issues)
    meta = {"source": "inverse kinematics", "markers": common, **(metadata or {})}
    motion = Motion(q.clone(), float(fps), body, meta, quality)
    return IKResult(motion, rms, per_marker, iterations, time.perf_counter() - t0, rejected, seg_w)


def fit_quality(
    rms: np.ndarray, rejected: np.ndarray, names: list[str], poor_fit_m: float = POOR_FIT_M,
    issues: list[Issue] | None = None,
) -> FrameQuality:  # fmt: skip
    """Flags from the per-frame marker RMS ``(T,)`` and rejected samples ``(T, M)``.

    A frame is a poor fit when its RMS exceeds ``poor_fit_m``, or when more than a quarter of its
    markers were rejected; the issue names the worst markers. A whole trial fitting poorly (its
    median above the threshold) is one issue over every frame, with the likely cause.
    """
    t = len(rms)
    quality = FrameQuality(np.zeros(t, dtype=bool), np.asarray(rms, dtype=np.float64))
    found = list(issues or [])
    many = rejected.sum(1) > 0.25 * rejected.shape[1]
    poor = np.nan_to_num(rms, nan=np.inf) > poor_fit_m
    med = float(np.nanmedian(rms)) if np.isfinite(rms).any() else float("nan")
    if np.mean(poor) > 0.5:
        why = "the body or the marker placement does not match the subject: scale with a static trial"
        found.append(Issue("poor marker fit", 0, t - 1, f"median {1000 * med:.0f} mm RMS over the trial ({why})"))
    else:
        for a, b in intervals(poor | many):
            worst = np.argsort(-rejected[a : b + 1].sum(0))[:3]
            who = [names[k] for k in worst if rejected[a : b + 1, k].any()]
            detail = f"{1000 * np.nanmax(np.where(np.isfinite(rms[a : b + 1]), rms[a : b + 1], 0)):.0f} mm RMS"
            if who:
                detail += f", rejected {', '.join(who)}"
            found.append(Issue("poor marker fit", a, b, detail))
    return quality.with_issues(found)


_REPAIR_PASSES = 20


def _marker_cost(prob: FitProblem, q: torch.Tensor, idx=None) -> np.ndarray:
    m = prob.w.shape[1] * 3
    return prob.residuals(q, idx)[:, :m].square().sum(-1).numpy()


def _repair_jumps(prob: FitProblem, q: torch.Tensor, iterations: int, max_step: float = JUMP_RAD) -> torch.Tensor:
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
    q = q.clone()
    t = q.shape[0]
    if t < 2:
        return q
    smooth, prob.sqrt_s = prob.sqrt_s, 0.0
    cost = _marker_cost(prob, q)
    tried = np.zeros(t, dtype=bool)
    slack = 1e-6 * (prob.w[..., 0] > 0).sum(1).numpy()
    for _ in range(_REPAIR_PASSES):
        step = (q[1:, 3:] - q[:-1, 3:]).abs().amax(-1).numpy()
        frames = np.flatnonzero((step > max_step) & ~tried[1:]) + 1
        if frames.size == 0:
            break
        tried[frames] = True
        # Warm-started from a neighbour, a frame converges in a few steps.
        idx = torch.as_tensor(frames)
        new = levenberg_marquardt(prob, q[frames - 1].clone(), iterations, idx)
        new_cost = _marker_cost(prob, new, idx)
        jump_new = (new[:, 3:] - q[frames - 1, 3:]).abs().amax(-1).numpy()
        ok = (new_cost <= 1.25 * cost[frames] + slack[frames]) & (jump_new < step[frames - 1])
        keep = frames[ok]
        q[keep] = new[ok]
        cost[keep] = new_cost[ok]
        nxt = keep + 1
        tried[nxt[nxt < t]] = False  # a repaired frame's successor may now be the jump
    prob.sqrt_s = smooth
    return q
