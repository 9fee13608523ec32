"""Fitting the measured form screen (:class:`musclepose.pipelines.form_screen.FormScreen`) on training clips.

Per exercise: its fault observables are standardised (mean, std over the clips); per fault with
at least ``min_faulty`` faulty and clean clips, an L2-regularised logistic regression on the
linear and squared standardised observables (and, where ``interactions`` asks, products of two of
them), the probability threshold that maximises F1 on the
training clips, and a least-squares line from the fault's own signed observable to its severity.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..pipelines.form_screen import ExerciseScreen, FaultRule, FormScreen

__all__ = ["fit_form_screen"]


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


def fit_form_screen(
    rows: list[tuple[str, dict[str, float], dict[str, Any]]],
    min_faulty: int = 3,
    interactions: dict[str, dict[str, list[tuple[str, str]]]] | None = None,
    base: FormScreen | None = None,
    l2: float | dict[str, dict[str, float]] = 1e-2,
) -> FormScreen:
    """The screen of ``rows``: (exercise, signed measures, true faults) of training clips.

    ``interactions``: exercise -> fault -> pairs of measures whose standardised product joins that
    fault's model (:attr:`FaultRule.pairs`; a pair naming a measure the exercise lacks is left out).
    ``base``: standardise an exercise it holds with its measures, means and SDs (not the rows'), so that a
    rule fitted here can replace one of ``base``'s beside its other rules. ``l2``: the logistic models' weight
    penalty (on the mean log-loss), or exercise -> fault -> penalty (1e-2 for a fault it does not name)."""
    out: dict[str, ExerciseScreen] = {}
    for ex in sorted({r[0] for r in rows}):
        mine = [r for r in rows if r[0] == ex]
        kept = None if base is None else base.exercises.get(ex)
        names = sorted({n for r in mine for n in r[1]}) if kept is None else list(kept.names)
        x = np.array([[r[1].get(n, np.nan) for n in names] for r in mine], dtype=np.float64)
        mean, std = np.nanmean(x, 0), np.nanstd(x, 0) + 1e-9
        if kept is not None:
            mean, std = np.array(kept.mean), np.array(kept.std)
        e = ExerciseScreen(names, [float(v) for v in mean], [float(v) for v in std], {})
        feats = torch.stack([e.features(r[1]) for r in mine])
        for k, name in enumerate(names):
            y = np.array([name in r[2] for r in mine])
            if y.sum() < min_faulty or (~y).sum() < min_faulty:
                continue
            pairs = [[a, c] for a, c in (interactions or {}).get(ex, {}).get(name, []) if a in names and c in names]
            x_rule = e.rule_features(feats, pairs)
            pen = l2.get(ex, {}).get(name, 1e-2) if isinstance(l2, dict) else l2
            w, b = _logistic(x_rule, torch.tensor(y, dtype=torch.float64), pen)
            p = torch.sigmoid(x_rule @ w + b).numpy()
            best = (-1.0, 0.5)
            for th in np.linspace(0.05, 0.95, 37):
                pred = p >= th
                f1 = 2 * (pred & y).sum() / max(1, pred.sum() + y.sum())
                if f1 > best[0]:
                    best = (float(f1), float(th))
            v, sev = x[y, k], np.array([float(r[2][name].get("severity", 0.0)) for r in mine if name in r[2]])
            ok = np.isfinite(v)
            a, c = np.polyfit(v[ok], sev[ok], 1) if ok.sum() >= 2 and np.ptp(v[ok]) > 0 else (0.0, float(sev.mean()))
            weights = [float(t) for t in w]
            e.rules[name] = FaultRule(weights, float(b), best[1], float(a), float(c), best[0], int(y.sum()), pairs)
        out[ex] = e
    return FormScreen(out)
