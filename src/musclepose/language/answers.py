"""Answers to questions about a set, from its event table: the rule-based answerer, the LLM's prompt, the check.

:func:`answer_question` answers a :class:`~.questions.Question` from a
:class:`~musclepose.signals.rep_events.MotionEvents` (and the previous file's, for ``compare``):
every number it states is one of the table's, and each answer carries its ``key``, the one fact
that makes it right or wrong (a repetition, a side, a phase, yes/no, a moment, deeper/shallower,
or ``declined``). A question the recording cannot answer (a limb it does not measure, sides from
the seven channels, a repetition it does not have, heart rate...) is declined with "I can't tell
from this recording" and why. ``rng`` None gives the first phrasing with the facts in order (what a
user sees); a numpy Generator draws among phrasings and shuffles the order of the facts (training
targets, so that copying one template is not enough).

:class:`UserContext` (goal, level) adds advice on cues and load to an answer; the facts do not
change with it. :func:`qa_prompt` is the LLM's prompt: the question, the context and a short
summary, plus the per-repetition table only for the table-reading variant (the soft-token variant
gets the table through the PhysicsBridge). :func:`answer_key` reads the key back from any text
(the LLM's answer), for the benchmark and the fallback check.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..catalogue import EXERCISES, FAULTS
from ..signals.rep_events import MotionEvents, RepEvents
from .questions import SIDE_TOPICS, UNMEASURABLE, Question

__all__ = [
    "CANT_TELL",
    "LEVELS",
    "QA_SYSTEM_PROMPT",
    "Answer",
    "UserContext",
    "answer_key",
    "answer_question",
    "fatigue_trend",
    "qa_prompt",
]

CANT_TELL = "I can't tell from this recording"
LEVELS = ("beginner", "intermediate", "advanced")
QA_SYSTEM_PROMPT = (
    "You answer questions about one recorded exercise set, in one or two sentences. Use only the measurements "
    f'given. If they cannot answer the question, say "{CANT_TELL}" and why.'
)
_SIDE = {"r": "right", "l": "left", "both": "both sides"}
#: What a ``side`` answer's per-side numbers are: the range of the fault's per-frame signal within a repetition.
_SIDE_SIGNAL = {"knee_valgus": "knee's travel toward the midline", "elbow_flare": "elbow's travel outward",
                "heel_lift": "heel rise", "asymmetric_drive": "weight shift onto each side"}  # fmt: skip
_FATIGUE_CUTOFF = 0.10  # a fitted rise of the rising time by 10 % over the set counts as slowing


@dataclass(frozen=True)
class UserContext:
    """Who asks: a ``goal`` in their words (e.g. ``"rehab after ACL reconstruction"``) and a ``level``
    (:data:`LEVELS`). It changes the advice on cues and load, never the facts."""

    goal: str | None = None
    level: str | None = None

    def __post_init__(self) -> None:
        if self.level is not None and self.level not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}; got {self.level!r}")

    def lines(self) -> list[str]:
        out = []
        if self.goal:
            out.append(f"Goal: {self.goal}")
        if self.level:
            out.append(f"Level: {self.level}")
        return out

    @property
    def rehab(self) -> bool:
        return bool(self.goal and re.search(r"rehab|acl|injur|surgery|operat|physio|recover|pain|reconstruct",
                                            self.goal.lower()))  # fmt: skip


@dataclass(frozen=True)
class Answer:
    """An answer: its ``text`` (the facts, then any advice), the ``key`` it can be checked by, whether
    it was ``declined``, and the ``advice`` part (from the user's context) on its own."""

    question: Question
    text: str
    key: str | None
    declined: bool = False
    advice: str = ""
    facts: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question.text, "kind": self.question.kind, "answer": self.text, "key": self.key,
                "declined": self.declined, "advice": self.advice or None, "facts": self.facts}  # fmt: skip


def _pick(rng: Any, options: tuple[str, ...]) -> str:
    return options[0] if rng is None else options[int(rng.integers(len(options)))]


def _join(parts: list[str], rng: Any) -> str:
    """Sentences in order (rng None) or shuffled after the first (the answer itself stays first)."""
    parts = [p for p in parts if p]
    if rng is not None and len(parts) > 2:
        rest = parts[1:]
        rng.shuffle(rest)
        parts = [parts[0], *rest]
    return " ".join(parts)


