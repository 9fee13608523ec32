"""In-betweening error on real gaps: cut a gap out of a held-out recording, fill it, compare.

For each clip and gap length ``n`` the gaps start every ``stride`` frames with at least
``min_side`` real frames on either side (:func:`~musclepose.pipelines.inbetween.held_out_gaps`);
each method gets up to its context of frames before the gap and the rest of the clip after it.
Scored on the gap frames only, all on the clip's body:

- **MPJPE** (mm): mean distance of the 18 joint centres (global; and root-aligned, each frame's
  pelvis subtracted), :func:`~musclepose.pipelines.motion_features.joint_error_mm`;
- **joint angle error** (deg): mean geodesic angle between the true and filled rotation of each
  of the 17 joints relative to its parent (Huynh 2009, metric Phi_3 up to scale);
- **foot skating** (cm/s): mean horizontal speed of the sole points within 2 cm of the floor
  (as :mod:`.rollout_physics`), on the filled motion and on the real one.

Metrics are averaged over gaps, then reported per gap length.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from ..body import Body
from ..body.contact import sole_points
from ..pipelines.inbetween import held_out_gaps, segment_matrices
from ..pipelines.motion_features import joint_error_mm
from .rollout_physics import CONTACT_HEIGHT_M

__all__ = ["Filler", "foot_skating_cm_s", "gap_metrics", "joint_angle_error_deg", "score_inbetweening"]

#: ``(frames before the gap (Ta, 47), frames after it (Tb, 47), n) -> the gap (n, 47)``.
Filler = Callable[[np.ndarray, np.ndarray, int], np.ndarray]


def joint_angle_error_deg(q: np.ndarray, q_hat: np.ndarray) -> float:
    """Mean geodesic angle (deg) between the 17 joint rotations of ``q`` and ``q_hat`` ``(T, 47)``."""
    a, b = segment_matrices(q)[:, 1:], segment_matrices(q_hat)[:, 1:]
    cos = (np.trace(np.swapaxes(a, -1, -2) @ b, axis1=-2, axis2=-1) - 1.0) / 2.0
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))).mean())


def foot_skating_cm_s(body: Body, q: np.ndarray, fps: float, frames: slice) -> float:
    """Mean horizontal sole-point speed (cm/s) on ``frames`` of ``q (T, 47)`` where within 2 cm of
    the floor (0 when no point is)."""
    with torch.no_grad():
        pts = sole_points(body, torch.as_tensor(q, dtype=torch.float64)).reshape(len(q), -1, 3).numpy()
    speed = np.linalg.norm(np.gradient(pts[..., [0, 2]], 1.0 / fps, axis=0), axis=-1)[frames]
    near = pts[frames][..., 1] < CONTACT_HEIGHT_M
    return float(100.0 * speed[near].mean()) if near.any() else 0.0


def gap_metrics(body: Body, q: np.ndarray, g: int, n: int, fill: np.ndarray, fps: float) -> dict[str, float]:
    """Metrics of ``fill (n, 47)`` for the gap ``g .. g + n`` of the real ``q (T, 47)``."""
    true = q[g : g + n]
    lo, hi = max(0, g - 2), min(len(q), g + n + 2)  # two real frames each side for the speeds
    filled = np.concatenate([q[lo:g], fill, q[g + n : hi]])
    gap = slice(g - lo, g - lo + n)
    return {
        "mpjpe_mm": joint_error_mm(body, true, fill),
        "mpjpe_root_aligned_mm": joint_error_mm(body, true, fill, root_aligned=True),
        "joint_angle_deg": joint_angle_error_deg(true, fill),
        "foot_skating_cm_s": foot_skating_cm_s(body, filled, fps, gap),
        "real_foot_skating_cm_s": foot_skating_cm_s(body, q[lo:hi], fps, gap),
    }


def score_inbetweening(
    clips: Sequence[tuple[str, Body, np.ndarray]],
    methods: dict[str, Filler],
    gaps: Sequence[int],
    fps: float,
    context: int = 20,
    min_side: int = 4,
    stride: int | None = None,
) -> dict[str, Any]:
    """``{"<n>": {"gaps": k, "clips": [...], method: metrics, ...}, ...}`` over ``clips`` of
    ``(name, body, q (T, 47))`` at ``fps``; ``stride`` between gaps defaults to ``n // 2``."""
    out: dict[str, Any] = {}
    for n in gaps:
        per: dict[str, list[dict[str, float]]] = {m: [] for m in methods}
        used = []
        for name, body, q in clips:
            starts = held_out_gaps(len(q), n, min_side, stride or max(1, n // 2))
            if starts:
                used.append(name)
            for g in starts:
                a, b = q[max(0, g - context) : g], q[g + n :]
                for m, fill in methods.items():
                    per[m].append(gap_metrics(body, q, g, n, fill(a, b, n), fps))
        row: dict[str, Any] = {"gap_s": n / fps, "gaps": len(per[next(iter(methods))]), "clips": used}
        for m, rows in per.items():
            row[m] = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]} if rows else {}
        out[str(n)] = row
    return out
