"""The measured form screen: observables on motions with analysed repetitions, thresholds from data."""

from __future__ import annotations

import numpy as np
import pytest

from musclepose.body import Body
from musclepose.signals import analyze_motion
from musclepose.sim import generate
from musclepose.training.form_screen import FormScreen, fault_measures


@pytest.fixture(scope="module")
def squats():
    body = Body.standard(1.75, 70.0, "male")
    out = {}
    for fault in ("none", "knee_valgus", "shallow_depth", "forward_lean"):
        faults = {} if fault == "none" else {fault: {"severity": 1.0, "side": "l"}}
        m = generate("squat", body, {"reps": 3}, faults=faults, rng=1)
        a = analyze_motion(m, exercise="squat").to_dict()
        out[fault] = fault_measures(m, "squat", a)
    return out


def test_each_fault_raises_its_own_observable(squats):
    """Measured with the analysis' repetitions (not the generator's): the injected fault moves its measure up."""
    clean = squats["none"]
    assert set(clean) >= {"knee_valgus", "shallow_depth", "forward_lean", "heel_lift", "rushed_eccentric"}
    assert squats["knee_valgus"]["knee_valgus"] > clean["knee_valgus"] + 3.0  # cm medial of the knee-over-toe line
    assert squats["shallow_depth"]["shallow_depth"] > clean["shallow_depth"] + 15.0  # less knee flexion (signed)
    assert squats["forward_lean"]["forward_lean"] > clean["forward_lean"] + 5.0  # deg of trunk beyond the shins
    assert squats["none"]["rushed_eccentric"] < -0.9  # signed: lowering time (s), measured on the analysis' phases


def test_fit_screen_and_json_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    rows = []
    for k in range(60):
        faulty = k % 3 == 0
        sev = rng.uniform(0.5, 1.0) if faulty else 0.0
        v = rng.normal(0.0, 1.0) + (6.0 * sev if faulty else 0.0)
        rows.append(("squat", {"knee_valgus": v}, {"knee_valgus": {"severity": sev}} if faulty else {}))
    screen = FormScreen.fit(rows)
    rule = screen.rules["squat"]["knee_valgus"]
    assert rule.f1_train > 0.9 and rule.n_faulty == 20
    found = screen.screen("squat", {"knee_valgus": 6.0})
    assert [f.name for f in found] == ["knee_valgus"] and found[0].probability >= 0.5
    assert 0.6 < found[0].severity <= 1.0 and found[0].unit == "cm" and "knee medial" in found[0].what
    assert screen.screen("squat", {"knee_valgus": -1.0}) == []
    screen.save(tmp_path / "s.json")
    again = FormScreen.load(tmp_path / "s.json")
    assert again.screen("squat", {"knee_valgus": 6.0}) == found
