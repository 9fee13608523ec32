"""Inverse dynamics speed: MusclePose (torch, batched) vs MuJoCo and Pinocchio in the same run.

All three run the same exported MJCF body. MuJoCo ``mj_inverse`` and Pinocchio ``rnea``
(PyPI ``pin``) are called frame by frame from Python, as a user would call them on a
motion; MusclePose runs whole batches. The script first checks that the three agree on
random states, then measures frames per second for batch sizes 1, 64, 4096 and 65536,
float32 and float64, forward and forward+backward (eager; ``--compile`` adds
``torch.compile`` rows for batch >= 4096). It prints a table and writes
``docs/benchmarks.md``.

Usage: ``python benchmarks/bench_inverse_dynamics.py [--compile] [--seconds 1.0]``
(``make bench`` installs ``pin`` and runs it).
"""

from __future__ import annotations

import argparse
import os
import platform
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


def _timeit(fn, seconds: float, min_reps: int = 3) -> float:
    fn()  # warm-up
    reps, t0 = 0, time.perf_counter()
    while reps < min_reps or time.perf_counter() - t0 < seconds:
        fn()
        reps += 1
    return (time.perf_counter() - t0) / reps


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


def peer_fps(m, d, pin, pm, pd, seconds: float) -> dict[str, float]:
    import mujoco

    q, qd, qdd = (x.numpy() for x in _states(2000, torch.float64, seed=2))

    def run_mj():
        for k in range(len(q)):
            d.qpos[:], d.qvel[:], d.qacc[:] = q[k], qd[k], qdd[k]
            mujoco.mj_inverse(m, d)

    out = {"MuJoCo mj_inverse": len(q) / _timeit(run_mj, seconds, 1)}
    if pin is not None:

        def run_pin():
            for k in range(len(q)):
                pin.rnea(pm, pd, q[k], qd[k], qdd[k])

        out["Pinocchio rnea"] = len(q) / _timeit(run_pin, seconds, 1)
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
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = ap.parse_args()

    body = Body.standard()
    m, d, pin, pm, pd = peers(body)
    agree = check_agreement(body, m, d, pin, pm, pd)
    console.print(f"agreement (max |diff| / max |tau|): {agree}")
    peer = peer_fps(m, d, pin, pm, pd, args.seconds)

    compiled = {}
    if args.compile:
        compiled = {False: torch.compile(inverse_dynamics, dynamic=True)}
        compiled[True] = compiled[False]
    rows = []
    batches = (1, 64, 4096, 65536)
    jobs = [(b, dt, bw, c) for b in batches for dt in (torch.float32, torch.float64) for bw in (False, True)
            for c in ((False, True) if compiled and b >= 4096 else (False,))]  # fmt: skip
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("measuring", total=len(jobs))
        for b, dt, bw, c in jobs:
            fn = compiled[bw] if c else inverse_dynamics
            t0 = time.perf_counter()
            fps = ours_fps(body, b, dt, bw, fn, args.seconds)
            rows.append(
                (b, str(dt).replace("torch.", ""), "fwd+bwd" if bw else "fwd", "compile" if c else "eager", fps)
            )
            bar.update(
                task,
                advance=1,
                description=f"B={b} {dt} {'fwd+bwd' if bw else 'fwd'} ({time.perf_counter() - t0:.0f}s)",
            )

    pin_fps = peer.get("Pinocchio rnea", float("nan"))
    table = Table(title="Inverse dynamics, frames per second (higher is better)")
    for col in ("batch", "dtype", "pass", "mode", "frames/s", "x Pinocchio"):
        table.add_column(col, justify="right")
    for b, dt, p, mode, fps in rows:
        table.add_row(str(b), dt, p, mode, f"{fps:,.0f}", f"{fps / pin_fps:.2f}")
    for name, fps in peer.items():
        table.add_row("1 (loop)", "float64", "fwd", name, f"{fps:,.0f}", f"{fps / pin_fps:.2f}")
    console.print(table)

    def get(b, dt, p, mode):
        return next((r[4] for r in rows if r[:4] == (b, dt, p, mode)), float("nan"))

    lines = [
        "# Benchmarks",
        "",
        "Generated by `benchmarks/bench_inverse_dynamics.py` (`make bench`); numbers from one run.",
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
    for b, dt, p, mode, fps in rows:
        lines.append(f"| {b} | {dt} | {p} | {mode} | {fps:,.0f} | {fps / pin_fps:.2f} |")
    for name, fps in peer.items():
        lines.append(f"| 1 (loop) | float64 | fwd | {name} | {fps:,.0f} | {fps / pin_fps:.2f} |")
    lines += ["", "Targets (issue: foundation and body model), float64:", ""]
    for b in (4096, 65536):
        for mode in ("eager", "compile"):
            f, fb = get(b, "float64", "fwd", mode), get(b, "float64", "fwd+bwd", mode)
            if np.isfinite(f):
                lines.append(
                    f"- batch {b}, {mode}: {f / pin_fps:.2f}× Pinocchio (target ≥ 2×); "
                    f"forward+backward costs {f / fb:.2f}× forward (target ≤ 3×)."
                )
    lines += [
        "",
        "What limits it: on CPU the recursion is memory-bound: each tree level runs about a hundred "
        "element-wise operations on (segments, frames) blocks and eager PyTorch writes every "
        "temporary to memory. Done: batch-last structure-of-arrays layout with the segments stored "
        "level by level (one Python step per tree level, never per frame), closed-form signed ZXY "
        "joint rotations whose intermediate columns are the joint axes (no 3x3 matrix products, no "
        "cross products for the velocity terms), and chunks of 16k frames that stay in cache. "
        "The backward pass is autograd's: it keeps every intermediate, which is what makes "
        "forward+backward cost more than 3x the forward at large batches; a hand-written adjoint "
        "pass over the tree is the next step. `torch.compile` (`--compile`) currently recompiles "
        "per tree level and is slower than eager.",
        "",
    ]
    with atomic_write(args.out) as f:
        f.write("\n".join(lines))
    console.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
