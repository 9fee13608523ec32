"""``musclepose analyze --camera N``: a live webcam, one line of feedback per repetition.

Thin: opens the camera (:class:`musclepose.io.video.CameraSource`), runs
:class:`musclepose.pipelines.live_video.LiveSession` with the shipped form screen, prints each
repetition as it ends and a summary (frames per second) at the end; Ctrl-C ends the session.
"""

from __future__ import annotations

from pathlib import Path

from ..catalogue import EXERCISES
from ..io.errors import FormatError
from ..io.video import CameraSource
from ..pipelines.coach import default_checkpoint
from ..pipelines.form_screen import FormScreen
from ..pipelines.live_video import LiveSession, RepFeedback
from ._common import console, fail, print_json


def run_live(
    camera: int,
    exercise: str | None,
    height: float,
    mass: float | None,
    sex: str,
    seconds: float | None,
    json_out: bool,
) -> None:
    """Run a live session on webcam ``camera`` (see the module docstring)."""
    if exercise is not None and exercise not in EXERCISES:
        fail(f"--exercise {exercise!r}: known exercises are {', '.join(sorted(EXERCISES))}")
    screen_path = Path(default_checkpoint()) / "form_screen.json"
    screen = FormScreen.load(screen_path) if screen_path.is_file() else None
    try:
        source = CameraSource(camera)
    except FormatError as err:
        fail(str(err))
    session = LiveSession(exercise, height_m=height, mass_kg=70.0 if mass is None else mass, sex=sex, screen=screen)

    def said(fb: RepFeedback) -> None:
        if not json_out:
            console.print(fb.text(), highlight=False)

    if not json_out:
        console.print(f"live: camera {camera}, {source.size[0]}x{source.size[1]}; Ctrl-C to stop")
    try:
        summary = session.run(source, on_rep=said, max_seconds=seconds)
    except KeyboardInterrupt:
        source.stop()
        return
    if json_out:
        print_json({"camera": camera, "frames": summary.frames, "seconds": summary.seconds, "fps": summary.fps,
                    "reps": [{"number": r.number, "start_s": r.start_s, "end_s": r.end_s, "depth_deg": r.depth_deg,
                              "tempo": r.tempo, "confidence": r.confidence,
                              "faults": [f.name for f in r.faults]} for r in summary.reps]})  # fmt: skip
        return
    console.print(f"{summary.frames} frames in {summary.seconds:.1f} s ({summary.fps:.1f} frames/s), "
                  f"{len(summary.reps)} repetitions")  # fmt: skip
