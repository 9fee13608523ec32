"""Retarget a BVH recording onto the MusclePose body, count its steps and plot the result.

Usage::

    python scripts/retarget_bvh.py ../shared/data/mocap/cmu/131_01.bvh --out docs/figures/

Retargeting is :func:`musclepose.io.load_motion` (joint names -> our joint centres, units
from the leg length, up axis from where the feet are, scaling and inverse kinematics; see
:mod:`musclepose.motion.retarget`). Steps are heel strikes found by the foot-velocity
threshold method (:func:`musclepose.motion.gait_events.heel_strikes`): a heel strike is the
first frame at which a heel's horizontal speed falls below 0.5 m/s after a swing of at
least 0.15 s that carried the heel at least 0.15 m. Every heel strike of either foot is
one step (so a side step or a step into a stance counts; shuffling does not).

Writes ``<stem>_retarget.png`` (hip, knee and ankle flexion of both legs over time with
the heel strikes marked, and the pelvis path seen from above with the strike positions)
and prints the step count and the strike times as JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from musclepose.body import forward_kinematics  # noqa: E402
from musclepose.io.load import load_motion  # noqa: E402
from musclepose.motion.gait_events import heel_strikes  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="a .bvh file")
    parser.add_argument("--out", type=Path, default=Path("docs/figures"), help="output folder for the PNG")
    parser.add_argument("--fps", type=float, default=60.0, help="solve rate in Hz (default 60)")
    parser.add_argument("--unit-m", type=float, default=None, help="metres per BVH unit (default: guessed)")
    args = parser.parse_args(argv)

    motion = load_motion(args.path, fps=args.fps, unit_m=args.unit_m, progress=lambda s: print(f"... {s}"))
    strikes = heel_strikes(motion)
    t = motion.times
    body = motion.body
    q = np.degrees(motion.q.numpy())
    with torch.no_grad():
        fk = forward_kinematics(body, motion.q)
    heel = {s: fk.landmarks[:, body.landmark_indices([f"{s}_heel"])[0]].numpy() for s in ("right", "left")}

    fig, axes = plt.subplots(4, 1, figsize=(10, 12), gridspec_kw={"height_ratios": [1, 1, 1, 1.4]})
    colors = {"right": "tab:red", "left": "tab:blue"}
    for ax, (label, dof) in zip(
        axes[:3],
        (
            ("hip flexion", "hip_flexion"),
            ("knee flexion", "knee_flexion"),
            ("ankle dorsiflexion", "ankle_dorsiflexion"),
        ),
        strict=False,
    ):
        for side, c in colors.items():
            ax.plot(t, q[:, body.dof_index(f"{dof}_{side[0]}")], color=c, lw=1.2, label=side)
            for k in strikes[side]:
                ax.axvline(t[k], color=c, lw=0.6, ls="--", alpha=0.6)
        ax.set_ylabel(f"{label} (deg)")
        ax.grid(alpha=0.3)
    axes[0].legend(loc="upper right", title="dashed: heel strikes")
    axes[2].set_xlabel("time (s)")
    n_steps = int(sum(len(v) for v in strikes.values()))
    axes[0].set_title(f"{args.path.name} retargeted onto MusclePose: {n_steps} steps (heel strikes)")

    ax = axes[3]
    root = motion.q[:, 0:3].numpy()
    ax.plot(root[:, 2], root[:, 0], color="k", lw=1.2, label="pelvis path")
    ax.plot(root[0, 2], root[0, 0], "go", label="start")
    for side, c in colors.items():
        ax.plot(heel[side][strikes[side], 2], heel[side][strikes[side], 0], "o", color=c, label=f"{side} heel strikes")
    ax.set_xlabel("world Z (m, right)")
    ax.set_ylabel("world X (m, anterior)")
    ax.set_aspect("equal", adjustable="datalim")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    args.out.mkdir(parents=True, exist_ok=True)
    png = args.out / f"{args.path.stem}_retarget.png"
    fig.savefig(png, dpi=110)
    plt.close(fig)

    result = {
        "file": str(args.path),
        "frames": motion.n_frames,
        "fps": motion.fps,
        "steps": n_steps,
        "heel_strikes_s": {s: [round(float(t[k]), 3) for k in v] for s, v in strikes.items()},
        "pelvis_travel_m": float(np.linalg.norm(root[-1, [0, 2]] - root[0, [0, 2]])),
        "unit_m": motion.metadata.get("unit_m"),
        "unit_rule": motion.metadata.get("unit_rule"),
        "up_axis_in_file": motion.metadata.get("up_axis_in_file"),
        "marker_rms_m": motion.metadata.get("marker_rms_m"),
        "plot": str(png),
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
