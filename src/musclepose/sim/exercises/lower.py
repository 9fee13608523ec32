"""Lower-body exercises: squat, deadlift, lunge and sit-to-stand (see :mod:`.base`).

Each builder maps the repetition progress ``u = s(t) x amplitude`` (0 standing or at rest,
1 at the extreme) onto designed angles, then plants the feet and solves the legs. Typical
values, which the defaults follow (and ``docs/validation_exercises.md`` checks against real
recordings):

- squat: 95-105 deg peak knee flexion, 26-38 deg ankle dorsiflexion, ~100 deg hip flexion,
  20-52 deg of spine flexion and a trunk (hip-to-shoulder line) 35-65 deg from vertical at the
  bottom of a bodyweight squat, hips first on the way down (the AddBiomechanics squat recording
  used for calibration; Schoenfeld 2010, *J Strength Cond Res* 24:3497-3506; ``SQUAT_NORMAL``);
- deadlift: at lift-off ~60-80 deg knee flexion, hips above the knees, trunk ~45-60 deg
  from vertical, arms near vertical with the bar over the mid-foot (Escamilla et al. 2000,
  *Med Sci Sports Exerc* 32:1265-1275);
- forward lunge: ~90 deg front knee flexion at the bottom, the rear knee near the floor on
  the ball of the rear foot (Farrokhi et al. 2008, *J Orthop Sports Phys Ther* 38:403-409);
- sit-to-stand: from a 0.43-0.46 m seat (~90-100 deg knee flexion), the trunk flexes
  forward ~30-45 deg before seat-off and then extends with the hips and knees (Schenkman et
  al. 1990, *Phys Ther* 70:638-648).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ...body import Body
from ...body.contact_points import contact_point_local
from ...body.kinematics import centre_of_mass, forward_kinematics
from .base import (
    SIDES,
    Clip,
    Contact,
    Design,
    Fault,
    _softplus,
    deg,
    load_spec,
    make_timeline,
    rushed_eccentric_s,
    severity,
    smooth_min,
    standing_legs,
    world_points,
)
from .ik import leg_ik
from .profiles import min_jerk_move, smooth_bump

__all__ = ["SQUAT_NORMAL", "build_deadlift", "build_lunge", "build_sit_to_stand", "build_squat"]

_UPPER_NOISE = [
    "lumbar_bending",
    "lumbar_rotation",
    "thoracic_bending",
    "thoracic_rotation",
    "neck_flexion",
    "neck_bending",
    "neck_rotation",
    "wrist_flexion_r",
    "wrist_flexion_l",
]
_UP = np.array([0.0, 1.0, 0.0])


def _side_sign(side: str) -> float:
    return 1.0 if side == "r" else -1.0


def _valgus(d: Design, fault: Fault | None, profile: np.ndarray, max_deg: float) -> dict[str, np.ndarray]:
    """Knee swivel per side: both knees cave unless the fault names one side."""
    out = {s: np.zeros(d.T) for s in SIDES}
    if fault is None:
        return out
    for s in SIDES:
        if fault.side in ("both", s):
            out[s] = deg(max_deg) * fault.severity * profile
    return out


def _trunk(d: Design, incline: np.ndarray, share: float, hip_cap: np.ndarray, lumbar_share: float = 0.65):
    """Split a trunk inclination (rad from vertical) between pelvis tilt (``share`` of it, but
    smoothly capped at ``hip_cap``) and the lumbar/thoracic spine; returns the anterior pelvis
    tilt and adds the rest to the spine."""
    tilt = smooth_min(share * np.asarray(incline), hip_cap)
    spine = incline - tilt
    d.add("lumbar_flexion", lumbar_share * spine)
    d.add("thoracic_flexion", (1.0 - lumbar_share) * spine)
    return tilt


def _arms_to_bar(
    d: Design, bar: torch.Tensor, axis: torch.Tensor, grip: float, elbow_ref, flare_dir: dict, flare, pronation: float
) -> None:
    """Both arms to grips ``grip`` m apart along ``axis`` (T, 3) on a bar centred at ``bar`` (T, 3)."""
    fk = d.trunk_fk()
    for s in SIDES:
        target = bar + _side_sign(s) * 0.5 * grip * axis
        d.solve_arm(s, target, elbow_ref, flare_dir[s], flare, pronation, fk)


def _hold_neck(d: Design, fk=None) -> None:
    """Keep the gaze roughly level: the neck extends by half the thorax's forward inclination."""
    fk = fk or d.trunk_fk()
    y = fk.rotations[:, d.body.segment_index("thorax"), :, 1]
    incline = torch.atan2(y[:, 0], y[:, 1]).numpy()
    d.add("neck_flexion", -0.5 * incline)


