"""Running a trained MotionNN: batched rollouts, a streaming predictor, continuing a recording.

:class:`MotionPredictor` loads a checkpoint folder (``config.json`` names the codec of
:mod:`.motion_state` and the frame rate) and predicts in frames of that codec: benchmark rows
for the ``cmu_expmap`` model (:func:`default_checkpoint` ``("cmu")``), ``q`` of our body for the
``body_q`` model (``("body")``, the one :func:`predict_motion` uses). ``predictor(seed, steps)``
rolls a batch out; :meth:`MotionPredictor.step` is the streaming API: feed one frame, get the
next one predicted, at most the model's window of frames kept. Frames must be at the model's rate.
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..body import Body
from ..models.motion_nn import MotionNN
from ..motion.core import Motion
from .checkpoint import load_checkpoint
from .motion_state import BodyCodec, CMUCodec, codec_for

__all__ = [
    "MotionPredictor",
    "PredictResult",
    "clip_from_motion",
    "default_checkpoint",
    "fill_gap",
    "plant_stance_foot",
    "predict_motion",
]

PLANT_HEIGHT_M = 0.03  # a foot whose lowest sole point is this close to the floor may carry the body


def default_checkpoint(kind: str = "body") -> Path:
    """The shipped motion model: ``"body"`` (our body, 30 Hz) or ``"cmu"`` (the benchmark's skeleton);
    ``$MUSCLEPOSE_MOTION_<KIND>`` overrides."""
    if kind not in ("body", "cmu"):
        raise ValueError(f"kind must be 'body' or 'cmu'; got {kind!r}")
    env = os.environ.get(f"MUSCLEPOSE_MOTION_{kind.upper()}")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "assets" / "motion" / kind


class MotionPredictor:
    """A trained MotionNN with its codec; see the module docstring.

    Attributes
    ----------
    model : MotionNN
    codec : CMUCodec or BodyCodec
    fps : float
        The rate the model runs at; every frame given must be at this rate.
    extra : dict
        The checkpoint's ``extra`` (training config, data hashes, history).
    """

    def __init__(self, model: MotionNN, codec: CMUCodec | BodyCodec, extra: dict[str, Any] | None = None) -> None:
        self.model = model.eval()
        self.codec = codec
        self.fps = float(model.config.fps)
        self.extra = extra or {}
        self.body: Body | None = None
        self.reset()

    @classmethod
    def load(cls, folder: str | Path | None = None, kind: str = "body") -> MotionPredictor:
        """From a checkpoint folder (default: the shipped one of ``kind``)."""
        folder = Path(folder) if folder is not None else default_checkpoint(kind)
        if not (folder / "config.json").is_file():
            raise FileNotFoundError(
                f"{folder}: no motion checkpoint (train one with `musclepose train motion`, or pass --checkpoint)"
            )
        parts, extra = load_checkpoint(folder)
        if "motion_nn" not in parts:
            raise ValueError(f"{folder}: not a motion model checkpoint (parts: {', '.join(parts)})")
        return cls(parts["motion_nn"].float(), codec_for(extra.get("codec", "cmu_expmap")), extra)

    # ----------------------------------------------------------------- encoding
    def _encode(self, frames: np.ndarray) -> torch.Tensor:
        if isinstance(self.codec, BodyCodec):
            return self.codec.encode(frames, self.fps, self.body)
        return self.codec.encode(frames)

    def _decode(self, states: torch.Tensor, last: np.ndarray) -> np.ndarray:
        if isinstance(self.codec, BodyCodec):
            return self.codec.decode(states, last, self.fps).numpy()
        return self.codec.decode(states, last)

    # ----------------------------------------------------------------- batched
    @torch.inference_mode()
    def __call__(self, seed: np.ndarray, steps: int) -> np.ndarray:
        """Roll ``steps`` frames out from seeds ``(N, T, F)`` (frames at :attr:`fps`) -> ``(N, steps, F)``."""
        seed = np.asarray(seed, dtype=np.float64)
        if seed.ndim == 2:
            return self(seed[None], steps)[0]
        if seed.shape[1] < 2:
            raise ValueError("a seed needs at least 2 frames (velocities)")
        hist = torch.stack([self._encode(s) for s in seed])
        out = []
        for chunk in hist.split(512):
            out.append(self.model.rollout(chunk, steps))
        states = torch.cat(out)
        return np.stack([self._decode(states[i], seed[i, -1]) for i in range(len(seed))])

    # ----------------------------------------------------------------- streaming
    def reset(self) -> None:
        """Forget the streamed frames."""
        self._frames: deque[np.ndarray] = deque(maxlen=2)
        self._states: deque[torch.Tensor] = deque(maxlen=self.model.config.window)

    @torch.inference_mode()
    def step(self, frame: np.ndarray) -> np.ndarray:
        """Streaming: take the newest frame (at :attr:`fps`), return the predicted next frame.

        The first frame has no velocity yet, so the prediction after it repeats it.
        """
        frame = np.asarray(frame, dtype=np.float64)
        if frame.shape != (self.codec.frame_dim,):
            raise ValueError(f"frame must have shape ({self.codec.frame_dim},); got {frame.shape}")
        self._frames.append(frame)
        if len(self._frames) < 2:
            return frame.copy()
        # The state of the newest frame needs its predecessor (velocity); earlier states are kept.
        self._states.append(self._encode(np.stack(self._frames))[-1])
        nxt = self.model(torch.stack(tuple(self._states))[None])
        return self._decode(nxt, frame)[0]


@dataclass
class PredictResult:
    """A recording continued by the body model: ``observed`` (at the model's rate) and ``predicted``."""

    observed: Motion
    predicted: Motion
    seconds: float
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def continued(self) -> Motion:
        """Observed then predicted frames, one Motion."""
        q = torch.cat([self.observed.q, self.predicted.q.to(self.observed.q.dtype)])
        meta = {**self.observed.metadata, "predicted_from_frame": self.observed.n_frames}
        return Motion(q, self.observed.fps, self.observed.body, meta)


def plant_stance_foot(
    body: Body, last: np.ndarray, cont: np.ndarray, height_m: float = PLANT_HEIGHT_M, lift: bool = True
) -> np.ndarray:
    """``cont`` (T, 47) with its root moved over the floor so that the stance foot does not slide.

    A predicted continuation moves its root and its legs separately, and a foot on the floor
    slides (foot skating). Frame by frame from ``last`` (the frame before the continuation), the
    foot whose lowest sole point is lower (and within ``height_m`` of the floor, ``y = 0``) is
    taken to stand, and the root is moved horizontally by minus that foot's mean horizontal
    displacement, so the standing foot stays where it is while the body moves over it; in
    flight the root keeps its predicted velocity. The shift a frame receives carries on to the
    frames after it. ``lift``: a frame whose feet go below the floor is raised until the lowest
    sole point touches it. Joint angles are unchanged.
    """
    from ..body.contact import sole_points

    full = np.concatenate([last[None], cont]).astype(np.float64)
    with torch.no_grad():
        pts = sole_points(body, torch.as_tensor(full)).numpy()  # (T+1, 2 feet, 3 points, 3)
    low = pts[..., 1].min(axis=2)  # (T+1, 2) each foot's lowest sole point
    step = pts[1:, :, :, [0, 2]].mean(axis=2) - pts[:-1, :, :, [0, 2]].mean(axis=2)  # (T, 2, 2)
    out = cont.astype(np.float64).copy()
    shift = np.zeros(2)
    for t in range(len(cont)):
        h = np.maximum(low[t], low[t + 1])
        foot = int(np.argmin(h))
        if h[foot] < height_m:
            shift = shift - step[t, foot]
        out[t, [0, 2]] += shift
    if lift:
        out[:, 1] += np.clip(-low[1:].min(axis=1), 0.0, None)
    return out


def predict_motion(
    motion: Motion, horizon_s: float, predictor: MotionPredictor | None = None, plant: bool = True
) -> PredictResult:
    """Continue ``motion`` (any rate; resampled to the model's) by ``horizon_s`` seconds with the body model."""
    import time

    predictor = predictor or MotionPredictor.load(kind="body")
    if not isinstance(predictor.codec, BodyCodec):
        raise ValueError("predict_motion needs a body_q model (default_checkpoint('body'))")
    if not (np.isfinite(horizon_s) and horizon_s > 0):
        raise ValueError(f"horizon must be a positive number of seconds; got {horizon_s}")
    t0 = time.perf_counter()
    m = motion if abs(motion.fps - predictor.fps) < 1e-9 else motion.resampled(predictor.fps)
    if m.n_frames < 2:
        raise ValueError(f"{motion.metadata.get('source', 'motion')}: needs at least 2 frames to continue")
    predictor.body = m.body
    steps = max(1, int(round(horizon_s * predictor.fps)))
    q = m.q.detach().double().numpy()
    seed = q[-predictor.model.config.window - 1 :]
    pred = predictor(seed, steps)
    if plant:
        pred = plant_stance_foot(m.body, q[-1], pred)
    meta = {**m.metadata, "predicted_by": "MotionNN" + (", stance foot planted" if plant else "")}
    out = Motion(torch.as_tensor(pred), m.fps, m.body, meta)
    return PredictResult(m, out, time.perf_counter() - t0, {"steps": steps, "fps": m.fps, "planted": plant})


def clip_from_motion(motion: Motion, name: str = "") -> Any:
    """The clip (seven channels and wave features, :mod:`musclepose.io.clip`) of a motion."""
    from ..io.clip import Clip
    from ..signals import compute_channels, wave_features

    return Clip(
        channels=compute_channels(motion),
        fps=float(motion.fps),
        exercise="",
        video_id=name,
        wave_features=wave_features(motion).to_dict(),
    )


def fill_gap(
    before: np.ndarray,
    after: np.ndarray,
    n_missing: int,
    method: str = "spline",
    predictor: MotionPredictor | None = None,
) -> np.ndarray:
    """``n_missing`` frames ``(n, F)`` between the frames ``before`` and ``after`` (``(T, F)`` each).

    ``"spline"``: a cubic spline per coordinate through up to 10 frames either side.
    ``"model"``: the motion model rolled out from ``before`` for ``n + 1`` steps, with the
    difference between its last step and ``after[0]`` removed linearly over the gap (so it ends on
    the recording); ``predictor`` must run at the frames' rate.
    """
    from scipy.interpolate import CubicSpline

    before, after = np.asarray(before, dtype=np.float64), np.asarray(after, dtype=np.float64)
    if method == "spline":
        b, a = before[-10:], after[:10]
        t = np.concatenate([np.arange(-len(b), 0), n_missing + np.arange(len(a))])
        return CubicSpline(t, np.concatenate([b, a]), axis=0)(np.arange(n_missing))
    if method != "model" or predictor is None:
        raise ValueError(f"method must be 'spline', or 'model' with a predictor; got {method!r}")
    pred = predictor(before[-predictor.model.config.window - 1 :], n_missing + 1)
    ramp = (np.arange(1, n_missing + 2) / (n_missing + 1))[:, None]
    pred = pred + ramp * (after[0] - pred[-1])
    return pred[:n_missing]
