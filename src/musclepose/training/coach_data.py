"""Examples for the coach: a clip dataset (HDF5) -> encoder inputs, physics targets, labels, summaries.

One :class:`CoachExample` per clip, at the encoder's frame rate (``ENCODER_FPS``, 20 Hz: the
clips are decimated; every signal the coach needs varies far below 10 Hz):

- inputs (:func:`encoder_inputs`, the same function at inference): the seven channels scaled
  to order one (heights in m, angles / 90 deg) and COCO-17 keypoints normalised by
  :func:`musclepose.models.encoder.normalise_keypoints`;
- targets: ``q`` (horizontal root translation relative to the first frame, height kept), foot contact, the
  static-optimisation activations, the joint moments ``tau`` (the clip's inverse dynamics
  with its known contacts), anthropometrics, the exercise and its faults (multi-hot,
  severity, side);
- the analysis of the clip's motion (:func:`musclepose.signals.analyze_motion`, the code that
  analyses a real recording) and its peak moments: the facts of the coach's summary. The
  clip's ``language`` label is not read here at all: targets are written from the summary's
  facts by :func:`musclepose.language.coach.target_text`.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..body import GRAVITY
from ..language.coach import peak_extensor_moments

__all__ = [
    "CHANNEL_SCALE",
    "ENCODER_FPS",
    "EXERCISE_NAMES",
    "CoachExample",
    "encoder_inputs",
    "keypoints_from_motion",
    "load_examples",
]

ENCODER_FPS = 20.0
CHANNEL_SCALE = np.array([1.0, 1.0, 90.0, 90.0, 90.0, 90.0, 90.0], dtype=np.float32)  # m, m, then deg
EXERCISE_NAMES = (
    "bent_over_row", "deadlift", "jumping_jack", "lunge", "overhead_press", "push_up", "sit_to_stand", "squat",
)  # fmt: skip
_FOOT_POINTS = ("heel", "ball", "toe")


@dataclass
class CoachExample:
    """One clip prepared for the coach (module docstring); arrays at ``fps``."""

    index: int
    split: str
    exercise: str
    fps: float
    inputs: torch.Tensor  # (T, 7 + 51)
    q: torch.Tensor  # (T, 47)
    contact: torch.Tensor  # (T, 2) right, left foot planted
    activations: torch.Tensor  # (T, 82)
    tau: torch.Tensor  # (T, 47) N m
    body: dict[str, Any]  # height_m, mass_kg, sex
    faults: dict[str, dict[str, Any]]  # true faults: name -> severity, side
    analysis: dict[str, Any]  # Analysis.to_dict() of the clip's motion
    peak_moments: dict[str, float]
    measures: dict[str, float]  # signed fault observables (:func:`.form_screen.fault_measures`)
    grf: torch.Tensor | None = None  # (T, 2, 3) ground reaction per foot (right, left), body weights
    grf_psi: torch.Tensor | None = None  # (T, 2, 8) GRF-model features of the true motion (models.grf)
    grf_feet: torch.Tensor | None = None  # (T, 2, 2, 3) heel and toe on the floor per foot (m)


def encoder_inputs(channels: np.ndarray, keypoints: np.ndarray | None) -> torch.Tensor:
    """``channels (T, 7)`` (clip schema units) and ``keypoints (T, 17, 3)`` (image x, y down, conf)
    or None -> the encoder's ``(T, 58)`` input."""
    ch = torch.as_tensor(np.asarray(channels, dtype=np.float32) / CHANNEL_SCALE)
    if keypoints is None:
        kp = torch.zeros(ch.shape[0], 17 * 3)
    else:
        from ..models.encoder import normalise_keypoints

        kp = normalise_keypoints(torch.as_tensor(np.asarray(keypoints, dtype=np.float32))[None])[0]
    return torch.cat([ch, kp], -1)


def keypoints_from_motion(motion) -> np.ndarray:
    """COCO-17 keypoints ``(T, 17, 3)`` of a motion seen from the front (orthographic, camera on +X):
    image x = -Z (the subject's right on the image's left), image y = -Y (down), confidence 1."""
    from ..body import forward_kinematics

    body = motion.body
    with torch.no_grad():
        lm = forward_kinematics(body, motion.q).landmarks[:, body.landmark_indices("coco17")].numpy()
    return np.stack([-lm[..., 2], -lm[..., 1], np.ones(lm.shape[:2])], -1).astype(np.float32)


def _decimate(fps: float) -> int:
    return max(1, int(round(fps / ENCODER_FPS)))


_READER: dict[str, Any] = {}


