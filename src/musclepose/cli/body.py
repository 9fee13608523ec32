"""``musclepose body ...``: the body model (MJCF export, segment table)."""

from __future__ import annotations

from pathlib import Path

import typer

from ..atomic import atomic_write, check_output_file
from ..body import Body
from ._common import check_height, check_mass, check_sex, console, echo, error_message, fail, print_json
from .render import segment_table

body_app = typer.Typer(help="The body model: export it, inspect it.", no_args_is_help=True)


def _body(height: float, mass: float, sex: str) -> Body:
    try:
        return Body.standard(height, mass, sex)
    except ValueError as err:
        fail(str(err))


@body_app.command("export-mjcf")
def export_mjcf(
    output: Path = typer.Option(..., "-o", "--output", help="MJCF file to write (e.g. body.xml)."),
    height: float = typer.Option(1.75, callback=check_height, help="Stature in metres."),
    mass: float = typer.Option(70.0, callback=check_mass, help="Body mass in kg."),
    sex: str = typer.Option("male", callback=check_sex, help="male or female (selects the Dumas 2007 table)."),
) -> None:
    """Write the body as MuJoCo MJCF; qpos equals MusclePose q.

    Example: musclepose body export-mjcf --height 1.75 --mass 70 --sex male -o body.xml
    """
    try:
        check_output_file(output)
    except OSError as err:
        fail(error_message(err))
    xml = _body(height, mass, sex).to_mjcf()
    with atomic_write(output) as f:
        f.write(xml)
    echo(f"wrote {output} (47 DoF, {mass:g} kg, {height:g} m, {sex})")


@body_app.command("table")
def table(
    height: float = typer.Option(1.75, callback=check_height, help="Stature in metres."),
    mass: float = typer.Option(70.0, callback=check_mass, help="Body mass in kg."),
    sex: str = typer.Option("male", callback=check_sex, help="male or female."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Print the segment table (mass, length, centre of mass) of a standard body."""
    b = _body(height, mass, sex)
    if json_out:
        print_json({"body": {"height_m": height, "mass_kg": mass, "sex": sex}, "segments": b.segment_table()})
    else:
        console.print(segment_table(b))
