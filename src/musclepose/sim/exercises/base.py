"""Shared machinery of the exercise builders: the clip being built, feet, pelvis, limbs, sway.

Conventions (:mod:`musclepose.body.skeleton`): world Y-up, the subject faces +X, Z to the
right, floor at y = 0; ``q (T, 47)`` float64 torch, angles in rad, lengths in m. The
midpoint between the two ankles of the starting stance is at x = z = 0.

A builder designs what a coach would describe (knee flexion, shank and trunk angles,
pelvis tilt, where the feet and hands are) as smooth functions of the repetition progress
``s(t)`` (:mod:`.profiles`), places the pelvis so that those angles are met with
the feet where they are, and lets the closed-form limb IK (:mod:`.ik`) fill in the
leg (and, where the hands hold something fixed, the arm) angles, so planted contacts do not
move. Breathing sway and smooth noise are added to the designed quantities *before* the IK,
so they never make a planted foot slide.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

from ...body import Body
from ...body.contact_points import back_bar_point_local, contact_point_local
from ...body.kinematics import segment_poses
from ...body.rotations import euler_zxy_to_matrix
from .ik import arm_ik, leg_ik, rot
from .profiles import RepTimeline, breathing, smooth_noise

__all__ = [
    "SIDES",
    "Clip",
    "Contact",
    "Design",
    "Fault",
    "deg",
    "load_spec",
    "make_timeline",
    "rushed_eccentric_s",
    "severity",
    "smooth_min",
    "standing_legs",
    "world_points",
]

SIDES = ("r", "l")
deg = np.radians


@dataclass(frozen=True)
class Fault:
    """A form fault to inject: severity in [0, 1] and, for one-sided faults, the side (``"r"``/``"l"``)."""

    severity: float
    side: str = "r"


@dataclass
class Contact:
    """A body point that may touch the ground: segment, point in its frame (m), planted per frame."""

    name: str
    segment: str
    local: np.ndarray
    planted: np.ndarray


@dataclass
class Clip:
    """What a builder returns: coordinates and the labels that go into the Motion's metadata."""

    q: torch.Tensor
    timeline: RepTimeline
    contacts: list[Contact]
    load: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


