"""``musclepose inbetween A B -o OUT`` and ``musclepose train inbetween``: fill a gap between two recordings.

Thin: parse, :func:`musclepose.io.load_motion` both recordings,
:func:`musclepose.pipelines.inbetween.inbetween` (the shipped learned in-betweener, or slerp),
write A + the gap + B as ``.bvh``, ``.mot`` (OpenSim coordinates) or ``.json`` (clip), print a
summary (``--json`` for scripts). Training calls :func:`musclepose.training.inbetween.train_inbetween`.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

from ..io.errors import FormatError
from ._common import (
    check_out_file,
    check_training_out,
    command_line,
    console,
    error_message,
    fail,
    mocap_refdata,
    print_json,
    run_sweep_training,
)
from .analyze import check_inputs, spinner

__all__ = ["inbetween", "train_inbetween_cmd"]

OUTPUTS = (".bvh", ".mot", ".json")


def inbetween(
    first: Path = typer.Argument(..., help="Recording A: the gap starts after its last frame."),
    second: Path = typer.Argument(..., help="Recording B: the gap ends before its first frame."),
    out: Path = typer.Option(..., "--out", "-o", help="Output: .bvh, .mot (OpenSim coordinates) or .json (clip)."),
    gap: float = typer.Option(1.0, "--gap", help="Length of the gap in seconds."),
    method: str | None = typer.Option(
        None, "--method", help="learned, slerp or spline (default: learned where a model is shipped, else slerp)."
    ),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", help="In-betweener folder (default: shipped)."),
    mass: float | None = typer.Option(None, "--mass", help="Body mass in kg."),
    sex: str = typer.Option("male", "--sex", help="male or female."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Fill a gap of --gap seconds between the end of A and the start of B; write A, the gap and B.

    The learned method runs at its model's rate (20 Hz), slerp at A's. B stays where it was recorded.

    Example: musclepose inbetween walk_a.bvh walk_b.bvh --gap 1 -o joined.bvh
    """
    from ..pipelines.inbetween import METHODS, Inbetweener, default_method
    from ..pipelines.inbetween import inbetween as run_inbetween

    method = method or ("learned" if checkpoint else default_method())
    if method not in METHODS:
        fail(f"--method {method!r}: choose from {', '.join(METHODS)}")
    if not (gap > 0 and gap <= 10.0):
        fail(f"--gap {gap!r}: must be more than 0 and at most 10 s")
    check_out_file(out, OUTPUTS, may_create_parent=True)
    check_inputs(first)
    check_inputs(second)
    t0 = time.perf_counter()
    from ..io.load import load_motion

    motions = []
    with spinner("In-betweening") as say:
        for path in (first, second):
            try:
                motions.append(load_motion(path, mass_kg=mass, sex=sex, progress=say))
            except (FormatError, ValueError, KeyError, OSError) as err:
                fail(error_message(err, path))
        try:
            model = Inbetweener.from_pretrained(checkpoint) if checkpoint else None
            say(f"filling {gap:g} s ({method})")
            result = run_inbetween(motions[0], motions[1], gap, method, model)
            say(f"writing {out.name}")
            _write(out, result.motion, first.name)
        except (FormatError, ValueError, KeyError, OSError) as err:
            fail(error_message(err, checkpoint if checkpoint and "config" in str(err) else out))
    info = {
        "a": str(first),
        "b": str(second),
        "out": str(out),
        "method": method,
        "fps": result.motion.fps,
        "gap_s": result.gap_frames / result.motion.fps,
        "gap_frames": result.gap_frames,
        "gap_start_frame": result.gap_start,
        "frames": result.motion.n_frames,
        "seconds": time.perf_counter() - t0,
    }
    if json_out:
        print_json(info)
        return
    console.print(
        f"{out}: {info['frames']} frames at {info['fps']:g} Hz; frames {result.gap_start}-"
        f"{result.gap_start + result.gap_frames - 1} filled by {method} ({info['gap_s']:g} s)",
        highlight=False,
    )


