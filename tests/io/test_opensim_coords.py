"""OpenSim coordinates -> q, checked against the OpenSim models' own axes and the lab markers.

References: ``squats1.mot`` (OpenSim IK of 5 bodyweight squats, Rajagopal-style model
``generic.osim``) and its marker file ``squats1.trc`` (hip joint centres, knee/ankle/elbow/
wrist markers: an independent measurement of where the segments were); the gait10dof18musc
example (``subject01.osim``, gait2392-style knee, flexion negative).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.signal import find_peaks

from musclepose.body import Body, forward_kinematics
from musclepose.body.rotations import euler_zxy_to_matrix
from musclepose.io.opensim import OpenSimTable, read_table, read_trc
from musclepose.io.opensim.coords import (
    OPENSIM_COORDINATE_MAP,
    coordinate_signs,
    motion_from_opensim,
    opensim_from_motion,
    read_osim_coordinate_axes,
)

SQUAT = "mocap/addbiomechanics_expert1/squats1.mot"
SQUAT_TRC = "mocap/addbiomechanics_expert1/squats1.trc"
GENERIC = "mocap/addbiomechanics_expert1/generic.osim"
GAIT_MOT = "kinetics/opensim_gait10dof18musc/subject01_walk_IK.mot"
GAIT_OSIM = "kinetics/opensim_gait10dof18musc/subject01.osim"


@pytest.fixture(scope="module")
def squat_table(refdata):
    return read_table(refdata(SQUAT))


@pytest.fixture(scope="module")
def squat_motion(squat_table, refdata):
    return motion_from_opensim(squat_table, Body.standard(), osim_path=refdata(GENERIC))


def _cols(table: OpenSimTable) -> dict[str, np.ndarray]:
    return {c: table.column(c) for c in table.columns[1:]}


def test_signs_from_model_axes_equal_the_documented_table(squat_table, refdata):
    signs, evidence = coordinate_signs(_cols(squat_table), refdata(GENERIC))
    mapped = [c for c in squat_table.columns if c in OPENSIM_COORDINATE_MAP]
    assert len(mapped) == 31  # 35 coordinates less 2 patellar and 2 mtp
    for name in mapped:
        assert signs[name] == OPENSIM_COORDINATE_MAP[name][1], (name, evidence[name])
    axes = read_osim_coordinate_axes(refdata(GENERIC))
    # The walker knee's flexion axis is femur -Z to within 5 deg; its range is 0..140 deg.
    assert axes["knee_angle_r"].axis @ np.array([0, 0, -1.0]) > np.cos(np.radians(5))
    assert np.degrees(axes["knee_angle_r"].range) == pytest.approx((0.0, 140.0), abs=0.1)
    # arm_add is adduction: +X on the right, -X on the left (mirrored), against our abduction.
    assert axes["arm_add_r"].axis @ [1, 0, 0] == pytest.approx(1.0)
    assert axes["arm_add_l"].axis @ [-1, 0, 0] == pytest.approx(1.0)


def test_gait2392_knee_is_negative_in_flexion_from_model_and_from_data(refdata):
    table = read_table(refdata(GAIT_MOT))
    cols = _cols(table)
    with_model, evidence = coordinate_signs(cols, refdata(GAIT_OSIM))
    from_data, _ = coordinate_signs(cols)
    assert with_model["knee_angle_r"] == from_data["knee_angle_r"] == -1.0
    assert "range [-120, 10]" in evidence["knee_angle_r"]
    m = motion_from_opensim(table, Body.standard(), refdata(GAIT_OSIM))
    knee = np.degrees(m.dof("knee_flexion_r").numpy())
    assert knee.max() > 50 and knee.min() > -10  # walking: ~60 deg swing flexion, no hyperextension
    assert np.allclose(knee, -table.column("knee_angle_r"))
    back = opensim_from_motion(m)  # planar model: no pelvis_tz, only lumbar_extension
    for c in table.columns[1:]:
        np.testing.assert_allclose(back[c], table.column(c), atol=1e-9, err_msg=c)


def test_squat_mapping_knee_hip_and_standing_pose(squat_motion, squat_table):
    m = squat_motion
    assert m.fps == pytest.approx(100.0)
    for side in ("r", "l"):
        knee = np.degrees(m.dof(f"knee_flexion_{side}").numpy())
        hip = np.degrees(m.dof(f"hip_flexion_{side}").numpy())
        assert 100 < knee.max() < 110  # ~105 deg at the bottom, positive = flexed
        assert hip.max() > 90 and np.median(hip) > 0  # flexed in the squat
    standing = slice(0, 30)  # the first 0.3 s, before the first descent
    q = np.degrees(m.q[standing].numpy())
    for name, tol in (("knee_flexion_r", 10), ("knee_flexion_l", 10), ("hip_flexion_r", 15), ("hip_flexion_l", 15)):
        assert np.abs(q[:, m.body.dof_index(name)]).max() < tol, name
    info = m.metadata["opensim"]
    assert set(info["unmapped_columns"]) == {"knee_angle_r_beta", "knee_angle_l_beta", "mtp_angle_r", "mtp_angle_l"}
    assert "neck_flexion" in info["unset_dofs"] and "lumbar_flexion" not in info["unset_dofs"]


@pytest.mark.parametrize("with_model", [True, False])
def test_round_trip_returns_the_source_columns(squat_table, refdata, with_model):
    osim = refdata(GENERIC) if with_model else None
    back = opensim_from_motion(motion_from_opensim(squat_table, Body.standard(), osim))
    mapped = [c for c in squat_table.columns if c in OPENSIM_COORDINATE_MAP]
    assert sorted(c for c in back if c != "time") == sorted(mapped)
    for c in mapped:
        np.testing.assert_allclose(back[c], squat_table.column(c), atol=1e-9, err_msg=c)
    np.testing.assert_allclose(back["time"], squat_table.time - squat_table.time[0], atol=1e-9)


def test_spine_split_keeps_the_torso_orientation(squat_motion, squat_table):
    """Thorax relative to pelvis (our two joints) == OpenSim's back joint rotation, exactly."""
    fk = forward_kinematics(squat_motion.body, squat_motion.q)
    rel = fk.rotations[:, 0].transpose(-1, -2) @ fk.rotations[:, 2]
    back = ("lumbar_extension", "lumbar_bending", "lumbar_rotation")
    ang = torch.as_tensor(np.radians(np.stack([squat_table.column(c) for c in back], 1)))
    assert torch.allclose(rel, euler_zxy_to_matrix(ang), atol=1e-10)
    lumbar_only = motion_from_opensim(squat_table, Body.standard(), lumbar_share=(1.0, 1.0, 1.0))
    assert torch.all(lumbar_only.q[:, lumbar_only.body.dof_index("thoracic_flexion")].abs() < 1e-12)
    # The default share is proportional to range of motion: flexion mostly lumbar.
    lum = squat_motion.dof("lumbar_flexion").abs().max()
    tho = squat_motion.dof("thoracic_flexion").abs().max()
    assert lum / (lum + tho) == pytest.approx(0.625, abs=0.02)


