"""Text to motion by the engine (:mod:`musclepose.pipelines.generate`): settings, files, refusals.

References: the engine's own normal ranges (``GENERATORS[...].ranges``), the repetitions it
labels in the motion's metadata, and the files read back by the project's readers.
"""

from __future__ import annotations

import numpy as np
import pytest

from musclepose.io.clip import read_clip
from musclepose.io.load import load_motion
from musclepose.pipelines.generate import RequestError, generate_motion, write_generated
from musclepose.sim.exercises import GENERATORS


def test_tempo_words_take_the_ends_of_the_normal_range():
    lo, hi = GENERATORS["squat"].ranges["eccentric_s"], GENERATORS["squat"].ranges["concentric_s"]
    slow = generate_motion("two slow squats")
    fast = generate_motion("two fast squats")
    assert (slow.params["eccentric_s"], slow.params["concentric_s"]) == (lo[1], hi[1])
    assert (fast.params["eccentric_s"], fast.params["concentric_s"]) == (lo[0], hi[0])
    assert slow.motion.n_frames > fast.motion.n_frames
    assert slow.motion.metadata["n_reps"] == 2


def test_depth_is_held_in_the_engine_range_and_said():
    g = generate_motion("two squats to 170 degrees")
    assert g.params["depth_deg"] == GENERATORS["squat"].ranges["depth_deg"][1]
    assert any("outside the engine" in n for n in g.notes)


def test_a_duration_sets_the_repetitions():
    g = generate_motion("push-ups for 10 seconds")
    seconds = (g.motion.n_frames - 1) / g.motion.fps
    assert 8.0 <= seconds <= 12.0 and g.motion.metadata["n_reps"] == g.params["reps"] >= 2


def test_faults_sides_and_body_reach_the_engine():
    g = generate_motion("four lunges leading with the left leg, heels lifting", height_m=1.6, mass_kg=55, sex="female")
    assert g.motion.metadata["faults"] == {"heel_lift": {"severity": 0.8, "side": "l"}}
    assert g.params["lead"] == "l"
    assert g.motion.body.height_m == pytest.approx(1.6) and g.motion.body.sex == "female"


def test_same_seed_same_motion():
    a, b = generate_motion("three squats", seed=3), generate_motion("three squats", seed=3)
    assert bool((a.motion.q == b.motion.q).all())


def test_files(tmp_path):
    g = generate_motion("two lunges, knees caving")
    info = write_generated(tmp_path / "l.mot", g)
    # The engine turns the feet to cave the knees; OpenSim's coordinates have no ankle adduction,
    # so the file carries it in a column of its own, and reading it back gives the engine's angles.
    assert {"musclepose_ankle_adduction_r", "musclepose_ankle_adduction_l"} <= set(info["extra_columns"])
    back = load_motion(tmp_path / "l.mot")
    q0, q1 = g.motion.q.double().numpy(), back.q.double().numpy()
    names = g.motion.body.dof_names
    limbs = [i for i, n in enumerate(names) if not n.startswith(("lumbar_", "thoracic_", "pelvis_t"))]
    assert np.abs(q1[:, limbs] - q0[:, limbs]).max() < 1e-9
    assert np.degrees(np.abs(q0[:, names.index("ankle_adduction_r")]).max()) > 5.0
    assert "musclepose_ankle_adduction_r" not in back.metadata["opensim"]["unmapped_columns"]
    write_generated(tmp_path / "l.json", g)
    clip = read_clip(tmp_path / "l.json")
    assert clip.exercise == "lunge" and clip.n_frames == g.motion.n_frames
    with pytest.raises(ValueError, match="cannot write"):
        write_generated(tmp_path / "l.csv", g)


def test_refusals_say_what_is_understood():
    with pytest.raises(RequestError, match="It understands exercises: .*squat.*Faults: .*hip_sag"):
        generate_motion("a cartwheel")
    with pytest.raises(RequestError, match="cannot synthesise"):
        generate_motion("five bench presses")
    with pytest.raises(RequestError, match="at most 50"):
        generate_motion("500 squats")
