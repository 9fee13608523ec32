"""Inverse kinematics: exact recovery on synthetic markers, and real squats against OpenSim."""

import numpy as np
import pytest
import torch

from musclepose.body import Body, forward_kinematics
from musclepose.motion.ik import solve_ik
from musclepose.motion.marker_set import MarkerSet
from musclepose.motion.scaling import scale_to_static


def _landmark_markers(body, names):
    idx = body.landmark_indices(names)
    segs = np.array([body.landmarks[body.landmark_names[i]][0] for i in idx])
    local = np.stack([body.landmarks[body.landmark_names[i]][1] for i in idx])
    return MarkerSet(tuple(names), segs, local)


def test_recovers_known_pose_from_its_own_markers():
    body = Body.standard(1.70, 65.0, "female")
    names = [n for n in body.landmark_names if n[0] in "LRC" and n.isupper() or n.startswith(("right_", "left_"))]
    ms = _landmark_markers(body, names)
    rng = np.random.default_rng(0)
    t = 20
    q = np.zeros((t, 47))
    q[:, 0:3] = [0.3, 0.95, -0.2]
    q[:, 3:6] = rng.normal(0, 0.15, (t, 3))
    for name, amp in (("hip_flexion_r", 0.8), ("knee_flexion_r", 1.2), ("ankle_dorsiflexion_l", 0.3),
                      ("shoulder_flexion_l", 1.0), ("elbow_flexion_r", 1.1), ("hip_adduction_l", 0.2)):  # fmt: skip
        q[:, body.dof_index(name)] = amp * np.sin(np.linspace(0, np.pi, t))
    y = forward_kinematics(body, torch.tensor(q)).landmarks[:, body.landmark_indices(names)].numpy()
    res = solve_ik(body, ms, names, y, fps=50.0)
    assert res.rms_m.max() < 1e-4
    for name in ("hip_flexion_r", "knee_flexion_r", "ankle_dorsiflexion_l", "shoulder_flexion_l", "elbow_flexion_r"):
        i = body.dof_index(name)
        np.testing.assert_allclose(res.motion.q[:, i].numpy(), q[:, i], atol=2e-3)


def test_missing_markers_and_errors():
    body = Body.standard()
    names = list(body.landmark_indices("plug_in_gait"))
    names = [body.landmark_names[i] for i in names]
    ms = _landmark_markers(body, names)
    y = forward_kinematics(body, body.neutral_q()[None]).landmarks[:, body.landmark_indices(names)].numpy()
    y[0, 3] = np.nan  # one marker missing in the only frame
    res = solve_ik(body, ms, names, y, fps=100.0)
    assert np.isnan(list(res.marker_rms_m.values())[3]) and res.rms_m[0] < 1e-4
    with pytest.raises(ValueError, match="at least 4 markers"):
        solve_ik(body, ms, ["nope1", "nope2"], y[:, :2], fps=100.0)


@pytest.fixture(scope="module")
def squats(refdata):
    from musclepose.io.opensim import read_table, read_trc
    from musclepose.io.opensim.model import osim_marker_set

    folder = refdata("mocap/addbiomechanics_expert1")
    osim = folder / "generic.osim"
    body, ms, _ = osim_marker_set(osim)
    static = read_trc(folder / "static1.trc")
    scaled, sms, factors, _ = scale_to_static(body, ms, static.names, static.positions, mass_kg=70.0)
    trial = read_trc(folder / "squats1.trc")
    res = solve_ik(scaled, sms, trial.names, trial.positions, trial.fps)
    return res, read_table(folder / "squats1.mot"), osim, factors


def _rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


@pytest.mark.parametrize("side", ["r", "l"])
def test_squats_hip_knee_ankle_match_opensim_within_5_degrees(squats, side):
    from musclepose.io.opensim.model import osim_foot_rotation_zxy

    res, mot, osim, _ = squats
    q = np.degrees(res.motion.q.numpy())
    body = res.motion.body
    assert q.shape[0] == 1302
    hip = _rmse(q[:, body.dof_index(f"hip_flexion_{side}")], mot.column(f"hip_flexion_{side}"))
    knee = _rmse(q[:, body.dof_index(f"knee_flexion_{side}")], mot.column(f"knee_angle_{side}"))
    # OpenSim's ankle and subtalar turn about oblique axes: compare the same foot-shank
    # rotation expressed in our ZXY convention.
    ref = osim_foot_rotation_zxy(osim, mot.column(f"ankle_angle_{side}"), mot.column(f"subtalar_angle_{side}"), side)
    ankle = _rmse(q[:, body.dof_index(f"ankle_dorsiflexion_{side}")], ref[:, 0])
    assert hip <= 5.0 and knee <= 5.0 and ankle <= 5.0, (hip, knee, ankle)


def test_squats_marker_fit_and_scaling_are_plausible(squats):
    res, _, _, factors = squats
    assert np.median(res.rms_m) < 0.04  # metres, whole-body marker RMS per frame
    legs = [v for k, v in res.marker_rms_m.items() if k.lower().startswith(("r_", "l_")) and np.isfinite(v)]
    assert np.median(legs) < 0.025  # the leg markers, which the acceptance angles rest on
    assert all(0.8 < f < 1.25 for f in factors.values())
    assert np.isfinite(res.motion.q.numpy()).all()
