"""load_motion / load_clip on real recordings, checked against independent references.

Inverse kinematics is the slow step, so each recording is loaded once per module and most
are solved at a reduced rate (``fps=``), which the loader supports for exactly this reason.
"""

import json

import numpy as np
import pytest
import torch

from musclepose.io import FormatError
from musclepose.io.load import load_motion
from musclepose.pipelines.clips import load_clip


def _deg(motion, dof):
    return np.degrees(motion.q[:, motion.body.dof_index(dof)].numpy())


@pytest.fixture(scope="module")
def squats(refdata):
    folder = refdata("mocap/addbiomechanics_expert1")
    stages = []
    motion = load_motion(folder / "squats1.trc", fps=20.0, progress=stages.append)
    return motion, folder, stages


def test_trc_finds_model_and_static_and_matches_opensim_knee(squats):
    from musclepose.io.opensim import read_table

    motion, folder, stages = squats
    meta = motion.metadata
    assert "generic.osim" in meta["marker_set"] and meta["static"].endswith("static1.trc")
    assert all(0.8 < f < 1.25 for f in meta["scale_factors"].values())
    assert meta["marker_rms_m"] < 0.04 and stages  # progress was reported
    # Independent reference: OpenSim's own inverse kinematics of the same trial.
    mot = read_table(folder / "squats1.mot")
    t = motion.times
    for side in ("r", "l"):
        ref = np.interp(t, mot.time - mot.time[0], mot.column(f"knee_angle_{side}"))
        rmse = float(np.sqrt(np.mean((_deg(motion, f"knee_flexion_{side}") - ref) ** 2)))
        assert rmse < 5.0, (side, rmse)


def test_mot_loads_as_coordinates(refdata):
    motion = load_motion(refdata("mocap/addbiomechanics_expert1/squats1.mot"))
    assert motion.n_frames == 1302 and motion.metadata["opensim"]["osim_path"].endswith("generic.osim")
    assert _deg(motion, "knee_flexion_r").max() > 80  # five deep squats


@pytest.fixture(scope="module")
def cmu_walk(refdata):
    return load_motion(refdata("mocap/cmu/131_01.bvh"), fps=30.0)


def test_bvh_retargets_cmu_walk(cmu_walk):
    from musclepose.motion.gait_events import heel_strikes

    m = cmu_walk
    assert m.metadata["unit_rule"] == "cmu" and m.metadata["up_axis_in_file"] == "+y"
    assert np.isfinite(m.q.numpy()).all() and m.metadata["marker_rms_m"] < 0.04
    root = m.q[:, 0:3].numpy()
    assert np.linalg.norm(root[-1, [0, 2]] - root[0, [0, 2]]) > 2.0  # walks ~2.6 m
    assert 0.75 < np.median(root[:, 1]) < 1.0  # pelvis height of a standing adult, floor at 0
    # The crouch at 3.0-3.7 s: pelvis well below standing, both knees flexed past 90 deg.
    crouch = (m.times > 3.0) & (m.times < 3.7)
    assert root[crouch, 1].min() < 0.6
    assert _deg(m, "knee_flexion_r")[crouch].max() > 90 and _deg(m, "knee_flexion_l")[crouch].max() > 90
    strikes = heel_strikes(m)
    n = sum(len(v) for v in strikes.values())
    assert 9 <= n <= 15, strikes  # 12 at 30 and 60 Hz: 6 in the walk from 4.1 s, 6 before it
    walk = sum(int(((m.times[v] > 4.0) & (m.times[v] < 7.0)).sum()) for v in strikes.values())
    assert 4 <= walk <= 7, strikes


@pytest.fixture(scope="module")
def vicon_walk(refdata):
    return load_motion(refdata("kinetics/vicon_plugingait_walk/walk.c3d"), fps=50.0)


