"""Catalogue entries of single-limb and rehabilitation movements: the Pose Trainer exercises (biceps
curl, front raise, shoulder shrug; its shoulder press is :data:`~.exercises.EXERCISES`'s
``overhead_press``) and the UI-PRMD rehabilitation movements (Vakanski et al. 2018).

Faults follow what the labelled data mark as wrong. Pose Trainer's "bad" videos show the errors its
authors screen for (Chen & Yang 2018, the published heuristics, which give the thresholds below):
an upper arm that swings in a curl (upper arm-torso angle range > 35 deg), a curl that stops short
(elbow never below 70 deg, i.e. flexion < 110 deg), a front raise below shoulder height (arm-torso
angle < 90 deg) or with the back moving, a shrug with little shoulder travel or bent arms (> 30 deg).
UI-PRMD's "incorrect" episodes imitate patients: shallower squats and lunges, compensation by the
trunk and pelvis, a partial range of the moving limb. ``form_deviation`` is what a learned form
model reports when the movement differs from correct form but no single observable stands out.
"""

from __future__ import annotations

from .limb_observables import arm_elevation_deg, pelvis_sway_cm, rep_range, trunk_sway_deg, working_peak, working_range
from .observables import mean_sides, rep_max, shank_inclination_deg, trunk_inclination_deg
from .types import Exercise, FaultSpec

__all__ = ["LIMB_EXERCISES"]

_PT = "Pose Trainer (Chen & Yang 2018), the published form heuristics"


def _peak_elevation(o) -> float:
    return max(rep_max(o, arm_elevation_deg(o, "r")), rep_max(o, arm_elevation_deg(o, "l")))


_TORSO = FaultSpec(
    "torso_swing", "the trunk sways to help the limb move", "trunk inclination range within a repetition (deg)",
    trunk_sway_deg,
)  # fmt: skip
_PELVIS = FaultSpec(
    "torso_swing", "the trunk and pelvis shift to help the limb move (compensation)",
    "pelvis travel from its start (cm, rep max)", lambda o: rep_max(o, pelvis_sway_cm(o)),
)  # fmt: skip
_ELEVATION_SHORT = FaultSpec(
    "partial_range", "the arm stops short of the prescribed elevation", "peak arm elevation, working arm (deg)",
    _peak_elevation, -1,
)  # fmt: skip


def _faults(*specs: FaultSpec) -> dict[str, FaultSpec]:
    return {f.name: f for f in specs}


def _ex(name: str, description: str, primary: str, eccentric_first: bool, faults: dict, **kw) -> Exercise:
    return Exercise(name, description, primary, eccentric_first, faults=faults, **kw)


