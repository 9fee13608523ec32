"""Peak memory and time of analysing a long recording: 1 hour of OpenSim coordinates at 100 Hz.

The recording is ``squats1.mot`` (13 s, 5 squats) mirror-tiled to the length asked for (forward,
then time-reversed, so that every join is continuous): 60 minutes are 360,000 frames and about
1,385 squats. Each run is a fresh process (imports included, as a user runs it); its peak
resident memory is the kernel's ``ru_maxrss`` of that child.

- **Target**: ``musclepose analyze long.mot -e squat --json`` on the 60-minute file (the kinetic
  chain in 120-s windows, forward kinematics in 20,000-frame blocks, the table streamed).
- **Peer, same run**: the same pipeline in one pass (``compute_kinetics(window_s=None)``, one
  forward kinematics of the whole motion) against the windowed one on a shorter file, with the
  agreement of their results (repetitions, per-repetition peak moments). The one-pass run of the
  60-minute file needed 6.3 GB and 9 minutes when the issue was filed (and over 5 GB for the
  kinetic chain alone when re-measured here); ``--one-pass-minutes 60`` runs it again.

Usage: ``python benchmarks/bench_memory.py [--minutes 60] [--one-pass-minutes 6] [--out docs/benchmarks_memory.md]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from musclepose.atomic import atomic_write

ROOT = Path(__file__).resolve().parents[1]
SQUATS = Path(os.environ.get("MUSCLEPOSE_REFDATA", ROOT.parent / "shared" / "data")) / "mocap/addbiomechanics_expert1"

# The pipeline of `analyze` (load, kinetic chain, analysis), in a fresh process; `one_pass` turns
# the windows and blocks off. Prints a JSON summary on its last line.
RUNNER = r"""
import json, sys, time
import torch
torch.set_num_threads(1)
from musclepose.io.load import load_motion
from musclepose.motion.kinetics import compute_kinetics
from musclepose.signals import analyze_motion
import musclepose.signals.channels as channels
one_pass = sys.argv[2] == "one-pass"
if one_pass:
    channels.FK_BLOCK = 10**9
t0 = time.perf_counter()
m = load_motion(sys.argv[1])
kin = compute_kinetics(m, window_s=None) if one_pass else compute_kinetics(m)
a = analyze_motion(m, exercise="squat", kinetics=kin).to_dict()
peaks = [r["peak_moment_nm_per_kg"] for r in a["kinetics"]["reps"]]
print(json.dumps({"seconds": time.perf_counter() - t0, "frames": m.n_frames, "n_reps": a["n_reps"],
                  "depths": [r["depth_knee_flexion_deg"] for r in a["reps"]], "peaks": peaks}))
"""


def make_recording(path: Path, minutes: float) -> int:
    """``squats1.mot`` mirror-tiled to ``minutes`` at its 100 Hz; returns the frame count."""
    from musclepose.io.opensim import read_table, write_table

    t = read_table(SQUATS / "squats1.mot")
    data = np.stack([t.column(c) for c in t.columns], 1)
    n = int(round(minutes * 60 * 100))
    blocks, k = [], 0
    while sum(len(b) for b in blocks) < n:
        blocks.append((data if k % 2 == 0 else data[::-1])[:-1])
        k += 1
    d = np.concatenate(blocks)[:n].copy()
    d[:, 0] = np.arange(n) / 100.0
    write_table(path, list(t.columns), d, in_degrees=True, name=path.stem)
    return n


def run_one(path: Path, mode: str) -> tuple[dict, float, float]:
    """``mode`` (``cli``, ``one-pass``, ``windowed``) on ``path``, fresh process: its JSON, peak RSS (MiB), time (s).

    RUSAGE_CHILDREN keeps the maximum over all of a process's children, so each run goes through
    its own wrapper process, which reports its one child's peak."""
    wrapper = (
        "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(r.returncode)"
    )
    cmd = [sys.executable, "-c", wrapper, *_target(path, mode)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} on {path.name} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    rss_mib = int(proc.stderr.strip().splitlines()[-1]) / 1024
    doc = json.loads(proc.stdout.strip() if mode == "cli" else proc.stdout.strip().splitlines()[-1])
    return doc, rss_mib, wall


def _target(path: Path, mode: str) -> list[str]:
    if mode == "cli":
        return [sys.executable, "-m", "musclepose", "analyze", str(path), "-e", "squat", "--json"]
    return [sys.executable, "-c", RUNNER, str(path), mode]


