"""``musclepose predict``: continue a recording with the motion model; write MOT, BVH, clip JSON and a plot.

Thin: parse, :func:`musclepose.io.load_motion`, :func:`musclepose.pipelines.predict.predict_motion`
(the shipped body-space model unless ``--checkpoint``), write the continued motion (observed then
predicted frames, at the model's 30 Hz) and the figure, print a summary (``--json`` for scripts).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import typer

from ..atomic import check_output_dir
from ..io.errors import FormatError
from ._common import console, error_message, fail, print_json
from .analyze import spinner

__all__ = ["parse_horizon", "predict"]

FORMATS = ("mot", "bvh", "json", "png")


def parse_horizon(text: str) -> float:
    """``"1s"``, ``"500ms"``, ``"1.5"`` (seconds) -> seconds; a ``ValueError`` names the bad text."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(ms|s)?\s*", text)
    if not m:
        raise ValueError(f"--horizon {text!r}: give seconds, e.g. 1s, 0.5s or 500ms")
    value = float(m.group(1)) / (1000.0 if m.group(2) == "ms" else 1.0)
    if not 0 < value <= 10.0:
        raise ValueError(f"--horizon {text!r}: must be more than 0 and at most 10 s")
    return value


def predict(
    path: Path = typer.Argument(..., help="Recording (any file `musclepose analyze` reads)."),
    horizon: str = typer.Option("1s", "--horizon", help="How far to predict: 1s, 500ms, 2.5 (seconds)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Output folder (default: beside the input)."),
    formats: str = typer.Option("mot,bvh,json,png", "--formats", help="Outputs: mot, bvh, json (clip), png (plot)."),
    checkpoint: Path | None = typer.Option(
        None, "--checkpoint", help="Motion model (default: the shipped body model)."
    ),
    mass: float | None = typer.Option(None, "--mass", help="Body mass in kg."),
    sex: str = typer.Option("male", "--sex", help="male or female."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Predict how a recorded movement continues and write the continued motion.

    Example: musclepose predict walking_1.txt --horizon 1s --out predicted/
    """
    from ..pipelines.predict import MotionPredictor, clip_from_motion, predict_motion

    wanted = [f.strip().lower() for f in formats.split(",") if f.strip()]
    bad = [f for f in wanted if f not in FORMATS]
    if bad or not wanted:
        fail(f"--formats {formats!r}: choose from {', '.join(FORMATS)}")
    t0 = time.perf_counter()
    try:
        seconds = parse_horizon(horizon)
        folder = out if out is not None else path.parent
        check_output_dir(folder, what="the output folder", may_create=True)
        with spinner(f"Predicting {path.name}") as say:
            if not path.exists():
                raise FileNotFoundError(f"{path}: no such file")
            say("loading the motion model")
            model = MotionPredictor.load(checkpoint, kind="body")
            from ..io.load import load_motion

            motion = load_motion(path, mass_kg=mass, sex=sex, progress=say)
            say(f"predicting {seconds:g} s")
            result = predict_motion(motion, seconds, model)
            continued = result.continued
            folder.mkdir(parents=True, exist_ok=True)
            stem = folder / f"{path.stem}_predicted"
            written = {}
            for fmt in wanted:
                say(f"writing {stem.name}.{fmt}")
                target = stem.with_suffix(f".{fmt}")
                if fmt == "mot":
                    from .convert import write_opensim

                    write_opensim(target, continued)
                elif fmt == "bvh":
                    from ..io.bvh_body import write_motion_bvh

                    write_motion_bvh(target, continued)
                elif fmt == "json":
                    from ..io.clip import write_clip

                    write_clip(target, clip_from_motion(continued, path.name))
                else:
                    from ..report.prediction_plots import plot_prediction

                    plot_prediction(result, target)
                written[fmt] = str(target)
    except (FormatError, ValueError, KeyError, OSError) as err:
        fail(error_message(err, path))
    info = {
        "file": str(path),
        "fps": result.observed.fps,
        "frames_observed": result.observed.n_frames,
        "frames_predicted": result.predicted.n_frames,
        "horizon_s": seconds,
        "predicted_from_s": result.observed.n_frames / result.observed.fps,
        "outputs": written,
        "checkpoint": str(checkpoint or "shipped"),
        "seconds": time.perf_counter() - t0,
        "prediction_seconds": result.seconds,
    }
    if json_out:
        print_json(info)
        return
    console.print(
        f"{path.name}: {info['frames_observed']} frames observed at {info['fps']:g} Hz, {info['frames_predicted']} "
        f"predicted ({seconds:g} s) in {1000 * result.seconds:.0f} ms; wrote {', '.join(written.values())}",
        highlight=False,
    )
