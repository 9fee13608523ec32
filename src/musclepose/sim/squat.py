"""A parametric bodyweight squat on the standard body, feet planted and flat.

Sagittal-plane kinematics (angles about Z, positive = the distal end moves forward):
with knee flexion ``k(t)`` the shank leans forward by ``shank_lean * k`` (the knees travel
over the toes), the thigh's absolute angle is ``k - shank_lean * k``, the pelvis tilts
anteriorly by ``pelvis_tilt * k`` and the ankle dorsiflexes exactly enough to keep the
foot flat. The root translation is then solved so that both ankle joint centres stay where
they are when standing (no foot skating by construction). Each repetition is a raised
cosine in time (zero velocity and acceleration jumps avoided at the turning points).
Typical bodyweight squats reach 90-120 deg of knee flexion with about 30-40 deg of ankle
dorsiflexion (e.g. Schoenfeld 2010, *J Strength Cond Res* 24:3497).
"""

from __future__ import annotations

import numpy as np
import torch

from ..body import Body, forward_kinematics
from ..motion import Motion

__all__ = ["squat_motion"]


def squat_motion(
    body: Body,
    reps: int = 3,
    depth_deg: float = 100.0,
    rep_s: float = 3.0,
    rest_s: float = 0.5,
    fps: float = 100.0,
    shank_lean: float = 0.35,
    pelvis_tilt: float = 0.35,
    trunk_flexion: float = 0.15,
    arm_raise: float = 0.8,
) -> Motion:
    """Generate ``reps`` squats to ``depth_deg`` of knee flexion as a :class:`Motion`."""
    if reps < 1 or depth_deg <= 0 or rep_s <= 0 or rest_s < 0 or fps <= 0:
        raise ValueError("reps >= 1, depth_deg > 0, rep_s > 0, rest_s >= 0 and fps > 0 are required")
    period = rep_s + rest_s
    t = np.arange(int(round((reps * period + rest_s) * fps)) + 1) / fps
    phase = np.clip((t - rest_s) % period, 0, None)
    active = (t >= rest_s) & (phase < rep_s) & (t < rest_s + reps * period)
    k = np.where(active, 0.5 * (1 - np.cos(2 * np.pi * phase / rep_s)), 0.0) * np.radians(depth_deg)

    q = np.zeros((len(t), body.n_dof))
    col = body.dof_index
    tilt = -pelvis_tilt * k  # anterior tilt is negative about +Z
    thigh = (1.0 - shank_lean) * k
    q[:, col("pelvis_tilt")] = tilt
    for s in ("r", "l"):
        q[:, col(f"hip_flexion_{s}")] = thigh - tilt
        q[:, col(f"knee_flexion_{s}")] = k
        q[:, col(f"ankle_dorsiflexion_{s}")] = shank_lean * k
        q[:, col(f"shoulder_flexion_{s}")] = arm_raise * k
    q[:, col("lumbar_flexion")] = trunk_flexion * k
    q[:, col("thoracic_flexion")] = 0.5 * trunk_flexion * k

    # Root translation that keeps the ankles where they are standing.
    qt = torch.tensor(q)
    foot = body.segment_index("foot_r")
    stand = forward_kinematics(body, body.neutral_q()).origins[foot]
    ankle = forward_kinematics(body, qt).origins[:, foot]
    qt[:, 0:3] = stand - ankle
    return Motion(qt, float(fps), body, {"source": "musclepose.sim.squat_motion", "exercise": "squat", "reps": reps})
