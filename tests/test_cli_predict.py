"""``musclepose evaluate rollout`` and ``musclepose predict`` end to end (subprocesses); errors exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from musclepose.io.bvh import read_bvh
from musclepose.models.motion_nn import MotionNN, MotionNNConfig
from musclepose.pipelines.motion_state import BodyCodec, CMUCodec
from musclepose.training.checkpoint import save_checkpoint

CLI = [sys.executable, "-m", "musclepose"]


def run(*args):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=600)


def _checkpoint(folder, codec, fps, window):
    torch.manual_seed(0)
    cfg = MotionNNConfig(n_rot=codec.n_rot, n_extra=codec.n_extra, n_contact=codec.n_contact, window=window,
                         recent=3, n_basis=4, hidden=8, context=4, fps=fps)  # fmt: skip
    save_checkpoint(folder, {"motion_nn": MotionNN(cfg)}, extra={"codec": codec.name, "fps": fps})
    return folder


@pytest.fixture(scope="module")
def running(refdata, tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    (root / "running").mkdir()
    src = refdata("mocap/cmu_prediction/train/running/running_1.txt")
    (root / "running" / "running_1.txt").write_bytes(src.read_bytes())
    return root


def test_evaluate_rollout_json(running, tmp_path):
    ck = _checkpoint(tmp_path / "cmu", CMUCodec(), 60.0, 20)
    r = run("evaluate", "rollout", "--data", str(running), "--checkpoint", str(ck), "--rollout-steps", "30", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["horizons_ms"] == [80, 160, 320, 400, 560, 1000]
    assert set(out["mean_angle_error"]) == {"model", "zero_velocity", "constant_velocity"}
    # An untrained network predicts no change: exactly the zero-velocity baseline.
    assert out["mean_angle_error"]["model"] == pytest.approx(out["mean_angle_error"]["zero_velocity"], abs=1e-4)
    assert list(out["per_action"]) == ["running"] and out["rollout_60_over_1"] > 1.0


def test_evaluate_rollout_bad_folder_exits_2(tmp_path):
    r = run("evaluate", "rollout", "--data", str(tmp_path / "nowhere"), "--json")
    assert r.returncode == 2 and "nowhere" in r.stderr


def test_predict_writes_the_continued_motion(running, tmp_path):
    ck = _checkpoint(tmp_path / "body", BodyCodec(), 30.0, 15)
    src = running / "running" / "running_1.txt"
    short = tmp_path / "run.txt"
    short.write_text("\n".join(src.read_text().splitlines()[:100]))  # 0.8 s at 120 Hz
    r = run("predict", str(short), "--horizon", "500ms", "--checkpoint", str(ck), "--out", str(tmp_path / "o"),
            "--json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["frames_predicted"] == 15 and info["fps"] == 30.0
    assert set(info["outputs"]) == {"mot", "bvh", "json", "png"}
    bvh = read_bvh(info["outputs"]["bvh"])
    assert bvh.n_frames == info["frames_observed"] + 15 and bvh.frame_time == pytest.approx(1 / 30)
    assert json.loads((tmp_path / "o" / "run_predicted.json").read_text())["fps"] == 30.0


def test_predict_bad_horizon_exits_2(tmp_path):
    r = run("predict", str(tmp_path / "x.txt"), "--horizon", "soon")
    assert r.returncode == 2 and "--horizon 'soon'" in r.stderr


def test_horizon_parsing():
    from musclepose.cli.predict import parse_horizon

    assert parse_horizon("1s") == 1.0 and parse_horizon("500ms") == 0.5 and parse_horizon("2.5") == 2.5
    for bad in ("0s", "20s", "-1", "1 min"):
        with pytest.raises(ValueError, match="--horizon"):
            parse_horizon(bad)