# ----------------------------------------------------------------------------- squat
# The normal range of a clean squat's angles at the bottom, per degree of knee flexion (the
# randomisation draws each subject's rate from it; registry.GENERATORS["squat"].ranges):
# - spine flexion (thorax on pelvis): 20-52 deg at 100 deg of knee flexion. Lumbar flexion alone
#   grows 13-26 deg over the descent of a back squat (McKean, Dunn & Burkett 2010, J Strength
#   Cond Res 24:2731; women 13, men 26), and the lower thoracic spine adds to it between the
#   pelvis and the thorax; OpenSim's own IK of the AddBiomechanics squat (squats1, ~101 deg)
#   reads 43-56 deg of lumbar flexion at the bottoms (its single lumbar joint spans pelvis to
#   thorax), toward the range's top. The previous generator held 10-15 deg.
# - pelvis (anterior) tilt: 28-40 deg, around the previous engine's 36 (OpenSim's IK of squats1
#   reads less, 22-33 deg, at its bottoms).
# The shank's lean is not drawn: it is the one that brings the centre of mass (with the load) over
# the mid-foot at the bottom (:func:`_balanced_shank`), so the hips go back as the trunk leans,
# and a subject whose trunk leans more has more upright shins (as less mobile ankles go with
# more trunk lean, Fuglsang et al. 2017, J Strength Cond Res 31:3024). The hip-to-shoulder line
# then leans 33-70 deg from vertical at the bottom (means 49 and 59 deg at 80-100 and 100-118
# deg of knee flexion; a trunk 40-50 deg from vertical in parallel squats, Schoenfeld 2010) and
# the shins 12-37 deg.
SQUAT_NORMAL = {"spine_per_depth": (0.20, 0.52), "tilt_per_depth": (0.28, 0.40)}
_SPINE_LAG = 3.0  # the spine flexes late, near the bottom: s^3 of it at progress s
_SPINE_CAP = deg(50.0)  # a clean squat's spine flexion at any depth
_LEAN_FAULT = deg(30.0)  # the most a forward-lean fault adds to the trunk's inclination


def _balanced_shank(
    d: Design,
    guesses: tuple[np.ndarray, np.ndarray],
    progress: np.ndarray,
    legs,
    load: dict[str, Any],
    extra: np.ndarray | float = 0.0,
    steps: int = 2,
) -> np.ndarray:
    """The shank lean (rad per frame) ``a * guesses[0] + b * guesses[1]`` whose centre of mass (body
    and ``load``) moves from where it stood towards the mid-foot with ``progress``, reaching it at the
    bottom: (a, b) from Newton steps on the legs solved by ``legs(shank)`` at the deepest frame and
    at half depth. The two profiles follow the trunk's lean and the spine's (later) flexion, so the
    shins lean back as the spine carries the trunk forward, at its pace: the centre of mass stays
    over the feet all the way (Schoenfeld 2010: the bottom of a squat holds it over the mid-foot).
    The legs are left solved for the result plus ``extra`` (a fault's lean beyond the balance)."""
    q0, body = d.q.clone(), d.body
    first = int(np.argmax(progress > 0.95))  # the first descent's bottom, and its half-way frame
    frames = np.array([first, int(np.argmax(progress > 0.5 * progress[first]))])
    mb = float(body.tensors(d.q.dtype, d.q.device).masses.sum())

    def offsets(ab: np.ndarray) -> np.ndarray:
        d.q = q0.clone()
        legs(ab[0] * guesses[0] + ab[1] * guesses[1])
        with torch.no_grad():
            q = d.q[frames]
            c = centre_of_mass(body, q)[:, 0]
            fk = forward_kinematics(body, q)
            if load["mass_kg"] > 0:
                pt = world_points(body, fk, load["segments"], load["points_local"]).mean(1)[:, 0]
                c = (mb * c + load["mass_kg"] * pt) / (mb + load["mass_kg"])
            mid = torch.as_tensor(0.5 * (np.asarray(d.ball) + np.asarray(d.heel)))
            foot = world_points(body, fk, ["foot_r", "foot_l"], [mid, mid]).mean(1)[:, 0]
        c0 = float(centre_of_mass(body, d.q[:1])[0, 0])  # standing, before the descent
        target = c0 + (foot.numpy() - c0) * progress[frames]
        return c.numpy() - target

    ab, h = np.array([1.0, 0.0]), 0.05
    for _ in range(steps):
        e = offsets(ab)
        jac = np.stack([(offsets(ab + h * np.eye(2)[i]) - e) / h for i in range(2)], axis=1)
        ab = ab - np.linalg.lstsq(jac, e, rcond=None)[0]
    shank = np.clip(ab[0] * guesses[0] + ab[1] * guesses[1], 0.0, deg(45.0)) + extra
    d.q = q0.clone()
    legs(shank)
    return shank


