"""The coach encoder's inputs: seven channels and keypoints of a clip -> a ``(T, 58)`` tensor at ``ENCODER_FPS``.

The same functions prepare training clips (:mod:`.coach_examples`) and recordings at inference
(:mod:`.coach`). Channels are scaled to order one (heights in m, angles / 90 deg, ``CHANNEL_SCALE``);
COCO-17 keypoints (image x, y down, confidence) are normalised by
:func:`musclepose.models.encoder.normalise_keypoints`; a clip without keypoints gets zeros. Clips are
decimated to ``ENCODER_FPS`` (20 Hz): every signal the coach needs varies far below 10 Hz.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..body import forward_kinematics
from ..models.encoder import normalise_keypoints
from ..models.grf import GRFInputs, grf_inputs
from ..motion.differentiate import derivatives

__all__ = ["CHANNEL_SCALE", "ENCODER_FPS", "decimation", "encoder_inputs", "grf_features", "keypoints_from_motion"]

ENCODER_FPS = 20.0
CHANNEL_SCALE = np.array([1.0, 1.0, 90.0, 90.0, 90.0, 90.0, 90.0], dtype=np.float32)  # m, m, then deg


def decimation(fps: float) -> int:
    """The frame step that takes a clip at ``fps`` to about ``ENCODER_FPS``."""
    return max(1, int(round(float(fps) / ENCODER_FPS)))


def encoder_inputs(channels: np.ndarray, keypoints: np.ndarray | None) -> torch.Tensor:
    """``channels (T, 7)`` (clip schema units) and ``keypoints (T, 17, 3)`` (image x, y down, conf)
    or None -> the encoder's ``(T, 58)`` input."""
    ch = torch.as_tensor(np.asarray(channels, dtype=np.float32) / CHANNEL_SCALE)
    if keypoints is None:
        kp = torch.zeros(ch.shape[0], 17 * 3)
    else:
        kp = normalise_keypoints(torch.as_tensor(np.asarray(keypoints, dtype=np.float32))[None])[0]
    return torch.cat([ch, kp], -1)


def keypoints_from_motion(motion: Any) -> np.ndarray:
    """COCO-17 keypoints ``(T, 17, 3)`` of a motion seen from the front (orthographic, camera on +X):
    image x = -Z (the subject's right on the image's left), image y = -Y (down), confidence 1."""
    body = motion.body
    with torch.no_grad():
        lm = forward_kinematics(body, motion.q).landmarks[:, body.landmark_indices("coco17")].numpy()
    return np.stack([-lm[..., 2], -lm[..., 1], np.ones(lm.shape[:2])], -1).astype(np.float32)


def grf_features(body: Any, q: torch.Tensor, fps: float) -> GRFInputs:
    """:func:`musclepose.models.grf.grf_inputs` of ``q (T, 47)`` with velocities and accelerations
    by :func:`musclepose.motion.differentiate.derivatives` (the floor at y = 0)."""
    qd, qdd = derivatives(q, fps)
    with torch.no_grad():
        return grf_inputs(body, q, qd, qdd)
