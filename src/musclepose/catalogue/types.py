"""The catalogue's types: an exercise, a fault's observable, what a coach says about a fault,
an exercise's physiological limits and normal side differences, and the repetitions and motion
an observable reads.

An observable is a function of an :class:`Observation` (a motion, its repetitions, its
forward kinematics computed once) returning one number in the unit its ``shows`` text names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

import torch

from ..body import FKResult, forward_kinematics
from ..body.contact import foot_contact
from ..motion import Motion

__all__ = [
    "MAX_MOMENTS_NM_PER_KG",
    "Exercise",
    "FaultInfo",
    "FaultSpec",
    "Limits",
    "Measure",
    "Observation",
    "Phase",
    "Rep",
    "SymmetryNorms",
]


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
    """A motion with its repetitions; ``fk`` is computed once (float64, CPU) and shared by observables.

    ``grf_bw``: vertical ground reaction per foot (``"foot_r"``, ``"foot_l"`` -> ``(T,)`` body weights),
    for the measures that need kinetics (landing, running); None without kinetics. ``trusted``:
    ``(T,)`` bool, the frames a finding may come from (the motion's flagged frames left out); None: all.
    """

    motion: Motion
    reps: Sequence[Rep]
    _fk: FKResult | None = field(default=None, repr=False)
    grf_bw: Mapping[str, Any] | None = None
    trusted: Any = None

    @cached_property
    def fk(self) -> FKResult:
        if self._fk is not None:
            return self._fk
        with torch.no_grad():
            return forward_kinematics(self.motion.body, self.motion.q.detach().to(torch.float64).cpu())

    @property
    def fps(self) -> float:
        return float(self.motion.fps)

    @cached_property
    def contact(self) -> Any:
        """``(T, 2)`` contact weight in [0, 1] of the right and left foot with the floor
        (:func:`musclepose.body.contact.foot_contact`, from the kinematics)."""
        m = self.motion
        q = m.q.detach().to(torch.float64).cpu()
        with torch.no_grad():
            qd = m.velocity().detach().to(torch.float64).cpu() if m.n_frames > 3 else torch.zeros_like(q)
            return foot_contact(m.body, q, qd).weight.numpy()


@dataclass(frozen=True)
class FaultSpec:
    """How one fault shows in one exercise.

    ``measure(observation) -> float`` is the quantity a coach would look at (its unit in
    ``shows``); more of the fault moves it in the direction ``sign`` (+1 up, -1 down).
    ``threshold``: a published cut-off on the signed measure (``sign * measure``), used where no
    screen has been fitted for the exercise (no synthetic generator), with its ``source``.
    ``normal``: the largest signed measure healthy people show (published, in ``source``); no
    screen reports the fault at or below it.
    """

    name: str
    description: str
    shows: str
    measure: Callable[[Observation], float]
    sign: int = 1
    threshold: float | None = None
    source: str = ""
    normal: float | None = None

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


#: Peak net joint moment magnitudes (N m/kg) no exercise exceeds: the largest published values, from
#: sprinting, jumping and landing, are about 4-5 N m/kg at the hip, knee and ankle (Schache et al.
#: 2011, Med Sci Sports Exerc 43:1260; Decker et al. 2003, Clin Biomech 18:662) and lifting's L5/S1
#: moments stay below ~5 N m/kg even at maximal loads (Cholewicki et al. 1991, Med Sci Sports Exerc 23:1179).
MAX_MOMENTS_NM_PER_KG: Mapping[str, float] = MappingProxyType(
    {"hip": 6.0, "knee": 6.0, "ankle": 5.0, "lumbar": 6.0, "thoracic": 6.0, "neck": 2.0, "scapula": 3.0,
     "shoulder": 3.0, "elbow": 2.5, "wrist": 1.5}
)  # fmt: skip


@dataclass(frozen=True)
class Limits:
    """The physiological range of an exercise: a value beyond it is an artefact (a poor fit, a
    support or load the analysis does not know), reported as unreliable, never as a finding.

    ``moment_nm_per_kg``: peak net joint moment magnitude per joint (``"hip"``, ``"knee"``, ...;
    N m/kg); ``grf_bw``: peak vertical ground reaction per foot (body weights);
    ``joint_speed_deg_s``: any joint's angular speed; ``source``: where the numbers come from."""

    joint_speed_deg_s: float = 1500.0
    moment_nm_per_kg: Mapping[str, float] = field(default_factory=lambda: MAX_MOMENTS_NM_PER_KG)
    grf_bw: float = 4.0
    source: str = ""

    def moment(self, dof: str) -> float:
        """The limit (N m/kg) for a DoF name, e.g. ``"hip_flexion_r"`` -> the ``"hip"`` limit."""
        joint = dof.split("_")[0]
        return float(self.moment_nm_per_kg.get(joint, MAX_MOMENTS_NM_PER_KG.get(joint, 6.0)))


@dataclass(frozen=True)
class SymmetryNorms:
    """Side-to-side differences within which healthy people perform the exercise: ``depth_deg``
    (peak knee or elbow flexion per repetition), ``moment_pct`` (peak extensor moments,
    ``|R - L| / mean``), ``load_share_pct`` (share of the vertical impulse or of the weight on the
    right, ``|share - 50|``)."""

    depth_deg: float = 5.0
    moment_pct: float = 15.0
    load_share_pct: float = 5.0
    source: str = (
        "load share 45-55 % (Sato & Heise 2012, J Strength Cond Res 26:342; limb symmetry index >= 90 %, "
        "Noyes et al. 1991, Am J Sports Med 19:513); moments within 15 % (Flanagan & Salem 2007, J Strength "
        "Cond Res 21:1220); depth within 5 deg, the size of marker-based joint-angle errors (McGinley et al. "
        "2009, Gait Posture 29:360)"
    )


@dataclass(frozen=True)
class Measure:
    """A number reported for an exercise that is not a fault (e.g. a landing's peak vertical ground
    reaction): ``measure(observation)`` in the unit ``shows`` names, with the ``normal`` range
    ``(low, high)`` healthy people show (None: none published) and its ``source``."""

    name: str
    shows: str
    measure: Callable[[Observation], float]
    normal: tuple[float, float] | None = None
    source: str = ""


@dataclass(frozen=True)
class Exercise:
    """One exercise.

    ``primary``: the channel whose excursions are the repetitions (:mod:`musclepose.signals.channels`;
    ``None``: chosen from the data). ``eccentric_first``: whether the movement away from rest
    lowers the body or load (``None``: inferred from the data). ``faults``: the faults it is
    screened for, each with its observable. ``depth``: what its depth number means. ``limits``:
    its physiological range (:class:`Limits`); ``symmetry``: normal side differences;
    ``flight``: the feet leave the ground as part of it (jumps, running; a flight phase in any
    other exercise means the recording is something else); ``measures``: numbers reported for
    it besides the faults (:class:`Measure`).
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
    limits: Limits = field(default_factory=Limits)
    symmetry: SymmetryNorms = field(default_factory=SymmetryNorms)
    flight: bool = False
    measures: Mapping[str, Measure] = field(default_factory=dict)
