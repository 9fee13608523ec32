"""Video speed on this machine: pose extraction, a 10-s video analysed, live mode; OpenCV decoding beside them.

A 10-s, 30-frames/s, 640x480 video is made from the real curl video (``video/bicep_curl.mp4`` of the
reference data, resized and looped: 300 frames, 4.5 curls). Measured in one run:

- the peer: OpenCV decoding alone (the floor any pipeline on these frames has);
- pose extraction (:func:`musclepose.pipelines.video_pose.extract_pose`: decoding + MediaPipe Pose), target
  >= 15 frames/s;
- the whole analysis but the LLM text (:func:`musclepose.pipelines.analysis.analyze_file`: pose, body
  fit, kinetics, repetitions, phases, wave features), target <= 20 s;
- live mode (:class:`musclepose.pipelines.live_video.LiveSession` on a fake camera serving the same frames
  as fast as they are taken: pose per frame plus a fit and analysis of the window every 1.5 s), target
  >= 10 frames/s.

Usage: ``python benchmarks/bench_video.py [--out docs/benchmarks_video.md]``
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from musclepose.io.atomic import atomic_write
from musclepose.io.video import CameraSource, open_video
from musclepose.pipelines.analysis import analyze_file
from musclepose.pipelines.live_video import LiveSession
from musclepose.pipelines.video_pose import extract_pose

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("MUSCLEPOSE_REFDATA", ROOT.parent / "shared" / "data"))


def make_video(path: Path, seconds: float = 10.0, fps: float = 30.0, size=(640, 480)) -> list[np.ndarray]:
    src = [cv2.resize(f.image, size, interpolation=cv2.INTER_LINEAR) for f in open_video(DATA / "video/bicep_curl.mp4")]
    frames = [src[i % len(src)] for i in range(int(seconds * fps))]
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for f in frames:
        out.write(f)
    out.release()
    return frames


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks_video.md")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "curl_640x480_10s.mp4"
        frames = make_video(video)
        n = len(frames)
        load0 = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        decoded = sum(1 for _ in open_video(video))
        t_decode, c_decode = time.perf_counter() - t0, time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()
        pose = extract_pose(video)
        t_pose, c_pose = time.perf_counter() - t0, time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()
        result = analyze_file(video, "bicep_curl", height_m=1.8)
        t_all, c_all = time.perf_counter() - t0, time.process_time() - c0
        it = iter(frames)
        t0, c0 = time.perf_counter(), time.process_time()
        said = []
        live = LiveSession("bicep_curl", height_m=1.8).run(
            CameraSource(grab=lambda: next(it, None), fps=30.0), on_rep=said.append
        )
        c_live = time.process_time() - c0
        load1 = os.getloadavg()[0]
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in result.timings_s.items())
    rows = [
        ("OpenCV decoding alone (peer, the floor)", f"{decoded / t_decode:.0f} frames/s", f"{c_decode:.1f}", "-", "-"),
        ("pose extraction (decode + MediaPipe Pose full)", f"{n / t_pose:.1f} frames/s", f"{c_pose:.1f}",
         ">= 15 frames/s", "met" if n / t_pose >= 15 else "not met"),
        ("10-s video analysed, all but the LLM text", f"{t_all:.1f} s ({stages})", f"{c_all:.1f}",
         "<= 20 s", "met" if t_all <= 20 else "not met"),
        ("live mode (pose per frame, window fit every 1.5 s)", f"{live.fps:.1f} frames/s, {len(said)} reps reported",
         f"{c_live:.1f}", ">= 10 frames/s", "met" if live.fps >= 10 else "not met"),
    ]  # fmt: skip
    lines = [
        "# Video speed",
        "",
        "Written by `python benchmarks/bench_video.py` (see its docstring). A 10-s, 30-frames/s, 640x480 video",
        f"({n} frames; the curl video resized and looped; {pose.person.sum()} frames with a person, "
        f"{result.analysis.n_reps} repetitions found).",
        "",
        "| stage | measured (wall clock) | CPU s (all threads) | target | |",
        "|---|---|---:|---|---|",
        *[f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in rows],
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average {load0:.1f}",
        f"at the start and {load1:.1f} at the end ({os.cpu_count()} = every core busy). Times are wall-clock: with",
        "other work on the cores they are longer (at load 18-19 this run took 158.5 s for the 10-s video).",
        "",
    ]
    with atomic_write(args.out, mode="w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