def _peak_diff(a: list[dict], b: list[dict]) -> float:
    diffs = [abs(x[k] - y[k]) for x, y in zip(a, b, strict=True) for k in x if x[k] is not None and y[k] is not None]
    return max(diffs, default=0.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--one-pass-minutes", type=float, default=6.0)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks_memory.md")
    args = ap.parse_args()
    env_threads = os.environ.get("OMP_NUM_THREADS", "unset")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        short = Path(tmp) / f"squats_{args.one_pass_minutes:g}min.mot"
        long = Path(tmp) / f"squats_{args.minutes:g}min.mot"
        n_short = make_recording(short, args.one_pass_minutes)
        n_long = make_recording(long, args.minutes)
        one, rss_one, wall_one = run_one(short, "one-pass")
        win, rss_win, wall_win = run_one(short, "windowed")
        rows.append((f"{args.one_pass_minutes:g} min ({n_short:,} frames)", "one pass (before)", rss_one, wall_one,
                     one["n_reps"]))  # fmt: skip
        rows.append((f"{args.one_pass_minutes:g} min ({n_short:,} frames)", "windows + blocks", rss_win, wall_win,
                     win["n_reps"]))  # fmt: skip
        same_reps = one["n_reps"] == win["n_reps"]
        depth_diff = max((abs(x - y) for x, y in zip(one["depths"], win["depths"], strict=False)), default=0.0)
        peak_diff = _peak_diff(one["peaks"], win["peaks"]) if same_reps else float("nan")
        cli, rss_cli, wall_cli = run_one(long, "cli")
        a = cli["analysis"]
        rows.append((f"{args.minutes:g} min ({n_long:,} frames)", "`musclepose analyze --json`", rss_cli, wall_cli,
                     a["n_reps"]))  # fmt: skip
        ref = one["depths"]
        depths = [r["depth_knee_flexion_deg"] for r in a["reps"]]
    lines = [
        "# Memory: a 1-hour recording",
        "",
        f"`python benchmarks/bench_memory.py --minutes {args.minutes:g} --one-pass-minutes {args.one_pass_minutes:g}` "
        f"on {platform.processor() or platform.machine()}, {os.cpu_count()} cores, OMP_NUM_THREADS={env_threads}; "
        "peak resident memory of each fresh process (imports included: about 350 MiB).",
        "",
        "| recording | pipeline | peak RSS | time | repetitions |",
        "|---|---|---:|---:|---:|",
        *[f"| {r} | {p} | {m:,.0f} MiB | {w:.0f} s | {n} |" for r, p, m, w, n in rows],
        "",
        (
            f"Target: the 60-minute recording in at most 1.5 GB (1,536 MiB): **{rss_cli:,.0f} MiB**, "
            f"{'met' if rss_cli <= 1536 else 'not met'}."
            if args.minutes >= 60
            else f"Target (the 60-minute recording in at most 1,536 MiB): **not measured** by this run, whose "
            f"longest file is {args.minutes:g} minutes ({rss_cli:,.0f} MiB); rerun with `--minutes 60`."
        )
        + " Before (issue 23): 6.3 GB and 9 minutes for 60 minutes.",
        "",
        f"Agreement, one pass against windows on the {args.one_pass_minutes:g}-minute file: same repetitions "
        f"{'yes' if same_reps else 'NO'}, depths within {depth_diff:.2g} deg, per-repetition peak moments within "
        f"{peak_diff:.2g} N·m/kg (the floor height and supports are estimated per window: 0.1 % of the peaks).",
        "",
        f"The 60-minute analysis: {a['n_reps']} repetitions (squats1.mot holds 5 per 13 s: about "
        f"{5 * n_long / 1301:.0f} expected, joins of the tiling aside); depths {min(depths):.1f}-{max(depths):.1f} "
        f"deg against {min(ref):.1f}-{max(ref):.1f} deg on the short file.",
        "",
        "Where the memory went before: the `.mot` reader held every line and cell as Python strings (1.2 GB for",
        "the hour), the kinetic chain held every intermediate of 360,000 frames at once (over 5 GB), and the",
        "analysis ran forward kinematics of the whole motion (1.2 GB per pass). Now the table is streamed and",
        "parsed in blocks, the kinetic chain runs in 120-s windows with 5 s of context on each side (its",
        "filtered angles, velocities, accelerations and moments kept in float32, its muscle activations and",
        "residuals in float16), forward kinematics runs in 5,000-frame",
        "blocks (channels and energies identical to one pass), the movement check's foot contact in 2,000-frame",
        "blocks (velocities, sole points and weights of one block at a time; the same numbers, tested), joint",
        "speeds and moments are checked column by column, each repetition's sides and peaks read its own frames,",
        "and glibc's mmap threshold is fixed at 1 MB once a long computation starts (glibc otherwise raises it",
        "as large blocks are freed, and the next windows' arrays then stay in a fragmented heap); torch's",
        "compiler (70 MB) is no longer imported by every command.",
        "On a machine with more memory nothing changes but the ceiling: the windows bound the peak, whatever",
        "the length.",
        "",
    ]
    with atomic_write(args.out) as fh:
        fh.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