LIMB_EXERCISES: tuple[Exercise, ...] = (
    # ------------------------------------------------------------------ Pose Trainer
    _ex(
        "bicep_curl", "dumbbell or barbell biceps curl, standing", "arm_Trajectory", False,
        _faults(
            FaultSpec("upper_arm_swing", "the upper arm swings forward instead of staying by the side",
                      "shoulder flexion range within a repetition, working arm (deg)",
                      lambda o: working_range(o, "shoulder_flexion"), 1, 35.0, _PT),
            FaultSpec("partial_range", "the weight is not curled all the way up",
                      "peak elbow flexion, working arm (deg)", lambda o: working_peak(o, "elbow_flexion"), -1, -110.0,
                      _PT),
            _TORSO,
        ),
        depth="peak elbow flexion (deg)", upper_body=True, aliases=("curl", "biceps_curl", "bicep")),
    _ex(
        "front_raise", "dumbbell front raise, straight arms to shoulder height", "shoulder_trajectory", False,
        _faults(FaultSpec(_ELEVATION_SHORT.name, "the arms stop below shoulder height", _ELEVATION_SHORT.shows,
                          _ELEVATION_SHORT.measure, -1, -90.0, _PT), _TORSO),
        depth="peak arm elevation (deg)", upper_body=True, aliases=("frontraise", "front_raises")),
    _ex(
        "shoulder_shrug", "shoulder shrug with weights in straight arms", "shoulder_trajectory", False,
        _faults(
            FaultSpec("partial_range", "the shoulders do not rise through their range",
                      "scapular elevation range within a repetition (deg)",
                      lambda o: working_range(o, "scapula_elevation"), -1),
            FaultSpec("elbow_bend", "the arms bend during the shrug", "peak elbow flexion, working arm (deg)",
                      lambda o: working_peak(o, "elbow_flexion"), 1, 30.0, _PT),
        ),
        upper_body=True, aliases=("shrug", "shrugs", "shouldershrug")),
    # ------------------------------------------------------------------ UI-PRMD (FMS and shoulder rehabilitation)
    _ex(
        "deep_squat", "deep squat (functional movement screen), feet planted, as deep as possible",
        "legs_trajectory", True,
        _faults(
            FaultSpec("shallow_depth", "the squat stops short of full depth", "peak knee flexion (deg)",
                      lambda o: rep_max(o, mean_sides(o, "knee_flexion")), -1),
            FaultSpec("forward_lean", "the trunk leans further forward than the shins",
                      "trunk inclination beyond the shins' (deg, rep max)",
                      lambda o: rep_max(o, trunk_inclination_deg(o) - shank_inclination_deg(o))),
            _PELVIS,
        ),
        depth="peak knee flexion (deg)", aliases=("fms_deep_squat", "overhead_squat")),
    _ex(
        "hurdle_step", "hurdle step: one leg steps over a hurdle at shin height and back, standing on the other",
        "legs_trajectory", False,
        _faults(
            FaultSpec("partial_range", "the stepping leg is not lifted high enough",
                      "peak hip flexion, stepping leg (deg)", lambda o: working_peak(o, "hip_flexion"), -1),
            _PELVIS,
        ),
        aliases=("fms_hurdle_step",)),
    _ex(
        "inline_lunge", "in-line lunge: feet on one line, the back knee lowered towards the front heel",
        "legs_trajectory", True,
        _faults(
            FaultSpec("shallow_depth", "the lunge stops short of full depth", "peak knee flexion, front leg (deg)",
                      lambda o: working_peak(o, "knee_flexion"), -1),
            FaultSpec("forward_lean", "the trunk leans forward", "trunk inclination from vertical (deg, rep max)",
                      lambda o: rep_max(o, trunk_inclination_deg(o))),
            _PELVIS,
        ),
        aliases=("in_line_lunge", "fms_inline_lunge")),
    _ex(
        "straight_leg_raise", "standing active straight-leg raise: one straight leg lifted forward",
        "legs_trajectory", False,
        _faults(
            FaultSpec("partial_range", "the leg is not raised high enough", "peak hip flexion, raised leg (deg)",
                      lambda o: working_peak(o, "hip_flexion"), -1),
            _PELVIS,
        ),
        aliases=("active_straight_leg_raise", "standing_leg_raise")),
    _ex(
        "shoulder_abduction", "standing shoulder abduction: the straight arm raised sideways",
        "shoulder_trajectory", False, _faults(_ELEVATION_SHORT, _PELVIS), upper_body=True,
        aliases=("standing_shoulder_abduction",)),
    _ex(
        "shoulder_extension", "standing shoulder extension: the straight arm moved backwards",
        "shoulder_trajectory", False,
        _faults(
            FaultSpec("partial_range", "the arm does not move back far enough",
                      "shoulder flexion-extension range, working arm (deg)",
                      lambda o: working_range(o, "shoulder_flexion"), -1),
            _PELVIS,
        ),
        upper_body=True, aliases=("standing_shoulder_extension",)),
    _ex(
        "shoulder_rotation", "standing shoulder internal-external rotation, the upper arm held out to the side",
        "shoulder_trajectory", False,
        _faults(
            FaultSpec("partial_range", "the rotation stops short of its range",
                      "shoulder rotation range, working arm (deg)",
                      lambda o: working_range(o, "shoulder_rotation"), -1),
            FaultSpec("torso_swing", "the trunk sways during the rotation",
                      "trunk inclination range within a repetition (deg)",
                      lambda o: rep_range(o, trunk_inclination_deg(o))),
        ),
        upper_body=True, aliases=("shoulder_internal_external_rotation", "standing_shoulder_rotation")),
    _ex(
        "shoulder_scaption", "standing shoulder scaption: the straight arm raised in the scapular plane",
        "shoulder_trajectory", False, _faults(_ELEVATION_SHORT, _PELVIS), upper_body=True,
        aliases=("scaption", "standing_shoulder_scaption")),
)  # fmt: skip
