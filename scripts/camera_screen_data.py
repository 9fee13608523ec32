"""Synthetic clips seen through a camera and fitted back: the data the video form screen is fitted on.

Each clip (:func:`musclepose.sim.randomize.random_clip`, a random adult, 0-2 faults) is filmed by a
random camera and fitted (:func:`musclepose.sim.sensors.camera_view.camera_fit`); the fitted motion and
the clip's labels are written to ``OUT/clip_<seed>_<i>.npz`` (one file per clip, atomically, so an
interrupted run resumes where it stopped). Clip ``i`` draws from ``numpy.random.default_rng([seed, i])``:
a seed range is a set of synthetic subjects, so train and test are split by seed, i.e. by person.

    python scripts/camera_screen_data.py --seed 30000 --n 400 --out camera_screen_data/
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from musclepose.atomic import atomic_write
from musclepose.sim.randomize import random_clip
from musclepose.sim.sensors.camera_view import camera_fit


def one_clip(seed: int, i: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([seed, i])
    truth = random_clip(rng)
    b = truth.body
    labels = {"exercise": truth.metadata["exercise"], "faults": truth.metadata["faults"],
              "height_m": b.height_m, "mass_kg": b.mass_kg, "sex": b.sex, "seed": seed, "index": i}  # fmt: skip
    try:
        fit, az = camera_fit(truth, rng)
    except ValueError as err:
        labels["error"] = str(err)
        return {"labels": np.array(json.dumps(labels, default=float))}
    labels["azimuth_deg"] = az
    m = fit.motion
    return {
        "labels": np.array(json.dumps(labels, default=float)),
        "fit_q": m.q.numpy().astype(np.float32),
        "fit_fps": np.array(m.fps),
        "flagged": np.asarray(fit.flagged, dtype=bool),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=30_000)
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    for i in range(args.start, args.n):
        path = args.out / f"clip_{args.seed}_{i:05d}.npz"
        if path.exists():
            continue
        arrays = one_clip(args.seed, i)
        with atomic_write(path, "wb") as fh:
            np.savez(fh, **arrays)
        lab = json.loads(str(arrays["labels"]))
        print(f"{i + 1}/{args.n} {lab['exercise']} {sorted(lab['faults'])} {time.perf_counter() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()
