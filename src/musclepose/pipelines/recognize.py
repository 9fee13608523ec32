"""Which exercise is this? Recognition from 2-D keypoints, UI-PRMD Kinect positions, or a motion.

Two shipped recognisers (``assets/form``, trained by :mod:`musclepose.training.form_real`), each a
:class:`~musclepose.models.form_classifier.FormClassifier` over one repetition's features
(:mod:`.form_features`) with its label map in the checkpoint:

- ``keypoints2d/recognizer``: the synthetic engine's eight exercises and the arm isolation
  exercises, from OpenPose COCO-18 image keypoints (a video, a keypoint JSON, Pose Trainer files).
  A motion on the body is seen through three virtual cameras (front, 45 deg, side;
  :func:`motion_openpose18`) and the three views' probabilities are averaged.
- ``uiprmd/recognizer``: the eight UI-PRMD movements, from a Kinect positions episode mirrored so
  that the side whose limbs move more is on the right (a movement done with the left arm reads like
  the right-arm version).

"Unknown" when nothing matches: the best class's probability is below the checkpoint's
``min_probability``, or the repetition's standardised features lie further from every class's
centre than that class's training repetitions do (``radius``, the 99th percentile x 1.25). Several
repetitions are combined by averaging their log-probabilities.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..io.pose_trainer import openpose18_from_keypoints
from ..io.uiprmd import UiprmdEpisode
from ..models.form_classifier import FormClassifier
from ..signals.movement import ALTERNATION_PER_S, flight_share, leg_alternation_per_s
from ..sim.sensors.camera import PinholeCamera, simulate_keypoints
from .checkpoint import load_checkpoint
from .form_features import keypoint_features, kinect_recognition_features

__all__ = [
    "Recognition",
    "Recognizer",
    "form_assets",
    "gait_kind",
    "gait_words",
    "locomotion",
    "load_recognizer",
    "motion_openpose18",
    "recognize_keypoints",
    "recognize_kinect",
    "recognize_motion",
]

VIEW_YAWS_DEG = (0.0, 45.0, 90.0)
KEYPOINT_FPS = 30.0
# A motion whose root moves further than this from where it started is locomotion (walking, running),
# which the recogniser has no class for: its nearest class would be a guess.
LOCOMOTION_M = 1.0
# Walking or running, told apart by the pelvis' median horizontal speed and the share of frames with
# both feet off the floor; chosen on the CMU motion-prediction files *_1 and *_2 (walks 0.9-1.2 m/s,
# flight 0-7 %; runs 2.7-3.2 m/s, flight 33-50 %), scored on *_3 to *_5 (docs/benchmarks_generate.md).
RUN_SPEED_M_S = 2.0
RUN_FLIGHT = 0.2
WALK_SPEED_M_S = (0.4, 2.0)
WALK_FLIGHT = 0.1


def form_assets() -> Path:
    """The shipped form models' folder (``$MUSCLEPOSE_FORM`` overrides)."""
    env = os.environ.get("MUSCLEPOSE_FORM")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "assets" / "form"


@dataclass
class Recognition:
    """The recognised exercise (None: unknown), its probability, the top classes and why unknown."""

    exercise: str | None
    probability: float
    scores: dict[str, float] = field(default_factory=dict)
    source: str = ""
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"exercise": self.exercise or "unknown", "probability": round(self.probability, 3),
                "top": {k: round(v, 3) for k, v in self.scores.items()}, "from": self.source,
                **({"reason": self.reason} if self.reason else {})}  # fmt: skip


@dataclass
class Recognizer:
    """A loaded recogniser: the classifier and its unknown rule (class centres and radii)."""

    model: FormClassifier
    min_probability: float
    centres: dict[str, np.ndarray]
    radius: dict[str, float]
    source: str

    @torch.no_grad()
    def __call__(self, features: np.ndarray) -> Recognition:
        """Recognise from one or more repetitions' features ``(F,)`` or ``(R, F)``."""
        x = torch.tensor(np.atleast_2d(features), dtype=torch.float64)
        logp = torch.log_softmax(self.model(x), -1).mean(0)
        p = torch.softmax(logp, -1).numpy()
        classes = self.model.config.classes
        order = np.argsort(-p)
        best = classes[int(order[0])]
        top = {classes[int(i)]: float(p[i]) for i in order[:3]}
        z = self.model.standardise(x).numpy().mean(0)
        dist = {c: float(np.sqrt(((z - v) ** 2).mean())) for c, v in self.centres.items()}
        near = [c for c, d in dist.items() if d <= self.radius.get(c, np.inf)]
        if p[order[0]] < self.min_probability:
            return Recognition(None, float(p[order[0]]), top, self.source,
                               f"no exercise is likely enough (best {best}, {p[order[0]]:.2f})")  # fmt: skip
        if self.centres and not near:
            c = min(dist, key=dist.get)
            return Recognition(None, float(p[order[0]]), top, self.source,
                               f"unlike every exercise it knows (nearest {c}, distance {dist[c]:.1f})")  # fmt: skip
        return Recognition(best, float(p[order[0]]), top, self.source)


@functools.cache
def load_recognizer(folder: str | Path, source: str) -> Recognizer:
    """The ``recognizer`` part of a form checkpoint ``folder`` with its unknown rule (cached)."""
    parts, extra = load_checkpoint(folder)
    model = parts["recognizer"]
    model.eval()
    rule = extra.get("unknown", {})
    return Recognizer(model, float(rule.get("min_probability", 0.5)),
                      {c: np.asarray(v) for c, v in rule.get("centres", {}).items()},
                      {c: float(v) for c, v in rule.get("radius", {}).items()}, source)  # fmt: skip


