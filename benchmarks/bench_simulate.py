"""The synthetic data engine: cost per clip and core, modality options, Ray against local processes, a 1M-clip plan.

Writes ``docs/benchmarks_simulate.md``:

- the CPU time of each stage of :func:`musclepose.sim.clip.synthesize_clip` and of writing
  the shard, per ten-second clip (every modality), in one process: the per-core rate
  (target: 15 ten-second clips per second and core);
- the same for the cheaper modality options (no sensors, IMUs only, keypoints only,
  keypoints at a camera's 30 Hz), with their bytes per clip;
- :func:`musclepose.sim.dataset.build_dataset` on local processes and as Ray tasks, 1 and 2
  workers, the same clips (checked by the shards' hashes): the scaling of 2 Ray workers
  over one (target 1.8x) and Ray's overhead against the processes (target <= 10 %), with
  Ray's start-up apart; and the command as a user runs it (a fresh local Ray per run);
- a paper plan for a million clips from the measured numbers;
- the kernels' floor and the dynamic consistency per exercise.

Wall times on a shared machine move with its load (printed); CPU times much less.

Usage: ``python benchmarks/bench_simulate.py [--n 120] [--no-ray] [--out docs/benchmarks_simulate.md]``
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from musclepose.body import Body
from musclepose.io.atomic import atomic_write
from musclepose.io.hdf5 import write_motions
from musclepose.io.shards import file_sha256, read_manifest
from musclepose.motion import Motion
from musclepose.sim import GENERATORS, foot_skating, generate
from musclepose.sim.dataset import (
    STAGES,
    UNCOMPRESSED,
    build_dataset,
    clip_kinetics,
    clip_params_for,
    make_config,
    make_subjects,
    synthesize_clip,
)

ROOT = Path(__file__).resolve().parents[1]
TARGET_PER_CORE = 15.0
OPTIONS = {  # label: (modalities, keypoints_fps)
    "every modality (IMUs + keypoints at 100 Hz)": (("all",), None),
    "keypoints at a camera's 30 Hz + IMUs": (("all",), 30.0),
    "IMUs only": (("imu",), None),
    "keypoints only (100 Hz)": (("keypoints",), None),
    "no sensors (motion, kinetics, labels)": ((), None),
}


def _load() -> str:
    return "load average {:.1f} / {:.1f} / {:.1f}".format(*os.getloadavg())


def _stages(seed: int = 0, n: int = 24) -> dict[str, float]:
    """CPU milliseconds per ten-second clip of each stage, one process, ``n`` clips of the dataset mix."""
    subjects = make_subjects(seed, 8)
    synthesize_clip(*clip_params_for(seed, n, subjects))
    times: dict[str, float] = {}
    frames = 0
    for i in range(n):
        cp, subject = clip_params_for(seed, i, subjects, duration_s=10.0)
        frames += synthesize_clip(cp, subject, timings=times).motion.n_frames
    return {k: 1e6 * times[k] / frames for k in STAGES}


def _shard_cost(modalities, keypoints_fps, n: int = 20, seed: int = 0) -> tuple[float, float, float]:
    """CPU ms per ten-second clip to make ``n`` clips and to write them as one shard (what
    :func:`make_shard` does, timed in two parts), and the shard's bytes per clip. Returns
    ``(total ms, bytes, write ms)``."""
    cfg = make_config(n, seed, None, None, 0.5, 10.0, None, modalities, keypoints_fps, n)
    subjects = make_subjects(seed, cfg.n_subjects)
    synthesize_clip(*clip_params_for(seed + 1, 0, subjects, duration_s=10.0), modalities, keypoints_fps=keypoints_fps)
    t = time.process_time()
    clips = [synthesize_clip(*clip_params_for(seed, i, subjects, duration_s=10.0), modalities,
                             keypoints_fps=keypoints_fps) for i in range(n)]  # fmt: skip
    synth = time.process_time() - t
    motions = [Motion(c.motion.q, c.motion.fps, c.motion.body, {k: v for k, v in c.motion.metadata.items()
                                                                   if k != "contact"}) for c in clips]  # fmt: skip
    extras = [{**c.arrays, **c.attrs} for c in clips]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "shard-000000.h5"
        t = time.process_time()
        write_motions(path, motions, extras, dtype="float32", uncompressed=UNCOMPRESSED)
        file_sha256(path)
        write = time.process_time() - t
        size = path.stat().st_size
    frames = sum(c.motion.n_frames for c in clips)
    return (synth + write) * 1e6 / frames, size * 1000.0 / frames, write * 1e6 / frames


def _tree_cpu() -> float:
    """CPU seconds of this process, its finished children and every live descendant (workers, Ray's daemons)."""
    import psutil

    t = os.times()
    total = t.user + t.system + t.children_user + t.children_system
    for child in psutil.Process().children(recursive=True):
        try:
            c = child.cpu_times()
            total += c.user + c.system
        except psutil.Error:
            pass
    return total


def _build(out: Path, n: int, workers: int, ray: str | None) -> tuple[float, float]:
    """Wall and CPU seconds (the whole process tree) of one ``build_dataset`` run."""
    c, t = _tree_cpu(), time.perf_counter()
    build_dataset(out, n, seed=0, workers=workers, ray=ray)
    return time.perf_counter() - t, _tree_cpu() - c


def _ray_runs(tmp: Path, n: int, rounds: int = 2) -> dict:
    """Local processes and Ray tasks, 1 and 2 workers, best of ``rounds``. The processes run while Ray
    is down (with Ray's threads in this process they would be spawned, not forked, as in a plain run);
    Ray is started before its runs and its start-up timed apart."""
    import ray

    best: dict[str, float] = {}
    cpu: dict[str, float] = {}
    starts = []
    hashes: dict[str, list[str]] = {}

    def run(key: str, workers: int, backend: str | None, r: int) -> None:
        out = tmp / f"{key}-{r}"
        secs, used = _build(out, n, workers, backend)
        best[key], cpu[key] = min(best.get(key, float("inf")), secs), min(cpu.get(key, float("inf")), used)
        hashes[key] = [s.sha256 for s in read_manifest(out).shards]
        shutil.rmtree(out)

    for r in range(rounds):
        run("proc1", 1, None, r)
        run("proc2", 2, None, r)
        t = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=256 << 20)
        starts.append(time.perf_counter() - t)
        try:
            run("ray1", 1, "auto", r)
            run("ray2", 2, "auto", r)
        finally:
            ray.shutdown()
    same = all(h == hashes["proc1"] for h in hashes.values())
    return {"start_s": min(starts), "best": best, "cpu": cpu, "same": same}


