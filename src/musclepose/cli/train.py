"""``musclepose train coach`` and ``export-coach``: train the coach (:mod:`musclepose.training.coach`), ship it."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import typer

from ..pipelines.coach_examples import load_examples
from ..training.coach import CoachTrainConfig, train_coach
from ..training.coach_state import export_coach
from ..training.distributed import init_from_env
from ._common import console, fail

train_app = typer.Typer(help="Train MusclePose models.", no_args_is_help=True)


@train_app.command("coach")
def train_coach_cmd(
    data: list[Path] = typer.Option(..., "--data", "-d", help="HDF5 dataset(s) from `musclepose simulate` (repeat)."),
    out: Path = typer.Option(..., "--out", "-o", help="Checkpoint folder (resumed if it holds a train state)."),
    encoder_epochs: int = typer.Option(4, "--encoder-epochs", help="Epochs of the encoder stage (LM off)."),
    lm_epochs: int = typer.Option(1, "--lm-epochs", help="Epochs of the bridge + LoRA stage."),
    batch_size: int = typer.Option(8, "--batch-size", help="Clips per encoder step."),
    lm_batch_size: int = typer.Option(4, "--lm-batch-size", help="Clips per LM step."),
    lm_max_examples: int | None = typer.Option(None, "--lm-examples", help="Clips per LM epoch (default: all)."),
    lm_multi_fault_repeat: int = typer.Option(
        3, "--lm-multi-fault-repeat", help="Times a clip with 2+ screened faults appears in the LM pool."
    ),
    lr_lm: float = typer.Option(2e-4, "--lr-lm", help="Peak learning rate of bridge + LoRA."),
    lr_physics: float = typer.Option(3e-4, "--lr-physics", help="Peak learning rate of the encoder."),
    lora_r: int = typer.Option(8, "--lora-r", help="LoRA rank."),
    llm: str = typer.Option("smollm2-135m-instruct", "--llm", help="LLM: the embedded name, a local folder or HF id."),
    device: str = typer.Option("cpu", "--device", help="Device of both stages (cpu, cuda, cuda:1, ...)."),
    seed: int = typer.Option(0, "--seed", help="Seed."),
    workers: int | None = typer.Option(None, "--workers", help="Processes preparing clips (default: all cores)."),
    limit: int | None = typer.Option(None, "--limit", help="Use at most this many clips per split (quick runs)."),
) -> None:
    """Train the coach on synthetic clips; checkpoints after every epoch (and every 25 LM steps).

    Example: musclepose train coach --data data.h5 --out runs/coach --encoder-epochs 4 --lm-epochs 1

    Data-parallel on several GPUs (or CPU processes): torchrun --nproc-per-node 4 -m musclepose
    train coach --device cuda ... (each process takes its share of every batch; rank 0 writes).
    """
    rank, size = init_from_env(device)
    if size > 1 and device == "cuda":
        device = f"cuda:{os.environ.get('LOCAL_RANK', '0')}"

    for p in data:
        if not p.is_file():
            fail(f"{p}: no such dataset")
    if encoder_epochs < 0 or lm_epochs < 0 or batch_size < 1 or lm_batch_size < 1 or lm_multi_fault_repeat < 1:
        fail("epochs must be >= 0, batch sizes and --lm-multi-fault-repeat >= 1")
    train = load_examples(data, ("train",), workers=workers, limit=limit)
    val = load_examples(data, ("val",), workers=workers, limit=limit)
    if not train or not val:
        fail(f"{', '.join(map(str, data))}: need clips in both the train and the val split")
    config = CoachTrainConfig(
        out=str(out), encoder_epochs=encoder_epochs, lm_epochs=lm_epochs, batch_size=batch_size,
        lm_batch_size=lm_batch_size, lm_max_examples=lm_max_examples,
        lm_multi_fault_repeat=lm_multi_fault_repeat, lr_lm=lr_lm, lr_physics=lr_physics,
        lora_r=lora_r, lora_alpha=2 * lora_r, llm=llm, device=device, seed=seed, data=[str(p) for p in data],
        command="musclepose " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
    )  # fmt: skip
    log = console.print if rank == 0 else (lambda *_: None)
    log(f"{len(train)} training and {len(val)} validation clips" + (f", {size} processes" if size > 1 else ""))
    train_coach(config, train, val, log=log)
    log(f"checkpoint: {out}")


@train_app.command("export-coach")
def export_coach_cmd(
    src: Path = typer.Argument(..., help="Trained checkpoint folder."),
    dst: Path = typer.Argument(..., help="Folder to write (replaced)."),
) -> None:
    """Write a coach checkpoint for shipping: float16 weights, LoRA adapter, no train state."""
    try:
        out = export_coach(src, dst)
    except (FileNotFoundError, ValueError) as err:
        fail(str(err))
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    console.print(f"wrote {out} ({size / 2**20:.1f} MiB)")
