"""Foot contact from kinematics: sole points and a smooth contact weight per foot.

Three sole points per foot (heel, metatarsal heads, toe tip) and their height above the floor
and speed relative to it (e.g. a treadmill belt) give each foot a contact weight in [0, 1]
through smooth (C1 cubic) steps, with no hard thresholds. :mod:`.grf` uses it to share the
ground reaction between the feet.

Conventions: Y-up world, SI units (m, m/s). Tensors are batched over any leading shape; ``q``
and ``qd`` are ``(..., 47)`` and, where something is estimated over time (floor height, floor
velocity), dimension ``-2`` of ``q`` is the frame axis. Feet are ordered (right, left)
everywhere. Everything is torch and differentiable.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.func import jvp

from .kinematics import segment_poses
from .model import Body

__all__ = [
    "FEET",
    "MIN_BELT_SPEED",
    "FootContact",
    "foot_contact",
    "foot_contact_summary",
    "sole_points",
    "sole_points_local",
]

FEET = ("foot_r", "foot_l")
_EPS = 1e-9
#: Slowest floor speed (m/s) that ``floor_velocity="auto"`` takes for a treadmill belt (0.3 m/s is
#: ~1 km/h, below any walking belt; a static floor's estimate is a few cm/s of marker noise).
MIN_BELT_SPEED = 0.3
#: Default bands (m above the floor, m/s relative to it) over which a sole point's contact weight falls from 1 to 0.
HEIGHT_BAND = (0.02, 0.06)
SPEED_BAND = (0.3, 1.2)


def sole_points_local(body: Body) -> tuple[tuple[float, float, float], ...]:
    """Heel, metatarsal heads and toe tip on the sole, in the foot frame (m).

    The sole is the plane ``y = -ankle_height`` of the foot frame (the floor in the neutral
    pose); the heel lies ``heel_back`` behind the ankle joint centre, the metatarsal heads
    ``foot`` ahead of it, the toe tip ``foot_full - heel_back`` ahead
    (:data:`musclepose.body.anthropometry.STATURE_FRACTIONS`).
    """
    L = body.lengths
    y = -L["ankle_height"]
    return ((-L["heel_back"], y, 0.0), (L["foot"], y, 0.0), (L["foot_full"] - L["heel_back"], y, 0.0))


def sole_points(body: Body, q: torch.Tensor) -> torch.Tensor:
    """World positions ``(..., 2 feet, 3, 3)`` of heel, metatarsal heads and toe tip (right, left)."""
    rot_all, org_all = segment_poses(body, q)
    idx = [body.segment_index(f) for f in FEET]
    rot = rot_all[..., idx, :, :]
    org = org_all[..., idx, :]
    local = torch.tensor(sole_points_local(body), dtype=q.dtype, device=q.device)
    return org[..., :, None, :] + torch.einsum("...fij,pj->...fpi", rot, local)


def _smooth_off(x: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    """1 for ``x <= lo``, 0 for ``x >= hi``, a C1 cubic (smoothstep) in between."""
    s = ((x - lo) / (hi - lo)).clamp(0.0, 1.0)
    return 1.0 - s * s * (3.0 - 2.0 * s)


@dataclass(frozen=True)
class FootContact:
    """Contact state of both feet (right, left) per frame.

    Attributes
    ----------
    weight : (..., 2)
        Contact weight per foot in [0, 1]: ``1 - prod_k (1 - point_weight_k)``.
    point_weight : (..., 2, 3)
        Weight of the heel, the metatarsal heads and the toe tip of each foot.
    height : (..., 2, 3)
        Height of those points above the floor (m).
    speed : (..., 2, 3)
        Their speed relative to the floor (m/s).
    floor_y : (...,) or (..., 1)
        Floor height used (m); broadcasts against the frame axis.
    floor_velocity : (..., 3) or (..., 1, 3)
        Floor velocity used (m/s; zero unless a moving floor was given or estimated).
    points : (..., 2, 3, 3) or None
        The sole points' world positions (:func:`sole_points`), kept for :func:`estimate_grf`.
    """

    weight: torch.Tensor
    point_weight: torch.Tensor
    height: torch.Tensor
    speed: torch.Tensor
    floor_y: torch.Tensor
    floor_velocity: torch.Tensor
    points: torch.Tensor | None = None


def _jvp(fn, primals, tangents):
    # torch's first forward-mode call scripts its JVP decompositions with the deprecated
    # torch.jit.script and warns about it; the warning is about torch, not about this call.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*", category=DeprecationWarning)
        return jvp(fn, primals, tangents)


# Frames per forward-kinematics block of a long motion: the sole points and their velocities are
# per frame, so blocks give the same numbers with a bounded working set (a 1-hour recording at
# 100 Hz in one pass takes several GB of forward-mode intermediates; a 2,000-frame block about 80 MB).
CONTACT_BLOCK = 2_000


def _sole_points_and_velocities(body: Body, q: torch.Tensor, qd: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if q.ndim < 2 or q.shape[-2] <= CONTACT_BLOCK:
        return _jvp(lambda x: sole_points(body, x), (q,), (qd,))
    pts = vel = None
    for a in range(0, q.shape[-2], CONTACT_BLOCK):
        p, v = _jvp(lambda x: sole_points(body, x), (q[..., a : a + CONTACT_BLOCK, :],),
                    (qd[..., a : a + CONTACT_BLOCK, :],))  # fmt: skip
        if pts is None:  # filled block by block: no list of blocks and no concatenated copy of it
            pts = p.new_empty((*q.shape[:-1], *p.shape[-3:]))
            vel = v.new_empty((*q.shape[:-1], *v.shape[-3:]))
        pts[..., a : a + CONTACT_BLOCK, :, :, :] = p
        vel[..., a : a + CONTACT_BLOCK, :, :, :] = v
    return pts, vel


def _over_frames(q: torch.Tensor) -> bool:
    return q.ndim >= 2


def foot_contact(
    body: Body,
    q: torch.Tensor,
    qd: torch.Tensor,
    *,
    floor_y: float | torch.Tensor | None = None,
    floor_velocity: torch.Tensor | str | None = None,
    height_band: tuple[float, float] = HEIGHT_BAND,
    speed_band: tuple[float, float] = SPEED_BAND,
    floor_quantile: float = 0.1,
) -> FootContact:
    """Smooth contact weights of both feet from the kinematics.

    Each sole point (heel, metatarsal heads, toe tip; :func:`sole_points`) gets ``w_k =
    off(height) * off(speed)``, where ``off`` falls smoothly from 1 to 0 across
    ``height_band`` (m above the floor) and ``speed_band`` (m/s relative to the floor); the
    foot's weight is ``1 - prod_k (1 - w_k)``, high when any point touches. Speed matters
    because in swing the toes pass within 1-2 cm of the floor (minimum toe clearance, Winter
    1992, Phys Ther 72:45) at several m/s. The toe tip keeps a foot in contact through
    push-off, when the real toes stay flat but our rigid foot's metatarsal heads rise.

    Parameters
    ----------
    body, q, qd
        Body and states ``(..., 47)``; point velocities are ``J(q) qd`` (forward-mode AD).
    floor_y
        Floor height (m). ``None``: estimated per sequence as the ``floor_quantile`` quantile
        over frames (dimension ``-2``) of the lowest sole point, or that point for one state.
        Sole points are on our rigid foot's sole; subject-specific ankle heights differ, so
        estimating is usually better than a lab's nominal floor.
    floor_velocity
        Velocity of the floor (m/s, world), e.g. ``(-1.2, 0, 0)`` for a treadmill belt;
        ``"estimate"``: the median over frames of the horizontal velocity of the lowest sole
        point (a stance foot moves with the belt); ``"auto"``: that estimate where it is a
        belt, i.e. faster than :data:`MIN_BELT_SPEED` with the lowest point moving at it
        (within that speed) in at least half the frames, else a static floor (overground
        running, whose lowest point is often a swinging foot, stays static); ``None``: a
        static floor.
    """
    pts, vel = _sole_points_and_velocities(body, q, qd)  # (..., 2 feet, 3 points, 3)
    y = pts[..., 1]
    flat_y = y.flatten(-2)  # (..., 6)
    lowest = flat_y.argmin(-1, keepdim=True)
    if floor_y is None:
        low = flat_y.gather(-1, lowest)[..., 0]
        floor = torch.quantile(low, floor_quantile, dim=-1, keepdim=True) if _over_frames(q) else low
    else:
        floor = torch.as_tensor(floor_y, dtype=q.dtype, device=q.device)
    fv = _floor_velocity(floor_velocity, vel, lowest, q)
    height, speed, w, weight = _weights(y, vel, floor, fv, height_band, speed_band)
    return FootContact(weight, w, height, speed, floor, fv, pts)


def _weights(y, vel, floor, fv, height_band, speed_band):
    """Each sole point's height ``(..., 2, 3)`` above ``floor``, speed relative to the floor moving at
    ``fv``, contact weight ``w``, and each foot's weight ``(..., 2)`` (:func:`foot_contact`)."""
    height = y - floor[..., None, None]
    speed = torch.sqrt(((vel - fv[..., None, None, :]) ** 2).sum(-1) + _EPS**2)
    w = _smooth_off(height, *height_band) * _smooth_off(speed, *speed_band)
    return height, speed, w, 1.0 - (1.0 - w).prod(-1)


