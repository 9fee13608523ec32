"""``musclepose generate`` and ``describe`` in-process (typer's CliRunner).

The references are independent of the generator: ``analyze``'s recogniser and repetition counter
read the written file like any recording, and a real recording (AddBiomechanics' squats1: five
bodyweight squats by the data's README) checks ``describe``.
"""

from __future__ import annotations

import json

from typer.testing import CliRunner

from musclepose.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_generate_mot_then_analyze_counts_and_recognises(tmp_path):
    out = tmp_path / "out.mot"
    r = invoke("generate", "three fast bodyweight squats", "-o", out, "--json")
    assert r.exit_code == 0, r.output
    spec = json.loads(r.stdout)
    assert spec["request"]["exercise"] == "squat" and spec["request"]["reps"] == 3
    assert spec["request"]["tempo"] == "fast" and spec["output"] == str(out)
    a = invoke("analyze", out, "--json")
    assert a.exit_code == 0, a.output
    analysis = json.loads(a.stdout)["analysis"]
    assert analysis["n_reps"] == 3
    assert analysis["recognition"]["exercise"] == "squat"


def test_generate_bvh_with_a_fault_then_describe(tmp_path):
    out = tmp_path / "pushups.bvh"
    assert invoke("generate", "three push-ups with hips sagging", "-o", out).exit_code == 0
    r = invoke("describe", out, "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["exercise"] == "push_up" and d["n_reps"] == 3
    assert "hip_sag" in {f["name"] for f in d["faults"]}
    assert d["text"].startswith("Three push-ups") and "sagging" in d["text"]


def test_unreadable_request_exits_2_and_lists_what_it_reads(tmp_path):
    out = tmp_path / "x.mot"
    r = invoke("generate", "do a cartwheel", "-o", out)
    assert r.exit_code == 2
    assert "no exercise named" in r.stderr
    assert "squat" in r.stderr and "knee_valgus" in r.stderr and "hip_sag" in r.stderr
    assert not out.exists()
    r = invoke("generate", "push-ups with knees caving", "-o", out)
    assert r.exit_code == 2 and "push_up has no fault 'knee_valgus'" in r.stderr
    assert invoke("generate", "five squats", "-o", tmp_path / "x.csv").exit_code == 2


def test_describe_real_squats(refdata):
    r = invoke("describe", refdata("mocap/addbiomechanics_expert1/squats1.mot"), "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["exercise"] == "squat" and d["n_reps"] == 5
    assert d["text"].startswith("Five squats")


def test_describe_a_real_jump_is_no_catalogue_exercise(refdata):
    """CMU's jumping (the motion-prediction benchmark's label) is no exercise of the catalogue: the
    2-D recogniser must not call it one (a refit on another synthetic set once called it seven
    shoulder shrugs)."""
    r = invoke("describe", refdata("mocap/cmu_prediction/train/jumping/jumping_2.txt"), "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["exercise"] == "unknown" and d["text"].startswith("Not an exercise in the catalogue")
