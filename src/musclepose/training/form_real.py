"""Fitting the form models and exercise recognisers that run on real recordings (:mod:`..pipelines.form_real`).

- :func:`fit_noisy_or` fits a :class:`~musclepose.models.noisy_or.NoisyOrScreen` per exercise on
  synthetic repetitions whose faults are known (each fault's logistic model on its own observables,
  standardised by the synthetic data); :func:`adapt_noisy_or` adapts it to real repetitions labelled
  only good or bad, by maximum likelihood of the noisy OR with an L2 pull of strength ``lam`` towards
  the synthetic weights (sim-to-real: ``lam`` large keeps the synthetic screen, 0 refits from it).
- :func:`fit_classifier` fits a :class:`~musclepose.models.form_classifier.FormClassifier`
  (multinomial logistic with an L2 penalty, or one hidden layer) for recognition and for the
  UI-PRMD form models; :func:`unknown_rule` measures how far training repetitions sit from their
  class's centre, so that a repetition far from every class is called unknown.

Everything is full-batch L-BFGS in float64 on a few thousand repetitions: seconds on a CPU.
"""

from __future__ import annotations

import copy
import hashlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..io.pose_trainer import parse_pose_trainer_name, pose_trainer_videos, read_openpose_npy
from ..io.uiprmd import UiprmdEpisode
from ..models.form_classifier import FormClassifier, FormClassifierConfig
from ..models.noisy_or import NoisyOrConfig, NoisyOrScreen
from ..pipelines.form_features import (
    KEYPOINT_FAULT_OBSERVABLES,
    KEYPOINT_OBSERVABLES,
    keypoint_feature_names,
    keypoint_features,
    keypoint_observables,
    kinect_feature_names,
    kinect_features,
    kinect_observables,
    kinect_recognition_feature_names,
    kinect_recognition_features,
)
from .checkpoint import save_checkpoint
from .form_data import KeypointRep

__all__ = [
    "LabelledClips",
    "ADAPT_CANDIDATES",
    "adapt_noisy_or",
    "adapted_screen",
    "choose_adaptation",
    "build_keypoint_checkpoint",
    "build_uiprmd_checkpoint",
    "digest",
    "fit_classifier",
    "fit_noisy_or",
    "model_card",
    "noisy_or_config",
    "observables_matrix",
    "pose_trainer_set",
    "predict_proba",
    "real_only_screen",
    "synthetic_screen",
    "unknown_rule",
]


