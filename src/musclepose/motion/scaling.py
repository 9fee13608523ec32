"""Scaling a body and its markers to a static trial (as OpenSim's scale tool does).

:func:`scale_to_static` minimises the marker error of :mod:`.ik` over one standing pose and one
scale factor per group of :data:`~musclepose.motion.marker_set.SCALE_GROUPS` (pelvis, trunk,
upper arm, forearm, thigh, shank, foot; left and right share one), which stretch the segments'
joint offsets and the markers' local positions together; one pose, so L-BFGS (Nocedal & Wright
2006, ch. 7) with a strong Wolfe line search suffices. Conventions: world Y-up, metres.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from ..body import Body, forward_kinematics
from .marker_set import (
    SCALE_GROUPS,
    MarkerSet,
    initial_pose,
    marker_positions,
    segment_scales,
    set_joint_rotation,
    unobserved_dofs,
)

__all__ = ["scale_to_static"]

STATIC_ZERO = ("lumbar_", "thoracic_", "neck_", "scapula_")


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
        set_joint_rotation(body, q, foot, rel[None])
    return q[0]


def _lbfgs(params, closure, max_iter: int, tol: float) -> int:
    opt = torch.optim.LBFGS(
        params, lr=1.0, max_iter=max_iter, history_size=50, tolerance_grad=tol, tolerance_change=1e-14,
        line_search_fn="strong_wolfe",
    )  # fmt: skip
    opt.step(closure)
    return int(opt.state[opt._params[0]]["n_iter"])


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
    q_init = initial_pose(body, fit_set, y[mask][None])[0]
    q = torch.tensor(q_init, requires_grad=True)
    log_s = torch.zeros(len(SCALE_GROUPS), dtype=torch.float64, requires_grad=True)
    bt = body.tensors(torch.float64)
    parent = torch.tensor([max(p, 0) for p in body.parents])
    y_t = torch.tensor(np.where(mask[:, None], y, 0.0))
    m_t = torch.tensor(mask * ms.weights, dtype=torch.float64)
    local0 = torch.tensor(ms.local)
    prior = torch.tensor(unobserved_dofs(body, fit_set))
    # Standing upright defines zero for the spine, neck and shoulder girdle: they are fitted
    # freely (so that trunk markers do not tilt the pelvis) and set to 0 for the registration.
    free = torch.tensor([not n.startswith(STATIC_ZERO) for n in body.dof_names], dtype=torch.float64)
    lo = torch.tensor(np.where(np.isfinite(body.dof_lower), body.dof_lower, -1e9))
    hi = torch.tensor(np.where(np.isfinite(body.dof_upper), body.dof_upper, 1e9))

    def closure():
        q.grad = None
        log_s.grad = None
        s = segment_scales(body, torch.exp(log_s))
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