def _reps_words(ks: list[int]) -> str:
    """``[0, 1, 3]`` -> ``"1, 2 and 4"`` (1-based)."""
    n = [str(k + 1) for k in ks]
    return n[0] if len(n) == 1 else ", ".join(n[:-1]) + " and " + n[-1]


def _decline(q: Question, why: str) -> Answer:
    return Answer(q, f"{CANT_TELL}: {why}.", "declined", declined=True)


def _limb_words(ev: MotionEvents) -> tuple[str, str]:
    return ("elbow", "elbow flexion") if ev.limb == "arm" else ("knee", "knee flexion")


def fatigue_trend(durations: list[float]) -> float | None:
    """The fitted change of a per-repetition duration over the set, as a fraction of its mean (0.2:
    the line through them rises by 20 % of the mean from the first repetition to the last); None
    with fewer than three repetitions."""
    d = np.asarray([x for x in durations if x is not None and np.isfinite(x)], dtype=np.float64)
    if len(d) < 3 or d.mean() <= 0:
        return None
    slope = np.polyfit(np.arange(len(d)), d, 1)[0]
    return float(slope * (len(d) - 1) / d.mean())


def _fault_unit(exercise: str | None, fault: str) -> tuple[str, str]:
    ex = EXERCISES.get(exercise or "")
    spec = ex.faults.get(fault) if ex is not None else None
    return spec.unit_and_what() if spec is not None else ("", fault.replace("_", " "))


def _side_fault(q: Question, ev: MotionEvents) -> str | None:
    """The sided fault a ``side`` question is about: the one it names, else by its words."""
    if q.fault in SIDE_TOPICS:
        return q.fault
    t = q.text.lower()
    for word, fault in (("knee", "knee_valgus"), ("elbow", "elbow_flare"), ("heel", "heel_lift"),
                        ("weight", "asymmetric_drive"), ("drive", "asymmetric_drive"), ("shift", "asymmetric_drive"),
                        ("favo", "asymmetric_drive"), ("load", "asymmetric_drive")):  # fmt: skip
        if word in t:
            return fault
    return next((f for f in ev.screened if f in SIDE_TOPICS), None)


# ----------------------------------------------------------------------------- one function per kind
def _deepest(q: Question, ev: MotionEvents, rng: Any) -> Answer:
    joint, what = _limb_words(ev)
    depth = [(r.index, r.depth) for r in ev.reps if r.depth is not None]
    if not depth:
        return _decline(q, f"no repetition has trusted {what}")
    k, d = max(depth, key=lambda x: x[1])
    others = [x[1] for x in depth if x[0] != k]
    head = _pick(rng, (f"Repetition {k + 1} was the deepest: {d:.0f} deg of {what}.",
                       f"The deepest was repetition {k + 1}, at {d:.0f} deg of {what}.",
                       f"Rep {k + 1} went deepest ({d:.0f} deg of {what})."))  # fmt: skip
    parts = [head]
    runner_k, runner_d = max(((j, x) for j, x in depth if j != k), key=lambda x: x[1], default=(None, None))
    if runner_d is not None and d - runner_d < 1.0:
        # A hair's breadth: name the runner-up (rounding would show the same whole degrees).
        gap = f"{d - runner_d:.1f} deg" if d - runner_d >= 0.05 else "less than 0.1 deg"
        close = f"Only by {gap} over repetition {runner_k + 1} ({runner_d:.1f} deg)"
        lo, hi = f"{min(others):.0f}", f"{runner_d:.0f}"
        span = lo if lo == hi else f"{lo}-{hi}"
        parts.append(f"{close}; the others reached {span} deg." if len(others) > 1 else f"{close}.")
    elif others:
        parts.append(f"The other repetitions reached {min(others):.0f}-{max(others):.0f} deg."
                     if len(others) > 1 else f"The other reached {others[0]:.0f} deg.")  # fmt: skip
    return Answer(q, _join(parts, rng), str(k + 1), facts={"rep": k + 1, "depth_deg": round(d, 1)})


