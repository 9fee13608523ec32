"""Synthetic (text, motion) pairs for the text<->motion evaluator (issue 20).

A request text is composed from the vocabulary of :mod:`musclepose.language.motion_request` (an
exercise phrase, a repetition count in digits or words, slow/fast, the lead side of a one-sided
exercise, one fault with its side, in several phrasings) and kept only if the reader reads back
exactly what was composed. Its "ground-truth" motion (:func:`render_truth`) is the synthetic
engine's, on a random adult (:func:`musclepose.sim.randomize.sample_body_params`) with every
parameter the text does not fix drawn from the engine's randomisation ranges (a count not asked:
2-8) and the text's own asked for as ``musclepose generate`` reads them
(:func:`musclepose.pipelines.generate.generator_params`). So the ground truth is synthetic and
shares the engine with ``generate``: what differs is the subject, the unasked parameters and noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..body import Body
from ..catalogue import FAULTS
from ..language.motion_request import EXERCISE_PHRASES, FAULT_PHRASES, RequestError, parse_request
from ..motion import Motion
from ..pipelines.generate import ENGINE, generator_params
from ..sim.exercises import generate
from ..sim.randomize import REFERENCE_HEIGHT_M, sample_body_params

__all__ = ["TextSpec", "render_truth", "sample_spec", "sample_text", "still_motion"]

NUMBER_WORDS = "zero one two three four five six seven eight".split()
TEMPO_WORDS = {"slow": ("slow", "slowly", "controlled"), "fast": ("fast", "quick", "explosive")}
REPS = (2, 8)
_SIDE_PHRASE = {"lunge": "{side} leg forward", "bicep_curl": "with the {side} arm only",
                "front_raise": "with the {side} arm only"}  # fmt: skip


@dataclass(frozen=True)
class TextSpec:
    """What a text asks for: ``reps``/``tempo``/``fault``/``side`` None when it does not say."""

    exercise: str
    reps: int | None = None
    tempo: str | None = None
    fault: str | None = None
    fault_side: str | None = None
    side: str | None = None


def sample_spec(rng: np.random.Generator) -> TextSpec:
    exercise = sorted(ENGINE)[int(rng.integers(len(ENGINE)))]
    reps = int(rng.integers(REPS[0], REPS[1] + 1)) if rng.random() < 0.8 else None
    tempo = (None, None, "slow", "fast")[int(rng.integers(4))]
    faults = sorted(ENGINE[exercise].faults)
    fault = side = fault_side = None
    if faults and rng.random() < 0.6:
        fault = faults[int(rng.integers(len(faults)))]
        if FAULTS[fault].sided and rng.random() < 0.5:
            fault_side = "l" if rng.random() < 0.5 else "r"
    if exercise in _SIDE_PHRASE and fault_side is None and rng.random() < 0.4:
        side = "l" if rng.random() < 0.5 else "r"
    return TextSpec(exercise, reps, tempo, fault, fault_side, side)


def _compose(spec: TextSpec, rng: np.random.Generator) -> str:
    pick = lambda xs: xs[int(rng.integers(len(xs)))]  # noqa: E731
    ex = pick(EXERCISE_PHRASES[spec.exercise])
    if spec.reps != 1:
        ex += "es" if ex.endswith(("s", "sh")) else "s"
    count = "" if spec.reps is None else pick((str(spec.reps), NUMBER_WORDS[spec.reps]))
    tempo = "" if spec.tempo is None else pick(TEMPO_WORDS[spec.tempo])
    form = int(rng.integers(3))
    if form == 0:
        text = f"{count} {tempo} {ex}"
    elif form == 1:
        text = f"{tempo} {ex}" + (f", {count} reps" if count else "")
    else:
        text = f"do {count} {ex}" + (f", {tempo}" if tempo else "")
    if spec.side:
        text += " " + _SIDE_PHRASE[spec.exercise].format(side="left" if spec.side == "l" else "right")
    if spec.fault:
        phrase = pick(FAULT_PHRASES[spec.fault])
        if spec.fault_side:
            phrase = f"{'left' if spec.fault_side == 'l' else 'right'} {phrase}"
        text += pick((", {}", " with {}", ", {} throughout")).format(phrase)
    return " ".join(text.split())


def _reads_back(text: str, spec: TextSpec) -> bool:
    try:
        r = parse_request(text)
    except RequestError:
        return False
    if (r.exercise, r.reps, r.tempo, set(r.faults)) != (spec.exercise, spec.reps, spec.tempo, {spec.fault} - {None}):
        return False
    if spec.fault_side and r.faults[spec.fault]["side"] != spec.fault_side:
        return False
    return spec.side is None or r.side == spec.side


def sample_text(rng: np.random.Generator, tries: int = 50) -> tuple[str, TextSpec]:
    """A request text the reader reads back as composed, and what it asks for."""
    for _ in range(tries):
        spec = sample_spec(rng)
        text = _compose(spec, rng)
        if _reads_back(text, spec):
            return text, spec
    raise RuntimeError(f"no readable text in {tries} tries")


def render_truth(text: str, rng: np.random.Generator) -> Motion:
    """A "ground-truth" motion for ``text``: a random adult, the text's requests, the rest random."""
    request = parse_request(text)
    spec = ENGINE[request.exercise]
    h, m, sex = sample_body_params(rng)
    body = Body.standard(h, m, sex)
    scale = h / REFERENCE_HEIGHT_M
    p = {k: float(rng.uniform(lo, hi)) * (scale if k.endswith("_m") else 1.0) for k, (lo, hi) in spec.ranges.items()}
    for key, options in spec.choices.items():
        p[key] = options[int(rng.integers(len(options)))]
    if p.get("load_position") == "none":
        p["load_kg"] = 0.0
    p |= {"noise_deg": float(rng.uniform(0.0, 0.8)), "rep_jitter": float(rng.uniform(0.0, 0.08)),
          "breathing_hz": float(rng.uniform(0.2, 0.3)), "sway_deg": float(rng.uniform(0.3, 1.0))}  # fmt: skip
    asked, _ = generator_params(request, spec, body)
    if request.reps is None and request.duration_s is None:
        asked["reps"] = int(rng.integers(REPS[0], REPS[1] + 1))
    return generate(request.exercise, body, {**p, **asked}, faults=request.faults, rng=int(rng.integers(2**31 - 1)))


def still_motion(motion: Motion) -> Motion:
    """``motion``'s first frame held for its whole length: the trivial "stand still" baseline."""
    q = motion.q[:1].expand(motion.n_frames, -1).clone()
    return Motion(q, motion.fps, motion.body)
