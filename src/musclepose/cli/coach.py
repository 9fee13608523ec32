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
from rich.text import Text

from ..atomic import check_output_file, output_lock
from ..io.errors import check_input_path
from ..language.answers import UserContext
from ..language.backend import check_llm_available
from ..pipelines.ask import Asker, rep_states_of, report_chat
from ..pipelines.coach import CoachModel, CoachResult, default_checkpoint
from ..report.html import write_coach_report
from ._common import (
    check_exercise,
    check_height,
    check_mass,
    check_sex,
    check_temperature,
    console,
    echo,
    error_message,
    fail,
    print_json,
    warn,
)
from .analyze import MASS_HELP, check_inputs, notes, spinner
from .ask import (
    DEFAULT_ANSWERER,
    check_answerer,
    check_level,
    check_qa_checkpoint,
    check_questions,
    events_table,
    print_answers,
)
from .render import analysis_tables


def check_checkpoint(checkpoint: Path | None) -> Path:
    """The coach checkpoint folder (default: shipped), refused unless it is one (before anything loads)."""
    folder = checkpoint or default_checkpoint()
    check_input_path(folder, folder_ok=True, what="checkpoint folder")
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(
            f"{folder}: no coach checkpoint (train one with `musclepose train coach`, or pass --checkpoint)"
        )
    return folder


def load_coach_model(checkpoint: Path | None, llm: str | None, say=lambda s: None) -> CoachModel:
    folder = check_checkpoint(checkpoint)
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
    if result.events is not None and result.events.reps:
        console.print(events_table(result.events))
    title = "Coach (rule-based: the LLM's text was not grounded)" if result.fallback else "Coach (LLM)"
    console.print(Panel(Text(result.text), title=title, border_style="yellow" if result.fallback else "green"))


def write_report(
    result: CoachResult, path: Path, title: str, extra: dict[str, str] | None = None, asked: list | None = None
) -> Path:
    """The HTML report of a coached clip, with its per-repetition table and the "Ask the coach" panel
    (rule-based answers to the suggested questions, and ``asked``: the questions of ``--ask``)."""
    events = result.events
    chat = report_chat(Asker(), events, asked) if events is not None else None
    return write_coach_report(
        path, result.clip, title=title, coaching=result.text, summary_lines=result.summary.lines(),
        reference_coaching=result.reference_text, extra=extra,
        events=None if events is None else events.to_dict(), chat=chat, chat_answerer="rule-based",
    )  # fmt: skip


def coach(
    path: Path = typer.Argument(
        ..., help="Recording (.trc .mot .sto .c3d .bvh keypoint .json .txt), a video or image folder, or a clip .json."
    ),
    exercise: str | None = typer.Option(
        None, "--exercise", "-e", callback=check_exercise, help="squat, lunge, ... (default: recognised)."
    ),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", help="Coach checkpoint folder (default: shipped)."),
    llm: str | None = typer.Option(None, "--llm", help="Override the checkpoint's LLM (name or local folder)."),
    report: Path | None = typer.Option(None, "--report", help="Write the HTML report here."),
    mass: float | None = typer.Option(None, "--mass", callback=check_mass, help=MASS_HELP),
    sex: str = typer.Option("male", "--sex", callback=check_sex, help="male or female."),
    model: Path | None = typer.Option(None, "--model", help="OpenSim .osim (default: the one beside the file)."),
    static: Path | None = typer.Option(None, "--static", help="Static trial .trc (default: static*.trc beside it)."),
    loads: Path | None = typer.Option(
        None, "--loads", help="Force plates: OpenSim ExternalLoads .xml or a .c3d (default: estimated from the motion)."
    ),
    loads_data: Path | None = typer.Option(
        None, "--loads-data", help="Data file of the --loads .xml (default: its <datafile>, or that name beside it)."
    ),
    soft_tokens: bool = typer.Option(True, "--soft-tokens/--no-soft-tokens", help="Feed the PhysicsBridge tokens."),
    temperature: float = typer.Option(
        0.0, "--temperature", callback=check_temperature, help="Sampling temperature, 0-5 (0: greedy)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    height: float = typer.Option(
        1.75, "--height", callback=check_height, help="Body height in m (video: bone lengths)."
    ),
    imu_layout: str = typer.Option(
        "auto", "--imu-layout", help="IMU recording (.csv, acc.pt/ori.pt folder): six, phone-watch or auto."
    ),
    ask: list[str] | None = typer.Option(
        None, "--ask", callback=check_questions,
        help='A question about the set, answered on stdout (repeatable), e.g. "Which repetition was deepest?".',
    ),
    compare: Path | None = typer.Option(
        None, "--compare", help="A previous recording of the same exercise, for questions that compare."
    ),
    goal: str | None = typer.Option(
        None, "--goal", help='Your goal, e.g. "rehab after ACL reconstruction": changes the advice, not the facts.'
    ),
    level: str | None = typer.Option(None, "--level", callback=check_level, help="beginner, intermediate or advanced."),
    answerer: str = typer.Option(
        DEFAULT_ANSWERER, "--answerer", callback=check_answerer,
        help="Who answers --ask: rule (default; the LLM ones need a QA checkpoint), llm-table, llm-tokens, llm-zeroed.",
    ),
) -> None:  # fmt: skip
    """Coach a recording: analysis, physics, form faults and LLM feedback grounded in the numbers.

    Example: musclepose coach squat.trc --exercise squat --report report.html

    Questions: musclepose coach squat.trc --ask "Which repetition was deepest?" --level beginner
    """
    # Everything the user gave is checked before the LLM loads (tens of seconds).
    check_inputs(path, model=model, static=static, loads=loads, loads_data=loads_data, compare=compare)
    if ask:
        run_questions(path, ask, exercise=exercise, checkpoint=checkpoint, llm=llm, report=report, mass=mass, sex=sex,
                      model=model, static=static, loads=loads, loads_data=loads_data, json_out=json_out, height=height,
                      imu_layout=imu_layout, compare=compare, goal=goal, level=level, answerer=answerer)  # fmt: skip
        return
    unused = [name for name, v in (("--compare", compare), ("--goal", goal), ("--level", level)) if v is not None]
    if unused:
        warn(f"{', '.join(unused)}: used only with --ask (answers to questions); ignored here")
    try:
        if report is not None:
            check_output_file(report)
        check_checkpoint(checkpoint)
        if llm is not None:
            check_llm_available(llm)
    except OSError as err:
        fail(error_message(err))
    t0 = time.perf_counter()
    try:
        with spinner(f"Coaching {path.name}") as say:
            cm = load_coach_model(checkpoint, llm, say)
            result = cm.coach_file(path, exercise, osim=model, static=static, mass_kg=mass, sex=sex,
                                   soft_tokens=soft_tokens, temperature=temperature, progress=say,
                                   height_m=height, loads=loads, loads_data=loads_data,
                                   imu_layout=imu_layout)  # fmt: skip
    except (ValueError, KeyError, OSError, RecursionError) as err:
        fail(error_message(err, path))
    seconds = time.perf_counter() - t0
    for note in notes(result.clip):
        warn(note)
    if result.fallback:
        warn(result.fallback)
    if report is not None:
        if result.clip.video is not None:  # the frames the report draws the skeleton on
            result.clip.video.pick_key_frames(result.clip.analysis.to_dict(), result.faults)
        run_info = {"seconds": f"{seconds:.1f}", "checkpoint": str(checkpoint or "shipped")}
        if result.fallback:
            run_info["coaching text"] = result.fallback
        with output_lock(report):
            write_report(result, report, f"{result.summary.exercise}: {path.name}", run_info)
    if json_out:
        print_json(as_json(result, path, seconds, report))
        return
    print_coaching(result, f"{path.name}")
    if report is not None:
        echo(f"wrote {report}")


