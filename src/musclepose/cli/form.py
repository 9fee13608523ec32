"""``musclepose train form`` and ``musclepose evaluate form``: the form models on real labelled people.

Thin: parse, call :mod:`musclepose.training.form_real` (and the synthetic repetitions of
:mod:`musclepose.training.form_data`) or :func:`musclepose.evaluation.form_real.evaluate_shipped`,
print (``--json`` for scripts).
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import torch
import typer
from rich.table import Table

from ..atomic import atomic_write
from ..evaluation.form_real import evaluate_shipped, recording_sessions
from ..io.errors import check_input_path
from ..io.uiprmd import read_uiprmd, uiprmd_episodes
from ..pipelines.checkpoint import load_checkpoint
from ..pipelines.recognize import form_assets
from ..progress import progress_bar
from ..training.form_data import load_reps, save_reps, synthesize_keypoint_reps
from ..training.form_real import (
    ADAPT_LAMBDA,
    RECOGNIZER_L2,
    UIPRMD_FORM_L2,
    build_keypoint_checkpoint,
    build_uiprmd_checkpoint,
    digest,
    model_card,
    pose_trainer_set,
)
from ._common import check_int_range, console, echo, error_message, fail, print_json

__all__ = ["evaluate_form_cmd", "train_form_cmd"]


def _refdata() -> Path:
    return Path(os.environ.get("MUSCLEPOSE_REFDATA", Path.cwd().parent / "shared" / "data"))


def train_form_cmd(
    out: Path = typer.Option(form_assets(), "--out", "-o", help="Folder for the keypoints2d/, uiprmd/ checkpoints."),
    pose_trainer: Path | None = typer.Option(
        None, "--pose-trainer", help="Pose Trainer .npy folder (default refdata)."
    ),
    uiprmd: Path | None = typer.Option(None, "--uiprmd", help="UI-PRMD Kinect positions folder (default: refdata)."),
    clips: int = typer.Option(
        2400,
        "--clips",
        callback=check_int_range("--clips", 1, 1_000_000),
        help="Synthetic clips to pre-train the 2-D screens on.",
    ),  # fmt: skip
    seed: int = typer.Option(0, "--seed", help="Seed of the synthetic clips."),
    cache: Path | None = typer.Option(None, "--cache", help="Keep / reuse the synthetic repetitions here (.npz)."),
    metrics: Path | None = typer.Option(
        None, "--metrics", help="docs/benchmarks_form_real.json: its held-out numbers go into the model card."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace checkpoint folders MusclePose did not write."),
    only: str | None = typer.Option(
        None, "--only", help="uiprmd: rebuild only the uiprmd/ checkpoint (no synthetic clips; model card kept)."
    ),
    keep_recognizer: bool = typer.Option(
        False,
        "--keep-recognizer",
        help="Keep the 2-D recogniser (and its unknown rule) of --out's keypoints2d/; "
        "refit the screens and the UI-PRMD models.",
    ),  # fmt: skip
) -> None:
    """Train the 2-D form screens, the recognisers and the UI-PRMD form models and write them with a model card.

    Example: musclepose train form --out src/musclepose/assets/form --metrics docs/benchmarks_form_real.json
    """
    data = _refdata() / "labelled"
    pt_dir, ui_dir = pose_trainer or data / "pose_trainer", uiprmd or data / "uiprmd_kinect"
    t0 = time.perf_counter()
    torch.set_num_threads(1)
    if only not in (None, "uiprmd"):
        fail(f"--only {only}: the only part that can be rebuilt alone is uiprmd")
    if only == "uiprmd":
        try:
            check_input_path(ui_dir, folder_ok=True, what="UI-PRMD folder")
            ep_files = uiprmd_episodes(ui_dir)
            if not ep_files:
                fail(f"no UI-PRMD episodes in {ui_dir}")
            command = "musclepose train form " + shlex.join(sys.argv[3:] if len(sys.argv) > 3 else [])
            extra = {"command": command.strip(), "uiprmd_sha256": digest(ep_files)}
            out.mkdir(parents=True, exist_ok=True)
            build_uiprmd_checkpoint(out / "uiprmd", [read_uiprmd(f) for f in ep_files], extra=extra,
                                    overwrite=overwrite)  # fmt: skip
        except (ValueError, KeyError, OSError) as err:
            fail(error_message(err, ui_dir))
        echo(f"wrote {out / 'uiprmd'} from {len(ep_files)} episodes in {time.perf_counter() - t0:.0f} s")
        return
    try:
        check_input_path(pt_dir, folder_ok=True, what="Pose Trainer folder")
        check_input_path(ui_dir, folder_ok=True, what="UI-PRMD folder")
        metrics_doc = json.loads(metrics.read_text(encoding="utf-8")) if metrics is not None else None
        real = pose_trainer_set(pt_dir)
        ep_files = uiprmd_episodes(ui_dir)
        if not real.kps or not ep_files:
            fail(f"no labelled files: {len(real.kps)} in {pt_dir}, {len(ep_files)} UI-PRMD episodes in {ui_dir}")
        cached = cache / f"synthetic_{clips}_{seed}.npz" if cache is not None else None
        if cached is not None and cached.exists():
            reps = load_reps(cached)[0]
        else:
            with progress_bar("synthetic repetitions", total=clips) as advance:
                reps = synthesize_keypoint_reps(clips, seed=seed, progress=lambda i, n: advance(1))
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                save_reps(cached, reps, {"clips": clips, "seed": seed})
        echo(f"{len(reps)} synthetic repetitions, {len(real.kps)} Pose Trainer clips, {len(ep_files)} UI-PRMD episodes")
        command = "musclepose train form " + shlex.join(sys.argv[3:] if len(sys.argv) > 3 else [])
        common = {"command": command.strip()}
        out.mkdir(parents=True, exist_ok=True)
        sessions = recording_sessions(real.kps, real.exercises)
        kept, kp_extra = None, dict(common)
        if keep_recognizer:
            old_parts, old_extra = load_checkpoint(out / "keypoints2d")
            kept = (old_parts["recognizer"], old_extra["unknown"])
            kp_extra["recognizer_kept_from"] = old_extra.get("recognizer_kept_from") or old_extra.get("command")
        build_keypoint_checkpoint(out / "keypoints2d", reps, real, groups=sessions, recognizer=kept, extra=kp_extra,
                                  overwrite=overwrite)  # fmt: skip
        kp_config = json.loads((out / "keypoints2d" / "config.json").read_text(encoding="utf-8"))
        episodes = [read_uiprmd(f) for f in ep_files]
        build_uiprmd_checkpoint(out / "uiprmd", episodes, extra=common, overwrite=overwrite)
    except (ValueError, KeyError, OSError) as err:
        fail(error_message(err, pt_dir))
    info = {
        "command": common["command"], "seconds": time.perf_counter() - t0,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}",
        "pose_trainer": {"n": len(real.kps), "sha256": digest(real.files)},
        "uiprmd": {"n": len(ep_files), "sha256": digest(ep_files)},
        "synthetic": {"clips": clips, "seed": seed, "reps": len(reps)},
        "adapt_lambda": ADAPT_LAMBDA, "adaptation": kp_config["extra"]["adaptation"],
        "recognizer_kept_from": kp_config["extra"].get("recognizer_kept_from"),
        "recognizer_l2": RECOGNIZER_L2, "form_l2": UIPRMD_FORM_L2,
        "parts": {
            "keypoints2d": {"recognizer": ("FormClassifier (linear)", "the engine's 8 exercises + arm isolation"),
                            **{ex: ("NoisyOrScreen", "per-fault logistic, noisy OR") for ex in
                               ("bicep_curl", "front_raise", "overhead_press", "shoulder_shrug")}},
            "uiprmd": {"recognizer": ("FormClassifier (linear)", "8 UI-PRMD movements (working-side features)"),
                       "<movement>": ("FormClassifier (linear)", "correct / incorrect")},
        },
    }  # fmt: skip
    with atomic_write(out / "MODEL_CARD.md") as fh:
        fh.write(model_card(info, metrics_doc))
    echo(f"wrote {out / 'keypoints2d'}, {out / 'uiprmd'} and {out / 'MODEL_CARD.md'} in {info['seconds']:.0f} s")


def evaluate_form_cmd(
    pose_trainer: Path | None = typer.Option(None, "--pose-trainer", help="Folder of Pose Trainer-style .npy files."),
    uiprmd: Path | None = typer.Option(None, "--uiprmd", help="Folder of UI-PRMD Kinect positions files."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Score the shipped form models and recognisers on labelled data (good/bad in the file names).

    Example: musclepose evaluate form --pose-trainer my_videos_keypoints/ --uiprmd ui_prmd/ --json
    """
    if pose_trainer is None and uiprmd is None:
        fail("give --pose-trainer DIR and/or --uiprmd DIR")
    try:
        for p in (pose_trainer, uiprmd):
            if p is not None:
                check_input_path(p, folder_ok=True, what="folder of labelled files")
        result = evaluate_shipped(pose_trainer, uiprmd)
    except (ValueError, KeyError, OSError) as err:
        fail(error_message(err, pose_trainer or uiprmd))
    if json_out:
        print_json(result)
        return
    for name, block in result.items():
        t = Table(title=f"{name}: {block['n']} files, recognition accuracy {block['recognition_accuracy']:.3f}")
        for col in ("exercise", "balanced accuracy", "F1 (wrong form)", "files"):
            t.add_column(col, justify="left" if col == "exercise" else "right")
        for ex, s in {**block["form"], "all": block["form_overall"]}.items():
            t.add_row(ex, f"{s['balanced_accuracy']:.3f}", f"{s['f1']:.3f}", str(s["n"]))
        console.print(t)
