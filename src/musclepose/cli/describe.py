"""``musclepose describe``: a recording in words, composed from its analysis (:mod:`musclepose.pipelines.describe`)."""

from __future__ import annotations

from pathlib import Path

import typer

from ..pipelines.describe import describe_file
from ._common import (
    check_exercise,
    check_fps,
    check_height,
    check_mass,
    check_sex,
    echo,
    error_message,
    fail,
    print_json,
)
from .analyze import MASS_HELP, check_inputs, spinner


def describe(
    path: Path = typer.Argument(..., help="Any recording `musclepose analyze` reads (.trc .mot .c3d .bvh .json, "
                                "keypoints, a video, ...)."),
    exercise: str | None = typer.Option(None, "--exercise", "-e", callback=check_exercise,
                                        help="Skip recognition: describe it as this exercise."),
    mass: float | None = typer.Option(None, "--mass", callback=check_mass, help=MASS_HELP),
    sex: str = typer.Option("male", "--sex", callback=check_sex, help="male or female (Dumas 2007 table)."),
    height: float = typer.Option(1.75, "--height", callback=check_height, help="Height in m (video, 2-D keypoints)."),
    fps: float | None = typer.Option(None, "--fps", callback=check_fps, help="Solve at this rate."),
    json_out: bool = typer.Option(False, "--json", help="Print the text and the facts it was composed from."),
) -> None:  # fmt: skip
    """Say in a sentence or two what a recording shows: the exercise, repetitions, tempo, depth, faults.

    Composed from the same analysis as `musclepose analyze` (no learned language model); a
    recording that is no exercise of the catalogue is said to be so, with why.

    Example: musclepose describe squats1.trc --json
    """
    check_inputs(path)
    try:
        with spinner(f"Describing {path.name}") as say:
            desc = describe_file(path, exercise, progress=say, mass_kg=mass, sex=sex, height_m=height, fps=fps)
    except (ValueError, KeyError, OSError, RecursionError) as err:
        fail(error_message(err, path))
    if json_out:
        print_json(desc.to_dict())
        return
    echo(desc.text)
