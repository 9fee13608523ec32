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
from .faults import FAULTS, GRADE_CAPS, SEVERITY_BANDS, grade_cap, strength_word
from .types import Exercise, FaultInfo, FaultSpec, Limits, Measure, Observation, Phase, Rep, SymmetryNorms

__all__ = [
    "EXERCISES",
    "FAULTS",
    "FAULT_NAMES",
    "GRADE_CAPS",
    "SEVERITY_BANDS",
    "SIDED_FAULTS",
    "SymmetryNorms",
    "UPPER_BODY",
    "Exercise",
    "FaultInfo",
    "FaultSpec",
    "Limits",
    "Measure",
    "Observation",
    "Phase",
    "Rep",
    "exercise",
    "grade_cap",
    "measure_exercise",
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


def measure_exercise(observation: Observation, name: str) -> dict[str, float]:
    """The :class:`Measure` s of exercise ``name`` (e.g. a drop jump's landing measures) on
    ``observation``; one that cannot be measured (no landing, no kinetics) is left out."""
    ex = exercise(name)
    out: dict[str, float] = {}
    if ex is None:
        return out
    for mname, spec in ex.measures.items():
        try:
            v = float(spec.measure(observation))
        except (IndexError, KeyError, ValueError):
            continue
        if math.isfinite(v):
            out[mname] = v
    return out
