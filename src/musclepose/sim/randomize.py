"""Domain randomisation for the exercise library: subjects, tempo, depth, noise and faults.

Everything is drawn from one seeded ``numpy.random.Generator``, so a seed reproduces a clip
exactly (:func:`sample_clip_params` then :meth:`ClipParams.generate`).

Subjects
    Sex 50/50. Stature normal, truncated at +-2.5 SD: men 175.3 cm, women 161.3 cm (adult
    means, NHANES 2015-2018: Fryar et al. 2021, *Vital Health Stat* 3(46), Anthropometric
    reference data for children and adults, United States 2015-2018) with SD 7.2 cm and
    6.6 cm (2.85 in and 2.58 in: NCHS *Vital Health Stat* Series 11 No. 8, 1965, adults
    18-79). Body mass from a body-mass index drawn normal(26, 4) truncated to 18.5-38 kg/m^2:
    somewhat leaner than the US adult mean (~29.5 in the 2015-2018 survey), as people who
    are recorded exercising tend to be.
Exercise parameters
    Uniform within each exercise's ``ranges`` (:data:`.exercises.GENERATORS`), which
    ``scripts/calibrate_exercises.py`` checks cover real recordings (lengths scaled by
    stature / 1.75 m); the number of
    repetitions uniform in ``reps_range``; smooth joint-angle noise RMS uniform in
    ``noise_deg_range``; each repetition's durations and depth vary by up to
    ``rep_jitter_max``; breathing sway amplitude and rate in their normal ranges.
Faults
    With probability ``fault_rate`` a clip has one fault, or two (one in four of the faulty
    clips), chosen uniformly among the exercise's faults, with severity uniform in
    ``severity_range`` and a random side.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..body import Body
from ..motion import Motion
from .exercises import GENERATORS, generate

__all__ = [
    "ANTHROPOMETRY",
    "ClipParams",
    "random_clip",
    "sample_body_params",
    "sample_clip_params",
    "sample_exercise_params",
    "sample_faults",
]

# Adult stature (m): mean, SD (see the module docstring for sources).
ANTHROPOMETRY: dict[str, dict[str, float]] = {
    "male": {"height_mean_m": 1.753, "height_sd_m": 0.072},
    "female": {"height_mean_m": 1.613, "height_sd_m": 0.066},
}
BMI_MEAN, BMI_SD, BMI_RANGE = 26.0, 4.0, (18.5, 38.0)
REFERENCE_HEIGHT_M = 1.75  # the exercise ranges' lengths are for this stature


@functools.lru_cache(maxsize=256)
def _standard_body(height_m: float, mass_kg: float, sex: str) -> Body:
    # A subject appears in about eight clips of a dataset: its (immutable) body, and the tensors
    # and muscle parameters the body caches, are built once per process instead of per clip.
    return Body.standard(height_m, mass_kg, sex)


@dataclass(frozen=True)
class ClipParams:
    """Everything needed to regenerate one random clip."""

    exercise: str
    height_m: float
    mass_kg: float
    sex: str
    params: dict[str, Any]
    faults: dict[str, dict[str, Any]] = field(default_factory=dict)
    seed: int = 0

    def body(self) -> Body:
        return _standard_body(self.height_m, self.mass_kg, self.sex)

    def generate(self) -> Motion:
        """The clip (noise and jitter drawn from ``seed``); ``metadata["randomization"]`` records this."""
        m = generate(self.exercise, self.body(), self.params, self.faults, np.random.default_rng(self.seed))
        m.metadata["randomization"] = self.to_dict()
        return m

    def to_dict(self) -> dict[str, Any]:
        return {
            "exercise": self.exercise,
            "height_m": self.height_m,
            "mass_kg": self.mass_kg,
            "sex": self.sex,
            "params": dict(self.params),
            "faults": {k: dict(v) for k, v in self.faults.items()},
            "seed": self.seed,
        }


def _truncnorm(rng: np.random.Generator, mean: float, sd: float, lo: float, hi: float) -> float:
    for _ in range(1000):
        x = rng.normal(mean, sd)
        if lo <= x <= hi:
            return float(x)
    return float(np.clip(mean, lo, hi))


def sample_body_params(rng: np.random.Generator, sex: str | None = None) -> tuple[float, float, str]:
    """``(height_m, mass_kg, sex)`` of a random adult (see the module docstring)."""
    sex = sex or ("male" if rng.random() < 0.5 else "female")
    a = ANTHROPOMETRY[sex]
    h = _truncnorm(
        rng,
        a["height_mean_m"],
        a["height_sd_m"],
        a["height_mean_m"] - 2.5 * a["height_sd_m"],
        a["height_mean_m"] + 2.5 * a["height_sd_m"],
    )
    bmi = _truncnorm(rng, BMI_MEAN, BMI_SD, *BMI_RANGE)
    return round(h, 4), round(bmi * h * h, 2), sex


def sample_exercise_params(
    exercise: str,
    rng: np.random.Generator,
    height_m: float = 1.75,
    reps_range: tuple[int, int] = (3, 8),
    noise_deg_range: tuple[float, float] = (0.0, 0.8),
    rep_jitter_max: float = 0.08,
) -> dict[str, Any]:
    """Random parameters for ``exercise``: uniform within its spec's ranges, plus reps, noise, sway.

    Lengths (``*_m``) in the ranges are for a 1.75 m subject and scale with ``height_m``.
    """
    spec = GENERATORS[exercise]
    scale = height_m / REFERENCE_HEIGHT_M
    p: dict[str, Any] = {
        k: float(rng.uniform(lo, hi)) * (scale if k.endswith("_m") else 1.0) for k, (lo, hi) in spec.ranges.items()
    }
    p["reps"] = int(rng.integers(reps_range[0], reps_range[1] + 1))
    p["noise_deg"] = float(rng.uniform(*noise_deg_range))
    p["rep_jitter"] = float(rng.uniform(0.0, rep_jitter_max))
    p["breathing_hz"] = float(rng.uniform(0.2, 0.3))
    if "sway_m" not in spec.ranges and spec.defaults.get("sway_m", 0.0) > 0:
        p["sway_m"] = float(rng.uniform(0.001, 0.005))
    p["sway_deg"] = float(rng.uniform(0.3, 1.0))
    for key, options in spec.choices.items():
        p[key] = options[int(rng.integers(len(options)))]
    if p.get("load_position") == "none":
        p["load_kg"] = 0.0
    return p


def sample_faults(
    exercise: str,
    rng: np.random.Generator,
    fault_rate: float = 0.5,
    severity_range: tuple[float, float] = (0.2, 1.0),
) -> dict[str, dict[str, Any]]:
    """Random faults for ``exercise``: none with probability ``1 - fault_rate``, else one or two."""
    names = sorted(GENERATORS[exercise].faults)
    if not names or rng.random() >= fault_rate:
        return {}
    n = 2 if (len(names) > 1 and rng.random() < 0.25) else 1
    chosen = rng.choice(names, size=n, replace=False)
    out = {}
    for name in chosen:
        side = "both" if name == "knee_valgus" and rng.random() < 0.5 else ("r" if rng.random() < 0.5 else "l")
        out[str(name)] = {"severity": float(rng.uniform(*severity_range)), "side": side}
    return out


def sample_clip_params(
    rng: np.random.Generator,
    exercises: Sequence[str] | None = None,
    fault_rate: float = 0.5,
    **kwargs: Any,
) -> ClipParams:
    """One random clip's parameters: exercise, subject, exercise parameters, faults and a noise seed."""
    names = list(exercises) if exercises is not None else sorted(GENERATORS)
    unknown = [e for e in names if e not in GENERATORS]
    if unknown:
        raise KeyError(f"unknown exercise(s) {unknown}; known: {sorted(GENERATORS)}")
    exercise = names[int(rng.integers(len(names)))]
    h, m, sex = sample_body_params(rng)
    params = sample_exercise_params(exercise, rng, h, **kwargs)
    faults = sample_faults(exercise, rng, fault_rate)
    return ClipParams(exercise, h, m, sex, params, faults, int(rng.integers(2**31 - 1)))


def random_clip(rng: np.random.Generator | int, exercises: Sequence[str] | None = None, **kwargs: Any) -> Motion:
    """A random clip (:func:`sample_clip_params` then :meth:`ClipParams.generate`)."""
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    return sample_clip_params(rng, exercises, **kwargs).generate()
