"""``musclepose train coach`` and ``export-coach``: train the coach (:mod:`musclepose.training.coach`), ship it."""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
from pathlib import Path

import torch
import typer

from ..atomic import check_no_overlap, check_output_dir, check_replaceable_dir, output_lock
from ..io.errors import check_input_path
from ..language.backend import check_llm_available
from ..pipelines.checkpoint import is_checkpoint_folder
from ..pipelines.coach_examples import dataset_splits, load_examples
from ..training.coach import CoachTrainConfig, train_coach
from ..training.coach_state import export_coach
from ..training.distributed import init_from_env
from ._common import check_int_range, check_range, console, echo, error_message, fail
from .coach_qa import train_coach_qa_cmd
from .form import train_form_cmd
from .imitate import train_imitate_cmd
from .inbetween import train_inbetween_cmd
from .motion import train_motion_cmd
from .motion_tokens import train_motion_tokens_cmd
from .muscle_nn import train_muscle_nn_cmd
from .text_motion_eval import train_text_motion_eval_cmd

train_app = typer.Typer(help="Train MusclePose models.", no_args_is_help=True)
train_app.command("motion")(train_motion_cmd)
train_app.command("form")(train_form_cmd)
train_app.command("imitate")(train_imitate_cmd)
train_app.command("motion-tokens")(train_motion_tokens_cmd)
train_app.command("muscle-nn")(train_muscle_nn_cmd)
train_app.command("inbetween")(train_inbetween_cmd)
train_app.command("coach-qa")(train_coach_qa_cmd)
train_app.command("text-motion-eval")(train_text_motion_eval_cmd)


