"""Walking is not mistaken for an exercise of the catalogue (the recogniser has no walking class)."""

from __future__ import annotations

import pytest

from musclepose.io import load_motion
from musclepose.pipelines.recognize import gait_kind, locomotion, recognize_motion
from musclepose.signals import analyze_motion
from musclepose.sim.exercises.generate import generate


@pytest.mark.parametrize(
    "rel",
    [
        "kinetics/opensim_gait10dof18musc/subject01_walk_IK.mot",  # a treadmill-like walk: the pelvis stays put
        "mocap/addbiomechanics_expert1/walking1.trc",
        "mocap/cmu/131_01.bvh",
    ],
)
def test_real_walks_are_locomotion_not_an_exercise(refdata, rel):
    rec = recognize_motion(load_motion(refdata(rel)))
    assert rec.exercise is None and ("alternate" in rec.reason or "travels" in rec.reason), rec


@pytest.mark.parametrize("exercise", ["lunge", "squat", "jumping_jack"])
def test_exercises_on_the_spot_are_not_locomotion(exercise):
    # The engine's alternating lunge swings the hips apart too, but 0.19 times a second.
    assert locomotion(generate(exercise, rng=0)) == ""


def test_a_real_squat_is_recognised_from_its_repetitions(refdata):
    motion = load_motion(refdata("mocap/addbiomechanics_expert1/squats1.trc"))
    reps = [(r["start_s"], r["end_s"]) for r in analyze_motion(motion).to_dict()["reps"]]
    rec = recognize_motion(motion, reps)
    assert rec.exercise == "squat" and rec.probability > 0.9, rec


@pytest.mark.parametrize(
    ("rel", "kind"),
    [
        ("mocap/addbiomechanics_expert1/walking1.mot", "walking"),  # a lab walk, OpenSim's IK
        ("mocap/deepmimic/humanoid3d_run.txt", "running"),  # flight phases in every stride
        ("mocap/cmu_prediction/train/running/running_3.txt", "running"),  # not used to choose the thresholds
        ("mocap/cmu_prediction/train/jumping/jumping_3.txt", ""),  # hops on the spot: neither
    ],
)
def test_walking_and_running_are_named(refdata, rel, kind):
    motion = load_motion(refdata(rel), fps=30)
    assert gait_kind(motion)[0] == kind
    if kind:
        assert f"{kind} at" in locomotion(motion)
