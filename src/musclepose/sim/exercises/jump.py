"""Jumping jacks: cyclic hops between a closed and an open stance with ballistic flights.

Each repetition is ``flight out -> open stance -> flight in -> closed stance``; the arms rise
to overhead on the way out and come down on the way in. The subject stays on the balls of
the feet (heels ~15 deg up) while hopping. The pelvis height is exactly ballistic during
each flight, ``y(t) = y0 + v0 t - g t^2 / 2`` with g = 9.81 m/s^2, with the take-off speed
that lands it at the next stance's contact height after ``flight_s``; during each stance it
is the quintic that matches position, velocity and acceleration (``-g``) at landing and at
the next take-off, so the whole trajectory is C2 (the ground force, and the acceleration,
fall to zero as the feet leave the floor). Typical jumping-jack cadence is about 0.8-0.9 Hz
(1.1-1.4 s per repetition in the CMU recordings used for calibration); flight times of
0.15-0.3 s correspond to pelvis rises of 3-11 cm (``g T^2 / 8``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ...body import Body
from .base import SIDES, Clip, Design, Fault, deg, load_spec, severity
from .profiles import RepTimeline, min_jerk, min_jerk_move, smooth_bump

__all__ = ["GRAVITY", "build_jumping_jack", "quintic"]

GRAVITY = 9.81


def quintic(t: np.ndarray, t0: float, t1: float, start: tuple, end: tuple) -> np.ndarray:
    """Quintic on ``[t0, t1]`` with position, velocity and acceleration ``start``/``end`` (C2 joins)."""
    T = t1 - t0
    p0, v0, a0 = start
    p1, v1, a1 = end
    tau = (np.asarray(t) - t0) / T
    # Hermite basis for position/velocity/acceleration at both ends.
    h = [
        1 - 10 * tau**3 + 15 * tau**4 - 6 * tau**5,
        tau - 6 * tau**3 + 8 * tau**4 - 3 * tau**5,
        0.5 * tau**2 - 1.5 * tau**3 + 1.5 * tau**4 - 0.5 * tau**5,
        10 * tau**3 - 15 * tau**4 + 6 * tau**5,
        -4 * tau**3 + 7 * tau**4 - 3 * tau**5,
        0.5 * tau**3 - tau**4 + 0.5 * tau**5,
    ]
    return h[0] * p0 + h[1] * v0 * T + h[2] * a0 * T**2 + h[3] * p1 + h[4] * v1 * T + h[5] * a1 * T**2


def _at(y: np.ndarray, t: np.ndarray, when: float) -> float:
    return float(np.interp(when, t, y))


def _schedule(p: dict[str, Any]) -> tuple[np.ndarray, list[dict], list[tuple[str, float, float]]]:
    """Frame times, per-repetition labels and the list of (kind, start, end) intervals."""
    fps, n = float(p["fps"]), int(p["reps"])
    tf, ts, prep = float(p["flight_s"]), float(p["stance_s"]), float(p["prep_s"])
    t0 = float(p["lead_s"])
    events = [("rest", 0.0, t0), ("prep", t0, t0 + prep)]
    a = t0 + prep
    reps = []
    for k in range(n):
        e = [a, a + tf, a + tf + ts, a + 2 * tf + ts, a + 2 * tf + 2 * ts]
        last = k == n - 1
        end = e[3] + prep if last else e[4]
        events += [("flight_out", e[0], e[1]), ("open", e[1], e[2]), ("flight_in", e[2], e[3])]
        events.append(("settle" if last else "closed", e[3], end))
        names = ("flight_out", "open", "flight_in", "closed")
        phases = [{"name": names[j], "start_s": e[j], "end_s": e[j + 1] if j < 3 else end} for j in range(4)]
        reps.append(
            {
                "index": k,
                "start_s": e[0],
                "extreme_s": 0.5 * (e[1] + e[2]),
                "end_s": end,
                "amplitude": 1.0,
                "phases": phases,
            }
        )
        a = e[4]
    total = events[-1][2] + float(p["tail_s"])
    events.append(("rest", events[-1][2], total))
    t = np.arange(int(np.floor(total * fps + 1e-9)) + 1) / fps
    return t, reps, events


def build_jumping_jack(body: Body, p: dict[str, Any], faults: dict[str, Fault], rng: np.random.Generator) -> Clip:
    """Jumping jacks (see the module docstring); ``depth_deg`` is the arms' peak abduction."""
    t, reps, events = _schedule(p)
    sev = lambda n: severity(faults, n)  # noqa: E731
    T = t.size
    idx = np.full(T, -1, dtype=np.int64)
    for r in reps:
        idx[t >= r["start_s"] - 1e-9] = r["index"]
    s_open = np.zeros(T)  # 0 closed, 1 open stance (feet)
    arms = np.zeros(T)  # 0 down, 1 overhead
    flight = np.zeros(T, dtype=bool)
    bump = np.zeros(T)
    stance_bump = np.zeros(T)
    for k, (kind, a, b) in enumerate(events):
        if kind == "flight_out":
            s_open += min_jerk_move(t, a, b)
            arms += min_jerk_move(t, a, events[k + 1][1] + 0.5 * (events[k + 1][2] - events[k + 1][1]))
        elif kind == "flight_in":
            s_open -= min_jerk_move(t, a, b)
            nxt = events[k + 1]
            arms -= min_jerk_move(t, a, nxt[1] + 0.5 * min(nxt[2] - nxt[1], float(p["stance_s"])))
        if kind.startswith("flight"):
            flight |= (t > a) & (t < b)
            bump += smooth_bump(t, a, b)
        elif kind in ("open", "closed", "prep", "settle"):
            stance_bump += smooth_bump(t, a, b)
    tl = RepTimeline(t=t, s=np.clip(arms, 0.0, 1.0), amplitude=np.ones(T), rep_index=idx, reps=reps)
    d = Design(body, tl, p, rng)

    toe = deg(p["toe_out_deg"])
    w_closed = float(p["closed_width_m"])
    w_open = w_closed + (float(p["stance_width_m"]) - w_closed) * (1.0 - 0.6 * sev("narrow_stance"))
    heel = deg(float(p["heel_raise_deg"]))
    first, last = events[1], [e for e in events if e[0] == "settle"][0]
    on_toes = min_jerk_move(t, first[1], first[2]) - min_jerk_move(t, last[1], last[2])
    # Push-off and touch-down roll over the balls: the ankles plantarflex 20 deg more around each
    # take-off and landing, which lengthens the leg while the ball is still (or already) down.
    w = 0.5 * min(float(p["flight_s"]), float(p["stance_s"]))
    roll = sum(smooth_bump(t, e - w, e + w) for kind, a, b in events if kind.startswith("flight") for e in (a, b))
    pitch = heel * on_toes + deg(20.0) * roll

    # Contact geometry: pelvis heights at touch-down/take-off (knees at ``contact_knee_deg``).
    k_c = deg(float(p["contact_knee_deg"]))

    def stance(width: float, pitch_now: float, knee: float) -> tuple[float, float]:
        ys, xs = [], []
        for s in SIDES:
            ankle, _, _ = d.foot_pose(s, d.stance_ball(s, width, toe), toe, np.full(T, pitch_now))
            x, y = d.hip_over_ankle(ankle, s, np.full(T, knee), np.full(T, deg(10.0)))
            xs.append(x[0])
            ys.append(y[0])
        return float(np.mean(xs)), float(np.mean(ys))

    x_p, y_c = stance(w_closed, heel, k_c)
    _, y_o = stance(w_open, heel, 0.7 * k_c)  # the spread legs land a little straighter
    _, y_rest = stance(w_closed, 0.0, deg(5.0))
    x_rest, _ = stance(w_closed, 0.0, deg(5.0))
    tf = float(p["flight_s"])
    g = GRAVITY

    def takeoff_speed(y_from: float, y_to: float) -> float:
        return (y_to - y_from) / tf + 0.5 * g * tf

    v_co, v_oc = takeoff_speed(y_c, y_o), takeoff_speed(y_o, y_c)
    y = np.full(T, y_rest)
    for kind, a, b in events:
        m = (t >= a) & (t <= b)
        if kind == "prep":
            y[m] = quintic(t[m], a, b, (y_rest, 0.0, 0.0), (y_c, v_co, -g))
        elif kind in ("flight_out", "flight_in"):
            y0, v0 = (y_c, v_co) if kind == "flight_out" else (y_o, v_oc)
            y[m] = y0 + v0 * (t[m] - a) - 0.5 * g * (t[m] - a) ** 2
        elif kind == "open":
            y[m] = quintic(t[m], a, b, (y_o, v_co - g * tf, -g), (y_o, v_oc, -g))
        elif kind == "closed":
            y[m] = quintic(t[m], a, b, (y_c, v_oc - g * tf, -g), (y_c, v_co, -g))
        elif kind == "settle":
            y[m] = quintic(t[m], a, b, (y_c, v_oc - g * tf, -g), (y_rest, 0.0, 0.0))
    x = x_rest + (x_p - x_rest) * on_toes
    # Feet in flight: they rise with the pelvis above the line joining take-off and landing
    # heights (ramped in over the first and out over the last 30 % of the flight, so they leave
    # and meet the floor with zero velocity and acceleration), plus 2 cm of clearance.
    lift = np.zeros(T)
    for kind, a, b in events:
        if kind.startswith("flight"):
            m = (t > a) & (t < b)
            u = (t[m] - a) / (b - a)
            y_lin = np.interp(t[m], [a, b], [_at(y, t, a), _at(y, t, b)])
            ramp = min_jerk(u / 0.3) * min_jerk((1.0 - u) / 0.3)
            lift[m] = (y[m] - y_lin) * ramp + 0.02 * smooth_bump(t[m], a, b)

    d.add("lumbar_flexion", deg(4.0))
    d.add("thoracic_flexion", -deg(p.get("sway_deg", 0.8)) * d.breath)
    d.add_noise(["lumbar_bending", "lumbar_rotation", "thoracic_bending", "thoracic_rotation", "neck_rotation"])
    d.set_pelvis(np.stack([x, y, np.zeros(T)], 1), deg(3.0) * np.ones(T))
    valgus = deg(8.0) * sev("knee_valgus") * stance_bump
    for s in SIDES:
        m = 1.0 if s == "r" else -1.0
        z = m * (0.5 * w_closed + 0.5 * (w_open - w_closed) * s_open)
        ball_closed = d.stance_ball(s, w_closed, toe)
        # On the balls, the feet roll with the legs' sideways slant in the open stance.
        slant = np.arctan2(0.5 * (w_open - w_closed), y_o) * s_open
        shift = torch.as_tensor(np.stack([np.zeros(T), lift, z + (ball_closed[1] - m * 0.5 * w_closed)], 1))

        def pose(extra_roll, s=s, slant=slant, ball=ball_closed, shift=shift):
            ankle, r_f, _ = d.foot_pose(s, (ball[0], 0.0), toe, pitch, roll=-0.8 * slant + extra_roll)
            return ankle + shift, r_f

        first = pose(0.0)
        d.solve_leg(s, first[0], first[1], valgus)
        d.relieve_inversion(s, pose, pitch, valgus, first)
    a, side = (
        (faults["asymmetric_drive"].severity, faults["asymmetric_drive"].side)
        if "asymmetric_drive" in faults
        else (0.0, "r")
    )
    peak = deg(p["depth_deg"]) * (1.0 - 0.45 * sev("arms_not_overhead"))
    for s in SIDES:
        weak = 1.0 - (0.3 * a if s != side else 0.0)
        d.set(f"shoulder_abduction_{s}", peak * weak * arms)
        d.set(f"scapula_elevation_{s}", 0.18 * peak * weak * arms)
        d.set(f"elbow_flexion_{s}", deg(20.0) - deg(10.0) * arms)
        d.set(f"elbow_pronation_{s}", deg(60.0))
    d.add("lumbar_bending", (1.0 if side == "r" else -1.0) * deg(5.0) * a * arms)
    planted = ~flight
    heel_down = d.heel_down(pitch) & planted
    contacts = d.feet_contacts({"r": heel_down, "l": heel_down}, {"r": planted, "l": planted})
    flights = [(a_, b_) for kind, a_, b_ in events if kind.startswith("flight")]
    return d.clip(contacts, load_spec(body, 0.0, "none"), flights_s=flights, takeoff_speed_mps=(v_co, v_oc))
