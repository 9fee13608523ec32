"""``musclepose coach``: physics, form screen and LLM coaching for a recording or a clip JSON.

Parses, loads the coach (:class:`musclepose.pipelines.CoachModel`, the shipped checkpoint unless
``--checkpoint``), calls :meth:`~musclepose.pipelines.CoachModel.coach_file`, prints the analysis,
the form screen and the coaching text, and writes the HTML report (``--report``).
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import typer
from rich.panel import Panel
from rich.table import Table

from ..catalogue import EXERCISES
from ..io.errors import FormatError
from ..pipelines.coach import CoachModel, CoachResult, default_checkpoint
from ..report.html import write_coach_report
from ._common import console, fail, print_json
from .analyze import _message, spinner
from .render import analysis_tables


def load_coach_model(checkpoint: Path | None, llm: str | None, say=lambda s: None) -> CoachModel:
    folder = checkpoint or default_checkpoint()
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(
            f"{folder}: no coach checkpoint (train one with `musclepose train coach`, or pass --checkpoint)"
        )
    say("loading the coach (encoder, PhysicsBridge, LLM + LoRA)")
    return CoachModel.load(folder, llm=llm)


def print_coaching(result: CoachResult, title: str) -> None:
    """The analysis tables, the form screen and the coaching text on the console."""
    for table in analysis_tables(result.clip.analysis, title=title):
        console.print(table)
    t = Table(title="Form screen")
    for col in ("fault", "side", "probability", "severity"):
        t.add_column(col, justify="left" if col == "fault" else "right")
    for f in result.faults:
        t.add_row(f.name.replace("_", " "), {"r": "right", "l": "left"}.get(f.side or "", "-"),
                  f"{f.probability:.2f}", f"{f.severity:.2f}")  # fmt: skip
    if not result.faults:
        t.add_row("none detected", "-", "-", "-")
    console.print(t)
    console.print(Panel(result.text, title="Coach (LLM)", border_style="green"))


def write_report(result: CoachResult, path: Path, title: str, extra: dict[str, str] | None = None) -> Path:
    """The HTML report of a coached clip."""
    return write_coach_report(
        path, result.clip, title=title, coaching=result.text, summary_lines=result.summary.lines(),
        reference_coaching=result.reference_text, extra=extra,
    )  # fmt: skip


def coach(
    path: Path = typer.Argument(..., help="Recording (.trc .mot .sto .c3d .bvh keypoint .json .txt) or a clip .json."),
    exercise: str | None = typer.Option(None, "--exercise", "-e", help="squat, lunge, ... (default: recognised)."),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", help="Coach checkpoint folder (default: shipped)."),
    llm: str | None = typer.Option(None, "--llm", help="Override the checkpoint's LLM (name or local folder)."),
    report: Path | None = typer.Option(None, "--report", help="Write the HTML report here."),
    mass: float = typer.Option(70.0, "--mass", help="Body mass in kg."),
    sex: str = typer.Option("male", "--sex", help="male or female."),
    model: Path | None = typer.Option(None, "--model", help="OpenSim .osim (default: the one beside the file)."),
    static: Path | None = typer.Option(None, "--static", help="Static trial .trc (default: static*.trc beside it)."),
    soft_tokens: bool = typer.Option(True, "--soft-tokens/--no-soft-tokens", help="Feed the PhysicsBridge tokens."),
    temperature: float = typer.Option(0.0, "--temperature", help="Sampling temperature (0: greedy)."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Coach a recording: analysis, physics, form faults and LLM feedback grounded in the numbers.

    Example: musclepose coach squat.trc --exercise squat --report report.html
    """
    if exercise is not None and exercise not in EXERCISES:
        fail(f"--exercise {exercise!r}: the coach knows {', '.join(sorted(EXERCISES))}")
    t0 = time.perf_counter()
    try:
        with spinner(f"Coaching {path.name}") as say:
            if not path.exists():
                raise FileNotFoundError(f"{path}: no such file")
            cm = load_coach_model(checkpoint, llm, say)
            result = cm.coach_file(path, exercise, osim=model, static=static, mass_kg=mass, sex=sex,
                                   soft_tokens=soft_tokens, temperature=temperature, progress=say)  # fmt: skip
    except (FormatError, ValueError, KeyError, FileNotFoundError) as err:
        fail(_message(err, path))
    seconds = time.perf_counter() - t0
    if report is not None:
        run_info = {"seconds": f"{seconds:.1f}", "checkpoint": str(checkpoint or "shipped")}
        write_report(result, report, f"{result.summary.exercise}: {path.name}", run_info)
    if json_out:
        print_json(as_json(result, path, seconds, report))
        return
    print_coaching(result, f"{path.name}")
    if report is not None:
        console.print(f"wrote {report}")


def as_json(result: CoachResult, path: Path, seconds: float, report: Path | None) -> dict[str, Any]:
    """The ``--json`` output of a coached clip."""
    return {
        "file": str(path),
        "exercise": result.summary.exercise,
        "coaching": result.text,
        "rule_based_coaching": result.reference_text,
        "faults": [asdict(f) for f in result.faults],
        "prompt_facts": result.summary.lines(),
        "analysis": result.clip.analysis.to_dict(),
        "timings_s": result.timings_s | {"total": seconds},
        "report": str(report) if report else None,
    }
