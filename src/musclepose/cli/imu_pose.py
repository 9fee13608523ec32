"""``musclepose train imu-pose``, ``evaluate imu-pose`` and ``export onnx``: the IMU pose model's commands.

Thin: parse, call :mod:`musclepose.training.hdt` / :mod:`musclepose.evaluation.imu_pose` /
:mod:`musclepose.pipelines.imu_onnx`, print (``--json`` for scripts).
"""

from __future__ import annotations

import os
import shlex
import sys
import time
from pathlib import Path

import torch
import typer

from ..atomic import check_output_dir
from ..evaluation.imu_pose import evaluate_motion, merge
from ..io.errors import FormatError
from ..io.load import load_motion
from ..pipelines.imu_features import LAYOUTS
from ..pipelines.imu_nn import NNIndex
from ..pipelines.imu_onnx import OnnxIMUPose, export_onnx, max_difference
from ..pipelines.imu_pose import IMUPoseModel, default_imu_checkpoint
from ..progress import progress_bar
from ..sim.imu_corpus import build_corpus, load_corpus, save_corpus
from ..training.distributed import init_from_env
from ..training.hdt import HDTTrainConfig, build_nn_index, export_imu_pose, file_sha256, train_hdt
from ._common import console, error_message, fail, print_json

export_app = typer.Typer(help="Export MusclePose models for deployment.", no_args_is_help=True)

# The shipped size: what trains in about an hour on two shared CPU cores (the seed's d 256 x 6 layers is 6x the
# compute per step; --size seed trains it where there is the hardware).
SMALL = {"cnn_channels": [32, 48, 64, 96], "d_model": 96, "n_layers": 3, "n_heads": 4, "ff_hidden": 192,
         "d_factor": 48, "pose_hidden": 192, "window": 40}  # fmt: skip
CONFIGS = {"small": SMALL, "seed": {}, "cnn": {**SMALL, "n_layers": 0, "cross_attention": False}}


def _layout(value: str) -> str:
    if value not in LAYOUTS:
        raise typer.BadParameter(f"{value!r} is not one of: {', '.join(LAYOUTS)}", param_hint="--layout")
    return value