def _slowest(q: Question, ev: MotionEvents, rng: Any) -> Answer:
    if not ev.reps:
        return _decline(q, "no repetitions were found")
    r = max(ev.reps, key=lambda r: r.duration_s)
    ph = r.phases_s
    head = _pick(rng, (f"Repetition {r.index + 1} was the slowest: {r.duration_s:.1f} s from start to finish.",
                       f"The slowest was repetition {r.index + 1}, which took {r.duration_s:.1f} s.",
                       f"Rep {r.index + 1} took the longest ({r.duration_s:.1f} s)."))  # fmt: skip
    parts = [head]
    if ph.get("lowering") is not None and ph.get("rising") is not None:
        parts.append(f"It lowered in {ph['lowering']:.1f} s and rose in {ph['rising']:.1f} s.")
    others = [x.duration_s for x in ev.reps if x.index != r.index]
    if others:
        parts.append(f"The others took {min(others):.1f}-{max(others):.1f} s." if len(others) > 1
                     else f"The other took {others[0]:.1f} s.")  # fmt: skip
    return Answer(
        q, _join(parts, rng), str(r.index + 1), facts={"rep": r.index + 1, "duration_s": round(r.duration_s, 1)}
    )


def _fault_value(r: RepEvents, fault: str) -> float | None:
    e = r.faults.get(fault)
    if e is None:
        return None
    if e.by_side and any(v is not None for v in e.by_side.values()):
        return max(v for v in e.by_side.values() if v is not None)
    return e.value


def _worst(q: Question, ev: MotionEvents, rng: Any) -> Answer:
    if not ev.reps:
        return _decline(q, "no repetitions were found")
    if "faults" in ev.missing:
        return _decline(q, ev.missing["faults"])
    if not ev.screened:
        head = _pick(rng, ("None stood out: the form screen found no fault in this set.",
                           "No repetition was worse than the others: no fault was found.",
                           "None: I found no form fault in any repetition."))  # fmt: skip
        return Answer(q, head, "none", facts={"faults": []})
    fault = ev.screened[0]
    vals = [(r.index, _fault_value(r, fault)) for r in ev.reps]
    vals = [(k, v) for k, v in vals if v is not None]
    label = FAULTS[fault].label if fault in FAULTS else fault.replace("_", " ")
    if not vals:
        return _decline(q, f"{label} could not be measured on single repetitions")
    k, v = max(vals, key=lambda x: x[1])
    unit, what = _fault_unit(ev.exercise, fault)
    # Labels read as noun phrases ("the lower back rounding", "too much forward lean"): "worst for ...".
    head = _pick(rng, (f"Repetition {k + 1} was the worst for {label}.",
                       f"The worst was repetition {k + 1}, judged by {label}.",
                       f"Rep {k + 1} was the worst one for {label}."))  # fmt: skip
    parts = [head, f"Measured on it: {what.partition(',')[0]} {v:.1f} {unit}.".replace(" %", "%")]
    others = [x for j, x in vals if j != k]
    if others:
        parts.append(f"The other repetitions: {min(others):.1f}-{max(others):.1f} {unit}.".replace(" %", "%"))
    return Answer(q, _join(parts, rng), str(k + 1), facts={"rep": k + 1, "fault": fault, "value": round(v, 1)})


