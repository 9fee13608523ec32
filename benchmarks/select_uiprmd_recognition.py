"""Which features the UI-PRMD movement recogniser should use, chosen on validation only (issue 15).

Nested leave-one-subject-out over UI-PRMD's eight subjects: for each held-out subject, every design
is scored by leave-one-subject-out among the seven others (the inner accuracy); the design with the
best inner accuracy is then scored on the held-out subject (the nested estimate, selection included).
The shipped design is the one with the best inner accuracy averaged over the outer folds; its plain
leave-one-subject-out accuracy is reported once, by ``benchmarks/bench_form_real.py``.

Designs (the same multinomial logistic regression, L2 ``RECOGNIZER_L2``, classes weighted equally):

- ``form``: :func:`kinect_features` (the recogniser before issue 15);
- ``mirror-single`` (shipped: :func:`kinect_recognition_features`): :func:`kinect_features` of the
  episode mirrored when its left arm and leg together move more than its right ones;
- ``mirror-limbs``: arms and legs mirrored each on their own (``_mirror_limbs``);
- ``mirror-limbs+body``: ``mirror-limbs`` plus 39 physical features (``_body_features``: which limbs
  move, how lopsided, the collar and hip offsets and the pelvis at the peak);
- ``form+body``: :func:`kinect_features` plus the same 39, nothing mirrored.

Usage: ``python benchmarks/select_uiprmd_recognition.py [--designs form,mirror-limbs]
[--out docs/uiprmd_recognition_designs.json]`` (about 5 minutes per design on one idle core);
``--merge a.json b.json --out ...`` joins runs of different designs made in parallel.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from musclepose.io.atomic import atomic_write
from musclepose.io.uiprmd import read_uiprmd, uiprmd_episodes
from musclepose.pipelines.form_features import (
    KINECT_LIMBS,
    kinect_features,
    kinect_limb_activity,
    kinect_mirrored,
    kinect_recognition_features,
)
from musclepose.training.form_real import RECOGNIZER_L2, digest, fit_classifier, predict_proba

ROOT = Path(__file__).resolve().parents[1]


def _mirror_limbs(ep):
    """Arms and legs mirrored each on their own so that the arm and the leg that move more are on
    the right; the pelvis path follows the more lopsided pair."""

    def act(side: str, limb: str) -> float:
        return kinect_limb_activity(ep, f"{side}_{limb}")

    arm_left, leg_left = act("left", "arm") > act("right", "arm"), act("left", "leg") > act("right", "leg")
    if not (arm_left or leg_left):
        return ep

    def lopsided(limb: str) -> float:
        a, b = act("left", limb), act("right", limb)
        return abs(a - b) / max(a + b, 1e-9)

    pelvis = arm_left if lopsided("arm") > lopsided("leg") else leg_left
    return kinect_mirrored(ep, arms=arm_left, legs=leg_left, pelvis=pelvis)


def _body_features(ep) -> np.ndarray:
    """Which limbs move and how the girdles and the pelvis follow them, working side (``_mirror_limbs``)
    first: each limb's activity (working, other), how lopsided the arms and the legs are, arms against
    legs (log ratio), the peak (the frame where the working arm's and leg's segment lengths are
    furthest from the first frame's) as a fraction of the episode; the collar and hip offsets (the
    only bones whose direction the file keeps, in the parent's frame) at the peak minus the first
    frame and their range, per side; the pelvis path's range and displacement at the peak per camera
    axis, and its mean speed. 39 values."""
    c = _mirror_limbs(ep)
    b, off, root = c.bones_m, c.offsets_m, c.root_m - c.root_m[0]
    aw, ao, lw, lo = (kinect_limb_activity(c, k) for k in ("right_arm", "left_arm", "right_leg", "left_leg"))
    limbs = list(KINECT_LIMBS["right_arm"][1:] + KINECT_LIMBS["right_leg"][1:])
    peak = int(np.argmax(np.abs(b[:, limbs] - b[0, limbs]).sum(axis=1)))
    out = [aw, ao, lw, lo, (aw - ao) / (aw + ao + 1e-9), (lw - lo) / (lw + lo + 1e-9),
           float(np.log((aw + ao + 1e-6) / (lw + lo + 1e-6))), peak / len(b)]  # fmt: skip
    for limb in ("right_arm", "left_arm", "right_leg", "left_leg"):
        j = KINECT_LIMBS[limb][0]
        out += list(off[peak, j] - off[0, j]) + list(np.ptp(off[:, j], axis=0))
    out += list(np.ptp(root, axis=0)) + list(root[peak])
    out.append(float(np.abs(np.diff(root, axis=0)).sum() * c.fps / len(root)))
    return np.asarray(out, dtype=np.float64)


DESIGNS = {
    "form": kinect_features,
    "mirror-single": kinect_recognition_features,
    "mirror-limbs": lambda ep: kinect_features(_mirror_limbs(ep)),
    "mirror-limbs+body": lambda ep: np.concatenate([kinect_features(_mirror_limbs(ep)), _body_features(ep)]),
    "form+body": lambda ep: np.concatenate([kinect_features(ep), _body_features(ep)]),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--designs", default=",".join(DESIGNS))
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "uiprmd_recognition_designs.json")
    ap.add_argument("--merge", type=Path, nargs="+", help="merge earlier runs' JSON files instead of running")
    args = ap.parse_args()
    if args.merge:
        merge(args.merge, args.out)
        return
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    data = Path(os.environ.get("MUSCLEPOSE_REFDATA", ROOT.parent / "shared" / "data"))
    files = uiprmd_episodes(data / "labelled" / "uiprmd_kinect")
    eps = [read_uiprmd(f) for f in files]
    y = np.array([e.exercise for e in eps])
    g = np.array([e.subject for e in eps])
    subjects = sorted(set(g.tolist()))

    def fit_predict(x, tr, te):
        clf = fit_classifier(x[tr], y[tr], [f"f{i}" for i in range(x.shape[1])], l2=RECOGNIZER_L2)
        return np.array(clf.config.classes)[predict_proba(clf, x[te]).argmax(1)]

    inner: dict[str, dict[str, float]] = {}
    outer: dict[str, dict[str, float]] = {}
    for name in args.designs.split(","):
        x = np.array([DESIGNS[name](e) for e in eps])
        inner[name], outer[name] = {}, {}
        for s in subjects:
            rest = np.flatnonzero(g != s)
            hits = []
            for v in subjects:
                if v != s:
                    hits += list(fit_predict(x, rest[g[rest] != v], np.flatnonzero(g == v)) == y[g == v])
            inner[name][str(s)] = float(np.mean(hits))
            te = np.flatnonzero(g == s)
            outer[name][str(s)] = float(np.mean(fit_predict(x, rest, te) == y[te]))
            print(f"{name} s{s:02d}: inner {inner[name][str(s)]:.3f}", file=sys.stderr, flush=True)
    n = {str(s): int((g == s).sum()) for s in subjects}
    result = summarise(inner, outer, n)
    result = {"command": "python benchmarks/select_uiprmd_recognition.py " + " ".join(sys.argv[1:]),
              "seconds": time.perf_counter() - t0, "uiprmd_sha256": digest(files), "n": n, "outer": outer,
              **result}  # fmt: skip
    write(result, args.out)


def summarise(inner: dict, outer: dict, n: dict) -> dict:
    """Mean inner accuracy per design, the design chosen per outer fold (ties: the first listed), the
    nested estimate and the shipped design (best mean inner)."""
    mean_inner = {d: float(np.mean(list(v.values()))) for d, v in inner.items()}
    chosen = {s: max(inner, key=lambda d, s=s: inner[d][s]) for s in n}
    nested = sum(outer[chosen[s]][s] * n[s] for s in n) / sum(n.values())
    return {"inner": inner, "mean_inner": mean_inner, "chosen_per_outer_fold": chosen, "nested_accuracy": nested,
            "shipped": max(mean_inner, key=mean_inner.get)}  # fmt: skip


def write(result: dict, out: Path) -> None:
    with atomic_write(out) as fh:
        fh.write(json.dumps(result, indent=1) + "\n")
    print("| design | inner accuracy (mean over outer folds) |\n|---|---:|")
    for d, v in result["mean_inner"].items():
        print(f"| {d} | {v:.3f} |")
    print(f"nested estimate: {result['nested_accuracy']:.3f}; chosen {result['chosen_per_outer_fold']}")


def merge(parts: list[Path], out: Path) -> None:
    """``--merge a.json b.json``: runs of different designs (in parallel processes) as one, in order."""
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in parts]
    inner = {d: v for doc in docs for d, v in doc["inner"].items()}
    inner = {d: inner[d] for d in DESIGNS if d in inner}
    outer = {d: v for doc in docs for d, v in doc["outer"].items()}
    result = summarise(inner, outer, docs[0]["n"])
    result = {"command": " + ".join(doc["command"] for doc in docs), "seconds": sum(doc["seconds"] for doc in docs),
              "uiprmd_sha256": docs[0]["uiprmd_sha256"], "n": docs[0]["n"], "outer": outer, **result}  # fmt: skip
    write(result, out)


if __name__ == "__main__":
    main()
