"""The synthetic engine's exercises: each generator's builder, parameter defaults, randomisation
ranges and allowed choices. What each exercise is and which faults it has come from the
catalogue (:data:`musclepose.catalogue.EXERCISES`); a generator exists for the exercises the
engine can synthesise.

Parameter conventions: angles in degrees (``*_deg``), durations in seconds (``*_s``), lengths
in metres (``*_m``; the randomisation ranges are for a 1.75 m subject and
:mod:`musclepose.sim.randomize` scales them with stature).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ...catalogue import EXERCISES, Exercise, FaultSpec
from .isolation import build_bicep_curl, build_front_raise, build_shoulder_shrug
from .jump import build_jumping_jack
from .lower import SQUAT_NORMAL, build_deadlift, build_lunge, build_sit_to_stand, build_squat
from .upper import build_bent_over_row, build_overhead_press, build_push_up

__all__ = ["COMMON", "GENERATORS", "ISOLATION_GENERATORS", "Generator"]

# Parameters every exercise takes (each generator overrides some defaults).
COMMON: dict[str, Any] = {
    "reps": 5,
    "fps": 100.0,
    "lead_s": 1.0,  # rest before the first repetition
    "tail_s": 1.0,  # rest after the last
    "eccentric_s": 1.2,
    "concentric_s": 1.0,
    "pause_s": 0.1,  # hold at the turning point (bottom of a squat, top of a press)
    "rest_s": 0.6,  # hold at the resting posture between repetitions
    "depth_deg": 100.0,  # range of motion; its meaning is the catalogue's Exercise.depth
    "stance_width_m": 0.30,  # distance between the ankle joint centres
    "toe_out_deg": 10.0,
    "grip_width_m": 0.55,  # distance between the hands' knuckles
    "load_kg": 0.0,
    "load_position": "none",  # "none", "back", "front_rack", "hands"
    "sway_m": 0.003,  # breathing-like fore-aft pelvis sway amplitude
    "sway_deg": 0.6,  # breathing-like thoracic flexion amplitude
    "breathing_hz": 0.25,
    "noise_deg": 0.0,  # RMS of smooth joint-angle noise on designed (non-contact) DoF
    "rep_jitter": 0.0,  # +- fraction by which each repetition's durations and depth vary
    "fatigue": 0.0,  # the concentric move slows over the set: the last one takes (1 + fatigue) x the first's
}


@dataclass(frozen=True)
class Generator:
    """How the engine synthesises one catalogue exercise.

    ``builder(body, params, faults, rng) -> Clip`` (:mod:`.base`); ``defaults`` (``COMMON``
    merged with the exercise's own); ``ranges``: plausible ``(low, high)`` that
    :mod:`musclepose.sim.randomize` draws from; ``choices``: allowed values of string parameters.
    """

    name: str
    builder: Callable[..., Any]
    defaults: Mapping[str, Any]
    ranges: Mapping[str, tuple[float, float]]
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def exercise(self) -> Exercise:
        return EXERCISES[self.name]

    @property
    def faults(self) -> Mapping[str, FaultSpec]:
        """The faults the engine injects: the catalogue's faults of this exercise."""
        return self.exercise.faults


def _gen(name, builder, defaults, ranges, choices=None) -> Generator:
    return Generator(
        name=name,
        builder=builder,
        defaults=MappingProxyType({**COMMON, **defaults}),
        ranges=MappingProxyType(ranges),
        choices=MappingProxyType(choices or {}),
    )


_TEMPO = {"eccentric_s": (1.0, 2.5), "concentric_s": (0.6, 1.8), "pause_s": (0.0, 0.8), "rest_s": (0.2, 2.0)}

GENERATORS: dict[str, Generator] = {
    "squat": _gen(
        "squat",
        build_squat,
        {
            "depth_deg": 105.0,
            "stance_width_m": 0.34,
            "toe_out_deg": 15.0,
            "grip_width_m": 0.8,
            **{k: 0.5 * (lo + hi) for k, (lo, hi) in SQUAT_NORMAL.items()},
        },
        {
            "depth_deg": (80.0, 135.0),
            "stance_width_m": (0.24, 0.50),
            "toe_out_deg": (0.0, 30.0),
            **_TEMPO,
            "load_kg": (0.0, 100.0),
            **SQUAT_NORMAL,
        },
        {"load_position": ("none", "back")},
    ),
    "deadlift": _gen(
        "deadlift",
        build_deadlift,
        {
            "depth_deg": 85.0,
            "stance_width_m": 0.26,
            "toe_out_deg": 8.0,
            "grip_width_m": 0.5,
            "load_kg": 60.0,
            "load_position": "hands",
            "concentric_s": 1.2,
            "rest_s": 1.0,
            "pause_s": 0.3,
        },
        {
            "depth_deg": (70.0, 100.0),
            "stance_width_m": (0.2, 0.34),
            "toe_out_deg": (0.0, 20.0),
            "grip_width_m": (0.45, 0.6),
            **_TEMPO,
            "load_kg": (20.0, 180.0),
        },
        {"load_position": ("hands",)},
    ),
    "overhead_press": _gen(
        "overhead_press",
        build_overhead_press,
        {"depth_deg": 130.0, "grip_width_m": 0.55, "load_kg": 30.0, "load_position": "front_rack", "pause_s": 0.3},
        {"depth_deg": (110.0, 140.0), "grip_width_m": (0.45, 0.7), **_TEMPO, "load_kg": (10.0, 80.0)},
        {"load_position": ("front_rack",)},
    ),
    "lunge": _gen(
        "lunge",
        build_lunge,
        {
            "depth_deg": 90.0,
            "stance_width_m": 0.2,
            "toe_out_deg": 5.0,
            "step_s": 0.6,
            "step_length_m": None,
            "lead": "alternate",
            "eccentric_s": 1.0,
            "concentric_s": 0.9,
            "pause_s": 0.2,
            "rest_s": 0.6,
        },
        {
            "depth_deg": (80.0, 100.0),
            "stance_width_m": (0.16, 0.26),
            "toe_out_deg": (0.0, 15.0),
            "step_s": (0.5, 0.9),
            "eccentric_s": (0.9, 2.0),
            "concentric_s": (0.6, 1.5),
            "pause_s": (0.0, 0.6),
            "rest_s": (0.3, 1.5),
            "step_fraction": (0.48, 0.56),
            "load_kg": (0.0, 40.0),
        },
        {"load_position": ("none", "hands"), "lead": ("alternate", "r", "l")},
    ),
    "push_up": _gen(
        "push_up",
        build_push_up,
        {"depth_deg": 90.0, "grip_width_m": 0.5, "eccentric_s": 1.0, "concentric_s": 0.8, "rest_s": 0.3},
        {
            "depth_deg": (75.0, 105.0),
            "grip_width_m": (0.42, 0.6),
            "eccentric_s": (0.8, 2.0),
            "concentric_s": (0.5, 1.5),
            "pause_s": (0.0, 0.6),
            "rest_s": (0.1, 1.0),
        },
    ),
    "jumping_jack": _gen(
        "jumping_jack",
        build_jumping_jack,
        {
            "depth_deg": 160.0,
            "stance_width_m": 0.7,
            "closed_width_m": 0.2,
            "flight_s": 0.2,
            "stance_s": 0.35,
            "prep_s": 0.6,
            "heel_raise_deg": 15.0,
            "contact_knee_deg": 25.0,
            "sway_m": 0.0,
        },
        {
            "depth_deg": (140.0, 170.0),
            "stance_width_m": (0.55, 0.85),
            "flight_s": (0.13, 0.25),
            "stance_s": (0.25, 0.6),
            "heel_raise_deg": (10.0, 20.0),
            "contact_knee_deg": (20.0, 30.0),
        },
    ),
    "sit_to_stand": _gen(
        "sit_to_stand",
        build_sit_to_stand,
        {
            "depth_deg": 95.0,
            "stance_width_m": 0.28,
            "concentric_s": 1.1,
            "eccentric_s": 1.3,
            "pause_s": 0.4,
            "rest_s": 0.6,
        },
        {
            "depth_deg": (85.0, 110.0),
            "stance_width_m": (0.22, 0.36),
            "toe_out_deg": (0.0, 15.0),
            "concentric_s": (0.7, 2.0),
            "eccentric_s": (1.0, 2.5),
            "pause_s": (0.0, 1.0),
            "rest_s": (0.2, 1.5),
        },
    ),
    "bent_over_row": _gen(
        "bent_over_row",
        build_bent_over_row,
        {
            "depth_deg": 100.0,
            "torso_angle_deg": 55.0,
            "grip_width_m": 0.55,
            "load_kg": 40.0,
            "load_position": "hands",
            "concentric_s": 0.9,
            "pause_s": 0.3,
            "rest_s": 0.5,
        },
        {
            "depth_deg": (85.0, 115.0),
            "torso_angle_deg": (40.0, 70.0),
            "grip_width_m": (0.45, 0.7),
            **_TEMPO,
            "load_kg": (10.0, 100.0),
        },
        {"load_position": ("hands",)},
    ),
}

# Isolation exercises of the arms (.isolation): generated when asked for by name (the 2-D form models
# pre-train on them), never in the default draw, so the engine's datasets and the coach's exercise
# head stay the eight exercises above.
_ARM_TEMPO = {"eccentric_s": (0.9, 2.2), "concentric_s": (0.7, 1.6), "pause_s": (0.0, 0.5), "rest_s": (0.2, 1.2)}
_ARM_COMMON = {"stance_width_m": 0.28, "toe_out_deg": 8.0, "load_kg": 8.0, "load_position": "hands"}
_ARM_RANGES = {"stance_width_m": (0.2, 0.4), "toe_out_deg": (0.0, 20.0), "load_kg": (2.0, 20.0), **_ARM_TEMPO}
ISOLATION_GENERATORS: dict[str, Generator] = {
    "bicep_curl": _gen(
        "bicep_curl", build_bicep_curl, {**_ARM_COMMON, "depth_deg": 140.0, "rest_elbow_deg": 10.0, "arms": "both"},
        {"depth_deg": (125.0, 150.0), "rest_elbow_deg": (5.0, 15.0), **_ARM_RANGES}, {"arms": ("both", "r", "l")},
    ),
    "front_raise": _gen(
        "front_raise", build_front_raise,
        {**_ARM_COMMON, "depth_deg": 95.0, "rest_elbow_deg": 10.0, "load_kg": 5.0, "arms": "both"},
        {"depth_deg": (85.0, 110.0), "rest_elbow_deg": (3.0, 15.0), **_ARM_RANGES}, {"arms": ("both", "r", "l")},
    ),
    "shoulder_shrug": _gen(
        "shoulder_shrug", build_shoulder_shrug, {**_ARM_COMMON, "depth_deg": 28.0, "rest_elbow_deg": 8.0},
        {"depth_deg": (20.0, 36.0), "rest_elbow_deg": (3.0, 12.0), **_ARM_RANGES},
    ),
}  # fmt: skip
