"""``musclepose evaluate coach``: the coach on a held-out synthetic split -> a Markdown report (``docs/``)."""

from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import typer

from ..atomic import atomic_write, check_output_file
from ..evaluation.coach import evaluate_encoder, evaluate_text
from ..io.errors import check_input_path
from ..pipelines.coach_examples import dataset_splits, load_examples
from ..progress import progress_bar
from ._common import check_int_range, console, error_message, fail
from .coach import load_coach_model
from .form import evaluate_form_cmd
from .motion import evaluate_rollout_cmd

evaluate_app = typer.Typer(help="Evaluate MusclePose models.", no_args_is_help=True)
evaluate_app.command("rollout")(evaluate_rollout_cmd)
evaluate_app.command("form")(evaluate_form_cmd)


def check_split(value: str) -> str:
    """``--split``: one of the dataset's splits."""
    if value not in ("train", "val", "test"):
        raise typer.BadParameter(f"{value!r} is not a split: train, val or test", param_hint="--split")
    return value


@evaluate_app.command("coach")
def evaluate_coach_cmd(
    data: list[Path] = typer.Option(..., "--data", "-d", help="HDF5 dataset(s); their test split is used (repeat)."),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", help="Coach checkpoint (default: shipped)."),
    split: str = typer.Option("test", "--split", callback=check_split, help="Split to evaluate: train, val, test."),
    n_text: int = typer.Option(
        80, "--n-text", callback=check_int_range("--n-text"), help="Clips whose coaching is generated (3 coaches each)."
    ),
    out: Path = typer.Option(Path("docs/evaluation_coach.md"), "--out", "-o", help="Markdown report (+ .json)."),
    workers: int | None = typer.Option(
        None, "--workers", callback=check_int_range("--workers"), help="Processes preparing clips."
    ),
) -> None:
    """Fault recall/precision and grounding of the coaching text, encoder accuracy, torque residual.

    Example: musclepose evaluate coach --data data.h5 --out docs/evaluation_coach.md
    """
    try:
        for p in data:
            dataset_splits(check_input_path(p, what="dataset"))  # before the model loads (seconds)
        check_output_file(out, may_create_parent=True)
        model = load_coach_model(checkpoint, None)
    except (OSError, ValueError, KeyError) as err:
        fail(error_message(err))
    examples = load_examples(data, (split,), workers=workers)
    if not examples:
        fail(f"no clips in the {split!r} split of {', '.join(map(str, data))}")
    t0 = time.perf_counter()
    with progress_bar("encoder", len(examples)) as advance:
        enc = evaluate_encoder(model, examples, advance)
    # An even spread over the exercises for the (slow) text generation.
    text_set = sorted(examples, key=lambda e: (e.index % 997, e.exercise))[:n_text]
    with progress_bar("coaching text", len(text_set)) as advance:
        txt = evaluate_text(model, text_set, progress=advance)
    result = {
        "command": "musclepose " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "data": [str(p) for p in data],
        "checkpoint": str(checkpoint or "shipped"),
        "split": split,
        "seconds": time.perf_counter() - t0,
        "encoder": enc,
        "text": txt,
        "training": model.extra.get("train_config", {}),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    for target, text in (
        (out.with_suffix(".json"), json.dumps(result, indent=2) + "\n"),
        (out, render_markdown(result)),
    ):
        with atomic_write(target) as fh:
            fh.write(text)
    c = txt["coaches"]["llm"]
    console.print(
        f"fault recall {c['recall']:.2f}, precision {c['precision']:.2f}, ungrounded numbers "
        f"{100 * c['ungrounded_fraction']:.1f} % (LLM coach, {txt['n_clips']} clips); joint angles "
        f"{enc['joint_angle_error_deg']:.1f} deg, MPJPE {enc['mpjpe_mm']:.0f} mm; wrote {out}"
    )


def render_markdown(r: dict[str, Any]) -> str:
    enc, txt = r["encoder"], r["text"]
    lines = [
        "# Coach evaluation",
        "",
        f"Command: `{r['command']}` ({r['seconds']:.0f} s). Checkpoint: `{r['checkpoint']}`; clips: the "
        f"`{r['split']}` split of {', '.join(f'`{d}`' for d in r['data'])} (its subjects are in no training clip).",
        "",
        "## Coaching text",
        "",
        f"{txt['n_clips']} clips. Fault recall and precision: the faults a text names against the clip's true "
        "faults (micro-averaged). Ungrounded: numbers in the text that the physics summary given to the coach "
        "does not contain. Misstated: grounded facts put wrongly, of those the summary decides (each named "
        "fault's strength word against the screen's severity; the joint that 'carried the most' and its moment).",
        "",
        "| coach | fault recall | fault precision | numbers stated | ungrounded | facts checked | misstated |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    labels = {
        "llm": "LLM + PhysicsBridge soft tokens",
        "llm_no_soft_tokens": "LLM without soft tokens (ablation at test time)",
        "rule_based": "rule-based coach on the form screen's detections",
    }
    for k, c in txt["coaches"].items():
        lines.append(f"| {labels[k]} | {c['recall']:.2f} | {c['precision']:.2f} | {c['numbers_stated']} | "
                     f"{100 * c['ungrounded_fraction']:.1f} % | {c['facts_checked']} | "
                     f"{100 * c['misstated_fraction']:.1f} % |")  # fmt: skip
    f = enc["faults"]
    m = enc.get("faults_measured") or {"recall": float("nan"), "precision": float("nan")}
    lines += [
        "",
        "## Encoder",
        "",
        f"{enc['n_clips']} clips.",
        "",
        "| metric | value |",
        "|---|---:|",
        f"| joint-angle error (41 rotational DoF, mean absolute) | {enc['joint_angle_error_deg']:.2f} deg |",
        f"| MPJPE (COCO-17 landmarks) | {enc['mpjpe_mm']:.1f} mm |",
        f"| torque residual mean abs(tau_q - tau_mtg) | {enc['torque_residual_nm_per_kg']:.3f} N·m/kg |",
        f"| exercise accuracy | {enc['exercise_accuracy']:.3f} |",
        *(
            [
                f"| vertical GRF per foot, RMSE: GRF model + the encoder's residuals / seed model alone | "
                f"{enc['grf_rmse_bw']:.3f} / {enc['grf_rmse_bw_seed_model']:.3f} BW |"
            ]
            if enc.get("grf_rmse_bw") is not None
            else []
        ),  # fmt: skip
        f"| encoder fault heads: recall / precision | {f['recall']:.2f} / {f['precision']:.2f} |",
        f"| measured form screen (the coach's): recall / precision | {m['recall']:.2f} / {m['precision']:.2f} |",
        "",
        "The measured form screen per fault:",
        "",
        "| fault | recall | precision | true | detected |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, p in enc["per_fault"].items():
        lines.append(
            f"| {name} | {p['recall']:.2f} | {p['precision']:.2f} | {p['tp'] + p['fn']} | {p['tp'] + p['fp']} |"
        )
    lines += ["", "## Samples", ""]
    for s in txt["samples"]:
        lines += [
            f"**{s['exercise']}**, true faults: {', '.join(s['true_faults']) or 'none'}; detected: "
            f"{', '.join(s['detected']) or 'none'}",
            "",
            "Facts given to the coach:",
            "",
            *[f"    {ln}" for ln in s["prompt_facts"]],
            "",
            f"- LLM: {s['llm']}",
            f"- LLM without soft tokens: {s['llm_no_soft_tokens']}",
            f"- rule-based: {s['rule_based']}",
            "",
        ]
    return "\n".join(lines) + "\n"