def as_json(result: CoachResult, path: Path, seconds: float, report: Path | None) -> dict[str, Any]:
    """The ``--json`` output of a coached clip."""
    return {
        "file": str(path),
        "exercise": result.summary.exercise,
        "coaching": result.text,
        "coaching_source": "rule_based_fallback" if result.fallback else "llm",
        "fallback": result.fallback,  # why the LLM's text was replaced (None: it is shown)
        "llm_text": result.llm_text,
        "rule_based_coaching": result.reference_text,
        "faults": [asdict(f) for f in result.faults],
        "prompt_facts": result.summary.lines(),
        "analysis": result.clip.analysis.to_dict(),
        "events": None if result.events is None else result.events.to_dict(),  # per repetition and side
        "timings_s": result.timings_s | {"total": seconds},
        "report": str(report) if report else None,
        # A video: what was read and fitted (frames with a person, flagged frames, floor, reprojection).
        "video": result.clip.loader if result.clip.video is not None else None,
    }


def run_questions(path: Path, questions: list[str], *, exercise, checkpoint, llm, report, mass, sex, model, static,
                  loads, loads_data, json_out, height, imu_layout, compare, goal, level, answerer) -> None:  # fmt: skip
    """``coach FILE --ask ...``: everything but the coaching text, then the answers (:mod:`.ask`)."""
    try:
        if report is not None:
            check_output_file(report)
        check_checkpoint(checkpoint)
        check_qa_checkpoint(answerer)
        if llm is not None:
            check_llm_available(llm)
    except OSError as err:
        fail(error_message(err))
    t0 = time.perf_counter()
    context = UserContext(goal, level) if goal or level else None
    kw = dict(osim=model, static=static, mass_kg=mass, sex=sex, height_m=height, loads=loads, loads_data=loads_data,
              imu_layout=imu_layout, text=False)  # fmt: skip
    try:
        with spinner(f"Reading {path.name}") as say:
            if answerer == "rule":  # no LLM needed: seconds, not the LLM's load time
                cm = CoachModel.load_physics(check_checkpoint(checkpoint))
            else:
                cm = load_coach_model(checkpoint, llm, say)
            result = cm.coach_file(path, exercise, progress=say, **kw)
            previous = None
            if compare is not None:
                say(f"reading {compare.name} to compare")
                previous = cm.coach_file(compare, result.summary.exercise, progress=say, **kw)
            asker = Asker(cm.llm)
            states = rep_states_of(cm.encoder, result, result.events) if answerer.startswith("llm-tokens") else None
            before = None if previous is None else previous.events
            answers = [asker.ask(q, result.events, rep_states=states, previous=before, context=context,
                                 answerer=answerer) for q in questions]  # fmt: skip
    except (ValueError, KeyError, OSError, RecursionError) as err:
        fail(error_message(err, path))
    seconds = time.perf_counter() - t0
    for note in notes(result.clip):
        warn(note)
    if report is not None:
        run_info = {"seconds": f"{seconds:.1f}", "checkpoint": str(checkpoint or "shipped")}
        with output_lock(report):
            write_report(result, report, f"{result.summary.exercise}: {path.name}", run_info, asked=answers)
    extra = {"file": str(path), "exercise": result.summary.exercise, "compared_with": str(compare) if compare else None,
             "context": {"goal": goal, "level": level}, "events": result.events.to_dict(),
             "timings_s": {"total": round(seconds, 3)}}  # fmt: skip
    doc = print_answers(answers, json_out, extra)
    if doc is not None:
        print_json(doc)
    elif report is not None:
        echo(f"wrote {report}")
