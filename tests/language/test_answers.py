"""The rule-based answerer on event tables whose answers are known by construction.

Each table is built by hand (five repetitions, values chosen so that the right answer is one
repetition, one side, one phase...), so every test can fail: a wrong arg-max, a swapped side, a
phase read from the wrong field, a 1-based/0-based slip. Varied phrasings (``rng``) must keep the
key, and the key read back from the text (:func:`answer_key`) must be the answer's own.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from musclepose.language.answers import (
    CANT_TELL,
    UserContext,
    answer_key,
    answer_question,
    fatigue_trend,
    qa_prompt,
)
from musclepose.language.questions import TEMPLATES, parse_question
from musclepose.signals.rep_events import FaultEvent, MotionEvents, RepEvents

# Five squats; repetition 4 (index 3) is the deepest, repetition 2 (index 1) the slowest,
# repetition 5 (index 4) caves the knees most, and more on the left; the rising phase slows.
DEPTH = [(95.0, 96.0), (101.0, 99.0), (90.0, 92.0), (110.0, 108.0), (100.0, 100.0)]
DURATION = [2.0, 3.1, 2.2, 2.4, 2.6]
RISING = [0.80, 0.85, 0.95, 1.05, 1.20]
VALGUS_L = [2.0, 2.5, 3.0, 3.5, 6.0]  # cm, left knee medial of the line
VALGUS_R = [0.5, 0.4, 0.6, 0.5, 0.7]
KNEE_MOMENT = [(1.10, 1.05), (1.20, 1.25), (1.31, 1.28), (1.15, 1.12), (1.00, 1.02)]  # N·m/kg, r/l


def squat_events(rising=RISING, valgus_screened=True, has_kinetics=True, missing=None, reps=None) -> MotionEvents:
    out, t = [], 0.0
    for k in range(5):
        d = DURATION[k]
        faults = {
            "knee_valgus": FaultEvent(VALGUS_L[k], {"r": VALGUS_R[k], "l": VALGUS_L[k]}, "rising", t + 1.5),
            "forward_lean": FaultEvent(40.0 + k, None, "bottom", t + 1.0),
        }
        out.append(
            RepEvents(
                index=k, start_s=t, extreme_s=t + 1.0, end_s=t + d,
                phases_s={"lowering": d - rising[k] - 0.3, "bottom": 0.1, "rising": rising[k], "top": 0.2},
                depth_deg={"r": DEPTH[k][0], "l": DEPTH[k][1]},
                moments={"knee": {"r": KNEE_MOMENT[k][0], "l": KNEE_MOMENT[k][1]}, "hip": {"r": 1.5, "l": 1.4}},
                faults=faults,
                flagged=("knee_valgus",) if valgus_screened and k in (3, 4) else (),
            )
        )  # fmt: skip
        t += d + 0.5
    screened = ("knee_valgus", "forward_lean") if valgus_screened else ()
    sides = {"knee_valgus": "l"} if valgus_screened else {}
    return MotionEvents("squat", "leg", 100.0, tuple(out if reps is None else reps), "motion", has_kinetics,
                        screened, sides, missing or {}, (), "B")  # fmt: skip


def ask(text: str, ev: MotionEvents | None = None, **kw):
    return answer_question(parse_question(text), ev or squat_events(), **kw)


def numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", text)]


def test_deepest_is_the_largest_mean_depth():
    a = ask("Which repetition was the deepest?")
    best = int(np.argmax([np.mean(d) for d in DEPTH]))
    assert a.key == str(best + 1) == "4"
    assert a.facts["depth_deg"] == pytest.approx(np.mean(DEPTH[best]), abs=0.05)
    assert "109 deg" in a.text and "91-100 deg" in a.text  # the others: 91 (rep 3) to 100 (rep 2, rep 5)


def test_deepest_by_a_hair_names_the_runner_up_not_a_false_range():
    depth = [(100.0, 100.0), (100.6, 100.6), (90.0, 90.0)]
    reps = [RepEvents(k, 2.0 * k, 2.0 * k + 1, 2.0 * k + 2, {"rising": 0.9}, {"r": d[0], "l": d[1]})
            for k, d in enumerate(depth)]  # fmt: skip
    a = ask("Which rep went the deepest?", squat_events(reps=reps))
    assert a.key == "2"
    # Rep 1 is within a degree; rep 3 is 10 deg shallower: the set is not "about equally deep".
    assert "repetition 1" in a.text.lower() and "equally deep" not in a.text


def test_slowest_is_the_longest_repetition():
    a = ask("Which rep took the longest?")
    assert a.key == str(int(np.argmax(DURATION)) + 1) == "2"
    assert a.facts["duration_s"] == pytest.approx(3.1)


def test_worst_is_the_repetition_with_most_of_the_first_screened_fault():
    a = ask("Which repetition was the worst?")
    assert a.key == str(int(np.argmax(np.maximum(VALGUS_L, VALGUS_R))) + 1) == "5"
    assert a.facts["fault"] == "knee_valgus" and a.facts["value"] == pytest.approx(6.0)


def test_worst_without_faults_says_none():
    a = ask("Which repetition was the worst?", squat_events(valgus_screened=False))
    assert a.key == "none" and not a.declined


def test_side_names_the_side_and_the_flagged_repetitions():
    a = ask("Did the knees cave in more on the left or the right?")
    assert a.key == "left" and a.facts["reps"] == [4, 5]
    # The stated per-side means are the table's.
    assert f"left {np.mean(VALGUS_L):.1f} cm" in a.text and f"right {np.mean(VALGUS_R):.1f} cm" in a.text


def test_side_of_an_unscreened_fault_is_neither():
    assert ask("Did the knees cave in more on the left or the right?", squat_events(valgus_screened=False)).key == (
        "neither"
    )


def test_side_declines_without_sides():
    ev = squat_events(missing={"sides": "the seven channels are means of both sides"})
    a = ask("Which side did the knees cave in more on?", ev)
    assert a.declined and a.text.startswith(CANT_TELL) and "means of both sides" in a.text


def test_fault_phase_is_the_most_common_peak_phase():
    assert ask("When in the repetition does knees caving inward appear?").key == "rising"
    assert ask("During which phase does too much forward lean show up?").key == "bottom"
    # A fault the exercise screens but this set did not show: no phase.
    assert ask("When in the rep do my heels lift?").key == "none"


def test_fatigue_follows_the_fitted_trend_of_the_rising_phase():
    a = ask("Is the rising phase slowing over the set?")
    slope = np.polyfit(np.arange(5), RISING, 1)[0]
    assert a.key == "yes" and a.facts["trend_pct"] == round(100 * slope * 4 / np.mean(RISING))
    steady = ask("Is the rising phase slowing over the set?", squat_events(rising=[1.0, 0.98, 1.02, 0.99, 1.01]))
    assert steady.key == "no"
    assert fatigue_trend([1.0, 1.0]) is None and fatigue_trend([1.0, None, 1.2, 1.4]) == pytest.approx(0.4 / 1.2)


def test_rep_moment_is_the_larger_side_of_that_repetition():
    a = ask("What was the peak knee moment on repetition 3?")
    assert a.key == f"{max(KNEE_MOMENT[2]):.2f}" == "1.31"
    assert "right 1.31" in a.text and "left 1.28" in a.text
    assert ask("What was the peak knee moment on the last rep?").key == f"{max(KNEE_MOMENT[4]):.2f}"
    assert ask("What was the peak hip torque on rep 2?").key == "1.50"


@pytest.mark.parametrize(
    ("question", "why"),
    [
        ("What was the peak knee moment on repetition 9?", "5 repetitions, not 9"),
        ("What was the peak elbow moment on repetition 2?", "not the elbow"),
        ("What was my heart rate?", "heart rate"),
        ("How does this set compare with the previous file?", "--compare"),
    ],
)
def test_questions_the_recording_cannot_answer_are_declined_with_the_reason(question, why):
    a = ask(question)
    assert a.declined and a.key == "declined" and a.text.startswith(CANT_TELL) and why in a.text


def test_rep_moment_without_kinetics_is_declined():
    a = ask("What was the peak knee moment on repetition 3?", squat_events(has_kinetics=False))
    assert a.declined


def test_unknown_question_says_what_can_be_asked():
    a = ask("Tell me a joke about squats.")
    assert a.declined and "deepest" in a.text


def test_compare_says_deeper_or_shallower_from_the_mean_depths():
    now = squat_events()
    shallow = [RepEvents(k, 2.0 * k, 2.0 * k + 1, 2.0 * k + 2, {"rising": 0.9}, {"r": 80.0, "l": 82.0})
               for k in range(4)]  # fmt: skip
    before = squat_events(reps=shallow, valgus_screened=False)
    a = ask("How does this set compare with the previous file?", now, previous=before)
    mean_now = np.mean([np.mean(d) for d in DEPTH])
    assert a.key == "deeper" and a.facts["depth_now_deg"] == pytest.approx(mean_now, abs=0.05)
    assert a.facts["depth_before_deg"] == pytest.approx(81.0)
    assert ask("Did I go deeper than in the other set?", before, previous=now).key == "shallower"
    assert ask("Compare this set with my last session.", now, previous=now).key == "same"


def test_context_changes_the_advice_not_the_facts():
    plain = ask("Which repetition was the worst?")
    rehab = ask("Which repetition was the worst?", context=UserContext("rehab after ACL reconstruction", "beginner"))
    pro = ask("Which repetition was the worst?", context=UserContext(None, "advanced"))
    assert plain.key == rehab.key == pro.key and plain.facts == rehab.facts == pro.facts
    assert rehab.text.startswith(plain.text) and pro.text.startswith(plain.text)
    assert "physiotherapist" in rehab.advice and "light" in rehab.advice
    assert rehab.advice != pro.advice and "physiotherapist" not in pro.advice
    with pytest.raises(ValueError, match="level must be one of"):
        UserContext(None, "expert")


@pytest.mark.parametrize("kind", ["deepest", "slowest", "worst", "side", "fault_phase", "fatigue", "rep_moment"])
def test_varied_phrasings_keep_the_key_and_state_no_nan(kind):
    ev = squat_events()
    slots = {"rep": 3, "joint": "knee", "topic": "the knees cave in", "fault": "knees caving inward"}
    rng = np.random.default_rng(0)
    for template in TEMPLATES[kind]:
        q = parse_question(template.format(**slots))
        plain = answer_question(q, ev)
        for _ in range(4):
            varied = answer_question(q, ev, rng=rng)
            assert varied.key == plain.key, (template, varied.text)
            assert answer_key(kind, varied.text) == plain.key, (template, varied.text)
            assert "nan" not in varied.text.lower() and all(math.isfinite(x) for x in numbers(varied.text))


def test_prompt_carries_the_table_only_when_asked():
    ev = squat_events()
    _, short = qa_prompt("Which repetition was the deepest?", ev)
    _, table = qa_prompt("Which repetition was the deepest?", ev, table=True)
    assert "Per repetition:" not in short and "109" not in short
    assert "Per repetition:" in table and "110/108" in table
    assert short.endswith("Question: Which repetition was the deepest?")