class Design:
    """Per-frame designed coordinates of one clip, with helpers shared by the builders."""

    def __init__(self, body: Body, timeline: RepTimeline, params: dict[str, Any], rng: np.random.Generator):
        self.body = body
        self.tl = timeline
        self.p = params
        self.rng = rng
        self.t = timeline.t
        self.T = timeline.n_frames
        self.q = torch.zeros(self.T, body.n_dof, dtype=torch.float64)
        self.overreach = 0.0
        self._dirty: set[int] = set()
        L = body.lengths
        self.L = L
        off = body.offsets
        self.lt = float(-off[body.segment_index("shank_r"), 1])
        self.ls = float(-off[body.segment_index("foot_r"), 1])
        self.hip_half = float(off[body.segment_index("thigh_r"), 2])
        self.ball = contact_point_local(body, "ball")
        self.heel = contact_point_local(body, "heel")
        self.breath = breathing(self.t, float(params.get("breathing_hz", 0.25)), rng.uniform(0, 2 * np.pi))

    # ----------------------------------------------------------------- direct DoFs
    def set(self, name: str, values: np.ndarray | float) -> None:
        i = self.body.dof_index(name)
        self.q[:, i] = torch.as_tensor(np.broadcast_to(values, (self.T,)).copy())
        self._dirty.add(i)

    def add(self, name: str, values: np.ndarray | float) -> None:
        i = self.body.dof_index(name)
        self.q[:, i] += torch.as_tensor(np.broadcast_to(values, (self.T,)).copy())
        self._dirty.add(i)

    def limit_designed(self) -> None:
        """Softly saturate the designed (not IK-solved) joint angles inside their ROM.

        Identity up to ``margin`` before a limit, then a tanh approach to 1 deg inside it:
        a smooth (C-infinity) map, so smooth designs stay C2. Root DoF are not limited.
        """
        lo, hi = self.body.dof_lower, self.body.dof_upper
        for i in sorted(self._dirty):
            if i < 6:
                continue
            x = self.q[:, i].numpy().copy()
            span = hi[i] - lo[i]
            knee = min(deg(15.0), 0.3 * span)
            for bound, sgn in ((hi[i] - deg(1.0), 1.0), (lo[i] + deg(1.0), -1.0)):
                start = bound - sgn * knee
                over = sgn * (x - start) > 0
                x[over] = start + sgn * knee * np.tanh(sgn * (x[over] - start) / knee)
            self.q[:, i] = torch.as_tensor(x)
        self._dirty.clear()

    def get(self, name: str) -> np.ndarray:
        return self.q[:, self.body.dof_index(name)].numpy().copy()

    def sym(self, name: str, values: np.ndarray | float, add: bool = False) -> None:
        """Set (or add to) ``name_r`` and ``name_l`` alike."""
        for s in SIDES:
            (self.add if add else self.set)(f"{name}_{s}", values)

    # ----------------------------------------------------------------- feet
    def foot_pose(
        self, side: str, ball_xz: tuple[float, float], toe_out: float, pitch: np.ndarray, roll=None
    ) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
        """Ankle positions ``(T, 3)`` and foot rotations ``(T, 3, 3)`` of a foot whose ball is on the
        floor at ``ball_xz`` (x, z) and whose heel is raised by ``pitch`` (rad, ``(T,)``) about the ball
        (and, standing on the ball only, rolled by ``roll`` rad about its long axis, positive = sole
        facing inwards). Also returns the ball's world position ``(3,)``."""
        m = 1.0 if side == "r" else -1.0
        r = rot("y", torch.full((self.T,), -m * toe_out)) @ rot("z", torch.as_tensor(-np.asarray(pitch)))
        if roll is not None:
            r = r @ rot("x", torch.as_tensor(m * np.broadcast_to(roll, (self.T,)).copy()))
        ball_w = np.array([ball_xz[0], 0.0, ball_xz[1]])
        ankle = torch.as_tensor(ball_w) - torch.einsum("tij,j->ti", r, torch.as_tensor(self.ball))
        return ankle, r, ball_w

    def stance_ball(self, side: str, width: float, toe_out: float, x_ankle: float = 0.0) -> tuple[float, float]:
        """Ball (x, z) of a flat foot whose ankle is at (``x_ankle``, +-``width``/2), toes out by ``toe_out``."""
        m = 1.0 if side == "r" else -1.0
        b = self.ball
        return (x_ankle + b[0] * np.cos(toe_out), m * (0.5 * width + b[0] * np.sin(toe_out)))

    # ----------------------------------------------------------------- pelvis
    def hip_over_ankle(
        self,
        ankle: torch.Tensor,
        side: str,
        knee: np.ndarray,
        shank: np.ndarray,
        lateral: np.ndarray | float = 0.0,
        x_shift: np.ndarray | float = 0.0,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Hip joint centre (x, y) that gives knee flexion ``knee`` with the shank inclined
        forward by ``shank`` (rad) from vertical, for a hip ``lateral`` m beside (and
        ``x_shift`` m in front of) where the sagittal chain puts it. The height keeps the 3-D
        hip-ankle distance of the knee angle, so the knee angle is exact."""
        a = ankle.numpy()
        m = 1.0 if side == "r" else -1.0
        dz = a[:, 2] - (m * self.hip_half + lateral)
        x = a[:, 0] + self.ls * np.sin(shank) - self.lt * np.sin(knee - shank) + x_shift
        dist2 = self.lt**2 + self.ls**2 + 2 * self.lt * self.ls * np.cos(knee)
        dy = np.sqrt(np.maximum(dist2 - (x - a[:, 0]) ** 2 - dz**2, 1e-6))
        return x, a[:, 1] + dy

    def set_pelvis(self, pos: np.ndarray, tilt: np.ndarray, lst: np.ndarray | float = 0.0, rotation=0.0) -> None:
        """Root translation ``(T, 3)`` and rotation; ``tilt`` positive = *anterior* tilt (rad)."""
        self.q[:, 0:3] = torch.as_tensor(np.asarray(pos, dtype=np.float64))
        self.set("pelvis_tilt", -np.asarray(tilt))
        self.set("pelvis_list", lst)
        self.set("pelvis_rotation", rotation)

    def add_sway(self, gain: float = 1.0) -> None:
        """Breathing-like sway: the pelvis drifts a few mm fore-aft and the trunk breathes."""
        sway = float(self.p.get("sway_m", 0.004)) * gain
        self.q[:, 0] += torch.as_tensor(sway * self.breath)
        self.q[:, 1] += torch.as_tensor(0.25 * sway * np.roll(self.breath, self.T // 7))
        self.add("thoracic_flexion", -deg(float(self.p.get("sway_deg", 0.8))) * gain * self.breath)
        self.add("neck_flexion", deg(float(self.p.get("sway_deg", 0.8))) * 0.5 * gain * self.breath)

    def add_noise(self, names: list[str]) -> None:
        """Smooth joint-angle noise (RMS ``noise_deg``) on the listed DoF."""
        amp = deg(float(self.p.get("noise_deg", 0.0)))
        if amp <= 0 or not names:
            return
        x = smooth_noise(self.t, len(names), self.rng)
        for k, n in enumerate(names):
            self.add(n, amp * x[:, k])

    # ----------------------------------------------------------------- limbs
    def pelvis_pose(self) -> tuple[torch.Tensor, torch.Tensor]:
        return euler_zxy_to_matrix(self.q[:, 3:6]), self.q[:, 0:3].clone()

    def solve_leg(self, side: str, ankle: torch.Tensor, foot_rot: torch.Tensor, valgus: np.ndarray | float) -> None:
        """Leg IK; where the hip's axial rotation comes out beyond +-41 deg or the ankle's inversion
        near its limits, the knee's swivel gives back the excess (the swivel turns the thigh and
        shank about the hip-ankle line) and the leg is solved again (up to three times), so the
        hip and ankle stay inside their AAOS ranges."""
        r_p, p = self.pelvis_pose()
        swivel = np.broadcast_to(np.asarray(valgus, dtype=np.float64), (self.T,)).copy()
        out, over = leg_ik(self.body, side, r_p, p, ankle, foot_rot, torch.as_tensor(swivel))
        for _ in range(3):
            rot_ = out[f"hip_rotation_{side}"].numpy()
            inv = out[f"ankle_inversion_{side}"].numpy()
            excess = _softplus(rot_ - HIP_ROTATION_MAX, deg(1.0)) - _softplus(-HIP_ROTATION_MAX - rot_, deg(1.0))
            # A flat foot cannot roll: the knee swivels out ("knees out") where the ankle would
            # invert past its range (in, where it would evert).
            excess = (
                excess + _softplus(inv - INVERSION_RANGE[1], deg(1.0)) - _softplus(INVERSION_RANGE[0] - inv, deg(1.0))
            )
            if not np.any(np.abs(excess) > deg(0.05)):
                break
            swivel = swivel - excess
            out, over = leg_ik(self.body, side, r_p, p, ankle, foot_rot, torch.as_tensor(swivel))
        for name, v in out.items():
            self.q[:, self.body.dof_index(name)] = v
        self.overreach = max(self.overreach, float(over.max()))

    def relieve_inversion(self, side: str, pose, pitch: np.ndarray, valgus, current):
        """Roll a foot that is up on its ball about its long axis where the solved ankle inversion
        came out near its limits (by the excess; a flat foot cannot roll). ``pose(roll)`` returns
        the foot pose for a roll; ``current`` is the pose used so far. Returns the pose used."""
        inv = self.get(f"ankle_inversion_{side}")
        over = _softplus(inv - INVERSION_RANGE[1], deg(1.0)) - _softplus(INVERSION_RANGE[0] - inv, deg(1.0))
        on_ball = np.asarray(pitch) / (np.asarray(pitch) + deg(2.0))
        roll = -over * on_ball
        if not np.any(np.abs(roll) > deg(0.05)):
            return current
        new = pose(roll)
        self.solve_leg(side, new[0], new[1], valgus)
        return new

    def trunk_fk(self) -> SimpleNamespace:
        """Segment poses of the current design (designed angles limited first): ``rotations``
        and ``origins`` as in forward kinematics, without its landmarks (not needed here)."""
        self.limit_designed()
        with torch.no_grad():
            rotations, origins = segment_poses(self.body, self.q)
        return SimpleNamespace(rotations=rotations, origins=origins)

    def solve_arm(
        self,
        side: str,
        target: torch.Tensor,
        elbow_ref: torch.Tensor,
        flare_dir: torch.Tensor,
        flare: np.ndarray | float,
        pronation: float,
        fk=None,
        hand_extension: float | None = None,
    ) -> None:
        """Arm IK to ``target`` (the knuckles of a straight wrist) from the current trunk pose."""
        if fk is None:
            self.limit_designed()
            fk = self.trunk_fk()
        sc = self.body.segment_index(f"scapula_{side}")
        ua = self.body.segment_index(f"upperarm_{side}")
        ext = float(self.L["hand"]) if hand_extension is None else hand_extension
        out, over = arm_ik(
            self.body,
            side,
            fk.rotations[:, sc],
            fk.origins[:, ua],
            target,
            elbow_ref,
            flare_dir,
            torch.as_tensor(np.broadcast_to(flare, (self.T,)).copy()),
            torch.tensor(float(pronation)),
            hand_extension=ext,
        )
        for name, v in out.items():
            self.q[:, self.body.dof_index(name)] = v
        self.overreach = max(self.overreach, float(over.max()))

    # ----------------------------------------------------------------- labels
    def heel_down(self, pitch: np.ndarray) -> np.ndarray:
        """Frames where a foot pitched by ``pitch`` about its ball has its heel within 1 mm of the floor."""
        return np.sin(np.asarray(pitch)) * float(self.ball[0] - self.heel[0]) < 1e-3

    def feet_contacts(self, heel_planted: dict[str, np.ndarray], ball_planted: dict[str, np.ndarray]) -> list[Contact]:
        out = []
        for s in SIDES:
            out.append(Contact(f"heel_{s}", f"foot_{s}", self.heel, np.asarray(heel_planted[s], dtype=bool)))
            out.append(Contact(f"ball_{s}", f"foot_{s}", self.ball, np.asarray(ball_planted[s], dtype=bool)))
        return out

    def clip(self, contacts: list[Contact], load: dict[str, Any], **extra: Any) -> Clip:
        self.limit_designed()
        extra.setdefault("ik_overreach_mm", 1000.0 * self.overreach)
        return Clip(self.q, self.tl, contacts, load, extra)


def load_spec(body: Body, mass_kg: float, position: str) -> dict[str, Any]:
    """Metadata describing an external load and where it sits on the body (kinetics adds it later).

    ``position``: ``"none"``, ``"back"`` (a bar on the upper trapezius, high-bar, about 5 cm
    below and 3 cm behind C7), ``"front_rack"``/``"hands"`` (a bar or dumbbells held in the
    fists: the load point is the midpoint of the two knuckle points).
    """
    if position == "none" or mass_kg <= 0:
        return {"mass_kg": 0.0, "position": "none", "segments": [], "points_local": []}
    if position == "back":
        p = back_bar_point_local(body)
        return {"mass_kg": float(mass_kg), "position": "back", "segments": ["thorax"], "points_local": [p.tolist()]}
    if position in ("hands", "front_rack"):
        k = contact_point_local(body, "knuckles").tolist()
        return {
            "mass_kg": float(mass_kg),
            "position": position,
            "segments": ["hand_r", "hand_l"],
            "points_local": [k, k],
        }
    raise ValueError(f"load_position must be 'none', 'back', 'front_rack' or 'hands'; got {position!r}")


def world_points(body: Body, fk, segments: list[str], points: list) -> torch.Tensor:
    """``(T, n, 3)`` world positions of points given in segment frames."""
    out = []
    for seg, p in zip(segments, points, strict=True):
        i = body.segment_index(seg)
        out.append(fk.origins[:, i] + fk.rotations[:, i] @ torch.as_tensor(np.asarray(p, dtype=np.float64)))
    return torch.stack(out, dim=1)


ECCENTRIC_FIRST = ("eccentric", "bottom", "concentric", "lockout")
CONCENTRIC_FIRST = ("concentric", "lockout", "eccentric", "bottom")


def smooth_min(a: np.ndarray, b: np.ndarray | float, k: float = np.radians(3.0)) -> np.ndarray:
    """``min(a, b)`` rounded over a width ``k`` (log-sum-exp), so that capped designs stay C2."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    lo = np.minimum(a, b)
    return lo - k * np.log1p(np.exp(-np.abs(a - b) / k))


