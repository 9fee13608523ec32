"""Supports besides the floor under the feet, found from the kinematics, and ground reactions over them.

A recording says nothing about chairs, benches or boxes, but the body's dynamics do: the ground
reaction must act at the point where the total wrench the body needs meets the floor (its
centre of pressure, from the root residual of inverse dynamics). When that point stays outside
the feet's support, something else carries part of the load. :func:`detect_supports` looks for
it among candidates at rest: a **seat** under the ischial tuberosities (hips flexed, pelvis still),
the **hands** on the floor or a bench (below the hips, still) and a **box** under the feet (both
feet still, level and well above the floor). :func:`supported_grf` then shares the required
wrench over the feet and the supports found with
:func:`~musclepose.body.contact_forces.distribute_contact_forces` (the synthetic engine's method
for known contacts) with the joints' effort minimised (:func:`distribute_min_effort`), and keeps
:func:`~musclepose.body.grf.estimate_grf` where the feet alone stand. Conventions: as
:mod:`.contact` (Y-up, SI units, frames along dimension 0).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import torch

from .contact import FEET, foot_contact, sole_points_local
from .contact_forces import TORQUE_ARM
from .contact_points import contact_point_local
from .dynamics import ExternalWrench, inverse_dynamics, root_residual
from .grf import GRFEstimate, estimate_grf
from .kinematics import forward_kinematics
from .model import Body

__all__ = ["Support", "Supports", "detect_supports", "distribute_min_effort", "supported_grf"]

#: The centre of pressure must lie this far (m) beyond the feet, toward a candidate, to call it a support.
MARGIN_M = 0.04
#: A support holds at least this long (s); shorter excursions of the centre of pressure are dynamics.
MIN_SUPPORT_S = 0.25
#: Candidates are at rest below this speed (m/s).
REST_MPS = 0.15
#: Hips flexed at least this much (deg, both sides) for a seat.
SEAT_HIP_FLEXION_DEG = 45.0
#: A box: both feet at rest, level within 3 cm, at least this high (m) above the floor.
BOX_MIN_M = 0.08


@dataclass(frozen=True)
class Support:
    """A support: ``name`` (``"seat"``, ``"hand_r"``, ``"hand_l"``), the body point on it
    (``segment``, ``local`` in the segment frame, m) and the frames it carries load (``active (T,)``)."""

    name: str
    segment: str
    local: np.ndarray
    active: np.ndarray

    def spans(self, fps: float) -> list[tuple[float, float]]:
        edges = np.flatnonzero(np.diff(np.concatenate([[0], self.active.astype(np.int8), [0]])))
        return [(a / fps, (b - 1) / fps) for a, b in zip(edges[0::2], edges[1::2], strict=True)]


@dataclass(frozen=True)
class Supports:
    """What :func:`detect_supports` found: ``extra`` supports, the surface under the feet per frame
    (``floor_y (T,)``: the floor, or a box's top while the feet stand on it) and ``notes`` in words."""

    extra: tuple[Support, ...]
    floor_y: np.ndarray
    notes: list[str] = field(default_factory=list)

    @property
    def any_extra(self) -> bool:
        return any(s.active.any() for s in self.extra)


def _runs(mask: np.ndarray, min_len: int) -> np.ndarray:
    """``mask`` with its True runs shorter than ``min_len`` frames removed."""
    out = np.zeros_like(mask)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    for a, b in zip(edges[0::2], edges[1::2], strict=True):
        if b - a >= min_len:
            out[a:b] = True
    return out


def _smooth(x: np.ndarray, k: int) -> np.ndarray:
    """Running median over ``2k + 1`` frames along axis 0 (the centre of pressure from accelerations is noisy)."""
    if k < 1 or len(x) < 3:
        return x
    pad = np.pad(x, [(k, k)] + [(0, 0)] * (x.ndim - 1), mode="edge")
    win = np.lib.stride_tricks.sliding_window_view(pad, 2 * k + 1, axis=0)
    return np.median(win, axis=-1)


def _box(body: Body, q: torch.Tensor, qd: torch.Tensor, fps: float) -> tuple[np.ndarray, list[str]]:
    """Per-frame surface height under the feet: the floor, or a box's top while both feet stand on it."""
    c = foot_contact(body, q, qd)
    low = c.height.amin(-1).numpy()  # (T, 2) lowest sole point of each foot above the floor
    slow = c.speed.amin(-1).numpy()
    floor = float(np.asarray(c.floor_y).reshape(-1)[0])
    t = len(low)
    surface = np.full(t, floor)
    on = (slow < 0.1).all(1) & (low.min(1) > BOX_MIN_M) & (np.abs(low[:, 0] - low[:, 1]) < 0.03)
    on = _runs(on, int(round(0.2 * fps)))
    notes = []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], on.astype(np.int8), [0]])))
    for a, b in zip(edges[0::2], edges[1::2], strict=True):
        top = float(np.median(low[a:b].min(1)))
        # The feet stand on the box from where they are within 3 cm of its top and above the floor
        # until they leave it (take-off or stepping down), around the still stretch.
        near = (np.abs(low.min(1) - top) < 0.03) & (low.min(1) > 0.5 * top)
        lo, hi = a, b
        while lo > 0 and near[lo - 1]:
            lo -= 1
        while hi < t and near[hi]:
            hi += 1
        surface[lo:hi] = floor + top
        notes.append(f"feet on a box {100 * top:.0f} cm high at {lo / fps:.2f}-{(hi - 1) / fps:.2f} s")
    return surface, notes


