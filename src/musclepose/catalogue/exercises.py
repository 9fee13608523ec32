"""The exercise catalogue: every exercise MusclePose knows, the faults it is screened for and
how each fault shows (its observable, :mod:`.observables`).

A new exercise is one :class:`~.types.Exercise` entry in :data:`EXERCISES`; a new fault of
an exercise one :class:`~.types.FaultSpec` in its ``faults`` (plus, for a new fault name, one
:class:`~.types.FaultInfo` in :data:`musclepose.catalogue.faults.FAULTS`). The synthetic
engine (:mod:`musclepose.sim.exercises`) injects the faults listed here; the form screen and
the coach read them. Names are normalised by :func:`normalise_exercise`.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType

from . import observables as ob
from .types import Exercise, FaultSpec, Observation

__all__ = ["EXERCISES", "exercise", "normalise_exercise"]


def _f(name: str, description: str, shows: str, measure: Callable[[Observation], float], sign: int = 1) -> FaultSpec:
    return FaultSpec(name, description, shows, measure, sign)


def _valgus(what: str) -> FaultSpec:
    return _f(
        "knee_valgus",
        f"the knees cave inwards {what}",
        "knee medial of the hip-ankle-toe line (cm, rep max)",
        lambda o: ob.rep_max(o, ob.knee_medial_cm(o)),
    )


def _shallow(dof: str, at_extreme: bool = False) -> FaultSpec:
    def measure(o: Observation) -> float:
        v = ob.mean_sides(o, dof)
        return ob.at_extremes(o, v) if at_extreme else ob.rep_max(o, v)

    return _f("shallow_depth", "the repetitions stop short of the prescribed depth", f"peak {dof} (deg)", measure, -1)


def _lockout(dof: str) -> FaultSpec:
    return _f(
        "incomplete_lockout",
        "the top of the repetition is not fully extended",
        f"{dof} at the top (deg)",
        lambda o: ob.at_extremes(o, ob.mean_sides(o, dof)),
    )


_RUSHED = _f(
    "rushed_eccentric",
    "the lowering phase is rushed (shorter than the exercise's normal range)",
    "lowering time (s)",
    lambda o: ob.phase_duration(o, "eccentric"),
    -1,
)
_ASYM = _f(
    "asymmetric_drive",
    "one side drives more (weight shift towards ``side``)",
    "largest left-right difference of hip adduction, knee, elbow or shoulder abduction (deg)",
    ob.asymmetry,
)
_LUMBAR = _f(
    "lumbar_flexion",
    "the lower back rounds (lumbar flexion, pelvis tucks under)",
    "lumbar flexion (deg, rep max)",
    lambda o: ob.rep_max(o, ob.dof_deg(o, "lumbar_flexion")),
)
_HEEL = _f(
    "heel_lift",
    "the heels rise: the feet pitch about the balls",
    "heel height (cm, rep max)",
    lambda o: ob.rep_max(o, ob.heel_height_cm(o)),
)
_DRIFT = _f(
    "bar_path_drift",
    "the load drifts forward of its vertical path",
    "forward drift of the load from its start (cm, rep max)",
    lambda o: ob.excursion(o, ob.load_drift_cm(o)),
)
_LEAN = _f(
    "forward_lean",
    "the trunk leans further forward",
    "trunk inclination from vertical (deg, rep max)",
    lambda o: ob.rep_max(o, ob.trunk_inclination_deg(o)),
)
_FLARE_OUT = _f(
    "elbow_flare",
    "the elbows flare out to the side instead of staying under the bar",
    "elbow out to the side of the shoulder-wrist line (cm, rep max)",
    lambda o: ob.rep_max(o, ob.elbow_out_cm(o)),
)


def _faults(*specs: FaultSpec) -> MappingProxyType:
    return MappingProxyType({f.name: f for f in specs})


def _ex(name: str, description: str, primary: str | None, eccentric_first: bool | None, **kw) -> Exercise:
    return Exercise(name, description, primary, eccentric_first, **kw)


_LIST = (
    _ex(
        "squat",
        "bodyweight or back squat, feet planted",
        "legs_trajectory",
        True,
        depth="peak knee flexion (deg)",
        aliases=("squats", "bodyweight_squat", "air_squat", "back_squat"),
        faults=_faults(
            _valgus("at the bottom"),
            _shallow("knee_flexion"),
            _f(
                "forward_lean",
                "the trunk leans further forward than the shins",
                "trunk inclination beyond the shins' (deg, rep max)",
                lambda o: ob.rep_max(o, ob.trunk_inclination_deg(o) - ob.shank_inclination_deg(o)),
            ),
            _HEEL,
            _ASYM,
            _f(
                "bar_path_drift",
                "the upper back (where a back-squat bar sits) drifts forward of the mid-foot",
                "bar seat on the upper back in front of the mid-foot (cm, rep max)",
                lambda o: ob.rep_max(o, ob.back_bar_drift_cm(o)),
            ),
            _LUMBAR,
            _RUSHED,
        ),
    ),
    _ex(
        "deadlift",
        "conventional barbell deadlift from the floor (rest = bar on the floor)",
        "trajectory",
        False,
        depth="knee flexion at the floor (deg)",
        faults=_faults(
            _LUMBAR,
            _DRIFT,
            _f(
                "forward_lean",
                "the hips rise before the bar (the trunk stays inclined through the pull)",
                "trunk inclination still held at half knee extension (%)",
                lambda o: 100.0 * ob.hips_first(o),
            ),
            _valgus("during the pull"),
            _ASYM,
            _lockout("hip_flexion"),
            _RUSHED,
        ),
    ),
    _ex(
        "overhead_press",
        "standing barbell press from the front rack",
        "trajectory",
        False,
        depth="elbow flexion in the rack (deg)",
        upper_body=True,
        aliases=("ohp", "shoulder_press", "military_press"),
        faults=_faults(
            _FLARE_OUT,
            _f(
                "bar_path_drift",
                "the bar finishes in front of the head instead of over the mid-foot",
                "bar in front of the mid-foot at the top (cm)",
                lambda o: ob.at_extremes(o, ob.load_drift_cm(o)),
            ),
            _lockout("elbow_flexion"),
            _f(
                "lumbar_hyperextension",
                "the lower back arches to get under the bar",
                "lumbar extension (deg, rep max)",
                lambda o: ob.rep_max(o, -ob.dof_deg(o, "lumbar_flexion")),
            ),
            _ASYM,
            _RUSHED,
        ),
    ),
    _ex(
        "lunge",
        "forward lunge, alternating legs: step out, lower, rise, step back",
        "legs_trajectory",
        True,
        depth="front knee flexion (deg)",
        aliases=("lunges",),
        faults=_faults(
            _valgus("of the front leg"),
            _f(
                "knee_over_toe",
                "the front knee travels far past the toes",
                "front ankle dorsiflexion at the bottom (deg)",
                lambda o: ob.lead_at_extremes(o, "ankle_dorsiflexion"),
            ),
            _LEAN,
            _shallow("knee_flexion", at_extreme=True),
            _f("heel_lift", "the front heel rises", "front heel height at the bottom (cm)", ob.lead_heel_height_cm),
            _RUSHED,
        ),
    ),
    _ex(
        "push_up",
        "push-up on the fists, body a plank pivoting on the toes",
        "arm_Trajectory",
        True,
        depth="elbow flexion at the bottom (deg)",
        upper_body=True,
        aliases=("pushup", "push_ups", "pushups", "press_up"),
        faults=_faults(
            _f(
                "hip_sag",
                "the hips sag towards the floor",
                "hip + lumbar extension (deg, rep max)",
                lambda o: ob.rep_max(o, -ob.mean_sides(o, "hip_flexion") - ob.dof_deg(o, "lumbar_flexion")),
            ),
            _f(
                "hip_pike",
                "the hips pike up",
                "hip flexion (deg, rep max)",
                lambda o: ob.rep_max(o, ob.mean_sides(o, "hip_flexion")),
            ),
            _f(
                "elbow_flare",
                "the elbows flare away from the trunk",
                "shoulder abduction (deg, rep max)",
                lambda o: ob.rep_max(o, ob.mean_sides(o, "shoulder_abduction")),
            ),
            _shallow("elbow_flexion"),
            _ASYM,
            _RUSHED,
        ),
    ),
    _ex(
        "jumping_jack",
        "jumping jacks: hop out with arms overhead, hop in with arms down",
        "trajectory",
        True,
        depth="peak shoulder abduction (deg)",
        cyclic=True,
        aliases=("jumping_jacks", "jumpjack", "star_jump"),
        faults=_faults(
            _f(
                "arms_not_overhead",
                "the arms stop short of overhead",
                "peak shoulder abduction (deg)",
                lambda o: ob.rep_max(o, ob.mean_sides(o, "shoulder_abduction")),
                -1,
            ),
            _f(
                "narrow_stance",
                "the feet land too close together",
                "ankle separation (cm, rep max)",
                lambda o: ob.rep_max(o, ob.stance_width_cm(o)),
                -1,
            ),
            _valgus("on landing"),
            _ASYM,
        ),
    ),
    # The rest position is seated; whether a recording starts seated or standing is read from it.
    _ex(
        "sit_to_stand",
        "chair rise and sit (rest = seated), arms crossed",
        None,
        None,
        depth="knee flexion seated (deg)",
        aliases=("chair_rise", "sit_stand"),
        faults=_faults(_valgus("while rising"), _LEAN, _ASYM, _HEEL, _lockout("hip_flexion"), _RUSHED),
    ),
    _ex(
        "bent_over_row",
        "barbell row in a hip hinge",
        "arm_Trajectory",
        False,
        depth="elbow flexion at the top (deg)",
        upper_body=True,
        aliases=("row", "barbell_row"),
        faults=_faults(
            _FLARE_OUT,
            _LUMBAR,
            _shallow("elbow_flexion"),
            _ASYM,
            _RUSHED,
            _f(
                "torso_swing",
                "the trunk swings up to help the pull",
                "trunk inclination range within a rep (deg)",
                lambda o: ob.rep_max(o, ob.trunk_inclination_deg(o)) - ob.rep_min(o, ob.trunk_inclination_deg(o)),
            ),
        ),
    ),
    # Exercises analysed (repetitions, phases, tempo, kinetics) but not yet screened for faults.
    _ex("front_squat", "barbell front squat", "legs_trajectory", True),
    _ex("split_squat", "split squat, one foot forward", "legs_trajectory", True),
    _ex("romanian_deadlift", "Romanian deadlift (hip hinge from standing)", "trajectory", True, aliases=("rdl",)),
    _ex("good_morning", "good morning (hip hinge with a bar on the back)", "back_trajectory", True),
    _ex("bench_press", "barbell bench press", "trajectory", True, upper_body=True, aliases=("bench",)),
    _ex(
        "pull_up",
        "pull-up or chin-up",
        "legs_trajectory",
        False,
        upper_body=True,
        aliases=("pullup", "pull_ups", "chin_up"),
    ),  # fmt: skip
    _ex("bicep_curl", "biceps curl", "arm_Trajectory", False, upper_body=True, aliases=("curl", "biceps_curl")),
    _ex("lateral_raise", "lateral raise", "shoulder_trajectory", False, upper_body=True),
    _ex("front_raise", "front raise", "shoulder_trajectory", False, upper_body=True),
    _ex("sit_up", "sit-up", "core_", False, aliases=("situp",)),
)

EXERCISES: MappingProxyType[str, Exercise] = MappingProxyType({e.name: e for e in _LIST})
_ALIASES = MappingProxyType({a: e.name for e in _LIST for a in e.aliases})


def normalise_exercise(name: str) -> str:
    """Canonical exercise key: lower case, underscores, aliases resolved (unknown names pass through)."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    return _ALIASES.get(key, key)


def exercise(name: str | None) -> Exercise | None:
    """The catalogue entry of ``name`` (any spelling or alias); ``None`` for ``None`` or an unknown name."""
    if name is None:
        return None
    return EXERCISES.get(normalise_exercise(name))
