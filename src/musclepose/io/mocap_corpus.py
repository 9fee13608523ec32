"""The real mocap in the reference data, split by person for the motion tokenizer.

Every recording of ``<refdata>/mocap`` that :func:`~.load.load_motion` reads onto our body, each
with its source and the person who performed it, in three splits that never share a person:

- ``test`` (touched once, by the benchmark): AddBiomechanics' Expert1 (OpenCap study; squats and
  walking, the OpenSim IK ``.mot``), UI-PRMD's subject s01 (Kinect; deep squat, inline lunge) and
  CMU subject 131 (``131_01.bvh``: start, walk, stop).
- ``val`` (for choosing the design): the MASS clips (8 BVH of walk, run, kick, dance, ...).
- ``train``: the CMU motion-prediction benchmark's training split (5 actions).

The files do not name the performers of the CMU prediction and MASS clips (both come from the
CMU database); the test people are from other studies (Expert1, UI-PRMD s01) or a CMU subject
whose trial is not among the benchmark's actions (131), so no test person is in train or val,
but train and val may share a CMU performer. DeepMimic's clips are read (:mod:`.deepmimic`) but are
not in the splits the shipped tokenizer was trained on (its data hashes would change); ``cmu_mocap6``
holds 12 joint angles only, not a whole body. Clips are resampled to one rate on loading.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..motion.core import Motion
from .errors import FormatError
from .load import load_motion

__all__ = ["SPLITS", "CorpusClip", "corpus_files", "load_corpus"]

#: split -> (source, person, path relative to the reference data's ``mocap`` folder or a glob).
SPLITS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "train": (("cmu_prediction", "cmu (unnamed)", "cmu_prediction/train/*/*.txt"),),
    "val": (("mass", "mass (unnamed)", "mass/*.bvh"),),
    "test": (
        ("addbiomechanics", "Expert1", "addbiomechanics_expert1/squats1.mot"),
        ("addbiomechanics", "Expert1", "addbiomechanics_expert1/walking1.mot"),
        ("uiprmd", "s01", "uiprmd_kinect/m01_s01_e01_positions.txt"),
        ("uiprmd", "s01", "uiprmd_kinect/m03_s01_e01_positions.txt"),
        ("cmu_bvh", "CMU 131", "cmu/131_01.bvh"),
    ),
}


@dataclass
class CorpusClip:
    """One recording on our body at the corpus rate."""

    name: str
    source: str
    person: str
    motion: Motion


def corpus_files(root: str | Path, split: str) -> list[tuple[str, str, Path]]:
    """``(source, person, path)`` of ``split`` under the reference data folder ``root``
    (a missing file or an empty glob is a :class:`FileNotFoundError` naming it)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known: {', '.join(SPLITS)}")
    mocap = Path(root) / "mocap"
    out: list[tuple[str, str, Path]] = []
    for source, person, pattern in SPLITS[split]:
        paths = sorted(mocap.glob(pattern)) if "*" in pattern else [mocap / pattern]
        if not paths or not all(p.is_file() for p in paths):
            raise FileNotFoundError(f"{mocap / pattern}: not found (reference data for the {split} split)")
        out += [(source, person, p) for p in paths]
    return out


def load_corpus(root: str | Path, split: str, fps: float = 20.0, min_frames: int = 8) -> list[CorpusClip]:
    """The clips of ``split`` at ``fps``; clips shorter than ``min_frames`` there are left out."""
    clips = []
    for source, person, path in corpus_files(root, split):
        native = load_motion(path, fps=fps) if source == "cmu_prediction" else load_motion(path)
        motion = native if abs(native.fps - fps) < 1e-6 * fps else native.resampled(fps)
        if not bool(motion.q.isfinite().all()):
            raise FormatError(path, "non-finite joint angles after loading")
        if len(motion) >= min_frames:
            clips.append(CorpusClip(path.stem, source, person, motion))
    return clips