def _side(q: Question, ev: MotionEvents, rng: Any) -> Answer:
    fault = _side_fault(q, ev)
    if fault is None:
        return _decline(q, "the question names no side-to-side finding I measure (knees, elbows, heels, weight shift)")
    if "sides" in ev.missing:
        return _decline(q, ev.missing["sides"])
    limb = "arms" if fault == "elbow_flare" else "legs"
    if limb in ev.missing:
        return _decline(q, ev.missing[limb])
    ex = EXERCISES.get(ev.exercise or "")
    topic = SIDE_TOPICS[fault]
    if ex is None or fault not in ex.faults:
        return _decline(
            q,
            f"{topic.replace('the ', '', 1)} is not something I screen in a "
            f"{(ev.exercise or 'movement').replace('_', ' ')}",
        )
    unit, _ = _fault_unit(ev.exercise, fault)
    total = {s: [((r.faults.get(fault).by_side or {}).get(s) if r.faults.get(fault) else None) for r in ev.reps]
             for s in ("r", "l")}  # fmt: skip
    mean = {s: float(np.mean([v for v in vals if v is not None])) if any(v is not None for v in vals) else None
            for s, vals in total.items()}  # fmt: skip
    numbers = " and ".join(f"{_SIDE[s]} {mean[s]:.1f} {unit}" for s in ("r", "l") if mean[s] is not None)
    # The per-side values are the range of the per-frame signal within each repetition (not the screen's measure).
    span = f"The {_SIDE_SIGNAL[fault]} within a repetition, averaged over the set"
    if fault not in ev.screened:
        # Labels are noun phrases, some with an article ("the bar drifting forward"): "no sign of ...".
        head = _pick(rng, (f"Neither: I found no sign of {FAULTS[fault].label} on either side.",
                           f"Neither side: I found no sign of {FAULTS[fault].label} in this set.",
                           f"On neither side: {FAULTS[fault].label} was not found."))  # fmt: skip
        parts = [head]
        if numbers:
            parts.append(f"{span}: {numbers}.")
        return Answer(q, _join(parts, rng), "neither", facts={"side": "neither"})
    side = ev.fault_sides.get(fault) or "both"
    flagged = [r.index for r in ev.reps if fault in r.flagged] or [r.index for r in ev.reps]
    where = _SIDE.get(side, side)
    if side == "both":
        head = _pick(rng, (f"About the same on both sides: {topic} on the left and the right alike.",
                           "Both sides, about equally.", f"On both sides: {topic} about equally."))  # fmt: skip
    else:
        head = _pick(rng, (f"More on the {where}.", f"The {where} side, more than the other.",
                           f"On the {where}: that side showed it more."))  # fmt: skip
    parts = [head, f"Repetitions: {_reps_words(flagged)}." if len(flagged) > 1 else f"Repetition: {flagged[0] + 1}."]
    if numbers:
        parts.append(f"{span}: {numbers}.")
    return Answer(q, _join(parts, rng), {"r": "right", "l": "left"}.get(side, "both"),
                  facts={"side": side, "reps": [k + 1 for k in flagged]})  # fmt: skip


def _fault_phase(q: Question, ev: MotionEvents, rng: Any) -> Answer:
    if "faults" in ev.missing:
        return _decline(q, ev.missing["faults"])
    fault = q.fault or (ev.screened[0] if ev.screened else None)
    ex = EXERCISES.get(ev.exercise or "")
    if fault is None:
        return Answer(q, "There is no fault in this set, so there is no phase to name.", "none")
    if ex is None or fault not in ex.faults:
        return _decline(q, f"{FAULTS[fault].label if fault in FAULTS else fault} is not something I screen in a "
                           f"{(ev.exercise or 'movement').replace('_', ' ')}")  # fmt: skip
    label = FAULTS[fault].label
    if fault not in ev.screened:
        return Answer(q, _pick(rng, (f"I found no sign of {label} in this set, so there is no phase to name.",
                                     f"There was no sign of {label}: none of the repetitions showed it.")),
                      "none")  # fmt: skip
    phases = [r.faults[fault].phase for r in ev.reps if fault in r.faults and r.faults[fault].phase]
    if not phases:
        return _decline(q, f"{label} has no moment of its own within the repetition")
    phase = Counter(phases).most_common(1)[0][0]  # a tie: the phase seen first (not hash order)
    where = {"lowering": "on the way down (the lowering)", "bottom": "at the bottom",
             "rising": "on the way up (the rising)",
             "top": "at the top"}[phase]  # fmt: skip
    head = _pick(rng, (f"{label[0].upper() + label[1:]} appears {where}.", f"It shows {where}.",
                       f"{where[0].upper() + where[1:]}: that is where {label} peaks."))  # fmt: skip
    n = phases.count(phase)
    parts = [head, f"That is where it peaked in {n} of {len(ev.reps)} repetitions."]
    return Answer(q, _join(parts, rng), phase, facts={"fault": fault, "phase": phase})


