"""In-betweening: fill a gap of ``n`` frames between the end of motion A and the start of motion B.

Frames are ``q (T, 47)`` of our body (:mod:`musclepose.body.skeleton`). A gap of ``n`` frames at
``fps`` leaves ``(n + 1) / fps`` seconds between A's last and B's first frame; the filled motion is
A, the ``n`` new frames, then B (B where it was recorded, its angles shifted by whole turns where
that makes the join continuous).

- ``slerp`` (the baseline): each of the 18 segment rotations (the pelvis in the world, every joint
  relative to its parent; ZXY Euler of its DoF, absent axes 0) is spherically interpolated between
  A's last and B's first frame, ``R(t) = R_a exp(t log(R_a^T R_b))`` (Shoemake 1985), and the root
  translation linearly. The heading is part of the pelvis rotation, so it turns along the shortest
  arc. Euler angles are read back per segment with the absent axes dropped (a hinge, whose
  relative rotation keeps its axis, is interpolated exactly linearly) and unwrapped to continue A.
- ``learned``: :class:`Inbetweener`, a model that sees ``context`` frames either side and predicts
  the residual over slerp in the frame of A's last pose (:func:`window_features`): the shipped
  :class:`~musclepose.models.inbetween_linear.InbetweenLinear` (a learned temporal filter) or a
  :class:`~musclepose.models.inbetween.InbetweenNet` (a transformer). The checkpoint (default
  ``assets/inbetween``) is a folder of ``config.json`` + ``model.safetensors`` (:mod:`.checkpoint`);
  gaps longer than the model was made for fall back to slerp.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..body.model import JOINT_EULER_DOFS, JOINT_EULER_SIGNS
from ..body.rotations import (
    axis_angle_to_matrix,
    euler_zxy_to_matrix,
    matrix_to_axis_angle,
    matrix_to_euler_zxy,
    matrix_to_rotation_6d,
    rotation_6d_to_matrix,
)
from ..io.errors import FormatError
from ..models.inbetween import InbetweenNet
from ..models.inbetween_linear import InbetweenLinear
from ..motion.core import Motion
from .checkpoint import load_checkpoint
from .predict import fill_gap

__all__ = [
    "DEFAULT_INBETWEENER",
    "METHODS",
    "WINDOW_DIM",
    "InbetweenResult",
    "Inbetweener",
    "features_to_window_q",
    "default_method",
    "held_out_gaps",
    "inbetween",
    "q_from_segments",
    "segment_matrices",
    "slerp_fill",
    "window_features",
]

DEFAULT_INBETWEENER = Path(__file__).resolve().parents[1] / "assets" / "inbetween"
METHODS = ("slerp", "learned", "spline")
N_SEG = 18
WINDOW_DIM = 3 + 6 * N_SEG  # root position in A's frame, then 18 rotations in 6-D
_SLOTS = np.where(JOINT_EULER_DOFS < 0, 47, JOINT_EULER_DOFS)  # (18, 3) q column per Euler slot (47: absent)
_PRESENT = JOINT_EULER_DOFS >= 0


def _f64(x: torch.Tensor | np.ndarray) -> np.ndarray:
    return np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float64)


def segment_matrices(q: torch.Tensor | np.ndarray) -> np.ndarray:
    """The 18 segment rotations ``(..., 18, 3, 3)`` of ``q (..., 47)``: the pelvis in the world,
    the others relative to their parents."""
    q = _f64(q)
    if q.shape[-1] != 47:
        raise ValueError(f"q must be (..., 47); got {q.shape}")
    padded = np.concatenate([q, np.zeros(q.shape[:-1] + (1,))], axis=-1)
    euler = padded[..., _SLOTS] * JOINT_EULER_SIGNS
    return euler_zxy_to_matrix(torch.as_tensor(euler)).numpy()


def q_from_segments(rots: np.ndarray, root_pos: np.ndarray, prev_q: np.ndarray) -> np.ndarray:
    """``q (T, 47)`` from segment rotations ``(T, 18, 3, 3)`` and root positions ``(T, 3)``: the
    Euler angles of the present axes, unwrapped to continue ``prev_q (47,)``."""
    euler = matrix_to_euler_zxy(torch.as_tensor(np.asarray(rots, dtype=np.float64))).numpy() * JOINT_EULER_SIGNS
    q = np.zeros((len(rots), 47))
    q[:, 0:3] = root_pos
    q[:, JOINT_EULER_DOFS[_PRESENT]] = euler[:, _PRESENT]
    ang = np.unwrap(np.concatenate([_f64(prev_q)[None, 3:], q[:, 3:]]), axis=0)[1:]
    q[:, 3:] = ang
    return q


def slerp_fill(q_a: torch.Tensor | np.ndarray, q_b: torch.Tensor | np.ndarray, n: int) -> np.ndarray:
    """``n`` frames ``(n, 47)`` strictly between ``q_a (47,)`` and ``q_b (47,)`` (at ``t = k / (n + 1)``):
    slerp of every segment rotation, linear root translation."""
    q_a, q_b = _f64(q_a), _f64(q_b)
    if q_a.shape != (47,) or q_b.shape != (47,):
        raise ValueError(f"q_a and q_b must be (47,); got {q_a.shape}, {q_b.shape}")
    if n < 1:
        raise ValueError(f"the gap must be at least one frame; got {n}")
    t = np.arange(1, n + 1) / (n + 1)
    ra, rb = segment_matrices(q_a), segment_matrices(q_b)
    log = matrix_to_axis_angle(torch.as_tensor(np.swapaxes(ra, -1, -2) @ rb)).numpy()  # (18, 3)
    step = axis_angle_to_matrix(torch.as_tensor(t[:, None, None] * log[None])).numpy()  # (n, 18, 3, 3)
    rots = ra[None] @ step
    pos = q_a[None, 0:3] + t[:, None] * (q_b[0:3] - q_a[0:3])[None]
    return q_from_segments(rots, pos, q_a)


def held_out_gaps(length: int, n: int, min_side: int, stride: int) -> list[int]:
    """First frames of ``n``-frame gaps cut every ``stride`` frames from a clip of ``length`` frames,
    each with at least ``min_side`` real frames before and after it (the benchmark's and the
    trainer's validation gaps)."""
    return list(range(min_side, length - n - min_side + 1, max(1, stride)))


def _heading_frame(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(Ry(yaw), origin)`` of a pose: the pelvis heading about +Y and its floor point."""
    r = segment_matrices(q)[0]
    yaw = np.arctan2(-r[2, 0], r[0, 0])
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]]), np.array([q[0], 0.0, q[2]])


def window_features(q: torch.Tensor | np.ndarray, origin_q: torch.Tensor | np.ndarray) -> np.ndarray:
    """``(T, 111)``: the root position and the 18 rotations (6-D, Zhou et al. 2019) of ``q (T, 47)``
    in the frame of ``origin_q``'s heading and floor point (so a window is invariant to where the
    subject stands and faces)."""
    q, (head, origin) = _f64(q), _heading_frame(_f64(origin_q))
    rots = segment_matrices(q)
    rots[:, 0] = head.T @ rots[:, 0]
    pos = (q[:, 0:3] - origin) @ head  # head.T @ (p - o) per row
    d6 = matrix_to_rotation_6d(torch.as_tensor(rots)).numpy().reshape(len(q), -1)
    return np.concatenate([pos, d6], axis=1)


def features_to_window_q(feats: np.ndarray, origin_q: np.ndarray, prev_q: np.ndarray) -> np.ndarray:
    """Inverse of :func:`window_features`: ``q (T, 47)`` continuing ``prev_q``."""
    f = _f64(feats)
    head, origin = _heading_frame(_f64(origin_q))
    rots = rotation_6d_to_matrix(torch.as_tensor(f[:, 3:].reshape(len(f), N_SEG, 6))).numpy()
    rots[:, 0] = head @ rots[:, 0]
    return q_from_segments(rots, f[:, 0:3] @ head.T + origin, prev_q)


class Inbetweener:
    """A trained :class:`InbetweenNet` or :class:`InbetweenLinear` with its feature normalisation,
    rate and context length."""

    def __init__(self, model: InbetweenNet | InbetweenLinear, mean: np.ndarray, std: np.ndarray) -> None:
        self.model = model.eval()
        self.mean, self.std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
        self.fps = float(model.config.fps)
        self.context = int(model.config.context)

    @classmethod
    def from_pretrained(cls, folder: str | Path = DEFAULT_INBETWEENER) -> Inbetweener:
        parts, extra = load_checkpoint(folder)
        model, cfg = parts.get("model"), Path(folder) / "config.json"
        if not isinstance(model, (InbetweenNet, InbetweenLinear)):
            raise FormatError(cfg, "no 'model' part of type InbetweenNet or InbetweenLinear", field="parts")
        stats = extra.get("features", {})
        mean, std = np.asarray(stats.get("mean", []), float), np.asarray(stats.get("std", []), float)
        if mean.shape != (WINDOW_DIM,) or std.shape != (WINDOW_DIM,) or not (std > 0).all():
            raise FormatError(cfg, f"needs {WINDOW_DIM} means and positive stds", field="extra.features")
        return cls(model, mean, std)

    def windows(self, q_a: np.ndarray, q_b: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Normalised input ``(C + n + C, 111)`` (slerp in the gap) and the slerp fill ``(n, 47)``;
        a side shorter than ``C`` frames is padded with its edge frame."""
        c = self.context
        a, b = _f64(q_a)[-c:], _f64(q_b)[:c]
        a = np.concatenate([np.repeat(a[:1], c - len(a), axis=0), a])
        b = np.concatenate([b, np.repeat(b[-1:], c - len(b), axis=0)])
        fill = slerp_fill(a[-1], b[0], n)
        b = b.copy()
        b[:, 3:] += 2 * np.pi * np.round((fill[-1, 3:] - b[0, 3:]) / (2 * np.pi))
        x = window_features(np.concatenate([a, fill, b]), a[-1])
        return (x - self.mean) / self.std, fill

    @torch.no_grad()
    def fill(self, q_a: torch.Tensor | np.ndarray, q_b: torch.Tensor | np.ndarray, n: int) -> np.ndarray:
        """``n`` frames ``(n, 47)`` between the frames ``q_a (Ta, 47)`` and ``q_b (Tb, 47)`` at :attr:`fps`."""
        x, fill = self.windows(_f64(q_a), _f64(q_b), n)
        cfg = self.model.config
        if n > (cfg.max_gap if isinstance(self.model, InbetweenLinear) else cfg.max_len - 2 * self.context):
            return fill  # longer than any gap the model was made for: slerp
        out = self.model(torch.as_tensor(x, dtype=torch.float32)[None], self.context, n)[0].double().numpy()
        c = self.context
        return features_to_window_q(out[c : c + n] * self.std + self.mean, _f64(q_a)[-1], _f64(q_a)[-1])


@dataclass
class InbetweenResult:
    """The filled motion (A, gap, B) and where the gap lies in it."""

    motion: Motion
    method: str
    gap_start: int  # first new frame
    gap_frames: int


def default_method() -> str:
    """``learned`` where an in-betweener is shipped (it is only shipped when it beats slerp on
    held-out people, ``docs/benchmarks_inbetween.md``), else ``slerp``."""
    return "learned" if (DEFAULT_INBETWEENER / "config.json").is_file() else "slerp"


def inbetween(
    a: Motion, b: Motion, gap_s: float, method: str | None = None, model: Inbetweener | None = None
) -> InbetweenResult:
    """A, a gap of ``gap_s`` seconds filled by ``method`` (default :func:`default_method`), then B.
    ``slerp`` and ``spline`` run at A's rate (B is resampled to it); ``learned`` at the model's rate
    (both are resampled to it)."""
    method = method or (default_method() if model is None else "learned")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    if not (np.isfinite(gap_s) and gap_s > 0):
        raise ValueError(f"the gap must be more than 0 s; got {gap_s!r}")
    if method == "learned":
        model = model or Inbetweener.from_pretrained()
        fps = model.fps
    else:
        fps = float(a.fps)
    a = a if abs(a.fps - fps) < 1e-6 * fps else a.resampled(fps)
    b = b if abs(b.fps - fps) < 1e-6 * fps else b.resampled(fps)
    n = max(1, round(gap_s * fps))
    qa, qb = _f64(a.q), _f64(b.q)
    if method == "learned":
        fill = model.fill(qa, qb, n)
    elif method == "spline":  # a cubic spline per coordinate (predict.fill_gap), B turned to A's whole turns
        qb_near = qb.copy()
        qb_near[:, 3:] += 2 * np.pi * np.round((qa[-1, 3:] - qb[0, 3:]) / (2 * np.pi))
        fill = fill_gap(qa, qb_near, n, "spline")
    else:
        fill = slerp_fill(qa[-1], qb[0], n)
    qb = qb.copy()
    qb[:, 3:] += 2 * np.pi * np.round((fill[-1, 3:] - qb[0, 3:]) / (2 * np.pi))  # whole turns: same pose
    q = torch.as_tensor(np.concatenate([qa, fill, qb]), dtype=torch.float64)
    meta = dict(a.metadata)
    meta["history"] = [*a.metadata.get("history", []), f"inbetween {method}: {n} frames, then {len(qb)} of B"]
    return InbetweenResult(Motion(q, fps, a.body, meta), method, len(qa), n)
