"""The IMU-pose corpus: real mocap and synthetic exercise motions with exact simulated IMUs, split by subject.

:func:`build_corpus` turns every usable motion in the reference data (``MUSCLEPOSE_REFDATA``)
and clips of the synthetic exercise engine into :class:`Sequence` records at the model's rate
(:data:`MODEL_FPS`): the true segment rotations and root
positions (forward kinematics) and, for ``versions`` randomised sensor placements
(:func:`~musclepose.sim.sensors.perturb_sites`, the seed's 5 cm / 15 deg), the exact sensor
readings of every slot (:func:`~musclepose.sim.sensors.imu_from_motion`: specific force in the
sensor frame and the sensor's orientation). Device errors, orientation-filter errors and
calibration residuals are drawn per training window (:func:`.sensors.imu_worn.worn_imu_errors`), not here.

Sources and splits (a subject or recording is in one split only):

- AddBiomechanics Expert1 ``squats1.mot``, ``walking1.mot`` (OpenSim IK; one real subject): test;
- CMU ``131_01.bvh`` (subject 131): test;
- UI-PRMD Kinect ``m01``/``m03`` of subject s01 (keypoint IK): test;
- CMU motion-prediction training files (keypoint IK of the benchmark's joint centres; performers
  not given, so split by file): ``*_5.txt`` validation, the rest training;
- MASS BVH clips (one performer per clip unknown): ``walk``, ``run`` validation, the rest training;
- the synthetic engine: subjects drawn by :func:`musclepose.sim.clip.make_subjects`, split by subject.

DeepMimic clips are not used (no reader for its character's joint layout yet); the labelled
UI-PRMD folder holds only bone offsets without the joint angles, which carry the motion.
Saved with ``torch.save`` as plain tensors, strings and numbers (``torch.load(weights_only=True)``).
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.interpolate import CubicSpline

from ..body import forward_kinematics
from ..catalogue import FAULT_NAMES
from ..io import cmu_prediction as cmu
from ..io.load import load_motion
from ..motion import Motion
from ..motion.keypoint_ik import keypoint_ik
from .clip import clip_params_for, make_subjects
from .exercises import GENERATORS
from .sensors import imu_from_motion, imu_sites, perturb_sites
from .sensors.imu_worn import SLOTS

MODEL_FPS = 30.0  # the IMU pose model's rate (musclepose.pipelines.imu_features re-exports it)
EXERCISE_NAMES: tuple[str, ...] = tuple(sorted(GENERATORS))  # the order of the exercise head (pipelines.labels)

__all__ = [
    "EXERCISE_NAMES",
    "MODEL_FPS",
    "Sequence",
    "build_corpus",
    "corpus_sources",
    "load_corpus",
    "save_corpus",
    "sequence_from_motion",
]

# Benchmark joint (position = the start of the bone of that name) -> our point.
_CMU_POINTS = {
    "lfemur": "left_hip", "ltibia": "left_knee", "lfoot": "left_ankle", "ltoes": "left_toe",
    "rfemur": "right_hip", "rtibia": "right_knee", "rfoot": "right_ankle", "rtoes": "right_toe",
    "lhumerus": "left_shoulder", "lradius": "left_elbow", "lwrist": "left_wrist",
    "rhumerus": "right_shoulder", "rradius": "right_elbow", "rwrist": "right_wrist", "lowerneck": "neck",
}  # fmt: skip


@dataclass
class Sequence:
    """One motion with its simulated sensors at the model's rate (tensors float32)."""

    name: str
    source: str
    subject: str
    split: str
    fps: float
    rot: torch.Tensor  # (T, 18, 3, 3) segment rotations, world
    root: torch.Tensor  # (T, 3) pelvis origin, m
    offsets: torch.Tensor  # (18, 3) segment origins in the parent frame (the body's)
    acc: torch.Tensor  # (K, T, S, 3) specific force in the sensor frame, m/s^2
    srot: torch.Tensor  # (K, T, S, 3, 3) sensor orientation, world
    exercise: int = -1  # index in EXERCISE_NAMES, -1 unknown
    faults: torch.Tensor = field(default_factory=lambda: torch.zeros(len(FAULT_NAMES)))

    @property
    def n_frames(self) -> int:
        return int(self.rot.shape[0])


