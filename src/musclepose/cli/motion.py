"""``musclepose train motion`` and ``musclepose evaluate rollout``: the motion model (MotionNN).

Thin: parse, call :func:`musclepose.training.motion.train_motion` or
:mod:`musclepose.evaluation.rollout`, print (``--json`` for scripts).
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from ..atomic import atomic_write, check_output_file
from ..io.errors import FormatError
from ..progress import progress_bar
from ._common import console, error_message, fail, print_json

__all__ = ["evaluate_rollout_cmd", "train_motion_cmd"]


def train_motion_cmd(
    data: list[Path] = typer.Option(
        ..., "--data", "-d", help="Training sources: benchmark folders/.txt, .h5 (repeat)."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Checkpoint folder to write."),
    val: list[Path] = typer.Option([], "--val", help="Validation sources (pick the best step; repeat)."),
    codec: str = typer.Option("cmu_expmap", "--codec", help="cmu_expmap (benchmark rows) or body_q (our body)."),
    fps: float = typer.Option(60.0, "--fps", help="Model rate (Hz); sources at a multiple are decimated."),
    window: int = typer.Option(50, "--window", help="History frames."),
    recent: int = typer.Option(5, "--recent", help="Most recent frames read in full."),
    n_basis: int = typer.Option(8, "--basis", help="Temporal basis functions over the window."),
    context: int = typer.Option(32, "--context", help="Size of the whole-body context vector."),
    hidden: int = typer.Option(48, "--hidden", help="Width of the MLP shared by the state dimensions."),
    depth: int = typer.Option(2, "--depth", help="Hidden layers of that MLP."),
    dropout: float = typer.Option(0.0, "--dropout", help="Dropout in that MLP."),
    horizon: int = typer.Option(25, "--horizon", help="Frames predicted per training window."),
    batch_size: int = typer.Option(32, "--batch-size", help="Windows per step."),
    lr: float = typer.Option(1e-3, "--lr", help="Peak learning rate (AdamW, cosine)."),
    teacher: int = typer.Option(200, "--teacher-steps", help="Steps of teacher forcing."),
    scheduled: int = typer.Option(400, "--scheduled-steps", help="Steps of scheduled sampling."),
    rollout: int = typer.Option(800, "--rollout-steps", help="Steps of free multi-step rollout."),
    linear_out: Path | None = typer.Option(None, "--linear-out", help="Also save the linear autoregression baseline."),
    loss_space: str = typer.Option("raw", "--loss-space", help="raw (6-D as is) or std (standardised)."),
    on_jump: str = typer.Option("error", "--on-jump", help="error, or split sequences at jumps (bad frames)."),
    mirror: bool = typer.Option(True, "--mirror/--no-mirror", help="Mirror benchmark rows left-right."),
    speeds: str = typer.Option("1", "--speeds", help="Time-scale augmentation, e.g. 0.8,1,1.2."),
    weight_decay: float = typer.Option(1e-4, "--weight-decay", help="AdamW weight decay."),
    val_every: int = typer.Option(100, "--val-every", help="Steps between validations."),
    threads: int = typer.Option(1, "--threads", help="Torch threads."),
    workers: int = typer.Option(0, "--workers", help="DataLoader workers."),
    seed: int = typer.Option(0, "--seed", help="Seed."),
) -> None:
    """Train MotionNN by teacher forcing, then scheduled sampling, then multi-step rollouts.

    Example: musclepose train motion --data ../shared/data/mocap/cmu_prediction/train --out runs/motion --on-jump split
    """
    from ..training.distributed import init_from_env
    from ..training.motion import MotionTrainConfig, train_motion

    if on_jump not in ("error", "split") or loss_space not in ("raw", "std"):
        fail("--on-jump must be error or split, --loss-space raw or std")
    rank, _ = init_from_env("cpu")
    cfg = MotionTrainConfig(
        out=str(out), train=[str(p) for p in data], val=[str(p) for p in val], codec=codec, fps=fps, window=window,
        recent=recent, n_basis=n_basis, context=context, hidden=hidden, depth=depth, dropout=dropout,
        horizon=horizon, batch_size=batch_size, lr=lr,
        teacher_steps=teacher, scheduled_steps=scheduled, rollout_steps=rollout, loss_space=loss_space,
        on_jump=on_jump, mirror=mirror, val_every=val_every, seed=seed, threads=threads, workers=workers,
        linear_out=str(linear_out or ""), speeds=tuple(float(v) for v in speeds.split(",")),
        weight_decay=weight_decay,
        command="musclepose " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
    )  # fmt: skip
    log = console.print if rank == 0 else (lambda *_: None)
    try:
        with progress_bar("training", cfg.total_steps, enabled=rank == 0) as advance:
            train_motion(cfg, log=log, progress=lambda step, info: advance(1, info))
    except (FormatError, ValueError, OSError) as err:
        fail(error_message(err))
    log(f"checkpoint: {out}")


def evaluate_rollout_cmd(
    data: Path = typer.Option(
        ..., "--data", "-d", help="Folder laid out like the benchmark: <action>/<action>_<i>.txt."
    ),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", help="Motion checkpoint (default: the shipped one)."),
    steps: int = typer.Option(60, "--rollout-steps", help="Steps of the seed criterion's long rollout."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Also write a Markdown report (and its .json)."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The CMU motion-prediction benchmark's protocol: the model against zero and constant velocity.

    Mean angle error and MPJPE per action at 80-1000 ms (the benchmark's labels), and the seed
    criterion (error after 60 autoregressive steps over the error after one).

    Example: musclepose evaluate rollout --data ../shared/data/mocap/cmu_prediction/train --json
    """
    from ..evaluation.rollout import constant_velocity, evaluate_rollout, zero_velocity
    from ..io.cmu_prediction import find_files
    from ..pipelines.predict import MotionPredictor

    t0 = time.perf_counter()
    try:
        find_files(data, first_only=True)  # the layout first: cheap, and the commonest mistake
        if out is not None:
            check_output_file(out, may_create_parent=True)
        model = MotionPredictor.load(checkpoint, kind="cmu")
        if model.codec.name != "cmu_expmap":
            raise ValueError(f"{checkpoint}: a {model.codec.name} model; the benchmark needs a cmu_expmap model")
        predictors = {"model": model, "zero_velocity": zero_velocity, "constant_velocity": constant_velocity}
        with progress_bar("rollouts", 2) as advance:
            result = evaluate_rollout(data, predictors, steps=steps, progress=lambda what: advance(0, what))
    except (FormatError, ValueError, OSError) as err:
        fail(error_message(err))
    result |= {
        "data": str(data),
        "checkpoint": str(checkpoint or "shipped"),
        "seconds": time.perf_counter() - t0,
        "command": "musclepose " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
    }
    if out is not None:
        from ..evaluation.rollout import render_markdown

        out.parent.mkdir(parents=True, exist_ok=True)
        for target, text in (
            (out.with_suffix(".json"), json.dumps(result, indent=2) + "\n"),
            (out, render_markdown(result)),
        ):
            with atomic_write(target) as fh:
                fh.write(text)
    if json_out:
        print_json(result)
        return
    _print_tables(result)


def _print_tables(r: dict[str, Any]) -> None:
    t = Table(title=f"Mean angle error ({len(r['per_action'])} actions, 8 windows each)")
    t.add_column("predictor")
    for ms in r["horizons_ms"]:
        t.add_column(f"{ms} ms", justify="right")
    for name, v in r["mean_angle_error"].items():
        t.add_row(name, *(f"{x:.3f}" for x in v))
    console.print(t)
    ro = r["rollout"]
    console.print(
        f"seed criterion: error after {ro['steps']} steps / after 1 = {r['rollout_60_over_1']:.2f} "
        f"(zero velocity {ro['zero_velocity']['ratio']:.2f}; {ro['model']['windows']} windows)"
    )
