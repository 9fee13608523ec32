"""Questions about a set: their kinds, how a free-text question is read, and how questions are phrased.

A :class:`Question` is one of :data:`QUESTION_KINDS` with its slots (the repetition, joint or fault
it names):

- ``deepest``, ``slowest``, ``worst``: which repetition;
- ``side``: did the knees cave (the elbows flare, the drive shift, the heels rise) more on the left
  or the right, and on which repetitions;
- ``fault_phase``: when in the repetition a fault appears (lowering, bottom, rising, top);
- ``fatigue``: is the rising phase slowing over the set;
- ``rep_moment``: the peak moment of a joint on one repetition;
- ``compare``: this set against the previous file;
- ``decline``: something no recording of motion holds (heart rate, the load on the bar, ...).

:func:`parse_question` reads a question by keyword rules (no model: the same words always give the
same reading). :func:`phrase_question` writes one of :data:`TEMPLATES`' phrasings; the templates of
each kind are split into a ``train`` share and a ``held_out`` share (every fourth), so that a
benchmark can ask in words no trained model has seen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "QUESTION_KINDS",
    "SIDE_TOPICS",
    "TEMPLATES",
    "UNMEASURABLE",
    "Question",
    "parse_question",
    "phrase_question",
    "template_split",
]

QUESTION_KINDS = ("deepest", "slowest", "worst", "side", "fault_phase", "fatigue", "rep_moment", "compare", "decline")

#: What the ``side`` question asks about, per fault: the words of the question.
SIDE_TOPICS = {
    "knee_valgus": "the knees cave in",
    "elbow_flare": "the elbows flare out",
    "heel_lift": "the heels lift",
    "asymmetric_drive": "the weight shift",
}

#: Things no motion recording measures -> why (the decline's reason).
UNMEASURABLE = {
    "heart rate": "heart rate is not in a motion recording",
    "calories": "energy burned needs heart rate or gas exchange, which a motion recording does not hold",
    "breathing": "breathing is not measured by this recording",
    "bar weight": "the load on the bar is not in the recording (its motion looks the same at any weight)",
    "one-rep max": "a one-repetition maximum needs loaded sets to failure, not one recording of motion",
    "pain": "pain is not something a motion recording can measure",
    "blood pressure": "blood pressure is not in a motion recording",
    "muscle soreness": "soreness is not something a motion recording can measure",
}
_UNMEASURABLE_WORDS = {
    "heart rate": r"heart ?rate|pulse|bpm",
    "calories": r"calorie|kcal|energy (did i )?burn",
    "breathing": r"breath",
    "bar weight": r"how (much|heavy)[^?]*(weight|bar|load)|weight (was )?on the bar|how heavy",
    "one-rep max": r"1 ?rm|one[- ]rep(etition)? max",
    "pain": r"\bpain|hurt",
    "blood pressure": r"blood pressure",
    "muscle soreness": r"sore",
}

_FAULT_WORDS = {
    "knee_valgus": r"knees? (cave|caving|caved|collapse|collaps|buckl|go in|went in|come in|came in|drift in|track in)"
    r"|valgus|knock[- ]?knee",
    "heel_lift": r"heels? (lift|rise|rising|lifting|came up|come up|up)",
    "forward_lean": r"lean|chest (drop|fall|fell)|torso (tip|fall)",
    "lumbar_flexion": r"(back|spine) (round|flex|bend|curv)|butt wink|rounding",
    "lumbar_hyperextension": r"(back|spine) arch|arch(ing|ed)? (my|the|your) back|hyperext",
    "elbow_flare": r"elbows? (flare|flaring|stick out|go out|went out|winging)",
    "bar_path_drift": r"bar (drift|path|mov|travel)|drift",
    "asymmetric_drive": r"shift|uneven|asymmetr|favou?r|lopsided|one side",
    "rushed_eccentric": r"rush|drop (too )?fast|too fast (on the way )?down",
    "hip_sag": r"hips? sag|sagg",
    "hip_pike": r"pik(e|ing)|hips? (too )?high",
    "shallow_depth": r"shallow|not (deep|low) enough|depth",
    "incomplete_lockout": r"lock ?out|finish",
}
_JOINTS = r"knee|hip|ankle|elbow|shoulder|lumbar|lower back|back"
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
             "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "last": -1, "final": -1}  # fmt: skip


@dataclass(frozen=True)
class Question:
    """A question read by :func:`parse_question`: its ``kind`` (:data:`QUESTION_KINDS` or
    ``"unknown"``), the ``rep`` it names (1-based; -1 the last), ``joint``, ``fault`` and, for a
    decline, the ``topic`` no recording measures."""

    text: str
    kind: str
    rep: int | None = None
    joint: str | None = None
    fault: str | None = None
    topic: str | None = None


def _rep(text: str) -> int | None:
    m = re.search(r"\b(?:rep(?:etition)?s?|squat|set)\s*(?:#|no\.?|number)?\s*(\d+)\b", text) or re.search(
        r"#\s*(\d+)\b", text
    )
    if m:
        return int(m.group(1))
    m = re.search(r"\b(\d+)(?:st|nd|rd|th)\b", text)
    if m:
        return int(m.group(1))
    for word, k in _ORDINALS.items():
        if re.search(rf"\b{word}\b\s+(rep|repetition|one|squat|lift|push|press|row)", text):
            return k
    return None


def _fault(text: str) -> str | None:
    for name, pattern in _FAULT_WORDS.items():
        if re.search(pattern, text):
            return name
    return None


def parse_question(text: str) -> Question:
    """Read a free-text question (module docstring); ``kind`` ``"unknown"`` when no rule matches."""
    t = " ".join(text.lower().replace("’", "'").split())
    rep, fault = _rep(t), _fault(t)
    jm = re.search(rf"\b({_JOINTS})s?\b", t)
    joint = None if jm is None else {"lower back": "lumbar", "back": "lumbar"}.get(jm.group(1), jm.group(1))
    for topic, pattern in _UNMEASURABLE_WORDS.items():
        if re.search(pattern, t):
            return Question(text, "decline", rep, joint, fault, topic)
    # "Slower at the end compared to the start?" compares within the set: the fatigue question, not another file.
    within = re.search(r"(at|by|towards?) the end|(to|with) the (start|beginning)|first reps? (to|and|vs\.?|versus) "
                       r"(the )?last", t)  # fmt: skip
    if within and re.search(r"fast|slow|speed|tempo|coming up|rising|stand(ing)? up|drive", t):
        return Question(text, "fatigue", rep, joint, fault)
    if re.search(r"previous|last (time|file|session|recording|set)|earlier (set|session|recording|file)|"
                 r"other (set|file|recording)|compare|compared|than before|since before|progress", t):  # fmt: skip
        return Question(text, "compare", rep, joint, fault)
    if re.search(r"moment|torque|how hard (was|did)|load on (my|the) (knee|hip|elbow)|force (at|on|through)", t):
        return Question(text, "rep_moment", rep, joint or ("knee" if "knee" in t else None), fault)
    if re.search(r"slowest|took (the )?longest|longest|most time|least fast", t):
        return Question(text, "slowest", rep, joint, fault)
    if re.search(r"fatigu|tired|slow(ing|ed|s)? down|get(ting)? slower|got slower|slower (and slower|over|as|towards|"
                 r"through|by the end|at the end)|los(e|ing) speed|speed (drop|fall)|stand(ing)? up slower|"
                 r"rising (phase )?(slow|get)|drive (slow|get)", t):  # fmt: skip
        return Question(text, "fatigue", rep, joint, fault)
    if re.search(r"left or (the )?right|right or (the )?left|which (side|knee|elbow|heel|leg|arm|foot)|"
                 r"one side more|more on (the|one) (left|right|side)|which way", t):  # fmt: skip
        return Question(text, "side", rep, joint, fault)
    deepest = re.search(r"deepest|lowest|most depth|greatest depth|furthest down|farthest down|went (the )?deepest|"
                        r"s[ai]nk (the )?(furthest|farthest|lowest|deepest)|"
                        r"most range|biggest range|deepest one|got lowest|lowest point", t)  # fmt: skip
    # "Where in the set did I go furthest down?" asks for a repetition, not a phase: a phase question names a fault.
    if re.search(r"\bwhen\b|which phase|what phase|at what point|which part of|where in|what part of|"
                 r"during which|at which (point|stage)", t) and (fault is not None or deepest is None):  # fmt: skip
        return Question(text, "fault_phase", rep, joint, fault)
    if deepest:
        return Question(text, "deepest", rep, joint, fault)
    if re.search(r"worst|poorest|ugliest|least (good|clean)|weakest|messiest|most (work|faulty|breakdown|break)|"
                 r"needs? (the )?most|sloppiest|biggest (fault|problem|error)", t):  # fmt: skip
        return Question(text, "worst", rep, joint, fault)
    return Question(text, "unknown", rep, joint, fault)


#: Phrasings per kind; ``{rep}`` a repetition number, ``{topic}`` a :data:`SIDE_TOPICS` phrase,
#: ``{fault}`` a fault's words, ``{joint}`` a joint, ``{unmeasurable}`` one of the decline topics.
TEMPLATES: dict[str, tuple[str, ...]] = {
    "deepest": (
        "Which repetition was the deepest?",
        "Which rep went the deepest?",
        "In which repetition did I get lowest?",
        "What was my deepest rep?",
        "Which rep had the greatest depth?",
        "Where in the set did I go furthest down?",
        "Which of my reps was deepest?",
        "Tell me which repetition reached the most depth.",
    ),
    "slowest": (
        "Which repetition was the slowest?",
        "Which rep took the longest?",
        "What was my slowest rep?",
        "Which repetition took the most time?",
        "Which of the reps was slowest?",
        "In which rep did I spend the longest?",
        "Tell me my slowest repetition.",
        "Which rep was the slowest one overall?",
    ),
    "worst": (
        "Which repetition was the worst?",
        "Which rep had the worst form?",
        "What was my worst rep?",
        "Which repetition needs the most work?",
        "Which rep was the sloppiest?",
        "Which of my reps had the biggest fault?",
        "Tell me which repetition was the poorest.",
        "Which rep was weakest technically?",
    ),
    "side": (
        "Did {topic} more on the left or the right?",
        "Which side did {topic} more on, and on which repetitions?",
        "Left or right: where did {topic} more?",
        "Did {topic} more on one side? Which reps?",
        "On which side did {topic} more, the left or the right?",
        "Was it more on the right or the left that {topic}?",
        "Which side was worse for how {topic}?",
        "Tell me whether {topic} more on the left or the right.",
    ),
    "fault_phase": (
        "When in the repetition does {fault} appear?",
        "At what point of the rep does {fault} happen?",
        "During which phase does {fault} show up?",
        "When do I get {fault}: on the way down, at the bottom or on the way up?",
        "Which part of the repetition has {fault}?",
        "Where in the movement does {fault} start?",
        "In which phase of the rep do I show {fault}?",
        "At which point in each rep is {fault} worst?",
    ),
    "fatigue": (
        "Is the rising phase slowing over the set?",
        "Am I getting slower on the way up as the set goes on?",
        "Did I slow down towards the end of the set?",
        "Is fatigue showing in how fast I stand up?",
        "Does my drive get slower over the reps?",
        "Was I losing speed on the way up by the end?",
        "Did the set make me tired: is the rising getting slower?",
        "Are my reps slowing down over the set?",
    ),
    "rep_moment": (
        "What was the peak {joint} moment on repetition {rep}?",
        "How big was the {joint} moment in rep {rep}?",
        "What peak {joint} torque did I reach on rep {rep}?",
        "Tell me the maximum {joint} moment of repetition {rep}.",
        "In rep {rep}, what was the largest {joint} moment?",
        "How much {joint} moment did rep {rep} need?",
        "Give me the peak {joint} extensor moment for repetition {rep}.",
        "What was the highest {joint} torque in repetition {rep}?",
    ),
    "compare": (
        "How does this set compare with the previous file?",
        "Was this set deeper than the previous one?",
        "Compared with last time, how did I do?",
        "How is this set different from the earlier recording?",
        "Did I go deeper than in the other set?",
        "What changed since the previous set?",
        "Compare this set with my last session.",
        "Is this better or worse than the previous recording?",
    ),
    "decline": (
        "What was my {unmeasurable}?",
        "Can you tell me my {unmeasurable} during the set?",
        "How was my {unmeasurable}?",
        "Tell me about my {unmeasurable} in this set.",
        "What did the set do to my {unmeasurable}?",
        "Give me my {unmeasurable} for these reps.",
        "Do you know my {unmeasurable}?",
        "Was my {unmeasurable} okay?",
    ),
}
#: How a decline topic is asked after ("What was my ...?").
_UNMEASURABLE_ASKED = {"heart rate": "heart rate", "calories": "calories burned", "breathing": "breathing rate",
                       "bar weight": "weight on the bar", "one-rep max": "one-rep max", "pain": "pain level",
                       "blood pressure": "blood pressure", "muscle soreness": "muscle soreness"}  # fmt: skip


def template_split(kind: str, split: str) -> tuple[str, ...]:
    """The phrasings of ``kind`` in ``split``: ``"train"`` (three in four) or ``"held_out"`` (every fourth)."""
    all_ = TEMPLATES[kind]
    if split == "train":
        return tuple(t for i, t in enumerate(all_) if i % 4 != 3)
    if split == "held_out":
        return tuple(t for i, t in enumerate(all_) if i % 4 == 3)
    raise ValueError(f"split must be 'train' or 'held_out'; got {split!r}")


def phrase_question(kind: str, rng: Any, split: str = "train", **slots: Any) -> str:
    """One phrasing of a ``kind`` question from ``split``'s templates (``rng`` a numpy Generator),
    filled with ``slots`` (``rep``, ``joint``, ``topic``, ``fault``, ``unmeasurable``)."""
    templates = template_split(kind, split)
    t = templates[int(rng.integers(len(templates)))]
    if "unmeasurable" in slots:
        slots = {**slots, "unmeasurable": _UNMEASURABLE_ASKED.get(slots["unmeasurable"], slots["unmeasurable"])}
    return t.format(**{k: v for k, v in slots.items() if v is not None})
