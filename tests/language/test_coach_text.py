"""The coach's text layer: targets restate the prompt's numbers, fault mentions, grounding, no leakage."""

from __future__ import annotations

import numpy as np
import pytest

from musclepose.body import DOF_NAMES
from musclepose.catalogue import FAULT_NAMES, FAULTS
from musclepose.language import build_prompt
from musclepose.language.coach import (
    coach_summary,
    faults_mentioned,
    misstated_facts,
    peak_extensor_moments,
    target_text,
    ungrounded_numbers,
)
from musclepose.language.prompts import DetectedFault

ANALYSIS = {
    "n_reps": 3,
    "grade": "B",
    "reps": [
        {"depth_knee_flexion_deg": d, "tempo": {"eccentric_s": e, "concentric_s": c}}
        for d, e, c in ((96.4, 1.24, 0.81), (101.2, 1.31, 0.86), (99.0, 1.18, 0.9))
    ],
}
PEAKS = {"hip extensors": 1.23, "knee extensors": 0.87, "ankle plantarflexors": 0.61}


def test_peak_extensor_moments_read_the_extensor_side():
    tau = np.zeros((5, 47))
    tau[2, DOF_NAMES.index("knee_flexion_l")] = -70.0  # extensor moment, 1 N m/kg for 70 kg
    tau[3, DOF_NAMES.index("knee_flexion_r")] = +140.0  # a flexor moment is not an extensor peak
    p = peak_extensor_moments(tau, DOF_NAMES, 70.0, "squat")
    assert p["knee extensors"] == 1.0 and p["hip extensors"] == 0.0
    up = peak_extensor_moments(tau, DOF_NAMES, 70.0, "push_up")
    assert set(up) == {"elbow muscles", "shoulder muscles"}


@pytest.mark.parametrize("seed", range(6))
def test_every_number_of_the_target_is_in_the_prompt(seed):
    rng = np.random.default_rng(seed)
    names = list(rng.choice(FAULT_NAMES, size=2, replace=False))
    faults = {n: {"severity": float(rng.uniform(0.2, 1.0)), "side": "l"} for n in names}
    detected = [DetectedFault(n, 0.9, round(f["severity"], 2), "l") for n, f in faults.items()]
    s = coach_summary("squat", ANALYSIS, PEAKS, detected)
    _, user = build_prompt(s)
    text = target_text(s, faults, seed)
    n, bad = ungrounded_numbers(text, s)
    assert n >= 5 and bad == 0, text
    assert "101" in text and "Depth: peak knee flexion 101 deg" in user  # the deepest repetition
    assert faults_mentioned(text) == set(names)
    # The target is a label: the prompt built from the same facts contains none of its sentences.
    for sentence in text.split(". "):
        assert sentence.strip(". ") not in user


def test_faults_mentioned_finds_each_fault_and_nothing_in_a_clean_text():
    for name, label in ((n, f.label) for n, f in FAULTS.items()):
        assert faults_mentioned(f"I see {label} on the left.") == {name}
        assert faults_mentioned(f"Watch the {name.replace('_', ' ')}.") == {name}
    clean = target_text(coach_summary("squat", ANALYSIS, PEAKS, []), {}, 0)
    assert faults_mentioned(clean) == set()


def test_an_invented_number_is_ungrounded():
    s = coach_summary("squat", ANALYSIS, PEAKS, [])
    assert ungrounded_numbers("You did 3 reps with 1.23 N·m/kg at the hip.", s) == (2, 0)
    assert ungrounded_numbers("You did 4 reps and reached 130 degrees.", s) == (2, 2)


def test_form_screen_line_and_upper_body_depth():
    s = coach_summary("push_up", ANALYSIS, {"elbow muscles": 0.5}, [DetectedFault("hip_sag", 0.91, 0.55)])
    lines = s.lines()
    k = lines.index("Form screen, most severe first:")
    assert lines[k + 1] == "- hip sag (probability 0.91, severity 0.55, moderate)"
    assert s.depth_deg is None and not any(ln.startswith("Depth") for ln in lines)
    none = coach_summary("squat", ANALYSIS, PEAKS, [])
    assert "Form screen: no fault detected" in none.lines()


def test_the_prompt_ranks_the_peak_moments():
    s = coach_summary("squat", ANALYSIS, {"knee extensors": 0.87, "hip extensors": 1.23, "ankle plantarflexors": 0.61})
    line = next(ln for ln in s.lines() if ln.startswith("Peak joint moments"))
    assert line.endswith("largest first: hip extensors 1.23, knee extensors 0.87, ankle plantarflexors 0.61")


def test_the_prompt_lists_the_faults_one_per_line_in_the_targets_order():
    """The prompt and the target address the screen's faults in the same order, most severe first."""
    found = [
        DetectedFault("forward_lean", 0.8, 0.35, None, 52.0, "deg", "trunk inclination at the bottom"),
        DetectedFault("heel_lift", 0.97, 0.7, None, 3.4, "cm", "heel height at the bottom"),
        DetectedFault("knee_valgus", 0.6, 0.5, "l"),
    ]
    s = coach_summary("squat", ANALYSIS, PEAKS, found)
    lines = s.lines()
    k = lines.index("Form screen, most severe first:")
    assert [ln.split(" (")[0] for ln in lines[k + 1 : k + 4]] == ["- heel lift", "- knee valgus on the left",
                                                                   "- forward lean"]  # fmt: skip
    text = target_text(s, None, 0)
    order = [text.index(label) for label in ("heels lifting", "knees caving inward", "too much forward lean")]
    assert order == sorted(order)


def test_training_target_reports_exactly_the_screened_faults():
    """Targets without labels say what the form screen found, with its measured value and severity."""
    found = [
        DetectedFault("heel_lift", 0.97, 0.7, None, 3.4, "cm", "heel height at the bottom"),
        DetectedFault("forward_lean", 0.8, 0.35, None, 52.0, "deg", "trunk inclination at the bottom"),
    ]
    s = coach_summary("squat", ANALYSIS, PEAKS, found)
    text = target_text(s, None, 3)
    assert faults_mentioned(text) == {"heel_lift", "forward_lean"}
    assert "3.4 cm" in text and "52 deg" in text and "pronounced" in text and "moderate" in text
    assert ungrounded_numbers(text, s)[1] == 0
    assert faults_mentioned(target_text(coach_summary("squat", ANALYSIS, PEAKS, []), None, 3)) == set()


def test_misstated_facts_catch_a_wrong_strength_word_and_a_wrong_largest_moment():
    found = [
        DetectedFault("heel_lift", 0.97, 0.7, None, 3.4, "cm", "heel height at the bottom"),
        DetectedFault("forward_lean", 0.8, 0.35, None, 52.0, "deg", "trunk inclination at the bottom"),
    ]
    s = coach_summary("squat", ANALYSIS, PEAKS, found)
    for seed in range(6):  # every phrasing of the expert coach states them right
        assert misstated_facts(target_text(s, None, seed), s) == (3, 0)
    text = target_text(s, None, 0)
    assert "pronounced" in text and "moderate" in text and "hip extensors carried the most" in text
    assert misstated_facts(text.replace("pronounced", "slight"), s) == (3, 1)
    assert misstated_facts(text.replace("moderate", "pronounced"), s) == (3, 1)
    assert misstated_facts(text.replace("The hip extensors carried", "The knee extensors carried"), s) == (3, 1)
    assert misstated_facts(text.replace("1.23 N·m/kg", "0.87 N·m/kg"), s) == (3, 1)
    assert misstated_facts("3 repetitions of squat.", s) == (0, 0)
