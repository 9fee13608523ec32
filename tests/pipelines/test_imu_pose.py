"""Pose from IMUs: features and targets against forward kinematics, calibration against the simulator's truth,
streaming equal to batch, ONNX equal to torch, bad input, and the shipped model's accuracy on held-out motion."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from musclepose.body import Body, forward_kinematics
from musclepose.body.skeleton import SEGMENTS
from musclepose.io.errors import FormatError
from musclepose.models.hdt import HDT, HDTConfig
from musclepose.pipelines.imu_features import (
    SLOT_SEGMENTS,
    SLOTS,
    fk_from_rotations,
    imu_features,
    local_rotation_error_deg,
    pose_targets,
)
from musclepose.pipelines.imu_pose import (
    IMUPoseModel,
    default_imu_checkpoint,
    load_imu_stream,
    pose_to_q,
    result_motion,
)
from musclepose.sim.imu_corpus import sequence_from_motion
from musclepose.sim.randomize import random_clip
from musclepose.sim.sensors.imu_worn import worn_imu_errors

from ._imu_csv import segment_truth, squat_motion, with_npose, write_csv

SHIPPED = default_imu_checkpoint()
needs_model = pytest.mark.skipif(not (SHIPPED / "config.json").is_file(), reason="no shipped IMU pose checkpoint")


def _angle_deg(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    d = a.transpose(-1, -2) @ b
    return torch.rad2deg(torch.arccos(((d.diagonal(dim1=-2, dim2=-1).sum(-1) - 1) / 2).clamp(-1, 1)))


@pytest.fixture(scope="module")
def squat_csv(tmp_path_factory) -> tuple[Path, object]:
    motion = with_npose(squat_motion())
    path = tmp_path_factory.mktemp("imu") / "squat.csv"
    write_csv(path, motion)
    return path, motion


def test_targets_rebuild_forward_kinematics():
    """The 6-D pose targets put back through the skeleton give the body's own joint centres."""
    m = random_clip(3)
    seq = sequence_from_motion(m, "x", "musclepose.sim", "s", "train", versions=1, filter_hz=None)
    yaw = torch.linspace(-2.0, 2.0, seq.n_frames)  # any reference heading: the targets carry it back out
    rot6, _ = pose_targets(seq.rot, seq.root, yaw, seq.fps)
    pos = fk_from_rotations(rot6, yaw, seq.offsets)
    from scipy.interpolate import CubicSpline

    q = torch.as_tensor(CubicSpline(m.times, m.q.numpy(), axis=0)(np.arange(seq.n_frames) / seq.fps))
    fk = forward_kinematics(m.body, q)
    assert float((pos.double() - (fk.origins - fk.origins[:, :1])).abs().max()) < 1e-5
    assert float(local_rotation_error_deg(rot6, rot6).max()) < 0.05


def test_pose_to_q_recovers_the_motion():
    """Local rotations of a real motion, turned back into q, give the same joint centres (DoF projection exact)."""
    m = random_clip(5)
    seq = sequence_from_motion(m, "x", "musclepose.sim", "s", "train", versions=1, filter_hz=None)
    yaw = torch.zeros(seq.n_frames)
    rot6, vel = pose_targets(seq.rot, seq.root, yaw, seq.fps)

    class R:  # the fields pose_to_q reads
        pass

    r = R()
    r.rot6, r.yaw, r.vel, r.fps = rot6, yaw, vel, seq.fps
    q = pose_to_q(r, m.body)
    fk = forward_kinematics(m.body, q)
    true = fk_from_rotations(rot6, yaw, seq.offsets).double()
    assert float((fk.origins - fk.origins[:, :1] - true).norm(dim=-1).max()) < 0.01  # 1 cm (clamped ROM margins)
    assert float(fk.landmarks[..., 1].amin(-1).abs().max()) < 1e-6  # lowest point on the floor


