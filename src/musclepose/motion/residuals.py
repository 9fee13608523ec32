"""Residual reduction: adjust the body's mass and trunk centre of mass to the measured loads.

Inverse dynamics with measured ground reactions leaves a residual wrench on the pelvis
(:attr:`~musclepose.motion.kinetics.Kinetics.residual_force`, ``residual_moment``) from
marker error, soft-tissue motion, inertial-parameter error and force-plate error. OpenSim's
Residual Reduction Algorithm (Delp et al. 2007, IEEE TBME 54:1940; OpenSim documentation
"Getting started with RRA") begins by changing the model's total mass so that the mean
vertical residual vanishes and by moving the torso's centre of mass so that the mean
residual moments about the horizontal axes vanish. :func:`reduce_residuals` does that
first step: the mean residuals are linear in the three parameters (a mass scale and the
trunk CoM's forward and lateral offset), so one least-squares solve with a Jacobian from
three extra inverse-dynamics runs finds them. RRA's second step, tracking the kinematics
with small changes that cancel the remaining residual, is not done here.

OpenSim's best-practice guide suggests peak residual forces under about 5 % of body weight
(~25-35 N) and moments under about 1 % of body weight times height (~75 N m in their
examples) after RRA (Hicks et al. 2015, J Biomech Eng 137:020905).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..body import Body
from .kinetics import Kinetics, compute_kinetics, feet_on_floor

__all__ = ["ResidualReduction", "reduce_residuals"]

_TRUNK = "thorax"


@dataclass
class ResidualReduction:
    """Result of :func:`reduce_residuals`.

    Attributes
    ----------
    body : Body
        The adjusted body.
    mass_change_kg : float
    trunk_com_shift_m : np.ndarray (3,)
        Change of the trunk (thorax) CoM in its segment frame (x forward, z right).
    before, after : Kinetics
    frames : np.ndarray (T,) bool
        The frames where every foot on the floor carries a measured load: the only frames
        where a residual means anything (elsewhere it is the unmeasured ground reaction).
    """

    body: Body
    mass_change_kg: float
    trunk_com_shift_m: np.ndarray
    before: Kinetics
    after: Kinetics
    frames: np.ndarray

    def peaks(self) -> dict[str, dict[str, float]]:
        """Peak |residual| force (N) and moment (N m) per world axis over :attr:`frames`, before and after."""
        out = {}
        for label, k in (("before", self.before), ("after", self.after)):
            f, m = k.residual_force[self.frames], k.residual_moment[self.frames]
            out[label] = {
                **{f"F{a}": float(np.abs(f[:, i]).max()) for i, a in enumerate("xyz")},
                **{f"M{a}": float(np.abs(m[:, i]).max()) for i, a in enumerate("xyz")},
            }
        return out


def adjusted_body(body: Body, mass_scale: float, trunk_shift: np.ndarray) -> Body:
    """``body`` with every segment mass (and inertia) times ``mass_scale`` and the trunk CoM moved."""
    i = body.segment_index(_TRUNK)
    coms = body.coms.copy()
    coms[i] = coms[i] + np.asarray(trunk_shift, dtype=np.float64)
    return replace(
        body,
        mass_kg=body.mass_kg * mass_scale,
        masses=body.masses * mass_scale,
        inertias=body.inertias * mass_scale,
        coms=coms,
        _cache={},
    )


def _means(k: Kinetics, frames: np.ndarray) -> np.ndarray:
    return np.array(
        [k.residual_force[frames, 1].mean(), k.residual_moment[frames, 0].mean(), k.residual_moment[frames, 2].mean()]
    )


def reduce_residuals(motion, loads, frames: np.ndarray | None = None, **kinetics_kw) -> ResidualReduction:
    """Mass and trunk-CoM adjustment that zero the mean vertical force and horizontal moments.

    Parameters
    ----------
    motion, loads, kinetics_kw
        As for :func:`~musclepose.motion.kinetics.compute_kinetics` (``muscles`` defaults to
        False here).
    frames
        Boolean mask of the frames to average over (default: the frames where every foot
        that touches the floor, by :func:`~musclepose.motion.kinetics.feet_on_floor`, carries a
        measured load of at least 20 N, and no plate is shared by both feet).
    """
    body = motion.body
    kinetics_kw.setdefault("muscles", False)  # only the residuals are needed: skip static optimisation
    before = compute_kinetics(motion, loads, **kinetics_kw)
    if frames is None:
        down = feet_on_floor(before.motion)
        frames = np.ones(before.motion.n_frames, dtype=bool)
        for foot, g in before.grf.items():
            frames &= ~down[foot] | (g[:, 1] > 20.0)
        frames &= sum(g[:, 1] for g in before.grf.values()) > 20.0
        if before.ambiguous is not None:
            frames &= ~before.ambiguous
    if frames.sum() < 3:
        raise ValueError("too few loaded frames to adjust the residuals")
    base = _means(before, frames)
    steps = [(1.01, np.zeros(3)), (1.0, np.array([0.01, 0.0, 0.0])), (1.0, np.array([0.0, 0.0, 0.01]))]
    jac = []
    for scale, shift in steps:
        k = compute_kinetics(replace(motion, body=adjusted_body(body, scale, shift)), loads, **kinetics_kw)
        jac.append((_means(k, frames) - base) / 0.01)
    jac = np.stack(jac, axis=1)  # d(mean residuals)/d(mass scale, shift x, shift z), exact: ID is linear in them
    step = np.linalg.lstsq(jac, -base, rcond=None)[0]
    scale = 1.0 + step[0]
    shift = np.array([step[1], 0.0, step[2]])
    new_body = adjusted_body(body, scale, shift)
    after = compute_kinetics(replace(motion, body=new_body), loads, **kinetics_kw)
    return ResidualReduction(new_body, float(body.mass_kg * (scale - 1.0)), shift, before, after, frames)
