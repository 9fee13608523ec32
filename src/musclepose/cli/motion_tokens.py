"""``musclepose train motion-tokens``: the motion tokenizer (VQ-VAE).

Thin: parse, call :func:`musclepose.training.motion_tokens.train_motion_tokens`, print.
"""

from __future__ import annotations

from pathlib import Path

import typer

from ._common import check_training_out, command_line, fail, mocap_refdata, run_sweep_training

__all__ = ["train_motion_tokens_cmd"]


def _ints(text: str, what: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        fail(f"{what} must be comma-separated integers; got {text!r}")
    if not values or min(values) < 1:
        fail(f"{what} must be positive; got {text!r}")
    return values


def train_motion_tokens_cmd(
    out: Path = typer.Option(..., "--out", "-o", help="Checkpoint folder to write."),
    refdata: Path = typer.Option(
        None, "--refdata", help="Reference data folder holding mocap/ (default: $MUSCLEPOSE_REFDATA or ../shared/data)."
    ),
    codebook_sizes: str = typer.Option("64,128", "--codebook-sizes", help="Candidate codebook sizes (val picks)."),
    quantizers: str = typer.Option("1,4", "--quantizers", help="Candidate residual-VQ depths (1: plain VQ)."),
    steps: int = typer.Option(1200, "--steps", help="Optimiser steps per candidate."),
    batch_size: int = typer.Option(64, "--batch-size", help="Windows per step."),
    window: int = typer.Option(40, "--window", help="Frames per training window (a multiple of 4)."),
    width: int = typer.Option(96, "--width", help="Convolution channels."),
    lr: float = typer.Option(2e-3, "--lr", help="Peak learning rate (AdamW, cosine)."),
    recon_loss: str = typer.Option("smooth_l1", "--recon-loss", help="smooth_l1 or l1 on the normalised features."),
    synthetic: int = typer.Option(40, "--synthetic", help="Synthetic exercise clips added to the real ones."),
    val_every: int = typer.Option(400, "--val-every", help="Steps between validations."),
    threads: int = typer.Option(1, "--threads", help="Torch threads."),
    device: str = typer.Option("cpu", "--device", help="Training device (cpu, cuda); validation runs on the CPU."),
    seed: int = typer.Option(0, "--seed", help="Seed."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a folder of files MusclePose did not write."),
    json_out: bool = typer.Option(False, "--json", help="Print the sweep summary as JSON."),
) -> None:
    """Train the VQ-VAE motion tokenizer on real mocap (split by person) and synthetic clips.

    Example: musclepose train motion-tokens --out runs/motion_tokens --codebook-sizes 128 --quantizers 2
    """
    try:  # vector-quantize-pytorch is the optional "tokens" extra
        from ..training.motion_tokens import TokenizerTrainConfig, train_motion_tokens
    except ImportError as err:
        fail(f"the motion tokenizer needs the tokens extra (pip install 'musclepose[tokens]'): {err}")

    root = mocap_refdata(refdata)
    if window < 4 or window % 4:
        fail(f"--window must be a positive multiple of 4; got {window}")
    if recon_loss not in ("smooth_l1", "l1"):
        fail(f"--recon-loss must be smooth_l1 or l1; got {recon_loss!r}")
    if steps < 1 or batch_size < 2:
        fail("--steps must be >= 1 and --batch-size >= 2")
    check_training_out(out, overwrite)  # before the data and the training
    cfg = TokenizerTrainConfig(
        out=str(out), refdata=str(root), codebook_sizes=_ints(codebook_sizes, "--codebook-sizes"),
        quantizers=_ints(quantizers, "--quantizers"), steps=steps, batch_size=batch_size, window=window,
        width=width, lr=lr, synthetic=synthetic, val_every=min(val_every, steps), threads=threads, seed=seed,
        device=device, recon_loss=recon_loss, overwrite=overwrite,
        command=command_line(),
    )  # fmt: skip
    run_sweep_training(train_motion_tokens, cfg, out, json_out)
