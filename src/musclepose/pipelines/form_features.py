"""Fixed-length features of one repetition for the form models and the exercise recogniser.

Two inputs, each read as it comes from its sensor, without fitting a body to it:

- **2-D keypoints** in OpenPose's COCO-18 order (``(T, 18, 3)`` pixels + confidence, (0, 0, 0) =
  not detected; Pose Trainer's files, :meth:`~.video_pose.VideoPose.to_openpose18`,
  :func:`musclepose.io.pose_trainer.openpose18_from_keypoints`). :func:`keypoint_signals` turns
  them into view-tolerant per-frame signals (angles in degrees, heights and shifts in torso lengths,
  image y pointing up); :func:`keypoint_observables` reduces them to the quantities Pose Trainer's
  published heuristics read (Chen & Yang 2018), on the working arm (the one that moves more);
  :func:`keypoint_features` adds each signal's statistics and time course.
- **UI-PRMD Kinect positions** (:class:`musclepose.io.uiprmd.UiprmdEpisode`): the pelvis path and
  Kinect's per-frame bone offsets, which change with the pose because Kinect re-estimates its joints
  each frame; :func:`kinect_features` and :func:`kinect_observables`. The movement recogniser reads
  :func:`kinect_recognition_features`: the same features of the episode mirrored so that the side
  whose limbs move more is on the right (:func:`kinect_canonical`). The files keep no joint
  orientations, so the plane in which an arm is raised cannot be measured from them.

Every feature vector is finite (missing values become 0 after the model's standardisation would
put them at the mean: the training set's mean is used in place of a missing value by the models).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..io.kinect import UIPRMD_JOINTS
from ..io.uiprmd import UiprmdEpisode

__all__ = [
    "KEYPOINT_FAULT_OBSERVABLES",
    "KEYPOINT_OBSERVABLES",
    "KEYPOINT_OBSERVABLE_WORDS",
    "KEYPOINT_SIGNALS",
    "KINECT_LIMBS",
    "MIN_KEYPOINT_CONFIDENCE",
    "N_TIME_POINTS",
    "kinect_canonical",
    "kinect_features",
    "kinect_limb_activity",
    "kinect_mirrored",
    "kinect_observables",
    "kinect_recognition_feature_names",
    "kinect_recognition_features",
    "kinect_working_side",
    "keypoint_features",
    "keypoint_feature_names",
    "keypoint_observables",
    "keypoint_signals",
    "working_arm",
    "kinect_feature_names",
]

MIN_KEYPOINT_CONFIDENCE = 0.1  # OpenPose's own drawing threshold; below it a keypoint is missing
N_TIME_POINTS = 8  # each signal's time course, resampled over the repetition
_OP = {n: i for i, n in enumerate((
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow", "left_wrist",
    "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
))}  # fmt: skip
KEYPOINT_SIGNALS: tuple[str, ...] = (
    "elbow_angle", "upper_arm_angle", "arm_angle", "wrist_height", "shoulder_height", "ear_gap", "other_elbow_angle",
    "other_arm_angle", "trunk_lean", "trunk_shift", "knee_angle", "hip_angle", "hip_height", "ankle_spread",
)  # fmt: skip
KEYPOINT_OBSERVABLES: tuple[str, ...] = (
    "upper_arm_swing_deg", "upper_arm_peak_deg", "elbow_min_deg", "elbow_max_deg", "elbow_bend_deg", "arm_peak_deg",
    "trunk_shift_range", "trunk_lean_range_deg", "shoulder_rise", "ear_gap_closing", "wrist_rise", "knee_min_deg",
    "hip_drop", "duration_s",
)  # fmt: skip
#: How each 2-D observable is worded in a report: (unit, what it is).
KEYPOINT_OBSERVABLE_WORDS: dict[str, tuple[str, str]] = {
    "upper_arm_swing_deg": ("deg", "upper-arm swing (range of its angle to the trunk)"),
    "upper_arm_peak_deg": ("deg", "upper arm raised from the trunk (peak)"),
    "elbow_min_deg": ("deg", "smallest elbow angle (180 = straight)"),
    "elbow_max_deg": ("deg", "largest elbow angle (180 = straight)"),
    "elbow_bend_deg": ("deg", "elbow bend (peak)"),
    "arm_peak_deg": ("deg", "arm elevation from the trunk (peak)"),
    "trunk_shift_range": ("torso lengths", "trunk sway (neck over hips, range)"),
    "trunk_lean_range_deg": ("deg", "trunk lean range"),
    "shoulder_rise": ("torso lengths", "shoulder rise"),
    "ear_gap_closing": ("torso lengths", "shoulders rising towards the ears"),
}
#: The 2-D observables each screened fault reads (the catalogue fault's quantity seen in the image);
#: a :class:`~musclepose.models.noisy_or.NoisyOrScreen` per exercise is built from this table.
KEYPOINT_FAULT_OBSERVABLES: dict[str, dict[str, tuple[str, ...]]] = {
    "bicep_curl": {
        "upper_arm_swing": ("upper_arm_swing_deg", "upper_arm_peak_deg"),
        "partial_range": ("elbow_min_deg",),
        "torso_swing": ("trunk_lean_range_deg", "trunk_shift_range"),
    },
    "front_raise": {"partial_range": ("arm_peak_deg",), "torso_swing": ("trunk_shift_range", "trunk_lean_range_deg")},
    "shoulder_shrug": {"partial_range": ("ear_gap_closing", "shoulder_rise"), "elbow_bend": ("elbow_bend_deg",)},
    "overhead_press": {
        "incomplete_lockout": ("elbow_max_deg", "arm_peak_deg"),
        "lumbar_hyperextension": ("trunk_shift_range", "trunk_lean_range_deg"),
    },
}


def _angle(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Angle (deg) between 2-D vectors ``(T, 2)``; NaN where either is missing or zero."""
    nu, nv = np.linalg.norm(u, axis=-1), np.linalg.norm(v, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.sum(u * v, axis=-1) / (nu * nv)
    return np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))


