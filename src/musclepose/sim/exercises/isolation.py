"""Standing isolation exercises of the arms: biceps curl, front raise, shoulder shrug (see :mod:`.base`).

They exist so that the 2-D form models of these exercises (the Pose Trainer set, Chen & Yang 2018)
can be pre-trained on synthetic people before they are adapted to real labels. They are not in the
engine's default draw (:data:`.registry.GENERATORS`): :data:`ISOLATION_GENERATORS` is asked for
by name. Typical values the designs follow (Pose Trainer's published heuristics and ordinary
strength-training technique): a curl from hanging arms (elbow 5-15 deg) to 125-150 deg of elbow
flexion with the upper arm still (< 35 deg of swing); a front raise with near-straight arms to
about shoulder height (arm elevation 85-110 deg); a shrug lifting the shoulder girdle 20-35 deg with
straight arms. Faults: ``upper_arm_swing`` (the shoulder flexes up to 25-65 deg during the curl),
``partial_range`` (the end of the range not reached: curl below 115 deg, raise below 80 deg, shrug
below half its range), ``torso_swing`` (the trunk rocks back 8-20 deg to help), ``elbow_bend`` (the
elbows bend 30-60 deg during a shrug). Each fault at severity 0 already lies beyond the normal range.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...body import Body
from .base import SIDES, Clip, Design, Fault, deg, load_spec, make_timeline, severity, standing_legs

__all__ = ["build_bicep_curl", "build_front_raise", "build_shoulder_shrug"]

_NOISE = ["lumbar_bending", "lumbar_rotation", "thoracic_bending", "thoracic_rotation", "neck_bending", "neck_rotation"]


def _stand(d: Design, p: dict[str, Any], swing: np.ndarray) -> None:
    """Both feet planted, knees nearly straight, the trunk rocking back by ``swing`` (rad, (T,))."""
    d.add("lumbar_flexion", -0.65 * swing)
    d.add("thoracic_flexion", -0.35 * swing)
    d.add_noise(_NOISE)
    d.add("thoracic_flexion", -deg(p.get("sway_deg", 0.8)) * d.breath)
    n = d.T
    sway = float(p.get("sway_m", 0.003)) * d.breath
    standing_legs(d, p["stance_width_m"], deg(p["toe_out_deg"]), np.full(n, deg(4.0)), np.full(n, deg(2.0)),
                  np.zeros(n), x_shift=sway)  # fmt: skip


def _finish(d: Design, p: dict[str, Any]) -> Clip:
    planted = np.ones(d.T, dtype=bool)
    return d.clip(
        d.feet_contacts({"r": planted, "l": planted}, {"r": planted, "l": planted}),
        load_spec(d.body, p["load_kg"], "hands"),
    )


def _arms(p: dict[str, Any]) -> tuple[str, ...]:
    return SIDES if p.get("arms", "both") == "both" else (str(p["arms"]),)


def _bump(u: np.ndarray) -> np.ndarray:
    """0 at rest and at the far posture, 1 half-way (a swing that helps the lift through the middle)."""
    return 4.0 * u * (1.0 - u)


def build_bicep_curl(body: Body, p: dict[str, Any], faults: dict[str, Fault], rng: np.random.Generator) -> Clip:
    """Dumbbell curl from hanging arms to the shoulders and back, upper arms by the sides."""
    tl = make_timeline(p, faults, eccentric_first=False, rng=rng)
    d = Design(body, tl, p, rng)
    u = np.clip(tl.s * tl.amplitude, 0.0, 1.0)
    top = deg(p["depth_deg"])
    partial = severity(faults, "partial_range")
    if "partial_range" in faults:
        top = min(top, deg(115.0 - 45.0 * partial))
    swing = deg(25.0 + 40.0 * severity(faults, "upper_arm_swing")) if "upper_arm_swing" in faults else deg(6.0)
    _stand(d, p, (deg(8.0) + deg(12.0) * severity(faults, "torso_swing")) * _bump(u) if "torso_swing" in faults
           else deg(1.5) * _bump(u))  # fmt: skip
    rest = deg(p["rest_elbow_deg"])
    for s in _arms(p):
        d.set(f"elbow_flexion_{s}", rest + (top - rest) * u)
        d.set(f"shoulder_flexion_{s}", deg(3.0) + swing * u**1.5)
        d.set(f"shoulder_abduction_{s}", deg(8.0))
        d.set(f"elbow_pronation_{s}", deg(90.0) - deg(80.0) * u)  # palms turn up as the weight rises
    for s in SIDES:
        if s not in _arms(p):
            d.set(f"elbow_flexion_{s}", deg(8.0))
            d.set(f"shoulder_abduction_{s}", deg(8.0))
    return _finish(d, p)


def build_front_raise(body: Body, p: dict[str, Any], faults: dict[str, Fault], rng: np.random.Generator) -> Clip:
    """Dumbbell front raise: near-straight arms lifted forward to shoulder height and lowered."""
    tl = make_timeline(p, faults, eccentric_first=False, rng=rng)
    d = Design(body, tl, p, rng)
    u = np.clip(tl.s * tl.amplitude, 0.0, 1.0)
    top = deg(p["depth_deg"])
    if "partial_range" in faults:
        top = min(top, deg(80.0 - 30.0 * severity(faults, "partial_range")))
    _stand(d, p, (deg(8.0) + deg(12.0) * severity(faults, "torso_swing")) * _bump(u) if "torso_swing" in faults
           else deg(1.5) * _bump(u))  # fmt: skip
    for s in _arms(p):
        d.set(f"shoulder_flexion_{s}", deg(5.0) + (top - deg(5.0)) * u)
        d.set(f"elbow_flexion_{s}", deg(p["rest_elbow_deg"]))
        d.set(f"scapula_elevation_{s}", deg(8.0) * u)
        d.set(f"elbow_pronation_{s}", deg(150.0))  # palms down
    for s in SIDES:
        if s not in _arms(p):
            d.set(f"elbow_flexion_{s}", deg(8.0))
    return _finish(d, p)


def build_shoulder_shrug(body: Body, p: dict[str, Any], faults: dict[str, Fault], rng: np.random.Generator) -> Clip:
    """Shrug: the shoulder girdle lifted towards the ears with the weights in straight arms."""
    tl = make_timeline(p, faults, eccentric_first=False, rng=rng)
    d = Design(body, tl, p, rng)
    u = np.clip(tl.s * tl.amplitude, 0.0, 1.0)
    top = deg(p["depth_deg"])
    if "partial_range" in faults:
        top = min(top, deg(p["depth_deg"]) * (0.45 - 0.25 * severity(faults, "partial_range")))
    bend = deg(30.0 + 30.0 * severity(faults, "elbow_bend")) if "elbow_bend" in faults else 0.0
    _stand(d, p, deg(1.0) * _bump(u))
    for s in SIDES:
        d.set(f"scapula_elevation_{s}", top * u)
        d.set(f"elbow_flexion_{s}", deg(p["rest_elbow_deg"]) + bend * u)
        d.set(f"shoulder_abduction_{s}", deg(6.0))
        d.set(f"elbow_pronation_{s}", deg(90.0))
    return _finish(d, p)
