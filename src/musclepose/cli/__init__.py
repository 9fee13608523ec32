"""The ``musclepose`` command line: one Typer application, thin (parse, call, print).

Errors in user input (files, units, arguments) print one line naming the file, field and
frame and exit with code 2; every file is written atomically; ``--json`` prints
machine-readable results.
"""

from __future__ import annotations

import typer

from .. import __version__
from ._common import console, run_guarded
from .analyze import analyze
from .body import body_app
from .coach import coach
from .convert import convert
from .demo import demo
from .describe import describe
from .evaluate import evaluate_app
from .generate import generate
from .imitate import imitate
from .imu_pose import evaluate_imu_pose, export_app, export_imu_pose_cmd, train_imu_pose
from .inbetween import inbetween
from .predict import predict
from .simulate import simulate
from .train import train_app

app = typer.Typer(
    name="musclepose",
    help="Physics, understanding and language for recordings of human exercise.\n\nExample: musclepose demo --json",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        console.print(f"musclepose {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """MusclePose command line."""


app.command(help="Run the main job on built-in defaults and print the results.")(demo)
app.command()(analyze)
app.command()(convert)
app.command()(simulate)
app.add_typer(body_app, name="body")
app.add_typer(train_app, name="train")
app.add_typer(evaluate_app, name="evaluate")
app.command()(coach)
app.command()(predict)
app.command()(imitate)
app.command()(generate)
app.command()(describe)
app.command()(inbetween)
train_app.command("imu-pose")(train_imu_pose)
train_app.command("export-imu-pose")(export_imu_pose_cmd)
evaluate_app.command("imu-pose")(evaluate_imu_pose)
app.add_typer(export_app, name="export")


def main() -> None:
    """Entry point: run the app; every error becomes one line and exit code 2 (:func:`._common.run_guarded`)."""
    run_guarded(app)
