"""``musclepose coach``: physics, form screen and LLM coaching for a recording or a clip JSON.

Loads the file as ``musclepose analyze`` does (any format; a clip JSON is coached from its
seven channels alone), runs the trained coach (:class:`musclepose.training.coach_model.CoachModel`,
the shipped checkpoint unless ``--checkpoint``), prints the analysis, the detected faults and the
coaching text, and writes an HTML report with plots (``--report``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import typer

from ._common import console, fail, print_json


def load_coach_model(checkpoint: Path | None, llm: str | None, say=lambda s: None):
    from ..training.coach_model import CoachModel, default_checkpoint

    folder = checkpoint or default_checkpoint()
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(
            f"{folder}: no coach checkpoint (train one with `musclepose train coach`, or pass --checkpoint)"
        )
    say("loading the coach (encoder, PhysicsBridge, LLM + LoRA)")
    return CoachModel.load(folder, llm=llm)


def print_coaching(result: Any, title: str) -> None:
    """The analysis tables, the form screen and the coaching text on the console."""
    from rich.panel import Panel
    from rich.table import Table

    from .render import analysis_tables

    for table in analysis_tables(result.analysis, title=title):
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


def write_report(
    result: Any, path: Path, title: str, motion: Any = None, extra: dict[str, str] | None = None, channels=None
) -> Path:
    from ..report.html import write_coach_report

    side = {"r": " (right)", "l": " (left)"}
    faults = [
        {"name": f"{f.name.replace('_', ' ')}{side.get(f.side or '', '')}, severity {f.severity:.2f}"
                 + (f" ({f.what})" if f.what else ""),
         "probability": f.probability, "measured": f.value, "unit": f.unit}
        for f in result.faults
    ]  # fmt: skip
    return write_coach_report(
        path, title=title, analysis=result.analysis, coaching=result.text, summary_lines=result.summary.lines(),
        faults=faults, reference_coaching=result.reference_text, motion=motion, kinetics=result.kinetics, extra=extra,
        channels=channels,
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
    from ..io.errors import FormatError
    from ..sim.exercises import EXERCISES
    from .analyze import _kinetics, _message, is_clip_json, spinner

    if exercise is not None and exercise not in EXERCISES:
        fail(f"--exercise {exercise!r}: the coach knows {', '.join(sorted(EXERCISES))}")
    t0 = time.perf_counter()
    motion = clip_channels = None
    try:
        with spinner(f"Coaching {path.name}") as say:
            if not path.exists():
                raise FileNotFoundError(f"{path}: no such file")
            cm = load_coach_model(checkpoint, llm, say)
            if is_clip_json(path):
                from ..body import Body
                from ..io.clip import CLIP_CHANNELS, read_clip

                clip = read_clip(path)  # its LANGUAGE field, if any, is never read by the coach
                ex = exercise or (clip.exercise if clip.exercise in EXERCISES else None)
                channels = np.stack([clip.channels[c] for c in CLIP_CHANNELS], 1)
                clip_channels = clip.channels
                say("encoder, physics and coach")
                result = cm.coach(channels, ex, fps=clip.fps, body=Body.standard(1.75, mass, sex),
                                  soft_tokens=soft_tokens, temperature=temperature)  # fmt: skip
            else:
                from ..io.load import load_motion

                motion = load_motion(path, model=model, static=static, mass_kg=mass, sex=sex, progress=say)
                say("inverse dynamics, ground reactions and muscles")
                kin = _kinetics(motion, path, None)
                say("encoder, physics and coach")
                result = cm.coach(motion, exercise, kinetics=kin, soft_tokens=soft_tokens, temperature=temperature)
    except (FormatError, ValueError, KeyError, FileNotFoundError) as err:
        fail(_message(err, path))
    seconds = time.perf_counter() - t0
    if report is not None:
        run_info = {"seconds": f"{seconds:.1f}", "checkpoint": str(checkpoint or "shipped")}
        write_report(result, report, f"{result.summary.exercise}: {path.name}", motion, run_info, clip_channels)
    if json_out:
        print_json(_as_json(result, path, seconds, report))
        return
    print_coaching(result, f"{path.name}")
    if report is not None:
        console.print(f"wrote {report}")


def _as_json(result: Any, path: Path, seconds: float, report: Path | None) -> dict[str, Any]:
    from dataclasses import asdict

    return {
        "file": str(path),
        "exercise": result.summary.exercise,
        "coaching": result.text,
        "rule_based_coaching": result.reference_text,
        "faults": [asdict(f) for f in result.faults],
        "prompt_facts": result.summary.lines(),
        "analysis": result.analysis.to_dict(),
        "timings_s": result.timings_s | {"total": seconds},
        "report": str(report) if report else None,
    }
