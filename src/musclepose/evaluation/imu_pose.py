"""Metrics of pose from IMUs on IMUs synthesised from mocap, with the baselines in the same run.

:func:`evaluate_motion` takes any :class:`~musclepose.motion.Motion` (a loaded ``.mot``, BVH, ...),
puts the layout's sensors on its body with randomised placement, simulates them exactly
(:mod:`musclepose.sim.sensors`), draws the error model the model was trained with
(:func:`musclepose.sim.sensors.imu_worn.worn_imu_errors`: device noise, bias, scale, misalignment,
saturation, dropped samples; orientation-filter tilt/heading errors with drift; calibration
residuals) from a fixed seed, and runs the shipped HDT, the CNN-only baseline and
nearest-neighbour retrieval over the training windows on the same inputs.

Metrics (per frame, then averaged over frames): ``mpjpe_cm`` - mean distance of the 18 joint
centres (segment origins) with the pelvis at the origin, in the world (heading from the
reference sensor), cm; ``rotation_error_deg`` - mean angle between predicted and true local
rotations of the 17 joints; ``global_rotation_error_deg`` - the same for the 18 segments' world
rotations; ``jitter_m_s3`` - mean norm of the third time derivative of the predicted joint
centres (the truth's beside it); ``coverage_1sigma`` / ``coverage_2sigma`` - share of the 6-D
pose coordinates whose error lies within the checkpoint's 1 / 2 sigma intervals (its
:class:`~musclepose.pipelines.imu_pose.IntervalCalibration`: the 68.27 % and 95.45 % intervals,
``±sigma`` and ``±two_sigma * sigma``); ``ece`` - the regression calibration error of Kuleshov et al. 2018:
mean over central intervals p = 0.05..0.95 of |p - observed share inside|.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy.stats import norm

from ..body.skeleton import SEGMENTS
from ..motion import Motion
from ..pipelines.imu_features import (
    LAYOUTS,
    MODEL_FPS,
    SLOTS,
    fk_from_rotations,
    global_rotation_error_deg,
    imu_features,
    local_rotation_error_deg,
    pose_targets,
)
from ..pipelines.imu_nn import NNIndex
from ..pipelines.imu_pose import IMUPoseModel, IntervalCalibration
from ..sim.imu_corpus import Sequence, sequence_from_motion
from ..sim.sensors.imu_worn import SLOT_SEGMENTS, worn_imu_errors

__all__ = ["Prediction", "calibration_metrics", "evaluate_motion", "evaluate_sequence", "pose_metrics"]

_LEVELS = np.linspace(0.05, 0.95, 19)


@dataclass
class Prediction:
    rot6: torch.Tensor  # (T, 18, 6)
    sigma: torch.Tensor | None  # (T, 18) sd of each 6-D coordinate, or None
    calibration: IntervalCalibration | None = None  # its intervals; None: a Gaussian's


def calibration_metrics(
    err: torch.Tensor, sigma: torch.Tensor, calibration: IntervalCalibration | None = None
) -> dict[str, float]:
    """Coverage of the 1 and 2 sigma intervals and the ECE for errors ``err (..., 6)`` and reported sds
    ``sigma (...)``; with a ``calibration`` its intervals (the 2-sigma one ``two_sigma`` sds wide),
    else a Gaussian's."""
    z = (err.abs() / sigma[..., None]).flatten().double()
    two = calibration.two_sigma if calibration is not None else 2.0
    out = {"coverage_1sigma": float((z <= 1).double().mean()), "coverage_2sigma": float((z <= two).double().mean())}
    zp = torch.as_tensor(calibration.band(_LEVELS) if calibration is not None else norm.ppf(0.5 + _LEVELS / 2))
    inside = (z[:, None] <= zp[None]).double().mean(0).numpy()
    out["ece"] = float(np.mean(np.abs(inside - _LEVELS)))
    return out