def sequence_from_motion(
    motion: Motion,
    name: str,
    source: str,
    subject: str,
    split: str,
    versions: int = 2,
    seed: int = 0,
    filter_hz: float | None = 6.0,
    exercise: str | None = None,
    faults: Iterable[str] = (),
    fps: float = MODEL_FPS,
) -> Sequence:
    """The :class:`Sequence` of ``motion``: FK at ``fps`` and ``versions`` perturbed sensor placements.

    Recordings are low-passed at ``filter_hz`` first (the IMU's second derivatives amplify
    mocap noise by ``fps^2``); synthetic motions are smooth (None)."""
    if filter_hz is not None and motion.n_frames > 30 and filter_hz < 0.45 * motion.fps:
        motion = motion.filtered(filter_hz)
    n = int(math.floor(motion.duration * fps + 1e-9)) + 1
    t = np.arange(n) / fps
    q = torch.as_tensor(CubicSpline(motion.times, motion.q.numpy(), axis=0, bc_type="natural")(t))
    fk = forward_kinematics(motion.body, q)
    base = imu_sites(motion.body, SLOTS)
    g = torch.Generator().manual_seed(seed)
    acc, srot = [], []
    for _ in range(versions):
        sig = imu_from_motion(motion, perturb_sites(base, g), fps=fps, magnetic_field=None)
        acc.append(sig.acc[:n].float())
        srot.append(sig.rotation[:n].float())
    f = torch.zeros(len(FAULT_NAMES))
    for k in faults:
        if k in FAULT_NAMES:
            f[FAULT_NAMES.index(k)] = 1.0
    return Sequence(
        name=name, source=source, subject=subject, split=split, fps=float(fps),
        rot=fk.rotations.float(), root=fk.origins[:, 0].float(),
        offsets=motion.body.tensors(torch.float32).offsets.clone(),
        acc=torch.stack(acc), srot=torch.stack(srot),
        exercise=EXERCISE_NAMES.index(exercise) if exercise in EXERCISE_NAMES else -1, faults=f,
    )  # fmt: skip


def _cmu_prediction_motion(path: Path) -> list[Motion]:
    """Keypoint IK of a benchmark file's joint centres at 30 Hz, cut at its bad frames."""
    x = cmu.read_cmu_prediction(path)
    issues = cmu.check_frames(x, cmu.FILE_FPS)
    out = []
    for a, b in cmu.continuous_segments(len(x), issues, min_len=120):
        seg = x[a:b:4]  # 120 -> 30 Hz
        pos = cmu.forward_kinematics(seg, root=True) * cmu.UNIT_M
        idx = [cmu.JOINT_NAMES.index(j) for j in _CMU_POINTS]
        out.append(keypoint_ik(list(_CMU_POINTS.values()), pos[:, idx], 30.0, metadata={"source": str(path)}))
    return out


def corpus_sources(refdata: Path) -> list[tuple[str, str, str, str, Callable[[], list[Motion]]]]:
    """``(name, source, subject, split, load)`` of every real recording used (module docstring)."""
    m = refdata / "mocap"
    out: list[tuple[str, str, str, str, Callable[[], list[Motion]]]] = []
    for trial in ("squats1", "walking1"):
        p = m / "addbiomechanics_expert1" / f"{trial}.mot"
        out.append((trial, str(p), "addb_expert1", "test", lambda p=p: [load_motion(p)]))
    p = m / "cmu" / "131_01.bvh"
    out.append(("cmu_131_01", str(p), "cmu_131", "test", lambda p=p: [load_motion(p, fps=30.0)]))
    for mv in ("m01", "m03"):
        p = m / "uiprmd_kinect" / f"{mv}_s01_e01_positions.txt"
        out.append((f"uiprmd_{mv}", str(p), "uiprmd_s01", "test", lambda p=p: [load_motion(p)]))
    for _, files in sorted(cmu.find_files(m / "cmu_prediction" / "train").items()):
        for f in files:
            split = "val" if f.stem.endswith("_5") else "train"
            out.append((f"cmupred_{f.stem}", str(f), f"cmupred_{f.stem}", split,
                        lambda f=f: _cmu_prediction_motion(f)))  # fmt: skip
    for f in sorted((m / "mass").glob("*.bvh")):
        split = "val" if f.stem in ("walk", "run") else "train"
        out.append((f"mass_{f.stem}", str(f), f"mass_{f.stem}", split, lambda f=f: [load_motion(f, fps=30.0)]))
    return out


