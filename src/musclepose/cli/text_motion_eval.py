"""``musclepose train text-motion-eval``: the text<->motion evaluator (:mod:`musclepose.training.text_motion_eval`)."""

from __future__ import annotations

import time
from pathlib import Path

import torch
import typer

from ..io.errors import FormatError
from ..progress import progress_bar
from ..training.text_motion_eval import PairSet, TextMotionEvalTrainConfig, build_pairs, train_text_motion_eval
from ._common import check_int_range, check_training_out, command_line, console, error_message, fail, print_json


def _pairs(n: int, seed: int, cache: Path | None, name: str) -> PairSet:
    path = None if cache is None else cache / f"{name}_{n}_seed{seed}.npz"
    if path is not None and path.is_file():
        return PairSet.load(path)
    with progress_bar(f"{name} pairs", n) as advance:
        pairs = build_pairs(n, seed, lambda _: advance(1))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        pairs.save(path)
    return pairs


def train_text_motion_eval_cmd(
    out: Path = typer.Option(..., "--out", "-o", help="Checkpoint folder to write."),
    train_pairs: int = typer.Option(
        1200, "--train-pairs", callback=check_int_range("--train-pairs", 64), help="Training pairs."
    ),
    val_pairs: int = typer.Option(
        192, "--val-pairs", callback=check_int_range("--val-pairs", 32), help="Validation pairs."
    ),
    epochs: int = typer.Option(15, "--epochs", callback=check_int_range("--epochs", 1, 10_000), help="Epochs."),
    batch_size: int = typer.Option(
        64, "--batch-size", callback=check_int_range("--batch-size", 2), help="Pairs per step."
    ),
    seed: int = typer.Option(0, "--seed", help="Training pairs' stream (validation: seed + 1)."),
    cache: Path = typer.Option(None, "--cache", help="Folder to keep the built pairs in (reused when present)."),
    threads: int = typer.Option(1, "--threads", callback=check_int_range("--threads", 1, 256), help="Torch threads."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a folder of files MusclePose did not write."),
    json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Train the text<->motion evaluator contrastively on synthetic (request text, engine motion) pairs.

    Example: musclepose train text-motion-eval --out runs/text_motion_eval --cache runs/text_motion_pairs
    """
    check_training_out(out, overwrite)
    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    train = _pairs(train_pairs, seed, cache, "train")
    val = _pairs(val_pairs, seed + 1, cache, "val")
    data_s = time.perf_counter() - t0
    cfg = TextMotionEvalTrainConfig(train_pairs=train_pairs, val_pairs=val_pairs, seed=seed, epochs=epochs,
                                    batch_size=batch_size)  # fmt: skip
    log = (lambda *_: None) if json_out else console.print
    extra = {"command": command_line(), "data_seconds": data_s}
    try:
        summary = train_text_motion_eval(cfg, out, train, val, extra, log=log, overwrite=overwrite)
    except (FormatError, ValueError, OSError) as err:
        fail(error_message(err))
    summary |= {"checkpoint": str(out), "data_seconds": data_s}
    if json_out:
        print_json(summary)
    else:
        log(
            f"best epoch {summary['best']}; data {data_s:.0f} s, training {summary['seconds']:.0f} s; checkpoint: {out}"
        )