def recognize_keypoints(kp: np.ndarray, fps: float, windows: Sequence[tuple[int, int]] | None = None) -> Recognition:
    """The exercise of OpenPose COCO-18 keypoints ``(T, 18, 3)`` (frames ``windows``: the repetitions)."""
    rec = load_recognizer(form_assets() / "keypoints2d", "2-D keypoints")
    wins = [w for w in (windows or []) if w[1] - w[0] >= 8] or [(0, len(kp))]
    return rec(np.stack([keypoint_features(kp[a:b], fps) for a, b in wins]))


def recognize_kinect(episode: UiprmdEpisode) -> Recognition:
    """The UI-PRMD movement of a Kinect positions episode (one repetition), from its working-side
    features (:func:`~.form_features.kinect_recognition_features`)."""
    return load_recognizer(form_assets() / "uiprmd", "Kinect positions")(kinect_recognition_features(episode))


def motion_openpose18(motion: Any, yaw_deg: float, fps: float = KEYPOINT_FPS) -> tuple[np.ndarray, np.ndarray]:
    """The motion filmed by a virtual camera ``yaw_deg`` around from straight in front (3.5 m away, at
    30 frames/s, self-occlusion modelled): ``(T', 18, 3)`` OpenPose keypoints and the source frame of each."""
    idx = np.unique(np.round(np.arange(0.0, motion.n_frames / motion.fps, 1.0 / fps) * motion.fps).astype(int))
    idx = idx[idx < motion.n_frames]
    body = motion.body
    q = motion.q.detach().to(torch.float64).cpu()[idx]
    centre = q[:, 0:3].mean(0).numpy()
    yaw = np.radians(yaw_deg)
    pos = (centre[0] + 3.5 * np.cos(yaw), 1.0, centre[2] + 3.5 * np.sin(yaw))
    cam = PinholeCamera.look_at(pos, (centre[0], 0.55 * body.height_m, centre[2]))
    with torch.no_grad():
        kp = simulate_keypoints(body, q, camera=cam, fps=fps, generator=0, jitter_px=0.5, confidence_noise=0.0)
    return openpose18_from_keypoints(kp.to_keypoint_data("pixels")), idx


def locomotion(motion: Any) -> str:
    """Why ``motion`` is walking or running ("" when it is not): its root travels more than
    :data:`LOCOMOTION_M` from where it started, or the legs alternate
    (:func:`~musclepose.signals.movement.leg_alternation_per_s` at least ``ALTERNATION_PER_S``:
    1.1-2.1/s measured on the real walks here, 0.19/s for the engine's alternating lunges).
    The recogniser has no class for locomotion, so its nearest class would be a guess; a treadmill
    walk does not travel, hence the second rule."""
    root = motion.q.detach().to(torch.float64).cpu().numpy()[:, [0, 2]]  # horizontal root path (Y up)
    travel = float(np.linalg.norm(root - root[0], axis=1).max()) if len(root) else 0.0
    if travel > LOCOMOTION_M:  # every exercise of the catalogue is done on the spot
        return f"the body travels {travel:.1f} m{gait_words(motion)}: locomotion, not an exercise done on the spot"
    rate = leg_alternation_per_s(motion)
    if rate >= ALTERNATION_PER_S:
        return f"the legs alternate {rate:.1f} times a second{gait_words(motion)}: walking or running, not an exercise"
    return ""


def gait_kind(motion: Any) -> tuple[str, float, float]:
    """``("running" | "walking" | "", median horizontal pelvis speed m/s, share of frames in flight)``
    by :data:`RUN_SPEED_M_S`, :data:`RUN_FLIGHT`, :data:`WALK_SPEED_M_S` and :data:`WALK_FLIGHT`."""
    root = motion.q.detach().to(torch.float64).cpu().numpy()[:, [0, 2]]
    speed = (
        float(np.median(np.linalg.norm(np.diff(root, axis=0), axis=1))) * float(motion.fps) if len(root) > 1 else 0.0
    )
    flight = flight_share(motion)
    if speed >= RUN_SPEED_M_S and flight >= RUN_FLIGHT:
        return "running", speed, flight
    if WALK_SPEED_M_S[0] <= speed < WALK_SPEED_M_S[1] and flight < WALK_FLIGHT:
        return "walking", speed, flight
    return "", speed, flight


def gait_words(motion: Any) -> str:
    """``", running at 3.2 m/s, both feet off the floor 50 % of the time"`` (or walking; "" for neither)."""
    kind, speed, flight = gait_kind(motion)
    if not kind:
        return ""
    return f", {kind} at {speed:.1f} m/s" + (f", both feet off the floor {100 * flight:.0f} % of the time"
                                               if kind == "running" else "")  # fmt: skip


def recognize_motion(motion: Any, reps_s: Sequence[tuple[float, float]] | None = None) -> Recognition:
    """The exercise of a motion on the body: the 2-D recogniser on three virtual views, averaged."""
    source = "motion (virtual camera views)"
    gait = locomotion(motion)
    if gait:
        return Recognition(None, 0.0, {}, source, gait)
    rec = load_recognizer(form_assets() / "keypoints2d", source)
    feats = []
    for yaw in VIEW_YAWS_DEG:
        kp, _ = motion_openpose18(motion, yaw)
        wins = [(int(a * KEYPOINT_FPS), int(b * KEYPOINT_FPS) + 1) for a, b in (reps_s or [])]
        wins = [w for w in wins if w[1] - w[0] >= 8] or [(0, len(kp))]
        feats += [keypoint_features(kp[a:b], KEYPOINT_FPS) for a, b in wins]
    return rec(np.stack(feats))
