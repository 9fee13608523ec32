"""Marker IK that stays on the person: continuity over time, outlier markers, per-frame fit quality.

Against OpenSim's own IK of the same trials (the ``.mot`` beside them) and against known poses."""

import numpy as np
import pytest
import torch

from musclepose.body import Body, forward_kinematics
from musclepose.motion.ik import solve_ik
from musclepose.motion.marker_set import MarkerSet
from musclepose.motion.scaling import scale_to_static


@pytest.fixture(scope="module")
def lab(refdata):
    from musclepose.io.opensim import read_table, read_trc
    from musclepose.io.opensim.model import osim_marker_set

    folder = refdata("mocap/addbiomechanics_expert1")
    body, ms, _ = osim_marker_set(folder / "generic.osim")
    static = read_trc(folder / "static1.trc")
    scaled, sms, _, _ = scale_to_static(body, ms, static.names, static.positions, mass_kg=70.0)
    return scaled, sms, folder, read_trc, read_table


def _speed_deg_s(q: torch.Tensor, fps: float) -> np.ndarray:
    return np.degrees(np.abs(np.diff(q[:, 6:].numpy(), axis=0))) * fps


def test_walking_knee_does_not_flip(lab):
    """walking1: frames solved on their own flip the left knee to another solution (a joint speed of
    thousands of deg/s); the temporal pass keeps it on OpenSim's (knee within 5 deg RMSE)."""
    scaled, sms, folder, read_trc, read_table = lab
    trial, mot = read_trc(folder / "walking1.trc"), read_table(folder / "walking1.mot")
    alone = solve_ik(scaled, sms, trial.names, trial.positions, trial.fps, temporal=False)
    res = solve_ik(scaled, sms, trial.names, trial.positions, trial.fps)
    assert _speed_deg_s(alone.motion.q, trial.fps).max() > 1000.0
    assert _speed_deg_s(res.motion.q, trial.fps).max() < 1000.0
    body = res.motion.body
    n = min(len(mot.column("time")), res.motion.n_frames)
    for side in "rl":
        knee = np.degrees(res.motion.q[:n, body.dof_index(f"knee_flexion_{side}")].numpy())
        assert np.sqrt(np.mean((knee - mot.column(f"knee_angle_{side}")[:n]) ** 2)) < 5.0
    assert res.quality is not None and not res.quality.flagged.any()


def test_squat_arms_stay_on_the_raised_arm(lab):
    """squats1 3.1-3.3 s, where the arm DoF flipped by ~130 deg between frames: the arms now follow
    OpenSim's shoulder flexion (arms raised to ~130 deg) without a joint faster than 1,000 deg/s."""
    scaled, sms, folder, read_trc, read_table = lab
    trial, mot = read_trc(folder / "squats1.trc"), read_table(folder / "squats1.mot")
    a, b = 300, 370
    res = solve_ik(scaled, sms, trial.names, trial.positions[a:b], trial.fps)
    assert _speed_deg_s(res.motion.q, trial.fps).max() < 1000.0
    body = res.motion.body
    for side in "rl":
        ours = np.degrees(res.motion.q[:, body.dof_index(f"shoulder_flexion_{side}")].numpy())
        assert np.sqrt(np.mean((ours - mot.column(f"arm_flex_{side}")[a:b]) ** 2)) < 15.0


def _landmarks(body: Body, names: list[str]) -> MarkerSet:
    idx = body.landmark_indices(names)
    segs = np.array([body.landmarks[body.landmark_names[i]][0] for i in idx])
    local = np.stack([body.landmarks[body.landmark_names[i]][1] for i in idx])
    return MarkerSet(tuple(names), segs, local)


def test_an_outlier_marker_is_rejected_and_does_not_move_the_pose():
    """A marker 20 cm off in a few frames (a swap, a reflection) is rejected there; the pose stays on
    the other markers (the per-frame fit alone bends the leg toward it)."""
    body = Body.standard(1.75, 70.0, "male")
    names = [body.landmark_names[i] for i in body.landmark_indices("plug_in_gait")]
    ms = _landmarks(body, names)
    t = 40
    q = np.zeros((t, 47))
    q[:, 0:3] = [0.0, 0.95, 0.0]
    q[:, body.dof_index("knee_flexion_r")] = np.radians(40.0) * np.sin(np.linspace(0, np.pi, t))
    y = forward_kinematics(body, torch.tensor(q)).landmarks[:, body.landmark_indices(names)].numpy()
    k = names.index("RANK")
    y[18:22, k] += [0.0, 0.2, 0.0]
    res = solve_ik(body, ms, names, y, fps=100.0)
    alone = solve_ik(body, ms, names, y, fps=100.0, temporal=False)
    assert res.rejected[18:22, k].all() and res.rejected.sum() <= 8
    i = body.dof_index("knee_flexion_r")
    err = np.degrees(np.abs(res.motion.q[18:22, i].numpy() - q[18:22, i])).max()
    err_alone = np.degrees(np.abs(alone.motion.q[18:22, i].numpy() - q[18:22, i])).max()
    assert err < 1.0 < err_alone, (err, err_alone)
    # The rejected marker does not count in the fit quality (counted, it alone would give ~35 mm RMS).
    assert np.nanmax(res.rms_m) < 5e-3


def test_a_poor_fit_is_flagged_with_its_cause():
    """Markers of a much smaller person on the standard body fit poorly: every frame is flagged, with the
    median error and the likely cause (no static trial)."""
    small = Body.standard(1.40, 40.0, "female")
    body = Body.standard(1.90, 90.0, "male")
    names = [small.landmark_names[i] for i in small.landmark_indices("plug_in_gait")]
    q = np.zeros((10, 47))
    q[:, 1] = 0.75
    y = forward_kinematics(small, torch.tensor(q)).landmarks[:, small.landmark_indices(names)].numpy()
    res = solve_ik(body, _landmarks(body, names), names, y, fps=100.0)
    assert res.quality.flagged.all()
    issue = res.quality.issues[-1]
    assert issue.cause == "poor marker fit" and "static trial" in issue.detail
