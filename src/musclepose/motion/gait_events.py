"""Gait events of a motion: heel strikes by the foot-velocity threshold method.

O'Connor et al. (2007), Gait Posture 25:469; thresholds from walking at 1-1.5 m/s.
"""

from __future__ import annotations

import numpy as np
import torch

from ..body import forward_kinematics
from .core import Motion

__all__ = ["heel_strikes"]


def heel_strikes(
    motion: Motion,
    speed_threshold: float = 0.5,
    min_swing_s: float = 0.15,
    min_stride_m: float = 0.15,
) -> dict[str, np.ndarray]:
    """Heel-strike frames of each foot by the foot-velocity threshold method.

    The heel landmark's horizontal speed (m/s, 4-frame central difference after a 6 Hz
    moving-average smoothing) splits each foot's trajectory into stance (below
    ``speed_threshold``) and swing. A heel strike is the first stance frame after a swing
    that lasted at least ``min_swing_s`` and carried the heel at least ``min_stride_m``
    horizontally, so that shuffles, weight shifts and crouching do not count (the usual
    velocity-threshold event detection of O'Connor et al. 2007, Gait Posture 25:469, and
    of the foot-velocity algorithm; thresholds from walking at 1-1.5 m/s).

    Returns ``{"right": frames, "left": frames}`` (0-based, ascending).
    """
    with torch.no_grad():
        fk = forward_kinematics(motion.body, motion.q.detach().to(torch.float64).cpu())
    fps = float(motion.fps)
    win = max(1, round(fps / 6.0))
    out = {}
    for side in ("right", "left"):
        p = fk.landmarks[:, motion.body.landmark_indices([f"{side}_heel"])[0]].numpy()[:, [0, 2]]
        ker = np.ones(win) / win
        ps = np.stack([np.convolve(np.pad(p[:, k], win, mode="edge"), ker, "same")[win:-win] for k in range(2)], 1)
        v = np.gradient(ps, axis=0) * fps
        speed = np.linalg.norm(v, axis=-1)
        swing = speed > speed_threshold
        strikes = []
        t = 0
        while t < len(swing):
            if swing[t]:
                s = t
                while t < len(swing) and swing[t]:
                    t += 1
                if t < len(swing) and (t - s) / fps >= min_swing_s and np.linalg.norm(ps[t] - ps[s]) >= min_stride_m:
                    strikes.append(t)
            t += 1
        out[side] = np.array(strikes, dtype=int)
    return out