def _fatigue(q: Question, ev: MotionEvents, rng: Any) -> Answer:
    rising = [r.phases_s.get("rising") for r in ev.reps]
    trend = fatigue_trend(rising)
    if trend is None:
        return _decline(q, "a trend needs at least three repetitions with a rising phase")
    known = [x for x in rising if x is not None]
    first, last = known[0], known[-1]
    if trend >= _FATIGUE_CUTOFF:
        head = _pick(rng, ("Yes, the rising phase is slowing.", "Yes: you got slower on the way up.",
                           "Yes, the drive slowed over the set."))  # fmt: skip
        parts = [
            head,
            f"It went from {first:.1f} s on repetition 1 to {last:.1f} s on repetition {len(known)}.",
            f"The trend over the set is +{100 * trend:.0f} %.",
        ]
        key = "yes"
    else:
        head = _pick(rng, ("No, the rising phase is not slowing.", "No: your speed on the way up held.",
                           "No, the drive did not slow over the set."))  # fmt: skip
        parts = [
            head,
            f"It took {min(known):.1f}-{max(known):.1f} s per repetition.",
            f"The trend over the set is {100 * trend:+.0f} %.",
        ]
        key = "no"
    return Answer(
        q, _join(parts, rng), key, facts={"trend_pct": round(100 * trend), "rising_s": [round(x, 1) for x in known]}
    )


def _rep_moment(q: Question, ev: MotionEvents, rng: Any) -> Answer:
    if not ev.has_kinetics:
        return _decline(q, ev.missing.get("kinetics", "no joint moments were computed"))
    joint = q.joint or _limb_words(ev)[0]
    available = sorted({j for r in ev.reps for j in r.moments})
    if joint not in available:
        return _decline(q, f"for a {(ev.exercise or 'movement').replace('_', ' ')} I report the "
                           f"{', '.join(available) or 'no'} moments, not the {joint}")  # fmt: skip
    limb = "arms" if joint in ("elbow", "shoulder", "wrist") else "legs"
    if limb in ev.missing:
        return _decline(q, ev.missing[limb])
    if q.rep is None:
        return _decline(q, "the question names no repetition")
    k = len(ev.reps) if q.rep == -1 else q.rep
    if not 1 <= k <= len(ev.reps):
        return _decline(q, f"this set has {len(ev.reps)} repetition{'s' if len(ev.reps) != 1 else ''}, not {k}")
    r = ev.reps[k - 1]
    m = r.moments.get(joint) or {}
    peak = r.moment(joint)
    if peak is None:
        return _decline(q, f"repetition {k} has no trusted {joint} moment (its frames were flagged as unreliable)")
    head = _pick(rng, (f"The peak {joint} extensor moment on repetition {k} was {peak:.2f} N·m/kg.",
                       f"Repetition {k} reached a peak {joint} moment of {peak:.2f} N·m/kg.",
                       f"On rep {k} the {joint} moment peaked at {peak:.2f} N·m/kg."))  # fmt: skip
    sides = ", ".join(f"{_SIDE[s]} {m[s]:.2f}" for s in ("r", "l") if m.get(s) is not None)
    parts = [head, f"Per side: {sides}." if "sides" not in ev.missing else ""]
    if ev.source == "encoder":
        parts.append("It is estimated from the channels alone, without a measured motion.")
    return Answer(
        q, _join(parts, rng), f"{peak:.2f}", facts={"rep": k, "joint": joint, "peak_nm_per_kg": round(peak, 2)}
    )


def _mean_depth(ev: MotionEvents) -> float | None:
    d = [r.depth for r in ev.reps if r.depth is not None]
    return float(np.mean(d)) if d else None


