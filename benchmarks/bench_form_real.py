"""Form and exercise recognition on real labelled people, held out by person, against two baselines.

Data (``$MUSCLEPOSE_REFDATA``, default ``../shared/data``): UI-PRMD Kinect positions (8 movements,
subjects s01-s08, correct and incorrect episodes) and Pose Trainer (OpenPose keypoints of 112
exercise repetitions, good / bad), plus synthetic repetitions from the engine filmed by random
cameras (:mod:`musclepose.training.form_data`, ``--clips`` clips, ``--seed``).

Rows, all in the same run:

- Pose Trainer form, leave-one-recording-session-out (the file names do not say the person; see
  :func:`musclepose.evaluation.form_real.recording_sessions`): the shipped model (noisy-OR screen
  pre-trained on synthetic repetitions, adapted to the real labels; its adaptation, a pull ``lam``
  towards the synthetic weights or the real labels alone, chosen by an inner leave-one-session-out on
  the training sessions), the same with only the pull chosen (the design before), the synthetic-only
  screen, the same screen fitted on real labels alone (no synthetic pre-training), and the random
  forest on per-video mean and standard deviation of the keypoints (PushFit's recipe);
- UI-PRMD form, leave-one-subject-out: the shipped linear model on Kinect-positions features (its L2
  chosen by an inner leave-one-subject-out) against the same random forest on the files' values;
- recognition: UI-PRMD movements (leave-one-subject-out; the shipped working-side features against
  the form features the recogniser used before, and the random forest on its own input and on the
  working-side features), Pose Trainer exercises among all the
  recogniser's exercises (leave-one-session-out), synthetic exercises on held-out synthetic subjects,
  and real recordings it never saw (a squat, walks) through the motion path.

Usage: ``python benchmarks/bench_form_real.py [--clips 2400] [--seed 0] [--cache /tmp/form_cache]
[--out docs/benchmarks_form_real.md]`` (about 25 minutes on 2 loaded cores); ``--only uiprmd-recognition``
reruns the UI-PRMD recognition alone (a few minutes) into the existing ``--out`` report and its ``.json``;
``--only pose-trainer-form`` the Pose Trainer form section (the synthetic clips, then a few minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from musclepose.body import Body
from musclepose.evaluation.form_real import (
    binary_scores,
    grouped_predictions,
    meanstd_features,
    meanstd_random_forest,
    recording_sessions,
)
from musclepose.io.atomic import atomic_write
from musclepose.io.load import load_motion
from musclepose.io.uiprmd import read_uiprmd, uiprmd_episodes
from musclepose.pipelines.form_features import (
    KEYPOINT_FAULT_OBSERVABLES,
    keypoint_feature_names,
    keypoint_features,
    kinect_feature_names,
    kinect_features,
    kinect_recognition_feature_names,
    kinect_recognition_features,
)
from musclepose.pipelines.recognize import (
    KEYPOINT_FPS,
    VIEW_YAWS_DEG,
    Recognition,
    Recognizer,
    locomotion,
    motion_openpose18,
)
from musclepose.sim.exercises import GENERATORS, generate
from musclepose.sim.randomize import sample_body_params
from musclepose.training.form_data import load_reps, save_reps, subject_split, synthesize_keypoint_reps
from musclepose.training.form_real import (
    RECOGNIZER_L2,
    adapt_noisy_or,
    adapted_screen,
    choose_adaptation,
    digest,
    fit_classifier,
    observables_matrix,
    pose_trainer_set,
    predict_proba,
    real_only_screen,
    synthetic_screen,
    unknown_rule,
)

ROOT = Path(__file__).resolve().parents[1]
LAMBDAS = (0.01, 0.1, 1.0, 10.0)
#: The shipped 2-D screen's row: the adaptation (a pull, or the real labels alone) chosen per fold
#: by an inner leave-one-session-out (``training.form_real.choose_adaptation``).
SHIPPED = "adaptation chosen per exercise (shipped)"
MACHINE = f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}"
FORM_L2 = (0.01, 0.05, 0.2)


def refdata() -> Path:
    return Path(os.environ.get("MUSCLEPOSE_REFDATA", ROOT.parent / "shared" / "data"))


def say(*a: Any) -> None:
    print(*a, flush=True, file=sys.stderr)


def synthetic(clips: int, seed: int, cache: Path) -> list:
    path = cache / f"synthetic_{clips}_{seed}.npz"
    if path.exists():
        return load_reps(path)[0]
    t0 = time.perf_counter()
    reps = synthesize_keypoint_reps(
        clips, seed=seed, progress=lambda i, n: i % 200 == 0 and say(f"  synthetic {i}/{n}")
    )
    cache.mkdir(parents=True, exist_ok=True)
    save_reps(path, reps, {"clips": clips, "seed": seed})
    say(f"  {len(reps)} synthetic repetitions in {time.perf_counter() - t0:.0f} s")
    return reps


def _p_wrong(model, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.tensor(x, dtype=torch.float64))[0].numpy()


def _best_lambda(base, x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> float:
    """The pull chosen by leave-one-session-out among the training sessions (the shipped design
    before the real-labels-only screen became a candidate)."""
    choice, _ = choose_adaptation(base, x, y, list(groups), candidates=LAMBDAS)
    return float(choice)


def pose_trainer_form(real, reps, groups) -> dict[str, Any]:
    obs_r = observables_matrix(real.kps)
    obs_s = observables_matrix([r.kp for r in reps])
    ms = np.array([meanstd_features(k) for k in real.kps])
    ex = np.asarray(real.exercises)
    pooled: dict[str, dict[str, list]] = {}
    per: dict[str, Any] = {}
    for e in sorted(KEYPOINT_FAULT_OBSERVABLES):
        sel = np.flatnonzero(ex == e)
        x, y, g, m = obs_r[sel], real.wrong[sel], groups[sel], ms[sel]
        base = synthetic_screen(reps, e, obs_s)
        lams: list[float] = []
        choices: list[float | str] = []

        def shipped(tr, te, x=x, y=y, g=g, base=base, choices=choices):
            choice, _ = choose_adaptation(base, x[tr], y[tr], list(g[tr]))
            choices.append(choice)
            return (_p_wrong(adapted_screen(base, x[tr], y[tr], choice), x[te]) >= 0.5).astype(int)

        def pull_only(tr, te, x=x, y=y, g=g, base=base, lams=lams):
            lam = _best_lambda(base, x[tr], y[tr], g[tr])
            lams.append(lam)
            return (_p_wrong(adapt_noisy_or(base, x[tr], y[tr], lam), x[te]) >= 0.5).astype(int)

        def rf(tr, te, m=m, y=y):
            return meanstd_random_forest(m[tr], y[tr], m[te]) if len(set(y[tr])) > 1 else np.full(len(te), y[tr][0])

        preds = {
            SHIPPED: grouped_predictions(len(y), g, shipped),
            "sim-to-real, pull chosen (before)": grouped_predictions(len(y), g, pull_only),
            "synthetic only": (_p_wrong(base, x) >= 0.5).astype(int),
            "real labels only": grouped_predictions(
                len(y),
                g,
                lambda tr, te, x=x, y=y, base=base: _p_wrong(real_only_screen(base, x[tr], y[tr]), x[te]) >= 0.5,
            ),
            "random forest, mean/std": grouped_predictions(len(y), g, rf),
        }
        per[e] = {k: binary_scores(y, v.astype(int)) for k, v in preds.items()}
        per[e]["sessions"] = len(set(g.tolist()))
        per[e]["lambdas"] = lams
        per[e]["choices"] = choices
        for k, v in preds.items():
            pooled.setdefault(k, {"y": [], "p": []})
            pooled[k]["y"] += list(y)
            pooled[k]["p"] += list(v.astype(int))
        say(f"  Pose Trainer {e}: " + ", ".join(f"{k} {per[e][k]['balanced_accuracy']:.3f}" for k in preds))
    overall = {k: binary_scores(v["y"], v["p"]) for k, v in pooled.items()}
    mean = {k: float(np.mean([per[e][k]["balanced_accuracy"] for e in per])) for k in pooled}
    return {"per_exercise": per, "overall_pooled": overall, "mean_balanced_accuracy": mean}


def uiprmd_form(eps, feats) -> dict[str, Any]:
    names = kinect_feature_names()
    raw = np.array([meanstd_features(np.concatenate([e.root_m[:, None], e.offsets_m], 1)) for e in eps])
    mv = np.array([e.exercise for e in eps])
    subj = np.array([e.subject for e in eps])
    wrong = np.array([0 if e.correct else 1 for e in eps])
    per, pooled = {}, {}
    for m in sorted(set(mv.tolist())):
        sel = np.flatnonzero(mv == m)
        x, y, g, r = feats[sel], wrong[sel], subj[sel], raw[sel]
        lab = np.where(y == 1, "incorrect", "correct")
        l2s: list[float] = []

        def fit_pred(tr, te, l2, x=x, lab=lab):
            clf = fit_classifier(x[tr], lab[tr], names, classes=["correct", "incorrect"], l2=l2)
            return (predict_proba(clf, x[te])[:, 1] >= 0.5).astype(int)

        def shipped(tr, te, x=x, y=y, g=g, l2s=l2s):
            inner = []
            for l2 in FORM_L2:
                pred = grouped_predictions(len(tr), g[tr], lambda a, b, l2=l2: fit_pred(tr[a], tr[b], l2))
                inner.append(binary_scores(y[tr], pred.astype(int))["balanced_accuracy"])
            l2 = FORM_L2[int(np.argmax(inner))]
            l2s.append(l2)
            return fit_pred(tr, te, l2)

        preds = {
            "learned, Kinect-positions features (shipped)": grouped_predictions(len(y), g, shipped),
            "random forest, mean/std": grouped_predictions(
                len(y), g, lambda tr, te, r=r, y=y: meanstd_random_forest(r[tr], y[tr], r[te])
            ),  # fmt: skip
        }
        per[m] = {k: binary_scores(y, v.astype(int)) for k, v in preds.items()}
        per[m]["l2"] = l2s
        for k, v in preds.items():
            pooled.setdefault(k, {"y": [], "p": []})
            pooled[k]["y"] += list(y)
            pooled[k]["p"] += list(v.astype(int))
        say(f"  UI-PRMD {m}: " + ", ".join(f"{k} {per[m][k]['balanced_accuracy']:.3f}" for k in preds))
    overall = {k: binary_scores(v["y"], v["p"]) for k, v in pooled.items()}
    mean = {k: float(np.mean([per[m][k]["balanced_accuracy"] for m in per])) for k in pooled}
    return {"per_movement": per, "overall_pooled": overall, "mean_balanced_accuracy": mean}


def uiprmd_recognition(eps, feats) -> dict[str, Any]:
    """UI-PRMD movements, leave-one-subject-out: the shipped recogniser on the working-side features
    (:func:`kinect_recognition_features`), the same model on the form models' features (``feats``,
    the recogniser before issue 15's working-side features), and the random forest on its own input
    (per-channel mean/std of the file's values) and on the shipped recogniser's features."""
    y = np.array([e.exercise for e in eps])
    g = np.array([e.subject for e in eps])
    raw = np.array([meanstd_features(np.concatenate([e.root_m[:, None], e.offsets_m], 1)) for e in eps])
    rec = np.array([kinect_recognition_features(e) for e in eps])

    def linear(x, names):
        def fit_predict(tr, te):
            clf = fit_classifier(x[tr], y[tr], names, l2=RECOGNIZER_L2)
            return np.array(clf.config.classes)[predict_proba(clf, x[te]).argmax(1)]

        return grouped_predictions(len(y), g, fit_predict)

    preds = {
        "learned, working-side features (shipped)": linear(rec, kinect_recognition_feature_names()),
        "learned, form features (before)": linear(feats, kinect_feature_names()),
        "random forest, mean/std": grouped_predictions(
            len(y), g, lambda tr, te: meanstd_random_forest(raw[tr], y[tr], raw[te])
        ),
        "random forest, working-side features": grouped_predictions(
            len(y), g, lambda tr, te: meanstd_random_forest(rec[tr], y[tr], rec[te])
        ),
    }
    lin = preds["learned, working-side features (shipped)"]
    classes = sorted(set(y.tolist()))
    subjects = sorted(set(g.tolist()))
    return {
        "learned": float((lin == y).mean()),
        "accuracy": {k: float((v == y).mean()) for k, v in preds.items()},
        "per_subject": {k: {str(s): float((v[g == s] == y[g == s]).mean()) for s in subjects}
                        for k, v in preds.items()},
        "classes": classes,
        "confusion_learned": [[int(((y == a) & (lin == b)).sum()) for b in classes] for a in classes],
        "confusion_before": [[int(((y == a) & (preds["learned, form features (before)"] == b)).sum())
                              for b in classes] for a in classes],
    }  # fmt: skip


def keypoint_recognition(real, reps, groups, feats_s, feats_r) -> dict[str, Any]:
    names = keypoint_feature_names()
    split = np.array(subject_split(reps))
    ys = np.array([r.exercise for r in reps])
    tr_s = split != "test"
    yr = np.asarray(real.exercises)

    def fit(tr_real):
        x = np.concatenate([feats_s[tr_s], feats_r[tr_real]])
        y = list(ys[tr_s]) + list(yr[tr_real])
        clf = fit_classifier(x, y, names, l2=1e-3)
        rule = unknown_rule(clf, x, y)
        return Recognizer(clf, 0.5, {c: np.asarray(v) for c, v in rule["centres"].items()}, rule["radius"], "")

    pt_pred = grouped_predictions(len(yr), groups, lambda tr, te: [fit(tr)(feats_r[i]).exercise for i in te])
    final = fit(np.arange(len(yr)))
    syn = [final(f).exercise for f in feats_s[~tr_s]]
    return {
        "pose_trainer_session_out": float(np.mean([p == t for p, t in zip(pt_pred, yr, strict=True)])),
        "pose_trainer_unknown": float(np.mean([p is None for p in pt_pred])),
        "synthetic_heldout_subjects": float(np.mean([p == t for p, t in zip(syn, ys[~tr_s], strict=True)])),
        "synthetic_heldout_n": int((~tr_s).sum()),
        "classes": final.model.config.classes,
        "final": final,
    }


def motion_checks(final: Recognizer, data: Path) -> list[dict[str, Any]]:
    """The recogniser through the motion path on real recordings it never saw."""
    cases = [
        ("mocap/addbiomechanics_expert1/squats1.mot", "squat"),
        ("mocap/addbiomechanics_expert1/walking1.mot", None),
        ("mocap/cmu/131_01.bvh", None),
        ("mocap/uiprmd_kinect/m01_s01_e01_positions.txt", "squat"),
    ]
    out = []
    for rel, want in cases:
        path = data / rel
        if not path.exists():
            continue
        motion = load_motion(path)
        gait = locomotion(motion)  # the shipped path (recognize_motion) calls walks unknown before the recogniser
        if gait:
            r = Recognition(None, 0.0, {}, "", gait)
        else:
            feats = [keypoint_features(motion_openpose18(motion, yaw)[0], KEYPOINT_FPS) for yaw in VIEW_YAWS_DEG]
            r = final(np.stack(feats))
        out.append({"file": rel, "expected": want or "unknown", "got": r.exercise or "unknown",
                    "probability": round(r.probability, 3), "ok": r.exercise == want, "reason": r.reason})  # fmt: skip
        say(f"  {rel}: {out[-1]['got']} (expected {out[-1]['expected']})")
    return out


def synthetic_motion_check(final: Recognizer, n: int = 80, seed: int = 99) -> dict[str, Any]:
    """The motion path on synthetic motions of new random people (a seed no training clip used)."""
    rng = np.random.default_rng(seed)
    names = sorted(GENERATORS)
    hits, per = [], {}
    for i in range(n):
        ex = names[i % len(names)]
        h, m, sex = sample_body_params(rng)
        spec = GENERATORS[ex]
        params = {k: float(rng.uniform(lo, hi)) for k, (lo, hi) in spec.ranges.items()}
        params.update({k: v[int(rng.integers(len(v)))] for k, v in spec.choices.items()}, reps=3)
        motion = generate(ex, Body.standard(h, m, sex), params, {}, int(rng.integers(2**31 - 1)))
        reps_s = [(r["start_s"], r["end_s"]) for r in motion.metadata["reps"]]
        feats = []
        for yaw in VIEW_YAWS_DEG:
            kp, _ = motion_openpose18(motion, yaw)
            feats += [keypoint_features(kp[int(a * KEYPOINT_FPS) : int(b * KEYPOINT_FPS) + 1], KEYPOINT_FPS)
                      for a, b in reps_s]  # fmt: skip
        got = final(np.stack(feats)).exercise
        hits.append(got == ex)
        per.setdefault(ex, []).append(got == ex)
    return {"accuracy": float(np.mean(hits)), "n": n, "per_exercise": {k: float(np.mean(v)) for k, v in per.items()}}


def _row(name: str, s: dict[str, float]) -> str:
    return f"| {name} | {s['balanced_accuracy']:.3f} | {s['f1']:.3f} | {s['n']} ({s['n_wrong']} wrong) |"


def _fp(s: dict[str, float]) -> str:
    good = s["n"] - s["n_wrong"]
    return f"{round((1.0 - s['specificity']) * good)}/{good}"


def render(r: dict[str, Any]) -> str:
    pt, ui, rec = r["pose_trainer"], r["uiprmd"], r["recognition"]
    acc = list(rec["uiprmd"]["accuracy"].values())
    lines = [
        "# Form and exercise recognition on real labelled people",
        "",
        f"`python benchmarks/bench_form_real.py --clips {r['clips']} --seed {r['seed']}` on {r['machine']}, "
        f"{r['seconds']:.0f} s. Data: Pose Trainer (sha256 {r['data']['pose_trainer'][:12]}), UI-PRMD Kinect "
        f"positions (sha256 {r['data']['uiprmd'][:12]}), {r['synthetic_reps']} synthetic repetitions.",
        "",
        "## Pose Trainer form (2-D OpenPose keypoints), leave-one-recording-session-out",
        "",
        'Balanced accuracy and F1 of "bad form", predictions of held-out sessions pooled per exercise.',
        "",
    ]
    if r.get("pose_trainer_run"):
        run = r["pose_trainer_run"]
        lines += [f"This section alone was rerun by `{run['command']}` on {run['machine']}, {run['seconds']:.0f} s "
                  f"(Pose Trainer sha256 {run['pose_trainer'][:12]}, {run['synthetic_reps']} synthetic "
                  "repetitions); the rest of the page is the full run above.", ""]  # fmt: skip
    lines += ["The shipped screen's adaptation is chosen per exercise by an inner leave-one-session-out among "
              "the training sessions, from the pulls towards the synthetic weights (0.01, 0.1, 1, 10) and the "
              "screen fitted on the real labels alone (`training.form_real.choose_adaptation`); "
              '"pull chosen (before)" is the same without the real-labels-only candidate.', ""]  # fmt: skip
    methods = list(pt["overall_pooled"])
    for e, v in pt["per_exercise"].items():
        per_fold = (
            f"shipped model's choice per fold: {v['choices']}; the pull chosen before: {v['lambdas']}"
            if "choices" in v
            else f"shipped model's pull per fold: {v['lambdas']}"
        )
        lines += [f"**{e}** ({v['sessions']} sessions; {per_fold})", "",
                  "| model | balanced accuracy | F1 | clips |", "|---|---:|---:|---:|"]  # fmt: skip
        lines += [_row(m, v[m]) for m in methods] + [""]
    lines += ["**all four exercises** (pooled; and the mean of the per-exercise balanced accuracies)", ""]
    lines += ["| model | balanced accuracy | F1 | clips | mean per exercise |", "|---|---:|---:|---:|---:|"]
    lines += [_row(m, pt["overall_pooled"][m]) + f" {pt['mean_balanced_accuracy'][m]:.3f} |" for m in methods]
    lines += [
        "",
        "Correct-form clips flagged as wrong (false positives, held out):",
        "",
        "| model | " + " | ".join(pt["per_exercise"]) + " | all |",
        "|---|" + "---:|" * (len(pt["per_exercise"]) + 1),
    ]
    lines += [f"| {m} | " + " | ".join(_fp(v[m]) for v in pt["per_exercise"].values())
              + f" | {_fp(pt['overall_pooled'][m])} |" for m in methods]  # fmt: skip
    lines += ["", "## UI-PRMD form (Kinect positions), leave-one-subject-out", ""]
    methods = list(ui["overall_pooled"])
    lines += ["| movement | " + " | ".join(f"{m}: BA / F1" for m in methods) + " |",
              "|---|" + "---:|" * len(methods)]  # fmt: skip
    for mv, v in ui["per_movement"].items():
        lines.append(f"| {mv} | " + " | ".join(f"{v[m]['balanced_accuracy']:.3f} / {v[m]['f1']:.3f}" for m in methods)
                     + " |")  # fmt: skip
    lines.append("| **all (pooled)** | " + " | ".join(
        f"{ui['overall_pooled'][m]['balanced_accuracy']:.3f} / {ui['overall_pooled'][m]['f1']:.3f}" for m in methods)
        + " |")  # fmt: skip
    lines.append("| correct episodes flagged | " + " | ".join(_fp(ui["overall_pooled"][m]) for m in methods) + " |")
    lines += ["", "The synthetic-only screen does not apply to these files: they hold the pelvis path and Kinect's "
              "per-frame bone lengths, not the joint orientations (the `*_angles` files are not in the data set), so "
              "no motion of the body can be rebuilt from them and the engine cannot simulate what they measure.", "",
              "## Exercise recognition", "", "| task | learned | baseline |", "|---|---:|---:|",
              f"| UI-PRMD, 8 movements, leave-one-subject-out | {acc[0]:.3f} (working-side features) | "
              f"{acc[2]:.3f} (random forest, mean/std); {acc[3]:.3f} (random forest, working-side features) |",
              f"| Pose Trainer, 4 exercises among {len(rec['keypoints']['classes'])}, leave-one-session-out | "
              f"{rec['keypoints']['pose_trainer_session_out']:.3f} | - |",
              f"| synthetic, {len(rec['keypoints']['classes'])} exercises, held-out subjects "
              f"({rec['keypoints']['synthetic_heldout_n']} repetitions, random cameras) | "
              f"{rec['keypoints']['synthetic_heldout_subjects']:.3f} | - |",
              f"| synthetic motions of new people, the engine's 8 exercises, motion path (3 virtual views) | "
              f"{rec['synthetic_motions']['accuracy']:.3f} ({rec['synthetic_motions']['n']}) | - |", "",
              "Real recordings through the motion path (never seen in training):", "",
              "| recording | expected | recognised | probability | why unknown |",
              "|---|---|---|---:|---|"]  # fmt: skip
    lines += [f"| {c['file']} | {c['expected']} | {c['got']} | {c['probability']:.2f} | {c.get('reason', '')} |"
              for c in rec["motions"]]  # fmt: skip
    lines += ["", f"({r['motions_note']})"] if r.get("motions_note") else []
    lines += _uiprmd_recognition_lines(rec["uiprmd"], r.get("uiprmd_recognition_run"))
    lines += _design_lines(ROOT / "docs" / "uiprmd_recognition_designs.json")
    return "\n".join(lines)


def _design_lines(path: Path) -> list[str]:
    """How the recogniser's features were chosen (``benchmarks/select_uiprmd_recognition.py``'s JSON)."""
    if not path.exists():
        return []
    d = json.loads(path.read_text(encoding="utf-8"))
    lines = ["### How the UI-PRMD recogniser's features were chosen (validation only)", "",
             f"Nested leave-one-subject-out (`{d['command']}`, `{path.relative_to(ROOT)}`): for each held-out "
             "subject, each design's accuracy by leave-one-subject-out among the other seven (inner); the design "
             "with the best inner accuracy averaged over the eight outer folds ships.", ""]  # fmt: skip
    if d.get("note"):
        lines += [d["note"], ""]
    folds = sorted(next(iter(d["inner"].values())), key=int)
    lines += ["| design | mean inner | " + " | ".join(f"s{int(s):02d} held out" for s in folds) + " |",
              "|---|---:|" + "---:|" * len(folds)]  # fmt: skip
    for name, v in d["inner"].items():
        lines.append(f"| {name}{' (shipped)' if name == d['shipped'] else ''} | {d['mean_inner'][name]:.3f} | "
                     + " | ".join(f"{v[s]:.3f}" if s in v else "-" for s in folds) + " |")  # fmt: skip
    chosen = ", ".join(f"s{int(s):02d} {c}" for s, c in sorted(d["chosen_per_outer_fold"].items()))
    lines += ["", f"Nested estimate (the design chosen in each outer fold by its inner accuracy, scored on the "
              f"held-out subject): {d['nested_accuracy']:.3f}; chosen: {chosen}.", ""]  # fmt: skip
    return lines


def _uiprmd_recognition_lines(u: dict[str, Any], run: dict[str, Any] | None) -> list[str]:
    lines = ["", "### UI-PRMD movements, leave-one-subject-out", ""]
    if run:
        lines += [f"This section alone was rerun by `{run['command']}` on {run['machine']}, "
                  f"{run['seconds']:.0f} s (UI-PRMD sha256 {run['uiprmd'][:12]}); the rest of the page is the "
                  "full run above.", ""]  # fmt: skip
    lines += ["Working-side features (`pipelines.form_features.kinect_recognition_features`): the form "
              "models' features of the episode mirrored (left and right limbs swapped, lateral axis negated) "
              "when its left arm and leg move more than its right ones (movement = spread of Kinect's "
              "per-frame segment lengths). The positions files carry the pelvis path and Kinect's per-frame "
              "bone lengths only (the collar and hip offsets are the only bones with a direction), so the "
              "plane of the arm's elevation cannot be measured from them.", ""]  # fmt: skip
    subjects = list(next(iter(u["per_subject"].values())))
    lines += ["| model | accuracy | " + " | ".join(f"s{int(s):02d}" for s in subjects) + " |",
              "|---|---:|" + "---:|" * len(subjects)]  # fmt: skip
    lines += [f"| {k} | {v:.3f} | " + " | ".join(f"{u['per_subject'][k][s]:.3f}" for s in subjects) + " |"
              for k, v in u["accuracy"].items()]  # fmt: skip
    for key, what in (("confusion_learned", "learned, working-side features (shipped)"),
                      ("confusion_before", "learned, form features (before)")):  # fmt: skip
        lines += ["", f"Confusion, {what} (rows: true, columns: predicted; {u['classes']}):", "", "```"]
        lines += [" ".join(f"{v:4d}" for v in row) for row in u[key]] + ["```"]
    return [*lines, ""]


def _write(out: Path, result: dict[str, Any]) -> None:
    """The report and its ``.json`` beside it, each written whole or not at all."""
    with atomic_write(out) as fh:
        fh.write(render(result))
    with atomic_write(out.with_suffix(".json")) as fh:
        fh.write(json.dumps(result, indent=1, default=float) + "\n")


def uiprmd_recognition_only(args: argparse.Namespace, data: Path, t0: float) -> None:
    """``--only uiprmd-recognition``: UI-PRMD recognition rerun into the last full run's report."""
    result = json.loads(args.out.with_suffix(".json").read_text(encoding="utf-8"))
    ep_files = uiprmd_episodes(data / "labelled" / "uiprmd_kinect")
    eps = [read_uiprmd(f) for f in ep_files]
    say(f"{len(eps)} UI-PRMD episodes; recognition, leave-one-subject-out")
    result["recognition"]["uiprmd"] = uiprmd_recognition(eps, np.array([kinect_features(e) for e in eps]))
    result["uiprmd_recognition_run"] = {
        "command": "python benchmarks/bench_form_real.py --only uiprmd-recognition",
        "seconds": time.perf_counter() - t0, "uiprmd": digest(ep_files),
        "machine": MACHINE,
    }  # fmt: skip
    _write(args.out, result)
    print("\n".join(_uiprmd_recognition_lines(result["recognition"]["uiprmd"], result["uiprmd_recognition_run"])))