def train_imu_pose(
    out: Path = typer.Option(..., "--out", "-o", help="Checkpoint folder to write."),
    corpus: Path = typer.Option(Path("runs/imu_pose_corpus.pt"), "--corpus", help="Corpus file (built if missing)."),
    refdata: Path | None = typer.Option(
        None, "--refdata", help="Reference data folder (default: MUSCLEPOSE_REFDATA or ../shared/data)."
    ),  # fmt: skip
    synthetic: int = typer.Option(320, "--synthetic", help="Synthetic exercise clips in a new corpus."),
    size: str = typer.Option("small", "--size", help="small (shipped), seed (d 256, 6 layers) or cnn (baseline)."),
    steps: int = typer.Option(6000, "--steps", help="Most optimiser steps."),
    minutes: float | None = typer.Option(None, "--minutes", help="Wall-clock budget (the schedule follows it)."),
    batch_size: int = typer.Option(24, "--batch-size", help="Windows per step (over all processes)."),
    nn_index: bool = typer.Option(True, "--nn-index/--no-nn-index", help="Also write the retrieval baseline's tables."),
    seed: int = typer.Option(0, "--seed", help="Seed."),
    threads: int = typer.Option(1, "--threads", help="Torch threads per process."),
) -> None:
    """Train the HDT on IMUs synthesised from real mocap and the exercise engine (resumes nothing; writes the best).

    Example: musclepose train imu-pose --out runs/imu_pose --minutes 60

    Data-parallel: torchrun --nproc-per-node N -m musclepose train imu-pose ... (each process takes its share of
    every batch; rank 0 writes).
    """
    if size not in CONFIGS:
        fail(f"--size must be one of {', '.join(CONFIGS)}, not {size!r}")
    try:  # before any work: a bad --out or --corpus is said now, not after an hour of training
        check_output_dir(out, what="the checkpoint folder", may_create=True)
        if not corpus.is_file():
            check_output_dir(corpus.parent, what=f"the folder of {corpus.name}", may_create=True)
    except OSError as err:
        fail(error_message(err))
    rank, nproc = init_from_env("cpu")
    torch.set_num_threads(threads)
    if not corpus.is_file():
        if rank != 0:
            fail(f"{corpus}: build the corpus first (one process)")
        ref = refdata or Path(os.environ.get("MUSCLEPOSE_REFDATA", "../shared/data"))
        console.print(f"building the corpus from {ref} and {synthetic} synthetic clips")
        t0 = time.perf_counter()
        seqs = build_corpus(ref if ref.is_dir() else None, n_synthetic=synthetic, log=console.print)
        save_corpus(seqs, corpus, {"refdata": str(ref), "n_synthetic": synthetic, "seconds": time.perf_counter() - t0})
    seqs, _ = load_corpus(corpus)
    train = [s for s in seqs if s.split == "train"]
    val = [s for s in seqs if s.split == "val"]
    if not train or not val:
        fail(f"{corpus}: needs sequences in both the train and the val split")
    config = HDTTrainConfig(
        out=str(out), model=dict(CONFIGS[size]), steps=steps, max_minutes=minutes, batch_size=batch_size,
        seed=seed, threads=threads, corpus=str(corpus), corpus_sha256=file_sha256(corpus),
        command="musclepose " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
    )  # fmt: skip
    log = console.print if rank == 0 else (lambda *_: None)
    log(f"{len(train)} training sequences ({sum(s.n_frames for s in train)} frames), {len(val)} validation")
    train_hdt(config, train, val, log=log)
    if nn_index and rank == 0:
        window = int(CONFIGS[size].get("window", 48))
        paths = build_nn_index(train, seed=seed, window=window).save(out)
        log(f"retrieval baseline: {', '.join(p.name for p in paths)}")
    log(f"checkpoint: {out}")


