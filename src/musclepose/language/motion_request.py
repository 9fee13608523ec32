"""A free-text request for a motion ("five slow squats, knees caving") read into a :class:`MotionRequest`.

The non-learned reader behind ``musclepose generate``: phrase tables over the catalogue
(:mod:`musclepose.catalogue`), not a model. What it reads:

- the exercise: catalogue names and aliases (``push_up``, ``pushups``, ``press-up``) plus the
  everyday phrasings of :data:`EXERCISE_PHRASES` ("air squats", "chair rises", "star jumps");
- repetitions: digits or number words up to ninety-nine ("twelve", "twenty five", "a dozen");
- tempo: ``slow`` / ``fast`` words, or seconds down / up ("3 seconds down");
- depth: "to 90 degrees", "deep";
- faults: :data:`FAULT_PHRASES` (their catalogue labels and common coaching words), each with its
  side ("left knee caving", "left-side heel lift") and a severity word ("slightly", "badly");
- the lead side of a one-sided exercise ("left leg forward", "right arm only"), a load ("with 40 kg")
  and a duration ("for 10 seconds").

Words it recognises but the engine cannot render (a fault "on the way up") are kept in ``notes``.
Conventions: angles in degrees, durations in seconds, loads in kg; sides ``"l"``, ``"r"``, ``"both"``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from ..catalogue import EXERCISES, FAULTS

__all__ = [
    "EXERCISE_PHRASES",
    "FAULT_PHRASES",
    "MotionRequest",
    "RequestError",
    "exercise_phrases",
    "parse_request",
]


class RequestError(ValueError):
    """A request the reader cannot turn into a motion; the message says what it understands."""


def _phrases(text: str) -> tuple[str, ...]:
    return tuple(text.split("|"))


#: Everyday phrasings of catalogue exercises beyond the catalogue's own aliases (matched as words,
#: with or without a plural ``s``).
EXERCISE_PHRASES: dict[str, tuple[str, ...]] = {
    # "deep squat" is also UI-PRMD's movement (no generator): asked for as a motion, it is a deep squat.
    "squat": _phrases("squat|air squat|bodyweight squat|body weight squat|back squat|deep knee bend|deep squat"),
    "deadlift": _phrases("deadlift|dead lift|conventional deadlift|barbell deadlift"),
    "overhead_press": _phrases("overhead press|shoulder press|military press|ohp|strict press"),
    "lunge": _phrases("lunge|forward lunge|walking lunge|step lunge"),
    "push_up": _phrases("push up|pushup|press up|pressup"),
    "jumping_jack": _phrases("jumping jack|star jump|jumpjack|jack"),
    "sit_to_stand": _phrases(
        "sit to stand|chair rise|chair stand|sit stand|stand up from a chair|stand ups from a chair|sit and stand"
    ),
    "bent_over_row": _phrases("bent over row|barbell row|bent row|row"),
    "bicep_curl": _phrases("bicep curl|biceps curl|dumbbell curl|curl|arm curl"),
    "front_raise": _phrases("front raise|frontal raise|forward raise"),
    "shoulder_shrug": _phrases("shoulder shrug|shrug|trap shrug"),
}

#: Fault -> phrases that name it (besides its catalogue label), matched as word sequences.
FAULT_PHRASES: dict[str, tuple[str, ...]] = {
    "knee_valgus": _phrases(
        "knees caving|knee caving|knees cave|knee caves|knees collapsing|knee collapsing|knees "
        "collapse|knees buckling|knees buckle|knee valgus|valgus|knock kneed|knees going in|knees falling"
        " in|knee falling in|knees drifting in|knees cave in|caving knees|knees rolling in|knee caving in"
    ),
    "shallow_depth": _phrases(
        "shallow|not deep enough|half squat|partial depth|too high|quarter squat|not going low "
        "enough|above parallel|shallow depth"
    ),
    "forward_lean": _phrases(
        "leaning forward|forward lean|leans forward|lean forward|chest dropping|chest falling|torso "
        "leaning|too much lean|chest caving"
    ),
    "heel_lift": _phrases(
        "heels lifting|heel lifting|heels rising|heel rising|heels coming up|heel lift|heels lift|heels "
        "up|heels off the floor|heel coming up|on the toes|heel raise|heels raise|heel rise|heels rise"
    ),
    "asymmetric_drive": _phrases(
        "uneven|asymmetric|asymmetrical|shifting weight|weight shift|shifting "
        "to|favouring|favoring|lopsided|one side driving|leaning to the"
    ),
    "bar_path_drift": _phrases(
        "bar drifting|bar drift|bar path|bar moving forward|bar swinging forward|bar drifts|drifting bar|load drifting"
    ),
    "lumbar_flexion": _phrases(
        "rounded back|rounding back|back rounding|rounding the back|round back|lower back rounding|butt "
        "wink|lumbar flexion|spine rounding|rounded spine|hunched back|back rounds"
    ),
    "elbow_flare": _phrases(
        "elbows flaring|elbow flaring|flared elbows|flaring elbows|elbows flare|elbow flare|elbows out|elbows winging"
    ),
    "hip_sag": _phrases(
        "hips sagging|hip sagging|sagging hips|hip sag|hips sag|hips dropping|hips drop|sagging|belly "
        "dropping|saggy hips"
    ),
    "rushed_eccentric": _phrases(
        "rushing the descent|rushed descent|rushing down|dropping fast|rushed lowering|rushing the "
        "lowering|fast on the way down|dropping down|rushed eccentric|dropping into|crashing down|falling"
        " into the bottom|rushing the eccentric|rushed"
    ),
    "incomplete_lockout": _phrases(
        "not locking out|incomplete lockout|no lockout|without locking out|not standing fully|not "
        "standing up fully|not finishing|soft lockout|not fully extending|short of lockout|not locking"
    ),
    "hip_pike": _phrases("hips piking|hip pike|piking|hips piked|hips too high|butt in the air|hips high"),
    "lumbar_hyperextension": _phrases(
        "arching the back|arched back|back arching|overarching|over arching|lower back "
        "arching|hyperextending|arching|arched"
    ),
    "narrow_stance": _phrases("narrow stance|feet too close|narrow feet|feet together|narrow"),
    "knee_over_toe": _phrases(
        "knee past the toes|knee over the toes|knee over toe|knees past the toes|knee too far "
        "forward|knee far past|knee travelling forward|knee traveling forward"
    ),
    "arms_not_overhead": _phrases(
        "arms not overhead|arms not reaching overhead|arms not reaching|arms too low|hands not "
        "meeting|arms not going up"
    ),
    "torso_swing": _phrases(
        "torso swinging|torso swing|swinging torso|body swinging|swinging the body|swinging the "
        "torso|using momentum|body english|swinging back|momentum|rocking"
    ),
    "upper_arm_swing": _phrases(
        "upper arm swinging|upper arm swing|elbows swinging|elbow swinging|swinging elbows|elbows "
        "drifting forward|elbows moving forward|swinging the elbows"
    ),
    "partial_range": _phrases(
        "partial range|partial reps|half reps|half range|short range|partial|not the full range|not full range"
    ),
    "elbow_bend": _phrases(
        "bent arms|arms bending|elbows bending|bending the elbows|bent elbows|bending arms|bending the arms"
    ),
}

NUMBER_WORDS: dict[str, int] = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen".split()
    )
}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
SLOW = ("very slow", "slow", "slowly", "controlled", "under control", "tempo")
FAST = ("very fast", "fast", "quick", "quickly", "rapid", "rapidly", "explosive", "explosively", "brisk", "speedy")
MILD = ("slightly", "slight", "a bit", "a little", "mild", "mildly", "subtle", "little")
STRONG = ("badly", "severely", "severe", "a lot", "heavily", "very", "strongly", "really", "pronounced", "extreme")
PHASE_WORDS = ("on the way up", "on the way down", "at the bottom", "at the top", "while rising", "when rising",
               "while lowering", "on the descent", "on the ascent", "coming up", "going down")  # fmt: skip
UNITS_AFTER = _phrases("degree|degrees|deg|kg|kilo|kilos|kilogram|kilograms|second|seconds|sec|secs|s|lb|lbs|pound|"
                       "pounds|cm|percent|minute|minutes|min")  # fmt: skip
SEVERITY = {"mild": 0.4, "default": 0.8, "strong": 1.0}
_FILLER = r" (?:(?:is|are|am|be|being|the|a|an|his|her|my|your|their|its|keep|keeps|kept|still) )*"


@dataclass(frozen=True)
class MotionRequest:
    """What a request asks for. ``None`` fields: not asked (the engine's defaults apply).

    ``faults``: fault -> ``{"severity": 0-1, "side": "l" | "r" | "both"}``; ``side``: the lead leg
    or working arm of a one-sided exercise; ``tempo``: ``"slow"``, ``"fast"`` or ``None``;
    ``eccentric_s`` / ``concentric_s``: seconds down / up when given in numbers; ``notes``: what
    was read but is not rendered.
    """

    text: str
    exercise: str
    reps: int | None = None
    tempo: str | None = None
    eccentric_s: float | None = None
    concentric_s: float | None = None
    depth_deg: float | None = None
    deep: bool = False
    side: str | None = None
    load_kg: float | None = None
    duration_s: float | None = None
    pause: bool = False
    faults: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}


def _normalise(text: str) -> str:
    t = text.lower().replace("\u00b0", " degrees ").replace("'", "")
    t = re.sub(r"(\d)([a-z])", r"\1 \2", t)  # 40kg -> 40 kg, 5x -> 5 x
    t = re.sub(r"\bx(\d)", r"x \1", t)  # x6 -> x 6
    t = re.sub(r"[-_/]", " ", t)
    t = re.sub(r"[^a-z0-9. ]+", " ", t)
    t = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", t)
    return " " + re.sub(r"\s+", " ", t).strip() + " "


def _find(text: str, phrase: str, plural: bool = True) -> list[tuple[int, int]]:
    """Spans of ``phrase`` as whole words in ``text`` (its last word optionally plural)."""
    suffix = r"(?:s|es)?" if plural else ""
    words = phrase.split()
    # Small words may sit between a phrase's words: "butt is in the air", "knees are caving".
    pattern = _FILLER.join(re.escape(w) for w in words[:-1]) + (_FILLER if len(words) > 1 else "")
    pattern += re.escape(words[-1]) + suffix
    return [m.span() for m in re.finditer(r"(?<= )" + pattern + r"(?= )", text)]


def exercise_phrases() -> dict[str, str]:
    """Every phrase that names an exercise -> the exercise (catalogue names and aliases, then
    :data:`EXERCISE_PHRASES`), longest first so that "bent over row" wins over "row"."""
    out: dict[str, str] = {}
    for name, ex in EXERCISES.items():
        for p in (name, *ex.aliases):
            out.setdefault(p.replace("_", " "), name)
    for name, phrases in EXERCISE_PHRASES.items():
        for p in phrases:
            out[p] = name
    return dict(sorted(out.items(), key=lambda kv: -len(kv[0])))


def _fault_phrases() -> list[tuple[str, str]]:
    pairs = [(p, f) for f, ps in FAULT_PHRASES.items() for p in ps]
    pairs += [(_normalise(info.label).strip(), f) for f, info in FAULTS.items()]
    return sorted(set(pairs), key=lambda pf: -len(pf[0]))


def _number(words: list[str], i: int) -> tuple[int | None, int]:
    """The integer starting at ``words[i]`` and how many words it spans (None, 0: none)."""
    w = words[i]
    if re.fullmatch(r"\d+", w):
        return int(w), 1
    if w == "dozen":
        return 12, 1
    if w in NUMBER_WORDS:
        return NUMBER_WORDS[w], 1
    if w in TENS:
        if i + 1 < len(words) and words[i + 1] in NUMBER_WORDS and 0 < NUMBER_WORDS[words[i + 1]] < 10:
            return TENS[w] + NUMBER_WORDS[words[i + 1]], 2
        return TENS[w], 1
    return None, 0


def _value_before(text: str, units: str) -> float | None:
    m = re.search(r"(\d+(?:\.\d+)?) (?:" + units + r")(?= )", text)
    return float(m.group(1)) if m else None


def _side_near(text: str, start: int, end: int) -> str | None:
    """``"l"``/``"r"`` named just before a phrase ("left knee caving") or just after it ("on the left")."""
    before = text[max(0, start - 24) : start]
    after = text[end : end + 24]
    for s, words in (("l", ("left",)), ("r", ("right",))):
        for w in words:
            if re.search(rf" {w}(?: side| leg| knee| foot| heel| arm| elbow| hip)?s? $", before) or re.match(
                rf" (?:on|to|towards|toward|with) the {w}\b", after
            ):
                return s
    return None


def parse_request(text: str) -> MotionRequest:
    """Read ``text`` into a :class:`MotionRequest` (module docstring); :class:`RequestError` when it
    names no exercise, names a fault the exercise does not have, or asks for nothing readable."""
    t = _normalise(text)
    found = []
    for phrase, name in exercise_phrases().items():
        for pos, end in _find(t, phrase):
            if not any(a <= pos < b for a, b, _ in found):
                found.append((pos, end, name))
    names = sorted({n for _, _, n in found})
    if not found:
        raise RequestError(f"{text!r}: no exercise named")
    if len(names) > 1:
        raise RequestError(f"{text!r}: several exercises named ({', '.join(names)}); ask for one at a time")
    exercise = names[0]
    ex = EXERCISES[exercise]
    mask = list(t)
    for a, b, _ in found:
        mask[a:b] = " " * (b - a)
    rest = "".join(mask)
    notes: list[str] = []

    faults: dict[str, dict[str, Any]] = {}
    for phrase, fault in _fault_phrases():
        for pos, end in _find(rest, phrase):
            if fault not in ex.faults:
                raise RequestError(
                    f"{text!r}: {exercise} has no fault {fault!r} ({FAULTS[fault].label}); its faults: "
                    f"{', '.join(sorted(ex.faults)) or 'none'}"
                )
            window = rest[max(0, pos - 16) : pos] + " " + rest[end : end + 10]
            severity = SEVERITY["default"]
            if any(f" {w} " in window + " " for w in MILD):
                severity = SEVERITY["mild"]
            elif any(f" {w} " in window + " " for w in STRONG):
                severity = SEVERITY["strong"]
            side = _side_near(rest, pos, end)
            info = FAULTS[fault]
            entry = faults.setdefault(fault, {"severity": severity, "side": "both" if fault == "knee_valgus" else "r"})
            entry["severity"] = max(entry["severity"], severity)
            if side and info.sided:
                entry["side"] = side
            rest = rest[:pos] + " " * (end - pos) + rest[end:]
    side_anywhere = re.search(r" (left|right)(?: side| sided| leg| arm| only| hand|$| )", rest)
    side = None
    if side_anywhere:
        side = "l" if side_anywhere.group(1) == "left" else "r"
        sided = [f for f in faults if FAULTS[f].sided]
        for f in sided:
            if not _side_explicit(t, f):
                faults[f]["side"] = side
    for w in PHASE_WORDS:
        if f" {w} " in rest and faults:
            notes.append(f"'{w}': the engine shows a fault over the whole repetition, not in one phase")
            rest = rest.replace(f" {w} ", " ")

    depth = _value_before(rest, "degrees|degree|deg")
    load = _value_before(rest, "kg|kilos|kilo|kilograms|kilogram")
    lbs = _value_before(rest, "lb|lbs|pounds|pound")
    if load is None and lbs is not None:
        load = round(0.4536 * lbs, 1)
    if re.search(r" (?:bodyweight|body weight|unloaded|no weight|air) ", t):
        load = 0.0 if load is None else load
    duration = None
    m = re.search(r" for (\d+(?:\.\d+)?) (?:seconds|second|secs|sec|s) ", rest)
    if m:
        duration = float(m.group(1))
    minutes = re.search(r" for (\d+(?:\.\d+)?) (?:minutes|minute|min) ", rest)
    if minutes:
        duration = 60.0 * float(minutes.group(1))
    down = re.search(r" (\d+(?:\.\d+)?) (?:seconds|second|secs|sec|s) (?:down|lowering|on the way down|descent) ", rest)
    up = re.search(r" (\d+(?:\.\d+)?) (?:seconds|second|secs|sec|s) (?:up|rising|on the way up|ascent) ", rest)

    words = rest.split()
    reps = None
    skip = 0
    for i in range(len(words)):
        if skip:
            skip -= 1
            continue
        n, span = _number(words, i)
        if n is None:
            continue
        nxt = words[i + span] if i + span < len(words) else ""
        prev = words[i - 1] if i else ""
        if nxt in UNITS_AFTER or prev in ("for", "to"):
            skip = span - 1
            continue
        if nxt in ("set", "sets"):
            notes.append(f"{n} sets: one set is generated")
            skip = span - 1
            continue
        if reps is None:
            reps = n
        skip = span - 1
    if reps is not None and reps < 1:
        raise RequestError(f"{text!r}: {reps} repetitions")

    tempo = None
    if any(f" {w} " in rest for w in FAST):
        tempo = "fast"
    if any(f" {w} " in rest for w in SLOW):
        tempo = "slow" if tempo is None else None
        if tempo is None:
            notes.append("both slow and fast asked: the engine's normal tempo")
    deep = bool(re.search(r" (?:deep|full depth|ass to grass|atg|all the way down|below parallel) ", t))
    pause = bool(re.search(r" (?:pause|paused|pausing|hold|holding) ", rest))
    return MotionRequest(
        text=text,
        exercise=exercise,
        reps=reps,
        tempo=tempo,
        eccentric_s=float(down.group(1)) if down else None,
        concentric_s=float(up.group(1)) if up else None,
        depth_deg=depth,
        deep=deep,
        side=side,
        load_kg=load,
        duration_s=duration,
        pause=pause,
        faults=faults,
        notes=tuple(notes),
    )


def _side_explicit(text: str, fault: str) -> bool:
    """Whether a side word sits right by one of ``fault``'s phrases (that side wins over a global one)."""
    for phrase in (*FAULT_PHRASES.get(fault, ()), _normalise(FAULTS[fault].label).strip()):
        for pos, end in _find(text, phrase):
            if _side_near(text, pos, end):
                return True
    return False