def _prepare(args: tuple[str, int]) -> CoachExample:
    from ..io.hdf5 import MotionDatasetReader
    from ..motion import Motion
    from ..signals import analyze_motion
    from ..sim.exercises import EXERCISES
    from .form_screen import fault_measures

    path, i = args
    if _READER.get("path") != path:
        _READER.update(path=path, reader=MotionDatasetReader(path))
    reader = _READER["reader"]
    f = reader._h5()
    labels = json.loads(f["extra_attrs"][i])
    motion = reader[i]
    extra = f["extra"]

    def arr(name: str) -> np.ndarray:
        o = extra[name]["offsets"]
        return np.asarray(extra[name]["data"][o[i] : o[i + 1]])

    exercise = labels["exercise"]
    channels = arr("channels")  # the clip's seven channels, computed by the same code from its motion
    analysis = analyze_motion(
        channels.astype(np.float64), exercise=EXERCISES[exercise].signals_exercise, fps=motion.fps, body=motion.body
    ).to_dict()
    tau = arr("tau")
    peaks = peak_extensor_moments(tau, motion.body.dof_names, motion.body.mass_kg, exercise)
    step = _decimate(motion.fps)
    q = motion.q.numpy()[::step].astype(np.float32)
    q[:, [0, 2]] -= q[:1, [0, 2]]  # horizontal root position relative to the start; height kept
    names = labels["contact_names"]
    planted = arr("planted")[:, : len(names)].astype(bool)
    contact = np.stack(
        [planted[:, [k for k, n in enumerate(names) if n.startswith(_FOOT_POINTS) and n.endswith(s)]].any(1)
         for s in ("_r", "_l")], 1)  # fmt: skip
    body = motion.body
    decimated = Motion(motion.q[::step], motion.fps / step, body)
    measures = fault_measures(decimated, exercise, analysis)
    grf_in = grf_features(body, torch.from_numpy(q).double(), motion.fps / step)
    return CoachExample(
        index=i,
        split=labels.get("split", "train"),
        exercise=exercise,
        fps=motion.fps / step,
        inputs=encoder_inputs(channels[::step], arr("keypoints")[::step]),
        q=torch.from_numpy(q),
        contact=torch.from_numpy(contact[::step].astype(np.float32)),
        activations=torch.from_numpy(arr("activations")[::step].astype(np.float32)),
        tau=torch.from_numpy(tau[::step].astype(np.float32)),
        body={"height_m": body.height_m, "mass_kg": body.mass_kg, "sex": body.sex},
        faults={k: {"severity": float(v["severity"]), "side": v.get("side")} for k, v in labels["faults"].items()},
        analysis=analysis,
        peak_moments=peaks,
        measures=measures,
        grf=torch.from_numpy((arr("grf")[::step] / (body.mass_kg * -GRAVITY[1])).astype(np.float32)),
        grf_psi=grf_in.psi.float(),
        grf_feet=torch.stack([grf_in.heel, grf_in.toe], -2).float(),
    )


def grf_features(body: Any, q: torch.Tensor, fps: float):
    """:func:`musclepose.models.grf.grf_inputs` of ``q (T, 47)`` with velocities and accelerations
    by :func:`musclepose.motion.differentiate.derivatives` (the floor at y = 0)."""
    from ..models.grf import grf_inputs
    from ..motion.differentiate import derivatives

    qd, qdd = derivatives(q, fps)
    with torch.no_grad():
        return grf_inputs(body, q, qd, qdd)


def _prepare_bytes(args: tuple[str, int]) -> bytes:
    """:func:`_prepare`, pickled by value in the worker: torch's multiprocessing would otherwise pass
    every tensor as a shared-memory file descriptor, and thousands of clips exhaust the process's
    descriptor limit ("received 0 items of ancdata")."""
    return pickle.dumps(_prepare(args), protocol=pickle.HIGHEST_PROTOCOL)


def load_examples(
    paths: str | Path | list[str | Path], splits: tuple[str, ...] | None = None, workers: int | None = None,
    limit: int | None = None, progress: bool = True,
) -> list[CoachExample]:  # fmt: skip
    """Prepare the clips of ``paths`` (HDF5 files of :func:`musclepose.sim.dataset.build_dataset`)
    in ``splits`` (None: all), on ``workers`` processes (default all cores)."""
    import h5py

    from .progress import progress_bar

    paths = [paths] if isinstance(paths, str | Path) else list(paths)
    jobs = []
    for p in paths:
        with h5py.File(p, "r") as f:
            splits_of = [json.loads(a).get("split", "train") for a in f["extra_attrs"][:]]
        jobs += [(str(p), i) for i, s in enumerate(splits_of) if splits is None or s in splits]
    jobs = jobs[:limit] if limit else jobs
    workers = workers or mp.cpu_count()
    out: list[CoachExample] = []
    with progress_bar("preparing clips", total=len(jobs), enabled=progress) as advance:
        if workers <= 1:
            for job in jobs:
                out.append(_prepare(job))
                advance()
        else:
            ctx = mp.get_context("spawn")
            with ctx.Pool(workers, initializer=torch.set_num_threads, initargs=(1,)) as pool:
                for blob in pool.imap(_prepare_bytes, jobs, chunksize=4):
                    out.append(pickle.loads(blob))  # our own workers' output, not a file
                    advance()
    return out
