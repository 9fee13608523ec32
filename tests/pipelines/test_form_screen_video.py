"""The form screen's video floors: a finding on a motion fitted from a camera must also stand above what
the camera fit shows on correct form (``form_screen_video.json`` beside the screen)."""

from __future__ import annotations

import json
import shutil

import pytest

from musclepose.body import Body
from musclepose.motion import Motion
from musclepose.pipelines.coach import default_checkpoint
from musclepose.pipelines.form_real import motion_rep_faults
from musclepose.pipelines.form_screen import VIDEO_FLOORS_FILE, FormScreen, fault_measures, is_video
from musclepose.signals import analyze_motion
from musclepose.sim import generate


@pytest.fixture(scope="module")
def valgus_squat():
    body = Body.standard(1.75, 70.0, "male")
    m = generate("squat", body, {"reps": 2}, faults={"knee_valgus": {"severity": 1.0, "side": "l"}}, rng=2)
    return m, analyze_motion(m, exercise="squat").to_dict()


def test_floors_hold_back_a_video_finding_only(valgus_squat, tmp_path):
    motion, analysis = valgus_squat
    measures = fault_measures(motion, "squat", analysis)
    shipped = default_checkpoint() / "form_screen.json"
    shutil.copy(shipped, tmp_path / "form_screen.json")
    found = {f.name for f in FormScreen.load(tmp_path / "form_screen.json").screen("squat", measures)}
    assert "knee_valgus" in found  # a pronounced valgus on clean motion: found
    # A floor above the measured valgus (as a camera's noise would set it) holds it back on video only.
    floors = {"floors": {"squat": {"knee_valgus": measures["knee_valgus"] + 1.0}}}
    (tmp_path / VIDEO_FLOORS_FILE).write_text(json.dumps(floors))
    screen = FormScreen.load(tmp_path / "form_screen.json")
    assert "knee_valgus" in {f.name for f in screen.screen("squat", measures)}
    assert "knee_valgus" not in {f.name for f in screen.screen("squat", measures, video=True)}
    # The per-repetition path (`musclepose analyze`) applies them to motions the video fitter made.
    fitted = Motion(motion.q, motion.fps, motion.body, {"video_fit": {"points": []}})
    assert is_video(fitted) and not is_video(motion)
    per_rep = motion_rep_faults(motion, "squat", analysis, screen)
    per_rep_video = motion_rep_faults(fitted, "squat", analysis, screen)
    assert any(f.name == "knee_valgus" for r in per_rep for f in r.faults)
    assert not any(f.name == "knee_valgus" for r in per_rep_video for f in r.faults)


def test_the_shipped_floors_say_how_they_were_made():
    doc = json.loads((default_checkpoint() / VIDEO_FLOORS_FILE).read_text())
    assert doc["n_clips"] >= 200 and doc["command"].startswith("python scripts/fit_camera_screen.py")
    # Floors sit above what clean motion of correct form shows: a camera adds noise, it never removes it.
    body = Body.standard(1.70, 65.0, "female")
    clean = generate("squat", body, {"reps": 2}, rng=5)
    measures = fault_measures(clean, "squat", analyze_motion(clean, exercise="squat").to_dict())
    for fault in ("knee_valgus", "heel_lift", "asymmetric_drive"):
        assert doc["floors"]["squat"][fault] > measures[fault], fault