def _points(kp: np.ndarray) -> np.ndarray:
    """``(T, 18, 2)`` with image y flipped to point up; NaN below :data:`MIN_KEYPOINT_CONFIDENCE`."""
    kp = np.asarray(kp, dtype=np.float64)
    if kp.ndim != 3 or kp.shape[1:] != (18, 3):
        raise ValueError(f"expected (frames, 18, 3) OpenPose COCO-18 keypoints, got {kp.shape}")
    ok = (kp[..., 2] >= MIN_KEYPOINT_CONFIDENCE) & np.isfinite(kp[..., :2]).all(-1)
    xy = np.where(ok[..., None], kp[..., :2], np.nan)
    return xy * np.array([1.0, -1.0])


def _mid(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Midpoint, or whichever of the two is present."""
    return np.where(np.isnan(a), b, np.where(np.isnan(b), a, 0.5 * (a + b)))


def _nanmax(x: np.ndarray) -> float:
    return float(np.nanmax(x)) if np.isfinite(x).any() else np.nan


def _nan_ptp(x: np.ndarray) -> float:
    return float(np.nanmax(x) - np.nanmin(x)) if np.isfinite(x).any() else np.nan


def _arm(p: np.ndarray, side: str, neck: np.ndarray, hip: np.ndarray) -> dict[str, np.ndarray]:
    s, e, w = (p[:, _OP[f"{side}_{j}"]] for j in ("shoulder", "elbow", "wrist"))
    down = hip - neck  # the trunk's downward axis
    return {
        "elbow": _angle(s - e, w - e),  # interior: 180 straight
        "upper": _angle(e - s, down),  # upper arm from hanging: 0 by the side
        "arm": _angle(w - s, down),  # whole arm elevation
        "wrist": w[:, 1] - s[:, 1],
    }


def _working(arms: dict[str, dict[str, np.ndarray]]) -> str:
    """The arm that moves more (elevation or elbow range); an arm seen in under 30 % of the frames loses."""

    def motion_of(a: dict[str, np.ndarray]) -> float:
        seen = np.isfinite(a["elbow"]).mean()
        if seen < 0.3:
            return -1.0 + seen
        return float(np.nan_to_num(max(_nan_ptp(a["arm"]), _nan_ptp(a["elbow"])), nan=0.0))

    return "right" if motion_of(arms["right"]) >= motion_of(arms["left"]) else "left"


def working_arm(kp: np.ndarray) -> str:
    """``"r"`` or ``"l"``: the arm :func:`keypoint_signals` reads as the working arm."""
    p = _points(kp)
    neck = p[:, _OP["neck"]]
    hip = _mid(p[:, _OP["right_hip"]], p[:, _OP["left_hip"]])
    neck = np.where(np.isnan(neck), _mid(p[:, _OP["right_shoulder"]], p[:, _OP["left_shoulder"]]), neck)
    return _working({s: _arm(p, s, neck, hip) for s in ("right", "left")})[0]


def keypoint_signals(kp: np.ndarray) -> dict[str, np.ndarray]:
    """Per-frame signals ``(T,)`` of :data:`KEYPOINT_SIGNALS` (NaN where a point is missing).

    Lengths are in torso lengths (neck to hip midpoint, median over the frames), so the camera's
    distance and the person's size cancel; angles between body segments change little with the
    viewing direction for movements in the image plane. The working arm is the one whose elevation
    or elbow angle moves more (visible in more frames when only one is seen)."""
    p = _points(kp)
    neck = p[:, _OP["neck"]]
    hip = _mid(p[:, _OP["right_hip"]], p[:, _OP["left_hip"]])
    sh = _mid(p[:, _OP["right_shoulder"]], p[:, _OP["left_shoulder"]])
    neck = np.where(np.isnan(neck), sh, neck)
    torso_v = neck - hip
    torso = float(np.nanmedian(np.linalg.norm(torso_v, axis=-1))) if np.isfinite(torso_v).any() else np.nan
    if not np.isfinite(torso) or torso <= 0:
        torso = np.nan
    arms = {s: _arm(p, s, neck, hip) for s in ("right", "left")}

    work = _working(arms)
    other = "left" if work == "right" else "right"
    a, o = arms[work], arms[other]
    knees, hips_a = [], []
    for s in ("right", "left"):
        h, k, an = (p[:, _OP[f"{s}_{j}"]] for j in ("hip", "knee", "ankle"))
        knees.append(_angle(h - k, an - k))
        hips_a.append(_angle(neck - h, k - h))
    ankle = _mid(p[:, _OP["right_ankle"]], p[:, _OP["left_ankle"]])
    ear = _mid(p[:, _OP["right_ear"]], p[:, _OP["left_ear"]])
    with np.errstate(invalid="ignore"):
        lean = np.degrees(np.arctan2(torso_v[:, 0], torso_v[:, 1]))
        return {
            "elbow_angle": a["elbow"],
            "upper_arm_angle": a["upper"],
            "arm_angle": a["arm"],
            "wrist_height": a["wrist"] / torso,
            "shoulder_height": (sh[:, 1] - hip[:, 1]) / torso,
            "ear_gap": (ear[:, 1] - sh[:, 1]) / torso,  # the shoulders rising towards the ears close it
            "other_elbow_angle": o["elbow"],
            "other_arm_angle": o["arm"],
            "trunk_lean": np.abs(lean),
            "trunk_shift": (neck[:, 0] - hip[:, 0]) / torso,
            "knee_angle": np.fmin(*knees),  # the more bent side (fmin ignores a side that is not seen)
            "hip_angle": np.fmin(*hips_a),
            "hip_height": (hip[:, 1] - ankle[:, 1]) / torso,
            "ankle_spread": np.abs(p[:, _OP["right_ankle"], 0] - p[:, _OP["left_ankle"], 0]) / torso,
        }


def _first(x: np.ndarray) -> float:
    f = np.flatnonzero(np.isfinite(x))
    return float(x[f[0]]) if len(f) else np.nan


def keypoint_observables(kp: np.ndarray, fps: float) -> dict[str, float]:
    """The repetition's form quantities (:data:`KEYPOINT_OBSERVABLES`, NaN when not measurable).

    ``upper_arm_swing_deg``: range of the upper arm's angle to the trunk (Pose Trainer's curl rule:
    > 35 deg is a swing); ``elbow_min_deg`` / ``elbow_max_deg``: the elbow's interior angle (a curl
    that never gets below 70 deg stops short; a press that never reaches 178 deg is not locked out);
    ``elbow_bend_deg``: 180 minus the smallest interior angle (a shrug with > 30 deg bends the arms);
    ``arm_peak_deg``: the arm's highest elevation from the trunk (a front raise below 90 deg is short);
    ``trunk_shift_range``: horizontal travel of the neck over the hips (torso lengths; Pose Trainer:
    > 0.3 in a front raise, > 0.16 in a press is back movement); ``trunk_lean_range_deg``; ``shoulder_rise``:
    the shoulders' vertical travel (torso lengths; a shrug below 0.1 is short); ``wrist_rise``;
    ``knee_min_deg`` and ``hip_drop`` for the lower body; ``duration_s``."""
    s = keypoint_signals(kp)
    with np.errstate(invalid="ignore"):
        elbow_min = float(np.nanmin(s["elbow_angle"])) if np.isfinite(s["elbow_angle"]).any() else np.nan
        return {
            "upper_arm_swing_deg": _nan_ptp(s["upper_arm_angle"]),
            "upper_arm_peak_deg": _nanmax(s["upper_arm_angle"]),
            "elbow_min_deg": elbow_min,
            "elbow_max_deg": float(np.nanmax(s["elbow_angle"])) if np.isfinite(s["elbow_angle"]).any() else np.nan,
            "elbow_bend_deg": 180.0 - elbow_min if np.isfinite(elbow_min) else np.nan,
            "arm_peak_deg": float(np.nanmax(s["arm_angle"])) if np.isfinite(s["arm_angle"]).any() else np.nan,
            "trunk_shift_range": _nan_ptp(s["trunk_shift"]),
            "trunk_lean_range_deg": _nan_ptp(s["trunk_lean"]),
            "shoulder_rise": _nan_ptp(s["shoulder_height"]),
            "ear_gap_closing": _nan_ptp(s["ear_gap"]),
            "wrist_rise": _nan_ptp(s["wrist_height"]),
            "knee_min_deg": float(np.nanmin(s["knee_angle"])) if np.isfinite(s["knee_angle"]).any() else np.nan,
            "hip_drop": _first(s["hip_height"]) - float(np.nanmin(s["hip_height"]))
            if np.isfinite(s["hip_height"]).any()
            else np.nan,
            "duration_s": len(kp) / float(fps),
        }


def _resample(x: np.ndarray, n: int) -> np.ndarray:
    """``n`` evenly spaced samples of ``x`` (T,), missing frames filled from their neighbours."""
    t = np.arange(len(x))
    ok = np.isfinite(x)
    if not ok.any():
        return np.full(n, np.nan)
    filled = np.interp(t, t[ok], x[ok])
    return np.interp(np.linspace(0, len(x) - 1, n), t, filled)


def _stats(x: np.ndarray) -> list[float]:
    if not np.isfinite(x).any():
        return [np.nan] * 4
    return [float(np.nanmean(x)), float(np.nanstd(x)), float(np.nanmin(x)), float(np.nanmax(x))]


def keypoint_feature_names() -> list[str]:
    """Names of :func:`keypoint_features`' entries, in order."""
    names = list(KEYPOINT_OBSERVABLES)
    for s in KEYPOINT_SIGNALS:
        names += [f"{s}_{k}" for k in ("mean", "std", "min", "max")]
        names += [f"{s}_t{i}" for i in range(N_TIME_POINTS)]
    return names


