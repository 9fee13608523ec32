"""``musclepose simulate``: synthesise a labelled dataset of exercise clips (see :mod:`musclepose.sim.dataset`)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ..sim.dataset import MAX_DURATION_S, MODALITIES, build_dataset
from ..sim.ray_backend import RayUnavailable
from ..sim.workers import TaskFailed, WorkerLost
from ._common import check_positive_int, check_range, console, err_console, error_message, fail, print_json


def _names(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def _modalities(text: str) -> list[str]:
    names = _names(text) or []
    if names == ["none"]:
        return []
    bad = [m for m in names if m not in ("all", *MODALITIES)]
    if bad or not names:
        raise typer.BadParameter(
            f"{text!r}: choose all, none or any of {', '.join(MODALITIES)}", param_hint="--modalities"
        )
    return names


def simulate(
    out: Path = typer.Option(..., "--out", "-o", help="An .h5 file, or a folder for a sharded dataset (+ manifest)."),
    n: int = typer.Option(100, "--n", help="Number of clips.", callback=check_positive_int("--n")),
    exercise: str | None = typer.Option(None, "--exercise", "-e", help="Comma-separated exercises (default: all 8)."),
    faults: str | None = typer.Option(None, "--faults", help="Comma-separated faults to inject (default: any)."),
    fault_rate: float = typer.Option(0.5, "--fault-rate", help="Probability that a clip has a fault.",
                                     callback=check_range("--fault-rate", 0.0, 1.0)),
    duration: float = typer.Option(10.0, "--duration", help="Target clip length in seconds.",
                                   callback=check_range("--duration", 0.5, MAX_DURATION_S, "s")),
    seed: int = typer.Option(0, "--seed", help="Seed: the same seed gives the same dataset."),
    workers: int | None = typer.Option(None, "--workers", help="Processes or Ray tasks at once (default: all cores).",
                                       callback=check_positive_int("--workers")),
    ray: str | None = typer.Option(None, "--ray", help="Run on Ray: 'auto' (this machine's cluster, or a local one "
                                   "started for the run) or a cluster address."),
    shard_size: int | None = typer.Option(None, "--shard-size", help="Clips per shard (default: n/12, 10 to 256).",
                                          callback=check_positive_int("--shard-size")),
    modalities: str = typer.Option("all", "--modalities", help="Sensors to simulate: all, none, imu, keypoints "
                                   "or imu,keypoints (motion, kinetics and labels always)."),
    keypoints_fps: float | None = typer.Option(None, "--keypoints-fps", help="Camera frame rate of the keypoints "
                                               "(e.g. 30; default: the motion's 100 Hz).",
                                               callback=check_range("--keypoints-fps", 1.0, 1000.0, "Hz")),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a folder holding another run's dataset."),
    fatigue_rate: float = typer.Option(0.0, "--fatigue-rate", help="Share of clips whose rising phase slows over "
                                       "the set (fatigue).", callback=check_range("--fatigue-rate", 0.0, 1.0)),
    clips_dir: Path | None = typer.Option(None, "--clips-dir", help="Also write one clip JSON per clip here."),
    json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:  # fmt: skip
    """Synthesise clips with motion, physics, IMU, keypoints, labels and coach text into HDF5.

    Same seed, same clips, whatever --workers or --ray. An interrupted run resumes where it
    stopped when run again with the same options.

    Example: musclepose simulate --exercise squat --faults knee_valgus,shallow_depth --n 1000 --out data.h5 --seed 0

    On Ray: musclepose simulate --ray auto --workers 2 --n 120 --seed 0 --out clips/
    """
    mods = _modalities(modalities)
    columns = (TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    # Redrawn on each clip rather than by rich's refresh thread, so that the workers may be forked
    # (they are only while no other thread runs).
    with Progress(*columns, console=err_console, disable=not err_console.is_terminal, auto_refresh=False) as bar:
        task = bar.add_task("clips", total=n)
        try:
            summary = build_dataset(
                out, n, seed=seed, exercises=_names(exercise), faults=_names(faults), fault_rate=fault_rate,
                duration_s=duration, workers=workers, clips_dir=clips_dir, modalities=mods,
                progress=lambda k: bar.update(task, completed=k, refresh=True), ray=ray, shard_size=shard_size,
                keypoints_fps=keypoints_fps, overwrite=overwrite, fatigue_rate=fatigue_rate,
            )  # fmt: skip
        except (ValueError, KeyError, OSError) as err:  # bad options, a busy or foreign output, a full disk
            fail(error_message(err))
        except (WorkerLost, TaskFailed, RayUnavailable) as err:
            fail(f"{out}: {err}; the finished shards are kept: run the same command again to resume")
        except (KeyboardInterrupt, SystemExit) as stop:
            err_console.print(
                f"interrupted: the finished shards of {out} are kept; run the same command again to resume",
                highlight=False, markup=False,
            )  # fmt: skip
            if isinstance(stop, SystemExit):
                raise
            raise typer.Exit(130) from None
    summary["out"] = str(out)
    if json_out:
        print_json(summary)
        return
    resumed = f", {summary['shards_resumed']} of {summary['shards']} shards from an earlier run" if summary[
        "shards_resumed"] else ""  # fmt: skip
    console.print(
        f"wrote {n} clips ({summary['frames']} frames, {summary['bytes'] / 2**20:.1f} MiB) to {out} in "
        f"{summary['seconds']:.1f} s ({summary['ten_second_clips_per_s']:.2f} ten-second clips/s, "
        f"{summary['backend']}{resumed}); splits {summary['splits']}; exercises {summary['exercises']}; "
        f"faults {summary['faults']}",
        markup=False, highlight=False,
    )  # fmt: skip