def pose_trainer_form_only(args: argparse.Namespace, data: Path, t0: float) -> None:
    """``--only pose-trainer-form``: the Pose Trainer form section rerun into the last full run's report."""
    result = json.loads(args.out.with_suffix(".json").read_text(encoding="utf-8"))
    real = pose_trainer_set(data / "labelled" / "pose_trainer")
    groups = np.array(recording_sessions(real.kps, real.exercises))
    reps = synthetic(args.clips, args.seed, args.cache)
    say("Pose Trainer form")
    result["pose_trainer"] = pose_trainer_form(real, reps, groups)
    result["pose_trainer_run"] = {
        "command": f"python benchmarks/bench_form_real.py --only pose-trainer-form --clips {args.clips} "
        f"--seed {args.seed}",
        "seconds": time.perf_counter() - t0, "pose_trainer": digest(real.files), "synthetic_reps": len(reps),
        "machine": MACHINE,
    }  # fmt: skip
    _write(args.out, result)
    print(render(result).split("## UI-PRMD form")[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=2400)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/musclepose_form_cache"))
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks_form_real.md")
    ap.add_argument(
        "--only",
        choices=["uiprmd-recognition", "pose-trainer-form"],
        help="rerun only this part and put it into the existing --out .json/.md (uiprmd-recognition: minutes, "
        "no synthetic clips; pose-trainer-form: the synthetic clips, cached in --cache, and the Pose Trainer form)",
    )
    args = ap.parse_args()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    data = refdata()
    if args.only == "uiprmd-recognition":
        uiprmd_recognition_only(args, data, t0)
        return
    if args.only == "pose-trainer-form":
        pose_trainer_form_only(args, data, t0)
        return
    real = pose_trainer_set(data / "labelled" / "pose_trainer")
    groups = np.array(recording_sessions(real.kps, real.exercises))
    ep_files = uiprmd_episodes(data / "labelled" / "uiprmd_kinect")
    eps = [read_uiprmd(f) for f in ep_files]
    say(f"{len(real.kps)} Pose Trainer clips in {len(set(groups.tolist()))} sessions; {len(eps)} UI-PRMD episodes")
    reps = synthetic(args.clips, args.seed, args.cache)
    kin = np.array([kinect_features(e) for e in eps])
    say("Pose Trainer form")
    pt = pose_trainer_form(real, reps, groups)
    say("UI-PRMD form")
    ui = uiprmd_form(eps, kin)
    say("recognition")
    feats_s = np.array([keypoint_features(r.kp, r.fps) for r in reps])
    feats_r = np.array([keypoint_features(k, 30.0) for k in real.kps])
    kp_rec = keypoint_recognition(real, reps, groups, feats_s, feats_r)
    final = kp_rec.pop("final")
    rec = {"uiprmd": uiprmd_recognition(eps, kin), "keypoints": kp_rec, "motions": motion_checks(final, data),
           "synthetic_motions": synthetic_motion_check(final)}  # fmt: skip
    result = {
        "clips": args.clips, "seed": args.seed, "synthetic_reps": len(reps), "seconds": time.perf_counter() - t0,
        "machine": MACHINE,
        "data": {"pose_trainer": digest(real.files), "uiprmd": digest(ep_files)},
        "sessions": {f.name: g for f, g in zip(real.files, groups.tolist(), strict=True)},
        "pose_trainer": pt, "uiprmd": ui, "recognition": rec,
    }  # fmt: skip
    _write(args.out, result)
    print(render(result))


if __name__ == "__main__":
    main()