def test_calibration_recovers_segment_orientations(squat_csv):
    """A CSV of six worn sensors (placed 10 deg / 2 cm off, phone/watch errors, no magnetometer), calibrated on its
    N-pose second, gives every segment's orientation within 7 deg of the simulator's truth (mean within 4.5)."""
    path, motion = squat_csv
    stream = load_imu_stream(path, "six")
    truth = segment_truth(motion, stream.fps)
    n = min(len(truth), stream.n_frames)
    for k, slot in enumerate(SLOTS):
        if not stream.present[k]:
            continue
        err = _angle_deg(stream.seg_rot[:n, k], truth[:n, SEGMENTS.index(SLOT_SEGMENTS[k])])
        assert float(err.max()) < 7.0, slot
        assert float(err.mean()) < 4.5, slot


def test_hdt_is_causal():
    """A frame's output does not depend on later frames (so one frame in, one pose out is possible)."""
    torch.manual_seed(0)
    cfg = HDTConfig(cnn_channels=(8, 8, 8, 8), d_model=16, n_layers=2, n_heads=2, ff_hidden=32, d_factor=8,
                    pose_hidden=16, window=20)  # fmt: skip
    m = HDT(cfg).eval()
    x = torch.randn(1, 60, cfg.n_inputs)
    base = m(x)
    y = x.clone()
    y[:, 45:] += 5.0  # the future of frame 44
    out = m(y)
    assert torch.allclose(out.rot6[:, :45], base.rot6[:, :45], atol=1e-5)
    assert torch.allclose(out.logvar[:, :45], base.logvar[:, :45], atol=1e-5)
    assert not torch.allclose(out.rot6[:, 45:], base.rot6[:, 45:], atol=1e-3)


@needs_model
def test_streaming_equals_batch_and_is_finite():
    model = IMUPoseModel.load()
    m = with_npose(squat_motion(1))
    seq = sequence_from_motion(m, "x", "musclepose.sim", "s", "test", versions=1, filter_hz=None)
    present = torch.tensor([s in ("sacrum", "head", "watch_left", "watch_right", "knee_l", "knee_r") for s in SLOTS])
    g = torch.Generator().manual_seed(0)
    seg = seq.rot[:, [SEGMENTS.index(s) for s in SLOT_SEGMENTS]][None]
    rot, acc = worn_imu_errors(seg[:, :90], seq.srot[0][None, :90], seq.acc[0][None, :90], g, present[None])
    from musclepose.pipelines.imu_pose import IMUStream

    stream = IMUStream(None, seq.fps, rot[0].double(), acc[0].double(), present, np.zeros(90, dtype=bool))
    a, b = model.predict(stream), model.stream(stream)
    assert float((a.rot6 - b.rot6).abs().max()) < 1e-5
    assert float((a.sigma_deg - b.sigma_deg).abs().max()) < 1e-3
    motion = result_motion(a, Body.standard(), "test")
    assert torch.isfinite(motion.q).all() and np.isfinite(a.sigma_deg.numpy()).all()


@needs_model
def test_onnx_equals_torch(tmp_path):
    pytest.importorskip("onnxruntime")
    from musclepose.pipelines.imu_onnx import OnnxIMUPose, export_onnx, max_difference

    model = IMUPoseModel.load()
    path = export_onnx(model, tmp_path / "imu.onnx")
    g = torch.Generator().manual_seed(1)
    w = model.model.config.window
    windows = [torch.randn(1, n, model.model.config.n_inputs, generator=g) for n in (1, 9, w)]
    assert max_difference(model, OnnxIMUPose(path), windows) < 1e-4


@needs_model
def test_shipped_model_on_held_out_synthetic_subject():
    """Six IMUs on a synthetic squat of a new body (not a training subject): within the measured accuracy band."""
    from musclepose.evaluation.imu_pose import evaluate_motion

    model = IMUPoseModel.load()
    m = squat_motion(7)
    res = evaluate_motion(m, "six", {"hdt": model}, seed=3, repeats=1, filter_hz=None)["hdt"]
    assert res["mpjpe_cm"] < 8.0
    assert res["rotation_error_deg"] < 12.0
    # The intervals are too wide at 1 sigma on clean synthetic motion (84.5 % on the test split, 92 % here).
    assert 0.6 < res["coverage_1sigma"] < 0.97
    assert res["coverage_2sigma"] > 0.9