def keypoint_features(kp: np.ndarray, fps: float) -> np.ndarray:
    """The repetition's feature vector (:func:`keypoint_feature_names`; NaN where not measurable)."""
    obs = keypoint_observables(kp, fps)
    sig = keypoint_signals(kp)
    out = [obs[k] for k in KEYPOINT_OBSERVABLES]
    for name in KEYPOINT_SIGNALS:
        out += _stats(sig[name]) + list(_resample(sig[name], N_TIME_POINTS))
    return np.asarray(out, dtype=np.float64)


# ----------------------------------------------------------------------------- UI-PRMD Kinect positions
def _kinect_series(ep: UiprmdEpisode) -> np.ndarray:
    """``(T, 66)``: the pelvis from its first frame and each bone offset from its median (m)."""
    root = ep.root_m - ep.root_m[0]
    off = ep.offsets_m.reshape(ep.n_frames, -1)
    return np.concatenate([root, off - np.median(off, axis=0)], axis=1)


def kinect_feature_names() -> list[str]:
    """Names of :func:`kinect_features`' entries, in order."""
    chans = [f"pelvis_{a}" for a in "xyz"] + [f"{j}_{a}" for j, _ in UIPRMD_JOINTS[1:] for a in "xyz"]
    names = []
    for c in chans:
        names += [f"{c}_{k}" for k in ("mean", "std", "min", "max", "speed")]
        names += [f"{c}_t{i}" for i in range(2 * N_TIME_POINTS)]
    spine = "spine"  # proportions: median bone lengths over the spine's (Waist to Chest)
    names += [f"{j}_length_over_{spine}" for j, _ in UIPRMD_JOINTS[1:]]
    names += [f"{j}_{a}_offset_over_{spine}" for j, _ in UIPRMD_JOINTS[1:] for a in "xyz"]
    return [*names, "duration_s"]