def build_squat(body: Body, p: dict[str, Any], faults: dict[str, Fault], rng: np.random.Generator) -> Clip:
    tl = make_timeline(p, faults, eccentric_first=True, rng=rng)
    d = Design(body, tl, p, rng)
    u = tl.s * tl.amplitude
    f = {n: severity(faults, n) for n in faults}
    sev = lambda n: f.get(n, 0.0)  # noqa: E731

    k0 = deg(5.0)
    depth = deg(p["depth_deg"]) * (1.0 - 0.45 * sev("shallow_depth"))
    knee = k0 + (depth - k0) * u
    # The pelvis tilts with the knees, the spine flexes late, near the bottom (as in a real deep
    # bodyweight squat: squats1's spine gains two thirds of its flexion in the last third of the
    # descent) and the shins lean as the balance asks. Each angle at the bottom grows with depth at
    # this subject's rate (``*_per_depth``, drawn from SQUAT_NORMAL by the randomisation); a fault
    # starts from the edge of that normal range, so that it is the excess beyond the normal for
    # this depth.
    prog = np.clip(tl.s, 0.0, 1.0)
    u_spine = prog**_SPINE_LAG * tl.amplitude
    fl, lumbar = sev("forward_lean"), sev("lumbar_flexion")
    # A first guess of the shank's lean (~ankle dorsiflexion), before balancing.
    shank = min(0.32 * depth, deg(38.0)) * u
    tilt_rate = SQUAT_NORMAL["tilt_per_depth"][1] if fl > 0 else p["tilt_per_depth"]
    spine_rate = SQUAT_NORMAL["spine_per_depth"][1] if lumbar > 0 else p["spine_per_depth"]
    hip_cap = deg(122.0) - (knee - shank)  # keep hip flexion inside the AAOS range with a margin
    # Forward lean adds up to _LEAN_FAULT of trunk inclination, 72 % of it at the hips.
    tilt = smooth_min((tilt_rate * depth + 0.72 * _LEAN_FAULT * fl) * u, hip_cap)
    spine = smooth_min(spine_rate * depth, _SPINE_CAP) * u_spine + 0.28 * _LEAN_FAULT * fl * u
    d.add("lumbar_flexion", 0.65 * spine)
    d.add("thoracic_flexion", 0.35 * spine)
    wink = lumbar * u**2
    tilt = tilt - deg(10.0) * wink
    d.add("lumbar_flexion", deg(26.0) * wink)

    asym = faults.get("asymmetric_drive")
    a = asym.severity if asym else 0.0
    m = _side_sign(asym.side) if asym else 1.0
    lateral = m * 0.04 * a * u
    pitch = {s: deg(18.0) * sev("heel_lift") * u for s in SIDES}
    valgus = _valgus(d, faults.get("knee_valgus"), u, 14.0)
    d.add_noise(_UPPER_NOISE)
    sway = float(p.get("sway_m", 0.004)) * d.breath
    load = load_spec(body, p["load_kg"], p["load_position"])
    if load["position"] == "back":
        # Hands on a bar across the upper back (grip ~0.8 m): retracted scapulae, extended and
        # externally rotated shoulders, flexed elbows; found by a grid search that puts the
        # knuckles within ~5 cm of the bar on the standard body without leaving the ROM.
        d.sym("scapula_protraction", deg(-20.0))
        d.sym("scapula_elevation", deg(10.0))
        d.sym("shoulder_flexion", deg(-55.0))
        d.sym("shoulder_abduction", deg(32.0))
        d.sym("shoulder_rotation", deg(-78.0))
        d.sym("elbow_flexion", deg(130.0))
        d.sym("elbow_pronation", deg(75.0))
    else:
        d.sym("shoulder_flexion", deg(15.0) + deg(65.0) * u)
        d.sym("elbow_flexion", deg(12.0))
        d.sym("elbow_pronation", deg(70.0))

    def legs(sh: np.ndarray) -> None:
        standing_legs(
            d,
            p["stance_width_m"],
            deg(p["toe_out_deg"]),
            knee,
            sh,
            tilt,
            pitch,
            valgus,
            lateral,
            sway,
            lst=-m * deg(2.5) * a * u,
            rotation=m * deg(5.0) * a * u,
        )

    # Bar drift: the knees travel forward and the upper back rounds, the load ahead of the balance.
    _balanced_shank(d, (shank, shank[np.argmax(u)] * u_spine), u, legs, load, deg(6.0) * sev("bar_path_drift") * u)
    d.add("thoracic_flexion", deg(16.0) * sev("bar_path_drift") * u)
    d.add("thoracic_flexion", -deg(p.get("sway_deg", 0.8)) * d.breath)
    _hold_neck(d)
    planted = np.ones(d.T, dtype=bool)
    heel = d.heel_down(pitch["r"])
    return d.clip(d.feet_contacts({"r": heel, "l": heel}, {"r": planted, "l": planted}), load)