def _lowest_velocity(vel: torch.Tensor, lowest: torch.Tensor) -> torch.Tensor:
    """Horizontal velocity ``(..., 3)`` of each frame's lowest sole point (``lowest``: its index of 6)."""
    flat = vel.flatten(-3, -2)  # (..., 6, 3)
    v = flat.gather(-2, lowest[..., None].expand(lowest.shape[:-1] + (1, 3)))[..., 0, :]
    return v * torch.tensor([1.0, 0.0, 1.0], dtype=v.dtype, device=v.device)


def _floor_velocity(spec, vel: torch.Tensor | None, lowest: torch.Tensor | None, q: torch.Tensor,
                    v: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
    """The floor's velocity for ``spec`` (:func:`foot_contact`); ``v``: :func:`_lowest_velocity`, if known."""
    if spec is None:
        return torch.zeros(3, dtype=q.dtype, device=q.device)
    if isinstance(spec, str):
        if spec not in ("estimate", "auto"):
            raise ValueError(f"floor_velocity must be a (..., 3) tensor, 'estimate', 'auto' or None; got {spec!r}")
        v = _lowest_velocity(vel, lowest) if v is None else v
        if spec == "estimate":
            return v.median(dim=-2, keepdim=True).values if _over_frames(q) else v
        if not _over_frames(q):
            return torch.zeros_like(v)  # one state cannot tell a belt from a step
        belt = v.median(dim=-2, keepdim=True).values
        with_it = (((v - belt) ** 2).sum(-1) < MIN_BELT_SPEED**2).to(v.dtype).mean(-1, keepdim=True)
        moving = ((belt**2).sum(-1) > MIN_BELT_SPEED**2) & (with_it >= 0.5)
        return torch.where(moving[..., None], belt, torch.zeros_like(belt))
    fv = torch.as_tensor(spec, dtype=q.dtype, device=q.device)
    if fv.shape[-1:] != (3,):
        raise ValueError(f"floor_velocity must have shape (..., 3); got {tuple(fv.shape)}")
    return fv


def foot_contact_summary(
    body: Body,
    q: torch.Tensor,
    velocity: Callable[[torch.Tensor], torch.Tensor],
    *,
    floor_velocity: torch.Tensor | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`foot_contact` of a motion ``q (T, 47)`` with ``qd = velocity(q)`` (central differences:
    :func:`musclepose.motion.differentiate.central_velocity` at the motion's rate), reduced
    to what a movement check reads: the contact weight ``(T, 2)`` and each foot's lowest sole point
    height and lowest speed ``(T, 2)``; the same numbers as ``foot_contact(body, q, qd, ...)``.

    Long motions go through :data:`CONTACT_BLOCK` frames at a time: the joint velocities, the sole
    points' forward-mode derivatives and the per-point arrays exist for one block only (for an hour at
    100 Hz the one-pass arrays and temporaries take over 300 MB); what spans the whole motion, the
    floor height and its velocity, comes from each frame's lowest point kept from a first pass.
    """
    t = q.shape[0]
    y = q.new_empty((t, 6))
    vel = q.new_empty((t, 6, 3))
    for a in range(0, t, CONTACT_BLOCK):
        b = min(t, a + CONTACT_BLOCK)
        hi = min(t, b + 1)  # a frame either side (the central difference's neighbours), 4 at least
        lo = max(0, min(a - 1, hi - 4))
        qd = velocity(q[lo:hi])[a - lo : a - lo + b - a] if t > 3 else torch.zeros_like(q[a:b])
        p, v = _sole_points_and_velocities(body, q[a:b], qd)
        y[a:b] = p[..., 1].flatten(-2)
        vel[a:b] = v.flatten(-3, -2)
    lowest = y.argmin(-1, keepdim=True)
    low = y.gather(-1, lowest)[..., 0]
    floor = torch.quantile(low, 0.1, dim=-1, keepdim=True)
    fv = _floor_velocity(floor_velocity, None, None, q[..., :1, :], v=_lowest_velocity(vel.view(t, 2, 3, 3), lowest))
    weight, height, speed = (q.new_empty((t, 2)) for _ in range(3))
    for a in range(0, t, CONTACT_BLOCK):
        b = min(t, a + CONTACT_BLOCK)
        h, sp, _, weight[a:b] = _weights(y[a:b].view(-1, 2, 3), vel[a:b].view(-1, 2, 3, 3), floor, fv,
                                         HEIGHT_BAND, SPEED_BAND)  # fmt: skip
        height[a:b] = h.amin(-1)
        speed[a:b] = sp.amin(-1)
    return weight, height, speed