def severity(faults: dict[str, Fault], name: str) -> float:
    f = faults.get(name)
    return float(f.severity) if f is not None else 0.0


def rushed_eccentric_s(p: dict[str, Any], faults: dict[str, Fault]) -> float:
    """The eccentric's duration. ``rushed_eccentric`` replaces it with one from
    ``p["rushed_edge_s"]`` (severity 0: just faster than the exercise's normal range) down to
    ``p["rushed_min_s"]`` (severity 1: the fastest lowering whose downward acceleration the
    floor can still support); both are set by :func:`musclepose.sim.exercises.generate`."""
    sev = severity(faults, "rushed_eccentric")
    if sev <= 0:
        return float(p["eccentric_s"])
    edge, floor = float(p["rushed_edge_s"]), float(p["rushed_min_s"])
    return edge - (edge - min(floor, edge)) * sev


def make_timeline(
    p: dict[str, Any],
    faults: dict[str, Fault],
    eccentric_first: bool,
    rng: np.random.Generator,
    names: tuple[str, str, str, str] | None = None,
) -> RepTimeline:
    """The set's schedule from the tempo parameters; ``rushed_eccentric`` shortens the eccentric."""
    from .profiles import rep_timeline

    ecc = rushed_eccentric_s(p, faults)
    con = float(p["concentric_s"])
    first, second = (ecc, con) if eccentric_first else (con, ecc)
    names = names or (ECCENTRIC_FIRST if eccentric_first else CONCENTRIC_FIRST)
    return rep_timeline(
        int(p["reps"]),
        first,
        float(p["pause_s"]),
        second,
        float(p["rest_s"]),
        float(p["fps"]),
        float(p["lead_s"]),
        float(p["tail_s"]),
        names,
        float(p.get("rep_jitter", 0.0)),
        rng,
        float(p.get("fatigue", 0.0)),
    )


