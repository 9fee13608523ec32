"""Inverse dynamics speed: MusclePose (torch, batched) vs MuJoCo and Pinocchio in the same run.

All three run the same exported MJCF body. MuJoCo ``mj_inverse`` and Pinocchio ``rnea``
(PyPI ``pin``) are called frame by frame from Python, as a user would call them on a
motion; MusclePose runs whole batches. The script first checks that the three agree on
random states, then measures frames per second for batch sizes 1, 64, 4096 and 65536,
float32 and float64, forward and forward+backward (eager; ``--compile`` adds
``torch.compile`` rows for batch >= 4096). It prints a table and writes
``docs/benchmarks.md``.

Timing: each measurement is the median time per call over about ``--seconds`` of calls
after a warm-up call (``--stat min``: the best call instead, for shared machines). The whole
set, the peers included, is measured ``--repeat`` times in turn and every row reports the
median over the rounds; the ratios (x Pinocchio, forward+backward / forward) are taken within
each round, then the median. On a machine shared with other work, compare only ratios
measured in the same run.

Usage: ``python benchmarks/bench_inverse_dynamics.py [--compile] [--seconds 1.0] [--repeat 3]
[--threads N] [--stat median|min]`` (``make bench`` installs ``pin`` and runs it).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from musclepose.body import Body, inverse_dynamics
from musclepose.io.atomic import atomic_write

ROOT = Path(__file__).resolve().parents[1]
console = Console()


def _states(n: int, dtype, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(n, 47, generator=g, dtype=torch.float64) * 0.4
    return q.to(dtype), torch.randn(n, 47, generator=g).to(dtype), torch.randn(n, 47, generator=g).to(dtype)


STAT = statistics.median  # of the per-call times; --stat min: the best call (shared machines)


def _timeit(fn, seconds: float, min_reps: int = 3) -> float:
    """Seconds per call of ``fn`` (``STAT`` of at least ``min_reps`` calls, about ``seconds`` in all)."""
    fn()  # warm-up
    times: list[float] = []
    end = time.perf_counter() + seconds
    while len(times) < min_reps or time.perf_counter() < end:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return STAT(times)


def peers(body: Body):
    import mujoco

    path = Path(tempfile.mkdtemp()) / "body.xml"
    path.write_text(body.to_mjcf())
    m = mujoco.MjModel.from_xml_path(str(path))
    # Free dynamics, as Pinocchio and MusclePose compute it: no joint-limit or contact forces.
    m.opt.disableflags |= mujoco.mjtDisableBit.mjDSBL_CONSTRAINT
    d = mujoco.MjData(m)
    try:
        import pinocchio as pin
    except ImportError:
        pin = None
        pm = pd = None
    else:
        pm = pin.buildModelFromMJCF(str(path))
        pm.gravity.linear = np.array([0.0, -9.81, 0.0])
        pd = pm.createData()
    return m, d, pin, pm, pd


def check_agreement(body, m, d, pin, pm, pd) -> dict[str, float]:
    import mujoco

    q, qd, qdd = (x.numpy() for x in _states(20, torch.float64, seed=1))
    ours = inverse_dynamics(body, *(torch.tensor(x) for x in (q, qd, qdd))).numpy()
    mj = np.zeros_like(ours)
    for k in range(len(q)):
        d.qpos[:], d.qvel[:], d.qacc[:] = q[k], qd[k], qdd[k]
        mujoco.mj_inverse(m, d)
        mj[k] = d.qfrc_inverse
    out = {"mujoco": float(np.abs(ours - mj).max() / np.abs(mj).max())}
    if pin is not None:
        pn = np.stack([pin.rnea(pm, pd, q[k], qd[k], qdd[k]) for k in range(len(q))])
        out["pinocchio"] = float(np.abs(ours - pn).max() / np.abs(pn).max())
    return out


def peer_fps_round(m, d, pin, pm, pd, seconds: float) -> dict[str, float]:
    import mujoco

    q, qd, qdd = (x.numpy() for x in _states(2000, torch.float64, seed=2))

    def run_mj():
        for k in range(len(q)):
            d.qpos[:], d.qvel[:], d.qacc[:] = q[k], qd[k], qdd[k]
            mujoco.mj_inverse(m, d)

    out = {"MuJoCo mj_inverse": len(q) / _timeit(run_mj, seconds, 3)}
    if pin is not None:

        def run_pin():
            for k in range(len(q)):
                pin.rnea(pm, pd, q[k], qd[k], qdd[k])

        out["Pinocchio rnea"] = len(q) / _timeit(run_pin, seconds, 3)
    return out


def ours_fps(body, batch, dtype, backward, fn, seconds) -> float:
    q, qd, qdd = _states(batch, dtype)
    if backward:
        q, qd, qdd = (x.requires_grad_(True) for x in (q, qd, qdd))

        def step():
            fn(body, q, qd, qdd).square().sum().backward()
    else:

        def step():
            with torch.no_grad():
                fn(body, q, qd, qdd)

    return batch / _timeit(step, seconds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--compile", action="store_true", help="add torch.compile rows (slow to compile)")
    ap.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    ap.add_argument("--repeat", type=int, default=3, help="rounds over all measurements (median reported)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    ap.add_argument(
        "--stat", choices=("median", "min"), default="median", help="per-call time statistic (min: shared machines)"
    )
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    global STAT
    STAT = min if args.stat == "min" else statistics.median

    body = Body.standard()
    m, d, pin, pm, pd = peers(body)
    agree = check_agreement(body, m, d, pin, pm, pd)
    console.print(f"agreement (max |diff| / max |tau|): {agree}")

    compiled = {}
    if args.compile:
        compiled = {False: torch.compile(inverse_dynamics, dynamic=True)}
        compiled[True] = compiled[False]
    batches = (1, 64, 4096, 65536)
    jobs = [(b, str(dt).replace("torch.", ""), "fwd+bwd" if bw else "fwd", "compile" if c else "eager")
            for b in batches for dt in (torch.float32, torch.float64) for bw in (False, True)
            for c in ((False, True) if compiled and b >= 4096 else (False,))]  # fmt: skip
    fps: dict[tuple, list[float]] = {job: [] for job in jobs}
    ratio: dict[tuple, list[float]] = {job: [] for job in jobs}  # x Pinocchio, per round
    peer_fps: dict[str, list[float]] = {}
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("measuring", total=args.repeat * (len(jobs) + 1))
        for rnd in range(args.repeat):
            peer = peer_fps_round(m, d, pin, pm, pd, args.seconds)
            for name, v in peer.items():
                peer_fps.setdefault(name, []).append(v)
            bar.update(task, advance=1, description=f"round {rnd + 1}: peers")
            pin_r = peer.get("Pinocchio rnea", float("nan"))
            for job in jobs:
                b, dt, p, mode = job
                fn = compiled[p == "fwd+bwd"] if mode == "compile" else inverse_dynamics
                t0 = time.perf_counter()
                v = ours_fps(body, b, getattr(torch, dt), p == "fwd+bwd", fn, args.seconds)
                fps[job].append(v)
                ratio[job].append(v / pin_r)
                bar.update(
                    task, advance=1, description=f"round {rnd + 1}: B={b} {dt} {p} ({time.perf_counter() - t0:.0f}s)"
                )

    med = statistics.median
    pin_fps = med(peer_fps["Pinocchio rnea"]) if "Pinocchio rnea" in peer_fps else float("nan")
    rows = [(*job, med(fps[job]), med(ratio[job])) for job in jobs]
    peers_rows = [(name, med(v), med([x / y for x, y in zip(v, peer_fps.get("Pinocchio rnea", v), strict=True)]))
                  for name, v in peer_fps.items()]  # fmt: skip
    table = Table(title="Inverse dynamics, frames per second (higher is better)")
    for col in ("batch", "dtype", "pass", "mode", "frames/s", "x Pinocchio"):
        table.add_column(col, justify="right")
    for b, dt, p, mode, v, r in rows:
        table.add_row(str(b), dt, p, mode, f"{v:,.0f}", f"{r:.2f}")
    for name, v, r in peers_rows:
        table.add_row("1 (loop)", "float64", "fwd", name, f"{v:,.0f}", f"{r:.2f}")
    console.print(table)

    def cost(b, dt, mode):
        """Median over rounds of (forward+backward time) / (forward time)."""
        f, fb = fps.get((b, dt, "fwd", mode)), fps.get((b, dt, "fwd+bwd", mode))
        return med([x / y for x, y in zip(f, fb, strict=True)]) if f and fb else float("nan")

    lines = [
        "# Benchmarks",
        "",
        "Generated by `benchmarks/bench_inverse_dynamics.py` (`make bench`): median over "
        f"{args.repeat} rounds of about {args.seconds:g} s per measurement ({args.stat} time per call); "
        "ratios are taken within each round.",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), Python {sys.version.split()[0]}.",
        "",
        "## Inverse dynamics (47-DoF body, RNEA)",
        "",
        "Agreement on 20 random states, max |difference| / max |tau|: "
        + ", ".join(f"{k} {v:.1e}" for k, v in agree.items())
        + ".",
        "MuJoCo and Pinocchio are called frame by frame from Python on the same exported MJCF; "
        "MusclePose runs the whole batch at once.",
        "",
        "| batch | dtype | pass | mode | frames/s | × Pinocchio |",
        "|---:|---|---|---|---:|---:|",
    ]
    for b, dt, p, mode, v, r in rows:
        lines.append(f"| {b} | {dt} | {p} | {mode} | {v:,.0f} | {r:.2f} |")
    for name, v, r in peers_rows:
        lines.append(f"| 1 (loop) | float64 | fwd | {name} | {v:,.0f} | {r:.2f} |")
    lines += ["", "Targets (issue: foundation and body model):", ""]
    for b in (4096, 65536):
        for dt in ("float64", "float32"):
            for mode in ("eager", "compile"):
                fwd = [r[5] for r in rows if r[:4] == (b, dt, "fwd", mode)]
                if fwd:
                    lines.append(
                        f"- batch {b}, {dt}, {mode}: {fwd[0]:.2f}× Pinocchio (target ≥ 2× in float64); "
                        f"forward+backward costs {cost(b, dt, mode):.2f}× forward (target ≤ 3×)."
                    )
    lines += [
        "",
        f"Pinocchio (frame by frame): {pin_fps:,.0f} frames/s in this run.",
        "",
        "How: on CPU, eager PyTorch is bound by memory traffic, not arithmetic. The kernel "
        "(`musclepose/body/_rnea.py`) is RNEA in body coordinates (Featherstone 2008, ch. 5) in a "
        "batch-last structure-of-arrays layout: the segments are stored level by level, so each "
        "recursion is one Python step per tree level (never per frame), and everything that does "
        "not recurse (trigonometry, joint terms, Newton-Euler, torque projections) runs once over "
        "all 18 segments; closed-form signed ZXY joints; every op writes into preallocated buffers "
        "(`out=`, `addcmul_`) reused across calls (fresh pages cost as much as the arithmetic), "
        "in chunks of 4096 frames. The backward pass is a hand-written adjoint "
        "(`torch.autograd.Function`): the reverse of the inward pass is an outward pass and vice "
        "versa, and joint-angle gradients are projections of a rotation 'torque' on the DoF axes; "
        "it keeps about 8 KB per frame (float64) from the forward instead of autograd's hundreds "
        "of temporaries. External wrenches take a separate autograd pass (not in these numbers). "
        "`torch.compile` (`--compile`) is not tuned for this kernel.",
        "",
    ]
    with atomic_write(args.out) as f:
        f.write("\n".join(lines))
    console.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
