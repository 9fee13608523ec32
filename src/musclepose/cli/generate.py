"""``musclepose generate``: a motion from a sentence, by the synthetic engine (:mod:`musclepose.pipelines.generate`)."""

from __future__ import annotations

from pathlib import Path

import typer

from ..atomic import output_lock
from ..pipelines.generate import OUTPUTS, RequestError, generate_motion, understood, write_generated
from ._common import (
    check_height,
    check_mass,
    check_out_file,
    check_sex,
    echo,
    err_console,
    error_message,
    fail,
    print_json,
    warn,
)
from .analyze import spinner


def generate(
    text: str = typer.Argument(..., help='The request, e.g. "five slow squats, knees caving on the way up".'),
    out: Path = typer.Option(..., "--out", "-o", help="Output: .bvh, .mot/.sto (OpenSim) or .json (clip)."),
    height: float = typer.Option(1.75, "--height", callback=check_height, help="Stature in metres."),
    mass: float = typer.Option(70.0, "--mass", callback=check_mass, help="Body mass in kg."),
    sex: str = typer.Option("male", "--sex", callback=check_sex, help="male or female (Dumas 2007 table)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the engine's noise: same seed, same motion."),
    json_out: bool = typer.Option(False, "--json", help="Print the parsed request, the settings and the output."),
) -> None:
    """Make the motion a sentence asks for with the synthetic engine (no learned model) and write it.

    It reads the exercise, repetitions (digits or words), slow/fast, depth ('to 90 degrees', deep),
    faults with their side ('left knee caving', 'hips sagging'), a load and a duration. The file
    goes through `musclepose analyze` like any recording.

    Example: musclepose generate "five slow bodyweight squats" -o out.mot && musclepose analyze out.mot
    """
    check_out_file(out, OUTPUTS)
    try:
        with output_lock(out), spinner("Generating") as say:
            say("reading the request")
            result = generate_motion(text, height_m=height, mass_kg=mass, sex=sex, seed=seed)
            say(f"writing {out.name}")
            written = write_generated(out, result)
    except RequestError as err:
        err_console.print(f"it understands {understood()}", highlight=False, markup=False, soft_wrap=True)
        fail(getattr(err, "reason", str(err)))
    except (ValueError, KeyError, OSError) as err:
        fail(error_message(err))
    info = result.to_dict() | {"output": str(out), "written": written}
    if json_out:
        print_json(info)
        return
    for note in result.notes:
        warn(note)
    faults = ", ".join(f"{k} ({v['side']}, severity {v['severity']:g})" for k, v in info["faults"].items()) or "none"
    echo(
        f"wrote {out}: {info['reps']} {info['exercise']} repetitions, {info['duration_s']:.1f} s at "
        f"{info['fps']:g} Hz, faults {faults}; generated in {info['seconds']:.1f} s"
    )
