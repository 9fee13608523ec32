"""The camera-keypoint fitter against ground truth: a generated squat seen through the camera model.

The motion is known exactly; the keypoints come from ``sim.sensors.camera.simulate_keypoints``
(MediaPipe-33 or COCO-17, pixel jitter, depth noise, self-occlusion, confidence), so the joint
angles the fitter recovers can be compared with the truth frame by frame.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from musclepose.body import Body, forward_kinematics
from musclepose.motion.video_fit import KeypointTrack, fit_camera_keypoints
from musclepose.sim import generate
from musclepose.sim.sensors.camera import PinholeCamera, simulate_keypoints

SIDE = PinholeCamera.look_at((0.3, 1.2, 3.5), (0.0, 0.9, 0.0), width=640, height=480)


@pytest.fixture(scope="module")
def squat():
    body = Body.standard(1.75, 70.0, "male")
    return generate("squat", body, {"reps": 2, "depth_deg": 100}, rng=3).resampled(30.0)


def _track(motion, camera=SIDE, layout="mediapipe33", world=True, seed=0):
    kp = simulate_keypoints(motion.body, motion.q, camera, layout=layout, fps=motion.fps, generator=seed)
    xyz = kp.camera_xyz.numpy().astype(float)
    names = kp.names
    hips = 0.5 * (xyz[:, names.index("left_hip")] + xyz[:, names.index("right_hip")])
    return KeypointTrack(
        names, np.arange(motion.n_frames) / motion.fps, kp.confidence.numpy().astype(float),
        pixels=kp.pixels.numpy().astype(float), world=(xyz - hips[:, None]) if world else None,
        image_size=camera.image_size,
    )  # fmt: skip


def _rmse_deg(fit_q, true_q, body, dof):
    j = body.dof_index(dof)
    n = min(len(fit_q), len(true_q))
    return float(np.degrees(np.sqrt(np.mean((fit_q[:n, j] - true_q[:n, j]) ** 2))))


def test_mediapipe_landmarks_recover_sagittal_angles_and_the_floor(squat):
    fit = fit_camera_keypoints(_track(squat), height_m=1.75, focal_px=SIDE.fx)
    q, qt, body = fit.motion.q.numpy(), squat.q.numpy(), squat.body
    assert _rmse_deg(q, qt, body, "knee_flexion_r") < 8.0
    assert _rmse_deg(q, qt, body, "ankle_dorsiflexion_r") < 8.0
    # The pelvis' tilt is not seen by keypoints (no pelvis landmarks): hip flexion carries it.
    assert _rmse_deg(q, qt, body, "hip_flexion_r") < 14.0
    # Floor from foot contacts: the soles rest on y = 0 and the hips go down as far as the truth's.
    assert fit.floor_from == "foot contacts"
    # The camera looks down 4.9 deg (1.2 m high, aimed at 0.9 m from 3.5 m): the floor plane says so.
    assert abs(fit.tilt_deg - math.degrees(math.atan2(0.3, math.hypot(0.3, 3.5)))) < 2.0
    with torch.no_grad():
        soles = forward_kinematics(body, fit.motion.q).landmarks[:, body.landmark_indices(["right_heel"]), 1]
    assert abs(float(soles.median())) < 0.03
    n = min(len(q), len(qt))
    assert np.sqrt(np.mean((q[:n, 1] - qt[:n, 1]) ** 2)) < 0.05
    assert not fit.flagged.any() and np.isfinite(fit.reprojection_px).all()


def test_variable_frame_rate_and_unconfident_frames(squat):
    tr = _track(squat)
    keep = np.ones(squat.n_frames, dtype=bool)
    keep[1::3] = False  # every third frame dropped: 15-30 Hz
    tr = KeypointTrack(tr.names, tr.times_s[keep], tr.confidence[keep], tr.pixels[keep], tr.world[keep], tr.image_size)
    lost = (tr.times_s > 3.3) & (tr.times_s < 3.65)  # nothing confident for a third of a second
    tr.confidence[lost] = 0.0
    fit = fit_camera_keypoints(tr, height_m=1.75, focal_px=SIDE.fx, fps=30.0)
    assert fit.motion.fps == 30.0
    assert np.diff(fit.times_s) == pytest.approx(np.full(len(fit.times_s) - 1, 1 / 30.0))
    # Flagged: the grid frames that fall in the gap (interpolation leaves the edges half-confident).
    inside = (fit.times_s > 3.34) & (fit.times_s < 3.62)
    assert fit.flagged[inside].all() and not fit.flagged[fit.times_s < 3.2].any()
    q, qt = fit.motion.q.numpy(), squat.q.numpy()
    assert _rmse_deg(q, qt, squat.body, "knee_flexion_r") < 9.0
    j = squat.body.dof_index("knee_flexion_r")
    gap = np.degrees(np.abs(q[inside, j] - qt[: len(q)][inside, j]))
    assert gap.max() < 20.0  # bridged from the neighbours, not collapsed to a standing pose


def test_coco17_pixels_alone_go_through_the_same_fitter(squat):
    fit = fit_camera_keypoints(_track(squat, layout="coco17", world=False), height_m=1.75, focal_px=SIDE.fx)
    q = fit.motion.q.numpy()
    # Depth from 2-D alone is ambiguous: looser, but a squat's knee is still followed.
    assert _rmse_deg(q, squat.q.numpy(), squat.body, "knee_flexion_r") < 35.0  # measured 28
    assert np.corrcoef(q[:, squat.body.dof_index("knee_flexion_r")],
                       squat.q.numpy()[: len(q), squat.body.dof_index("knee_flexion_r")])[0, 1] > 0.8  # fmt: skip
    assert float(np.nanmedian(fit.reprojection_px)) < 15.0


def test_no_hips_is_an_error():
    names = ("nose", "left_shoulder", "right_shoulder")
    tr = KeypointTrack(names, np.arange(3) / 30.0, np.ones((3, 3)), pixels=np.zeros((3, 3, 2)), image_size=(64, 48))
    with pytest.raises(ValueError, match="no hips"):
        fit_camera_keypoints(tr)


def test_long_clips_are_fitted_in_overlapping_windows(squat, monkeypatch):
    import musclepose.motion.video_fit as vf

    monkeypatch.setattr(vf, "CHUNK_S", 1.5)
    monkeypatch.setattr(vf, "OVERLAP_S", 0.5)
    short = squat[:100]
    fit = fit_camera_keypoints(_track(short), height_m=1.75, focal_px=SIDE.fx)
    assert fit.info["chunks"] == 3 and fit.motion.n_frames == 100
    q = fit.motion.q.numpy()
    assert _rmse_deg(q, short.q.numpy(), short.body, "knee_flexion_r") < 8.0
    # The cross-fade leaves no step at the joins (at 2 s: one window ends, the next has begun).
    j = short.body.dof_index("knee_flexion_r")
    assert np.degrees(np.abs(np.diff(q[:, j]))).max() < 8.0
