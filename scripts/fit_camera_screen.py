"""Fit the form screen's video floors: what a motion fitted from a camera shows on correct form.

Reads the clips of ``scripts/camera_screen_data.py`` (synthetic clips filmed by random cameras and
fitted back), measures every repetition as ``musclepose analyze`` does for a video
(:func:`musclepose.pipelines.form_real.motion_rep_faults`: the fault observables of each repetition
alone), and sets, per exercise and fault, a floor at the ``q``-quantile of the observable over the
repetitions of clips *without* that fault. A finding on video must pass it as well as the screen.
``q`` is chosen on a validation split (clips with ``index % 4 == 0``: other synthetic people) for
the best micro-F1 of per-clip findings (a clip's findings: every fault of any of its repetitions);
the floors are then refitted on all clips and written beside the screen.

    python scripts/camera_screen_data.py --seed 30000 --n 600 --out camera_screen_data/
    python scripts/fit_camera_screen.py --data camera_screen_data/ \\
        --out src/musclepose/assets/coach/form_screen_video.json --report docs/form_screen_video.md
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import torch

from musclepose.atomic import atomic_write
from musclepose.body import Body
from musclepose.motion import Motion
from musclepose.motion.video_fit import compute_threads
from musclepose.pipelines.coach import default_checkpoint
from musclepose.pipelines.form_real import crop_to_rep
from musclepose.pipelines.form_screen import FormScreen, fault_measures
from musclepose.signals import analyze_motion

QUANTILES = (None, 0.8, 0.9, 0.95, 0.98, 0.99, 1.0)


def clip_rows(path: Path) -> dict | None:
    """The clip's labels and the fault measures of each of its repetitions (None: the fit failed)."""
    with np.load(path) as z:
        lab = json.loads(str(z["labels"]))
        if "fit_q" not in z:
            return None
        body = Body.standard(lab["height_m"], lab["mass_kg"], lab["sex"])
        motion = Motion(torch.tensor(z["fit_q"], dtype=torch.float64), float(z["fit_fps"]), body, {"video_fit": {}})
    ex = lab["exercise"]
    with compute_threads(1):
        a = analyze_motion(motion, exercise=ex).to_dict()
        reps = []
        for rep in a.get("reps") or []:
            crop, moved = crop_to_rep(motion, rep)
            try:
                reps.append(fault_measures(crop, ex, {**a, "reps": [moved]}))
            except (ValueError, IndexError):
                continue
    return {"file": path.name, "index": lab["index"], "exercise": ex, "faults": sorted(lab["faults"]), "reps": reps}


def floors_at(rows: list[dict], q: float | None) -> dict[str, dict[str, float]]:
    if q is None:
        return {}
    vals: dict[str, dict[str, list[float]]] = {}
    for r in rows:
        for m in r["reps"]:
            for fault, v in m.items():
                if fault not in r["faults"] and np.isfinite(v):
                    vals.setdefault(r["exercise"], {}).setdefault(fault, []).append(float(v))
    return {ex: {f: float(np.quantile(v, q)) for f, v in d.items() if len(v) >= 10} for ex, d in vals.items()}


def score(screen: FormScreen, rows: list[dict], video: bool) -> dict[str, float]:
    tp = fp = fn = 0
    per: dict[str, list[int]] = {}
    for r in rows:
        found = {f.name for m in r["reps"] for f in screen.screen(r["exercise"], m, video=video)}
        true = set(r["faults"])
        for f in found | true:
            c = per.setdefault(f, [0, 0, 0])
            c[0 if f in found and f in true else 1 if f in found else 2] += 1
        tp, fp, fn = tp + len(found & true), fp + len(found - true), fn + len(true - found)
    p, rc = tp / max(1, tp + fp), tp / max(1, tp + fn)
    return {"precision": p, "recall": rc, "f1": 2 * p * rc / max(1e-9, p + rc), "tp": tp, "fp": fp, "fn": fn,
            "per_fault": per}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, nargs="+", required=True)
    ap.add_argument("--cache", type=Path, default=None, help="JSON of measured clips (reused, extended)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--report", type=Path, default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    cache = json.loads(args.cache.read_text()) if args.cache and args.cache.is_file() else {}
    files = sorted(p for d in args.data for p in d.glob("clip_*.npz"))
    rows, failed = [], 0
    for k, path in enumerate(files):
        if path.name not in cache:
            cache[path.name] = clip_rows(path)
            if k % 20 == 0:
                print(f"{k + 1}/{len(files)} measured, {time.perf_counter() - t0:.0f}s", flush=True)
        if cache[path.name] is None:
            failed += 1
        else:
            rows.append(cache[path.name])
    if args.cache:
        with atomic_write(args.cache) as fh:
            fh.write(json.dumps(cache))
    screen = FormScreen.load(default_checkpoint() / "form_screen.json")
    train = [r for r in rows if r["index"] % 4 != 0]
    val = [r for r in rows if r["index"] % 4 == 0]
    table = []
    for q in QUANTILES:
        screen.video_floors = floors_at(train, q)
        s = score(screen, val, video=True)
        table.append((q, s))
        print(f"q={q}: validation precision {s['precision']:.3f} recall {s['recall']:.3f} F1 {s['f1']:.3f}", flush=True)
    best_q, best = max(table, key=lambda t: t[1]["f1"])
    floors = floors_at(rows, best_q)
    digest = hashlib.sha256("".join(sorted(r["file"] for r in rows)).encode()).hexdigest()[:16]
    # Clip i of a seed is the same clip whoever makes it (default_rng([seed, i])): the range remakes the data.
    ranges = {}
    for path in files:
        seed, index = path.stem.split("_")[1:3]
        ranges.setdefault(seed, []).append(int(index))
    data = [f"python scripts/camera_screen_data.py --seed {sd} --n {max(ix) + 1} --out DATA/"
            for sd, ix in sorted(ranges.items())]  # fmt: skip
    doc = {"floors": floors, "quantile": best_q, "n_clips": len(rows), "clips_sha256_16": digest, "data": data,
           "command": "python scripts/fit_camera_screen.py --data DATA/"}  # fmt: skip
    with atomic_write(args.out) as fh:
        fh.write(json.dumps(doc, indent=1) + "\n")
    print(f"chose q={best_q}; {len(rows)} clips ({failed} fits failed), {time.perf_counter() - t0:.0f}s -> {args.out}")
    if args.report:
        lines = ["# Video floors of the form screen", "",
                 f"Generated by `{' && '.join(data)} && {doc['command']}`: {len(rows)} synthetic clips filmed by "
                 "random cameras and fitted "
                 f"back ({failed} fits failed), split by synthetic person: {len(train)} to fit, {len(val)} to choose "
                 "the quantile. Per-clip findings (any repetition), micro-averaged over (clip, fault).", "",
                 "| floor quantile | precision | recall | F1 | tp | fp | fn |",
                 "|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
        for q, s in table:
            name = "none (the screen alone)" if q is None else f"{q:.2f}"
            lines.append(f"| {name} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {s['tp']} | "
                         f"{s['fp']} | {s['fn']} |")  # fmt: skip
        lines += ["", f"Chosen: {best_q}. Test numbers (held-out seed): `docs/evaluation_video_coach.md`.", ""]
        with atomic_write(args.report) as fh:
            fh.write("\n".join(lines))


if __name__ == "__main__":
    main()
