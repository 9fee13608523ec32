"""Features of one repetition: 2-D keypoint observables on a drawn curl (analytic angles), Kinect
pelvis observables on a made-up episode, and the feature vectors' shape and finiteness."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from musclepose.io.uiprmd import UiprmdEpisode
from musclepose.pipelines.form_features import (
    keypoint_feature_names,
    keypoint_features,
    keypoint_observables,
    kinect_feature_names,
    kinect_features,
    kinect_observables,
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