def test_segments_follow_the_lab_markers(squat_motion, refdata):
    """Independent check of signs and the pelvis-origin shift against the recorded markers."""
    trc = read_trc(refdata(SQUAT_TRC))
    fk = forward_kinematics(squat_motion.body, squat_motion.q)
    rot, org = fk.rotations.numpy(), fk.origins.numpy()
    s = squat_motion.body.segment_index
    hjc = 0.5 * (trc.marker("R_HJC") + trc.marker("L_HJC"))
    err = np.linalg.norm(org[:, 0] - hjc, axis=1)
    assert err.mean() < 0.015 and err.max() < 0.04  # hip midpoint within ~1 cm

    def angle(a, b):
        a = a / np.linalg.norm(a, axis=1, keepdims=True)
        b = b / np.linalg.norm(b, axis=1, keepdims=True)
        return np.degrees(np.arccos(np.clip(np.sum(a * b, 1), -1, 1)))

    # Long axes vs marker vectors; markers sit on the skin a few cm off the joint centres,
    # which bounds the agreement (lateral knee marker: ~7 deg on the thigh).
    shank = angle(-rot[:, s("shank_r"), :, 1], trc.marker("r_ankle") - trc.marker("r_knee"))
    thigh = angle(-rot[:, s("thigh_r"), :, 1], trc.marker("r_knee") - trc.marker("R_HJC"))
    elbow = 0.5 * (trc.marker("R_elbow_lat") + trc.marker("R_elbow_med"))
    wrist = 0.5 * (trc.marker("R_wrist_radius") + trc.marker("R_wrist_ulna"))
    forearm = angle(-rot[:, s("forearm_r"), :, 1], wrist - elbow)
    assert shank.mean() < 6 and thigh.mean() < 10 and forearm.mean() < 15
    assert shank.max() < 10 and thigh.max() < 12 and forearm.max() < 20


