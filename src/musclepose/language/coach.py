"""What the LLM coach is told and taught, and how its text is checked.

- :func:`coach_summary`: the :class:`~.prompts.PhysicsSummary` of one clip from its analysis
  (``Analysis.to_dict()``), its peak joint moments (:func:`peak_extensor_moments`) and the
  faults the encoder's form screen found. It is the only description of the clip the coach
  sees (besides the PhysicsBridge's soft tokens).
- :func:`target_text`: the training target. The rule-based expert coach
  (:func:`musclepose.signals.coaching.coach_text`) writes it from the *same* measured facts
  as the summary, including the faults its form screen found, so every number and every
  fault the target states is one the prompt states: the LLM learns to report the
  measurements, never to invent numbers or faults. (Trained on the clips' true faults
  instead, the LLM learns that the screen is unreliable and guesses.) The target is never
  part of the prompt (``tests/language``).
- :func:`faults_mentioned` and :func:`ungrounded_numbers`: the evaluation's view of a
  generated text (which faults it names; which of its numbers the summary does not contain).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..catalogue import FAULTS, SIDED_FAULTS, UPPER_BODY, strength_word
from ..signals.coaching import CoachFacts, FaultFact, coach_text, fmt_value, peak_extensor_moments
from .prompts import DetectedFault, PhysicsSummary

__all__ = [
    "coach_summary",
    "faults_mentioned",
    "grounding_problems",
    "misstated_facts",
    "peak_extensor_moments",
    "target_text",
    "ungrounded_numbers",
]


def _median(values: list[Any]) -> float | None:
    v = [float(x) for x in values if isinstance(x, int | float) and np.isfinite(x)]
    return float(np.median(v)) if v else None


def coach_summary(
    exercise: str,
    analysis: Mapping[str, Any],
    peak_moments: Mapping[str, float] | None = None,
    faults: Sequence[DetectedFault] | None = (),
) -> PhysicsSummary:
    """The coach's summary of one clip (module docstring); ``analysis`` is ``Analysis.to_dict()``."""
    reps = analysis.get("reps") or []
    # A repetition without trusted frames has no depth (None): it is not stated.
    depth = max((float(r["depth_knee_flexion_deg"]) for r in reps if r.get("depth_knee_flexion_deg") is not None),
                default=None)  # fmt: skip
    tempos = [r.get("tempo") or {} for r in reps]
    grade = analysis.get("grade")
    return PhysicsSummary(
        exercise=exercise,
        n_reps=int(analysis.get("n_reps") or len(reps)),
        grade=grade,
        depth_deg=depth if exercise not in UPPER_BODY else None,
        eccentric_s=_median([t.get("eccentric_s") for t in tempos]),
        concentric_s=_median([t.get("concentric_s") for t in tempos]),
        peak_moments=dict(peak_moments or {}),
        faults=None if faults is None else tuple(faults),
    )


def _round(v: float | None, fmt: str) -> float | None:
    return None if v is None else float(fmt.format(v))


def target_text(
    summary: PhysicsSummary, true_faults: Mapping[str, Mapping[str, Any]] | None = None, rng: Any = None
) -> str:
    """The expert coach's text for the summary's facts.

    ``true_faults`` None (how the coach is trained): the faults of the summary's form screen,
    with its severities, so the text says exactly what the measurements say. Otherwise
    name -> ``{"severity": s, "side": "r"/"l"/None}`` (e.g. a clip's synthetic labels).
    Numbers are rounded as the summary prints them, so the text restates the prompt's values.
    """
    if true_faults is None:
        true_faults = {f.name: {"severity": f.severity, "side": f.side} for f in summary.faults or ()}
    shown = {f.name: f for f in summary.faults or ()}
    facts = CoachFacts(
        exercise=summary.exercise,
        n_reps=summary.n_reps,
        grade=summary.grade,
        depth_deg=_round(summary.depth_deg, "{:.0f}"),
        eccentric_s=_round(summary.eccentric_s, "{:.1f}"),
        concentric_s=_round(summary.concentric_s, "{:.1f}"),
        faults=tuple(_fact(name, f, shown.get(name)) for name, f in true_faults.items() if name in FAULTS),
        peak_moments=dict(summary.peak_moments),
    )
    return coach_text(facts, rng)