# ----------------------------------------------------------------------------- deadlift
BAR_HEIGHT_M = 0.225  # bar centre above the floor on 450 mm plates (IWF/IPF plate diameter)
ARM_BACK = deg(6.0)  # the straight arms slant back from vertical, keeping the bar over the mid-foot


def _thorax_incline(fk, body: Body) -> np.ndarray:
    """Forward inclination (rad) of the thorax's long axis in the sagittal plane."""
    y = fk.rotations[:, body.segment_index("thorax"), :, 1]
    return torch.atan2(y[:, 0], y[:, 1]).numpy()


def build_deadlift(body: Body, p: dict[str, Any], faults: dict[str, Fault], rng: np.random.Generator) -> Clip:
    """Conventional deadlift from the floor: rest with the bar on the floor, pull, lock out, lower."""
    tl = make_timeline(p, faults, eccentric_first=False, rng=rng)
    d = Design(body, tl, p, rng)
    sev = lambda n: severity(faults, n)  # noqa: E731
    u = tl.s * tl.amplitude  # 0 at the floor, 1 at lockout
    down = 1.0 - np.clip(u, 0.0, 1.0)
    # The knees extend first and the hips follow (the trunk angle holds while the bar passes
    # the knees); "forward_lean" (hips rising early) exaggerates the delay.
    c = 0.3 + 0.6 * sev("forward_lean")
    dk = down - c * down * (1.0 - down)
    dt = down + c * down * (1.0 - down)
    lock = sev("incomplete_lockout")
    k_top, k_bot = deg(3.0 + 12.0 * lock), deg(p["depth_deg"])
    knee = k_top + (k_bot - k_top) * dk
    shank = deg(0.25 * p["depth_deg"]) * dk
    # Trunk inclination at the floor: solved so the straight arms reach the bar (below).
    incl_top = deg(15.0) * lock
    incl_bot = _deadlift_trunk(body, p, k_bot, deg(0.25 * p["depth_deg"]), sev("lumbar_flexion"))
    incline = incl_top + (incl_bot - incl_top) * dt
    hip_cap = deg(120.0) - (knee - shank)
    tilt = _trunk(d, incline, 0.75, hip_cap)
    rounded = sev("lumbar_flexion") * dt
    d.add("lumbar_flexion", deg(24.0) * rounded)
    d.add("thoracic_flexion", deg(10.0) * rounded)
    tilt = tilt - deg(8.0) * rounded
    asym = faults.get("asymmetric_drive")
    a = asym.severity if asym else 0.0
    m = _side_sign(asym.side) if asym else 1.0
    mid = 4.0 * dk * (1.0 - dk)  # mid-pull
    valgus = _valgus(d, faults.get("knee_valgus"), dk, 14.0)
    d.add_noise(_UPPER_NOISE)
    d.add("thoracic_flexion", -deg(p.get("sway_deg", 0.8)) * d.breath)
    sway = float(p.get("sway_m", 0.004)) * d.breath
    standing_legs(
        d,
        p["stance_width_m"],
        deg(p["toe_out_deg"]),
        knee,
        shank,
        tilt,
        None,
        valgus,
        m * 0.04 * a * mid,
        sway,
        lst=-m * deg(3.0) * a * mid,
        rotation=m * deg(6.0) * a * mid,
    )
    # Straight arms hanging vertically (the bar under the shoulders); bar drift swings them forward.
    d.sym("scapula_protraction", deg(8.0) * dk)
    d.sym("elbow_flexion", deg(4.0))
    d.sym("elbow_pronation", deg(95.0))
    fk = d.trunk_fk()
    d.sym("shoulder_flexion", _thorax_incline(fk, body) - ARM_BACK + deg(16.0) * sev("bar_path_drift") * mid)
    d.sym("shoulder_abduction", np.arctan2(0.5 * (p["grip_width_m"] - body.lengths["shoulder_width"]), 0.6))
    _hold_neck(d, fk)
    planted = np.ones(d.T, dtype=bool)
    load = load_spec(body, p["load_kg"], "hands")
    return d.clip(d.feet_contacts({"r": planted, "l": planted}, {"r": planted, "l": planted}), load)


