"""The shipped coach checkpoint on clips with a known fault (the real embedded LLM: tens of seconds)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from musclepose.body import Body
from musclepose.io.clip import CLIP_CHANNELS
from musclepose.language.coach import faults_mentioned, ungrounded_numbers
from musclepose.motion.kinetics import compute_kinetics
from musclepose.pipelines.coach import CoachModel, default_checkpoint
from musclepose.signals.waves import run_analysis
from musclepose.sim import generate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model():
    return CoachModel.load()


@pytest.fixture(scope="module")
def faulty_squat():
    body = Body.standard(1.75, 70.0, "male")
    return generate("squat", body, {"reps": 3}, faults={"heel_lift": {"severity": 0.7, "side": "both"}}, rng=11)


def test_checkpoint_is_small_and_complete():
    folder = default_checkpoint()
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert size < 30e6
    for name in ("config.json", "encoder.safetensors", "bridge.safetensors", "form_screen.json", "MODEL_CARD.md"):
        assert (folder / name).is_file(), name
    assert (folder / "adapter" / "adapter_model.safetensors").is_file()
    card = (folder / "MODEL_CARD.md").read_text()
    assert "musclepose train coach" in card and "musclepose simulate" in card


def test_coach_names_the_injected_fault_with_grounded_numbers(model, faulty_squat):
    kin = compute_kinetics(faulty_squat, cutoff_hz=None)
    r = model.coach(faulty_squat, "squat", kinetics=kin)
    assert [f.name for f in r.faults] == ["heel_lift"]
    clip = r.clip  # the typed per-clip result the report and the CLI read
    assert clip.kind == "motion" and clip.motion is faulty_squat and clip.kinetics is kin and clip.faults is r.faults
    assert (
        clip.n_frames == faulty_squat.n_frames
        and clip.analysis.n_reps == 3
        and set(clip.channels) == set(CLIP_CHANNELS)
    )
    assert faults_mentioned(r.text) == {"heel_lift"}, r.text
    n, bad = ungrounded_numbers(r.text, r.summary)
    assert n >= 3 and bad == 0, r.text
    assert r.summary.n_reps == 3 and f"{r.summary.n_reps} repetitions" in r.text


def test_a_clean_squat_gets_no_fault(model):
    m = generate("squat", Body.standard(1.68, 61.0, "female"), {"reps": 3}, rng=4)
    r = model.coach(m, "squat")
    assert r.faults == [] and faults_mentioned(r.text) == set(), r.text


def test_cli_coaches_a_channels_only_clip(tmp_path, faulty_squat):
    run = run_analysis(faulty_squat, exercise="squat")
    clip = tmp_path / "clip.json"
    doc = {c: np.asarray(run.channels[c]).tolist() for c in CLIP_CHANNELS}
    n = len(doc["trajectory"])
    clip.write_text(
        json.dumps(doc | {"fps": faulty_squat.fps, "n_frames": n, "exercise": "squat", "LANGUAGE": "SECRET 4242"})
    )
    report = tmp_path / "r.html"
    r = subprocess.run([sys.executable, "-m", "musclepose", "coach", str(clip), "--json", "--report", str(report)],
                       capture_output=True, text=True, timeout=600)  # fmt: skip
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["exercise"] == "squat" and out["analysis"]["n_reps"] == 3 and out["coaching"]
    assert "4242" not in " ".join(out["prompt_facts"]) and "4242" not in out["coaching"]
    html = report.read_text()
    assert "Repetitions" in html and html.count('<img src="data:image/png;base64,') == 1  # the channels
