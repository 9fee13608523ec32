"""Refit the shipped form screen after its observables changed, and measure it before and after.

Issue 22 changed three fault observables so that they measure the fault on real recordings: the
heel lift is the heel's rise above where it stood, in stance only (was its absolute height),
a standing exercise's asymmetric drive is the weight shift between the feet (was the largest
left-right angle difference, which arm flips and stance set), and the lower back's rounding is
the spine's flexion from pelvis to thorax (was the lumbar joint's alone, a split that markers
between pelvis and thorax do not see). The shipped screen's
thresholds were fitted on the old values, so it is refitted
(:func:`musclepose.training.form_screen.fit_form_screen`) on freshly simulated clips' train
split, and both screens are scored on the same held-out test split (subjects never seen):
the shipped screen on the old observables ("before"), the refitted one on the new ("after"),
and, to tell the data from the observables, a screen refitted on the old observables.

    musclepose simulate --n 1600 --out screen_refit.h5 --seed 31 --fault-rate 0.7 --modalities none
    musclepose simulate --n 1600 --out screen_refit_b.h5 --seed 32 --fault-rate 0.7 --modalities none
    python scripts/refit_form_screen.py --data screen_refit.h5 screen_refit_b.h5 \\
        --out src/musclepose/assets/coach/form_screen.json --report docs/form_screen_refit.md

Issue 22 also moved the squat's forward lean to the hip-to-shoulder line (it was the thorax's axis)
and made the engine's clean squats flex the spine and lean the trunk as real ones do; ``--heldout``
scores the shipped screen on squats of the previous engine and the refitted one on this engine's
(``musclepose simulate --exercise squat --n 400 --seed 41 ...`` with each engine).

``--only`` refits some exercises and keeps the shipped screen's others; ``--tune EXERCISE:FAULT``
refits that fault's rule alone (on the shipped standardisation, the exercise's other rules kept) and
chooses, by the fault's F1 across folds of the training split's subjects (the design never sees a
test clip), its weight penalty among ``--l2`` and, per penalty, its interaction features greedily
(:attr:`~musclepose.pipelines.form_screen.FaultRule.pairs`: products of its own standardised
observable with another); ``--test`` scores the shipped screen (before), the rule refitted as shipped
(control: the data alone) and the chosen design (after) once on held-out clips. The squat's forward
lean (issue 22, 8 Dec: squat-only data, 1,274 training clips; written to scratch files, not shipped:
the chosen rule reports forward lean on repetitions 1 and 3 of squats1.mot, OpenSim's IK of a clean
squat, 47.7 and 47.0 deg, though not on squats1.trc, our marker IK, 42.5 and 41.5 deg):

    musclepose simulate --n 1600 --exercise squat --out squat_train.h5 --seed 31 --fault-rate 0.7 --modalities none
    musclepose simulate --n 400 --exercise squat --out squat_test42.h5 --seed 42 --fault-rate 0.7 --modalities none
    python scripts/refit_form_screen.py --data squat_train.h5 --only squat --tune squat:forward_lean \\
        --l2 1e-2 1e-3 1e-4 1e-5 --test squat_test42.h5 squat_after.h5 --rows rows/ \\
        --out candidate.json --report report.md
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import torch

from musclepose.catalogue import EXERCISES, Observation, Rep
from musclepose.catalogue import observables as ob
from musclepose.io.hdf5 import MotionDatasetReader
from musclepose.motion import Motion
from musclepose.pipelines.coach_inputs import decimation
from musclepose.pipelines.form_screen import ExerciseScreen, FormScreen, fault_measures, measure_reps
from musclepose.signals import analyze_motion
from musclepose.training.form_screen import fit_form_screen

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "src" / "musclepose" / "assets" / "coach" / "form_screen.json"


def _old_lead_heel(o: Observation) -> float:
    h = ob._heels_cm(o)
    return float(np.mean([h[r.lead][ob._frame(o, r.extreme_s)] for r in o.reps]))


def old_measures(motion: Motion, exercise: str, analysis: dict, new: dict[str, float]) -> dict[str, float]:
    """The measures the shipped screen was fitted on: ``new`` with the changed observables as they were."""
    out = dict(new)
    step = decimation(motion.fps)
    reps = [Rep.from_dict(r) for r in measure_reps(motion, analysis)]
    o = Observation(Motion(motion.q[::step], motion.fps / step, motion.body), reps)
    faults = EXERCISES[exercise].faults
    try:
        if "heel_lift" in faults:
            out["heel_lift"] = _old_lead_heel(o) if exercise == "lunge" else ob.rep_max(o, ob.heel_height_cm(o))
        if "asymmetric_drive" in faults:
            out["asymmetric_drive"] = ob.asymmetry(o)
        if "lumbar_flexion" in faults:
            out["lumbar_flexion"] = ob.rep_max(o, ob.dof_deg(o, "lumbar_flexion"))
        if exercise == "squat":  # the thorax's long axis beyond the shanks' (now the hip-to-shoulder line's)
            out["forward_lean"] = ob.rep_max(o, ob.trunk_inclination_deg(o) - ob.shank_inclination_deg(o))
    except (ValueError, IndexError):
        pass
    return out


def load_rows(path: Path, limit: int | None = None) -> list[dict]:
    import h5py

    reader = MotionDatasetReader(path)
    with h5py.File(path, "r") as f:
        labels = [json.loads(a) for a in f["extra_attrs"][:]]
    rows = []
    t0 = time.perf_counter()
    n = len(labels) if limit is None else min(limit, len(labels))
    for i in range(n):
        lab = labels[i]
        motion = reader[i]
        ex = lab["exercise"]
        analysis = analyze_motion(motion, exercise=ex)
        a = analysis.to_dict()
        rel = analysis.reliability
        new = fault_measures(motion, ex, a, step=decimation(motion.fps), trusted=None if rel is None else rel.trusted)
        rows.append({"exercise": ex, "split": lab.get("split", "train"), "subject": lab.get("subject", str(i)),
                     "faults": lab["faults"], "new": new, "old": old_measures(motion, ex, a, new)})  # fmt: skip
        if (i + 1) % 100 == 0:
            print(f"{i + 1}/{n} clips, {time.perf_counter() - t0:.0f} s", flush=True)
    return rows


def legacy_screen(screen: FormScreen, exercise: str, measures: dict[str, float]) -> set[str]:
    """The faults the previous release's screen reported: the same models, standardised observables not
    clipped, no published normal range applied."""
    e = screen.exercises.get(exercise)
    if e is None or not measures:
        return set()
    x = np.array([measures.get(n, np.nan) for n in e.names], dtype=np.float64)
    z = torch.tensor(np.nan_to_num((x - np.array(e.mean)) / np.array(e.std)), dtype=torch.float64)
    feats = torch.cat([z, z * z], -1)
    out = set()
    for name, rule in e.rules.items():
        p = float(torch.sigmoid(feats @ torch.tensor(rule.weights, dtype=torch.float64) + rule.bias))
        if p >= rule.threshold and name in measures:
            out.add(name)
    return out


def score(screen: FormScreen, rows: list[dict], key: str, legacy: bool = False) -> dict:
    """Micro recall and precision over (clip, fault) pairs, and per fault."""
    return tally([(_found(screen, r, key, legacy), set(r["faults"])) for r in rows])


def _found(screen: FormScreen, r: dict, key: str = "new", legacy: bool = False) -> set[str]:
    if legacy:
        return legacy_screen(screen, r["exercise"], r[key])
    return {f.name for f in screen.screen(r["exercise"], r[key])}


def tally(items: list[tuple[set[str], set[str]]]) -> dict:
    """:func:`score` of (found, true) fault sets, one per clip."""
    tp = fp = fn = 0
    per: dict[str, list[int]] = {}
    for found, true in items:
        for name in found | true:
            c = per.setdefault(name, [0, 0, 0])
            if name in found and name in true:
                tp, c[0] = tp + 1, c[0] + 1
            elif name in found:
                fp, c[1] = fp + 1, c[1] + 1
            else:
                fn, c[2] = fn + 1, c[2] + 1
    return {
        "recall": tp / max(1, tp + fn),
        "precision": tp / max(1, tp + fp),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "per_fault": {
            k: {
                "recall": v[0] / max(1, v[0] + v[2]),
                "precision": v[0] / max(1, v[0] + v[1]),
                "f1": 2 * v[0] / max(1, 2 * v[0] + v[1] + v[2]),
                "n": v[0] + v[2],
            }
            for k, v in sorted(per.items())
        },  # fmt: skip
    }


def _rpf(v: dict) -> str:
    return f"{v.get('recall', 0):.2f} / {v.get('precision', 0):.2f} / {v.get('f1', 0):.2f}"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def subject_folds(rows: list[dict], k: int, seed: int = 0) -> np.ndarray:
    """A fold (0..k-1) per row, whole subjects to a fold."""
    subjects = sorted({r["subject"] for r in rows})
    order = np.random.default_rng(seed).permutation(len(subjects))
    fold = {s: int(order[i]) % k for i, s in enumerate(subjects)}
    return np.array([fold[r["subject"]] for r in rows])


def merged(base: FormScreen, fit: FormScreen, tune: dict[str, list[str]] | None, exercises) -> FormScreen:
    """``base`` with ``fit``'s rules for ``tune`` (exercise -> faults; the fit kept ``base``'s standardisation),
    or without ``tune`` its whole screens of ``exercises``."""
    out = dict(base.exercises)
    for ex in exercises:
        if ex not in fit.exercises:
            continue
        if tune and ex in tune and ex in base.exercises:
            e = base.exercises[ex]
            rules = {**e.rules, **{f: fit.exercises[ex].rules[f] for f in tune[ex] if f in fit.exercises[ex].rules}}
            out[ex] = ExerciseScreen(e.names, e.mean, e.std, rules)
        else:
            out[ex] = fit.exercises[ex]
    return FormScreen(out, base.video_floors)


def cross_validated(
    rows: list[dict], interactions: dict | None, k: int = 5, base: FormScreen | None = None, tune=None, l2=1e-2
) -> dict:
    """:func:`score` of screens fitted on ``k - 1`` folds of ``rows``' subjects, each on the fold it did not see
    (with ``base``: its standardisation, and only the ``tune`` rules refitted; see :func:`merged`)."""
    folds, items = subject_folds(rows, k), []
    for f in range(k):
        part = [(r["exercise"], r["new"], r["faults"]) for r, g in zip(rows, folds, strict=True) if g != f]
        fit = fit_form_screen(part, interactions=interactions, base=base if tune else None, l2=l2)
        if base is not None:
            fit = merged(base, fit, tune, {r["exercise"] for r in rows})
        items += [(_found(fit, r), set(r["faults"])) for r, g in zip(rows, folds, strict=True) if g == f]
    return tally(items)


def choose_pairs(
    rows: list[dict], exercise: str, fault: str, k: int = 5, most: int = 2, gain: float = 0.02, base=None, l2=1e-2
):
    """Greedy forward choice of ``fault``'s interaction features (its own observable times another) by the
    fault's cross-validated F1 on ``rows`` (training clips): a pair joins when it adds at least ``gain``.
    Returns the pairs and the steps tried ((pairs, cross-validated score), in order)."""
    pen = {exercise: {fault: l2}}
    names = sorted({n for r in rows if r["exercise"] == exercise for n in r["new"]})
    chosen: list[tuple[str, str]] = []
    tune = {exercise: [fault]}
    steps = [([], cross_validated(rows, None, k, base, tune, pen))]
    best = steps[0][1]["per_fault"].get(fault, {}).get("f1", 0.0)
    while len(chosen) < most:
        tried = []
        for m in names:
            if m == fault or (fault, m) in chosen:
                continue
            pairs = [*chosen, (fault, m)]
            s = cross_validated(rows, {exercise: {fault: pairs}}, k, base, tune, pen)
            steps.append((pairs, s))
            tried.append((s["per_fault"].get(fault, {}).get("f1", 0.0), pairs))
            print(f"  l2 {l2:g}, {fault} x {m} (with {chosen}): cross-validated F1 {tried[-1][0]:.3f}", flush=True)
        if not tried or max(tried)[0] < best + gain:
            break
        best, chosen = max(tried)
    return chosen, steps


def refit_only(args, rows: list[dict], measured) -> None:
    """``--only``: refit the exercises named, keep the shipped screen's others; see the module's docstring."""
    shipped = FormScreen.load(SHIPPED)
    rows = [r for r in rows if r["exercise"] in args.only]
    train = [r for r in rows if r["split"] == "train"]
    heldout = [r for r in rows if r["split"] != "train"]  # the data's own validation and test subjects
    print(f"{len(train)} training clips, {len(heldout)} of the data's other subjects", flush=True)
    interactions: dict[str, dict[str, list]] = {}
    tune: dict[str, list[str]] = {}
    for item in args.tune or []:
        ex, fault = item.split(":")
        tune.setdefault(ex, []).append(fault)
    design, penalty = [], {}
    for item in args.tune or []:
        ex, fault = item.split(":")
        # Per penalty (the first: the screen's default), the greedy pairs; the best cross-validated F1 wins.
        options = []
        for l2 in args.l2:
            pairs, steps = choose_pairs(train, ex, fault, k=args.folds, base=shipped, l2=l2)
            f1 = max(s["per_fault"].get(fault, {}).get("f1", 0.0) for p, s in steps if p == pairs)
            options.append((f1, l2, pairs, steps))
        f1, l2, pairs, _ = max(options, key=lambda o: o[0])
        interactions.setdefault(ex, {})[fault] = pairs
        penalty.setdefault(ex, {})[fault] = l2
        design.append((ex, fault, pairs, l2, options))
        print(f"chosen for {ex} {fault}: l2 {l2:g}, {pairs or 'no interaction'} (cross-validated F1 {f1:.3f})")

    def fit(inter, pen=1e-2):
        part = [(r["exercise"], r["new"], r["faults"]) for r in train]
        screen = fit_form_screen(part, interactions=inter, base=shipped if tune else None, l2=pen)
        return merged(shipped, screen, tune, args.only)

    control, after = fit(None), fit(interactions, penalty or 1e-2)
    cv = {
        "shipped screen": score(shipped, train, "new"),
        "refitted as shipped (control)": cross_validated(train, None, args.folds, shipped, tune),
        "refitted, the chosen design": cross_validated(train, interactions, args.folds, shipped, tune, penalty or 1e-2),
    }
    tests = {"the data's validation and test subjects": heldout}
    for path in args.test or []:
        tests[path.name] = [r for r in measured(path) if r["exercise"] in args.only]
    final = {}
    for name, part in tests.items():
        final[name] = {"shipped screen (before)": score(shipped, part, "new"),
                       "refitted as shipped (control)": score(control, part, "new"),
                       "refitted, the chosen design (after)": score(after, part, "new")}  # fmt: skip
        for label, sc in final[name].items():
            f = {k: round(v["f1"], 2) for k, v in sc["per_fault"].items()}
            print(f"{name} ({len(part)} clips), {label}: F1 {f}", flush=True)
    if args.out:
        after.save(args.out)
    if not args.report:
        return
    files = ", ".join(f"`{d.name}` (sha256 {_sha256(d)[:16]}...)" for d in [*args.data, *(args.test or [])])
    lines = [
        f"## Refit of {', '.join(args.only)}: {', '.join(args.tune or ['all rules'])} ({time.strftime('%d %b %Y')})",
        "",
        f"Data: {files}. Fitted on the first file's training subjects ({len(train)} clips); the design is "
        f"chosen by {args.folds}-fold cross-validation over those subjects (whole subjects to a fold); the "
        "test clips (the first file's validation and test subjects, and each `--test` file: other subjects, "
        "another seed) are scored once. Other exercises keep the shipped screen's rules; with `--tune`, only the "
        "tuned faults' rules are refitted, on the shipped standardisation, beside the exercise's other shipped "
        "rules. Command: see "
        "`scripts/refit_form_screen.py` (`--only`).",
    ]
    for ex, fault, pairs, l2, options in design:
        lines += ["", f"Design: {ex} {fault}, weight penalties and interaction features tried (cross-validated on "
                  "the training subjects; recall / precision / F1 of the fault):", "",
                  "| penalty | pairs | cross-validated |", "|---:|---|---:|"]  # fmt: skip
        for _, pen, _, steps in options:
            for tried, s in steps:
                label = ", ".join(f"{a} x {b}" for a, b in tried) or "none (each observable and its square)"
                lines.append(f"| {pen:g} | {label} | {_rpf(s['per_fault'].get(fault, {}))} |")
        lines += ["", f"Chosen: penalty {l2:g}, pairs {', '.join(f'{a} x {b}' for a, b in pairs) or 'none'}."]
    faults = sorted({k for sc in [*cv.values(), *(v for t in final.values() for v in t.values())]
                     for k in sc["per_fault"]})  # fmt: skip
    lines += ["", "Cross-validated on the training subjects (recall / precision / F1; the shipped screen scored "
              "on them as is):", "", "| fault | " + " | ".join(cv) + " |", "|---|" + "---:|" * len(cv)]  # fmt: skip
    for k in faults:
        lines.append(f"| {k} | " + " | ".join(_rpf(s["per_fault"].get(k, {})) for s in cv.values()) + " |")
    for name, t in final.items():
        n = len(tests[name])
        lines += ["", f"Test, {name} ({n} clips, scored once; recall / precision / F1):", "",
                  "| fault | faulty | " + " | ".join(t) + " |", "|---|---:|" + "---:|" * len(t)]  # fmt: skip
        for k in faults:
            m = max((s["per_fault"].get(k, {}).get("n", 0) for s in t.values()), default=0)
            lines.append(f"| {k} | {m} | " + " | ".join(_rpf(s["per_fault"].get(k, {})) for s in t.values()) + " |")
    text = "\n".join(lines) + "\n"
    if args.append and args.report.is_file():
        text = args.report.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + text
    args.report.write_text(text, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, nargs="+", required=True, help="simulated HDF5 files (splits by subject)")
    ap.add_argument("--out", type=Path, help="write the refitted screen here (form_screen.json)")
    ap.add_argument("--report", type=Path, help="write the before/after table here (markdown)")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--rows", type=Path, help="folder caching the measured clips (<data stem>.json)")
    ap.add_argument(
        "--heldout",
        type=Path,
        nargs=2,
        metavar=("PREVIOUS", "NEW"),
        help="held-out squats simulated by the previous engine and by this one (another seed): the "
        "shipped screen is scored on the first, the refitted one on the second, per squat fault",
    )
    ap.add_argument("--only", nargs="+", metavar="EXERCISE", help="refit these exercises only; keep the shipped others")
    ap.add_argument("--tune", nargs="+", metavar="EXERCISE:FAULT", help="with --only: choose the fault's interactions")
    ap.add_argument("--folds", type=int, default=5, help="with --tune: folds of the training subjects")
    ap.add_argument("--l2", type=float, nargs="+", default=[1e-2], help="with --tune: weight penalties to try")
    ap.add_argument("--test", type=Path, nargs="+", help="with --only: held-out clips, scored once")
    ap.add_argument("--append", action="store_true", help="append the report to --report's file")
    args = ap.parse_args()
    torch.set_num_threads(1)

    def measured(data: Path) -> list[dict]:
        cache = None if args.rows is None else args.rows / f"{data.stem}.json"
        if cache is not None and cache.is_file():
            return json.loads(cache.read_text())
        part = load_rows(data, args.limit)
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps(part))
        return part

    rows = [r for data in args.data for r in measured(data)]
    if args.only:
        refit_only(args, rows, measured)
        return
    train = [r for r in rows if r["split"] == "train"]
    test = [r for r in rows if r["split"] == "test"]
    shipped = FormScreen.load(SHIPPED)
    refit = fit_form_screen([(r["exercise"], r["new"], r["faults"]) for r in train])
    refit_old = fit_form_screen([(r["exercise"], r["old"], r["faults"]) for r in train])
    val = [r for r in rows if r["split"] == "val"]
    # Design choices on the validation split; the test split is scored once, for the two screens.
    design = {
        ("shipped screen", "previous"): score(shipped, val, "old", legacy=True),
        ("refitted, the previous observables (control: the data alone)", "previous"): score(
            refit_old, val, "old", legacy=True
        ),
        ("shipped screen, not refitted", "new"): score(shipped, val, "new", legacy=True),
        ("refitted, no published normal range", "new"): score(refit, val, "new", legacy=True),
        ("refitted, with the published normal range (shipped now)", "new"): score(refit, val, "new"),
    }
    results = {
        ("shipped screen (before)", "previous"): score(shipped, test, "old", legacy=True),
        ("refitted (after: shipped now)", "new"): score(refit, test, "new"),
    }
    for (name, obs), s in {**design, **results}.items():
        print(f"{name} on the {obs} observables: recall {s['recall']:.3f} precision {s['precision']:.3f}")
    squat = [r for r in test if r["exercise"] == "squat"]
    squat_before = score(shipped, squat, "old", legacy=True)["per_fault"]
    squat_after = score(refit, squat, "new")["per_fault"]
    for k, v in squat_after.items():
        print(f"  squat {k}: F1 after {v['f1']:.2f} (recall {v['recall']:.2f}, precision {v['precision']:.2f}, "
              f"{v['n']} faulty), before {squat_before.get(k, {}).get('f1', 0.0):.2f}")  # fmt: skip
    heldout = None
    if args.heldout:
        # The shipped screen as the product ran it before the forward lean moved to the hip-to-shoulder line.
        before_obs = [{**r, "new": {**r["new"], **{k: v for k, v in r["old"].items() if k == "forward_lean"}}}
                      for r in measured(args.heldout[0]) if r["exercise"] == "squat"]  # fmt: skip
        after_obs = [r for r in measured(args.heldout[1]) if r["exercise"] == "squat"]
        heldout = (score(shipped, before_obs, "new")["per_fault"], score(refit, after_obs, "new")["per_fault"],
                   len(before_obs), len(after_obs))  # fmt: skip
        for k in sorted(set(heldout[0]) | set(heldout[1])):
            b, a = heldout[0].get(k, {}), heldout[1].get(k, {})
            print(f"  held-out squats, {k}: F1 before {b.get('f1', 0):.2f} ({b.get('n', 0)} faulty), "
                  f"after {a.get('f1', 0):.2f} ({a.get('n', 0)} faulty)")  # fmt: skip
    if args.out:
        refit.save(args.out)
    if args.report:
        files = ", ".join(f"`{d.name}` (sha256 {_sha256(d)[:16]}...)" for d in args.data)
        lines = [
            "# Form screen refit after the observables changed (issue 22)",
            "",
            f"Data: {files}, {len(rows)} simulated clips: {len(train)} train, "
            f"{len(val)} validation, {len(test)} test (subjects disjoint). Command: see "
            "`scripts/refit_form_screen.py`.",
            "",
            "Design (validation split):",
            "",
            "| screen | observables | recall | precision | tp | fp | fn |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for (label, obs), s in design.items():
            lines.append(
                f"| {label} | {obs} | {s['recall']:.3f} | {s['precision']:.3f} | {s['tp']} | {s['fp']} | {s['fn']} |"
            )
        lines += ["", "Final (test split, scored once):", "",
                  "| screen | observables | recall | precision | tp | fp | fn |",
                  "|---|---|---:|---:|---:|---:|---:|"]  # fmt: skip
        for (label, obs), s in results.items():
            lines.append(
                f"| {label} | {obs} | {s['recall']:.3f} | {s['precision']:.3f} | {s['tp']} | {s['fp']} | {s['fn']} |"
            )
        lines += ["", "Per fault (recall / precision / F1; all exercises pooled), before and after:", "",
                  "| fault | before | after |", "|---|---:|---:|"]  # fmt: skip
        before, after = list(results.values())[0]["per_fault"], list(results.values())[1]["per_fault"]
        for k in sorted(set(before) | set(after)):
            b, a = before.get(k, {}), after.get(k, {})
            lines.append(f"| {k} | {_rpf(b)} | {_rpf(a)} |")
        lines += ["", f"Squat faults only ({len(squat)} test clips; recall / precision / F1):", "",
                  "| fault | faulty clips | before | after |", "|---|---:|---:|---:|"]  # fmt: skip
        for k in sorted(set(squat_before) | set(squat_after)):
            n = squat_after.get(k, squat_before.get(k, {})).get("n", 0)
            lines.append(f"| {k} | {n} | {_rpf(squat_before.get(k, {}))} | {_rpf(squat_after.get(k, {}))} |")
        if heldout is not None:
            names = ", ".join(f"`{d.name}` (sha256 {_sha256(d)[:16]}...)" for d in args.heldout)
            lines += ["", f"Held-out squats ({names}: {heldout[2]} clips of the previous engine, {heldout[3]} of "
                      "this one, another seed; recall / precision / F1): before, the shipped screen on the "
                      "previous engine's squats with the observables the product fed it; after, the refitted "
                      "screen on this engine's.", "", "| fault | faulty before | before | faulty after | after |",
                      "|---|---:|---:|---:|---:|"]  # fmt: skip
            for k in sorted(set(heldout[0]) | set(heldout[1])):
                b, a = heldout[0].get(k, {}), heldout[1].get(k, {})
                lines.append(f"| {k} | {b.get('n', 0)} | {_rpf(b)} | {a.get('n', 0)} | {_rpf(a)} |")
        args.report.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
