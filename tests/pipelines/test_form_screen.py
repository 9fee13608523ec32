"""The measured form screen at inference: each fault's observable on motions with analysed repetitions."""

from __future__ import annotations

import pytest

from musclepose.body import Body
from musclepose.pipelines.form_screen import fault_measures
from musclepose.signals import analyze_motion
from musclepose.sim import generate


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