def evaluate_imu_pose(
    mocap: list[Path] = typer.Option(..., "--mocap", "-m", help="Mocap or OpenSim .mot/.trc/.bvh/... (repeat)."),
    layout: str = typer.Option("six", "--layout", callback=_layout, help="six or phone-watch."),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", help="HDT checkpoint (default: shipped)."),
    baseline: Path | None = typer.Option(
        None, "--baseline", help="Another checkpoint to compare (besides the shipped comparison models)."
    ),
    repeats: int = typer.Option(3, "--repeats", help="Sensor placements and error draws per recording."),
    seed: int = typer.Option(0, "--seed", help="Seed of the placements and errors."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Synthesise the layout's IMUs from each recording, run the shipped model and the baselines, print the metrics.

    Example: musclepose evaluate imu-pose --mocap squats1.mot --layout six --json
    """
    if repeats < 1:
        fail("--repeats must be at least 1")
    folder = checkpoint or default_imu_checkpoint()
    try:
        models = {"shipped": IMUPoseModel.load(folder)}
        # Comparison models ship as sub-folders (the transformer HDT or the CNN-only ablation, whichever is
        # not the default); --baseline adds another.
        for sub in sorted(p for p in folder.iterdir() if (p / "config.json").is_file()):
            models[sub.name] = IMUPoseModel.load(sub)
        if baseline is not None:
            models[baseline.name] = IMUPoseModel.load(baseline)
    except (FileNotFoundError, ValueError) as err:
        fail(f"{folder}: {err}")
    nn = NNIndex.load(folder)
    parts, per_file = [], {}
    t0 = time.perf_counter()
    torch.set_num_threads(1)
    with progress_bar("recordings", len(mocap) * repeats) as advance:
        for p in mocap:
            try:
                motion = load_motion(p)
                res = evaluate_motion(motion, layout, models, nn, seed=seed, repeats=repeats, progress=advance)
            except (FormatError, ValueError, KeyError, OSError) as err:
                fail(str(err) if p.name in str(err) else f"{p}: {err}")
            per_file[str(p)] = res
            parts.append((res, res["shipped"]["frames"]))
    total = merge(parts)
    hdt = total["shipped"]
    c = models["shipped"].model.config
    doc = {
        "layout": layout,
        "checkpoint": str(folder),
        "model": "HDT without its transformer (CNN front end + disentangled heads)" if c.n_layers == 0
        else f"HDT ({c.n_layers} transformer layers, d {c.d_model})",
        **{k: hdt.get(k) for k in ("mpjpe_cm", "rotation_error_deg", "global_rotation_error_deg", "jitter_m_s3",
                                   "jitter_true_m_s3", "coverage_1sigma", "coverage_2sigma", "ece", "frames")},
        "baselines": {k: v for k, v in total.items() if k != "shipped"},
        "per_file": per_file,
        "repeats": repeats,
        "seed": seed,
        "seconds": time.perf_counter() - t0,
    }  # fmt: skip
    if json_out:
        print_json(doc)
        return
    console.print(f"{layout}: {hdt['frames']} frames from {len(mocap)} recording(s), {repeats} draws")
    for name, m in total.items():
        cov = (
            f", 1σ {100 * m['coverage_1sigma']:.1f} %, 2σ {100 * m['coverage_2sigma']:.1f} %"
            if "coverage_1sigma" in m
            else ""
        )
        console.print(f"  {name:18s} MPJPE {m['mpjpe_cm']:.2f} cm, joint rotation {m['rotation_error_deg']:.1f} deg, "
                      f"jitter {m.get('jitter_m_s3', float('nan')):.0f} m/s^3{cov}")  # fmt: skip


@export_app.command("onnx")
def export_onnx_cmd(
    out: Path = typer.Option(Path("imu_pose.onnx"), "--out", "-o", help="ONNX file to write (+ .json beside it)."),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", help="IMU pose checkpoint (default: shipped)."),
    check: bool = typer.Option(True, "--check/--no-check", help="Compare with torch in onnxruntime."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Export the IMU pose model's streaming graph to ONNX and check it in onnxruntime.

    Example: musclepose export onnx -o imu_pose.onnx
    """
    try:
        model = IMUPoseModel.load(checkpoint)
    except (FileNotFoundError, ValueError) as err:
        fail(str(err))
    path = export_onnx(model, out)
    doc: dict = {"onnx": str(path), "metadata": str(path) + ".json", "bytes": path.stat().st_size}
    if check:
        w, f = model.model.config.window, model.model.config.n_inputs
        g = torch.Generator().manual_seed(0)
        windows = [torch.randn(1, n, f, generator=g) for n in (1, 7, w // 2, w, w)]
        doc["max_abs_difference"] = max_difference(model, OnnxIMUPose(path), windows)
        if doc["max_abs_difference"] > 1e-4:
            fail(f"{path}: onnxruntime differs from torch by {doc['max_abs_difference']:.2e} (> 1e-4)")
    if json_out:
        print_json(doc)
        return
    diff = f"; onnxruntime = torch within {doc['max_abs_difference']:.1e}" if check else ""
    console.print(f"wrote {path} ({doc['bytes'] / 2**20:.2f} MiB){diff}")


def export_imu_pose_cmd(
    src: Path = typer.Argument(..., help="Trained HDT checkpoint folder (with its nn_*.safetensors)."),
    dst: Path = typer.Argument(..., help="Folder to write (replaced)."),
    compare: Path | None = typer.Option(None, "--compare", help="A trained comparison model to ship beside it."),
    tables: Path | None = typer.Option(None, "--tables", help="Folder of the retrieval tables (default: SRC)."),
) -> None:
    """Write an IMU pose checkpoint for shipping: float16 weights, a comparison model, the retrieval tables.

    Example: musclepose train export-imu-pose runs/imu_cnn src/musclepose/assets/imu_pose --compare runs/imu_hdt
    """
    try:
        out = export_imu_pose(src, dst, compare, tables)
    except (FileNotFoundError, ValueError) as err:
        fail(str(err))
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    console.print(f"wrote {out} ({size / 2**20:.2f} MiB)")
