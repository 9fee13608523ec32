"""``musclepose simulate``: synthesise a labelled dataset of exercise clips (see :mod:`musclepose.sim.dataset`)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ..sim.dataset import build_dataset
from ._common import console, err_console, fail, print_json


def _names(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def simulate(
    out: Path = typer.Option(..., "--out", "-o", help="HDF5 file to write (.h5)."),
    n: int = typer.Option(100, "--n", help="Number of clips."),
    exercise: str | None = typer.Option(None, "--exercise", "-e", help="Comma-separated exercises (default: all 8)."),
    faults: str | None = typer.Option(None, "--faults", help="Comma-separated faults to inject (default: any)."),
    fault_rate: float = typer.Option(0.5, "--fault-rate", help="Probability that a clip has a fault."),
    duration: float = typer.Option(10.0, "--duration", help="Target clip length in seconds."),
    seed: int = typer.Option(0, "--seed", help="Seed: the same seed gives the same dataset."),
    workers: int | None = typer.Option(None, "--workers", help="Processes (default: all cores)."),
    clips_dir: Path | None = typer.Option(None, "--clips-dir", help="Also write one clip JSON per clip here."),
    json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Synthesise clips with motion, physics, IMU, keypoints, labels and coach text into HDF5.

    Example: musclepose simulate --exercise squat --faults knee_valgus,shallow_depth --n 1000 --out data.h5 --seed 0
    """
    if n < 1:
        fail(f"--n must be at least 1, not {n}")
    if not 0.0 <= fault_rate <= 1.0:
        fail(f"--fault-rate must be within [0, 1], not {fault_rate:g}")
    if out.suffix.lower() not in (".h5", ".hdf5"):
        fail(f"{out}: --out must be an .h5 file")
    columns = (TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    # Redrawn on each clip rather than by rich's refresh thread, so that build_dataset may fork
    # its workers (it does only while no other thread runs).
    with Progress(*columns, console=err_console, disable=not err_console.is_terminal, auto_refresh=False) as bar:
        task = bar.add_task("clips", total=n)
        try:
            summary = build_dataset(
                out, n, seed=seed, exercises=_names(exercise), faults=_names(faults), fault_rate=fault_rate,
                duration_s=duration, workers=workers, clips_dir=clips_dir,
                progress=lambda k: bar.update(task, completed=k, refresh=True),
            )  # fmt: skip
        except (ValueError, KeyError) as err:
            fail(str(err.args[0]) if err.args else str(err))
    summary["out"] = str(out)
    if json_out:
        print_json(summary)
        return
    console.print(
        f"wrote {n} clips ({summary['frames']} frames) to {out} in {summary['seconds']:.1f} s "
        f"({summary['ten_second_clips_per_s']:.2f} ten-second clips/s); splits {summary['splits']}; "
        f"exercises {summary['exercises']}; faults {summary['faults']}"
    )
