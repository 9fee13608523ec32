"""``musclepose analyze``: repetitions, depth, tempo, phases, wave features, grade and kinetics of a recording.

Parses, calls :func:`musclepose.pipelines.analysis.analyze_file` (a spinner on stderr, so that
``--json`` output on stdout stays clean) and prints its :class:`~musclepose.pipelines.ClipResult`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from ..io.errors import FormatError
from ..pipelines.analysis import analyze_file
from ..pipelines.results import ClipResult
from ..report import plot_cycle_curves
from ..signals.rep_kinetics import cycle_curves
from ..signals.waves import jsonable
from ._common import console, err_console, fail, print_json
from .render import analysis_tables


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
        meta["body"] = {"height_m": body.height_m, "mass_kg": body.mass_kg, "sex": body.sex}
        meta["loader"] = result.loader
    return meta


def analyze(
    path: Path = typer.Argument(..., help="Recording: .trc .mot .sto .c3d .bvh .json (keypoints or clip) .txt"),
    exercise: str | None = typer.Option(None, "--exercise", "-e", help="squat, overhead_press, ... (default: auto)."),
    model: Path | None = typer.Option(None, "--model", help="OpenSim .osim (default: the one beside the file)."),
    static: Path | None = typer.Option(None, "--static", help="Static trial .trc (default: static*.trc beside it)."),
    mass: float = typer.Option(70.0, "--mass", help="Body mass in kg."),
    sex: str = typer.Option("male", "--sex", help="male or female (Dumas 2007 table)."),
    fps: float | None = typer.Option(None, "--fps", help="Solve at this rate (keypoints: their rate)."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON (Analysis.to_dict() plus file metadata)."),
    kinetics: bool = typer.Option(
        True, "--kinetics/--no-kinetics", help="Joint moments, GRF and muscle activations per repetition."
    ),
    loads: Path | None = typer.Option(
        None, "--loads", help="Force plates: OpenSim ExternalLoads .xml or a .c3d (default: the .c3d's own plates)."
    ),
    plot: Path | None = typer.Option(None, "--plot", help="Write moments/GRF/activation PNGs into this folder."),
) -> None:
    """Count repetitions and measure depth, tempo, phases, wave features, quality and kinetics.

    Without force plates the ground reactions are estimated from the motion (feet in contact
    share what the body needs). Example: musclepose analyze squats1.trc --exercise squat --plot figs/
    """
    if not (math.isfinite(mass) and mass > 0):
        fail(f"--mass must be a positive number of kg, not {mass:g}")
    t0 = time.perf_counter()
    try:
        with spinner(f"Loading {path.name}", quiet=False) as say:
            result = analyze_file(path, exercise, osim=model, static=static, mass_kg=mass, sex=sex, fps=fps,
                                  kinetics=kinetics or plot is not None, loads=loads, progress=say)  # fmt: skip
    except (FormatError, ValueError, KeyError, FileNotFoundError) as err:
        fail(_message(err, path))
    meta = input_info(result)
    meta["seconds"] = time.perf_counter() - t0
    if plot is not None:
        if result.kind != "motion":
            fail(f"{path}: --plot needs a recording on the body (a clip JSON has no kinetics)")
        curves = cycle_curves(result.kinetics, result.analysis)
        meta["plots"] = [str(p) for p in plot_cycle_curves(curves, plot, title=path.name)]
    if json_out:
        print_json({"file": str(path), "input": jsonable(meta), "analysis": result.analysis.to_dict()})
        return
    for table in analysis_tables(result.analysis, title=f"{path.name} ({meta['kind']}, {meta['frames']} frames)"):
        console.print(table)
    for p in meta.get("plots", []):
        console.print(f"wrote {p}")


def _message(err: BaseException, path: Path) -> str:
    """One line naming the file (KeyError's repr quotes are dropped)."""
    msg = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
    msg = str(msg)
    return msg if path.name in msg else f"{path}: {msg}"
