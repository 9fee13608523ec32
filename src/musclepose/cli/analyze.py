"""``musclepose analyze``: repetitions, depth, tempo, phases, wave features, grade and kinetics of a recording.

Parses, calls :func:`musclepose.pipelines.analysis.analyze_file` (a spinner on stderr, so that
``--json`` output on stdout stays clean) and prints its :class:`~musclepose.pipelines.ClipResult`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from ..atomic import check_output_dir, output_lock
from ..io.errors import check_input_path
from ..pipelines.analysis import analyze_file
from ..pipelines.form_analysis import add_form
from ..pipelines.results import ClipResult
from ..report import plot_cycle_curves
from ..signals.rep_kinetics import cycle_curves
from ..signals.waves import jsonable
from ._common import (
    check_exercise,
    check_fps,
    check_height,
    check_mass,
    check_sex,
    console,
    echo,
    err_console,
    error_message,
    fail,
    print_json,
    warn,
)
from .live import run_live
from .render import analysis_tables, form_tables, measures_table


@contextmanager
def spinner(what: str, quiet: bool = False) -> Iterator[Callable[[str], None]]:
    """A Rich spinner on stderr; yields ``say(stage)`` that updates its text (a loader's ``progress``)."""
    if quiet or not err_console.is_terminal:
        yield lambda stage: None
        return
    with err_console.status(f"{what}...") as status:
        yield lambda stage: status.update(f"{what}: {stage}...")


def input_info(result: ClipResult) -> dict[str, Any]:
    """The ``input`` object of ``--json``: kind, frames, fps, and for a motion its body and loader."""
    meta: dict[str, Any] = {"kind": result.kind, "frames": result.n_frames, "fps": result.fps}
    if result.motion is not None:
        body = result.motion.body
        meta["body"] = {"height_m": body.height_m, "mass_kg": body.mass_kg, "sex": body.sex,
                        "mass_source": result.motion.metadata.get("mass_source")}  # fmt: skip
        if result.motion.metadata.get("notes"):
            meta["notes"] = list(result.motion.metadata["notes"])
        meta["loader"] = result.loader
    return meta


MASS_HELP = "Body mass in kg, 20-300 (default: the recording's own, e.g. its OpenSim model's or C3D's, else 70)."


def analyze(
    path: Path = typer.Argument(
        None, help="Recording: .trc .mot .sto .c3d .bvh .json (keypoints or clip) .txt, a video or an image folder"
    ),
    exercise: str | None = typer.Option(
        None, "--exercise", "-e", callback=check_exercise, help="squat, overhead_press, ... (default: auto)."
    ),
    model: Path | None = typer.Option(None, "--model", help="OpenSim .osim (default: the one beside the file)."),
    static: Path | None = typer.Option(None, "--static", help="Static trial .trc (default: static*.trc beside it)."),
    mass: float | None = typer.Option(None, "--mass", callback=check_mass, help=MASS_HELP),
    sex: str = typer.Option("male", "--sex", callback=check_sex, help="male or female (Dumas 2007 table)."),
    fps: float | None = typer.Option(
        None, "--fps", callback=check_fps, help="Solve at this rate (keypoints: their rate)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print JSON (Analysis.to_dict() plus file metadata)."),
    kinetics: bool = typer.Option(
        True, "--kinetics/--no-kinetics", help="Joint moments, GRF and muscle activations per repetition."
    ),
    loads: Path | None = typer.Option(
        None, "--loads", help="Force plates: OpenSim ExternalLoads .xml or a .c3d (default: the .c3d's own plates)."
    ),
    loads_data: Path | None = typer.Option(
        None, "--loads-data", help="Data file of the --loads .xml (default: its <datafile>, or that name beside it)."
    ),
    plot: Path | None = typer.Option(None, "--plot", help="Write moments/GRF/activation PNGs into this folder."),
    height: float = typer.Option(
        1.75, "--height", callback=check_height, help="Body height in m (video and 2-D keypoints: bone lengths)."
    ),
    imu_layout: str = typer.Option(
        "auto", "--imu-layout", help="IMU recording (.csv, acc.pt/ori.pt folder): six, phone-watch or auto."
    ),
    camera: int | None = typer.Option(None, "--camera", help="Live: webcam N, feedback per repetition (Ctrl-C ends)."),
    seconds_limit: float | None = typer.Option(None, "--seconds", help="Live: stop after this many seconds."),
) -> None:
    """Count repetitions and measure depth, tempo, phases, wave features, quality and kinetics.

    Without force plates the ground reactions are estimated from the motion (feet in contact
    share what the body needs). Example: musclepose analyze squats1.trc --exercise squat --plot figs/
    """
    if camera is not None:
        run_live(camera, exercise, height, mass, sex, seconds_limit, json_out)
        return
    if path is None:
        fail("give a recording or video to analyse, or --camera N for a live webcam")
    check_inputs(path, model=model, static=static, loads=loads, loads_data=loads_data)
    if plot is not None:
        check_output_dir(plot, what="the --plot folder", may_create=True)
    t0 = time.perf_counter()
    try:
        with spinner(f"Loading {path.name}", quiet=False) as say:
            result = analyze_file(path, exercise, osim=model, static=static, mass_kg=mass, sex=sex, fps=fps,
                                  kinetics=kinetics or plot is not None, loads=loads, progress=say,
                                  height_m=height, loads_data=loads_data, imu_layout=imu_layout)  # fmt: skip
            say("recognising the exercise and screening each repetition")
            add_form(result, exercise, fps)
    except (ValueError, KeyError, OSError, RecursionError) as err:
        fail(error_message(err, path))
    meta = input_info(result)
    for note in notes(result):
        warn(note)
    meta["seconds"] = time.perf_counter() - t0
    if plot is not None:
        if result.kind != "motion":
            fail(f"{path}: --plot needs a recording on the body (a clip JSON has no kinetics)")
        curves = cycle_curves(result.kinetics, result.analysis)
        plot.mkdir(parents=True, exist_ok=True)
        with output_lock(plot):
            meta["plots"] = [str(p) for p in plot_cycle_curves(curves, plot, title=path.name)]
    if json_out:
        doc = result.analysis.to_dict()
        if result.measures is not None:
            doc["measures"] = result.measures
        if result.video is not None:  # how far each repetition's frames could be trusted
            for rep, quality in zip(doc.get("reps") or [], result.video.rep_quality(doc.get("reps") or []),
                                    strict=True):  # fmt: skip
                rep["video"] = quality
        if result.form is not None:  # the recognised exercise, each repetition's faults
            result.form.annotate(doc)
        print_json({"file": str(path), "input": jsonable(meta), "analysis": doc})
        return
    for table in analysis_tables(result.analysis, title=f"{path.name} ({meta['kind']}, {meta['frames']} frames)"):
        console.print(table)
    for table in measures_table(result.measures, result.analysis.exercise):
        console.print(table)
    for table in form_tables(result.form):
        console.print(table)
    for p in meta.get("plots", []):
        echo(f"wrote {p}")
    if result.video is not None:
        info = result.loader
        console.print(
            f"video: {info['frames_with_person']} of {info['video_frames']} frames with a person, "
            f"{info['flagged_frames']} flagged (low confidence), floor from {info['floor_from']}, "
            f"median reprojection {info['median_reprojection_px']} px"
        )


def check_inputs(path: Path, **optional: Path | None) -> None:
    """Refuse a missing or unreadable recording (a folder may hold video frames) or optional input file
    before any work; ``optional`` maps option names (``loads`` for ``--loads``) to paths."""
    try:
        check_input_path(path, folder_ok=True, what="recording")
        for option, p in optional.items():
            if p is not None:
                check_input_path(p, what=f"--{option.replace('_', '-')} file")
    except OSError as err:
        fail(error_message(err))


def notes(result: ClipResult) -> list[str]:
    """What the loader assumed that the user should know (e.g. a given mass against the recording's own)."""
    meta = result.motion.metadata if result.motion is not None else {}
    return [str(n) for n in meta.get("notes", [])]


def _message(err: BaseException, path: Path) -> str:
    """One line naming the file (:func:`._common.error_message`)."""
    return error_message(err, path)
