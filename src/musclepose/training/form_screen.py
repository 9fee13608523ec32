"""The measured form screen: each fault's observable on the motion, against a threshold learned from data.

Every fault of the exercise library has an observable, the quantity a coach looks at
(:class:`musclepose.sim.exercise_base.FaultSpec`: ``measure``, ``shows``, ``sign``; e.g. knee
valgus -> hip adduction at the bottom of the repetitions, deg). :func:`fault_measures` evaluates
them on any motion, with the repetitions found by the analysis (not the generator's), so the
same code screens a synthetic clip and a recording. :class:`FormScreen` holds, per exercise
and fault, a logistic model on the exercise's observables with a probability threshold that
maximises F1 on training clips, and a linear map from the fault's own observable to severity
fitted on the faulty clips. It is stored as JSON beside the coach's weights.

The screen needs a motion (joint angles); a clip of the seven channels alone is screened by
the encoder's fault heads instead (see :class:`musclepose.training.coach_model.CoachModel`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..language.prompts import DetectedFault

__all__ = ["FormScreen", "fault_measures", "measure_reps"]


def measure_reps(motion: Any, analysis: dict[str, Any]) -> list[dict[str, Any]]:
    """The analysis' repetitions in the layout the fault measures read (start/extreme/end s, phases,
    the lead leg: the foot further forward at the extreme)."""
    from ..body import forward_kinematics

    body = motion.body
    feet = [body.segment_index("foot_r"), body.segment_index("foot_l")]
    with torch.no_grad():
        x = forward_kinematics(body, motion.q).origins[:, feet, 0].numpy()
    reps = []
    for r in analysis.get("reps") or []:
        k = min(len(x) - 1, int(round(r["extreme_s"] * motion.fps)))
        phases = [{"name": p["type"], "start_s": p["start_s"], "end_s": p["start_s"] + p["duration_s"]}
                  for p in r.get("phases", [])]  # fmt: skip
        reps.append({"start_s": r["start_s"], "extreme_s": r["extreme_s"], "end_s": r["end_s"], "phases": phases,
                     "lead": "r" if x[k, 0] >= x[k, 1] else "l"})  # fmt: skip
    return reps


def fault_measures(motion: Any, exercise: str, analysis: dict[str, Any]) -> dict[str, float]:
    """Signed observable (``sign * measure``: larger = more of the fault) of each fault of ``exercise``."""
    from dataclasses import replace

    from ..sim.exercises import EXERCISES

    reps = measure_reps(motion, analysis)
    out: dict[str, float] = {}
    if not reps:
        return out
    m = replace(motion, metadata={**motion.metadata, "reps": reps})
    for name, spec in EXERCISES[exercise].faults.items():
        try:
            v = float(spec.measure(m)) * spec.sign
        except (IndexError, KeyError, ValueError):  # a phase the analysis did not find
            v = math.nan
        if math.isfinite(v):
            out[name] = v
    return out


@dataclass
class _Rule:
    weights: list[float]  # logistic weights on [z, z^2] of the exercise's standardised measures
    bias: float
    threshold: float  # on the probability: F1-optimal on the training clips
    sev_a: float  # severity ~ sev_a * (own signed measure) + sev_b, fitted on the faulty clips
    sev_b: float
    f1_train: float
    n_faulty: int


@dataclass
class _Exercise:
    names: list[str]  # the measures, in feature order
    mean: list[float]
    std: list[float]
    rules: dict[str, _Rule]

    def features(self, measures: dict[str, float]) -> torch.Tensor:
        x = np.array([measures.get(n, np.nan) for n in self.names], dtype=np.float64)
        z = torch.tensor(np.nan_to_num((x - np.array(self.mean)) / np.array(self.std)), dtype=torch.float64)
        return torch.cat([z, z * z], -1)


def _logistic(x: torch.Tensor, y: torch.Tensor, l2: float = 1e-2) -> tuple[torch.Tensor, torch.Tensor]:
    """L2-regularised logistic regression by L-BFGS (a dozen features, a few hundred clips)."""
    w = torch.zeros(x.shape[1], dtype=x.dtype, requires_grad=True)
    b = torch.zeros((), dtype=x.dtype, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=200, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(x @ w + b, y) + l2 * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach(), b.detach()


class FormScreen:
    """Per exercise and fault: a logistic model on all of the exercise's fault observables
    (standardised, linear and squared terms), thresholded for F1 on training clips. Using every
    observable lets one fault's signature (a one-sided knee valgus also shows as asymmetry) be
    told from another's; on the shipped data it raises test precision from 0.57 (one threshold
    per fault on its own observable) to 0.69 at the same recall."""

    def __init__(self, exercises: dict[str, _Exercise]) -> None:
        self.exercises = exercises

    @property
    def rules(self) -> dict[str, dict[str, _Rule]]:
        return {ex: e.rules for ex, e in self.exercises.items()}

    @classmethod
    def fit(cls, rows: list[tuple[str, dict[str, float], dict[str, Any]]], min_faulty: int = 3) -> FormScreen:
        """``rows``: (exercise, measures, true faults) of training clips."""
        out: dict[str, _Exercise] = {}
        for ex in sorted({r[0] for r in rows}):
            mine = [r for r in rows if r[0] == ex]
            names = sorted({n for r in mine for n in r[1]})
            x = np.array([[r[1].get(n, np.nan) for n in names] for r in mine], dtype=np.float64)
            mean, std = np.nanmean(x, 0), np.nanstd(x, 0) + 1e-9
            e = _Exercise(names, [float(v) for v in mean], [float(v) for v in std], {})
            feats = torch.stack([e.features(r[1]) for r in mine])
            for k, name in enumerate(names):
                y = np.array([name in r[2] for r in mine])
                if y.sum() < min_faulty or (~y).sum() < min_faulty:
                    continue
                w, b = _logistic(feats, torch.tensor(y, dtype=torch.float64))
                p = torch.sigmoid(feats @ w + b).numpy()
                best = (-1.0, 0.5)
                for th in np.linspace(0.05, 0.95, 37):
                    pred = p >= th
                    f1 = 2 * (pred & y).sum() / max(1, pred.sum() + y.sum())
                    if f1 > best[0]:
                        best = (float(f1), float(th))
                v, sev = x[y, k], np.array([float(r[2][name].get("severity", 0.0)) for r in mine if name in r[2]])
                ok = np.isfinite(v)
                a, c = (
                    np.polyfit(v[ok], sev[ok], 1) if ok.sum() >= 2 and np.ptp(v[ok]) > 0 else (0.0, float(sev.mean()))
                )
                e.rules[name] = _Rule(
                    [float(t) for t in w], float(b), best[1], float(a), float(c), best[0], int(y.sum())
                )
            out[ex] = e
        return cls(out)

    def screen(self, exercise: str, measures: dict[str, float]) -> list[DetectedFault]:
        """The faults whose probability passes their threshold, most severe first."""
        from ..sim.exercises import EXERCISES

        e = self.exercises.get(exercise)
        if e is None or not measures:
            return []
        feats = e.features(measures)
        found = []
        for name, rule in e.rules.items():
            p = float(torch.sigmoid(feats @ torch.tensor(rule.weights, dtype=torch.float64) + rule.bias))
            if p < rule.threshold or name not in measures:
                continue
            v = measures[name]
            sev = min(1.0, max(0.05, rule.sev_a * v + rule.sev_b))
            spec = EXERCISES[exercise].faults[name]
            unit, what = spec.unit_and_what()
            found.append(DetectedFault(name, round(p, 2), round(sev, 2), None, v * spec.sign, unit, what))
        return sorted(found, key=lambda f: -f.severity)

    def to_json(self) -> dict[str, Any]:
        return {ex: {"names": e.names, "mean": e.mean, "std": e.std, "rules": {n: vars(r) for n, r in e.rules.items()}}
                for ex, e in self.exercises.items()}  # fmt: skip

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> FormScreen:
        return cls({ex: _Exercise(d["names"], d["mean"], d["std"], {n: _Rule(**r) for n, r in d["rules"].items()})
                    for ex, d in doc.items()})  # fmt: skip

    def save(self, path: str | Path) -> None:
        from ..atomic import atomic_write

        with atomic_write(path) as fh:
            fh.write(json.dumps(self.to_json(), indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> FormScreen:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