def build_corpus(
    refdata: Path | None,
    n_synthetic: int = 160,
    n_subjects: int = 30,
    versions: int = 2,
    seed: int = 0,
    duration_s: float = 20.0,
    log: Callable[[str], None] = print,
) -> list[Sequence]:
    """Every sequence of the corpus (module docstring); ``refdata`` None: the synthetic part only."""
    seqs: list[Sequence] = []
    if refdata is not None:
        for k, (name, src, subject, split, load) in enumerate(corpus_sources(Path(refdata))):
            t0 = time.perf_counter()
            try:
                motions = load()
            except (ValueError, OSError) as err:  # a source that cannot be read is reported, not fatal
                log(f"skipped {name}: {err}")
                continue
            for j, mo in enumerate(motions):
                nm = name if len(motions) == 1 else f"{name}#{j}"
                seqs.append(sequence_from_motion(mo, nm, src, subject, split, versions, seed + 7919 * k + j))
            log(f"{name}: {sum(mo.n_frames for mo in motions)} frames ({split}) in {time.perf_counter() - t0:.1f} s")
    subjects = make_subjects(seed, n_subjects)
    for i in range(n_synthetic):
        cp, subj = clip_params_for(seed, i, subjects, duration_s=duration_s)
        mo = cp.generate()
        seqs.append(sequence_from_motion(
            mo, f"synthetic_{i:04d}", "musclepose.sim", subj["subject"], subj["split"], versions, seed + 104729 + i,
            filter_hz=None, exercise=cp.exercise, faults=list(cp.faults),
        ))  # fmt: skip
        if (i + 1) % 20 == 0:
            log(f"synthetic: {i + 1} of {n_synthetic} clips")
    return seqs


def save_corpus(seqs: list[Sequence], path: Path, info: dict[str, Any] | None = None) -> str:
    """Write the corpus (``torch.save`` of plain tensors) atomically; returns its SHA-256."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save({"format": "musclepose.imu_pose_corpus", "version": 1, "info": info or {},
                "sequences": [asdict(s) for s in seqs]}, tmp)  # fmt: skip
    os.replace(tmp, path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_corpus(path: Path) -> tuple[list[Sequence], dict[str, Any]]:
    """The sequences and info of a corpus file (no pickle: ``weights_only=True``)."""
    doc = torch.load(Path(path), weights_only=True)
    if not isinstance(doc, dict) or doc.get("format") != "musclepose.imu_pose_corpus":
        raise ValueError(f"{path}: not an IMU-pose corpus")
    return [Sequence(**s) for s in doc["sequences"]], doc.get("info", {})


if __name__ == "__main__":  # pragma: no cover - a build entry for background jobs
    import sys

    torch.set_num_threads(1)
    out = Path(sys.argv[1])
    ref = Path(os.environ.get("MUSCLEPOSE_REFDATA", "../shared/data"))
    n_syn = int(sys.argv[2]) if len(sys.argv) > 2 else 160
    t0 = time.perf_counter()
    seqs = build_corpus(ref, n_synthetic=n_syn)
    digest = save_corpus(seqs, out, {"refdata": str(ref), "n_synthetic": n_syn, "seconds": time.perf_counter() - t0})
    print(f"wrote {out}: {len(seqs)} sequences, {sum(s.n_frames for s in seqs)} frames, sha256 {digest}")