def _write(out: Path, motion, name: str) -> None:
    suffix = out.suffix.lower()
    if suffix == ".mot":
        from .convert import write_opensim

        write_opensim(out, motion)
    elif suffix == ".bvh":
        from ..io.bvh_body import write_motion_bvh

        write_motion_bvh(out, motion)
    else:
        from ..io.clip import write_clip
        from ..pipelines.predict import clip_from_motion

        write_clip(out, clip_from_motion(motion, name))


def train_inbetween_cmd(
    out: Path = typer.Option(..., "--out", "-o", help="Checkpoint folder to write."),
    refdata: Path = typer.Option(
        None, "--refdata", help="Reference data folder holding mocap/ (default: $MUSCLEPOSE_REFDATA or ../shared/data)."
    ),
    kind: str = typer.Option("transformer", "--kind", help="transformer or linear (a shared temporal filter, ridge)."),
    ridges: str = typer.Option("100,1000,10000", "--ridges", help="linear: candidate ridge penalties (val picks)."),
    windows_per_gap: int = typer.Option(400, "--windows-per-gap", help="linear: training gaps per gap length."),
    widths: str = typer.Option("64", "--widths", help="Candidate transformer widths, comma-separated (val picks)."),
    root_weights: str = typer.Option(
        "1,4", "--root-weights", help="Candidate loss weights of root and pelvis (val picks)."
    ),
    depth: int = typer.Option(3, "--depth", help="Transformer layers."),
    steps: int = typer.Option(450, "--steps", help="Optimiser steps per candidate."),
    batch_size: int = typer.Option(32, "--batch-size", help="Gaps per step."),
    lr: float = typer.Option(5e-4, "--lr", help="Peak learning rate (AdamW, cosine)."),
    synthetic: int = typer.Option(40, "--synthetic", help="Synthetic exercise clips added to the real ones."),
    val_every: int = typer.Option(75, "--val-every", help="Steps between validations."),
    threads: int = typer.Option(1, "--threads", help="Torch threads."),
    seed: int = typer.Option(0, "--seed", help="Seed."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a folder of files MusclePose did not write."),
    json_out: bool = typer.Option(False, "--json", help="Print the sweep summary as JSON."),
) -> None:
    """Fit the in-betweener on real mocap (split by person) and synthetic clips; the val split picks.

    Example: musclepose train inbetween --out runs/inbetween   # the shipped model's settings
    """
    from ..training.inbetween import InbetweenTrainConfig, train_inbetween

    root = mocap_refdata(refdata)
    try:
        width_list = tuple(int(v) for v in widths.split(","))
    except ValueError:
        fail(f"--widths must be comma-separated integers; got {widths!r}")
    if not width_list or min(width_list) < 8 or any(w % 4 for w in width_list):
        fail(f"--widths must be multiples of 4 of at least 8; got {widths!r}")
    if kind not in ("linear", "transformer"):
        fail(f"--kind must be linear or transformer; got {kind!r}")
    try:
        ridge_list = tuple(float(v) for v in ridges.split(","))
    except ValueError:
        fail(f"--ridges must be comma-separated numbers; got {ridges!r}")
    if not ridge_list or min(ridge_list) < 0 or windows_per_gap < 1:
        fail(f"--ridges must be non-negative and --windows-per-gap >= 1; got {ridges!r}, {windows_per_gap}")
    try:
        weight_list = tuple(float(v) for v in root_weights.split(","))
    except ValueError:
        fail(f"--root-weights must be comma-separated numbers; got {root_weights!r}")
    if not weight_list or min(weight_list) <= 0:
        fail(f"--root-weights must be positive; got {root_weights!r}")
    if steps < 1 or batch_size < 2 or depth < 1 or val_every < 1:
        fail("--steps, --depth and --val-every must be >= 1 and --batch-size >= 2")
    check_training_out(out, overwrite)  # before the data and the training
    cfg = InbetweenTrainConfig(
        out=str(out), refdata=str(root), kind=kind, ridges=ridge_list, windows_per_gap=windows_per_gap,
        widths=width_list, root_weights=weight_list, depth=depth,
        steps=steps, batch_size=batch_size, lr=lr,
        synthetic=synthetic, val_every=min(val_every, steps), threads=threads, seed=seed, overwrite=overwrite,
        command=command_line(),
    )  # fmt: skip
    run_sweep_training(train_inbetween, cfg, out, json_out)
