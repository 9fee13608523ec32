"""The catalogue is the one place exercises and faults are declared: every reader follows it."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np
import pytest

from musclepose import catalogue
from musclepose.catalogue import exercises as catalogue_exercises
from musclepose.catalogue import observables as ob
from musclepose.signals import analyze_motion
from musclepose.sim import GENERATORS, generate
from musclepose.sim.exercises import observe


def test_every_fault_is_worded_and_every_generator_is_catalogued():
    for ex in catalogue.EXERCISES.values():
        for name, spec in ex.faults.items():
            assert name == spec.name and name in catalogue.FAULTS, (ex.name, name)
            assert spec.sign in (-1, 1) and spec.unit_and_what()[0], (ex.name, name)
    assert set(GENERATORS) <= {n for n, e in catalogue.EXERCISES.items() if e.faults}
    aliases = [a for e in catalogue.EXERCISES.values() for a in e.aliases]
    assert len(aliases) == len(set(aliases)) and not set(aliases) & set(catalogue.EXERCISES)
    assert catalogue.normalise_exercise("Push-Ups") == "push_up" and catalogue.exercise("row").name == "bent_over_row"
    assert catalogue.exercise("dance") is None


def test_a_new_exercise_is_one_entry(monkeypatch, body):
    """Registering one Exercise makes the analysis use its primary channel and direction, and the
    form screen's measurement its faults, with no other change anywhere."""
    lockout = catalogue.FaultSpec(
        "incomplete_lockout",
        "the hips do not reach full extension",
        "hip flexion at the top (deg)",
        lambda o: ob.at_extremes(o, ob.mean_sides(o, "hip_flexion")),
    )
    new = catalogue.Exercise(
        "hip_hinge_drill", "a made-up test exercise", "trajectory", False,
        faults=MappingProxyType({"incomplete_lockout": lockout}), aliases=("drill",),
    )  # fmt: skip
    monkeypatch.setattr(catalogue_exercises, "EXERCISES", MappingProxyType({**catalogue.EXERCISES, new.name: new}))
    monkeypatch.setattr(
        catalogue_exercises, "_ALIASES", MappingProxyType({**catalogue_exercises._ALIASES, "drill": new.name})
    )

    motion = generate("deadlift", body, {"reps": 2, "fps": 50.0})
    a = analyze_motion(motion, exercise="Drill")
    assert a.exercise == "hip_hinge_drill" and a.wave_features.channel == "trajectory"
    assert a.wave_features.eccentric_first is False and a.n_reps == 2
    measured = catalogue.measure_faults(observe(motion), "drill")
    hip = np.degrees(0.5 * (motion.dof("hip_flexion_r") + motion.dof("hip_flexion_l")).numpy())
    top = [hip[int(round(r["extreme_s"] * motion.fps))] for r in motion.metadata["reps"]]
    assert measured == {"incomplete_lockout": pytest.approx(float(np.mean(top)))}


def test_measure_faults_skips_what_the_repetitions_cannot_show(body):
    motion = generate("squat", body, {"reps": 1, "fps": 50.0})
    o = observe(motion)
    full = catalogue.measure_faults(o, "squat")
    assert set(full) == set(catalogue.EXERCISES["squat"].faults)
    bare = catalogue.Observation(motion, [catalogue.Rep(r.start_s, r.extreme_s, r.end_s) for r in o.reps])
    assert "rushed_eccentric" not in catalogue.measure_faults(bare, "squat")  # no phases: no lowering time
    assert catalogue.measure_faults(catalogue.Observation(motion, []), "squat") == {}
