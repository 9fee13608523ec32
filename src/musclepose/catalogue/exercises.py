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

from . import landings as ld
from . import observables as ob
from .limb_exercises import LIMB_EXERCISES
from .types import MAX_MOMENTS_NM_PER_KG, Exercise, FaultSpec, Limits, Measure, Observation

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
# Standing on both feet, which side drives more is which side carries more of the weight: the load
# share (from where the centre of mass sits between the feet), not the angles, which differ with
# stance and marker placement.
_SHIFT = FaultSpec(
    "asymmetric_drive",
    "one side carries more of the load (weight shift towards ``side``)",
    "weight shift to one side, (R - L) / (R + L) of the load (%, rep max)",
    ob.weight_shift,
    normal=10.0,
    source="healthy lifters share the load 45-55 % between the feet (Sato & Heise 2012, J Strength Cond Res "
    "26:342; a limb symmetry index of 90 %, Noyes et al. 1991)",
)
# Spine flexion from the pelvis to the thorax: markers see the two ends, not how the flexion splits
# between the lumbar and thoracic joints in between (on squats1 the sum is within 1 deg of OpenSim's
# single lumbar joint, the lumbar joint alone 15 deg above it).
_LUMBAR = _f(
    "lumbar_flexion",
    "the lower back rounds (lumbar flexion, pelvis tucks under)",
    "spine flexion, pelvis to thorax (deg, rep max)",
    lambda o: ob.rep_max(o, ob.spine_flexion_deg(o)),
)
_HEEL = _f(
    "heel_lift",
    "the heels rise: the feet pitch about the balls",
    "heel rise above its height at the start of the repetition, in stance (cm, rep max)",
    ob.heel_lift_cm,
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


def _measures(*specs: Measure) -> MappingProxyType:
    return MappingProxyType({m.name: m for m in specs})


def _moments(**limits: float) -> MappingProxyType:
    """Per-joint moment limits (N m/kg) over the catalogue-wide maxima."""
    return MappingProxyType({**MAX_MOMENTS_NM_PER_KG, **limits})


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
                "hip-to-shoulder line leaning beyond the shins (deg, rep max)",
                lambda o: ob.rep_max(o, ob.trunk_lean_beyond_shins_deg(o)),
            ),
            _HEEL,
            _SHIFT,
            _f(
                "bar_path_drift",
                "the upper back (where a back-squat bar sits) drifts forward of the mid-foot",
                "bar seat on the upper back in front of the mid-foot (cm, rep max)",
                lambda o: ob.rep_max(o, ob.back_bar_drift_cm(o)),
            ),
            _LUMBAR,
            _RUSHED,
        ),
        limits=Limits(
            1000.0,
            _moments(hip=4.0, knee=4.0, ankle=2.5, lumbar=5.0),
            2.0,
            "bodyweight squats: hip and knee extensor moments 0.5-2.5 N m/kg, back squats up to ~3.5 "
            "(Flanagan & Salem 2008, J Strength Cond Res 22:1393; Escamilla 2001, Med Sci Sports Exerc "
            "33:127); joint speeds below ~500 deg/s even in jump squats",
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
            _SHIFT,
            _lockout("hip_flexion"),
            _RUSHED,
        ),
        limits=Limits(
            1000.0,
            _moments(hip=5.0, knee=3.5, ankle=2.5, lumbar=6.0),
            2.5,
            "heavy deadlifts: hip extensor moments ~3-4 N m/kg, L5/S1 up to ~5 (Escamilla et al. 2000, Med Sci "
            "Sports Exerc 32:1265; Cholewicki et al. 1991)",
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
        limits=Limits(
            1000.0,
            _moments(hip=2.5, knee=2.5, ankle=2.0, lumbar=4.0, shoulder=3.0, elbow=2.5),
            2.0,
            "standing barbell press: shoulder and elbow moments below ~2 N m/kg (Kohler et al. 2010, J Strength "
            "Cond Res 24:1586: loads up to ~60 % of body weight)",
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
            _f("heel_lift", "the front heel rises", "front heel rise at the bottom (cm)", ob.lead_heel_height_cm),
            _RUSHED,
        ),
        limits=Limits(
            1000.0,
            _moments(hip=4.0, knee=4.0, ankle=2.5, lumbar=5.0),
            2.5,
            "forward lunges: front-knee extensor moments ~1.5-2.5 N m/kg, more with loads (Riemann et al. "
            "2012, J Strength Cond Res 26:3036)",
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
        limits=Limits(
            1000.0,
            _moments(hip=2.5, knee=2.0, ankle=2.0, lumbar=3.0, shoulder=3.0, elbow=2.5),
            1.2,
            "push-ups: about 65-75 % of the body weight on the hands (Ebben et al. 2011, J Strength Cond Res "
            "25:2891), elbow and shoulder moments ~1 N m/kg",
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
        flight=True,
        limits=Limits(
            1500.0,
            _moments(hip=4.0, knee=4.0, ankle=4.0, lumbar=4.0, shoulder=2.0),
            4.0,
            "hopping and jumping-jack landings: 2-4 body weights per foot",
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
        faults=_faults(_valgus("while rising"), _LEAN, _SHIFT, _HEEL, _lockout("hip_flexion"), _RUSHED),
        limits=Limits(
            1000.0,
            _moments(hip=3.0, knee=2.5, ankle=1.5, lumbar=4.0),
            1.5,
            "chair rise: hip extensor moments ~1-1.5 N m/kg, knee ~0.7-1.2 (Schenkman et al. 1990, Phys Ther "
            "70:638; Hughes et al. 1996, J Biomech 29:1509)",
        ),
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
        limits=Limits(
            1000.0,
            _moments(hip=4.0, knee=2.5, ankle=2.0, lumbar=5.0, shoulder=2.5, elbow=2.0),
            2.0,
            "bent-over rows: L5/S1 and hip moments of a held hip hinge with the load, ~2-3 N m/kg",
        ),
    ),
    _ex(
        "drop_jump",
        "drop (vertical) jump: step off a box, land on both feet and jump straight up",
        "legs_trajectory",
        True,
        depth="peak knee flexion in the landing (deg)",
        flight=True,
        aliases=("drop_vertical_jump", "depth_jump", "dvj", "drop_landing"),
        faults=_faults(
            FaultSpec(
                "knee_valgus",
                "the knees cave inwards on landing",
                "knee valgus at landing, frontal-plane projection angle (deg)",
                ld.landing_fppa_deg,
                1,
                13.0,
                "Herrington & Munro 2010 (Phys Ther Sport 11:56): drop-jump frontal-plane projection angles of "
                "healthy adults are 3-8 deg (men) and 7-13 deg (women)",
            ),
            FaultSpec(
                "asymmetric_drive",
                "one leg takes more of the landing (towards ``side``)",
                "landing asymmetry, |R - L| / max(R, L) of the vertical impulse (%)",
                ld.landing_asymmetry_pct,
                1,
                15.0,
                "a limb symmetry index below 85 % (Noyes et al. 1991, Am J Sports Med 19:513)",
            ),
        ),  # fmt: skip
        measures=_measures(
            Measure(
                "landing_vertical_grf",
                "peak vertical ground reaction in the landing (BW)",
                ld.landing_grf_bw,
                None,
                "drop landings from 30-60 cm: about 3-6 body weights (Bobbert, Huijing & van Ingen Schenau "
                "1987, Med Sci Sports Exerc 19:339)",
            ),
            Measure(
                "landing_knee_valgus",
                "knee valgus at landing, frontal-plane projection angle (deg)",
                ld.landing_fppa_deg,
                (3.0, 13.0),
                "Herrington & Munro 2010",
            ),
            Measure(
                "landing_asymmetry",
                "landing asymmetry, |R - L| / max(R, L) of the vertical impulse (%)",
                ld.landing_asymmetry_pct,
                (0.0, 15.0),
                "limb symmetry index >= 85 % (Noyes et al. 1991)",
            ),
            Measure("landing_knee_flexion", "peak knee flexion in the landing (deg)", ld.landing_knee_flexion_deg),
        ),  # fmt: skip
        limits=Limits(
            2000.0,
            _moments(hip=6.0, knee=6.0, ankle=5.0, lumbar=6.0),
            5.0,
            "drop landings: 3-6 body weights in all, knee and hip moments up to ~4-5 N m/kg (Decker et al. 2003, "
            "Clin Biomech 18:662)",
        ),
    ),
    _ex(
        "run",
        "running, overground or on a treadmill",
        None,
        None,
        cyclic=True,
        flight=True,
        aliases=("running", "jog", "jogging", "sprint"),
        measures=_measures(
            Measure(
                "contact_time",
                "ground contact time per step (s)",
                ld.contact_time_s,
                (0.16, 0.32),
                "distance running 0.2-0.3 s, sprinting below 0.2 s (Novacheck 1998, Gait Posture 7:77)",
            ),
            Measure(
                "cadence",
                "cadence (steps/min)",
                ld.cadence_spm,
                (150.0, 190.0),
                "recreational runners 150-190 steps/min (Heiderscheit et al. 2011, Med Sci Sports Exerc 43:296)",
            ),
            Measure(
                "stance_vertical_grf",
                "peak vertical ground reaction in stance (BW)",
                ld.stance_grf_bw,
                (2.0, 3.0),
                "2-3 body weights (Cavanagh & Lafortune 1980, J Biomech 13:397)",
            ),
            Measure(
                "stance_knee_flexion",
                "peak knee flexion in stance (deg)",
                ld.stance_knee_flexion_deg,
                (35.0, 50.0),
                "about 40-45 deg (Novacheck 1998)",
            ),
            Measure(
                "stance_knee_valgus",
                "peak knee valgus in stance, frontal-plane projection angle (deg)",
                ld.stance_fppa_deg,
            ),
            Measure(
                "stance_asymmetry",
                "difference of the sides' contact times (%)",
                ld.stance_asymmetry_pct,
                (0.0, 5.0),
                "healthy runners' sides differ by a few per cent",
            ),
        ),  # fmt: skip
        limits=Limits(
            2000.0,
            _moments(hip=5.0, knee=5.0, ankle=5.0, lumbar=5.0),
            4.0,
            "running to sprinting: 2-3 body weights per stance, ankle moments ~3-4 N m/kg, hip ~4 in sprints "
            "(Novacheck 1998; Schache et al. 2011, Med Sci Sports Exerc 43:1260)",
        ),
    ),
    *LIMB_EXERCISES,  # curls, raises, shrugs and the UI-PRMD rehabilitation movements (.limb_exercises)
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
    _ex("lateral_raise", "lateral raise", "shoulder_trajectory", False, upper_body=True),
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
