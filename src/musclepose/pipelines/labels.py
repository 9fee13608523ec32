"""Label maps: the exercise or fault that each output of a checkpoint's classification heads means.

A checkpoint's ``config.json`` carries ``"labels": {"exercise": [...], "fault": [...]}``: the names
of the encoder's exercise logits and fault heads in index order (Hugging Face's ``id2label``).
Inference decodes with these lists, never with the code's constants, and maps them by name onto
what the code knows: a checkpoint whose lists are a permutation or a subset of the code's decodes
correctly; one that names an exercise or fault this code does not know is refused with an error
naming the checkpoint and those labels (:meth:`LabelMap.check`). A checkpoint without ``labels``
(written before they existed) is read with the lists it was trained with, which every coach
checkpoint records in its ``extra`` (``exercise_names``, ``fault_names``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..catalogue import EXERCISES, FAULT_NAMES, SIDED_FAULTS
from ..language.prompts import DetectedFault
from ..sim.exercises import GENERATORS

__all__ = ["EXERCISE_NAMES", "LabelMap", "detect_faults", "exercise_faults"]

# The exercise head of a coach trained now: the exercises the synthetic engine generates, sorted
# (the shipped checkpoint's order).
EXERCISE_NAMES: tuple[str, ...] = tuple(sorted(GENERATORS))


@dataclass(frozen=True)
class LabelMap:
    """The label lists of a checkpoint's heads, in output order."""

    exercises: tuple[str, ...]
    faults: tuple[str, ...]

    @classmethod
    def current(cls) -> LabelMap:
        """The code's lists: what a checkpoint trained now is trained with."""
        return cls(tuple(EXERCISE_NAMES), tuple(FAULT_NAMES))

    def to_json(self) -> dict[str, list[str]]:
        return {"exercise": list(self.exercises), "fault": list(self.faults)}

    @classmethod
    def from_config(cls, meta: dict[str, Any], where: str | Path) -> LabelMap:
        """The lists of a checkpoint's ``config.json`` (``meta``): ``labels``, else ``extra``'s
        ``exercise_names`` / ``fault_names`` (older checkpoints); ``where`` names it in errors."""
        doc = meta.get("labels")
        if doc is None:
            extra = meta.get("extra") or {}
            if "exercise_names" not in extra or "fault_names" not in extra:
                raise ValueError(f"{where}: the checkpoint has no label lists ('labels' in config.json)")
            doc = {"exercise": extra["exercise_names"], "fault": extra["fault_names"]}
        out = []
        for key in ("exercise", "fault"):
            names = doc.get(key)
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise ValueError(f"{where}: labels.{key} must be a list of names, not {names!r}")
            if len(set(names)) != len(names):
                raise ValueError(f"{where}: labels.{key} names a label twice: {names}")
            out.append(tuple(names))
        return cls(*out)

    def check(self, where: str | Path, exercises=tuple(EXERCISES), faults=FAULT_NAMES) -> LabelMap:
        """``self``, if every label is one the code knows (``exercises``, ``faults``); else a
        ``ValueError`` naming ``where`` and the unknown labels."""
        said = []
        for key, mine, known in (("exercise", self.exercises, exercises), ("fault", self.faults, faults)):
            unknown = [n for n in mine if n not in known]
            if unknown:
                said.append(f"{key} labels {unknown} are not among this code's {sorted(known)}")
        if said:
            raise ValueError(f"{where}: the checkpoint's labels differ from this code's: " + "; ".join(said))
        return self

    def check_heads(self, where: str | Path, n_exercises: int, n_faults: int) -> LabelMap:
        """``self``, if the lists are as long as the heads they name; else a ``ValueError``."""
        if (len(self.exercises), len(self.faults)) != (n_exercises, n_faults):
            raise ValueError(
                f"{where}: {len(self.exercises)} exercise and {len(self.faults)} fault labels for heads of "
                f"{n_exercises} exercises and {n_faults} faults"
            )
        return self

    def exercise(self, logits: torch.Tensor) -> str:
        """The exercise of the largest of ``logits (n_exercises,)``."""
        return self.exercises[int(logits.argmax())]


@functools.cache
def exercise_faults() -> dict[str, tuple[str, ...]]:
    """Exercise -> the faults its generator can inject (the form screen reports only these)."""
    return {name: tuple(spec.faults) for name, spec in EXERCISES.items()}


def detect_faults(out: Any, b: int, exercise: str, labels: LabelMap, threshold: float = 0.5) -> list[DetectedFault]:
    """The encoder's form screen of clip ``b`` of ``out`` (an ``EncoderOutput``): faults of ``exercise``
    whose probability passes ``threshold``, named by ``labels``; most severe first, ties by name."""
    allowed = exercise_faults().get(exercise, labels.faults)
    prob = torch.sigmoid(out.fault_logits[b]).tolist()
    sev = out.fault_severity[b].tolist()
    side = torch.sigmoid(out.fault_side_logits[b]).tolist()
    found = []
    for k, name in enumerate(labels.faults):
        if name in allowed and prob[k] >= threshold:
            s = ("r" if side[k] >= 0.5 else "l") if name in SIDED_FAULTS else None
            found.append(DetectedFault(name, round(prob[k], 2), round(sev[k], 2), s))
    return sorted(found, key=lambda f: (-f.severity, f.name))