def kinect_features(ep: UiprmdEpisode) -> np.ndarray:
    """The episode's feature vector (:func:`kinect_feature_names`): per channel of the pelvis path
    and the bone offsets, its mean, spread, extremes, mean speed (m/s) and time course; the bones'
    apparent proportions; the duration."""
    x = _kinect_series(ep)
    speed = np.abs(np.diff(x, axis=0)).mean(axis=0) * ep.fps
    out = []
    for c in range(x.shape[1]):
        col = x[:, c]
        out += [col.mean(), col.std(), col.min(), col.max(), speed[c]]
        out += list(_resample(col, 2 * N_TIME_POINTS))
    # Apparent proportions: Kinect sees a body turned from it foreshortened (a sideways stance
    # narrows the shoulders), so the median bone lengths over the spine's say how the person faces it.
    bones = np.median(ep.bones_m, axis=0)
    spine = max(float(bones[0] + bones[1]), 1e-6)
    out += list(bones / spine) + list(np.median(ep.offsets_m, axis=0).ravel() / spine)
    return np.asarray([*out, ep.n_frames / ep.fps], dtype=np.float64)


def kinect_observables(ep: UiprmdEpisode) -> dict[str, float]:
    """What the positions alone measure: the pelvis's descent below its start and its horizontal
    travel (cm, Kinect's SpineBase), and the duration (s)."""
    r = ep.root_m - ep.root_m[0]
    return {
        "pelvis_descent_cm": float(-100.0 * r[:, 1].min()),
        "pelvis_travel_cm": float(100.0 * np.hypot(r[:, 0], r[:, 2]).max()),
        "duration_s": ep.n_frames / ep.fps,
    }