def _cli_runs(tmp: Path, n: int) -> dict[str, float]:
    """The command as the issue times it: a fresh process and a fresh local Ray each run."""
    out = {}
    for workers in (1, 2):
        target = tmp / f"cli{workers}"
        cmd = [sys.executable, "-m", "musclepose", "simulate", "--ray", "auto", "--workers", str(workers), "--n",
               str(n), "--seed", "0", "--out", str(target)]  # fmt: skip
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out[workers] = time.perf_counter() - t
        out[f"hashes{workers}"] = [s.sha256 for s in read_manifest(target).shards]  # type: ignore[assignment]
    out["same"] = out["hashes1"] == out["hashes2"]  # type: ignore[assignment]
    return out


def _best_ms(fn, reps: int = 5) -> float:
    fn()
    best = float("inf")
    for _ in range(reps):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return 1000.0 * best


def _floors() -> dict[str, float]:
    """CPU ms per ten-second clip (1000 frames) of the physics kernels alone, a squat's states."""
    import mujoco

    from musclepose.body import forward_kinematics, inverse_dynamics, root_residual, segment_motion
    from musclepose.sim.sensors.camera import _self_occlusion

    body = Body.standard(1.75, 70.0, "male")
    m = generate("squat", body)
    reps = -(-1000 // m.n_frames)
    q = m.q.repeat(reps, 1)[:1000]
    qd, qdd = (x.repeat(reps, 1)[:1000] for x in m.velocities())
    model = mujoco.MjModel.from_xml_string(body.to_mjcf())
    model.opt.disableflags |= mujoco.mjtDisableBit.mjDSBL_CONSTRAINT
    data = mujoco.MjData(model)
    qn, qdn, qddn = q.numpy(), qd.numpy(), qdd.numpy()

    def mj() -> None:
        for k in range(1000):
            data.qpos[:], data.qvel[:], data.qacc[:] = qn[k], qdn[k], qddn[k]
            mujoco.mj_inverse(model, data)

    out = {"MuJoCo mj_inverse (C, frame by frame)": _best_ms(mj, 3)}
    with torch.no_grad():
        out["MusclePose inverse dynamics"] = _best_ms(lambda: inverse_dynamics(body, q, qd, qdd))
        centre = torch.tensor([3.0, 1.0, 0.5])
        idx = body.landmark_indices("coco17")

        def core() -> None:
            fk = forward_kinematics(body, q)
            tau = segment_motion(body, q, qd, qdd, with_tau=True)[3]
            root_residual(body, q, tau)
            _self_occlusion(body, fk, idx, centre)

        out["FK + RNEA + root residual + occlusion"] = _best_ms(core, 3)
    return out


def _consistency() -> list[tuple]:
    body = Body.standard(1.75, 70.0, "male")
    rows = []
    for name in sorted(GENERATORS):
        m = generate(name, body)
        kin = clip_kinetics(m)
        sup = kin.supported
        skate = foot_skating(m)
        rows.append((name, float(np.abs(kin.residual_force[sup]).max(initial=0.0)),
                     float(np.abs(kin.residual_moment[sup]).max(initial=0.0)), float(sup.mean()),
                     skate["max_drift_cm"], skate["max_lift_cm"]))  # fmt: skip
    return rows


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    align = ["---"] + ["---:"] * (len(header) - 1)
    return ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|", *("| " + " | ".join(r) + " |" for r in rows)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=120, help="clips per build_dataset run")
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks_simulate.md")
    args = ap.parse_args()
    torch.set_num_threads(1)
    load0 = _load()
    stages = _stages()
    options = {label: _shard_cost(mods, kfps) for label, (mods, kfps) in OPTIONS.items()}
    all_ms, all_bytes, write_ms = options[next(iter(OPTIONS))]
    per_core = 1000.0 / all_ms
    ray_res = cli = None
    with tempfile.TemporaryDirectory() as tmp_:
        tmp = Path(tmp_)
        if not args.no_ray:
            ray_res = _ray_runs(tmp, args.n)
            cli = _cli_runs(tmp, args.n)
        else:
            (s1, c1), (s2, c2) = _build(tmp / "p1", args.n, 1, None), _build(tmp / "p2", args.n, 2, None)
            ray_res = {"best": {"proc1": s1, "proc2": s2}, "cpu": {"proc1": c1, "proc2": c2}, "same": None}
    floors = _floors()
    rows = _consistency()
    load1 = _load()

    cores = os.cpu_count() or 1
    best = ray_res["best"]
    lines = [
        "# Benchmark: the synthetic data engine",
        "",
        f"Generated by `benchmarks/bench_simulate.py`. Machine: {platform.machine()}, {cores} cores, "
        f"torch {torch.__version__}, Python {platform.python_version()}; {load0} at the start, {load1} at "
        "the end (the machine is shared: wall times move with its load, CPU times much less).",
        "",
        "## Per core, every modality",
        "",
        f"**{per_core:.1f} ten-second clips per second and core** (target {TARGET_PER_CORE:g}: "
        f"{'met' if per_core >= TARGET_PER_CORE else 'not met'}): {all_ms:.0f} ms of CPU per clip, one "
        f"process, 20 clips synthesised and written as one shard ({write_ms:.1f} ms of it the shard file, "
        f"{all_bytes / 1e6:.2f} MB per clip). Stages of `synthesize_clip`, CPU ms per ten-second clip "
        "(24 clips of the dataset mix):",
        "",
        *_table(["stage", "ms"], [[k, f"{v:.1f}"] for k, v in {**stages, "total": sum(stages.values())}.items()]),
        "",
        "Made cheaper for issue 21 without changing the clips (arrays bit for bit, float labels within "
        "4e-14 on 48 clips; `docs/notes/issue-21.md`): the wave analysis's filter designs are cached "
        "(scipy's `butter` cost as much as running the filter), the segment energies use component-wise 3x3 "
        "products (numpy's batched matmul loops over the tiny matrices), a subject's body is built once per "
        "process, and the shards store joint moments, IMU signals and keypoints uncompressed (lzf shrank "
        "them by 6 %: a shard costs 3.8 instead of 6.0 ms per clip to write, for the same bytes; `q`, "
        "activations and contact forces, which it halves, stay compressed).",
        "",
        "## Cheaper modality options",
        "",
        "CPU ms and bytes per ten-second clip, one process, 20 clips made and written "
        "(`musclepose simulate --modalities ... --keypoints-fps ...`):",
        "",
        *_table(["option", "ms per clip", "clips/s per core", "MB per clip"],
                [[k, f"{ms:.0f}", f"{1000.0 / ms:.1f}", f"{b / 1e6:.2f}"] for k, (ms, b, _) in options.items()]),
        "",
    ]  # fmt: skip
    if ray_res.get("same") is not None:
        s_ray = best["ray1"] / best["ray2"]
        s_proc = best["proc1"] / best["proc2"]
        over = {w: best[f"ray{w}"] / best[f"proc{w}"] - 1.0 for w in (1, 2)}
        cpu = ray_res["cpu"]
        cover = {w: cpu[f"ray{w}"] / cpu[f"proc{w}"] - 1.0 for w in (1, 2)}
        size = make_config(args.n, 0, None, None, 0.5, 10.0, None, ("all",), None, None).shard_size
        ray_rows = [
            [str(w), f"{best[f'proc{w}']:.1f}", f"{best[f'ray{w}']:.1f}", f"{100 * over[w]:+.0f} %",
             f"{cpu[f'proc{w}']:.1f}", f"{cpu[f'ray{w}']:.1f}", f"{100 * cover[w]:+.0f} %",
             f"{args.n / best[f'ray{w}']:.1f}"]
            for w in (1, 2)
        ]  # fmt: skip
        header = ["workers", "processes s", "Ray s", "Ray overhead (wall)", "processes CPU s", "Ray CPU s",
                  "Ray overhead (CPU)", "ten-second clips/s (Ray)"]  # fmt: skip
        lines += [
            "## Ray against local processes",
            "",
            f"`build_dataset` of {args.n} ten-second clips (seed 0, shards of {size} clips), best of two rounds; "
            f"Ray started before its runs ({ray_res['start_s']:.1f} s to start a local instance, not counted "
            "here), the processes run while Ray is down. CPU: seconds used by the whole process tree (driver, "
            "workers, Ray's daemons), which the machine's other load inflates less than wall time. Every run "
            f"wrote the same shards (SHA-256): {'yes' if ray_res['same'] else 'NO'}.",
            "",
            *_table(header, ray_rows),
            "",
            f"- Scaling, 2 Ray workers over 1: **{s_ray:.2f}x** (target 1.8x: "
            f"{'met' if s_ray >= 1.8 else 'not met'}); processes {s_proc:.2f}x.",
            f"- Ray's overhead at equal workers, wall time: **{100 * over[1]:+.0f} %** (1 worker), "
            f"**{100 * over[2]:+.0f} %** (2 workers) (target <= 10 %: "
            f"{'met' if max(over.values()) <= 0.10 else 'not met'}); CPU {100 * cover[1]:+.0f} % and "
            f"{100 * cover[2]:+.0f} %.",
            "",
        ]
        if cli is not None:
            lines += [
                f"As a user runs it, `musclepose simulate --ray auto --workers 1|2 --n {args.n} --seed 0 --out DIR`: "
                f"{cli[1]:.1f} s and {cli[2]:.1f} s ({cli[1] / cli[2]:.2f}x), same clips: "
                f"{'yes' if cli['same'] else 'NO'}. Each run pays the command's start-up and a fresh local "
                f"Ray instance ({ray_res['start_s']:.1f} s above); with a cluster already running (`ray start "
                "--head`, or `--ray ADDRESS`) only the rows above count.",
                "",
            ]
    else:
        lines += [
            "## Local processes",
            "",
            f"`build_dataset` of {args.n} clips: 1 worker {best['proc1']:.1f} s, 2 workers {best['proc2']:.1f} s "
            "(Ray not measured: `--no-ray`).",
            "",
        ]
    mb = all_bytes / 1e6
    cores_for = {h: 1e6 * all_ms / 1000.0 / (3600.0 * h) for h in (1, 8, 24)}
    lines += [
        "## A million clips, on paper",
        "",
        f"From the numbers above: {all_ms:.0f} ms of CPU per ten-second clip with every modality, "
        f"{mb:.2f} MB per clip (float32, lzf on the compressible arrays).",
        "",
        f"- CPU: 1,000,000 x {all_ms / 1000:.3f} s = {1e6 * all_ms / 1000 / 3600:,.0f} core-hours; "
        f"{cores_for[1]:,.0f} cores finish in 1 hour, {cores_for[8]:,.0f} in 8 hours, {cores_for[24]:,.0f} "
        "in a day (Ray tasks scale by shard; the driver only records shard records).",
        f"- Storage: {mb:.2f} TB ({mb:.2f} MB x 1M) in about {1e6 / 256:,.0f} shards of 256 clips "
        f"({256 * mb:,.0f} MB each); the manifest lists each clip's split (~8 MB). Keypoints at 30 Hz or IMUs "
        "only shrink both (table above).",
        "- Memory: one worker holds one clip's arrays plus the shard's write buffers (a few hundred MB at most); "
        "2 GB per core is ample.",
        "- Writes: every worker writes its own shard to a folder all nodes can reach (NFS, Lustre, an object "
        "store mounted with FUSE); at "
        f"{cores_for[8]:,.0f} cores that is {cores_for[8] * 1000 / all_ms * mb:,.0f} MB/s in total.",
        "",
        "## Kernel floor (CPU ms per ten-second clip, 1000 frames, float64)",
        "",
        *_table(["kernel", "ms"], [[k, f"{v:.1f}"] for k, v in floors.items()]),
        "",
        "## Dynamic consistency per exercise (library defaults)",
        "",
        "Root residual after the contact forces, over the frames with a planted contact (N, N·m), the share "
        "of such frames, and foot skating of the planted contacts (cm).",
        "",
        *_table(["exercise", "max residual force N", "max residual moment N·m", "frames with contact",
                 "skating drift cm", "skating lift cm"],
                [[n, f"{f:.1f}", f"{m:.1f}", f"{s:.0%}", f"{d:.4f}", f"{lift:.3f}"] for n, f, m, s, d, lift in rows]),
        "",
        "The jumping-jack residual sits in the frames at take-off and landing: there the central differences "
        "straddle the flight, so the body accelerates at nearly -g while still labelled planted, and the floor "
        "cannot pull. Every clip keeps its residual in its labels (`residual_max_n`, `residual_max_nm`).",
        "",
    ]  # fmt: skip
    with atomic_write(args.out) as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
