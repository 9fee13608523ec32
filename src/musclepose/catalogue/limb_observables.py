"""Observables of single-limb movements (curls, raises, shrugs, leg raises, rehabilitation movements)
on a motion: the working limb's range, the arm's elevation, the trunk's and pelvis's sway.

These movements are often done with one limb or with the two limbs unevenly, so each reducer takes
the side that moves more within the repetition (the working side). Conventions as in
:mod:`.observables`: degrees and centimetres, averaged over the repetitions; world Y-up, the subject
faces +X.
"""

from __future__ import annotations

import numpy as np

from .observables import _frame, _rep_mean, _trusted, dof_deg, trunk_inclination_deg
from .types import Observation

__all__ = ["arm_elevation_deg", "pelvis_sway_cm", "rep_range", "trunk_sway_deg", "working_peak", "working_range"]


def _spans(o: Observation, values: np.ndarray) -> list[np.ndarray]:
    v = _trusted(o, values)
    return [v[_frame(o, r.start_s) : _frame(o, r.end_s) + 1] for r in o.reps]


def _ptp(x: np.ndarray) -> float:
    return float(np.nanmax(x) - np.nanmin(x)) if np.isfinite(x).any() else float("nan")


def rep_range(o: Observation, values: np.ndarray) -> float:
    """Mean over repetitions of the range (max - min) of ``values`` within each repetition."""
    return _rep_mean([_ptp(s) for s in _spans(o, values)], "the repetitions")


def working_range(o: Observation, dof: str) -> float:
    """Range (deg) of ``dof`` within each repetition on the side that moves more, averaged."""
    r, left = _spans(o, dof_deg(o, f"{dof}_r")), _spans(o, dof_deg(o, f"{dof}_l"))
    return _rep_mean([max(_ptp(a), _ptp(b)) for a, b in zip(r, left, strict=True)], "the repetitions")


def working_peak(o: Observation, dof: str, moving: str | None = None) -> float:
    """Peak (deg) of ``dof`` within each repetition on the working side: the side whose ``moving``
    DoF (default ``dof`` itself) has the larger range."""
    moving = moving or dof
    out = []
    for s_r, s_l, m_r, m_l in zip(
        _spans(o, dof_deg(o, f"{dof}_r")), _spans(o, dof_deg(o, f"{dof}_l")),
        _spans(o, dof_deg(o, f"{moving}_r")), _spans(o, dof_deg(o, f"{moving}_l")), strict=True,
    ):  # fmt: skip
        s = s_r if _ptp(m_r) >= _ptp(m_l) else s_l
        out.append(float(np.nanmax(s)) if np.isfinite(s).any() else float("nan"))
    return _rep_mean(out, "the repetitions")


def arm_elevation_deg(o: Observation, side: str) -> np.ndarray:
    """Angle (deg) between the upper arm and the trunk's downward axis, whatever the plane (flexion,
    abduction, scaption): 0 hanging, 90 horizontal, 180 overhead."""
    b = o.motion.body
    arm = o.fk.rotations[:, b.segment_index(f"upperarm_{side}"), :, 1].numpy()  # segment long axis (+Y up)
    trunk = o.fk.rotations[:, b.segment_index("thorax"), :, 1].numpy()
    return np.degrees(np.arccos(np.clip(np.sum(arm * trunk, axis=-1), -1.0, 1.0)))


def pelvis_sway_cm(o: Observation) -> np.ndarray:
    """Horizontal distance (cm) of the pelvis from where it stood at the motion's first frame."""
    q = o.motion.q.detach().cpu().numpy()
    return 100.0 * np.hypot(q[:, 0] - q[0, 0], q[:, 2] - q[0, 2])


def trunk_sway_deg(o: Observation) -> float:
    """Range of the trunk's inclination from vertical within a repetition (deg), averaged."""
    return rep_range(o, trunk_inclination_deg(o))
