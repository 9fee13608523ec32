"""The motion tokenizer's per-frame features (HumanML3D-like) on the 47-DoF body, their exact inverse and normalisation.

A frame's 115 features are those of :class:`~.motion_state.BodyCodec` (one representation, shared
with the motion model): 18 rotations in the 6-D form of Zhou et al. (2019, "On the continuity of
rotation representations in neural networks") - the pelvis relative to its heading (yaw) frame,
then the 17 joints (ZXY Euler of their DoF, absent axes 0) - then the yaw rate about world +Y
(rad/s), the root velocity in the heading frame (m/s, backward differences, the first frame's
forward) and the pelvis height (m), then the right and left foot contact in [0, 1]. As in
HumanML3D (Guo et al. 2022) the features are invariant to where the clip starts and which way
the subject faces; :func:`features_to_q` puts the decoded clip back at a given start (root
x, z and heading of its first frame) by integrating the velocities. The inverse is exact up to
float32 rounding and 2-pi wraps of the Euler angles (tested on a real recording);
:func:`joint_error_mm` measures a reconstruction (the trainer's and the benchmark's MPJPE).

:class:`FeatureStats` holds the training data's per-feature mean and one std per feature group
(rotations, yaw rate, root velocity, height, contacts; as HumanML3D's normalisation, so a
rarely moving joint is not amplified into noise); a tokenizer checkpoint stores them in its
``config.json`` with :data:`LAYOUT`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..body import Body, forward_kinematics
from ..body.model import JOINT_EULER_SIGNS
from .motion_state import BodyCodec, _heading, _ry, _zxy, _zxy_inv

__all__ = ["FEATURE_DIM", "LAYOUT", "FeatureStats", "features_to_q", "joint_error_mm", "motion_features"]

_CODEC = BodyCodec()
FEATURE_DIM = 6 * _CODEC.n_rot + _CODEC.n_extra + _CODEC.n_contact  # 115
#: Name -> [start, stop) columns of a feature vector.
LAYOUT: dict[str, tuple[int, int]] = {
    "rot6d": (0, 108),
    "yaw_rate": (108, 109),
    "root_velocity": (109, 112),
    "root_height": (112, 113),
    "contacts": (113, 115),
}
STD_FLOOR = 0.01  # 0.01 rad in a 6-D entry, 1 cm/s, 1 cm: below this a feature is noise


def _np(x: torch.Tensor | np.ndarray) -> np.ndarray:
    return np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float64)


def motion_features(q: torch.Tensor | np.ndarray, fps: float, body: Body | None = None) -> np.ndarray:
    """Features ``(T, 115)`` float64 of ``q (T >= 2, 47)`` at ``fps``; ``body`` places the feet for
    the contacts (default the standard body)."""
    q = _np(q)
    if not np.isfinite(q).all():
        raise ValueError("q holds NaN or infinite values")
    return _np(_CODEC.encode(q, fps, body))


def _start_heading(start_q: np.ndarray) -> float:
    return float(_heading(_zxy(start_q[3:6] * JOINT_EULER_SIGNS[0])))


def features_to_q(feats: torch.Tensor | np.ndarray, fps: float, start_q: torch.Tensor | np.ndarray) -> np.ndarray:
    """``q (T, 47)`` from features ``(T, 115)``: frame 0's root x, z and heading are ``start_q``'s
    (``(47,)``, e.g. the original clip's first frame; its other values are unused), the rest is
    integrated from the features' yaw rate and root velocity."""
    f = _np(feats)
    start = _np(start_q)
    if f.ndim != 2 or f.shape[1] != FEATURE_DIM or start.shape != (47,):
        raise ValueError(f"features must be (T, {FEATURE_DIM}) and start_q (47,); got {f.shape}, {start.shape}")
    # BodyCodec.decode continues a previous frame: build the frame "before" frame 0 so that the
    # first integration step lands exactly on start_q's position and heading.
    yaw0 = _start_heading(start)
    last_yaw = yaw0 - f[0, 108] / fps
    last = np.zeros(47)
    last[0:3] = start[0:3] - _ry(np.float64(yaw0)) @ f[0, 109:112] / fps
    last[3:6] = _zxy_inv(_ry(np.float64(last_yaw))) * JOINT_EULER_SIGNS[0]
    return _np(_CODEC.decode(torch.as_tensor(f), last, fps))


@dataclass
class FeatureStats:
    """Per-feature ``mean`` and ``std`` ``(115,)`` of the training data; :meth:`normalise` maps
    features to zero mean, unit variance, :meth:`denormalise` back."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, feats: list[np.ndarray]) -> FeatureStats:
        """Per-feature means; one std per :data:`LAYOUT` group (the mean of its features' stds, as
        HumanML3D does): a joint that barely turns in the training data is not scaled up, so a
        motion that does turn it stays in the range the encoder saw."""
        x = np.concatenate(feats, axis=0)
        std = np.empty(x.shape[1])
        for a, b in LAYOUT.values():
            std[a:b] = x[:, a:b].std(0).mean()
        return cls(x.mean(0), np.maximum(std, STD_FLOOR))

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        mean, std = (torch.as_tensor(v, dtype=x.dtype, device=x.device) for v in (self.mean, self.std))
        return (x - mean) / std

    def denormalise(self, x: torch.Tensor) -> torch.Tensor:
        mean, std = (torch.as_tensor(v, dtype=x.dtype, device=x.device) for v in (self.mean, self.std))
        return x * std + mean

    def to_json(self) -> dict[str, Any]:
        return {"mean": [float(v) for v in self.mean], "std": [float(v) for v in self.std]}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> FeatureStats:
        mean, std = np.asarray(d["mean"], dtype=np.float64), np.asarray(d["std"], dtype=np.float64)
        if (
            mean.shape != (FEATURE_DIM,)
            or std.shape != (FEATURE_DIM,)
            or not (np.isfinite(mean).all() and (std > 0).all())
        ):
            raise ValueError(f"feature stats must be {FEATURE_DIM} finite means and positive stds")
        return cls(mean, std)


def joint_error_mm(
    body: Body, q: torch.Tensor | np.ndarray, q_hat: torch.Tensor | np.ndarray, root_aligned: bool = False
) -> float:
    """Mean per-joint position error (mm) of the joint centres of ``q_hat`` vs ``q`` (both
    ``(T, 47)``); ``root_aligned`` subtracts each frame's pelvis position first."""
    with torch.no_grad():
        a = forward_kinematics(body, torch.as_tensor(np.asarray(q), dtype=torch.float64)).joint_centres
        b = forward_kinematics(body, torch.as_tensor(np.asarray(q_hat), dtype=torch.float64)).joint_centres
    if root_aligned:
        a, b = a - a[..., :1, :], b - b[..., :1, :]
    return float((a - b).norm(dim=-1).mean()) * 1000.0
