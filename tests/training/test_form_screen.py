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
