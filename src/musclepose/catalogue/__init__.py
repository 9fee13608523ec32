"""The one exercise catalogue: exercises, their faults, each fault's observable, severity bands
and the coaching words. Declared here once; the synthetic engine, the analysis, the form
screen and the coach read it.

Add an exercise: one :class:`Exercise` in :mod:`.exercises`. Add a fault: its
:class:`FaultInfo` in :mod:`.faults` and a :class:`FaultSpec` (with its observable, built from
:mod:`.observables`) in each exercise that shows it.
"""

from __future__ import annotations

import math

from .exercises import EXERCISES, exercise, normalise_exercise
from .faults import FAULTS, SEVERITY_BANDS, strength_word
from .types import Exercise, FaultInfo, FaultSpec, Observation, Phase, Rep

__all__ = [
    "EXERCISES",
    "FAULTS",
    "FAULT_NAMES",
    "SEVERITY_BANDS",
    "SIDED_FAULTS",
    "UPPER_BODY",
    "Exercise",
    "FaultInfo",
    "FaultSpec",
    "Observation",
    "Phase",
    "Rep",
    "exercise",
    "measure_faults",
    "normalise_exercise",
    "strength_word",
]

FAULT_NAMES: tuple[str, ...] = tuple(sorted(FAULTS))
SIDED_FAULTS: frozenset[str] = frozenset(n for n, f in FAULTS.items() if f.sided)
UPPER_BODY: frozenset[str] = frozenset(e.name for e in EXERCISES.values() if e.upper_body)


def measure_faults(observation: Observation, name: str) -> dict[str, float]:
    """Signed observable (``sign * measure``: larger = more of the fault) of each fault of exercise
    ``name`` on ``observation``; a fault whose observable cannot be measured (a phase the
    repetitions lack) is left out."""
    ex = exercise(name)
    out: dict[str, float] = {}
    if ex is None or not observation.reps:
        return out
    for fname, spec in ex.faults.items():
        try:
            v = float(spec.measure(observation)) * spec.sign
        except (IndexError, KeyError, ValueError):
            v = math.nan
        if math.isfinite(v):
            out[fname] = v
    return out
