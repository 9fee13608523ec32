"""``musclepose evaluate form`` and ``analyze`` on a Pose Trainer file run the shipped form models end to
end: per-repetition ``faults`` lists, the exercise recognised, finite JSON, exit 2 on unusable input.
(These clips are in the shipped models' training data: accuracy is measured held out in
benchmarks/bench_form_real.py, not here.)"""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
from typer.testing import CliRunner

from musclepose.cli import app
from musclepose.io.uiprmd import read_uiprmd
from musclepose.pipelines.recognize import recognize_kinect

runner = CliRunner()


def _finite(x) -> bool:
    if isinstance(x, dict):
        return all(_finite(v) for v in x.values())
    if isinstance(x, list):
        return all(_finite(v) for v in x)
    return not isinstance(x, float) or math.isfinite(x)


def _json(out: str) -> dict:
    return json.loads(out[out.index("{") :])


def test_analyze_a_pose_trainer_file_recognises_it_and_lists_faults_per_repetition(refdata):
    res = runner.invoke(app, ["analyze", str(refdata("labelled/pose_trainer/bicep/bicep_bad_1.npy")), "--json"])
    assert res.exit_code == 0, res.output
    doc = _json(res.stdout)
    assert _finite(doc)
    analysis = doc["analysis"]
    assert analysis["recognition"]["exercise"] == "bicep_curl"
    assert analysis["reps"] and all(isinstance(r["faults"], list) for r in analysis["reps"])
    for rep in analysis["reps"]:
        assert 0.0 <= rep["form"]["p_wrong"] <= 1.0
        assert all(f["name"] and 0.0 <= f["probability"] <= 1.0 for f in rep["faults"])


def test_evaluate_form_scores_a_labelled_folder(refdata, tmp_path):
    src = refdata("labelled/pose_trainer/bicep")
    for name in ("bicep_good_1.npy", "bicep_bad_1.npy"):
        shutil.copy(src / name, tmp_path / name)
    res = runner.invoke(app, ["evaluate", "form", "--pose-trainer", str(tmp_path), "--json"])
    assert res.exit_code == 0, res.output
    block = _json(res.stdout)["pose_trainer"]
    assert block["n"] == 2 and 0.0 <= block["recognition_accuracy"] <= 1.0
    assert block["form"]["bicep_curl"]["n"] == 2 and block["form"]["bicep_curl"]["n_wrong"] == 1


def test_evaluate_form_unusable_input_is_exit_2(tmp_path):
    assert runner.invoke(app, ["evaluate", "form"]).exit_code == 2
    missing = tmp_path / "nowhere"
    res = runner.invoke(app, ["evaluate", "form", "--pose-trainer", str(missing)])
    assert res.exit_code == 2 and "nowhere" in res.output


def test_train_form_only_uiprmd_rebuilds_that_checkpoint_alone_and_it_recognises_its_episodes(
    refdata, tmp_path, monkeypatch
):
    src = refdata("labelled/uiprmd_kinect")
    data = tmp_path / "uiprmd"
    data.mkdir()
    for m in (1, 2, 3, 6, 7, 8, 9, 10):  # one subject, every movement, correct and incorrect
        for f in sorted(src.rglob(f"m{m:02d}_s01_e0[12]_positions*.txt.gz")):
            shutil.copy(f, data / f.name)
    out = tmp_path / "form"
    res = runner.invoke(app, ["train", "form", "--out", str(out), "--uiprmd", str(data), "--only", "uiprmd"])
    assert res.exit_code == 0, res.output
    assert (out / "uiprmd" / "recognizer.safetensors").is_file() and not (out / "keypoints2d").exists()
    config = json.loads((out / "uiprmd" / "config.json").read_text())
    assert config["parts"]["recognizer"]["config"]["feature_names"][0].startswith("working_side_")
    assert len(config["extra"]["uiprmd_sha256"]) == 64
    assert runner.invoke(app, ["train", "form", "--out", str(out), "--only", "keypoints2d"]).exit_code == 2
    # In-sample (its own training episodes): a sanity check of the round trip, not an accuracy.
    monkeypatch.setenv("MUSCLEPOSE_FORM", str(out))
    eps = [read_uiprmd(f) for f in sorted(data.iterdir())]
    assert np.mean([recognize_kinect(e).exercise == e.exercise for e in eps]) >= 0.9
