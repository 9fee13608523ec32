"""``musclepose analyze``: repetitions, depth, tempo, phases, wave features and grade of a recording.

Any file :func:`musclepose.io.load.load_motion` reads is loaded onto the body (inverse
kinematics where needed, with a spinner on stderr so that ``--json`` output on stdout stays
clean) and analysed with :func:`musclepose.signals.analyze_motion`. A clip JSON (the seven
channel schema) has no body: it is analysed from its channels alone (repetitions, depth,
tempo, phases, wave features; energy in joules from the hip-height proxy and ``--mass``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import typer

from ._common import console, err_console, fail, print_json


@contextmanager
def spinner(what: str, quiet: bool = False) -> Iterator[Callable[[str], None]]:
    """A Rich spinner on stderr; yields ``say(stage)`` that updates its text (a loader's ``progress``)."""
    if quiet or not err_console.is_terminal:
        yield lambda stage: None
        return
    with err_console.status(f"{what}...") as status:
        yield lambda stage: status.update(f"{what}: {stage}...")


def is_clip_json(path: Path) -> bool:
    """Whether ``path`` is a clip JSON (an object with the ``trajectory`` channel), not keypoints."""
    if path.suffix.lower() != ".json":
        return False
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(doc, dict) and "trajectory" in doc


def analyze_clip(clip: Any, exercise: str | None, mass_kg: float, sex: str) -> Any:
    """:class:`~musclepose.signals.Analysis` of a :class:`~musclepose.io.clip.Clip` (channels only).

    Mirrors :func:`~musclepose.signals.analyze_motion` on the clip's channels, which carry the
    knee angle and hip height that depth needs.
    """
    import numpy as np

    from ..body import Body
    from ..signals import Analysis, RepSummary, Tempo
    from ..signals.exercises import normalise_exercise
    from ..signals.waves import run_analysis

    exercise = exercise or clip.exercise or None
    data = {**clip.channels, "fps": clip.fps}
    run = run_analysis(data, body=Body.standard(1.75, mass_kg, sex), exercise=exercise)
    knee, hip = run.channels["knee_angle_trajectory"], run.channels["legs_trajectory"]
    reps = [
        RepSummary(
            index=k,
            start=s,
            extreme=p,
            end=e,
            depth_knee_flexion_deg=float(np.max(knee[s : e + 1])),
            min_hip_height_m=float(np.min(hip[s : e + 1])),
            tempo=run.phases.tempo_[k],
            phases=run.phases.rep_spans_[k],
        )
        for k, (s, p, e) in enumerate(run.segmenter.reps_)
    ]
    return Analysis(
        exercise=normalise_exercise(exercise) if exercise else None,
        fps=float(clip.fps),
        duration_s=(clip.n_frames - 1) / float(clip.fps),
        primary=run.features.channel,
        reps=reps,
        tempo=Tempo.median(run.phases.tempo_),
        wave_features=run.features,
    )


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
    import time

    from ..io.errors import FormatError

    if not (math.isfinite(mass) and mass > 0):
        fail(f"--mass must be a positive number of kg, not {mass:g}")
    t0 = time.perf_counter()
    try:
        with spinner(f"Loading {path.name}", quiet=False) as say:
            if not path.exists():
                raise FileNotFoundError(f"{path}: no such file")
            if is_clip_json(path):
                from ..io.clip import read_clip

                clip = read_clip(path)
                say("analysing channels")
                result = analyze_clip(clip, exercise, mass, sex)
                meta: dict[str, Any] = {"kind": "clip", "frames": clip.n_frames, "fps": clip.fps}
            else:
                from ..io.load import load_motion
                from ..signals import analyze_motion

                motion = load_motion(path, model=model, static=static, mass_kg=mass, sex=sex, fps=fps, progress=say)
                kin = None
                if kinetics or plot is not None:
                    say("inverse dynamics, ground reactions and muscles")
                    kin = _kinetics(motion, path, loads)
                say("analysing")
                result = analyze_motion(motion, exercise=exercise, kinetics=kin)
                meta = {
                    "kind": "motion",
                    "frames": motion.n_frames,
                    "fps": motion.fps,
                    "body": {"height_m": motion.body.height_m, "mass_kg": motion.body.mass_kg, "sex": motion.body.sex},
                    "loader": _loader_metadata(motion.metadata),
                }
    except (FormatError, ValueError, KeyError, FileNotFoundError) as err:
        fail(_message(err, path))
    meta["seconds"] = time.perf_counter() - t0
    if plot is not None:
        if meta["kind"] != "motion":
            fail(f"{path}: --plot needs a recording on the body (a clip JSON has no kinetics)")
        from ..report import plot_cycle_curves
        from ..signals.rep_kinetics import cycle_curves

        meta["plots"] = [str(p) for p in plot_cycle_curves(cycle_curves(kin, result), plot, title=path.name)]
    if json_out:
        from ..signals.waves import jsonable

        print_json({"file": str(path), "input": jsonable(meta), "analysis": result.to_dict()})
        return
    from .render import analysis_tables

    for table in analysis_tables(result, title=f"{path.name} ({meta['kind']}, {meta['frames']} frames)"):
        console.print(table)
    for p in meta.get("plots", []):
        console.print(f"wrote {p}")


def _kinetics(motion: Any, path: Path, loads: Path | None) -> Any:
    """Kinetics with the plates of ``--loads`` (or of the .c3d itself), else estimated ground reactions."""
    from ..io.loads import c3d_loads, opensim_loads
    from ..motion.kinetics import compute_kinetics

    source = loads if loads is not None else (path if path.suffix.lower() == ".c3d" else None)
    records = None
    if source is not None:
        if not source.exists():
            raise FileNotFoundError(f"{source}: no such file")
        if source.suffix.lower() == ".c3d":
            from ..io.c3d import read_c3d

            records = [r for r in c3d_loads(read_c3d(source)) if np.nanmax(np.abs(r.force[:, 1])) > 20.0] or None
        elif source.suffix.lower() == ".xml":
            records = opensim_loads(source)
        else:
            raise ValueError(f"{source}: --loads takes an OpenSim ExternalLoads .xml or a .c3d")
    return compute_kinetics(motion, records)


_LOADER_KEYS = ("source", "marker_set", "static", "scale_factors", "marker_rms_m", "source_fps", "units", "history")


def _loader_metadata(meta: dict[str, Any]) -> dict[str, Any]:
    """What the loader chose (marker set, static trial, scale factors, fit), small enough to print."""
    out = {k: meta[k] for k in _LOADER_KEYS if k in meta}
    for k in ("layout", "format", "unit_m", "up_axis_in_file", "joint_map"):
        if k in meta:
            out[k] = meta[k]
    if "opensim" in meta:
        info = meta["opensim"]
        out["opensim"] = {k: info.get(k) for k in ("osim_path", "in_degrees", "unmapped_columns")}
    return out


def _message(err: BaseException, path: Path) -> str:
    """One line naming the file (KeyError's repr quotes are dropped)."""
    msg = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
    msg = str(msg)
    return msg if path.name in msg else f"{path}: {msg}"
