"""Build the body-space motion model's data: real mocap and synthetic exercises on our body, 30 Hz, HDF5.

Usage::

    python scripts/build_motion_data.py --out runs/motion_data --synthetic 40
    python scripts/build_motion_data.py --out runs/motion_data_small --actions walking,running --no-other --synthetic 20

Sources (retargeted by :func:`musclepose.io.load_motion`, keypoint IK, at 30 Hz):

- the CMU motion-prediction benchmark's training split
  (``../shared/data/mocap/cmu_prediction/train``): ``<action>_1.txt`` -> ``test.h5``,
  ``<action>_2.txt`` -> ``val.h5``, the others -> ``train.h5`` (the benchmark's files carry no
  subject names, so the split is by file, like the benchmark's own);
- the other real mocap: ``mocap/mass/*.bvh`` (MASS, 8 clips) and ``mocap/cmu/131_01.bvh`` -> ``train.h5``;
- ``--synthetic N`` random clips of the exercise engine (:func:`musclepose.sim.randomize.random_clip`,
  seed 0), resampled from 100 to 30 Hz -> ``synthetic.h5`` (kept apart, so that training can
  weigh the real motion up).

Writes the four files and ``sources.json`` (each source, its split, frames and SHA-256).
Retargeting costs ~0.3 s of CPU per frame (scaling plus inverse kinematics), ~15 min in all.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np

from musclepose.io import cmu_prediction as cmu
from musclepose.io.hdf5 import write_motions
from musclepose.io.load import load_motion
from musclepose.sim.randomize import random_clip

FPS = 30.0


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"), help="the reference data folder")
    ap.add_argument("--out", type=Path, default=Path("runs/motion_data"))
    ap.add_argument("--synthetic", type=int, default=40, help="synthetic clips (train)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--actions", default="", help="only these benchmark actions, e.g. walking,running (default: all)")
    ap.add_argument("--no-other", action="store_true", help="leave out the MASS and CMU 131_01 BVH clips")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    jobs: list[tuple[str, Path]] = []
    actions = {a.strip() for a in args.actions.split(",") if a.strip()}
    for action, files in cmu.find_files(args.data / "mocap/cmu_prediction/train").items():
        if actions and action not in actions:
            continue
        for f in files:
            k = int(f.stem.rsplit("_", 1)[1])
            jobs.append(({1: "test", 2: "val"}.get(k, "train"), f))
    if not args.no_other:
        jobs += [("train", f) for f in sorted((args.data / "mocap/mass").glob("*.bvh"))]
        jobs.append(("train", args.data / "mocap/cmu/131_01.bvh"))
    splits: dict[str, list] = {"train": [], "val": [], "test": [], "synthetic": []}
    card = []
    for split, f in jobs:
        t0 = time.process_time()
        m = load_motion(f, fps=FPS)
        splits[split].append(m)
        card.append({"file": str(f), "split": split, "frames": m.n_frames, "sha256": sha256(f)})
        print(f"{split:5s} {f.name:24s} {m.n_frames:5d} frames {time.process_time() - t0:6.1f} s CPU", flush=True)
    rng = np.random.default_rng(args.seed)
    for i in range(args.synthetic):
        m = random_clip(rng).resampled(FPS)
        splits["synthetic"].append(m)
        card.append({"file": f"synthetic:{args.seed}:{i}", "split": "synthetic", "frames": m.n_frames,
                     "exercise": m.metadata.get("exercise")})  # fmt: skip
    for split, motions in splits.items():
        write_motions(args.out / f"{split}.h5", motions)
        print(f"{split}: {len(motions)} motions, {sum(m.n_frames for m in motions)} frames")
    (args.out / "sources.json").write_text(json.dumps(card, indent=1) + "\n")
    return {"sources": len(card)}


if __name__ == "__main__":
    main()