def _compare(q: Question, ev: MotionEvents, previous: MotionEvents | None, rng: Any) -> Answer:
    if previous is None:
        return _decline(q, "no previous file was given to compare with (pass --compare FILE)")
    now, before = _mean_depth(ev), _mean_depth(previous)
    if now is None or before is None:
        return _decline(q, "one of the two sets has no trusted depth")
    diff = now - before
    _, what = _limb_words(ev)
    if abs(diff) < 2.0:
        head, key = (
            f"About as deep as the previous file: {now:.0f} deg against {before:.0f} deg of {what} on average.",
            "same",
        )
    elif diff > 0:
        head, key = (
            f"Deeper than the previous file, by {diff:.0f} deg: {now:.0f} deg against {before:.0f} deg of {what} "
            "on average.",
            "deeper",
        )
    else:
        head, key = (
            f"Shallower than the previous file, by {-diff:.0f} deg: {now:.0f} deg against {before:.0f} deg of {what} "
            "on average.",
            "shallower",
        )
    parts = [head, f"Repetitions: {ev.n_reps} now, {previous.n_reps} before."]
    r_now = [r.phases_s.get("rising") for r in ev.reps if r.phases_s.get("rising") is not None]
    r_then = [r.phases_s.get("rising") for r in previous.reps if r.phases_s.get("rising") is not None]
    if r_now and r_then:
        parts.append(f"Rising took {np.median(r_now):.1f} s per repetition now, {np.median(r_then):.1f} s before.")
    gone, new = set(previous.screened) - set(ev.screened), set(ev.screened) - set(previous.screened)
    if gone:
        parts.append("No longer found: " + ", ".join(FAULTS[f].label for f in sorted(gone) if f in FAULTS) + ".")
    if new:
        parts.append("New this time: " + ", ".join(FAULTS[f].label for f in sorted(new) if f in FAULTS) + ".")
    return Answer(
        q, _join(parts, rng), key, facts={"depth_now_deg": round(now, 1), "depth_before_deg": round(before, 1)}
    )


# ----------------------------------------------------------------------------- advice from the user's context
def _advice(context: UserContext | None, fault: str | None) -> str:
    """Cues and load advice for ``context`` (about ``fault`` if the answer names one); the facts stay."""
    if context is None or (context.level is None and not context.goal):
        return ""
    cues = FAULTS[fault].cues if fault in FAULTS else ()
    parts = []
    if context.rehab:
        parts.append(f"With your goal ({context.goal}) in mind: stay within the ranges your physiotherapist has "
                     "cleared, and add load only when they agree")  # fmt: skip
    if context.level == "beginner":
        parts.append(f"cue: {cues[0]}" if cues else "keep the movement slow and controlled")
        parts.append("keep the load light until every repetition looks the same")
    elif context.level == "intermediate":
        parts.append(f"cue: {cues[-1]}" if cues else "keep every repetition at the same depth and tempo")
        parts.append("hold the load where it is until this is fixed, then add 2.5-5 %")
    elif context.level == "advanced":
        parts.append(f"cue: {cues[-1]}" if cues else "own the tempo on every repetition")
        parts.append("groove it with paused or tempo sets at 70-80 % of your working weight before going heavier")
    elif context.goal and not context.rehab:
        parts.append(f"For your goal ({context.goal}): " + (cues[0] if cues else "keep every repetition the same"))
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "." if text else ""


def answer_question(
    q: Question, ev: MotionEvents, previous: MotionEvents | None = None, context: UserContext | None = None,
    rng: Any = None,
) -> Answer:  # fmt: skip
    """The rule-based answer to ``q`` from the event table ``ev`` (module docstring)."""
    if q.kind == "decline":
        a = _decline(q, UNMEASURABLE.get(q.topic or "", "this recording does not measure it"))
    elif q.kind == "unknown":
        a = Answer(q, f"{CANT_TELL} what you are asking. I can answer which repetition was deepest, slowest or worst; "
                      "which side the knees caved (or elbows flared) on; when in the repetition a fault appears; "
                      "whether you slowed over the set; a joint's peak moment on a repetition; and how this set "
                      "compares with a previous file.", "declined", declined=True)  # fmt: skip
    elif not ev.reps and q.kind != "compare":
        a = _decline(q, "no repetitions were found in it")
    elif q.kind == "deepest":
        a = _deepest(q, ev, rng)
    elif q.kind == "slowest":
        a = _slowest(q, ev, rng)
    elif q.kind == "worst":
        a = _worst(q, ev, rng)
    elif q.kind == "side":
        a = _side(q, ev, rng)
    elif q.kind == "fault_phase":
        a = _fault_phase(q, ev, rng)
    elif q.kind == "fatigue":
        a = _fatigue(q, ev, rng)
    elif q.kind == "rep_moment":
        a = _rep_moment(q, ev, rng)
    elif q.kind == "compare":
        a = _compare(q, ev, previous, rng)
    else:
        raise ValueError(f"unknown question kind {q.kind!r}")
    if a.declined:
        return a
    advice = _advice(context, a.facts.get("fault") or (ev.screened[0] if ev.screened else None))
    return Answer(q, f"{a.text} {advice}".strip(), a.key, a.declined, advice, a.facts)