def _feet_points(body: Body, fk, idx_feet) -> np.ndarray:
    loc = torch.tensor(sole_points_local(body), dtype=fk.rotations.dtype)[[0, 2]]  # heel, toe tip
    rot, org = fk.rotations[:, idx_feet], fk.origins[:, idx_feet]
    return (org[:, :, None] + torch.einsum("tfij,pj->tfpi", rot, loc)).numpy()  # (T, 2, 2, 3)


def detect_supports(body: Body, q: torch.Tensor, qd: torch.Tensor, qdd: torch.Tensor, fps: float) -> Supports:
    """Supports besides the feet (module docstring) for the states ``q, qd, qdd (T, 47)`` (filtered
    coordinates, as the kinetics use them)."""
    with torch.no_grad():
        surface, notes = _box(body, q, qd, fps)
        contact = foot_contact(body, q, qd, floor_y=torch.as_tensor(surface, dtype=q.dtype)).weight.numpy()
        fk = forward_kinematics(body, q)
        tau = inverse_dynamics(body, q, qd, qdd)
        force, moment = tau[:, 0:3].numpy(), root_residual(body, q, tau)[1].numpy()
    p0 = q[:, 0:3].numpy()
    weight = body.mass_kg * 9.81
    fy = force[:, 1]
    loaded = fy > 0.5 * weight
    ry = surface - p0[:, 1]
    safe = np.where(loaded, fy, 1.0)
    cop = np.stack([p0[:, 0] + (moment[:, 2] + ry * force[:, 0]) / safe, surface,
                    p0[:, 2] + (ry * force[:, 2] - moment[:, 0]) / safe], -1)  # fmt: skip
    k = int(round(0.05 * fps))
    cop = _smooth(cop, k)
    feet = _feet_points(body, fk, [body.segment_index(f) for f in FEET])  # (T, 2 feet, 2 points, 3)
    down = contact > 0.5
    centre = np.where(down[..., None], feet.mean(2), np.nan)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames with neither foot down
        centre = np.nanmean(centre, axis=1)
    candidates = _candidates(body, q, fk, fps)
    min_len = int(round(MIN_SUPPORT_S * fps))
    extra = []
    for name, (segment, local, point, ok) in candidates.items():
        d = (point - centre)[:, [0, 2]]
        dist = np.linalg.norm(d, axis=-1)
        u = d / np.maximum(dist, 1e-6)[:, None]
        reach = np.einsum("tfpk,tk->tfp", (feet - centre[:, None, None])[..., [0, 2]], u)
        reach = np.where(down[..., None], reach, -np.inf).max((1, 2))  # how far the feet reach toward it
        beyond = np.einsum("tk,tk->t", (cop - centre)[:, [0, 2]], u) - reach
        active = ok & loaded & np.isfinite(beyond) & (beyond > MARGIN_M) & (dist > 0.1)
        active = _runs(np.nan_to_num(active).astype(bool), min_len)
        if active.any():
            extra.append(Support(name, segment, local, active))
            spans = ", ".join(f"{a:.2f}-{b:.2f} s" for a, b in Support(name, segment, local, active).spans(fps))
            notes.append(f"{name.replace('_', ' ')} supported at {spans}")
    return Supports(tuple(extra), surface, notes)