def _fact(name: str, true: Mapping[str, Any], shown: DetectedFault | None) -> FaultFact:
    """A true fault for the text; its side and measured value only if the prompt states them (as printed)."""
    side = shown.side if shown is not None and name in SIDED_FAULTS else None
    if shown is None or shown.value is None or not shown.what:
        return FaultFact(name, float(true["severity"]), side=side)
    value = float(fmt_value(shown.value, shown.unit))
    return FaultFact(name, float(true["severity"]), value, shown.unit, shown.what, side)


def _patterns() -> dict[str, re.Pattern]:
    out = {}
    for name, info in FAULTS.items():
        words = {info.label, name.replace("_", " ")}
        out[name] = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)), re.IGNORECASE)
    return out


_MENTION = _patterns()


def faults_mentioned(text: str) -> set[str]:
    """The faults a coaching text names (by the expert coach's label or the fault's name)."""
    return {name for name, pattern in _MENTION.items() if pattern.search(text)}


_STRENGTH = re.compile(r"\b(pronounced|moderate|slight)\b")
_LARGEST = re.compile(r"The ([a-z ]+?) carried the most: a peak moment of (\d+\.\d+) N·m/kg")


def misstated_facts(text: str, summary: PhysicsSummary) -> tuple[int, int]:
    """``(facts checked, facts stated wrongly)`` of a coaching text, for the statements whose
    truth the summary decides: the strength word of each screened fault the text names
    (``pronounced`` / ``moderate`` / ``slight``, the expert coach's bands of the screen's
    severity; the word in the same sentence as the fault's label) and the joint said to have
    "carried the most" with its moment (the largest of the summary's peak moments). Numbers
    that are absent from the summary are :func:`ungrounded_numbers`' business; these are
    grounded numbers and words put in the wrong place."""
    checked = wrong = 0
    for f in summary.faults or ():
        label = FAULTS[f.name].label if f.name in FAULTS else ""
        k = text.find(label) if label else -1
        if k < 0:
            continue
        end = text.find(". ", k)
        word = _STRENGTH.search(text[k : end if end >= 0 else len(text)])
        if word:
            checked += 1
            wrong += word.group(1) != strength_word(f.severity)
    if summary.peak_moments:
        joint, value = max(summary.peak_moments.items(), key=lambda kv: kv[1])
        for m in _LARGEST.finditer(text):
            checked += 1
            wrong += m.group(1) != joint or m.group(2) != f"{value:.2f}"
    return checked, wrong


def ungrounded_numbers(text: str, summary: PhysicsSummary) -> tuple[int, int]:
    """``(numbers stated, numbers the summary does not contain)`` for a generated text."""
    stated = re.findall(r"(?<![\w.])\d+(?:\.\d+)?", text)
    allowed = {n.lstrip("-") for n in summary.numbers()}
    return len(stated), sum(1 for n in stated if n not in allowed)


def grounding_problems(text: str, summary: PhysicsSummary) -> list[str]:
    """Why a generated coaching text cannot be shown as it is (empty when it can).

    The text must say something; name exactly the faults the form screen found (none left out,
    none added); state only numbers the physics summary holds; and put none of the summary's
    facts wrongly (:func:`misstated_facts`). The same checks as the coach evaluation, per text."""
    if not text or not text.strip():
        return ["the LLM wrote nothing"]
    problems = []
    screened = {f.name for f in summary.faults or ()}
    named = faults_mentioned(text)
    if screened - named:
        problems.append(f"it leaves out {', '.join(sorted(screened - named))}")
    if named - screened:
        problems.append(f"it names {', '.join(sorted(named - screened))}, which the form screen did not find")
    n, bad = ungrounded_numbers(text, summary)
    if bad:
        problems.append(f"{bad} of its {n} numbers are not in the measurements")
    n, bad = misstated_facts(text, summary)
    if bad:
        problems.append(f"it misstates {bad} of {n} checked facts")
    return problems
