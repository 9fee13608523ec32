"""CMU motion-prediction benchmark files (:mod:`.cmu_prediction`) onto our body by keypoint IK.

The benchmark's forward kinematics (root rotation and position applied) gives the skeleton's
joint positions; the hips, knees, ankles, toes, neck, shoulders, elbows and wrists
(:data:`~.cmu_prediction.POINTS`) become our points in metres with our axes (X anterior = the
file's z, Y up, Z right = the file's -x), the skeleton's root is placed on our pelvis from the
rest pose (:func:`musclepose.motion.retarget.rest_root_point`), and
:func:`~musclepose.motion.keypoint_ik.keypoint_ik` solves the pose at ``fps`` (default 30 Hz,
every 4th of the 120 Hz frames). A leading frame that jumps in a retargeted joint while the
next does not (every file of the training split starts with one) is dropped and noted in
``metadata["notes"]``; later glitches are left to :func:`~musclepose.io.load_motion`'s checks of
the solved motion (spikes repaired, impossible speeds flagged), as for every recording.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..motion.core import Motion
from ..motion.keypoint_ik import keypoint_ik
from ..motion.retarget import rest_root_point
from . import cmu_prediction as cmu
from .errors import FormatError
from .load_common import Progress, frames_at, say

__all__ = ["DEFAULT_FPS", "cmu_points", "load_cmu_prediction"]

DEFAULT_FPS = 30.0
# Joints whose rotations move the retargeted points (legs, spine, neck, clavicles, arms to the wrist).
_RETARGET_JOINTS = np.array([0, 1, 2, 3, 4, 7, 8, 9, 10, 13, 14, 15, 16, 20, 21, 22, 29, 30, 31])


def _ours(p: np.ndarray) -> np.ndarray:
    """File axes (x left, y up, z forward) -> ours (X anterior, Y up, Z right), ASF units -> m."""
    return np.stack([p[..., 2], p[..., 1], -p[..., 0]], axis=-1) * cmu.UNIT_M


def cmu_points(rows: np.ndarray) -> tuple[list[str], np.ndarray, dict[str, np.ndarray]]:
    """Our point names, their positions ``(T, K, 3)`` (m, our axes) and the rest pose (plus ``root``)."""
    names = list(cmu.POINTS)
    idx = [cmu.POINTS[n] for n in names]
    pos = _ours(cmu.forward_kinematics(rows, root=True))
    rest_pos = _ours(cmu.forward_kinematics(np.zeros(cmu.N_COLUMNS), root=False))
    rest = {n: rest_pos[i] for n, i in zip(names, idx, strict=True)}
    rest["root"] = rest_pos[0]
    return names, pos[:, idx], rest


def load_cmu_prediction(
    path: Path, *, body=None, mass_kg: float = 70.0, sex: str = "male", fps: float | None = None,
    progress: Progress = None,
) -> Motion:  # fmt: skip
    """A benchmark ``.txt`` retargeted onto our body (see the module docstring)."""
    say(progress, "reading CMU motion-prediction rows")
    rows = cmu.read_cmu_prediction(path)
    notes = []
    issues = cmu.check_frames(rows[:3], cmu.FILE_FPS, _RETARGET_JOINTS)
    if issues and issues[0].frame == 1 and not any(i.frame == 2 for i in issues):
        rows = rows[1:]
        notes.append("frame 0 dropped: it jumps away from the rest of the recording (the benchmark files' first frame)")
    names, pts, rest = cmu_points(rows)
    idx, rate = frames_at(len(rows), cmu.FILE_FPS, DEFAULT_FPS if fps is None else fps)
    local = rest_root_point(rest)
    extra = None
    if local is not None:
        extra = {"pelvis_root": ("pelvis", local)}
        names = [*names, "pelvis_root"]
        root = _ours(cmu.forward_kinematics(rows, root=True)[:, 0])
        pts = np.concatenate([pts, root[:, None]], axis=1)
    meta = {"source": str(path), "format": "cmu_prediction", "unit_m": cmu.UNIT_M, "source_fps": cmu.FILE_FPS}
    if notes:
        meta["notes"] = notes
    try:
        return keypoint_ik(
            names, pts[idx], rate, body=body, mass_kg=mass_kg, sex=sex, extra_points=extra, progress=progress,
            metadata=meta,
        )  # fmt: skip
    except ValueError as err:
        raise FormatError(path, f"cannot solve a pose: {err}") from None
