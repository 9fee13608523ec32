"""A rule-based expert coach: feedback text from measured facts about one clip.

This writes the ``LANGUAGE`` supervision text of synthetic clips (the seed's clip-JSON field):
it names each fault, explains its biomechanical consequence with the clip's own numbers and
gives a cue, with varied phrasing. Rules of the text:

- every number in it comes from :class:`CoachFacts` (tested: the numbers of a text are a
  subset of ``facts.numbers()``); it never invents a value;
- faults are ordered by severity; without faults it says what went well;
- the text is a *target*: it must never be given to a model as input (the seed's
  implementation leaked it into the prompt; see ../shared/ARCHITECTURE.md).

The consequences and cues summarise standard strength-and-conditioning and clinical
biomechanics teaching: Hewett et al. 2005 (Am J Sports Med 33:492, knee valgus and ACL
load), Schoenfeld 2010 (J Strength Cond Res 24:3497, squat depth, trunk lean, heel lift),
McGill 2007 (*Low Back Disorders*, lumbar flexion under load, bracing), Escamilla 2001
(Med Sci Sports Exerc 33:127, knee and hip moments in squats), Lehman 2004 / Cools 2007
(shoulder impingement in pressing with flared elbows), Contreras et al. 2012 (push-up
alignment), Kraemer & Ratamess 2004 (tempo and eccentric control).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "FAULT_KNOWLEDGE",
    "SIDED_FAULTS",
    "UPPER_BODY",
    "CoachFacts",
    "FaultFact",
    "coach_text",
    "fmt_value",
    "numbers_in",
    "peak_extensor_moments",
    "strength_word",
]


UPPER_BODY = frozenset({"push_up", "overhead_press", "bent_over_row"})
SIDED_FAULTS = frozenset({"knee_valgus", "asymmetric_drive", "heel_lift", "elbow_flare", "knee_over_toe"})
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


# name -> (label, consequence, cues)
FAULT_KNOWLEDGE: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "knee_valgus": (
        "knees caving inward",
        "it loads the knee in the frontal plane, where the ligaments and the kneecap take stress the muscles should",
        (
            "push your knees out over your toes",
            "spread the floor apart with your feet",
            "track the knees over the second toe",
        ),  # noqa: E501
    ),
    "shallow_depth": (
        "shallow depth",
        "the hips and thighs work through less range, so the glutes and quadriceps get less of the training effect",
        (
            "sit down until your hip crease passes your knees",
            "own the bottom position before you stand",
            "go lower, under control",
        ),  # noqa: E501
    ),
    "forward_lean": (
        "too much forward lean",
        "the load moves away from the hips, which raises the moment the lower back has to hold",
        ("keep your chest up", "stay tall through the torso", "brace and lead with the chest"),
    ),
    "heel_lift": (
        "heels lifting",
        "the weight shifts onto the forefoot, the base of support shrinks and the knees take more shear",
        ("keep your weight through the whole foot", "screw your heels into the floor", "stay heavy on the heels"),
    ),
    "asymmetric_drive": (
        "uneven drive between the legs",
        "one side does more of the work, which builds an imbalance over time",
        ("drive evenly through both feet", "feel both legs push at the same time", "keep the hips level as you rise"),
    ),
    "bar_path_drift": (
        "the bar drifting forward",
        "every centimetre away from mid-foot lengthens the lever arm at the hips and lower back",
        ("keep the bar over mid-foot", "keep the load close to your body", "move the bar in a straight vertical line"),
    ),
    "lumbar_flexion": (
        "the lower back rounding",
        "a flexed spine under load concentrates stress on the discs instead of the muscles around them",
        ("brace your core and keep a neutral spine", "keep your back flat", "hinge at the hips, not the spine"),
    ),
    "elbow_flare": (
        "elbows flaring out",
        "it puts the shoulder in a position that narrows the space for the rotator cuff",
        (
            "tuck your elbows in toward your sides",
            "keep the elbows under the wrists",
            "screw the hands into the floor",
        ),  # noqa: E501
    ),
    "hip_sag": (
        "the hips sagging",
        "the lower back hyperextends and the core stops carrying the load",
        (
            "squeeze your glutes and keep a straight line from head to heels",
            "brace like a plank",
            "lift the hips to body line",
        ),  # noqa: E501
    ),
    "rushed_eccentric": (
        "rushing the lowering phase",
        "a fast descent reduces control and time under tension and raises the forces at the bottom",
        ("lower under control", "take your time on the way down", "slow the descent and pause briefly at the bottom"),
    ),
    "incomplete_lockout": (
        "not finishing the repetition",
        "the last part of the range, where the muscles are shortest, goes untrained",
        ("finish each repetition fully extended", "lock out at the top", "stand all the way up"),
    ),
    "hip_pike": (
        "the hips piking up",
        "the shoulders take more of the body weight and the core and chest work through less range",
        (
            "lower the hips into one straight line",
            "keep head, hips and heels aligned",
            "brace the abs to flatten the body",
        ),  # noqa: E501
    ),
    "lumbar_hyperextension": (
        "the lower back arching",
        "an arched spine under load compresses the back of the vertebrae",
        (
            "ribs down, brace the core",
            "squeeze the glutes to keep the pelvis neutral",
            "keep the ribcage stacked over the pelvis",
        ),  # noqa: E501
    ),
    "narrow_stance": (
        "a narrow stance",
        "a small base of support makes balance harder and limits how deep the hips can go",
        ("set your feet about shoulder width apart", "widen your stance a little", "turn the toes slightly out"),
    ),
    "knee_over_toe": (
        "the front knee travelling far past the toes",
        "it raises the load on the front of the knee",
        ("sit back into the lunge", "keep the front shin more vertical", "step a little longer"),
    ),
    "arms_not_overhead": (
        "arms not reaching overhead",
        "the shoulders work through less range",
        ("reach all the way overhead", "clap the hands above your head", "finish the arm swing at the top"),
    ),
    "torso_swing": (
        "the torso swinging",
        "energy leaks sideways instead of going into the movement",
        ("keep the torso still", "brace before each repetition", "stay stacked over the hips"),
    ),
}

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


def strength_word(severity: float) -> str:
    """How the coach words a severity in [0, 1]: ``pronounced`` (>= 0.6), ``moderate`` (>= 0.3), ``slight``."""
    return "pronounced" if severity >= 0.6 else "moderate" if severity >= 0.3 else "slight"


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
    faults = sorted((f for f in facts.faults if f.name in FAULT_KNOWLEDGE), key=lambda f: -f.severity)
    for k, f in enumerate(faults):
        label, consequence, cues = FAULT_KNOWLEDGE[f.name]
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