@needs_model
def test_shipped_model_on_real_mocap(refdata):
    """AddBiomechanics squats1.mot (a real person in no training split): six IMUs synthesised from it."""
    from musclepose.evaluation.imu_pose import evaluate_motion
    from musclepose.io import load_motion

    motion = load_motion(refdata("mocap/addbiomechanics_expert1/squats1.mot"))
    model = IMUPoseModel.load()
    res = evaluate_motion(motion[:600], "six", {"hdt": model}, seed=0, repeats=1)["hdt"]
    # Measured: 17.8 cm on these 6 s, 16.4 cm on the whole trial (docs/evaluation_imu_pose.md): far from the
    # 5 cm target; this bounds a regression.
    assert res["mpjpe_cm"] < 20.0
    assert res["rotation_error_deg"] < 30.0
    assert math.isfinite(res["coverage_2sigma"])


# ------------------------------------------------------------------------------ bad input
def test_missing_sensor_for_layout(tmp_path):
    m = with_npose(squat_motion())
    path = tmp_path / "pw.csv"
    write_csv(path, m, layout="phone-watch")
    with pytest.raises(FormatError, match="layout 'six' needs sensor"):
        load_imu_stream(path, "six")
    s = load_imu_stream(path, "auto")
    assert s.slots == ("watch_left", "phone_pocket_r")


def test_wrong_units_and_rate(tmp_path):
    m = with_npose(squat_motion())
    path = tmp_path / "g.csv"
    write_csv(path, m, acc_unit="g")
    text = path.read_text().replace("[g]", "[m/s^2]", 1)  # one column mislabelled: inconsistent units
    bad = tmp_path / "mixed.csv"
    bad.write_text(text)
    with pytest.raises(FormatError, match="different units"):
        load_imu_stream(bad, "six")
    wrong = tmp_path / "wrong.csv"
    wrong.write_text(path.read_text().replace("[g]", "[m/s^2]"))  # values in g declared as m/s^2
    with pytest.raises(FormatError, match="not gravity"):
        load_imu_stream(wrong, "six")
    with pytest.raises(FormatError, match="sampling rate"):
        load_imu_stream(path, "six", fps=5.0)
    with pytest.raises(FormatError, match="disagrees with the time column"):
        load_imu_stream(path, "six", fps=60.0)


def test_dropped_and_saturated_samples_are_flagged(tmp_path):
    m = with_npose(squat_motion())
    path = tmp_path / "drop.csv"
    write_csv(path, m, drop=slice(300, 310), clip_g=1.1)
    s = load_imu_stream(path, "six")
    causes = {i.cause for i in s.issues}
    assert "dropped samples" in causes and "accelerometer saturated" in causes
    assert s.bad[299] and s.bad.mean() < 0.5


def test_tensor_folder_checks(tmp_path):
    acc = torch.zeros(50, 6, 3)
    ori = torch.eye(3).repeat(50, 6, 1, 1)
    acc[10, 2] = float("nan")
    torch.save(acc, tmp_path / "acc.pt")
    torch.save(ori, tmp_path / "ori.pt")
    s = load_imu_stream(tmp_path, "six")
    assert s.bad[10] and not s.bad[11] and torch.isfinite(s.acc).all()
    torch.save(torch.zeros(50, 5, 3), tmp_path / "acc.pt")
    with pytest.raises(FormatError, match="expected"):
        load_imu_stream(tmp_path, "six")
    torch.save(acc, tmp_path / "acc.pt")
    torch.save(ori * 2.0, tmp_path / "ori.pt")
    with pytest.raises(FormatError, match="not a rotation matrix"):
        load_imu_stream(tmp_path, "six")


def test_features_are_heading_invariant():
    """Turning the whole body about the vertical changes no feature (the reference heading is removed)."""
    g = torch.Generator().manual_seed(0)
    from musclepose.body.rotations import axis_angle_to_matrix

    rot = axis_angle_to_matrix(torch.randn(1, 10, 7, 3, generator=g) * 0.5)
    acc = torch.randn(1, 10, 7, 3, generator=g)
    present = torch.ones(1, 7, dtype=torch.bool)
    turn = axis_angle_to_matrix(torch.tensor([0.0, 1.3, 0.0]))
    x1, _ = imu_features(rot, acc, present)
    x2, _ = imu_features(turn @ rot, (turn @ acc[..., None])[..., 0], present)
    assert torch.allclose(x1, x2, atol=1e-5)
