"""The measured form screen: each fault's observable on the motion, against thresholds learned from data.

Every fault of the exercise library has an observable, the quantity a coach looks at
(:class:`musclepose.catalogue.FaultSpec`: ``measure``, ``shows``, ``sign``; e.g. knee
valgus -> hip adduction at the bottom of the repetitions, deg). :func:`fault_measures` evaluates
them on any motion with the repetitions the analysis found (not the generator's), so the same code
screens a synthetic clip and a recording. :class:`FormScreen` holds, per exercise and fault, a
logistic model on the exercise's observables with a probability threshold, and a linear map from
the fault's own observable to severity (fitted by :func:`musclepose.training.form_screen.fit_form_screen`);
it is stored as JSON beside the coach's weights. A clip of the seven channels alone has no motion
to measure: the encoder's fault heads screen it instead (:func:`.labels.detect_faults`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..atomic import atomic_write
from ..body import forward_kinematics
from ..catalogue import EXERCISES, Observation, Rep, measure_exercise, measure_faults
from ..language.prompts import DetectedFault
from ..motion import Motion

__all__ = [
    "ExerciseScreen",
    "FaultRule",
    "FormScreen",
    "clip_measures",
    "exercise_measures",
    "fault_measures",
    "grf_in_bw",
    "is_video",
    "measure_reps",
    "threshold_screen",
]


def measure_reps(motion: Any, analysis: dict[str, Any]) -> list[dict[str, Any]]:
    """The analysis' repetitions in the layout the fault measures read (start/extreme/end s, phases,
    the lead leg: the foot further forward at the extreme)."""
    body = motion.body
    feet = [body.segment_index("foot_r"), body.segment_index("foot_l")]
    rows = analysis.get("reps") or []
    # The feet at each repetition's extreme only: forward kinematics of those frames, not of the
    # whole recording (an hour at 100 Hz would hold 360,000 frames of every segment's pose).
    ks = [min(motion.n_frames - 1, int(round(r["extreme_s"] * motion.fps))) for r in rows]
    if ks:
        with torch.no_grad():
            x = forward_kinematics(body, motion.q[ks]).origins[:, feet, 0].numpy()
    reps = []
    for i, r in enumerate(rows):
        phases = [{"name": p["type"], "start_s": p["start_s"], "end_s": p["start_s"] + p["duration_s"]}
                  for p in r.get("phases", [])]  # fmt: skip
        reps.append({"start_s": r["start_s"], "extreme_s": r["extreme_s"], "end_s": r["end_s"], "phases": phases,
                     "lead": "r" if x[i, 0] >= x[i, 1] else "l"})  # fmt: skip
    return reps


def _observation(motion: Any, analysis: dict[str, Any], trusted=None, grf_bw=None, step: int = 1) -> Observation:
    reps = [Rep.from_dict(r) for r in measure_reps(motion, analysis)]
    if step > 1:  # observables at a lower rate (the coach's 20 Hz): same repetitions, in s
        motion = Motion(motion.q[::step], motion.fps / step, motion.body, motion.metadata)
        trusted = None if trusted is None else np.asarray(trusted)[::step]
        grf_bw = None if grf_bw is None else {k: np.asarray(v)[::step] for k, v in grf_bw.items()}
    return Observation(motion, reps, grf_bw=grf_bw, trusted=trusted)


def fault_measures(
    motion: Any, exercise: str, analysis: dict[str, Any], *, trusted=None, grf_bw=None, step: int = 1
) -> dict[str, float]:
    """Signed observable (``sign * measure``: larger = more of the fault) of each fault of ``exercise``.

    ``trusted`` ``(T,)``: the frames a finding may come from (:mod:`musclepose.signals.plausibility`);
    ``grf_bw``: vertical ground reaction per foot in body weights (``"foot_r"``/``"foot_l"`` ->
    ``(T,)``) for the measures that need it; ``step``: measure on every ``step``-th frame."""
    return measure_faults(_observation(motion, analysis, trusted, grf_bw, step), exercise)


def exercise_measures(
    motion: Any, exercise: str, analysis: dict[str, Any], *, trusted=None, grf_bw=None
) -> dict[str, float]:
    """The catalogue's other measures of ``exercise`` (a drop jump's landing, a run's stances;
    :class:`~musclepose.catalogue.Measure`) on ``motion``, arguments as :func:`fault_measures`."""
    return measure_exercise(_observation(motion, analysis, trusted, grf_bw), exercise)


def clip_measures(motion: Any, exercise: str | None, analysis: Any, kinetics: Any = None) -> dict[str, float] | None:
    """:func:`exercise_measures` of an analysed recording (``analysis`` an :class:`~musclepose.signals.Analysis`):
    None without an exercise or when the recording does not show it (``analysis.screenable``)."""
    if not exercise or not analysis.screenable:
        return None
    rel = analysis.reliability
    trusted = None if rel is None else rel.trusted
    return exercise_measures(motion, exercise, analysis.to_dict(), trusted=trusted, grf_bw=grf_in_bw(kinetics))


def grf_in_bw(kinetics: Any) -> dict[str, np.ndarray] | None:
    """The vertical ground reaction per foot of ``kinetics`` in body weights (None without kinetics)."""
    if kinetics is None:
        return None
    w = kinetics.mass_kg * 9.81
    return {f: np.asarray(g)[:, 1] / w for f, g in kinetics.grf.items() if f.startswith("foot_")}


@dataclass
class FaultRule:
    """One (exercise, fault) of the screen."""

    weights: list[float]  # logistic weights on [z, z^2] of the exercise's standardised measures, then on ``pairs``
    bias: float
    threshold: float  # on the probability: F1-optimal on the training clips
    sev_a: float  # severity ~ sev_a * (own signed measure) + sev_b, fitted on the faulty clips
    sev_b: float
    f1_train: float
    n_faulty: int
    # Interaction features of this rule alone: z_a * z_b of the named measures (empty: none; the shipped
    # rules have none, scripts/refit_form_screen.py --tune tries them).
    pairs: list[list[str]] = field(default_factory=list)


@dataclass
class ExerciseScreen:
    """The screen of one exercise: its measures' standardisation and a rule per fault."""

    names: list[str]  # the measures, in feature order
    mean: list[float]
    std: list[float]
    rules: dict[str, FaultRule]

    def features(self, measures: dict[str, float]) -> torch.Tensor:
        x = np.array([measures.get(n, np.nan) for n in self.names], dtype=np.float64)
        # Clipped: a recording far outside the training clips in one observable (a real squat's spine
        # flexion, 4 standard deviations beyond the synthetic clean squats') would otherwise swing every
        # other fault's model through its squared term.
        z = np.clip(np.nan_to_num((x - np.array(self.mean)) / np.array(self.std)), -Z_MAX, Z_MAX)
        z = torch.tensor(z, dtype=torch.float64)
        return torch.cat([z, z * z], -1)

    def rule_features(self, feats: torch.Tensor, pairs: list[list[str]] | list[tuple[str, str]]) -> torch.Tensor:
        """``feats`` (:meth:`features`, ``(..., 2n)``) with the products ``z_a * z_b`` of ``pairs`` appended."""
        if not pairs:
            return feats
        z = feats[..., : len(self.names)]
        idx = self.names.index
        return torch.cat([feats, torch.stack([z[..., idx(a)] * z[..., idx(b)] for a, b in pairs], -1)], -1)


