"""Readers of the real labelled data: UI-PRMD Kinect episodes (gzip or plain, with or without the
angles file) and Pose Trainer's OpenPose COCO-18 ``.npy`` files, and the COCO-17 -> COCO-18 conversion."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest

from musclepose.io.errors import FormatError
from musclepose.io.keypoints import read_keypoints
from musclepose.io.kinect import read_kinect_joints
from musclepose.io.pose_trainer import (
    OPENPOSE18,
    openpose18_from_keypoints,
    parse_pose_trainer_name,
    pose_trainer_videos,
    read_openpose_npy,
)
from musclepose.io.uiprmd import parse_uiprmd_name, read_uiprmd, uiprmd_episodes

LABELLED = "labelled/uiprmd_kinect/correct/Positions/m01_s01_e01_positions.txt.gz"


def test_gzip_episode_equals_the_plain_text_one_and_the_angles_give_the_kinect_readers_joints(refdata, tmp_path):
    gz = read_uiprmd(refdata(LABELLED))
    plain = refdata("mocap/uiprmd_kinect/m01_s01_e01_positions.txt")
    full = read_uiprmd(plain)
    assert (gz.movement, gz.subject, gz.episode, gz.correct, gz.exercise) == (1, 1, 1, True, "deep_squat")
    assert gz.joints_m is None and full.joints_m is not None  # the labelled set has no angles files
    np.testing.assert_array_equal(gz.root_m, full.root_m)
    np.testing.assert_array_equal(gz.bones_m, full.bones_m)
    # Global joints from the angles: the validated Kinect reader's, in metres.
    _, joints_cm, _, _, _ = read_kinect_joints(plain)
    np.testing.assert_allclose(full.joints_m, 0.01 * joints_cm, atol=1e-12)
    # A deep squat: the pelvis drops by tens of centimetres; bones stay a body's (thigh 35-55 cm).
    assert 0.3 < full.root_m[0, 1] - full.root_m[:, 1].min() < 0.8
    thigh = np.median(gz.bones_m[:, 14])  # LeftLowerLeg's offset from LeftUpperLeg: the thigh
    assert 0.3 < thigh < 0.6


def test_bad_uiprmd_files_name_the_file_and_line(refdata, tmp_path):
    src = refdata(LABELLED)
    cut = tmp_path / "m01_s01_e01_positions.txt.gz"
    cut.write_bytes(src.read_bytes()[:200])
    with pytest.raises(FormatError, match="m01_s01_e01_positions.txt.gz"):
        read_uiprmd(cut)
    short = tmp_path / "m02_s03_e04_positions_inc.txt"
    rows = gzip.open(src, "rt").read().splitlines()
    short.write_text("\n".join([rows[0], rows[1][: rows[1].rfind(",")], rows[2]]) + "\n")
    with pytest.raises(FormatError, match="line 2.*65 values"):
        read_uiprmd(short)
    assert parse_uiprmd_name(short) == (2, 3, 4, False)
    assert parse_uiprmd_name(tmp_path / "walk.txt") is None


def test_episode_index_finds_every_labelled_file(refdata, tmp_path):
    root = refdata("labelled/uiprmd_kinect")
    files = uiprmd_episodes(root)
    assert len(files) == 1280 and parse_uiprmd_name(files[0]) == (1, 1, 1, True)
    shutil.copy(refdata(LABELLED), tmp_path / "m01_s01_e01_positions.txt.gz")
    assert len(uiprmd_episodes(tmp_path)) == 1


def test_pose_trainer_files_and_their_labels(refdata, tmp_path):
    files = pose_trainer_videos(refdata("labelled/pose_trainer"))
    assert len(files) == 112
    labels = [parse_pose_trainer_name(f) for f in files]
    assert {lab[0] for lab in labels} == {"bicep_curl", "front_raise", "overhead_press", "shoulder_shrug"}
    assert sum(lab[1] for lab in labels) == 55  # good clips: 6 curls, 15 raises, 19 presses, 15 shrugs
    kp = read_openpose_npy(refdata("labelled/pose_trainer/bicep/bicep_good_1.npy"))
    assert kp.shape[1:] == (18, 3) and (kp[..., 2] <= 1.0).all()
    neck, rsh, lsh = kp[:, 1, :2], kp[:, 2, :2], kp[:, 5, :2]
    seen = (kp[:, [1, 2, 5], 2] > 0.3).all(1)
    # OpenPose's neck sits between the shoulders (within a fifth of the shoulder width)
    mid, width = 0.5 * (rsh[seen] + lsh[seen]), np.linalg.norm(rsh[seen] - lsh[seen], axis=1)
    gap = np.linalg.norm(neck[seen] - mid, axis=1) / width
    assert np.median(gap) < 0.2


def test_npy_errors_and_no_pickle(tmp_path):
    obj = tmp_path / "bicep_good_1.npy"
    np.save(obj, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(FormatError, match="not a plain numeric array"):
        read_openpose_npy(obj)
    bad = tmp_path / "bicep_bad_2.npy"
    np.save(bad, np.zeros((5, 17, 3)))
    with pytest.raises(FormatError, match=r"\(frames, 18, 3\)"):
        read_openpose_npy(bad)
    nan = np.zeros((4, 18, 3))
    nan[2, 7, 0] = np.nan
    np.save(bad, nan)
    with pytest.raises(FormatError, match="frame 2.*left_wrist"):
        read_openpose_npy(bad)


def test_coco17_converts_to_openpose18_with_the_shoulders_midpoint_as_neck(refdata):
    data = read_keypoints(refdata("keypoints/pushfit_format/movenet_correct10.json"))
    op = openpose18_from_keypoints(data)
    assert op.shape == (data.n_frames, 18, 3)
    names = list(data.names)
    for j, n in enumerate(OPENPOSE18):
        if n == "neck":
            continue
        k = names.index(n)
        ok = np.isfinite(data.positions[:, k]).all(-1)
        np.testing.assert_allclose(op[ok, j, :2], data.positions[ok, k, :2])
    ls, rs = names.index("left_shoulder"), names.index("right_shoulder")
    np.testing.assert_allclose(op[:, 1, :2], 0.5 * (data.positions[:, ls, :2] + data.positions[:, rs, :2]))
    np.testing.assert_allclose(op[:, 1, 2], np.minimum(data.confidence[:, ls], data.confidence[:, rs]))
