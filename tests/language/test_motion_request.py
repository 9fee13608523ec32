"""The request reader of ``musclepose generate`` (:mod:`musclepose.language.motion_request`).

The phrasings below are held out: none of them is written in its phrase tables as a whole; the
expected readings are what a person would take from them.
"""

from __future__ import annotations

import pytest

from musclepose.catalogue import EXERCISES
from musclepose.language.motion_request import FAULT_PHRASES, RequestError, parse_request

HELD_OUT = [
    # text, exercise, reps, tempo, {fault: side}
    ("five slow bodyweight squats", "squat", 5, "slow", {}),
    ("8 lunges, knees caving on the way up", "lunge", 8, None, {"knee_valgus": "both"}),
    ("three push-ups with hips sagging", "push_up", 3, None, {"hip_sag": "r"}),
    ("ten fast squats to 90 degrees", "squat", 10, "fast", {}),
    ("left-side heel lift, six air squats", "squat", 6, None, {"heel_lift": "l"}),
    ("Give me twenty-five star jumps", "jumping_jack", 25, None, {}),
    ("a dozen deadlifts, slightly rounded back", "deadlift", 12, None, {"lumbar_flexion": "r"}),
    ("12 press ups where the butt is in the air", "push_up", 12, None, {"hip_pike": "r"}),
    ("Seven quick chair rises, right knee caving in", "sit_to_stand", 7, "fast", {"knee_valgus": "r"}),
    ("4 shoulder presses with 30kg, elbows flaring on the left", "overhead_press", 4, None, {"elbow_flare": "l"}),
    ("curls x9 using momentum", "bicep_curl", 9, None, {"torso_swing": "r"}),
    ("nine barbell rows, rushing the lowering", "bent_over_row", 9, None, {"rushed_eccentric": "r"}),
]


@pytest.mark.parametrize(("text", "exercise", "reps", "tempo", "faults"), HELD_OUT)
def test_held_out_phrasings(text, exercise, reps, tempo, faults):
    r = parse_request(text)
    assert (r.exercise, r.reps, r.tempo) == (exercise, reps, tempo)
    assert {k: v["side"] for k, v in r.faults.items()} == faults


def test_numbers_that_are_not_repetitions():
    r = parse_request("squats to 95 degrees with 40 kg for 10 seconds, 3 seconds down")
    assert r.reps is None and r.depth_deg == 95.0 and r.load_kg == 40.0 and r.duration_s == 10.0
    assert r.eccentric_s == 3.0


def test_severity_words_and_phase_notes():
    assert parse_request("squats, knees caving slightly").faults["knee_valgus"]["severity"] < 0.5
    assert parse_request("squats, knees caving badly").faults["knee_valgus"]["severity"] == 1.0
    assert any("on the way up" in n for n in parse_request("squats, knees caving on the way up").notes)


def test_every_phrase_names_a_catalogue_fault():
    from musclepose.catalogue import FAULTS

    assert set(FAULT_PHRASES) <= set(FAULTS)
    assert all(isinstance(e, str) for e in EXERCISES)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("do a cartwheel", "no exercise named"),
        ("push-ups with knees caving", "push_up has no fault 'knee_valgus'"),
        ("squats and lunges", "several exercises"),
    ],
)
def test_unreadable_requests(text, says):
    with pytest.raises(RequestError, match=says):
        parse_request(text)
