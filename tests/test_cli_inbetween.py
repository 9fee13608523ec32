"""``musclepose inbetween`` in-process: the output reads back in ``analyze``; bad input exits 2 naming the file."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from musclepose.body import Body
from musclepose.cli import app
from musclepose.cli.convert import write_opensim
from musclepose.motion import Motion
from musclepose.pipelines.inbetween import DEFAULT_INBETWEENER

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    """Two .mot recordings of a standing body bending its knees, 1 s each at 50 Hz."""
    root = tmp_path_factory.mktemp("inbetween")
    body = Body.standard()
    t = np.arange(100) / 50.0
    q = body.neutral_q().double().repeat(100, 1).numpy()
    for name in ("knee_flexion_r", "knee_flexion_l", "hip_flexion_r", "hip_flexion_l"):
        q[:, body.dof_index(name)] += 0.3 * (1 - np.cos(2 * np.pi * 0.5 * t)) * (-1 if "knee" in name else 1)
    paths = []
    for k, part in enumerate((q[:50], q[50:])):
        path = root / f"part{k}.mot"
        write_opensim(path, Motion(torch.as_tensor(part), 50.0, body))
        paths.append(path)
    return paths


def test_inbetween_writes_a_motion_that_analyze_reads(recordings, tmp_path):
    out = tmp_path / "joined.mot"
    r = invoke("inbetween", *recordings, "--gap", "0.5", "--method", "slerp", "-o", out, "--json")
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert (info["gap_frames"], info["gap_start_frame"], info["frames"]) == (25, 50, 125)
    r = invoke("analyze", out, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["input"]["frames"] == 125


@pytest.mark.parametrize("gap", ["0", "-1"])
def test_gap_must_be_positive(recordings, tmp_path, gap):
    r = runner.invoke(app, ["inbetween", *map(str, recordings), "--gap", gap, "-o", str(tmp_path / "x.mot")])
    assert r.exit_code == 2 and "--gap" in r.output


def test_unreadable_input_exits_2_naming_it(recordings, tmp_path):
    missing = tmp_path / "nowhere.mot"
    r = runner.invoke(app, ["inbetween", str(recordings[0]), str(missing), "-o", str(tmp_path / "x.mot")])
    assert r.exit_code == 2 and "nowhere.mot" in r.output
    garbage = tmp_path / "garbage.mot"
    garbage.write_text("not a motion\n")
    r = runner.invoke(app, ["inbetween", str(garbage), str(recordings[1]), "-o", str(tmp_path / "x.mot")])
    assert r.exit_code == 2 and "garbage.mot" in r.output


def test_train_refuses_a_foreign_folder_before_any_work(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("not MusclePose's\n")
    r = runner.invoke(app, ["train", "inbetween", "--out", str(out), "--steps", "1"])
    assert r.exit_code == 2 and "mine" in r.output
    assert (out / "notes.txt").read_text() == "not MusclePose's\n"


@pytest.mark.skipif(not (DEFAULT_INBETWEENER / "config.json").is_file(), reason="no in-betweener shipped")
def test_default_is_the_shipped_model_at_its_rate(recordings, tmp_path):
    out = tmp_path / "joined.bvh"
    r = invoke("inbetween", *recordings, "--gap", "1", "-o", out, "--json")
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert (info["method"], info["fps"], info["gap_frames"]) == ("learned", 20.0, 20) and out.stat().st_size > 0