def threshold_screen(exercise: str, measures: dict[str, float]) -> list[DetectedFault]:
    """Faults whose signed measure reaches the catalogue's published cut-off (``FaultSpec.threshold``);
    severity from 0.2 at the cut-off to 1 at twice it (probability 1: a rule, not a model)."""
    ex = EXERCISES.get(exercise)
    found = []
    for name, spec in (ex.faults if ex is not None else {}).items():
        if spec.threshold is None or name not in measures or measures[name] < spec.threshold:
            continue
        over = (measures[name] - spec.threshold) / max(abs(spec.threshold), 1e-9)
        unit, what = spec.unit_and_what()
        sev = round(min(1.0, 0.2 + 0.8 * over), 2)
        found.append(DetectedFault(name, 1.0, sev, None, measures[name] * spec.sign, unit, what))
    return sorted(found, key=lambda f: -f.severity)


#: Standardised observables are clipped to +-Z_MAX before the logistic models (see ExerciseScreen.features).
Z_MAX = 4.0


class FormScreen:
    """Per exercise and fault: a logistic model on all of the exercise's fault observables
    (standardised, linear and squared terms, and a rule's own products of two, ``FaultRule.pairs``),
    thresholded for F1 on training clips. Using every
    observable lets one fault's signature (a one-sided knee valgus also shows as asymmetry) be
    told from another's; on the shipped data it raises test precision from 0.57 (one threshold
    per fault on its own observable) to 0.69 at the same recall."""

    def __init__(self, exercises: dict[str, ExerciseScreen], video_floors: dict[str, dict[str, float]] | None = None):
        self.exercises = exercises
        # Per exercise and fault: the observable's value that a motion fitted from a camera reaches on
        # correct form (a high quantile over synthetic clips filmed and fitted; ``form_screen_video.json``
        # beside the screen, ``scripts/fit_camera_screen.py``). On video a finding must pass it too: the
        # monocular fit's centimetre-scale noise otherwise read as knee valgus, heel lift and weight shift.
        self.video_floors = video_floors or {}

    @property
    def rules(self) -> dict[str, dict[str, FaultRule]]:
        return {ex: e.rules for ex, e in self.exercises.items()}

    def screen(self, exercise: str, measures: dict[str, float], video: bool = False) -> list[DetectedFault]:
        """The faults whose probability passes their threshold, most severe first; for an exercise
        the screen was not fitted on (no synthetic generator: a drop jump), the catalogue's published
        cut-offs (:func:`threshold_screen`). ``video``: the motion was fitted from a camera (see
        :func:`is_video`): a fault's observable must also pass its video floor."""
        floors = self.video_floors.get(exercise, {}) if video else {}
        e = self.exercises.get(exercise)
        if not measures:
            return []
        if e is None:
            return threshold_screen(exercise, measures)
        feats = e.features(measures)
        found = []
        for name, rule in e.rules.items():
            x = e.rule_features(feats, rule.pairs)
            p = float(torch.sigmoid(x @ torch.tensor(rule.weights, dtype=torch.float64) + rule.bias))
            if p < rule.threshold or name not in measures:
                continue
            v = measures[name]
            spec = EXERCISES[exercise].faults[name]
            if spec.normal is not None and v <= spec.normal:
                continue  # within what healthy people show (published): not a fault, whatever the model says
            if name in floors and v <= floors[name]:
                continue  # within what the camera fit shows on correct form
            sev = min(1.0, max(0.05, rule.sev_a * v + rule.sev_b))
            unit, what = spec.unit_and_what()
            found.append(DetectedFault(name, round(p, 2), round(sev, 2), None, v * spec.sign, unit, what))
        return sorted(found, key=lambda f: -f.severity)

    def to_json(self) -> dict[str, Any]:
        def rule(r: FaultRule) -> dict[str, Any]:
            return {k: v for k, v in vars(r).items() if k != "pairs" or v}  # no interactions: the previous layout

        return {ex: {"names": e.names, "mean": e.mean, "std": e.std, "rules": {n: rule(r) for n, r in e.rules.items()}}
                for ex, e in self.exercises.items()}  # fmt: skip

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> FormScreen:
        return cls({ex: ExerciseScreen(d["names"], d["mean"], d["std"],
                                       {n: FaultRule(**r) for n, r in d["rules"].items()})
                    for ex, d in doc.items()})  # fmt: skip

    def save(self, path: str | Path) -> None:
        with atomic_write(path) as fh:
            fh.write(json.dumps(self.to_json(), indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> FormScreen:
        """The screen in ``path``, with the video floors of ``form_screen_video.json`` beside it if present."""
        screen = cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
        video = Path(path).with_name(VIDEO_FLOORS_FILE)
        if video.is_file():
            screen.video_floors = json.loads(video.read_text(encoding="utf-8"))["floors"]
        return screen


VIDEO_FLOORS_FILE = "form_screen_video.json"


def is_video(motion: Any) -> bool:
    """Whether ``motion`` was fitted from a camera's keypoints (:mod:`musclepose.motion.video_fit`)."""
    meta = getattr(motion, "metadata", None)
    return isinstance(meta, dict) and "video_fit" in meta
