"""PhysicsSummary and prompts: built from the analysis, grounded, and never carrying the target text."""

from __future__ import annotations

import pytest

from musclepose.body import Body
from musclepose.language import PhysicsSummary, build_prompt
from musclepose.motion.kinetics import compute_kinetics
from musclepose.signals import analyze_motion
from musclepose.sim import generate


@pytest.fixture(scope="module")
def analysis():
    body = Body.standard(1.75, 70.0, "male")
    m = generate("squat", body, {"reps": 3}, faults={"asymmetric_drive": {"severity": 1.0, "side": "l"}})
    return analyze_motion(m, exercise="squat", kinetics=compute_kinetics(m, cutoff_hz=None)).to_dict()


def test_summary_states_the_analysis(analysis):
    s = PhysicsSummary.from_analysis(analysis)
    system, user = build_prompt(s)
    assert "Exercise: squat" in user and f"Reps: {analysis['n_reps']}" in user
    assert f"grade {analysis['grade']}" in user and user.endswith("Provide coaching feedback:")
    assert "Temporal Events:" in user and "Peak joint moments" in user
    # The knee extensor moment of a squat is negative (extensor) and about 0.5-1.5 N m/kg.
    assert -1.6 < s.peak_moments["knee R"] < -0.4
    # An asymmetric drive shows as left-right asymmetry of the knee moment.
    assert s.asymmetry_pct["knee"] > 2.0
    assert "coach" in system.lower()


def test_prompt_never_contains_the_target_text(analysis):
    """The seed put the target coaching text into its training prompt: only whitelisted fields are read."""
    target = "Drive evenly through both feet; your left knee carries 4242 percent more."
    labels = {**analysis, "language": target, "LANGUAGE": target, "coach_text": target}
    _, user = build_prompt(PhysicsSummary.from_analysis(labels))
    assert "Drive evenly" not in user and "4242" not in user
    for sentence in target.split(";"):
        assert sentence.strip() not in user


def test_numbers_are_the_summary_numbers(analysis):
    s = PhysicsSummary.from_analysis(analysis)
    _, user = build_prompt(s)
    import re

    assert set(re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?", user)) <= s.numbers()
