"""Upper-body and whole-body exercises: overhead press, bent-over row, push-up (see :mod:`.base`).

Typical values the designs follow:

- standing barbell overhead press: the bar from the front rack (elbows ~110-140 deg flexed)
  to straight arms over the mid-foot, the head moving back to let it pass (Lorenzetti et
  al. 2018, *BMC Sports Sci Med Rehabil* 10:14, review of squat/press technique cues);
- bent-over barbell row: trunk ~45-60 deg from vertical with slightly flexed knees, the
  bar pulled from hanging to the lower chest, elbows ~90-100 deg (Fenwick et al. 2009,
  *J Strength Cond Res* 23:1408-1417, rowing variants);
- push-up: the body a straight plank pivoting about the toes, elbows ~90 deg at the bottom
  and ~45 deg abducted from the trunk (Cogley et al. 2005, *J Strength Cond Res* 19:628;
  Suprak et al. 2011, *J Strength Cond Res* 25:497). The hands are fists on the floor
  (knuckle push-ups, wrists neutral): a flat-palm push-up needs 80-90 deg of wrist
  extension, beyond the 70 deg AAOS active range the body model enforces.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ...body import Body
from ...body.contact_points import contact_point_local
from .base import SIDES, Clip, Design, Fault, deg, load_spec, make_timeline, severity, standing_legs

__all__ = ["build_bent_over_row", "build_overhead_press", "build_push_up"]

_NOISE = ["lumbar_bending", "lumbar_rotation", "thoracic_bending", "thoracic_rotation", "neck_bending", "neck_rotation"]


def _side_sign(side: str) -> float:
    return 1.0 if side == "r" else -1.0


def _reach(d: Design, elbow: float | np.ndarray) -> np.ndarray:
    """Shoulder-to-knuckle distance of a straight-wristed arm with the elbow flexed ``elbow`` (rad)."""
    lu, lf = float(d.L["upperarm"]), float(d.L["forearm"] + d.L["hand"])
    return np.sqrt(lu**2 + lf**2 + 2 * lu * lf * np.cos(elbow))


def _segment_frame(fk, body: Body, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    i = body.segment_index(name)
    return fk.rotations[:, i], fk.origins[:, i]


def _asymmetry(faults: dict[str, Fault]) -> tuple[float, float]:
    f = faults.get("asymmetric_drive")
    return (f.severity, _side_sign(f.side)) if f else (0.0, 1.0)


def _static_legs(d: Design, p: dict[str, Any], knee: float, shank: float, incline: np.ndarray, share: float) -> None:
    """Stand on both feet with fixed knee and shank angles and the given trunk inclination."""
    tilt = share * incline
    d.add("lumbar_flexion", 0.65 * (incline - tilt))
    d.add("thoracic_flexion", 0.35 * (incline - tilt))
    sway = float(p.get("sway_m", 0.004)) * d.breath
    n = d.T
    standing_legs(
        d, p["stance_width_m"], deg(p["toe_out_deg"]), np.full(n, knee), np.full(n, shank), tilt, x_shift=sway
    )


# ----------------------------------------------------------------------------- overhead press
def build_overhead_press(body: Body, p: dict[str, Any], faults: dict[str, Fault], rng: np.random.Generator) -> Clip:
    """Standing barbell press from the front rack to lockout overhead and back."""
    tl = make_timeline(p, faults, eccentric_first=False, rng=rng)
    d = Design(body, tl, p, rng)
    sev = lambda n: severity(faults, n)  # noqa: E731
    u = np.clip(tl.s * tl.amplitude, 0.0, 1.0)
    a, m = _asymmetry(faults)
    arch = sev("lumbar_hyperextension")
    d.add("lumbar_flexion", -deg(14.0) * arch * (0.4 + 0.6 * u))
    d.add("thoracic_flexion", -deg(6.0) * arch * u)
    d.add("lumbar_bending", m * deg(6.0) * a * 4.0 * u * (1.0 - u))
    d.add_noise(_NOISE)
    d.add("thoracic_flexion", -deg(p.get("sway_deg", 0.8)) * d.breath)
    _static_legs(d, p, deg(4.0), deg(2.0), np.zeros(d.T), 0.0)
    d.sym("scapula_elevation", deg(22.0) * u)
    d.sym("scapula_protraction", deg(-4.0) + deg(8.0) * u)
    mid = 4.0 * u * (1.0 - u)
    d.add("neck_flexion", -deg(12.0) * mid)  # the head moves back to let the bar pass the face
    fk = d.trunk_fk()
    r_th, _ = _segment_frame(fk, body, "thorax")
    e_top = deg(5.0 + 30.0 * sev("incomplete_lockout"))
    e_rack = deg(p["depth_deg"])
    half = 0.5 * float(p["grip_width_m"])
    for s in SIDES:
        sgn = _side_sign(s)
        _, sh = _segment_frame(fk, body, f"upperarm_{s}")
        dz = half - abs(float(sh[0, 2]))
        # Knuckle positions relative to the shoulder, in thorax axes (x forward, y up, z out).
        rho = np.sqrt(max(float(_reach(d, e_rack)) ** 2 - dz**2, 1e-6))
        rack = np.array([rho * np.cos(deg(17.0)), rho * np.sin(deg(17.0)), dz])
        r1 = _reach(d, e_top)
        drift = 0.04 + 0.12 * sev("bar_path_drift")  # over the crown of the head; drift: in front of it
        top = np.array([drift, np.sqrt(max(r1**2 - dz**2 - drift**2, 1e-6)), dz])
        lag = u - (0.5 * a * u * (1.0 - u) if m == -sgn else 0.0)  # the weaker side lags
        v = (1.0 - lag)[:, None] * rack + lag[:, None] * top
        v[:, 0] += 0.04 * 4.0 * lag * (1.0 - lag)
        v[:, 2] *= sgn
        target = sh + torch.einsum("tij,tj->ti", r_th, torch.as_tensor(v))
        ref = torch.einsum("tij,j->ti", r_th, torch.tensor([0.5, -1.0, 0.0], dtype=torch.float64))
        out = torch.einsum("tij,j->ti", r_th, torch.tensor([0.0, 0.0, sgn], dtype=torch.float64))
        flare = deg(15.0) + deg(35.0) * sev("elbow_flare") * (1.0 - 0.5 * lag)
        d.solve_arm(s, target, ref, out, flare, deg(80.0), fk)
    d.sym("wrist_flexion", -deg(25.0) * (1.0 - u))  # wrists extended under the bar in the rack
    planted = np.ones(d.T, dtype=bool)
    return d.clip(
        d.feet_contacts({"r": planted, "l": planted}, {"r": planted, "l": planted}),
        load_spec(body, p["load_kg"], "front_rack"),
    )


# ----------------------------------------------------------------------------- bent-over row
def build_bent_over_row(body: Body, p: dict[str, Any], faults: dict[str, Fault], rng: np.random.Generator) -> Clip:
    """Barbell row in a hip hinge: the bar from hanging arms to the lower chest and back."""
    tl = make_timeline(p, faults, eccentric_first=False, rng=rng)
    d = Design(body, tl, p, rng)
    sev = lambda n: severity(faults, n)  # noqa: E731
    u = np.clip(tl.s * tl.amplitude, 0.0, 1.0)
    a, m = _asymmetry(faults)
    incline = deg(float(p["torso_angle_deg"])) - deg(18.0) * sev("torso_swing") * u
    rounded = sev("lumbar_flexion")
    d.add("lumbar_flexion", deg(20.0) * rounded)
    d.add("thoracic_flexion", deg(12.0) * rounded)
    d.add("thoracic_rotation", m * deg(10.0) * a * u)
    d.add_noise(_NOISE)
    d.add("thoracic_flexion", -deg(p.get("sway_deg", 0.8)) * d.breath)
    share = 0.85 - 0.3 * rounded
    _static_legs(d, p, deg(22.0), deg(10.0), incline - deg(32.0) * rounded, share)
    d.sym("scapula_protraction", deg(10.0) - deg(25.0) * u)  # the shoulder blades retract as the bar rises
    d.set("neck_flexion", -deg(25.0))
    fk = d.trunk_fk()
    r_th, o_th = _segment_frame(fk, body, "thorax")
    e_hang = deg(8.0)
    e_top = deg(p["depth_deg"]) * (1.0 - 0.4 * sev("shallow_depth"))
    half = 0.5 * float(p["grip_width_m"])
    strn = np.asarray(body.landmarks["STRN"][1])
    for s in SIDES:
        sgn = _side_sign(s)
        _, sh = _segment_frame(fk, body, f"upperarm_{s}")
        # Hanging: straight down in the world; top: at the lower chest, 4 cm in front of the sternum.
        dz = half - abs(float(sh[0, 2]))
        hang_w = sh[0] + torch.tensor([0.0, -np.sqrt(float(_reach(d, e_hang)) ** 2 - dz**2), sgn * dz])
        touch = o_th[0] + r_th[0] @ torch.tensor([strn[0] + 0.04, strn[1] - 0.06, sgn * half], dtype=torch.float64)
        touch[2] = hang_w[2]
        # Along the line from hang to touch, the point at the elbow angle ``e_top`` from the shoulder.
        lam = np.linspace(0.0, 1.0, 201)
        pts = hang_w[None] + torch.as_tensor(lam)[:, None] * (touch - hang_w)[None]
        dist = torch.linalg.norm(pts - sh[0], dim=1).numpy()
        stop = float(np.interp(-_reach(d, e_top), -dist, lam))
        hang_l = r_th[0].T @ (hang_w - sh[0])
        top_l = r_th[0].T @ (hang_w + stop * (touch - hang_w) - sh[0])
        lag = u - (0.5 * a * u * (1.0 - u) if m == -sgn else 0.0)
        v = (1.0 - torch.as_tensor(lag))[:, None] * hang_l + torch.as_tensor(lag)[:, None] * top_l
        target = sh + torch.einsum("tij,tj->ti", r_th, v)
        back = -r_th[:, :, 0]
        out = torch.einsum("tij,j->ti", r_th, torch.tensor([0.0, 0.0, sgn], dtype=torch.float64))
        flare = deg(-15.0) + deg(40.0) * sev("elbow_flare") * lag
        d.solve_arm(s, target, back, out, flare, deg(95.0), fk)
    planted = np.ones(d.T, dtype=bool)
    return d.clip(
        d.feet_contacts({"r": planted, "l": planted}, {"r": planted, "l": planted}),
        load_spec(body, p["load_kg"], "hands"),
    )


# ----------------------------------------------------------------------------- push-up
def build_push_up(body: Body, p: dict[str, Any], faults: dict[str, Fault], rng: np.random.Generator) -> Clip:
    """Push-up on the fists: a plank pivoting about the balls of the feet, hands fixed on the floor."""
    tl = make_timeline(p, faults, eccentric_first=True, rng=rng)
    sev = lambda n: severity(faults, n)  # noqa: E731
    u = np.clip(tl.s * tl.amplitude, 0.0, 1.0)
    a, m = _asymmetry(faults)
    depth = deg(p["depth_deg"]) * (1.0 - 0.45 * sev("shallow_depth"))

    def posture(d: Design, u: np.ndarray, pitch: np.ndarray) -> None:
        """Plank posture at progress ``u`` with the body ``pitch`` (rad) above horizontal."""
        sag, pike = sev("hip_sag"), sev("hip_pike")
        d.sym("hip_flexion", -deg(10.0) * sag * (0.6 + 0.4 * u) + deg(22.0) * pike)
        d.set("lumbar_flexion", -deg(12.0) * sag * (0.6 + 0.4 * u) + deg(8.0) * pike)
        d.sym("knee_flexion", deg(3.0))
        d.sym("ankle_dorsiflexion", deg(-5.0))
        d.set("neck_flexion", deg(8.0))
        d.sym("scapula_protraction", deg(10.0) - deg(22.0) * u)
        d.set("pelvis_tilt", pitch - np.pi / 2)

    def toes_at_origin(d: Design) -> None:
        fk = d.trunk_fk()
        ball = torch.as_tensor(contact_point_local(body, "ball"))
        mids = [
            fk.origins[:, i] + fk.rotations[:, i] @ ball
            for i in (body.segment_index("foot_r"), body.segment_index("foot_l"))
        ]
        d.q[:, 0:3] -= 0.5 * (mids[0] + mids[1])

    grid = np.radians(np.linspace(-25.0, 45.0, 281))
    probe = Design(body, _dummy_timeline(grid.size), p, np.random.default_rng(0))
    shoulders = {}
    for uu in (0.0, 1.0):
        probe.q.zero_()
        posture(probe, np.full(grid.size, uu), grid)
        toes_at_origin(probe)
        shoulders[uu] = probe.trunk_fk().origins[:, body.segment_index("upperarm_r")].numpy()
    half = 0.5 * float(p["grip_width_m"])
    dz = half - float(np.abs(shoulders[0.0][:, 2]).mean())
    # Top: knuckles straight below the shoulders with the elbows at 15 deg (slack for breathing
    # and noise); the body pitch follows.
    reach_top = float(_reach(probe, deg(15.0)))
    hand_y = np.sqrt(max(reach_top**2 - dz**2, 1e-6))
    pitch_top = float(np.interp(hand_y, shoulders[0.0][:, 1], grid))
    hand_x = float(np.interp(pitch_top, grid, shoulders[0.0][:, 0]))
    hands = {s: torch.tensor([hand_x, 0.0, _side_sign(s) * half], dtype=torch.float64) for s in SIDES}
    # Bottom: the pitch at which the shoulder-to-knuckle distance is that of the elbow depth.
    dist = np.sqrt((shoulders[1.0][:, 0] - hand_x) ** 2 + shoulders[1.0][:, 1] ** 2 + dz**2)
    # Use the branch between the lowest reach and the top, where the distance grows with the pitch.
    lo, hi = int(np.argmin(dist)), int(np.searchsorted(grid, pitch_top))
    pitch_bot = float(np.interp(_reach(probe, depth), dist[lo : hi + 1], grid[lo : hi + 1]))
    d = Design(body, tl, p, rng)
    posture(d, u, pitch_top + (pitch_bot - pitch_top) * u)
    d.add("thoracic_rotation", m * deg(7.0) * a * u**2)  # strongest at the bottom, where the elbows have slack
    d.add_noise(["neck_flexion", "neck_bending", "neck_rotation"])  # trunk noise would pull the hands off the floor
    d.add("thoracic_flexion", -0.5 * deg(p.get("sway_deg", 0.8)) * d.breath)
    toes_at_origin(d)
    fk = d.trunk_fk()
    r_th, _ = _segment_frame(fk, body, "thorax")
    for s in SIDES:
        sgn = _side_sign(s)
        feet = -r_th[:, :, 1]  # elbows point towards the feet ...
        out = torch.einsum("tij,j->ti", r_th, torch.tensor([0.0, 0.0, sgn], dtype=torch.float64))
        flare = deg(35.0) + deg(28.0) * sev("elbow_flare")  # ... about 45 deg out from the trunk
        d.solve_arm(s, hands[s].expand(d.T, 3), feet, out, flare, deg(90.0), fk)
    planted = np.ones(d.T, dtype=bool)
    contacts = d.feet_contacts({"r": ~planted, "l": ~planted}, {"r": planted, "l": planted})
    for s in SIDES:
        contacts.append(type(contacts[0])(f"knuckles_{s}", f"hand_{s}", contact_point_local(body, "knuckles"), planted))
    return d.clip(
        contacts, load_spec(body, p["load_kg"], "none"), pitch_deg=(np.degrees(pitch_top), np.degrees(pitch_bot))
    )


def _dummy_timeline(n: int):
    from .profiles import RepTimeline

    return RepTimeline(t=np.zeros(n), s=np.zeros(n), amplitude=np.ones(n), rep_index=np.zeros(n, dtype=np.int64))
