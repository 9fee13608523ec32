"""The catalogue's types: an exercise, a fault's observable, what a coach says about a fault,
and the repetitions and motion an observable reads.

An observable is a function of an :class:`Observation` (a motion, its repetitions, its
forward kinematics computed once) returning one number in the unit its ``shows`` text names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import torch

from ..body import FKResult, forward_kinematics
from ..motion import Motion

__all__ = ["Exercise", "FaultInfo", "FaultSpec", "Observation", "Phase", "Rep"]


@dataclass(frozen=True)
class Phase:
    """One phase of a repetition (``eccentric``, ``bottom``, ``concentric``, ``lockout``), in s."""

    name: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Rep:
    """A repetition as observables read it: times in s, its phases, and the lead (front) leg."""

    start_s: float
    extreme_s: float
    end_s: float
    phases: tuple[Phase, ...] = ()
    lead: str | None = None  # "r" / "l": the foot further forward at the extreme (lunges)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Rep:
        """From the generator's / the dataset's layout (``phases`` as ``{name, start_s, end_s}``)."""
        phases = tuple(Phase(p["name"], float(p["start_s"]), float(p["end_s"])) for p in d.get("phases", ()))
        return cls(float(d["start_s"]), float(d["extreme_s"]), float(d["end_s"]), phases, d.get("lead"))


@dataclass
class Observation:
    """A motion with its repetitions; ``fk`` is computed once (float64, CPU) and shared by observables."""

    motion: Motion
    reps: Sequence[Rep]
    _fk: FKResult | None = field(default=None, repr=False)

    @cached_property
    def fk(self) -> FKResult:
        if self._fk is not None:
            return self._fk
        with torch.no_grad():
            return forward_kinematics(self.motion.body, self.motion.q.detach().to(torch.float64).cpu())

    @property
    def fps(self) -> float:
        return float(self.motion.fps)


@dataclass(frozen=True)
class FaultSpec:
    """How one fault shows in one exercise.

    ``measure(observation) -> float`` is the quantity a coach would look at (its unit in
    ``shows``); more of the fault moves it in the direction ``sign`` (+1 up, -1 down).
    """

    name: str
    description: str
    shows: str
    measure: Callable[[Observation], float]
    sign: int = 1

    def unit_and_what(self) -> tuple[str, str]:
        """``shows`` split for a sentence: ``"hip adduction at the bottom (deg, rep max)"`` ->
        ``("deg", "hip adduction at the bottom, rep max")``."""
        shows = self.shows.replace("_", " ")
        inside = shows[shows.rfind("(") + 1 : -1] if shows.endswith(")") else ""
        unit, _, qualifier = inside.partition(", ")
        what = (shows[: shows.rfind("(")].strip() if inside else shows) + (f", {qualifier}" if qualifier else "")
        return unit, what


@dataclass(frozen=True)
class FaultInfo:
    """What a coach says about a fault, whatever the exercise: its name in words, why it matters, cues."""

    label: str
    consequence: str
    cues: tuple[str, ...]
    sided: bool = False  # it can happen on one side (the screen reports which)


@dataclass(frozen=True)
class Exercise:
    """One exercise.

    ``primary``: the channel whose excursions are the repetitions (:mod:`musclepose.signals.channels`;
    ``None``: chosen from the data). ``eccentric_first``: whether the movement away from rest
    lowers the body or load (``None``: inferred from the data). ``faults``: the faults it is
    screened for, each with its observable. ``depth``: what its depth number means.
    """

    name: str
    description: str
    primary: str | None
    eccentric_first: bool | None
    faults: Mapping[str, FaultSpec] = field(default_factory=dict)
    depth: str = ""
    cyclic: bool = False
    upper_body: bool = False
    aliases: tuple[str, ...] = ()
