"""A rule-based expert coach: feedback text from measured facts about one clip.

This writes the ``LANGUAGE`` supervision text of synthetic clips (the seed's clip-JSON field):
it names each fault, explains its biomechanical consequence with the clip's own numbers and
gives a cue, with varied phrasing. Rules of the text:

- every number in it comes from :class:`CoachFacts` (tested: the numbers of a text are a
  subset of ``facts.numbers()``); it never invents a value;
- faults are ordered by severity; without faults it says what went well;
- the text is a *target*: it must never be given to a model as input (the seed's
  implementation leaked it into the prompt; see ../shared/ARCHITECTURE.md).

The fault words, consequences and cues come from the catalogue (:mod:`musclepose.catalogue.faults`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..catalogue import FAULTS, UPPER_BODY, strength_word

__all__ = [
    "CoachFacts",
    "FaultFact",
    "coach_text",
    "fmt_value",
    "numbers_in",
    "peak_extensor_moments",
]


_LOWER = (
    ("hip extensors", "hip_flexion"),
    ("knee extensors", "knee_flexion"),
    ("ankle plantarflexors", "ankle_dorsiflexion"),
)
_UPPER = (("elbow muscles", "elbow_flexion"), ("shoulder muscles", "shoulder_flexion"))


def peak_extensor_moments(tau: np.ndarray, dof_names, mass_kg: float, exercise: str) -> dict[str, float]:
    """The coach's peak joint moments, N m/kg, rounded to 2 decimals, from ``tau (T, 47)`` (N m).

    Lower-body exercises: the largest extensor (negative) moment of hip, knee and ankle over
    both sides; upper body: the largest absolute elbow and shoulder flexion moment.
    """
    tau = np.asarray(tau, dtype=np.float64) / float(mass_kg)
    idx = {n: i for i, n in enumerate(dof_names)}
    if exercise in UPPER_BODY:
        return {label: round(float(max(np.abs(tau[:, idx[f"{dof}_{s}"]]).max() for s in "rl")), 2)
                for label, dof in _UPPER}  # fmt: skip
    return {label: round(float(max(-tau[:, idx[f"{dof}_{s}"]].min() for s in "rl")), 2) for label, dof in _LOWER}


@dataclass(frozen=True)
class FaultFact:
    """One detected fault: ``name`` (e.g. ``"knee_valgus"``), ``severity`` in [0, 1], and the
    measured quantity that shows it (``value`` in ``unit``, described by ``what``), if any."""

    name: str
    severity: float
    value: float | None = None
    unit: str = ""
    what: str = ""
    side: str | None = None


@dataclass(frozen=True)
class CoachFacts:
    """What the coach may say about one clip. Numbers are rounded as they will be printed."""

    exercise: str
    n_reps: int
    grade: str | None = None
    depth_deg: float | None = None
    eccentric_s: float | None = None
    concentric_s: float | None = None
    faults: tuple[FaultFact, ...] = ()
    peak_moments: dict[str, float] = field(default_factory=dict)  # label -> N m/kg (positive magnitudes)

    def numbers(self) -> set[str]:
        """Every number the text may contain, formatted as the text formats it."""
        out = {str(self.n_reps)}
        for v, fmt in ((self.depth_deg, "{:.0f}"), (self.eccentric_s, "{:.1f}"), (self.concentric_s, "{:.1f}")):
            if v is not None:
                out.add(fmt.format(v))
        for f in self.faults:
            if f.value is not None:
                out.add(fmt_value(f.value, f.unit))
        out |= {f"{v:.2f}" for v in self.peak_moments.values()}
        return out


def fmt_value(v: float, unit: str) -> str:
    """A fault's measured value as the coach writes it (deg and % whole, m and N m/kg to 0.01, else 0.1)."""
    return f"{v:.0f}" if unit in ("deg", "%") else f"{v:.2f}" if unit in ("m", "N·m/kg") else f"{v:.1f}"


def numbers_in(text: str) -> set[str]:
    """The numbers written in ``text`` (as strings, e.g. ``{"3", "104", "1.2"}``)."""
    return set(re.findall(r"(?<![\w.])\d+(?:\.\d+)?", text))


_OPEN = (
    "{n} {reps} of {ex}{grade}.",
    "That was {n} {reps} of {ex}{grade}.",
    "I counted {n} {reps} of {ex}{grade}.",
)
_GOOD = (
    "Depth and control look solid; keep this quality as the load goes up.",
    "Your form is consistent from repetition to repetition; nice work.",
    "Clean repetitions: keep the same position and rhythm.",
)


def _measure(f: FaultFact) -> str:
    if f.value is None:
        return ""
    head, _, qualifier = f.what.partition(", ")
    tail = f", {qualifier}" if qualifier else ""
    return f" ({head} {fmt_value(f.value, f.unit)} {f.unit}{tail})".replace(" %", "%") if f.what else ""


def coach_text(facts: CoachFacts, rng: np.random.Generator | int | None = None) -> str:
    """Feedback for one clip: opening, one sentence group per fault (by severity), a closing."""
    rng = np.random.default_rng(rng)
    pick = lambda options: options[int(rng.integers(len(options)))]  # noqa: E731
    ex = facts.exercise.replace("_", " ")
    grade = f", grade {facts.grade}" if facts.grade else ""
    parts = [pick(_OPEN).format(n=facts.n_reps, reps="repetition" if facts.n_reps == 1 else "repetitions", ex=ex,
                                grade=grade)]  # fmt: skip
    if facts.depth_deg is not None and facts.exercise in ("squat", "lunge", "sit_to_stand", "deadlift"):
        parts.append(f"Peak knee flexion was {facts.depth_deg:.0f} degrees.")
    if facts.eccentric_s is not None and facts.concentric_s is not None:
        parts.append(
            pick(
                (
                    "You lowered in {e:.1f} s and rose in {c:.1f} s.",
                    "Each repetition took {e:.1f} s down and {c:.1f} s up.",
                )
            ).format(e=facts.eccentric_s, c=facts.concentric_s)
        )
    faults = sorted((f for f in facts.faults if f.name in FAULTS), key=lambda f: -f.severity)
    for k, f in enumerate(faults):
        label, consequence, cues = FAULTS[f.name].label, FAULTS[f.name].consequence, FAULTS[f.name].cues
        side = {"r": " on the right", "l": " on the left"}.get(f.side or "", "")
        strength = strength_word(f.severity)
        lead = pick(
            (
                "I see {l}{side}{m}; it is {s}.",
                "Watch out for {l}{side}{m}, which is {s}.",
                "The main thing to fix is {l}{side}{m} ({s})." if k == 0 else "There is also {l}{side}{m} ({s}).",
            )
        )
        parts.append(lead.format(s=strength, l=label, side=side, m=_measure(f)))
        parts.append(f"This matters because {consequence}.")
        cue = pick(cues)
        parts.append(pick(("Cue: {c}.", "Try this: {c}.", "Focus on this: {c}.")).format(c=cue[0].upper() + cue[1:])
                     if k == 0 else f"Also, {cue}.")  # fmt: skip
    if facts.peak_moments and faults:
        joint, value = max(facts.peak_moments.items(), key=lambda kv: kv[1])
        parts.append(f"The {joint} carried the most: a peak moment of {value:.2f} N·m/kg.")
    if not faults:
        parts.append(pick(_GOOD))
    return " ".join(parts)