def test_radians_table_and_inferred_units_give_the_same_motion(squat_table):
    rad = squat_table.data.copy()
    rot = [i for i, c in enumerate(squat_table.columns) if i > 0 and c not in ("pelvis_tx", "pelvis_ty", "pelvis_tz")]
    rad[:, rot] = np.radians(rad[:, rot])
    base = motion_from_opensim(squat_table, Body.standard())
    for flag in (False, None):
        t = OpenSimTable(None, list(squat_table.columns), rad, flag, {})
        assert torch.allclose(motion_from_opensim(t, Body.standard()).q, base.q, atol=1e-12)
    t = OpenSimTable(None, list(squat_table.columns), squat_table.data, None, {})
    assert motion_from_opensim(t, Body.standard()).metadata["opensim"]["in_degrees"] is True


def test_non_uniform_time_is_rejected(squat_table):
    data = squat_table.data.copy()
    data[10:, 0] += 0.005
    with pytest.raises(ValueError, match="uniformly"):
        motion_from_opensim(OpenSimTable(None, list(squat_table.columns), data, True, {}), Body.standard())


def test_knee_peaks_match_the_table_per_repetition(squat_motion, squat_table):
    knee = 0.5 * (squat_table.column("knee_angle_r") + squat_table.column("knee_angle_l"))
    peaks, _ = find_peaks(knee, height=60, distance=100)
    ours = np.degrees(0.5 * (squat_motion.dof("knee_flexion_r") + squat_motion.dof("knee_flexion_l")).numpy())
    assert len(peaks) == 5
    np.testing.assert_allclose(ours[peaks], knee[peaks], atol=1e-9)


def test_our_own_columns_carry_the_dofs_opensim_lacks(squat_table):
    """``musclepose_<dof>`` columns set the DoF (in the table's units) and come back on writing;
    a ``musclepose_`` column naming no DoF stays unmapped, and without the columns the DoF is unset."""
    n = squat_table.data.shape[0]
    turn = 10.0 * np.sin(np.linspace(0.0, 3.0, n))  # deg
    cols = [*squat_table.columns, "musclepose_ankle_adduction_r", "musclepose_not_a_dof"]
    data = np.column_stack([squat_table.data, turn, np.ones(n)])
    motion = motion_from_opensim(OpenSimTable(None, cols, data, True, {}), Body.standard())
    info = motion.metadata["opensim"]
    np.testing.assert_allclose(motion.q[:, motion.body.dof_index("ankle_adduction_r")].numpy(), np.radians(turn))
    assert "ankle_adduction_r" not in info["unset_dofs"] and "ankle_adduction_l" in info["unset_dofs"]
    assert "musclepose_not_a_dof" in info["unmapped_columns"]
    assert "musclepose_ankle_adduction_r" not in info["unmapped_columns"]
    back = opensim_from_motion(motion, extra=True)
    np.testing.assert_allclose(back["musclepose_ankle_adduction_r"], turn, atol=1e-9)
    assert "musclepose_ankle_adduction_l" not in back  # never moves: not written
    assert "musclepose_ankle_adduction_r" not in opensim_from_motion(motion)  # OpenSim's columns only
    plain = motion_from_opensim(squat_table, Body.standard())
    assert not plain.q[:, plain.body.dof_index("ankle_adduction_r")].any()