def test_c3d_plug_in_gait_walk_is_plausible(vicon_walk):
    m = vicon_walk
    assert m.metadata["marker_set"].startswith("Plug-in Gait")
    root = m.q[:, 0:3].numpy()
    assert np.linalg.norm(root[-1, [0, 2]] - root[0, [0, 2]]) > 1.0
    for side in ("r", "l"):
        peak = _deg(m, f"knee_flexion_{side}").max()
        assert 40 < peak < 80, (side, peak)  # swing-phase knee flexion of normal gait


def test_uiprmd_kinect_deep_squat(refdata):
    from musclepose.signals import analyze_motion

    m = load_motion(refdata("mocap/uiprmd_kinect/m01_s01_e01_positions.txt"))
    assert m.metadata["unit_rule"] == "cm" and m.fps == 30.0 and m.n_frames == 73
    for side in ("r", "l"):
        assert _deg(m, f"knee_flexion_{side}").max() > 60
    analysis = analyze_motion(m, exercise="squat")
    assert analysis.n_reps == 1  # a UI-PRMD episode is one repetition
    assert analysis.reps[0].depth_knee_flexion_deg > 100


def test_2d_keypoints_go_through_the_camera_fitter(refdata):
    # Real MoveNet output (COCO-17 pixels) of a push-up: the body fitted through a pinhole camera
    # reprojects onto the detections within a few pixels (the image is ~1000 px high).
    m = load_motion(refdata("keypoints/pushfit_format/movenet_correct10.json"))
    assert m.n_frames == 45 and m.metadata["layout"] == "coco17"
    assert m.metadata["video_fit"]["median_reprojection_px"] < 15.0
    assert torch.isfinite(m.q).all()


def test_clip_json_is_not_a_motion_and_load_clip_reads_it(tmp_path):
    n = 5
    clip = {c: [0.1 * i for i in range(n)] for c in (
        "trajectory", "legs_trajectory", "shoulder_trajectory", "back_trajectory", "knee_angle_trajectory",
        "arm_Trajectory", "core_")}  # fmt: skip
    clip.update(fps=30.0, n_frames=n, exercise="squat")
    path = tmp_path / "clip.json"
    path.write_text(json.dumps(clip))
    with pytest.raises(FormatError, match="load_clip") as err:
        load_motion(path)
    assert "clip.json" in str(err.value)
    assert load_clip(path).exercise == "squat"


def test_load_clip_of_a_motion_file(refdata, tmp_path):
    from musclepose.io.clip import CLIP_CHANNELS, read_clip, write_clip

    clip = load_clip(refdata("mocap/addbiomechanics_expert1/squats1.mot"))
    assert list(clip.channels) == list(CLIP_CHANNELS) and clip.n_frames == 1302
    assert clip.fps == pytest.approx(100.0) and clip.video_id == "squats1.mot"
    assert clip.channels["knee_angle_trajectory"].max() > 80 and clip.wave_features["n_reps"] >= 4
    write_clip(tmp_path / "c.json", clip)  # the result is a valid clip file
    assert read_clip(tmp_path / "c.json").n_frames == 1302


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("walk.xyz", "1 2 3", "unsupported file type"),
        ("empty.trc", "", "empty file"),
        ("imu.csv", "t,acc_x\n0,1\n", "HDT"),
        ("bad.txt", "1,2,3\n4,5,6\n", "values per row"),
    ],
)
def test_unsupported_files_name_the_file(tmp_path, name, content, match):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(FormatError, match=match) as err:
        load_motion(path)
    assert name in str(err.value)


def test_trc_without_a_marker_set_asks_for_a_model(tmp_path):
    from musclepose.io.opensim import MarkerData, write_trc

    names = ["a", "b", "c", "d"]
    data = MarkerData(None, names, np.random.default_rng(0).normal(size=(3, 4, 3)), 100.0, np.arange(3) / 100.0, "m")
    write_trc(tmp_path / "x.trc", data)
    with pytest.raises(FormatError, match="model=") as err:
        load_motion(tmp_path / "x.trc")
    assert "x.trc" in str(err.value) and "a, b, c, d" in str(err.value)
