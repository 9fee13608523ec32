"""The exercise registry: every exercise's defaults, randomisation ranges and form faults.

:data:`EXERCISES` maps a name to an :class:`ExerciseSpec`; :func:`musclepose.sim.exercises.generate`
builds the motions. Parameter conventions: angles in degrees (``*_deg``), durations in
seconds (``*_s``), lengths in metres (``*_m``; the randomisation ranges are for a 1.75 m
subject and :mod:`.randomize` scales them with stature). Each fault names the observable a
coach would look at (:mod:`.exercise_measures`) and which way the fault moves it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from . import exercise_measures as ms
from .exercise_base import FaultSpec
from .exercise_jump import build_jumping_jack
from .exercise_lower import build_deadlift, build_lunge, build_sit_to_stand, build_squat
from .exercise_upper import build_bent_over_row, build_overhead_press, build_push_up

__all__ = ["COMMON", "EXERCISES", "ExerciseSpec"]

# Parameters every exercise takes (each spec overrides some defaults).
COMMON: dict[str, Any] = {
    "reps": 5,
    "fps": 100.0,
    "lead_s": 1.0,  # rest before the first repetition
    "tail_s": 1.0,  # rest after the last
    "eccentric_s": 1.2,
    "concentric_s": 1.0,
    "pause_s": 0.1,  # hold at the turning point (bottom of a squat, top of a press)
    "rest_s": 0.6,  # hold at the resting posture between repetitions
    "depth_deg": 100.0,  # range of motion; its meaning is ExerciseSpec.depth
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
}


@dataclass(frozen=True)
class ExerciseSpec:
    """One exercise of the library.

    Attributes
    ----------
    name
    description
    depth
        What ``depth_deg`` means for this exercise.
    builder
        ``builder(body, params, faults, rng) -> Clip`` (see :mod:`.exercise_base`).
    defaults
        Parameter defaults (``COMMON`` merged with the exercise's own).
    ranges
        Plausible ranges ``(low, high)`` that :mod:`.randomize` draws from.
    faults
        Supported faults, name -> :class:`~.exercise_base.FaultSpec`.
    eccentric_first
        Whether the movement away from rest is the eccentric one (squat: yes; press: no).
    signals_exercise
        The name to give :func:`musclepose.signals.analyze_motion` for this exercise.
    """

    name: str
    description: str
    depth: str
    builder: Callable[..., Any]
    defaults: Mapping[str, Any]
    ranges: Mapping[str, tuple[float, float]]
    faults: Mapping[str, FaultSpec]
    eccentric_first: bool
    signals_exercise: str
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def _f(name: str, description: str, shows: str, measure, sign: int = 1) -> tuple[str, FaultSpec]:
    return name, FaultSpec(name, description, shows, measure, sign)


def _valgus(what: str):
    return _f(
        "knee_valgus",
        f"the knees cave inwards {what}",
        "knee medial of the hip-ankle-toe line (cm, rep max)",
        lambda m: ms.rep_max(m, ms.knee_medial_cm(m)),
    )


_RUSHED = _f(
    "rushed_eccentric",
    "the lowering phase is rushed (shorter than the exercise's normal range)",
    "lowering time (s)",
    lambda m: ms.phase_duration(m, "eccentric"),
    -1,
)


_ASYM = _f(
    "asymmetric_drive",
    "one side drives more (weight shift towards ``side``)",
    "largest left-right difference of hip adduction, knee, elbow or shoulder abduction (deg)",
    ms.asymmetry,
)
_LUMBAR = _f(
    "lumbar_flexion",
    "the lower back rounds (lumbar flexion, pelvis tucks under)",
    "lumbar flexion (deg, rep max)",
    lambda m: ms.rep_max(m, ms.dof_deg(m, "lumbar_flexion")),
)
_HEEL = _f(
    "heel_lift",
    "the heels rise: the feet pitch about the balls",
    "heel height (cm, rep max)",
    lambda m: ms.rep_max(m, ms.heel_height_cm(m)),
)
_DRIFT = _f(
    "bar_path_drift",
    "the load drifts forward of its vertical path",
    "forward drift of the load from its start (cm, rep max)",
    lambda m: ms.excursion(m, ms.load_drift_cm(m)),
)
_DRIFT_TOP = _f(
    "bar_path_drift",
    "the bar finishes in front of the head instead of over the mid-foot",
    "bar in front of the mid-foot at the top (cm)",
    lambda m: ms.at_extremes(m, ms.load_drift_cm(m)),
)
_DRIFT_BACK = _f(
    "bar_path_drift",
    "the upper back (where a back-squat bar sits) drifts forward of the mid-foot",
    "bar seat on the upper back in front of the mid-foot (cm, rep max)",
    lambda m: ms.rep_max(m, ms.back_bar_drift_cm(m)),
)
_LEAN = _f(
    "forward_lean",
    "the trunk leans further forward",
    "trunk inclination from vertical (deg, rep max)",
    lambda m: ms.rep_max(m, ms.trunk_inclination_deg(m)),
)
_FLARE = _f(
    "elbow_flare",
    "the elbows flare away from the trunk",
    "shoulder abduction (deg, rep max)",
    lambda m: ms.rep_max(m, ms.mean_sides(m, "shoulder_abduction")),
)
_FLARE_OUT = _f(
    "elbow_flare",
    "the elbows flare out to the side instead of staying under the bar",
    "elbow out to the side of the shoulder-wrist line (cm, rep max)",
    lambda m: ms.rep_max(m, ms.elbow_out_cm(m)),
)


def _shallow(dof: str, at_extreme: bool = False):
    def measure(m):
        v = ms.mean_sides(m, dof)
        return ms.at_extremes(m, v) if at_extreme else ms.rep_max(m, v)

    return _f("shallow_depth", "the repetitions stop short of the prescribed depth", f"peak {dof} (deg)", measure, -1)


def _lockout(dof: str):
    return _f(
        "incomplete_lockout",
        "the top of the repetition is not fully extended",
        f"{dof} at the top (deg)",
        lambda m: ms.at_extremes(m, ms.mean_sides(m, dof)),
    )


_C = COMMON


def _spec(name, description, depth, builder, defaults, ranges, faults, ecc_first, signals, choices=None):
    return ExerciseSpec(
        name=name,
        description=description,
        depth=depth,
        builder=builder,
        defaults=MappingProxyType({**_C, **defaults}),
        ranges=MappingProxyType(ranges),
        faults=MappingProxyType(dict(faults)),
        eccentric_first=ecc_first,
        signals_exercise=signals,
        choices=MappingProxyType(choices or {}),
    )


_TEMPO = {"eccentric_s": (1.0, 2.5), "concentric_s": (0.6, 1.8), "pause_s": (0.0, 0.8), "rest_s": (0.2, 2.0)}

EXERCISES: dict[str, ExerciseSpec] = {
    "squat": _spec(
        "squat",
        "bodyweight or back squat, feet planted",
        "peak knee flexion (deg)",
        build_squat,
        {"depth_deg": 105.0, "stance_width_m": 0.34, "toe_out_deg": 15.0, "grip_width_m": 0.8},
        {
            "depth_deg": (80.0, 135.0),
            "stance_width_m": (0.24, 0.50),
            "toe_out_deg": (0.0, 30.0),
            **_TEMPO,
            "load_kg": (0.0, 100.0),
        },
        [
            _valgus("at the bottom"),
            _shallow("knee_flexion"),
            _f(
                "forward_lean",
                "the trunk leans further forward than the shins",
                "trunk inclination beyond the shins' (deg, rep max)",
                lambda m: ms.rep_max(m, ms.trunk_inclination_deg(m) - ms.shank_inclination_deg(m)),
            ),
            _HEEL,
            _ASYM,
            _DRIFT_BACK,
            _LUMBAR,
            _RUSHED,
        ],
        True,
        "squat",
        {"load_position": ("none", "back")},
    ),
    "deadlift": _spec(
        "deadlift",
        "conventional barbell deadlift from the floor (rest = bar on the floor)",
        "knee flexion at the floor (deg)",
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
        [
            _LUMBAR,
            _DRIFT,
            _f(
                "forward_lean",
                "the hips rise before the bar (the trunk stays inclined through the pull)",
                "trunk inclination still held at half knee extension (%)",
                lambda m: 100.0 * ms.hips_first(m),
            ),
            _valgus("during the pull"),
            _ASYM,
            _lockout("hip_flexion"),
            _RUSHED,
        ],
        False,
        "deadlift",
        {"load_position": ("hands",)},
    ),
    "overhead_press": _spec(
        "overhead_press",
        "standing barbell press from the front rack",
        "elbow flexion in the rack (deg)",
        build_overhead_press,
        {"depth_deg": 130.0, "grip_width_m": 0.55, "load_kg": 30.0, "load_position": "front_rack", "pause_s": 0.3},
        {"depth_deg": (110.0, 140.0), "grip_width_m": (0.45, 0.7), **_TEMPO, "load_kg": (10.0, 80.0)},
        [
            _FLARE_OUT,
            _DRIFT_TOP,
            _lockout("elbow_flexion"),
            _f(
                "lumbar_hyperextension",
                "the lower back arches to get under the bar",
                "lumbar extension (deg, rep max)",
                lambda m: ms.rep_max(m, -ms.dof_deg(m, "lumbar_flexion")),
            ),
            _ASYM,
            _RUSHED,
        ],
        False,
        "overhead_press",
        {"load_position": ("front_rack",)},
    ),
    "lunge": _spec(
        "lunge",
        "forward lunge, alternating legs: step out, lower, rise, step back",
        "front knee flexion (deg)",
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
        [
            _valgus("of the front leg"),
            _f(
                "knee_over_toe",
                "the front knee travels far past the toes",
                "front ankle dorsiflexion at the bottom (deg)",
                lambda m: ms.lead_at_extremes(m, "ankle_dorsiflexion"),
            ),
            _LEAN,
            _shallow("knee_flexion", at_extreme=True),
            _f("heel_lift", "the front heel rises", "front heel height at the bottom (cm)", ms.lead_heel_height_cm),
            _RUSHED,
        ],
        True,
        "lunge",
        {"load_position": ("none", "hands"), "lead": ("alternate", "r", "l")},
    ),
    "push_up": _spec(
        "push_up",
        "push-up on the fists, body a plank pivoting on the toes",
        "elbow flexion at the bottom (deg)",
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
        [
            _f(
                "hip_sag",
                "the hips sag towards the floor",
                "hip + lumbar extension (deg, rep max)",
                lambda m: ms.rep_max(m, -ms.mean_sides(m, "hip_flexion") - ms.dof_deg(m, "lumbar_flexion")),
            ),
            _f(
                "hip_pike",
                "the hips pike up",
                "hip flexion (deg, rep max)",
                lambda m: ms.rep_max(m, ms.mean_sides(m, "hip_flexion")),
            ),
            _FLARE,
            _shallow("elbow_flexion"),
            _ASYM,
            _RUSHED,
        ],
        True,
        "push_up",
    ),
    "jumping_jack": _spec(
        "jumping_jack",
        "jumping jacks: hop out with arms overhead, hop in with arms down",
        "peak shoulder abduction (deg)",
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
        [
            _f(
                "arms_not_overhead",
                "the arms stop short of overhead",
                "peak shoulder abduction (deg)",
                lambda m: ms.rep_max(m, ms.mean_sides(m, "shoulder_abduction")),
                -1,
            ),
            _f(
                "narrow_stance",
                "the feet land too close together",
                "ankle separation (cm, rep max)",
                lambda m: ms.rep_max(m, ms.stance_width_cm(m)),
                -1,
            ),
            _valgus("on landing"),
            _ASYM,
        ],
        True,
        "jumping_jack",
    ),
    "sit_to_stand": _spec(
        "sit_to_stand",
        "chair rise and sit (rest = seated), arms crossed",
        "knee flexion seated (deg)",
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
        [_valgus("while rising"), _LEAN, _ASYM, _HEEL, _lockout("hip_flexion"), _RUSHED],
        False,
        "sit_to_stand",
    ),
    "bent_over_row": _spec(
        "bent_over_row",
        "barbell row in a hip hinge",
        "elbow flexion at the top (deg)",
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
        [
            _FLARE_OUT,
            _LUMBAR,
            _shallow("elbow_flexion"),
            _ASYM,
            _RUSHED,
            _f(
                "torso_swing",
                "the trunk swings up to help the pull",
                "trunk inclination range within a rep (deg)",
                lambda m: ms.rep_max(m, ms.trunk_inclination_deg(m)) - ms.rep_min(m, ms.trunk_inclination_deg(m)),
            ),
        ],
        False,
        "row",
        {"load_position": ("hands",)},
    ),
}
