"""Training MuscleNN: a short run improves on the untrained net, saves a folder that loads back without pickle."""

import json

import pytest
import torch
from typer.testing import CliRunner

from musclepose.cli import app
from musclepose.pipelines.imitate import load_muscle_nn
from musclepose.training.muscle_nn import MuscleNNTrainConfig, synthetic_frames, train_muscle_nn

pytestmark = pytest.mark.usefixtures("one_thread")


def test_short_training_run_learns_and_round_trips(tmp_path):
    frames = synthetic_frames(seed=3, n_subjects=3, n_clips=3, clip_s=1.0)
    for f, split in zip(frames, ("train", "val", "test"), strict=True):  # one clip (person) per split
        f.split = split
    split = {s: [f for f in frames if f.split == s] for s in ("train", "val", "test")}
    out = tmp_path / "mnn"
    cfg = MuscleNNTrainConfig(out=str(out), steps=60, batch_size=256, val_every=20, hidden=16, n_layers=2, lr=1e-2)
    stats = train_muscle_nn(cfg, split)
    first, last = stats["history"][0], stats["history"][-1]
    assert last["val_loss"] < first["val_loss"] and stats["best_val_loss"] <= last["val_loss"]
    assert stats["test"]["synthetic"]["mae_vs_static"] < 0.1
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["config.json", "model.safetensors"]
    meta = json.loads((out / "config.json").read_text())
    assert meta["extra"]["task"] == "muscle_nn" and meta["parts"]["model"]["config"]["hidden"] == 16
    net = load_muscle_nn(out)
    f = split["test"][0]
    with torch.no_grad():
        a = net.activations(f.params, f.q, f.qd, f.tau)
    assert float((a - f.static()).abs().mean()) == pytest.approx(stats["test"]["synthetic"]["mae_vs_static"], abs=1e-5)


def test_cli_names_a_missing_reference_folder(tmp_path):
    r = CliRunner().invoke(
        app, ["train", "muscle-nn", "--out", str(tmp_path / "m"), "--refdata", str(tmp_path / "nope")]
    )
    assert r.exit_code == 2 and "nope" in r.output


def test_cli_refuses_a_foreign_output_folder_before_training(refdata, tmp_path):
    """A folder of someone else's files is refused at once (no minutes of data preparation first)."""
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    root = refdata("mocap").parent
    r = CliRunner().invoke(app, ["train", "muscle-nn", "--out", str(out), "--refdata", str(root)])
    assert r.exit_code == 2 and "notes.txt" in r.output and (out / "notes.txt").read_text() == "keep me"