@train_app.command("coach")
def train_coach_cmd(
    data: list[Path] = typer.Option(..., "--data", "-d", help="HDF5 dataset(s) from `musclepose simulate` (repeat)."),
    out: Path = typer.Option(..., "--out", "-o", help="Checkpoint folder (resumed if it holds a train state)."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace an --out folder that holds files MusclePose did not write."
    ),
    encoder_epochs: int = typer.Option(
        4, "--encoder-epochs", callback=check_int_range("--encoder-epochs", 0, 10_000), help="Encoder-stage epochs."
    ),
    lm_epochs: int = typer.Option(
        1, "--lm-epochs", callback=check_int_range("--lm-epochs", 0, 10_000), help="Epochs of the bridge + LoRA stage."
    ),
    batch_size: int = typer.Option(8, "--batch-size", callback=check_int_range("--batch-size"), help="Clips per step."),
    lm_batch_size: int = typer.Option(
        4, "--lm-batch-size", callback=check_int_range("--lm-batch-size"), help="Clips per LM step."
    ),
    lm_max_examples: int | None = typer.Option(
        None, "--lm-examples", callback=check_int_range("--lm-examples"), help="Clips per LM epoch (default: all)."
    ),
    lm_multi_fault_repeat: int = typer.Option(
        3,
        "--lm-multi-fault-repeat",
        callback=check_int_range("--lm-multi-fault-repeat"),
        help="Times a clip with 2+ screened faults appears in the LM pool.",
    ),  # fmt: skip
    lr_lm: float = typer.Option(
        2e-4, "--lr-lm", callback=check_range("--lr-lm", 1e-9, 1.0), help="Peak learning rate of bridge + LoRA."
    ),
    lr_physics: float = typer.Option(
        3e-4, "--lr-physics", callback=check_range("--lr-physics", 1e-9, 1.0), help="Peak learning rate, encoder."
    ),
    lora_r: int = typer.Option(8, "--lora-r", callback=check_int_range("--lora-r", 1, 1024), help="LoRA rank."),
    llm: str = typer.Option("smollm2-135m-instruct", "--llm", help="LLM: the embedded name, a local folder or HF id."),
    device: str = typer.Option("cpu", "--device", help="Device of both stages (cpu, cuda, cuda:1, ...)."),
    seed: int = typer.Option(0, "--seed", help="Seed."),
    workers: int | None = typer.Option(
        None, "--workers", callback=check_int_range("--workers"), help="Processes preparing clips (default: all cores)."
    ),
    limit: int | None = typer.Option(
        None, "--limit", callback=check_int_range("--limit"), help="Use at most this many clips per split."
    ),
) -> None:
    """Train the coach on synthetic clips; checkpoints every 100 steps and epoch (every 25 LM steps); resumable.

    --out is replaced only if MusclePose wrote it (or with --overwrite); a killed run resumes
    exactly where its last checkpoint stopped.

    Example: musclepose train coach --data data.h5 --out runs/coach --encoder-epochs 4 --lm-epochs 1

    Data-parallel on several GPUs (or CPU processes): torchrun --nproc-per-node 4 -m musclepose
    train coach --device cuda ... (each process takes its share of every batch; rank 0 writes).
    """
    rank, size = init_from_env(device)
    if size > 1 and device == "cuda":
        device = f"cuda:{os.environ.get('LOCAL_RANK', '0')}"

    # Everything is checked before the data are prepared (minutes) and the LLM loads.
    try:
        for p in data:
            check_input_path(p, what="dataset")
        check_output_dir(out.parent, what=f"the folder of {out.name}", create=True)  # a file there: said so
        check_replaceable_dir(out, overwrite, legacy=is_checkpoint_folder)
        for p in data:
            dataset_splits(p)  # is it a dataset at all (milliseconds; preparing its clips takes minutes)
        if lm_epochs > 0:
            check_llm_available(llm)
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"--device {device}: no CUDA device is available to this process")
        torch.device(device)  # refuses a malformed name
    except (OSError, ValueError, RuntimeError) as err:
        fail(error_message(err))
    config = CoachTrainConfig(
        out=str(out), encoder_epochs=encoder_epochs, lm_epochs=lm_epochs, batch_size=batch_size,
        lm_batch_size=lm_batch_size, lm_max_examples=lm_max_examples,
        lm_multi_fault_repeat=lm_multi_fault_repeat, lr_lm=lr_lm, lr_physics=lr_physics,
        lora_r=lora_r, lora_alpha=2 * lora_r, llm=llm, device=device, seed=seed, data=[str(p) for p in data],
        command="musclepose " + " ".join(shlex.quote(a) for a in sys.argv[1:]), overwrite=overwrite,
    )  # fmt: skip
    log = console.print if rank == 0 else (lambda *_: None)
    # Rank 0 writes; the lock keeps a second run from writing into the same folder meanwhile.
    with output_lock(out) if rank == 0 else contextlib.nullcontext():
        train = load_examples(data, ("train",), workers=workers, limit=limit)
        val = load_examples(data, ("val",), workers=workers, limit=limit)
        if not train or not val:
            fail(f"{', '.join(map(str, data))}: need clips in both the train and the val split")
        log(f"{len(train)} training and {len(val)} validation clips" + (f", {size} processes" if size > 1 else ""))
        train_coach(config, train, val, log=log)
    log(f"checkpoint: {out}")


@train_app.command("export-coach")
def export_coach_cmd(
    src: Path = typer.Argument(..., help="Trained checkpoint folder."),
    dst: Path = typer.Argument(..., help="Folder to write (replaced only if MusclePose wrote it)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a DST holding files MusclePose did not write."),
) -> None:
    """Write a coach checkpoint for shipping: float16 weights, LoRA adapter, no train state.

    DST may not be SRC, hold it or lie inside it. Example: musclepose train export-coach runs/coach my_coach
    """
    try:
        check_input_path(src, folder_ok=True, what="checkpoint folder")
        check_no_overlap(src, dst)
        check_output_dir(dst.parent, what=f"the folder of {dst.name}", create=True)
        with output_lock(dst):
            out = export_coach(src, dst, overwrite=overwrite)
    except (OSError, ValueError, KeyError) as err:
        fail(error_message(err, src))
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    echo(f"wrote {out} ({size / 2**20:.1f} MiB)")
