"""Coach examples: the clips of a dataset (HDF5) prepared as the coach sees them, with their labels.

One :class:`CoachExample` per clip, at ``ENCODER_FPS`` (:mod:`.coach_inputs`): the encoder's
inputs; the targets that training fits (``q`` with the horizontal root translation relative to
the first frame, foot contact, static-optimisation activations, the clip's inverse dynamics
``tau``, ground reactions in body weights, anthropometrics, the exercise and its faults); the
analysis of the clip's motion (:func:`musclepose.signals.analyze_motion`, the code that analyses
a recording), its peak moments and fault observables: the facts of the coach's summary.
Training and evaluation both read them. The clip's ``language`` label is never read here.
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
from ..io.errors import FormatError, check_input_path
from ..io.hdf5 import MotionDatasetReader
from ..language.coach import peak_extensor_moments
from ..motion import Motion
from ..progress import progress_bar
from ..signals import analyze_motion
from .coach_inputs import decimation, encoder_inputs, grf_features
from .form_screen import fault_measures

__all__ = ["CoachExample", "dataset_splits", "load_examples"]

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


_READER: dict[str, Any] = {}


def _prepare(args: tuple[str, int]) -> CoachExample:
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
        channels.astype(np.float64), exercise=exercise, fps=motion.fps, body=motion.body
    ).to_dict()
    tau = arr("tau")
    peaks = peak_extensor_moments(tau, motion.body.dof_names, motion.body.mass_kg, exercise)
    step = decimation(motion.fps)
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


def _prepare_bytes(args: tuple[str, int]) -> bytes:
    """:func:`_prepare`, pickled by value in the worker: torch's multiprocessing would otherwise pass
    every tensor as a shared-memory file descriptor, and thousands of clips exhaust the process's
    descriptor limit ("received 0 items of ancdata")."""
    return pickle.dumps(_prepare(args), protocol=pickle.HIGHEST_PROTOCOL)


def dataset_splits(path: str | Path) -> list[str]:
    """The split of each clip of a dataset file (cheap: no clip is read); a file that is not a dataset
    of ``musclepose simulate`` is a :class:`FormatError` naming it, a missing one an ``OSError``."""
    path = Path(path)
    import h5py  # heavy, optional at import time (as in musclepose.io.hdf5)

    check_input_path(path, what="dataset")
    try:
        f = h5py.File(path, "r")
    except OSError:
        raise FormatError(path, "not an HDF5 file (a dataset written by `musclepose simulate`)") from None
    with f:
        if "extra_attrs" not in f:
            raise FormatError(path, "not a dataset written by `musclepose simulate`", field="extra_attrs")
        try:
            return [str(json.loads(a).get("split", "train")) for a in f["extra_attrs"][:]]
        except (ValueError, TypeError, AttributeError) as err:
            raise FormatError(path, f"a clip's attributes are not a JSON object ({err})", field="extra_attrs") from None


def load_examples(
    paths: str | Path | list[str | Path], splits: tuple[str, ...] | None = None, workers: int | None = None,
    limit: int | None = None, progress: bool = True,
) -> list[CoachExample]:  # fmt: skip
    """Prepare the clips of ``paths`` (HDF5 files of :func:`musclepose.sim.dataset.build_dataset`)
    in ``splits`` (None: all), on ``workers`` processes (default all cores)."""
    paths = [paths] if isinstance(paths, str | Path) else list(paths)
    jobs = []
    for p in paths:
        splits_of = dataset_splits(p)
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
