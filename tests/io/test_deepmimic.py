"""DeepMimic reference motions: read, retargeted to our body, checked against the file's own angles."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from musclepose.cli import app
from musclepose.io.deepmimic import N_VALUES, read_deepmimic
from musclepose.io.errors import FormatError
from musclepose.io.load import load_motion

runner = CliRunner()


@pytest.fixture(scope="module")
def walk_file(refdata):
    return refdata("mocap/deepmimic/humanoid3d_walk.txt")


@pytest.fixture(scope="module")
def walk(walk_file):
    return load_motion(walk_file)


def test_forward_kinematics_keeps_the_character_bones(walk_file):
    clip = read_deepmimic(walk_file)
    assert clip.loop == "wrap" and clip.fps == pytest.approx(30.0, rel=1e-3)
    col = {n: i for i, n in enumerate(clip.names)}
    thigh = np.linalg.norm(clip.positions[:, col["RightKnee"]] - clip.positions[:, col["RightHip"]], axis=1)
    shank = np.linalg.norm(clip.positions[:, col["LeftAnkle"]] - clip.positions[:, col["LeftKnee"]], axis=1)
    assert np.allclose(thigh, 0.421546, atol=1e-9) and np.allclose(shank, 0.40987, atol=1e-9)
    # Walking: the feet stay near the floor, the pelvis near its standing height.
    feet_y = clip.positions[:, [col["RightAnkle"], col["LeftAnkle"]], 1]
    assert 0.0 < feet_y.min() < 0.12 and 0.75 < clip.positions[:, 0, 1].mean() < 0.95


def test_ik_recovers_the_file_hinge_angles(walk_file, walk):
    # The file states knee and elbow hinge angles; our IK sees only joint positions. It recovers
    # them to about a degree (measured 0.6 deg knees, 0.9 deg elbows).
    frames = np.asarray(json.loads(walk_file.read_text())["Frames"])
    assert walk.n_frames == len(frames) and walk.metadata["format"] == "deepmimic"
    q = np.degrees(walk.q.numpy())
    for dof, col, sign in (("knee_flexion_r", 20, -1), ("knee_flexion_l", 34, -1),
                           ("elbow_flexion_r", 29, 1), ("elbow_flexion_l", 43, 1)):  # fmt: skip
        ours, ref = q[:, walk.body.dof_index(dof)], sign * np.degrees(frames[:, col])
        assert np.sqrt(np.mean((ours - ref) ** 2)) < 2.0, dof
    assert walk.metadata["marker_rms_m"] < 0.02


def test_analyze_reads_a_deepmimic_walk(walk_file):
    res = runner.invoke(app, ["analyze", str(walk_file), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout[res.stdout.index("{") :])
    assert doc["input"]["loader"]["format"] == "deepmimic"


@pytest.mark.parametrize(
    ("frames", "says"),
    [
        ([[0.03] * 40], "40 values"),
        ([[0.03] * N_VALUES, [0.0] * N_VALUES], "zero quaternion"),
        ([[-0.03] + [1.0] * (N_VALUES - 1), [0.0] + [1.0] * (N_VALUES - 1)], "frame duration"),
    ],
)
def test_bad_files_name_the_field_and_frame(tmp_path, frames, says):
    path = tmp_path / "humanoid3d_bad.txt"
    path.write_text(json.dumps({"Loop": "none", "Frames": frames}))
    with pytest.raises(FormatError, match=says) as err:
        read_deepmimic(path)
    assert "humanoid3d_bad.txt" in str(err.value) and "frame" in str(err.value)
    res = runner.invoke(app, ["analyze", str(path)])
    assert res.exit_code == 2 and "humanoid3d_bad.txt" in res.output