# ----------------------------------------------------------------------------- UI-PRMD: which side works
# Kinect's bones of each limb, non-root joint indices (the rows of ``offsets_m`` / ``bones_m``): the
# girdle bone first (collar: chest to shoulder; upper leg: pelvis to hip), then the limb's segments.
_KJ = {name: i - 1 for i, (name, _) in enumerate(UIPRMD_JOINTS) if i > 0}
KINECT_LIMBS: dict[str, tuple[int, ...]] = {
    f"{side}_{limb}": tuple(_KJ[f"{side.title()}{j}"] for j in joints)
    for side in ("left", "right")
    for limb, joints in (("arm", ("Collar", "UpperArm", "ForeArm", "Hand")),
                         ("leg", ("UpperLeg", "LowerLeg", "Foot", "LegToes")))
}  # fmt: skip


def kinect_limb_activity(ep: UiprmdEpisode, limb: str) -> float:
    """How much a limb (``"left_arm"``, ``"right_leg"``, ...) moves, m: the summed standard deviation
    of its segments' lengths over the episode. Kinect re-estimates its joints every frame, and a limb
    that moves (foreshortened, crossing the body, leaving its rest pose) gets lengths that change
    with the pose; a still limb's stay within the sensor's jitter."""
    return float(ep.bones_m[:, list(KINECT_LIMBS[limb][1:])].std(axis=0).sum())