def standing_legs(
    d: Design,
    width: float,
    toe_out: float,
    knee: np.ndarray,
    shank: np.ndarray,
    tilt: np.ndarray,
    pitch: dict[str, np.ndarray] | None = None,
    valgus: dict[str, np.ndarray] | None = None,
    lateral: np.ndarray | float = 0.0,
    x_shift: np.ndarray | float = 0.0,
    lst: np.ndarray | float = 0.0,
    rotation: np.ndarray | float = 0.0,
) -> dict[str, tuple[torch.Tensor, torch.Tensor, np.ndarray]]:
    """Both feet planted at ``width`` apart (ankle centres), pelvis placed for the designed knee
    and shank angles (means of the two sides), legs solved. Returns each side's foot pose."""
    zero = np.zeros(d.T)
    pitch = pitch or {"r": zero, "l": zero}
    valgus = valgus or {"r": zero, "l": zero}
    feet = {s: d.foot_pose(s, d.stance_ball(s, width, toe_out), toe_out, pitch[s]) for s in SIDES}
    hips = [d.hip_over_ankle(feet[s][0], s, knee, shank, lateral, x_shift) for s in SIDES]
    pos = np.stack(
        [0.5 * (hips[0][0] + hips[1][0]), 0.5 * (hips[0][1] + hips[1][1]), np.broadcast_to(lateral, (d.T,))], axis=1
    )
    d.set_pelvis(pos, tilt, lst, rotation)
    for s in SIDES:
        d.solve_leg(s, feet[s][0], feet[s][1], valgus[s])
    # Keep hip flexion inside its range: where the legs came out beyond ``HIP_FLEXION_MAX``
    # (wide, turned-out stances flex the hip more than the sagittal design says), tilt the
    # pelvis back by the excess and let the spine take it (same trunk), then solve again.
    flex = np.maximum(d.get("hip_flexion_r"), d.get("hip_flexion_l"))
    excess = _softplus(flex - HIP_FLEXION_MAX, deg(1.5))
    if np.any(excess > deg(0.05)):
        tilt = np.asarray(tilt) - excess
        d.add("lumbar_flexion", 0.65 * excess)
        d.add("thoracic_flexion", 0.35 * excess)
        d.set_pelvis(pos, tilt, lst, rotation)
        for s in SIDES:
            d.solve_leg(s, feet[s][0], feet[s][1], valgus[s])
    for s in SIDES:
        ball = d.stance_ball(s, width, toe_out)
        feet[s] = d.relieve_inversion(
            s, lambda roll, s=s, ball=ball: d.foot_pose(s, ball, toe_out, pitch[s], roll), pitch[s], valgus[s], feet[s]
        )
    return feet


INVERSION_RANGE = (deg(-11.0), deg(31.0))
HIP_ROTATION_MAX = deg(41.0)


HIP_FLEXION_MAX = deg(124.0)


def _softplus(x: np.ndarray, k: float) -> np.ndarray:
    """Smooth ``max(x, 0)`` over a width ``k``."""
    return k * np.logaddexp(0.0, np.asarray(x) / k)
