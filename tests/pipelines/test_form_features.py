"""Features of one repetition: 2-D keypoint observables on a drawn curl (analytic angles), Kinect
pelvis observables on a made-up episode, the working side of a made-up one-arm raise (analytic
activity; the left-arm version reads like the right-arm one), and the feature vectors' shape and
finiteness."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from musclepose.io.uiprmd import UiprmdEpisode
from musclepose.pipelines.form_features import (
    KINECT_LIMBS,
    keypoint_feature_names,
    keypoint_features,
    keypoint_observables,
    kinect_canonical,
    kinect_feature_names,
    kinect_features,
    kinect_limb_activity,
    kinect_mirrored,
    kinect_observables,
    kinect_recognition_feature_names,
    kinect_recognition_features,
    kinect_working_side,
    working_arm,
)


def _curl(n: int = 61, phi_max_deg: float = 140.0) -> np.ndarray:
    """A frontal person (image y down) curling the right forearm in the image plane: the forearm swings
    from hanging (interior elbow angle 180 deg) up by ``phi_max_deg`` and back, the upper arm still."""
    kp = np.zeros((n, 18, 3))
    pts = {1: (500, 200), 2: (440, 210), 3: (440, 350), 5: (560, 210), 6: (560, 350), 7: (560, 490),
           8: (480, 500), 11: (520, 500), 9: (480, 700), 12: (520, 700), 10: (480, 900), 13: (520, 900),
           0: (500, 140), 16: (485, 150), 17: (515, 150)}  # fmt: skip
    for j, xy in pts.items():
        kp[:, j, :2] = xy
    phi = np.radians(phi_max_deg) * np.sin(np.linspace(0, np.pi, n))
    kp[:, 4, 0] = 440 + 140 * np.sin(phi)
    kp[:, 4, 1] = 350 + 140 * np.cos(phi)
    kp[..., 2] = 0.9
    kp[:, [14, 15], 2] = 0.0  # eyes not detected
    return kp


def test_curl_observables_match_the_drawn_angles():
    kp = _curl()
    obs = keypoint_observables(kp, 30.0)
    assert working_arm(kp) == "r"
    assert abs(obs["elbow_min_deg"] - 40.0) < 0.5  # 180 - 140
    assert abs(obs["elbow_max_deg"] - 180.0) < 0.5
    assert abs(obs["elbow_bend_deg"] - 140.0) < 0.5
    assert obs["upper_arm_swing_deg"] < 1e-6 and obs["trunk_shift_range"] < 1e-9
    # The whole arm (shoulder to wrist) from the trunk's downward axis, at the top of the curl.
    wrist = np.array([440 + 140 * np.sin(np.radians(140)), -(350 + 140 * np.cos(np.radians(140)))])
    v = wrist - np.array([440, -210])
    expected = np.degrees(np.arccos(-v[1] / np.linalg.norm(v)))
    assert abs(obs["arm_peak_deg"] - expected) < 0.5
    assert abs(obs["duration_s"] - 61 / 30) < 1e-12
    # A shallower curl reads as a larger smallest elbow angle, nothing else changes.
    short = keypoint_observables(_curl(phi_max_deg=90.0), 30.0)
    assert abs(short["elbow_min_deg"] - 90.0) < 0.5 and short["upper_arm_swing_deg"] < 1e-6


def test_missing_keypoints_leave_nan_observables_and_finite_sizes():
    kp = _curl()
    kp[:, [3, 4, 6, 7], 2] = 0.0  # elbows and wrists never detected
    obs = keypoint_observables(kp, 30.0)
    assert np.isnan(obs["elbow_min_deg"]) and np.isnan(obs["arm_peak_deg"])
    f = keypoint_features(kp, 30.0)
    assert f.shape == (len(keypoint_feature_names()),)
    assert np.isfinite(keypoint_features(_curl(), 30.0)).all()


def test_kinect_pelvis_observables_on_a_made_up_episode():
    t = np.linspace(0, 1, 61)
    root = np.zeros((61, 3))
    root[:, 1] = 0.9 - 0.3 * np.sin(np.pi * t)  # 30 cm down and back
    root[:, 0] = 0.05 * t  # 5 cm sideways
    offsets = np.tile(np.array([0.0, 0.2, 0.0]), (61, 21, 1))
    ep = UiprmdEpisode(Path("m01_s01_e01_positions.txt"), 1, 1, 1, True, root, np.linalg.norm(offsets, axis=-1),
                       offsets)  # fmt: skip
    obs = kinect_observables(ep)
    assert abs(obs["pelvis_descent_cm"] - 30.0) < 0.01
    assert abs(obs["pelvis_travel_cm"] - 5.0) < 1e-9
    assert abs(obs["duration_s"] - 61 / 30) < 1e-12
    f = kinect_features(ep)
    assert f.shape == (len(kinect_feature_names()),) and np.isfinite(f).all()


def _one_arm_raise(side: str, n: int = 91) -> UiprmdEpisode:
    """A made-up UI-PRMD episode: T-pose bone offsets (x to the subject's left), still except the
    ``side`` arm, whose upper arm and forearm Kinect sees shorten by 4 and 6 cm at the top
    (sin^2 over the episode), its collar rising 2 cm; the pelvis sways 3 cm towards that side."""
    from musclepose.io.kinect import UIPRMD_JOINTS

    t = np.linspace(0.0, 1.0, n)
    bump = np.sin(np.pi * t) ** 2
    off = np.zeros((n, len(UIPRMD_JOINTS) - 1, 3))
    for limb, sign in (("left_arm", 1.0), ("right_arm", -1.0)):
        collar, upper, fore, hand = KINECT_LIMBS[limb]
        off[:, collar] = [sign * 0.17, -0.003, 0.0]
        off[:, upper, 0], off[:, fore, 0], off[:, hand, 0] = sign * 0.15, sign * 0.26, sign * 0.24
    for limb, sign in (("left_leg", 1.0), ("right_leg", -1.0)):
        hip, knee, ankle, toe = KINECT_LIMBS[limb]
        off[:, hip] = [sign * 0.07, 0.0, 0.03]
        off[:, knee, 1], off[:, ankle, 1], off[:, toe, 2] = -0.37, -0.37, 0.11
    for j, y in ((0, 0.30), (1, 0.22), (2, 0.007), (3, 0.066), (4, 0.15)):
        off[:, j, 1] = y
    collar, upper, fore, _ = KINECT_LIMBS[f"{side}_arm"]
    sign = 1.0 if side == "left" else -1.0
    off[:, upper, 0] -= sign * 0.04 * bump
    off[:, fore, 0] -= sign * 0.06 * bump
    off[:, collar, 1] += 0.02 * bump
    root = np.zeros((n, 3))
    root[:, 1] = 0.85
    root[:, 0] = -sign * 0.03 * bump  # camera x: the subject faces the sensor, so its left is camera -x
    return UiprmdEpisode(Path(f"m07_s01_e01_positions_{side}.txt"), 7, 1, 1, True, root,
                         np.linalg.norm(off, axis=-1), off)  # fmt: skip


def test_the_working_side_of_a_one_arm_raise_and_its_mirror_image():
    right, left = _one_arm_raise("right"), _one_arm_raise("left")
    assert kinect_working_side(right) == "right" and kinect_working_side(left) == "left"
    # Activity: the std of 0.04 sin^2 and 0.06 sin^2 over the episode (sin^2 has std sqrt(1/8) over a period).
    expected = (0.04 + 0.06) * np.sqrt(1.0 / 8.0)
    assert abs(kinect_limb_activity(right, "right_arm") - expected) < 2e-3
    assert kinect_limb_activity(right, "left_arm") < 1e-12
    # Mirroring twice is the identity; the left-arm raise in the mirror is the right-arm raise.
    twice = kinect_mirrored(kinect_mirrored(left))
    np.testing.assert_allclose(twice.offsets_m, left.offsets_m, atol=1e-15)
    np.testing.assert_allclose(twice.root_m, left.root_m, atol=1e-15)
    np.testing.assert_allclose(kinect_canonical(left).offsets_m, right.offsets_m, atol=1e-12)
    np.testing.assert_allclose(kinect_canonical(left).root_m, right.root_m, atol=1e-12)
    assert kinect_canonical(right) is right
    # The recogniser's features do not tell the two apart; the form models' features do.
    np.testing.assert_allclose(kinect_recognition_features(left), kinect_recognition_features(right), atol=1e-12)
    assert not np.allclose(kinect_features(left), kinect_features(right))
    f = kinect_recognition_features(left)
    assert f.shape == (len(kinect_recognition_feature_names()),) and np.isfinite(f).all()