def _deadlift_trunk(body: Body, p: dict[str, Any], knee: float, shank: float, rounded: float) -> float:
    """Trunk inclination (rad) at which straight, vertical arms put the knuckles at bar height."""
    from .profiles import RepTimeline

    grid = np.radians(np.linspace(10.0, 85.0, 76))
    n = grid.size
    tl = RepTimeline(t=np.zeros(n), s=np.zeros(n), amplitude=np.ones(n), rep_index=np.zeros(n, dtype=np.int64))
    d = Design(body, tl, dict(p, sway_m=0.0), np.random.default_rng(0))
    tilt = _trunk(d, grid, 0.75, deg(120.0) - (knee - shank))
    d.add("lumbar_flexion", deg(24.0) * rounded)
    d.add("thoracic_flexion", deg(10.0) * rounded)
    tilt = tilt - deg(8.0) * rounded
    kk, ss = np.full(n, knee), np.full(n, shank)
    standing_legs(d, p["stance_width_m"], deg(p["toe_out_deg"]), kk, ss, tilt)
    d.sym("elbow_flexion", deg(4.0))
    fk = d.trunk_fk()
    d.sym("shoulder_flexion", _thorax_incline(fk, body) - ARM_BACK)
    fk = d.trunk_fk()
    knuckles = world_points(body, fk, ["hand_r"], [contact_point_local(body, "knuckles").tolist()])[:, 0, 1].numpy()
    # Knuckle height falls as the trunk inclines; interpolate the crossing of the bar height.
    order = np.argsort(knuckles)
    return float(np.interp(BAR_HEIGHT_M, knuckles[order], grid[order]))


