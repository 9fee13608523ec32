"""``musclepose imitate``: results on a real recording, the files it writes, exit code 2 on bad input."""

import json

import pytest
from typer.testing import CliRunner

from musclepose.cli import app
from musclepose.io import load_motion

from ._squat import squat_excerpt_mot

runner = CliRunner()


@pytest.fixture(scope="module")
def squat_excerpt(refdata, tmp_path_factory):
    """The first 2 s of the real squat (OpenSim IK), written back as a .mot for the CLI to read."""
    return squat_excerpt_mot(
        refdata("mocap/addbiomechanics_expert1/squats1.mot"), tmp_path_factory.mktemp("imitate"), 200
    )


def test_imitate_writes_the_simulated_motion(squat_excerpt, tmp_path):
    src = squat_excerpt
    out = tmp_path / "squat_sim.mot"
    r = runner.invoke(app, ["imitate", str(src), "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert (
        info["joint_rmse_deg"] < 5.0 and info["fell"] is False and info["duration_s"] == pytest.approx(1.99, abs=0.02)
    )
    assert info["max_residual_root_force_n"] > 0
    back = load_motion(out)  # the written .mot reads back and has the simulated frame count
    assert back.n_frames == info["frames"]
    r = runner.invoke(app, ["imitate", str(src), "--no-residual", "-o", str(tmp_path / "w.json")])
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "w.json").read_text())
    assert doc["max_residual_root_force_n"] == 0 and len(doc["q"]) == doc["frames"] and len(doc["q"][0]) == 47
    if doc["fell"]:  # a fall ends the simulated motion there
        assert doc["frames"] < back.n_frames


def test_bad_input_is_one_line_and_exit_code_2(tmp_path):
    bad = tmp_path / "broken.trc"
    bad.write_text("not a trc file\n")
    r = runner.invoke(app, ["imitate", str(bad)])
    assert r.exit_code == 2 and "broken.trc" in r.output
    r = runner.invoke(app, ["imitate", str(tmp_path / "missing.mot")])
    assert r.exit_code == 2 and "missing.mot" in r.output
    r = runner.invoke(app, ["imitate", str(bad), "-o", str(tmp_path / "x.bvh")])
    assert r.exit_code == 2 and "x.bvh" in r.output


def test_cycles_refuses_a_clip_that_does_not_loop(refdata, tmp_path):
    """A DeepMimic clip whose file says ``"Loop": "none"`` is not repeated: exit 2, the reason named."""
    doc = json.loads(refdata("mocap/deepmimic/humanoid3d_walk.txt").read_text())
    doc["Loop"] = "none"
    once = tmp_path / "walk_once.txt"
    once.write_text(json.dumps(doc))
    r = runner.invoke(app, ["imitate", str(once), "--cycles", "3"])
    assert r.exit_code == 2 and "does not loop" in r.output and "walk_once.txt" in r.output