def pose_metrics(
    pred: Prediction, true6: torch.Tensor, yaw: torch.Tensor, offsets: torch.Tensor, fps: float
) -> dict[str, float]:
    """The module docstring's metrics of one sequence (``true6 (T, 18, 6)``, ``yaw (T,)``)."""
    p = fk_from_rotations(pred.rot6.float(), yaw.float(), offsets.float())
    t = fk_from_rotations(true6.float(), yaw.float(), offsets.float())
    out = {
        "frames": int(true6.shape[0]),
        "mpjpe_cm": 100 * float((p - t).norm(dim=-1).mean()),
        "rotation_error_deg": float(local_rotation_error_deg(pred.rot6.float(), true6.float()).mean()),
        "global_rotation_error_deg": float(
            global_rotation_error_deg(pred.rot6.float(), true6.float(), yaw.float()).mean()
        ),
    }
    if p.shape[0] >= 4:
        jerk = lambda x: (torch.diff(x, n=3, dim=0) * fps**3).norm(dim=-1).mean()  # noqa: E731
        out["jitter_m_s3"] = float(jerk(p))
        out["jitter_true_m_s3"] = float(jerk(t))
    if pred.sigma is not None:
        out |= calibration_metrics(pred.rot6.float() - true6.float(), pred.sigma.float(), pred.calibration)
    return out


@torch.no_grad()
def _hdt(model: IMUPoseModel, x: torch.Tensor) -> Prediction:
    out = model.predict_features(x)
    return Prediction(out[0], torch.exp(0.5 * out[1]) * model.temperature, model.calibration)


def evaluate_sequence(
    seq: Sequence,
    layout: str,
    models: dict[str, IMUPoseModel],
    nn_index: NNIndex | None = None,
    seed: int = 0,
    version: int = 0,
) -> dict[str, dict[str, float]]:
    """Metrics of every model (and the retrieval baseline) on one sequence, one error draw."""
    g = torch.Generator().manual_seed(seed)
    present = torch.tensor([s in LAYOUTS[layout] for s in SLOTS])[None]
    seg = seq.rot[:, [SEGMENTS.index(n) for n in SLOT_SEGMENTS]][None]
    rot_in, a_in = worn_imu_errors(seg, seq.srot[version][None], seq.acc[version][None], g, present)
    x, yaw = imu_features(rot_in, a_in, present)
    x, yaw = x[0], yaw[0]
    true6, _ = pose_targets(seq.rot, seq.root, yaw, MODEL_FPS)
    res = {name: pose_metrics(_hdt(m, x), true6, yaw, seq.offsets, MODEL_FPS) for name, m in models.items()}
    if nn_index is not None and layout in nn_index.layouts:
        rot6, sd = nn_index.predict(x, layout)
        res["nearest_neighbour"] = pose_metrics(Prediction(rot6, sd), true6, yaw, seq.offsets, MODEL_FPS)
    return res


def evaluate_motion(
    motion: Motion,
    layout: str,
    models: dict[str, IMUPoseModel],
    nn_index: NNIndex | None = None,
    seed: int = 0,
    repeats: int = 1,
    filter_hz: float | None = 6.0,
    progress: Callable[[], None] | None = None,
) -> dict[str, dict[str, float]]:
    """:func:`evaluate_sequence` on a recording (sensors placed and errors drawn ``repeats`` times), frame-weighted."""
    seq = sequence_from_motion(motion, "eval", str(motion.metadata.get("source")), "eval", "test", versions=repeats,
                               seed=seed, filter_hz=filter_hz)  # fmt: skip
    runs = []
    for r in range(repeats):
        runs.append(evaluate_sequence(seq, layout, models, nn_index, seed=seed + r, version=r))
        if progress is not None:
            progress()
    return merge([(run, seq.n_frames) for run in runs])


def merge(parts: list[tuple[dict[str, dict[str, float]], int]]) -> dict[str, dict[str, float]]:
    """Frame-weighted means of per-sequence metrics (``frames`` summed)."""
    out: dict[str, dict[str, float]] = {}
    for name in parts[0][0]:
        keys = [k for k in parts[0][0][name] if k != "frames"]
        total = sum(n for _, n in parts)
        row: dict[str, Any] = {"frames": total}
        for k in keys:
            vals = [(r[name][k], n) for r, n in parts if k in r[name] and math.isfinite(r[name][k])]
            w = sum(n for _, n in vals)
            row[k] = sum(v * n for v, n in vals) / w if w else float("nan")
        out[name] = row
    return out
