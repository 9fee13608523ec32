"""``musclepose train coach-qa``: train the coach's question answering (:mod:`musclepose.training.coach_qa`)."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path
from typing import Any

import torch
import typer

from ..atomic import check_no_overlap, check_output_dir, check_replaceable_dir, output_lock
from ..io.errors import check_input_path
from ..language.backend import EMBEDDED_NAME, check_llm_available
from ..pipelines.checkpoint import is_checkpoint_folder
from ..pipelines.coach import default_checkpoint
from ..pipelines.qa_data import clips_sha256, file_sha256, qa_clips, qa_dataset, split_clips
from ._common import check_int_range, check_range, console, error_message, fail, print_json

__all__ = ["train_coach_qa_cmd"]

_LLM_ANSWERERS = ("llm-tokens", "llm-zeroed", "llm-table")


def _val_metrics(val: list[Any], per_kind: int, seed: int) -> Any:
    """``evaluate(bridge, llm)`` for :func:`~musclepose.training.coach_qa.train_qa`: the three LLM
    answerers on at most ``per_kind`` questions of each kind about the validation clips."""
    from ..evaluation.coach_qa import evaluate_qa, select_items
    from ..pipelines.ask import Asker

    def evaluate(bridge: Any, llm: Any) -> dict[str, Any]:
        items = select_items(val, per_kind=per_kind, seed=seed, phrasing="held_out")
        report = evaluate_qa(val, Asker(llm=llm, bridge=bridge), _LLM_ANSWERERS, items, max_new_tokens=32)
        return {"split": "val", "items": len(items),
                "accuracy": {a: round(report.accuracy(a), 4) for a in _LLM_ANSWERERS},
                "accuracy_per_kind": {a: {k: round(report.accuracy(a, k), 4) for k in sorted(report.rows[a])}
                                      for a in _LLM_ANSWERERS}}  # fmt: skip

    return evaluate


def train_coach_qa_cmd(
    out: Path = typer.Option(..., "--out", "-o", help="Checkpoint folder (resumed if it holds a train state)."),
    data: Path = typer.Option(
        None, "--data", "-d", help="An existing `musclepose simulate` .h5 (default: simulate one into --work)."
    ),
    work: Path = typer.Option(
        Path("/tmp/musclepose_eval_coach_qa"), "--work", help="Where the simulated data and prepared clips are kept."
    ),
    n: int = typer.Option(120, "--n", callback=check_int_range("--n", 3), help="Clips to simulate (no --data)."),
    data_seed: int = typer.Option(16, "--data-seed", help="Seed of the simulated clips (no --data)."),
    coach: Path = typer.Option(None, "--coach", help="Coach checkpoint that measures the clips (default: shipped)."),
    steps: int = typer.Option(200, "--steps", callback=check_int_range("--steps", 1, 1_000_000), help="Steps."),
    batch_size: int = typer.Option(8, "--batch-size", callback=check_int_range("--batch-size"), help="Pairs/step."),
    lr: float = typer.Option(1e-3, "--lr", callback=check_range("--lr", 1e-9, 1.0), help="Peak learning rate."),
    lora_r: int = typer.Option(8, "--lora-r", callback=check_int_range("--lora-r", 1, 1024), help="LoRA rank."),
    bridge_d_model: int = typer.Option(
        256, "--bridge-d-model", callback=check_int_range("--bridge-d-model", 8, 4096), help="EventBridge width."
    ),
    bridge_layers: int = typer.Option(
        2, "--bridge-layers", callback=check_int_range("--bridge-layers", 1, 64), help="EventBridge layers."
    ),
    table_share: float = typer.Option(
        0.5,
        "--table-share",
        callback=check_range("--table-share", 0.0, 1.0),
        help="Share of pairs with the table in the prompt (the rest: soft tokens).",
    ),  # fmt: skip
    val_per_kind: int = typer.Option(
        4,
        "--val-per-kind",
        callback=check_int_range("--val-per-kind", 0),
        help="Validation questions per kind scored after training (0: none).",
    ),  # fmt: skip
    ship: Path = typer.Option(None, "--ship", help="Also write a float16 copy without the train state here."),
    llm: str = typer.Option(EMBEDDED_NAME, "--llm", help="LLM: the embedded name or a local folder."),
    threads: int = typer.Option(1, "--threads", callback=check_int_range("--threads"), help="Torch threads."),
    workers: int = typer.Option(
        2, "--workers", callback=check_int_range("--workers"), help="Processes preparing clips."
    ),
    limit: int = typer.Option(
        None, "--limit", callback=check_int_range("--limit"), help="Use at most this many clips per split."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed (pairs, their order, initialisation)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace folders of files MusclePose did not write."),
    json_out: bool = typer.Option(False, "--json", help="Print the training summary as JSON."),
) -> None:
    """Train the coach's question answering on simulated clips split by subject; resumable.

    The clips' train split trains, the val split is scored after the last step (recorded in
    config.json with the command and the data hashes); the test split is left to
    benchmarks/eval_coach_qa.py.

    Example: musclepose train coach-qa --out runs/coach_qa --steps 200 --ship src/musclepose/assets/coach_qa
    """
    coach = coach or default_checkpoint()
    try:  # everything checked before minutes of simulation, preparation and LLM loading
        if data is not None:
            check_input_path(data, what="dataset")
        check_input_path(coach, folder_ok=True, what="coach checkpoint")
        check_output_dir(out.parent, what=f"the folder of {out.name}", create=True)
        check_replaceable_dir(out, overwrite, legacy=is_checkpoint_folder)
        if ship is not None:
            check_no_overlap(out, ship)
            check_output_dir(ship.parent, what=f"the folder of {ship.name}", create=True)
            check_replaceable_dir(ship, overwrite, legacy=is_checkpoint_folder)
        if data is None:
            check_output_dir(work, what="the --work folder", create=True)
        check_llm_available(llm)
    except (OSError, ValueError) as err:
        fail(error_message(err))
    from ..training.coach_qa import QATrainConfig, export_qa, train_qa

    torch.set_num_threads(threads)
    log = (lambda *_: None) if json_out else console.print
    t0 = time.perf_counter()
    with output_lock(out):
        try:
            path = data or qa_dataset(work, n, data_seed, workers=workers)
            clips = qa_clips(path, coach, workers=workers, progress=not json_out)
        except (OSError, ValueError, KeyError) as err:
            fail(error_message(err))
        splits = {k: v[:limit] if limit else v for k, v in split_clips(clips).items()}
        train, val = splits["train"], splits["val"]
        if not train:
            fail(f"{path}: no clips in the train split")
        log(f"{len(train)} training clips, {len(val)} validation clips ({len(splits['test'])} test clips left out)")
        config = QATrainConfig(
            out=str(out), steps=steps, batch_size=batch_size, lr=lr, lora_r=lora_r, lora_alpha=2 * lora_r, llm=llm,
            seed=seed, table_share=table_share, bridge={"d_model": bridge_d_model, "n_layers": bridge_layers},
            coach_checkpoint=str(coach), data=[str(path)],
            data_sha256={"dataset": file_sha256(path), "train_clips": clips_sha256(train),
                         "val_clips": clips_sha256(val)},
            command="musclepose " + " ".join(shlex.quote(a) for a in sys.argv[1:]), overwrite=overwrite,
        )  # fmt: skip
        evaluate = _val_metrics(val, val_per_kind, seed) if val and val_per_kind else None
        try:
            train_qa(config, train, log=log, evaluate=evaluate, progress=not json_out)
            shipped = export_qa(out, ship, overwrite=overwrite) if ship is not None else None
        except (OSError, ValueError, KeyError) as err:
            fail(error_message(err))
    from ..pipelines.checkpoint import read_config

    extra = read_config(out)["extra"]
    summary = {"checkpoint": str(out), "shipped": str(shipped) if shipped else None, "steps": steps,
               "pairs": extra.get("n_pairs"), "clips": {k: len(v) for k, v in splits.items()},
               "last_loss": extra["history"][-1]["loss"], "metrics": extra.get("metrics"),
               "data_sha256": config.data_sha256, "seconds": round(time.perf_counter() - t0, 1)}  # fmt: skip
    if json_out:
        print_json(summary)
        return
    for a, acc in (summary["metrics"] or {}).get("accuracy", {}).items():
        log(f"validation accuracy {a}: {acc:.3f}")
    log(f"trained {steps} steps in {summary['seconds']:.0f} s; checkpoint: {out}" + (f", shipped: {shipped}"
                                                                                       if shipped else ""))  # fmt: skip
