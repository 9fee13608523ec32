"""Fitting the measured form screen: thresholds and severity from labelled clips, a JSON round trip."""

from __future__ import annotations

import numpy as np

from musclepose.pipelines.form_screen import FormScreen
from musclepose.training.form_screen import fit_form_screen


def test_fit_screen_and_json_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    rows = []
    for k in range(60):
        faulty = k % 3 == 0
        sev = rng.uniform(0.5, 1.0) if faulty else 0.0
        v = rng.normal(0.0, 1.0) + (6.0 * sev if faulty else 0.0)
        rows.append(("squat", {"knee_valgus": v}, {"knee_valgus": {"severity": sev}} if faulty else {}))
    screen = fit_form_screen(rows)
    rule = screen.rules["squat"]["knee_valgus"]
    assert rule.f1_train > 0.9 and rule.n_faulty == 20
    found = screen.screen("squat", {"knee_valgus": 6.0})
    assert [f.name for f in found] == ["knee_valgus"] and found[0].probability >= 0.5
    assert 0.6 < found[0].severity <= 1.0 and found[0].unit == "cm" and "knee medial" in found[0].what
    assert screen.screen("squat", {"knee_valgus": -1.0}) == []
    screen.save(tmp_path / "s.json")
    again = FormScreen.load(tmp_path / "s.json")
    assert again.screen("squat", {"knee_valgus": 6.0}) == found


def test_interaction_pair_joins_only_its_rule_and_round_trips(tmp_path):
    """``interactions``: the product of two standardised observables joins one fault's model
    (``FaultRule.pairs``), an empty list otherwise. On a fault that only a product can tell (its lean
    above the normal when shallow, below it when deep), the rule with the pair separates the clips and
    the plain one (each observable and its square) cannot; the pair survives the JSON round trip."""
    rng = np.random.default_rng(1)
    rows = []
    for _ in range(400):
        depth = rng.uniform(-1.0, 1.0)
        faulty = rng.random() < 0.3
        lean = rng.normal(0.0, 0.15) + (0.8 if faulty else -0.8) * depth
        rows.append(("squat", {"forward_lean": lean, "shallow_depth": depth},
                     {"forward_lean": {"severity": 0.8}} if faulty else {}))  # fmt: skip
    plain = fit_form_screen(rows)
    pair = fit_form_screen(rows, interactions={"squat": {"forward_lean": [("forward_lean", "shallow_depth")]}})
    assert pair.rules["squat"]["forward_lean"].pairs == [["forward_lean", "shallow_depth"]]
    assert plain.rules["squat"]["forward_lean"].pairs == []
    assert pair.rules["squat"]["forward_lean"].f1_train > 0.9 > plain.rules["squat"]["forward_lean"].f1_train + 0.2
    pair.save(tmp_path / "s.json")
    again = FormScreen.load(tmp_path / "s.json")
    assert again.rules["squat"]["forward_lean"].pairs == [["forward_lean", "shallow_depth"]]
    x = {"forward_lean": 0.8, "shallow_depth": 1.0}
    assert [f.name for f in again.screen("squat", x)] == ["forward_lean"] == [f.name for f in pair.screen("squat", x)]
    assert again.screen("squat", {"forward_lean": -0.8, "shallow_depth": 1.0}) == []


def test_base_standardisation_and_a_rule_penalty():
    """``base``: the fit keeps a shipped screen's measures, means and SDs, so one refitted rule can stand
    beside its other rules; ``l2`` per fault: a weaker penalty lets that rule's weights grow (a sharper
    boundary), the other rules keep the default."""
    rng = np.random.default_rng(2)
    rows = []
    for k in range(300):
        fl, kv = k % 4 == 0, k % 5 == 0
        m = {"forward_lean": rng.normal(30.0, 8.0) + 20.0 * fl, "knee_valgus": rng.normal(0.0, 1.0) + 5.0 * kv}
        rows.append(("squat", m, {**({"forward_lean": {"severity": 0.7}} if fl else {}),
                                  **({"knee_valgus": {"severity": 0.7}} if kv else {})}))  # fmt: skip
    base = fit_form_screen(rows[:100])
    refit = fit_form_screen(rows, base=base, l2={"squat": {"forward_lean": 1e-4}})
    e, b = refit.exercises["squat"], base.exercises["squat"]
    assert (e.names, e.mean, e.std) == (b.names, b.mean, b.std)
    default = fit_form_screen(rows, base=base)
    norm = lambda s, f: float(np.linalg.norm(s.rules["squat"][f].weights))  # noqa: E731
    assert norm(refit, "forward_lean") > 1.5 * norm(default, "forward_lean")
    assert refit.rules["squat"]["knee_valgus"].weights == default.rules["squat"]["knee_valgus"].weights