def _mean_std(x: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Column mean and spread over the finite values (0 and 1 for a column with none)."""
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns: nan_to_num below
        mean = (
            np.nan_to_num(np.nanmean(np.where(np.isfinite(x), x, np.nan), axis=0)) if len(x) else np.zeros(x.shape[1])
        )
        std = np.nan_to_num(np.nanstd(np.where(np.isfinite(x), x, np.nan), axis=0)) if len(x) else np.ones(x.shape[1])
    return torch.tensor(mean), torch.tensor(np.where(std > 1e-9, std, 1.0))


def _lbfgs(params: list[torch.Tensor], loss_fn, max_iter: int = 300) -> None:
    opt = torch.optim.LBFGS(params, max_iter=max_iter, line_search_fn="strong_wolfe", tolerance_grad=1e-9)

    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    opt.step(closure)


def noisy_or_config(observables: Sequence[str], fault_inputs: dict[str, Sequence[str]]) -> NoisyOrConfig:
    """The screen of one exercise: its faults and, per fault, the observables it reads (by name)."""
    col = {n: i for i, n in enumerate(observables)}
    faults = sorted(fault_inputs)
    return NoisyOrConfig(list(observables), faults, [[col[n] for n in fault_inputs[f]] for f in faults])


def fit_noisy_or(config: NoisyOrConfig, x: np.ndarray, labels: np.ndarray, l2: float = 1e-2) -> NoisyOrScreen:
    """Per-fault logistic regression on synthetic repetitions: ``x (N, O)`` observables, ``labels
    (N, F)`` 1 where the fault was injected (in ``config.faults`` order)."""
    model = NoisyOrScreen(config)
    mean, std = _mean_std(x)
    model.mean.copy_(mean)
    model.std.copy_(std)
    xt, yt = torch.tensor(x, dtype=torch.float64), torch.tensor(labels, dtype=torch.float64)

    def loss():
        logits = model.fault_logits(xt)
        w = model.weight * model.mask
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, yt) + l2 * (w * w).sum()

    _lbfgs([model.weight, model.bias], loss)
    return model


def adapt_noisy_or(base: NoisyOrScreen, x: np.ndarray, wrong: np.ndarray, lam: float = 1.0) -> NoisyOrScreen:
    """``base`` adapted to real repetitions ``x (N, O)`` labelled ``wrong (N,)`` (1 = bad form): the
    noisy-OR likelihood, classes weighted equally, plus ``lam`` times the squared distance of the
    weights from ``base``'s (standardisation kept)."""
    model = copy.deepcopy(base)
    w0, b0 = base.weight.detach().clone(), base.bias.detach().clone()
    xt, yt = torch.tensor(x, dtype=torch.float64), torch.tensor(wrong, dtype=torch.float64)
    n_pos, n_neg = float(yt.sum()), float(len(yt) - yt.sum())
    weight = torch.where(yt > 0.5, 0.5 / max(n_pos, 1.0), 0.5 / max(n_neg, 1.0))

    def loss():
        p, _ = model(xt)
        p = p.clamp(1e-9, 1 - 1e-9)
        nll = -(weight * (yt * torch.log(p) + (1 - yt) * torch.log1p(-p))).sum()
        dw = (model.weight - w0) * model.mask
        return nll + lam * ((dw * dw).sum() + ((model.bias - b0) ** 2).sum()) / max(len(yt), 1) * 10.0

    _lbfgs([model.weight, model.bias], loss)
    return model


def real_only_screen(base: NoisyOrScreen, x: np.ndarray, wrong: np.ndarray) -> NoisyOrScreen:
    """``base``'s screen (same faults and observables) fitted on the real repetitions alone: standardised
    by ``x``, weights pulled weakly (0.01) towards zero instead of towards the synthetic ones."""
    zero = type(base)(base.config)
    mean, std = _mean_std(x)
    zero.mean.copy_(mean)
    zero.std.copy_(std)
    return adapt_noisy_or(zero, x, wrong, 0.01)


#: What :func:`choose_adaptation` picks from: the pull towards the synthetic weights, or the screen
#: fitted on the real labels alone. Ties keep the earlier entry (the synthetic prior first).
ADAPT_CANDIDATES: tuple[float | str, ...] = (0.01, 0.1, 1.0, 10.0, "real-only")


def adapted_screen(base: NoisyOrScreen, x: np.ndarray, wrong: np.ndarray, choice: float | str) -> NoisyOrScreen:
    """The screen of one :data:`ADAPT_CANDIDATES` entry fitted on ``x``, ``wrong``."""
    if choice == "real-only":
        return real_only_screen(base, x, wrong)
    return adapt_noisy_or(base, x, wrong, float(choice))


def choose_adaptation(
    base: NoisyOrScreen,
    x: np.ndarray,
    wrong: np.ndarray,
    groups: Sequence[str],
    candidates: Sequence[float | str] = ADAPT_CANDIDATES,
) -> tuple[float | str, dict[str, float]]:
    """The candidate with the best balanced accuracy of "bad form" held out by group (recording
    session) among ``x``'s clips, and every candidate's score; :data:`ADAPT_LAMBDA` when fewer than two
    groups or one class only (nothing to validate on)."""
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import LeaveOneGroupOut

    g = np.asarray(groups)
    wrong = np.asarray(wrong)
    if len(set(g.tolist())) < 2 or len(set(wrong.tolist())) < 2:
        return ADAPT_LAMBDA, {}
    scores: dict[str, float] = {}
    for c in candidates:
        pred = np.zeros(len(wrong), dtype=int)
        for tr, te in LeaveOneGroupOut().split(x, wrong, g):
            with torch.no_grad():
                p = adapted_screen(base, x[tr], wrong[tr], c)(torch.tensor(x[te], dtype=torch.float64))[0]
            pred[te] = (p.numpy() >= 0.5).astype(int)
        scores[str(c)] = float(balanced_accuracy_score(wrong, pred))
    best = max(range(len(candidates)), key=lambda i: (scores[str(candidates[i])], -i))
    return candidates[best], scores


def fit_classifier(
    x: np.ndarray,
    y: Sequence[str],
    feature_names: Sequence[str],
    classes: Sequence[str] | None = None,
    l2: float = 1e-2,
    hidden: int = 0,
    balanced: bool = True,
    seed: int = 0,
) -> FormClassifier:
    """A :class:`FormClassifier` on features ``x (N, F)`` and labels ``y`` (class names); ``l2`` on
    the weights per sample; ``balanced``: each class weighs the same in the loss."""
    torch.manual_seed(seed)
    classes = list(classes) if classes is not None else sorted(set(y))
    model = FormClassifier(FormClassifierConfig(list(feature_names), classes, hidden=hidden))
    mean, std = _mean_std(x)
    model.mean.copy_(mean)
    model.std.copy_(std)
    idx = {c: i for i, c in enumerate(classes)}
    yt = torch.tensor([idx[c] for c in y])
    xt = torch.tensor(x, dtype=torch.float64)
    counts = torch.bincount(yt, minlength=len(classes)).to(torch.float64)
    cw = torch.where(counts > 0, counts.sum() / (len(classes) * counts.clamp(min=1)), 0.0) if balanced else None
    params = list(model.net.parameters())

    def loss():
        ce = torch.nn.functional.cross_entropy(model(xt), yt, weight=cw)
        return ce + l2 * sum((p * p).sum() for p in params if p.ndim == 2)

    if hidden > 0:  # non-convex: Adam, then polish
        model.train()
        opt = torch.optim.Adam(params, lr=3e-3)
        for _ in range(400):
            opt.zero_grad()
            loss().backward()
            opt.step()
        model.eval()
    _lbfgs(params, loss)
    model.eval()
    return model


@torch.no_grad()
def predict_proba(model: FormClassifier, x: np.ndarray) -> np.ndarray:
    """Class probabilities ``(N, C)``."""
    return torch.softmax(model(torch.tensor(np.atleast_2d(x), dtype=torch.float64)), -1).numpy()


@torch.no_grad()
def unknown_rule(model: FormClassifier, x: np.ndarray, y: Sequence[str], quantile: float = 0.99) -> dict[str, Any]:
    """Each class's centre in the model's standardised space and the ``quantile`` of its training
    repetitions' RMS distance to it: beyond that distance from every centre a repetition is unknown."""
    z = model.standardise(torch.tensor(x, dtype=torch.float64)).numpy()
    y = np.asarray(y)
    centres, radius = {}, {}
    for c in model.config.classes:
        zc = z[y == c]
        if not len(zc):
            continue
        centres[c] = zc.mean(0)
        d = np.sqrt(((zc - centres[c]) ** 2).mean(1))
        radius[c] = float(np.quantile(d, quantile)) * 1.25
    return {"centres": {c: v.tolist() for c, v in centres.items()}, "radius": radius, "quantile": quantile}


# ----------------------------------------------------------------------------- the shipped checkpoints
#: Sim-to-real pull towards the synthetic weights and L2 penalties, chosen by the grouped
#: cross-validation of ``benchmarks/bench_form_real.py`` (docs/benchmarks_form_real.md).
ADAPT_LAMBDA = 0.1
RECOGNIZER_L2 = 1e-3
UIPRMD_FORM_L2 = 0.05


def digest(paths: Sequence[Path]) -> str:
    """SHA-256 over the files' names and bytes, in order (the data a checkpoint was trained on)."""
    h = hashlib.sha256()
    for p in paths:
        h.update(Path(p).name.encode())
        h.update(Path(p).read_bytes())
    return h.hexdigest()


@dataclass
class LabelledClips:
    """Real 2-D clips (Pose Trainer layout): keypoints, exercise, wrong form (1) or not, file."""

    kps: list[np.ndarray]
    exercises: list[str]
    wrong: np.ndarray
    files: list[Path]


def pose_trainer_set(root: str | Path) -> LabelledClips:
    """Every Pose Trainer ``.npy`` under ``root`` with its exercise and label (from the file name)."""
    files = pose_trainer_videos(root)
    labels = [parse_pose_trainer_name(f) for f in files]
    return LabelledClips([read_openpose_npy(f) for f in files], [lab[0] for lab in labels],  # type: ignore[index]
                         np.array([0 if lab[1] else 1 for lab in labels]), files)  # type: ignore[index]  # fmt: skip


def observables_matrix(kps: Sequence[np.ndarray], fps: float = 30.0) -> np.ndarray:
    """``(N, O)`` :data:`~musclepose.pipelines.form_features.KEYPOINT_OBSERVABLES` of each clip."""
    return np.array([[keypoint_observables(k, fps)[o] for o in KEYPOINT_OBSERVABLES] for k in kps])


def synthetic_screen(reps: Sequence[KeypointRep], exercise: str, obs: np.ndarray | None = None) -> NoisyOrScreen:
    """The synthetic-only screen of ``exercise`` (fitted on its synthetic repetitions; ``obs``: their
    observables if already computed, in ``reps`` order)."""
    cfg = noisy_or_config(KEYPOINT_OBSERVABLES, KEYPOINT_FAULT_OBSERVABLES[exercise])
    mine = [i for i, r in enumerate(reps) if r.exercise == exercise]
    x = obs[mine] if obs is not None else observables_matrix([reps[i].kp for i in mine])
    y = np.array([[f in reps[i].faults for f in cfg.faults] for i in mine], dtype=np.float64)
    return fit_noisy_or(cfg, x, y)


def build_keypoint_checkpoint(
    out: str | Path,
    reps: Sequence[KeypointRep],
    real: LabelledClips,
    *,
    lam: float = ADAPT_LAMBDA,
    l2: float = RECOGNIZER_L2,
    groups: Sequence[str] | None = None,
    recognizer: tuple[FormClassifier, dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Fit and save the ``keypoints2d`` checkpoint: the recogniser on the synthetic repetitions and
    every real clip, and per screened exercise the synthetic screen adapted to all its real clips.
    ``groups`` (a recording session per real clip): each exercise's adaptation is chosen among
    :data:`ADAPT_CANDIDATES` by :func:`choose_adaptation`; None: the pull ``lam`` for every exercise.
    ``recognizer``: a recogniser and its unknown rule to keep (from an earlier checkpoint) instead of
    fitting one."""
    if recognizer is not None:
        rec, rule = recognizer
    else:
        feats_s = np.array([keypoint_features(r.kp, r.fps) for r in reps])
        feats_r = np.array([keypoint_features(k, 30.0) for k in real.kps])
        x = np.concatenate([feats_s, feats_r])
        y = [r.exercise for r in reps] + list(real.exercises)
        rec = fit_classifier(x, y, keypoint_feature_names(), l2=l2)
        rule = unknown_rule(rec, x, y)
        rule["min_probability"] = 0.5
    obs_s, obs_r = observables_matrix([r.kp for r in reps]), observables_matrix(real.kps)
    parts: dict[str, torch.nn.Module] = {"recognizer": rec}
    ex_r = np.asarray(real.exercises)
    chosen: dict[str, Any] = {}
    for ex in sorted(KEYPOINT_FAULT_OBSERVABLES):
        base = synthetic_screen(reps, ex, obs_s)
        sel = ex_r == ex
        if not sel.any():
            parts[ex], chosen[ex] = base, "synthetic only"
            continue
        choice, scores = (
            (lam, {})
            if groups is None
            else choose_adaptation(base, obs_r[sel], real.wrong[sel], list(np.asarray(groups)[sel]))
        )
        parts[ex] = adapted_screen(base, obs_r[sel], real.wrong[sel], choice)
        chosen[ex] = {"choice": choice, "session_out_balanced_accuracy": scores}
    meta = {"unknown": rule, "thresholds": {ex: 0.5 for ex in KEYPOINT_FAULT_OBSERVABLES}, "adapt_lambda": lam,
            "adaptation": chosen, "recognizer_l2": l2, **(extra or {})}  # fmt: skip
    return save_checkpoint(out, parts, meta, overwrite=overwrite)


def build_uiprmd_checkpoint(
    out: str | Path,
    episodes: Sequence[UiprmdEpisode],
    *,
    l2_recognizer: float = RECOGNIZER_L2,
    l2_form: float = UIPRMD_FORM_L2,
    extra: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Fit and save the ``uiprmd`` checkpoint: the movement recogniser (on the working-side features,
    :func:`~musclepose.pipelines.form_features.kinect_recognition_features`) and, per movement, the
    correct / incorrect classifier (on ``kinect_features``), on every episode; plus the correct
    episodes' observables (mean, spread per movement) that name the fault."""
    x = np.array([kinect_features(e) for e in episodes])
    y = [e.exercise for e in episodes]
    names = kinect_feature_names()
    x_rec = np.array([kinect_recognition_features(e) for e in episodes])
    rec = fit_classifier(x_rec, y, kinect_recognition_feature_names(), l2=l2_recognizer)
    rule = unknown_rule(rec, x_rec, y)
    rule["min_probability"] = 0.5
    parts: dict[str, torch.nn.Module] = {"recognizer": rec}
    norms: dict[str, dict[str, list[float]]] = {}
    ya = np.asarray(y)
    for mv in sorted(set(y)):
        sel = np.flatnonzero(ya == mv)
        lab = ["correct" if episodes[i].correct else "incorrect" for i in sel]
        parts[mv] = fit_classifier(x[sel], lab, names, classes=["correct", "incorrect"], l2=l2_form)
        obs = [kinect_observables(episodes[i]) for i in sel if episodes[i].correct]
        norms[mv] = {k: [float(np.mean([o[k] for o in obs])), float(np.std([o[k] for o in obs]))] for k in obs[0]}
    meta = {"unknown": rule, "thresholds": {mv: 0.5 for mv in norms}, "correct_observables": norms,
            "recognizer_l2": l2_recognizer, "form_l2": l2_form, **(extra or {})}  # fmt: skip
    return save_checkpoint(out, parts, meta, overwrite=overwrite)


def _adaptation_text(info: dict[str, Any]) -> str:
    chosen = info.get("adaptation")
    if not chosen:
        return f"an L2 pull of {info['adapt_lambda']} towards the synthetic weights."
    parts = []
    for ex, c in sorted(chosen.items()):
        if not isinstance(c, dict):
            parts.append(f"{ex}: {c}")
            continue
        what = "fitted on the real labels alone" if c["choice"] == "real-only" else f"pull {c['choice']}"
        ba = c["session_out_balanced_accuracy"].get(str(c["choice"]))
        held = f" (leave-one-session-out balanced accuracy {ba:.3f})" if ba is not None else ""
        parts.append(f"{ex}: {what}{held}")
    cands = ", ".join(str(c) for c in ADAPT_CANDIDATES)
    return (
        f"per exercise the adaptation with the best leave-one-session-out balanced accuracy among the pulls "
        f"towards the synthetic weights and the real labels alone ({cands}; `choose_adaptation`): "
        + "; ".join(parts)
        + "."
    )


def model_card(info: dict[str, Any], metrics: dict[str, Any] | None = None) -> str:
    """``MODEL_CARD.md`` of the form checkpoints: data and its hashes, the command, the models, and
    the held-out numbers of the benchmark run (``metrics``: ``docs/benchmarks_form_real.json``)."""
    pt_n, pt_sha = info["pose_trainer"]["n"], info["pose_trainer"]["sha256"]
    ui_n, ui_sha = info["uiprmd"]["n"], info["uiprmd"]["sha256"]
    lines = [
        "# MusclePose form models and exercise recognisers (real labelled people)",
        "",
        "Two checkpoint folders (`config.json` with the label maps + `*.safetensors`, no pickle), trained by",
        f"`{info['command']}` in {info['seconds']:.0f} s on {info['machine']}.",
        "",
        "| folder | part | model | classes / faults |",
        "|---|---|---|---|",
    ]
    for folder, parts in info["parts"].items():
        for name, what in parts.items():
            lines.append(f"| `{folder}` | `{name}` | {what[0]} | {what[1]} |")
    lines += [
        "",
        "## Data",
        "",
        f"- Pose Trainer: {pt_n} OpenPose COCO-18 clips, sha256 `{pt_sha}`.",
        f"- UI-PRMD Kinect positions: {ui_n} episodes, sha256 `{ui_sha}`.",
        f"- Synthetic: {info['synthetic']['reps']} repetitions of {info['synthetic']['clips']} clips "
        f"(`musclepose.training.form_data.synthesize_keypoint_reps`, seed {info['synthetic']['seed']}; "
        "the engine's eight exercises and the arm isolation exercises, random subjects and cameras).",
        "",
        "## Training",
        "",
        "- 2-D screens: per exercise a noisy-OR of per-fault logistic models, fitted on the synthetic "
        "repetitions (faults known), then adapted to every Pose Trainer clip of the exercise (good / bad): "
        + _adaptation_text(info),
        f"- Recognisers: multinomial logistic regression (L2 {info['recognizer_l2']}), 2-D on synthetic + Pose "
        "Trainer, UI-PRMD on every episode (mirrored to put the working side on the right); unknown below "
        "probability 0.5 or beyond 1.25x the 99th-percentile "
        "distance of a class's training repetitions from its centre."
        + (
            " The 2-D recogniser and its unknown rule were kept (`--keep-recognizer`) from the build by "
            f"`{info['recognizer_kept_from']}`, not refitted."
            if info.get("recognizer_kept_from")
            else ""
        ),
        f"- UI-PRMD form: per movement, logistic regression (L2 {info['form_l2']}) on Kinect-positions features.",
        "",
        "A rebuild with the same command and data gives the same weights (deterministic synthesis and L-BFGS).",
    ]
    if metrics:
        pt, ui, rec = metrics["pose_trainer"], metrics["uiprmd"], metrics["recognition"]
        lines += ["", "## Held-out numbers (`benchmarks/bench_form_real.py`, docs/benchmarks_form_real.md)", ""]
        for name, block, unit in (("Pose Trainer, leave-one-session-out", pt, "exercise"),
                                  ("UI-PRMD, leave-one-subject-out", ui, "movement")):  # fmt: skip
            lines += [f"{name}: mean balanced accuracy per {unit}:", ""]
            lines += [f"- {m}: {v:.3f}" for m, v in block["mean_balanced_accuracy"].items()] + [""]
        kp = rec["keypoints"]
        lines += [f"- recognition, UI-PRMD leave-one-subject-out: {rec['uiprmd']['learned']:.3f}",
                  f"- recognition, Pose Trainer leave-one-session-out: {kp['pose_trainer_session_out']:.3f}",
                  f"- recognition, synthetic held-out subjects: {kp['synthetic_heldout_subjects']:.3f}"]  # fmt: skip
    return "\n".join(lines) + "\n"