def _candidates(
    body: Body, q: torch.Tensor, fk, fps: float
) -> dict[str, tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """name -> (segment, local point, world point (T, 3), frames where it could be a support (T,))."""
    out = {}
    dt = 1.0 / fps
    hip_y = fk.origins[:, 0, 1].numpy()  # pelvis origin: the hip joint centres' midpoint

    def world(segment: str, local: np.ndarray) -> np.ndarray:
        i = body.segment_index(segment)
        loc = torch.as_tensor(local, dtype=fk.rotations.dtype)
        return (fk.origins[:, i] + fk.rotations[:, i] @ loc).numpy()

    def still(p: np.ndarray) -> np.ndarray:
        v = np.linalg.norm(np.gradient(p, dt, axis=0), axis=-1) if len(p) > 2 else np.zeros(len(p))
        return _smooth(v, int(round(0.05 * fps))) < REST_MPS

    seat = contact_point_local(body, "seat")
    p = world("pelvis", seat)
    flex = np.degrees(np.stack([q[:, body.dof_index(f"hip_flexion_{s}")].numpy() for s in "rl"]))
    out["seat"] = ("pelvis", seat, p, still(p) & (flex.min(0) > SEAT_HIP_FLEXION_DEG))
    knuckles = contact_point_local(body, "knuckles")
    for s in "rl":
        p = world(f"hand_{s}", knuckles)
        out[f"hand_{s}"] = (f"hand_{s}", knuckles, p, still(p) & (p[:, 1] < hip_y - 0.15))
    return out


def supported_grf(
    body: Body, q: torch.Tensor, qd: torch.Tensor, qdd: torch.Tensor, supports: Supports, floor_velocity=None
) -> tuple[list[ExternalWrench], torch.Tensor, dict[str, np.ndarray], GRFEstimate]:
    """Ground reactions of the feet and the ``supports``: the feet alone (:func:`estimate_grf`, on
    the surface under them) where no other support is active, else the required wrench shared
    over the feet's heel and ball and the supports (:func:`distribute_contact_forces`).

    ``floor_velocity`` goes to :func:`estimate_grf` (a treadmill belt). Returns the wrenches, inverse
    dynamics with them ``(T, 47)``, the force per support (``"foot_r"``, ``"foot_l"``, ``"seat"``,
    ``"hand_r"``, ``"hand_l"`` -> ``(T, 3)`` N) and the feet-only estimate.
    """
    floor = torch.as_tensor(supports.floor_y, dtype=q.dtype)
    est = estimate_grf(body, q, qd, qdd, floor_y=floor, floor_velocity=floor_velocity)
    if not supports.any_extra:
        forces = {w.segment: w.force.detach().cpu().numpy() for w in est.wrenches}
        return list(est.wrenches), est.tau, forces, est
    contact = est.contact
    segments, local, planted = [], [], []
    for k, foot in enumerate(FEET):
        for j, kind in ((0, "heel"), (1, "ball")):
            segments.append(foot)
            local.append(contact_point_local(body, kind))
            planted.append(contact.point_weight[:, k, j].numpy() > 0.5)
    for s in supports.extra:
        segments.append(s.segment)
        local.append(s.local)
        planted.append(s.active)
    use_np = np.any([s.active for s in supports.extra], axis=0)
    dist = distribute_min_effort(body, q, qd, qdd, segments, np.stack(local), np.stack(planted, 1), frames=use_np)
    use = torch.as_tensor(use_np, dtype=q.dtype)[:, None]
    wrenches: list[ExternalWrench] = []
    for w in est.wrenches:  # the feet alone, where no other support is active
        wrenches.append(_scaled(w, 1 - use))
    for w in dist:
        wrenches.append(_scaled(w, use))
    tau = inverse_dynamics(body, q, qd, qdd, external=wrenches)
    forces: dict[str, np.ndarray] = {}
    names = [*FEET, *(s.name for s in supports.extra)]
    seg_of = {**{f: f for f in FEET}, **{s.name: s.segment for s in supports.extra}}
    for name in names:
        total = np.zeros((q.shape[0], 3))
        for w in wrenches:
            if w.segment == seg_of[name]:
                total += w.force.detach().cpu().numpy()
        forces[name] = total
    return wrenches, tau, forces, est


def _scaled(w: ExternalWrench, k: torch.Tensor) -> ExternalWrench:
    return ExternalWrench(w.segment, w.force * k, w.point, None if w.torque is None else w.torque * k)


def distribute_min_effort(
    body: Body,
    q: torch.Tensor,
    qd: torch.Tensor,
    qdd: torch.Tensor,
    segments: list[str],
    points_local: np.ndarray,
    planted: np.ndarray,
    frames: np.ndarray | None = None,
    iterations: int = 4,
    effort_share: float = 1e-4,
) -> list[ExternalWrench]:
    """Forces at contact points that balance the body and need the least joint effort.

    With several contacts (feet and a seat, feet and hands) the required wrench does not fix how
    the load is shared: horizontal forces and contact moments can shift it. The minimum-norm
    share (:func:`~musclepose.body.contact_forces.distribute_contact_forces`) spreads it evenly
    over the points, which puts half the body weight on the feet of a person sitting. People
    share it so that their joints work least: per frame, the forces ``x`` (a force and a patch
    moment over :data:`~musclepose.body.contact_forces.TORQUE_ARM` per point, as there)
    minimise ``|tau_joints(x)|^2 + effort_share |x|^2`` subject to the root balance (a penalty
    of weight 1e6), where ``tau(x)`` is inverse dynamics with them (affine in ``x``: its columns
    come from the RNEA's external-wrench pass). Points whose vertical force comes out negative
    are released and the frame solved again, ``iterations`` times. Only ``frames`` (bool
    ``(T,)``; None: all) are solved; elsewhere the forces are zero.
    """
    t, n = q.shape[0], len(segments)
    sel = np.ones(t, dtype=bool) if frames is None else np.asarray(frames, dtype=bool)
    idx = torch.as_tensor(np.flatnonzero(sel))
    qs, qds, qdds = q[idx], qd[idx], qdd[idx]
    fk = forward_kinematics(body, qs)
    seg_i = [body.segment_index(s) for s in segments]
    loc = torch.as_tensor(points_local, dtype=q.dtype)
    pts = fk.origins[:, seg_i] + (fk.rotations[:, seg_i] @ loc[..., None])[..., 0]  # (t, n, 3)
    tau0 = inverse_dynamics(body, qs, qds, qdds)
    zero = torch.zeros_like(tau0)
    cols = []
    for k in range(n):
        for c in range(6):
            unit = torch.zeros(len(idx), 3, dtype=q.dtype)
            unit[:, c % 3] = 1.0 if c < 3 else TORQUE_ARM
            w = ExternalWrench(
                segments[k], unit if c < 3 else torch.zeros_like(unit), pts[:, k], None if c < 3 else unit
            )
            cols.append(inverse_dynamics(body, qs, qds, qdds, [w], without_external=zero))
    a = torch.stack(cols, -1)  # (t, 47, 6n): tau = tau0 + a x
    ar, aj = a[:, :6], a[:, 6:]
    big = 1e6
    hess = aj.transpose(-1, -2) @ aj + big * ar.transpose(-1, -2) @ ar
    rhs = -(aj.transpose(-1, -2) @ tau0[:, 6:, None] + big * ar.transpose(-1, -2) @ tau0[:, :6, None])[..., 0]
    weight = torch.as_tensor(planted[sel], dtype=q.dtype)
    eye = torch.eye(6 * n, dtype=q.dtype)
    x = torch.zeros(len(idx), 6 * n, dtype=q.dtype)
    for _ in range(iterations):
        # A released or unplanted point costs 1e9 per N: its force stays zero.
        reg = effort_share * torch.where(weight > 0.5, 1.0, 1e9).repeat_interleave(6, -1)
        x = torch.linalg.solve(hess + torch.diag_embed(reg) + 1e-9 * eye, rhs[..., None])[..., 0]
        fy = x.reshape(len(idx), n, 6)[..., 1]
        pulling = (fy < 0) & (weight > 0.5)
        if not bool(pulling.any()):
            break
        weight = torch.where(pulling, torch.zeros_like(weight), weight)
    x = x.reshape(len(idx), n, 6) * (weight > 0.5)[..., None]
    out = []
    for k in range(n):
        f = torch.zeros(t, 3, dtype=q.dtype)
        tq = torch.zeros(t, 3, dtype=q.dtype)
        p = torch.zeros(t, 3, dtype=q.dtype)
        f[idx], tq[idx], p[idx] = x[:, k, :3], TORQUE_ARM * x[:, k, 3:], pts[:, k]
        out.append(ExternalWrench(segments[k], f, p, tq))
    return out