# ----------------------------------------------------------------------------- lunge
def _lunge_timeline(p: dict[str, Any], faults: dict[str, Fault], rng: np.random.Generator):
    """Per repetition: step out, descend, pause, rise, step back, rest. Returns the timeline,
    the stepping progress (0 home, 1 stepped out) and the lead side of each repetition."""
    from .profiles import RepTimeline

    ecc = rushed_eccentric_s(p, faults)
    con, pause, rest, step = float(p["concentric_s"]), float(p["pause_s"]), float(p["rest_s"]), float(p["step_s"])
    fps, n = float(p["fps"]), int(p["reps"])
    jit = float(p.get("rep_jitter", 0.0))

    def vary(x: float) -> float:
        return x * (1.0 + rng.uniform(-jit, jit)) if jit else x

    lead = p.get("lead", "alternate")
    sides = [("r" if k % 2 == 0 else "l") if lead == "alternate" else lead for k in range(n)]
    plan, t0 = [], float(p["lead_s"])
    for k in range(n):
        dur = [vary(step), vary(ecc), vary(pause), vary(con), vary(step), vary(rest)]
        dur[3] *= 1.0 + float(p.get("fatigue", 0.0)) * k / max(n - 1, 1)  # rep_timeline's fatigue
        plan.append((t0, dur, vary(1.0)))
        t0 += sum(dur[:5]) + (dur[5] if k < n - 1 else 0.0)
    t = np.arange(int(np.floor((t0 + float(p["tail_s"])) * fps + 1e-9)) + 1) / fps
    s, sig = np.zeros_like(t), np.zeros_like(t)
    amp, idx = np.ones_like(t), -np.ones(t.size, dtype=np.int64)
    reps = []
    names = ("step_out", "eccentric", "bottom", "concentric", "step_back", "lockout")
    for k, (a, dur, am) in enumerate(plan):
        edges = np.cumsum([a, *dur])
        sig += min_jerk_move(t, edges[0], edges[1]) - min_jerk_move(t, edges[4], edges[5])
        s += min_jerk_move(t, edges[1], edges[2]) - min_jerk_move(t, edges[3], edges[4])
        switch = a - 0.5 * (plan[k - 1][1][5] if k else float(p["lead_s"]))
        amp[t >= switch], idx[t >= switch] = am, k
        count = 6 if k < n - 1 else 5
        phases = [{"name": names[j], "start_s": edges[j], "end_s": edges[j + 1]} for j in range(count)]
        reps.append(
            {
                "index": k,
                "start_s": a,
                "extreme_s": 0.5 * (edges[2] + edges[3]),
                "end_s": edges[5],
                "amplitude": am,
                "lead": sides[k],
                "phases": phases,
            }
        )
    tl = RepTimeline(t=t, s=np.clip(s, 0, 1), amplitude=amp, rep_index=idx, reps=reps)
    return tl, np.clip(sig, 0, 1), sides


