"""Streaming pose from IMUs: milliseconds per frame on one CPU thread, torch against onnxruntime, HDT and CNN-only.

One frame in, one pose out: each call runs the streaming graph (:class:`musclepose.models.hdt.StreamingHDT`)
on the newest ``window`` frames of a real six-IMU stream (TransPose's example, 60 Hz resampled to the
model's 30 Hz). Writes docs/benchmarks_imu_pose.md with the machine's load average beside the numbers
(the development machine is shared: its 2 cores run other jobs too).

    python benchmarks/bench_imu_pose.py [--frames 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from musclepose.models.hdt import StreamingHDT
from musclepose.pipelines.imu_onnx import OnnxIMUPose, export_onnx
from musclepose.pipelines.imu_pose import IMUPoseModel, default_imu_checkpoint, load_imu_stream

ROOT = Path(__file__).resolve().parents[1]


def _times(fn, frames: list, repeats: int = 3) -> tuple[list[float], float]:
    """Wall milliseconds per call, and the mean CPU milliseconds of this process per call (what one core
    spends: on a loaded machine the wall time also holds the time other jobs had the core)."""
    out = []
    c0 = time.process_time()
    for _ in range(repeats):
        for x in frames:
            t0 = time.perf_counter()
            fn(x)
            out.append(1000 * (time.perf_counter() - t0))
    return out, 1000 * (time.process_time() - c0) / (repeats * len(frames))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", type=Path, default=default_imu_checkpoint())
    ap.add_argument("--stream", type=Path, default=ROOT.parent / "shared" / "data" / "imu" / "transpose_example")
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks_imu_pose.md")
    a = ap.parse_args()
    torch.set_num_threads(1)
    models = {"shipped": IMUPoseModel.load(a.checkpoint)}
    for sub in sorted(p for p in a.checkpoint.iterdir() if (p / "config.json").is_file()):
        models[sub.name] = IMUPoseModel.load(sub)
    models = {f"{k} ({'CNN only' if m.model.config.n_layers == 0 else 'with transformer'})": m
              for k, m in models.items()}  # fmt: skip
    stream = load_imu_stream(a.stream, "six")
    rows = []
    load0 = os.getloadavg()
    for name, model in models.items():
        x, _, _ = model.features(stream)
        w = model.model.config.window
        frames = [x[max(0, i - w + 1) : i + 1][None] for i in range(w, min(len(x), w + a.frames))]
        net = StreamingHDT(model.model.eval()).eval()
        with torch.no_grad():
            for f in frames[:20]:
                net(f)
            tt = _times(net, frames)
        with tempfile.TemporaryDirectory() as tmp:
            ort = OnnxIMUPose(export_onnx(model, Path(tmp) / "m.onnx"), threads=1)
            npf = [f.numpy() for f in frames]
            for f in npf[:20]:
                ort(f)
            to = _times(ort, npf)
        rows.append((name, model.model.num_parameters(), w, tt, to))
        print(f"{name}: torch {tt[1]:.2f} ms CPU, onnxruntime {to[1]:.2f} ms CPU per frame")
    load1 = os.getloadavg()
    lines = [
        "# Streaming pose from IMUs: time per frame",
        "",
        f"Command: `python {' '.join(sys.argv)}`. One thread (torch.set_num_threads(1), onnxruntime intra-op 1), "
        f"{a.frames} frames x 3 of TransPose's real six-IMU stream, each call on the newest window. Load average of "
        f"this shared 2-core machine during the run: {load0[0]:.1f} -> {load1[0]:.1f} (other jobs ran beside it; "
        "an idle core is faster).",
        "",
        "| model | parameters | window (frames at 30 Hz) | torch CPU ms | torch wall median ms | torch wall p95 ms "
        "| onnxruntime CPU ms | onnxruntime wall median ms | onnxruntime wall p95 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, n, w, (tt, tc), (to, oc) in rows:
        lines.append(
            f"| {name} | {n:,} | {w} | {tc:.2f} | {statistics.median(tt):.2f} | {np.percentile(tt, 95):.2f} | "
            f"{oc:.2f} | {statistics.median(to):.2f} | {np.percentile(to, 95):.2f} |"
        )
    lines += [
        "",
        "Target: 5 ms per frame on one core (torch and onnxruntime). CPU ms: this process's CPU time per "
        "frame (``time.process_time``), the cost on one core whatever else runs; wall: per call as measured.",
    ]
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
