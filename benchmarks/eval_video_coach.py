"""The coach's form screen through a camera: camera-noised synthetic clips, exercise predicted, beside clean motion.

Runs :func:`musclepose.evaluation.video_coach.evaluate_camera_screen` with the shipped coach's form screen
and its encoder's exercise classifier (the LLM is not loaded: the screen decides which faults the text
names, see ``docs/evaluation_coach.md``) and writes ``docs/evaluation_video_coach.md`` (+ ``.json``).
Target (issue 15): fault recall and precision >= 0.8 on the camera path with the exercise predicted.

Usage: ``python benchmarks/eval_video_coach.py [--n 120] [--seed 20000]``
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch

from musclepose.evaluation.video_coach import evaluate_camera_screen
from musclepose.io.atomic import atomic_write
from musclepose.pipelines.checkpoint import load_checkpoint, read_config
from musclepose.pipelines.coach import CoachModel, default_checkpoint
from musclepose.pipelines.form_screen import FormScreen
from musclepose.pipelines.labels import LabelMap

ROOT = Path(__file__).resolve().parents[1]


def encoder_only(folder: Path) -> CoachModel:
    """The coach without its LLM: enough for :meth:`CoachModel.classify` and the screen."""
    labels = LabelMap.from_config(read_config(folder), folder).check(folder)
    parts, extra = load_checkpoint(folder)
    screen = FormScreen.load(folder / "form_screen.json")
    return CoachModel(parts["encoder"].float(), parts["bridge"].float(), None, extra, screen, labels)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=120)
    ap.add_argument("--seed", type=int, default=20_000)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "evaluation_video_coach.md")
    args = ap.parse_args()
    torch.set_num_threads(1)
    folder = default_checkpoint()
    cm = encoder_only(folder)
    t0 = time.perf_counter()

    def say(i: int, rec: dict) -> None:
        print(f"{i}/{args.n} {rec['exercise']} -> {rec['predicted']} az {rec['azimuth_deg']} true {rec['true']} "
              f"clean {rec['clean']} camera {rec['camera']} {rec['seconds']:.1f}s", flush=True)  # fmt: skip

    res = evaluate_camera_screen(cm.screen, cm.classify, args.n, args.seed, progress=say)
    seconds = time.perf_counter() - t0
    clean, cam = res["clean"], res["camera"]
    rows = [
        ("clean motion, exercise given (today's setup)", clean, "-"),
        ("camera -> fitter -> screen, exercise predicted", cam, f"{res['exercise_accuracy']:.3f}"),
        ("same, with the video floors (what `coach VIDEO` reports)", res["camera_floored"], "same"),
        ("same, screened per repetition (what `analyze VIDEO` reports)", res["camera_reps"], "same"),
        ("same, per repetition with the video floors (`form_screen_video.json`)", res["camera_reps_floored"], "same"),
    ]
    lines = [
        "# The form screen through a camera",
        "",
        f"Command: `python benchmarks/eval_video_coach.py --n {args.n} --seed {args.seed}` ({seconds:.0f} s, load "
        f"average {os.getloadavg()[0]:.1f} on 2 cores). Checkpoint: the shipped coach (`{folder.name}`): its form "
        "screen and its encoder's exercise classifier. Clips: `random_clip` from seed "
        f"{args.seed} (random adults, parameters, 0-2 faults at severity 0.2-1; none of them a training clip). "
        "Cameras: 640x480, 55-70 deg field of view, 3-4.5 m, 0-90 deg round from the front, lens 0.8-1.5 m high; "
        "MediaPipe-33 landmarks with 2 px jitter, 2 cm depth noise, self-occlusion; fitted with the subject's "
        "height. See `musclepose.evaluation.video_coach`.",
        "",
        "| path | fault recall | fault precision | tp | fp | fn | exercise accuracy |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *[f"| {n} | {c.recall:.2f} | {c.precision:.2f} | {c.tp} | {c.fp} | {c.fn} | {acc} |" for n, c, acc in rows],
        "",
        "Per fault: recall / precision on the camera path (whole clip; per repetition with the video floors) "
        "and on the clean motion.",
        "",
        "| fault | camera recall | camera precision | floored recall | floored precision | clean recall "
        "| clean precision | true |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    floored = res["camera_reps_floored"]

    def rp(counts, name: str) -> str:
        t, f, n = counts.per_fault.get(name, [0, 0, 0])
        return f"{t / max(1, t + n):.2f} | {t / max(1, t + f):.2f}"

    for name in sorted(set(cam.per_fault) | set(clean.per_fault) | set(floored.per_fault)):
        t, f, n = clean.per_fault.get(name, [0, 0, 0])
        lines.append(f"| {name} | {rp(cam, name)} | {rp(floored, name)} | {rp(clean, name)} | {t + n} |")
    lines.append("")
    with atomic_write(args.out, mode="w") as fh:
        fh.write("\n".join(lines))
    with atomic_write(args.out.with_suffix(".json"), mode="w") as fh:
        fh.write(json.dumps({"records": res["records"], "exercise_accuracy": res["exercise_accuracy"]}, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