def build_lunge(body: Body, p: dict[str, Any], faults: dict[str, Fault], rng: np.random.Generator) -> Clip:
    """Forward lunge: step out, lower until the front knee is at ``depth_deg``, rise, step back."""
    tl, sig, sides = _lunge_timeline(p, faults, rng)
    d = Design(body, tl, p, rng)
    sev = lambda n: severity(faults, n)  # noqa: E731
    u = tl.s * tl.amplitude
    lead_r = np.array([sides[i] == "r" if i >= 0 else True for i in tl.rep_index])
    lead = {"r": lead_r, "l": ~lead_r}
    width, toe = float(p["stance_width_m"]), deg(p["toe_out_deg"])
    step = float(p["step_length_m"])
    depth = deg(p["depth_deg"]) * (1.0 - 0.35 * sev("shallow_depth"))
    front_shank = deg(10.0 + 14.0 * sev("knee_over_toe"))
    incline = (deg(8.0) + deg(22.0) * sev("forward_lean")) * u + deg(3.0) * sig
    tilt = _trunk(d, incline, 0.6, np.full(d.T, deg(90.0)))
    tilt = tilt + deg(8.0) * u  # anterior pelvic tilt relieves the rear hip's extension at the bottom
    d.add_noise(_UPPER_NOISE)
    d.add("thoracic_flexion", -deg(p.get("sway_deg", 0.8)) * d.breath)

    # The lead foot swings (flat, 6 cm clearance) to ``step`` in front; the rear foot keeps its ball down.
    home = {s: d.stance_ball(s, width, toe) for s in SIDES}
    swings = [(ph["start_s"], ph["end_s"]) for r in tl.reps for ph in r["phases"] if ph["name"].startswith("step")]
    clear = 0.06 * np.sum([smooth_bump(tl.t, a, b) for a, b in swings], axis=0)
    heel_front = deg(15.0) * sev("heel_lift") * u
    shift = np.stack([step * sig, clear, np.zeros(d.T)], 1)

    def foot(s: str, pitch: np.ndarray):
        ankle, r_f, _ = d.foot_pose(s, home[s], toe, pitch)
        return ankle + torch.as_tensor(shift * lead[s][:, None]), r_f

    fa = torch.where(torch.as_tensor(lead_r)[:, None], foot("r", heel_front)[0], foot("l", heel_front)[0])
    fa_home = fa - torch.as_tensor(shift)
    fa = fa_home + torch.tensor([step, 0.0, 0.0], dtype=torch.float64)  # where the lead foot lands
    n = d.T

    # Pelvis key poses: standing; the step's touchdown (front knee 30 deg, front shin slanting
    # back); the bottom (front knee at depth). It travels smoothly between them.
    def hip(ankle: torch.Tensor, knee: float, shank: float) -> tuple[np.ndarray, np.ndarray]:
        both = [d.hip_over_ankle(ankle, s, np.full(n, knee), np.full(n, shank)) for s in SIDES]
        return tuple(np.where(lead_r, both[0][j], both[1][j]) for j in (0, 1))

    x0, y0 = hip(fa_home, deg(5.0), 0.0)
    x1, y1 = hip(fa, deg(30.0), deg(-25.0))
    # The bottom's fore-aft position is that of the nominal depth (a shallow lunge stops higher
    # over the same point; a knee-over-toe lunge drives it forward).
    x2, _ = hip(fa, deg(p["depth_deg"]), front_shank)
    a = fa.numpy()
    dz = np.abs(a[:, 2]) - d.hip_half
    reach2 = d.lt**2 + d.ls**2 + 2 * d.lt * d.ls * np.cos(depth)
    y2 = a[:, 1] + np.sqrt(np.maximum(reach2 - (x2 - a[:, 0]) ** 2 - dz**2, 1e-6))
    sway = float(p.get("sway_m", 0.004)) * d.breath
    x = x0 + (x1 - x0) * sig + (x2 - x1) * u + sway
    y = y0 + (y1 - y0) * sig + (y2 - y1) * u
    d.set_pelvis(np.stack([x, y, np.zeros(n)], 1), tilt)
    rear_pitch = _rear_heel_pitch(d, home, toe, lead_r) * (0.6 * sig + 0.4 * u)
    valgus = _valgus(d, faults.get("knee_valgus"), u, 14.0)
    planted_heel, planted_ball = {}, {}
    for s in SIDES:
        # The rear heel rises further wherever the rear leg would otherwise need to be longer
        # than with the knee 8 deg bent (a smooth max, so the motion stays C2).
        need = _rear_pitch_for_reach(d, s, home[s], toe, deg(8.0))
        rear = rear_pitch + sig * _softplus(need - rear_pitch, deg(2.0))  # 0 at rest: sides swap there
        pitch = np.where(lead[s], heel_front, rear)
        ankle, r_f = foot(s, pitch)
        d.solve_leg(s, ankle, r_f, np.where(lead[s], valgus[s], 0.0))
        swinging = lead[s] & (sig > 0) & (sig < 1)
        planted_ball[s] = ~swinging
        planted_heel[s] = ~swinging & d.heel_down(pitch)
    d.sym("shoulder_abduction", deg(8.0))
    d.sym("elbow_flexion", deg(10.0))
    d.sym("elbow_pronation", deg(80.0))
    _hold_neck(d)
    load = load_spec(body, p["load_kg"], p["load_position"])
    return d.clip(d.feet_contacts(planted_heel, planted_ball), load, lead=sides)


def _rear_pitch_for_reach(d: Design, side: str, ball_xz, toe: float, knee: float) -> np.ndarray:
    """Per frame, the heel pitch (rad) about the ball at which the hip-ankle distance equals that
    of a knee flexed ``knee`` (bisection; raising the heel brings the ankle towards the hip)."""
    r_p, pos = d.pelvis_pose()
    hip = pos + torch.einsum(
        "tij,j->ti", r_p, torch.tensor(np.array(d.body.offsets[d.body.segment_index(f"thigh_{side}")]))
    )
    target = np.sqrt(d.lt**2 + d.ls**2 + 2 * d.lt * d.ls * np.cos(knee))
    lo, hi = np.full(d.T, -0.5), np.full(d.T, 1.2)
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        ankle, _, _ = d.foot_pose(side, ball_xz, toe, mid)
        too_far = torch.linalg.norm(ankle - hip, dim=1).numpy() > target
        lo, hi = np.where(too_far, mid, lo), np.where(too_far, hi, mid)
    return 0.5 * (lo + hi)