# ----------------------------------------------------------------------------- the LLM's prompt
def qa_prompt(question: str, ev: MotionEvents, context: UserContext | None = None, table: bool = False,
              previous: MotionEvents | None = None) -> tuple[str, str]:  # fmt: skip
    """``(system, user)`` for the LLM: the context, a short summary (exercise, repetitions, grade, the
    faults found with their sides, what the recording lacks), the per-repetition table if ``table``
    (and the previous file's summary and table for a comparison), then the question."""
    lines = list(context.lines()) if context is not None else []
    lines.append(f"Exercise: {(ev.exercise or 'unknown').replace('_', ' ')}, {ev.n_reps} repetitions"
                 + (f", grade {ev.grade}" if ev.grade else ""))  # fmt: skip
    found = [f"{FAULTS[f].label if f in FAULTS else f}" + (f" ({_SIDE[ev.fault_sides[f]]})"
             if ev.fault_sides.get(f) in _SIDE else "") for f in ev.screened]  # fmt: skip
    lines.append("Faults found: " + (", ".join(found) if found else "none"))
    if not ev.has_kinetics:
        lines.append("No joint moments.")
    for what, why in ev.missing.items():
        if what != "kinetics":
            lines.append(f"Not measured: {what} ({why}).")
    if table:
        lines += ["Per repetition:", *ev.table_lines()]
    if previous is not None:
        d = _mean_depth(previous)
        lines.append(f"Previous file: {previous.n_reps} repetitions" + (f", mean depth {d:.0f} deg" if d else ""))
        if table:
            lines += previous.table_lines()
    lines.append(f"Question: {question}")
    return QA_SYSTEM_PROMPT, "\n".join(lines)


# ----------------------------------------------------------------------------- reading an answer's key back
_WORD_NUMBERS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
                 "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12}  # fmt: skip


def answer_key(kind: str, text: str) -> str | None:
    """The key of a free-text answer to a ``kind`` question (the form :func:`answer_question`'s keys
    take), or None when the text states none."""
    t = text.lower().replace("’", "'")
    if re.search(r"can'?t tell|cannot tell|can not tell", t):
        return "declined"
    if kind in ("deepest", "slowest", "worst"):
        if kind == "worst" and re.search(r"\b(none|no repetition|no fault|no form fault)\b", t):
            return "none"
        m = re.search(r"\b(?:rep(?:etition)?)\s*(?:#|no\.?|number)?\s*(\d+)\b", t)
        if m:
            return m.group(1)
        for w, k in _WORD_NUMBERS.items():
            if re.search(rf"\b{w}\b", t):
                return str(k)
        return None
    if kind == "side":
        first = re.search(r"\b(neither|both|left|right|no)\b", t)
        if first is None:
            return None
        w = first.group(1)
        return {"no": "neither"}.get(w, w)
    if kind == "fault_phase":
        if re.search(r"\b(no fault|found no|there (was|is) no|no phase)\b", t):
            return "none"
        m = re.search(
            r"\b(lowering|way down|descent|eccentric|bottom|rising|way up|ascent|concentric|top|lockout)\b", t
        )
        if m is None:
            return None
        return {"way down": "lowering", "descent": "lowering", "eccentric": "lowering", "way up": "rising",
                "ascent": "rising", "concentric": "rising", "lockout": "top"}.get(m.group(1), m.group(1))  # fmt: skip
    if kind == "fatigue":
        m = re.search(r"\b(yes|no)\b", t)
        return None if m is None else m.group(1)
    if kind == "rep_moment":
        m = re.search(r"(\d+\.\d+)\s*n·?\.?m/kg", t) or re.search(r"(\d+\.\d+)", t)
        return None if m is None else f"{float(m.group(1)):.2f}"
    if kind == "compare":
        m = re.search(r"\b(deeper|shallower|about as deep|as deep|same)\b", t)
        if m is None:
            return None
        return {"about as deep": "same", "as deep": "same"}.get(m.group(1), m.group(1))
    if kind == "decline":
        return None
    return None
