"""``musclepose train muscle-nn``: train MuscleNN (:mod:`musclepose.training.muscle_nn`), torques -> activations."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import torch
import typer

from ..atomic import check_output_dir, check_replaceable_dir, output_lock
from ..io.errors import FormatError
from ..progress import progress_bar
from ._common import console, error_message, fail, print_json

__all__ = ["train_muscle_nn_cmd"]

_DEFAULT_REFDATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"


def train_muscle_nn_cmd(
    out: Path = typer.Option(..., "--out", "-o", help="Checkpoint folder to write (config.json + model.safetensors)."),
    refdata: Path = typer.Option(
        None, "--refdata", help="Reference data folder holding mocap/ (default: $MUSCLEPOSE_REFDATA or ../shared/data)."
    ),
    subjects: int = typer.Option(40, "--subjects", min=3, help="Synthetic people (each in one split)."),
    clips: int = typer.Option(80, "--clips", min=3, help="Synthetic clips over those people."),
    steps: int = typer.Option(2000, "--steps", min=1, help="Optimiser steps."),
    batch_size: int = typer.Option(1024, "--batch-size", min=2, help="Frames per step."),
    lr: float = typer.Option(2e-3, "--lr", help="Peak learning rate (Adam, cosine)."),
    threads: int = typer.Option(1, "--threads", min=1, help="Torch threads."),
    seed: int = typer.Option(0, "--seed", help="Seed (synthetic people and clips, initialisation)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a folder of files MusclePose did not write."),
    json_out: bool = typer.Option(False, "--json", help="Print the training statistics as JSON."),
) -> None:
    """Train MuscleNN as MASS does (torque reproduction + activation penalty) on inverse-dynamics frames.

    Example: musclepose train muscle-nn --out runs/muscle_nn --steps 2000
    """
    from ..training.muscle_nn import MuscleNNTrainConfig, train_muscle_nn

    root = refdata or Path(os.environ.get("MUSCLEPOSE_REFDATA", _DEFAULT_REFDATA))
    if not (root / "mocap").is_dir():
        fail(f"{root / 'mocap'}: not found (pass --refdata or set MUSCLEPOSE_REFDATA)")
    try:  # before minutes of data preparation and training: a folder we may write, or none yet
        check_output_dir(out.parent, what=f"the folder of {out.name}", create=True)
        check_replaceable_dir(out, overwrite)
    except (OSError, ValueError) as err:
        fail(error_message(err, out))
    torch.set_num_threads(threads)
    cfg = MuscleNNTrainConfig(
        out=str(out), refdata=str(root), seed=seed, n_subjects=subjects, n_clips=clips, steps=steps,
        batch_size=batch_size, lr=lr, val_every=max(1, min(250, steps)),
        command="musclepose " + " ".join(shlex.quote(a) for a in sys.argv[1:]), overwrite=overwrite,
    )  # fmt: skip
    log = (lambda *_: None) if json_out else console.print
    try:
        with output_lock(out), progress_bar("MuscleNN", total=steps, enabled=not json_out) as advance:
            done = [0]

            def progress(k: int, total: int) -> None:
                advance(max(0, k - done[0]))
                done[0] = k

            stats = train_muscle_nn(cfg, progress=progress, say=log)
    except (FormatError, ValueError, KeyError, OSError) as err:
        fail(error_message(err))
    if json_out:
        print_json({"checkpoint": str(out), **{k: v for k, v in stats.items() if k != "history"}})
        return
    for name, t in stats["test"].items():
        log(f"test {name}: activation MAE vs static optimisation {t['mae_vs_static']:.4f}, "
            f"torque RMSE {t['torque_rmse_nm']:.2f} N m")  # fmt: skip
    log(f"trained {stats['steps']} steps in {stats['wall_s']:.0f} s; checkpoint: {out}")