def _rear_heel_pitch(d: Design, home, toe: float, lead_r: np.ndarray, dorsi_target: float = deg(12.0)) -> float:
    """Heel pitch (rad) of the rear foot at the bottom that leaves ~12 deg of ankle dorsiflexion."""
    i = int(np.argmax(d.tl.s))
    side = "l" if lead_r[i] else "r"
    grid = np.radians(np.linspace(0.0, 70.0, 141))
    r_p, pos = d.pelvis_pose()
    n = grid.size
    tl = type(d.tl)(t=np.zeros(n), s=np.zeros(n), amplitude=np.ones(n), rep_index=np.zeros(n, dtype=np.int64))
    g = Design(d.body, tl, d.p, np.random.default_rng(0))
    ankle, r_f, _ = g.foot_pose(side, home[side], toe, grid)
    out, over = leg_ik(d.body, side, r_p[i].expand(n, 3, 3), pos[i].expand(n, 3), ankle, r_f, torch.zeros(n))
    dorsi = out[f"ankle_dorsiflexion_{side}"].numpy()
    cost = np.abs(dorsi - dorsi_target) + 10.0 * over.numpy()
    return float(grid[int(np.argmin(cost))])


# ----------------------------------------------------------------------------- sit-to-stand
ISCHIAL_DROP_M = 0.09  # ischial tuberosities below the hip joint centres when seated (approx.)


def build_sit_to_stand(body: Body, p: dict[str, Any], faults: dict[str, Fault], rng: np.random.Generator) -> Clip:
    """Chair rise and sit: seated rest, trunk flexes forward, seat-off, extension to standing, sit back."""
    tl = make_timeline(p, faults, eccentric_first=False, rng=rng)
    d = Design(body, tl, p, rng)
    sev = lambda n: severity(faults, n)  # noqa: E731
    u = np.clip(tl.s * tl.amplitude, 0.0, 1.0)  # 0 seated, 1 standing
    # Knee extension lags the trunk's forward lean (momentum transfer before seat-off).
    uk = u**3 * (10.0 - 15.0 * u + 6.0 * u**2)
    lean = 6.75 * u * (1.0 - u) ** 2  # peaks (1) at u = 1/3, before the knees extend
    lock = sev("incomplete_lockout")
    k_seat, k_top = deg(p["depth_deg"]), deg(4.0 + 14.0 * lock)
    knee = k_seat + (k_top - k_seat) * uk
    shank = deg(8.0) * (1.0 - uk)
    incline = deg(12.0) * (1.0 - uk) + (deg(35.0) + deg(20.0) * sev("forward_lean")) * lean + deg(14.0) * lock * uk
    hip_cap = deg(122.0) - (knee - shank)
    tilt = _trunk(d, incline, 0.7, hip_cap)
    asym = faults.get("asymmetric_drive")
    a = asym.severity if asym else 0.0
    m = _side_sign(asym.side) if asym else 1.0
    mid = 4.0 * uk * (1.0 - uk)
    valgus = _valgus(d, faults.get("knee_valgus"), 1.0 - uk, 12.0)
    pitch = {s: deg(15.0) * sev("heel_lift") * mid for s in SIDES}
    d.add_noise(_UPPER_NOISE)
    d.add("thoracic_flexion", -deg(p.get("sway_deg", 0.8)) * d.breath)
    sway = float(p.get("sway_m", 0.004)) * d.breath * uk
    standing_legs(
        d,
        p["stance_width_m"],
        deg(p["toe_out_deg"]),
        knee,
        shank,
        tilt,
        pitch,
        valgus,
        m * 0.05 * a * mid,
        sway,
        lst=-m * deg(4.0) * a * mid,
        rotation=m * deg(6.0) * a * mid,
    )
    # Arms crossed over the chest, as in the 30-s chair-stand test (Jones et al. 1999, Res Q Exerc Sport 70:113).
    d.sym("shoulder_flexion", deg(45.0))
    d.sym("shoulder_abduction", deg(10.0))
    d.sym("shoulder_rotation", deg(60.0))
    d.sym("elbow_flexion", deg(125.0))
    d.sym("elbow_pronation", deg(80.0))
    _hold_neck(d)
    seat_y = float(d.q[0, 1]) - ISCHIAL_DROP_M
    seated = uk < 1e-4
    planted = np.ones(d.T, dtype=bool)
    heel = d.heel_down(pitch["r"])
    contacts = d.feet_contacts({"r": heel, "l": heel}, {"r": planted, "l": planted})
    contacts.append(Contact("seat", "pelvis", np.array([-0.03, -ISCHIAL_DROP_M, 0.0]), seated))
    return d.clip(contacts, load_spec(body, p["load_kg"], "none"), seat_height_m=seat_y)