def kinect_working_side(ep: UiprmdEpisode) -> str:
    """``"left"`` or ``"right"``: the side whose arm and leg together move more
    (:func:`kinect_limb_activity`); right on a tie."""
    left = sum(kinect_limb_activity(ep, f"left_{k}") for k in ("arm", "leg"))
    right = sum(kinect_limb_activity(ep, f"right_{k}") for k in ("arm", "leg"))
    return "left" if left > right else "right"


def kinect_mirrored(ep: UiprmdEpisode, arms: bool = True, legs: bool = True, pelvis: bool = True) -> UiprmdEpisode:
    """``ep`` seen in a mirror through the body's sagittal plane: the left and right arms (and / or
    legs) swap places and their offsets' x (the subject's left in Kinect's T-pose frames) changes
    sign; ``pelvis``: the pelvis path's x about its first frame too (the subject faces the sensor
    in UI-PRMD, so camera x is the body's lateral axis). Mirroring twice gives ``ep`` back."""
    perm = np.arange(ep.offsets_m.shape[1])
    flip = np.zeros(len(perm), dtype=bool)
    for limb, on in (("arm", arms), ("leg", legs)):
        if on:
            left, right = list(KINECT_LIMBS[f"left_{limb}"]), list(KINECT_LIMBS[f"right_{limb}"])
            perm[left], perm[right] = right, left
            flip[left + right] = True
    off = ep.offsets_m[:, perm].copy()
    off[:, flip, 0] *= -1.0
    root = ep.root_m.copy()
    if pelvis:
        root[:, 0] = 2.0 * root[0, 0] - root[:, 0]
    return replace(ep, root_m=root, bones_m=ep.bones_m[:, perm].copy(), offsets_m=off, joints_m=None)


def kinect_canonical(ep: UiprmdEpisode) -> UiprmdEpisode:
    """``ep`` with its working side (:func:`kinect_working_side`) on the right: mirrored when the left
    arm and leg move more, so that a movement done with the left arm or leg reads like the same
    movement done with the right."""
    return kinect_mirrored(ep) if kinect_working_side(ep) == "left" else ep


def kinect_recognition_feature_names() -> list[str]:
    """Names of :func:`kinect_recognition_features`' entries, in order (working side = right)."""
    return [f"working_side_{n}" for n in kinect_feature_names()]


def kinect_recognition_features(ep: UiprmdEpisode) -> np.ndarray:
    """The movement recogniser's features: :func:`kinect_features` of :func:`kinect_canonical` (the
    working side on the right). UI-PRMD's subjects do the one-sided movements with the side they
    choose (one of the eight uses the left arm and leg); the working side itself says nothing
    about which movement it is."""
    return kinect_features(kinect_canonical(ep))
