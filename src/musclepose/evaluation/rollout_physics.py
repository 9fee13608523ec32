"""Physics of predicted motion: foot skating, ground penetration and the root residual force.

What motion-prediction papers do not report: whether a predicted continuation could be
performed by a body standing on a floor. Measured on our body (:mod:`musclepose.body`), floor at
``y = 0`` (where :func:`~musclepose.motion.keypoint_ik.keypoint_ik` puts retargeted recordings):

- **foot skating** (cm/s): the mean horizontal speed of the sole points (heel, metatarsal
  heads, toe tip; :func:`~musclepose.body.contact.sole_points`) over the frames in which they are
  within 2 cm of the floor; a planted foot does not slide;
- **ground penetration** (mm): the mean over frames of how far the lowest sole point is below
  the floor (0 when above);
- **root residual force** (% of body weight): the mean norm of the force on the pelvis that
  neither the joints nor the ground can supply, from our inverse dynamics with ground reactions
  estimated from the kinematics (6 Hz low-pass as :func:`~musclepose.motion.kinetics.compute_kinetics`,
  then :func:`~musclepose.body.grf.estimate_grf` with the floor held at ``y = 0``: left to itself
  the estimator puts the floor under the lowest foot, which would let a hovering body stand);
  a motion that a body on the floor cannot perform (hovering, gliding, falling without falling)
  needs a large one.

:func:`rollout_physics` seeds a predictor with windows of real motion, rolls it out for a
horizon, and measures the predicted and the real continuation the same way (each with the
last second of seed frames in front, so filters and derivatives see the same context; only the
continuation's frames are scored).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from ..body.contact import sole_points
from ..body.dynamics import root_residual
from ..body.grf import estimate_grf
from ..motion.core import Motion

__all__ = ["CONTACT_HEIGHT_M", "physics_metrics", "rollout_physics"]

CONTACT_HEIGHT_M = 0.02  # a sole point this close to the floor is in contact
G = 9.81


def _per_frame(motion: Motion) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sole-point horizontal speeds and heights ``(T, 6)`` and the root residual force as % BW ``(T,)``."""
    q = motion.q.detach().double()
    with torch.no_grad():
        pts = sole_points(motion.body, q).reshape(len(q), -1, 3).numpy()
    speed = np.linalg.norm(np.gradient(pts[..., [0, 2]], 1.0 / motion.fps, axis=0), axis=-1)
    mf = motion.filtered(6.0) if motion.n_frames > 27 else motion
    qd, qdd = mf.velocities()
    with torch.no_grad():
        est = estimate_grf(motion.body, mf.q, qd, qdd, floor_y=0.0)
        force, _ = root_residual(motion.body, mf.q, est.tau)
    residual = 100.0 * force.norm(dim=-1).numpy() / (float(motion.body.mass_kg) * G)
    return speed, pts[..., 1], residual


def _summary(speed: np.ndarray, height: np.ndarray, residual: np.ndarray) -> dict[str, float]:
    near = height < CONTACT_HEIGHT_M
    return {
        "foot_skating_cm_s": float(100.0 * speed[near].mean()) if near.any() else 0.0,
        "ground_penetration_mm": float(1000.0 * np.clip(-height.min(axis=1), 0.0, None).mean()),
        "root_residual_pct_bw": float(residual.mean()),
        "contact_fraction": float(near.mean()),
    }


def physics_metrics(motion: Motion, frames: slice = slice(None)) -> dict[str, float]:
    """Foot skating (cm/s), ground penetration (mm) and root residual force (% body weight) of
    ``motion``, scored on ``frames`` (all by default); see the module docstring."""
    speed, height, residual = _per_frame(motion)
    return _summary(speed[frames], height[frames], residual[frames])


def rollout_physics(
    motions: Sequence[Motion],
    predictors: dict[str, Callable[[np.ndarray, int], np.ndarray]],
    horizon_s: float = 1.0,
    seed_frames: int = 51,
    stride_s: float = 0.5,
    context_s: float = 1.0,
) -> dict[str, Any]:
    """Physics of each predictor's continuations and of the real ones over windows of ``motions``.

    ``predictors`` map ``seed q (N, seed_frames, 47) -> predicted q (N, steps, 47)`` at the
    motions' rate (the body model at 30 Hz, :class:`musclepose.pipelines.predict.MotionPredictor`).
    Returns ``{"real": metrics, name: metrics, ..., "windows": n, "horizon_s": ...}``, each
    metric averaged over windows, plus ``"last_quarter"``: the same over the horizon's last 25 %.
    """
    out: dict[str, list[dict[str, float]]] = {"real": [], **{n: [] for n in predictors}}
    late: dict[str, list[dict[str, float]]] = {k: [] for k in out}
    n = 0
    for m in motions:
        fps = m.fps
        steps = int(round(horizon_s * fps))
        ctx = int(round(context_s * fps))
        q = m.q.detach().double().numpy()
        starts = range(max(seed_frames, ctx), len(q) - steps + 1, max(1, int(round(stride_s * fps))))
        if not len(starts):
            continue
        seeds = np.stack([q[s - seed_frames : s] for s in starts])
        preds = {name: f(seeds, steps) for name, f in predictors.items()}
        for i, s in enumerate(starts):
            n += 1
            ctx_q = q[s - ctx : s]
            cands = {"real": q[s : s + steps], **{name: p[i] for name, p in preds.items()}}
            for name, cont in cands.items():
                arrays = _per_frame(Motion(torch.as_tensor(np.concatenate([ctx_q, cont])), fps, m.body))
                out[name].append(_summary(*(a[ctx:] for a in arrays)))
                late[name].append(_summary(*(a[ctx + (3 * steps) // 4 :] for a in arrays)))

    def mean(rows: list[dict[str, float]]) -> dict[str, float]:
        return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]} if rows else {}

    return {
        **{k: mean(v) for k, v in out.items()},
        "last_quarter": {k: mean(v) for k, v in late.items()},
        "windows": n,
        "horizon_s": horizon_s,
    }
