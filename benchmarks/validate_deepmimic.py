"""DeepMimic reference motions on our body: does the retargeting keep the file's own joint angles?

    python benchmarks/validate_deepmimic.py          # all 20 humanoid3d clips, ~5-10 minutes on 2 cores

Each ``../shared/data/mocap/deepmimic/humanoid3d_*.txt`` is read (:mod:`musclepose.io.deepmimic`:
forward kinematics of the humanoid3d character), its joints retargeted to the 47-DoF body by
keypoint IK from positions alone (:func:`musclepose.io.load.load_motion`), and the knee and elbow
flexion our IK finds compared with the hinge angles the file states (an independent reference:
the IK never sees them). Baseline: a constant angle at the file's mean (what a fit that ignored
the motion would score). Writes docs/validation_deepmimic.md and .json.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from musclepose.io.load import load_motion

ROOT = Path(__file__).resolve().parents[1]
REFDATA = Path(os.environ.get("MUSCLEPOSE_REFDATA", ROOT.parent / "shared" / "data"))
# our DoF -> (column of the file's hinge angle, sign that makes it flexion-positive)
HINGES = {
    "knee_flexion_r": (20, -1),
    "knee_flexion_l": (34, -1),
    "elbow_flexion_r": (29, 1),
    "elbow_flexion_l": (43, 1),
}


def validate(path: Path) -> dict:
    t0 = time.perf_counter()
    motion = load_motion(path)
    seconds = time.perf_counter() - t0
    frames = np.asarray(json.loads(path.read_text())["Frames"], dtype=float)
    t_file = np.concatenate([[0.0], np.cumsum(frames[:-1, 0])])
    t = np.arange(motion.n_frames) / motion.fps
    q = np.degrees(motion.q.detach().cpu().numpy())
    row = {"clip": path.stem.removeprefix("humanoid3d_"), "frames": motion.n_frames, "fps": round(motion.fps, 2),
           "marker_rms_mm": 1000 * motion.metadata["marker_rms_m"], "seconds": seconds}  # fmt: skip
    for dof, (col, sign) in HINGES.items():
        ref = sign * np.degrees(np.interp(t, t_file, frames[:, col]))
        ours = q[:, motion.body.dof_index(dof)]
        row[f"{dof}_rmse"] = float(np.sqrt(np.mean((ours - ref) ** 2)))
        row[f"{dof}_baseline"] = float(np.std(ref))  # RMSE of a constant at the file's mean
    return row


def render(rows: list[dict]) -> str:
    """The markdown report of ``rows`` (one per clip)."""
    knees = [r[f"knee_flexion_{s}_rmse"] for r in rows for s in "rl"]
    elbows = [r[f"elbow_flexion_{s}_rmse"] for r in rows for s in "rl"]
    pairs = [(r["clip"], f"{j}_{s}", r[f"{j}_{s}_rmse"], r[f"{j}_{s}_baseline"]) for r in rows
             for j in ("knee_flexion", "elbow_flexion") for s in "rl"]  # fmt: skip
    lost, total = [p for p in pairs if p[2] >= p[3]], len(pairs)
    lines = [
        "# DeepMimic reference motions retargeted to the body",
        "",
        f"`python benchmarks/validate_deepmimic.py` ({len(rows)} clips of `../shared/data/mocap/deepmimic`). "
        "The IK sees only joint positions (the humanoid3d character's forward kinematics); the file's own knee "
        "and elbow hinge angles are the reference. Baseline: a constant at the file's mean angle (its RMSE is "
        "the angle's standard deviation). Seconds: reading + IK on this 2-core machine (shared with other jobs).",
        "",
        "| clip | frames | fps | marker RMS mm | knee r / l RMSE deg | baseline | elbow r / l RMSE deg | baseline "
        "| s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['clip']} | {r['frames']} | {r['fps']:g} | {r['marker_rms_mm']:.1f} | "
            f"{r['knee_flexion_r_rmse']:.1f} / {r['knee_flexion_l_rmse']:.1f} | "
            f"{r['knee_flexion_r_baseline']:.0f} / {r['knee_flexion_l_baseline']:.0f} | "
            f"{r['elbow_flexion_r_rmse']:.1f} / {r['elbow_flexion_l_rmse']:.1f} | "
            f"{r['elbow_flexion_r_baseline']:.0f} / {r['elbow_flexion_l_baseline']:.0f} | {r['seconds']:.0f} |"
        )
    lines += [
        "",
        f"- Median over clips and sides: knees **{np.median(knees):.1f} deg**, elbows **{np.median(elbows):.1f} deg** "
        f"(worst {max(knees):.1f} / {max(elbows):.1f}).",
        f"- The IK beats the constant baseline on {total - len(lost)} of {total} clip-joint pairs; not on "
        + ", ".join(f"{c} {j} ({e:.1f} against {b:.1f})" for c, j, e, b in lost)
        + ". Where the file's angle barely moves (standard deviation under 5 deg) a degree or two of IK error is "
        "more than the motion; the others (crawl's and dance_a's elbows) are misfits.",
        "- The larger errors (over 5 deg: dance_a, spin, spinkick, backflip, crawl's elbows) were not "
        "investigated joint by joint; the marker RMS (positions the IK could not reach) is highest on the "
        "flips, rolls and spins. The character's feet are boxes (toe point on the box), so ankle angles "
        "are approximate; a looping clip (Loop: wrap) is read once.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "validation_deepmimic.md")
    ap.add_argument("--clips", nargs="*", help="Clip names (walk run ...); default all.")
    ap.add_argument("--render", action="store_true", help="Only rewrite the .md from the .json beside it.")
    args = ap.parse_args(argv)
    if args.render:
        rows = json.loads(args.out.with_suffix(".json").read_text())
        args.out.write_text(render(rows))
        return rows
    files = sorted((REFDATA / "mocap" / "deepmimic").glob("humanoid3d_*.txt"))
    if args.clips:
        files = [f for f in files if f.stem.removeprefix("humanoid3d_") in args.clips]
    rows = []
    for f in files:
        rows.append(validate(f))
        print(f.name, {k: round(v, 2) if isinstance(v, float) else v for k, v in rows[-1].items()}, flush=True)
    args.out.write_text(render(rows))
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    print(f"wrote {args.out}")
    return rows


if __name__ == "__main__":
    main()
