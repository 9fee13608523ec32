"""The question-answering data set: simulated clips, prepared once, split by subject (issue 16).

One recipe serves the trainer (``musclepose train coach-qa``) and the benchmark
(``benchmarks/eval_coach_qa.py``), so that both see the same clips: :func:`qa_dataset` simulates
``n`` clips of every exercise (faults at rate :data:`FAULT_RATE`, fatigue at :data:`FATIGUE_RATE`,
no sensor modalities) into ``<work>/qa_n{n}_s{seed}.h5`` unless it is there, and
:func:`qa_clips` prepares them as the coach sees a recording
(:func:`musclepose.pipelines.qa_examples.load_qa_clips`), cached beside the data as JSON lines.
Splits are the simulator's, by subject: a subject's clips are all in train, val or test.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from ..sim.dataset import build_dataset
from .qa_examples import QAClip, load_qa_clips

__all__ = ["FATIGUE_RATE", "FAULT_RATE", "clips_sha256", "file_sha256", "qa_clips", "qa_dataset", "split_clips"]

FAULT_RATE = 0.6
FATIGUE_RATE = 0.3


def qa_dataset(work: str | Path, n: int = 120, seed: int = 16, workers: int = 2,
               progress: Callable[[int], None] | None = None) -> Path:  # fmt: skip
    """The simulated data set ``<work>/qa_n{n}_s{seed}.h5``, made if absent (same seed, same clips)."""
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"qa_n{n}_s{seed}.h5"
    if not path.exists():
        build_dataset(path, n, seed=seed, fault_rate=FAULT_RATE, fatigue_rate=FATIGUE_RATE, modalities=[],
                      workers=workers, progress=progress)  # fmt: skip
    return path


def qa_clips(data: str | Path, checkpoint: str | Path, workers: int = 2, progress: bool = True) -> list[QAClip]:
    """Every clip of ``data`` prepared with the coach ``checkpoint`` (cached in ``<data>.qa.jsonl``)."""
    return load_qa_clips(data, checkpoint, None, cache=str(data) + ".qa.jsonl", workers=workers, progress=progress)


def split_clips(clips: list[QAClip]) -> dict[str, list[QAClip]]:
    """``clips`` by split (``train``, ``val``, ``test``; a split without clips is an empty list)."""
    out: dict[str, list[QAClip]] = {"train": [], "val": [], "test": []}
    for c in clips:
        out.setdefault(c.split, []).append(c)
    return out


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file (the data hash a checkpoint's card records)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def clips_sha256(clips: list[QAClip]) -> str:
    """The SHA-256 of prepared clips (their JSON, in order): what a model was trained or scored on,
    independent of the HDF5 file's own bytes."""
    h = hashlib.sha256()
    for c in clips:
        h.update(json.dumps(c.to_json(), sort_keys=True).encode())
    return h.hexdigest()
